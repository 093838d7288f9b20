"""`newsmon`: ingest files and URLs, run the daily DAG for a date, query the database, run the demo."""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

from pipelines import alerts, dagrun, quality, quarantine, queries, runs, search, searchindex, store, terminal
from pipelines import run as pipeline
from pipelines.settings import REPO_ROOT, Settings, SettingsError, debug_requested


class CliError(Exception):
    """An error the user can act on: printed as one line, exit status 2."""


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    try:
        settings = Settings.from_env()
        if getattr(args, "db", None):
            settings = dataclasses.replace(settings, db_path=Path(args.db).absolute())
        return args.func(settings, args) or 0
    except KeyboardInterrupt:
        print("newsmon: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # every error is one readable line; NEWSMON_DEBUG=1 shows the traceback
        if debug_requested():
            raise
        print(f"newsmon: error: {_describe(exc)}", file=sys.stderr)
        return 2


def build_parser() -> argparse.ArgumentParser:
    # Over 80 lines on purpose: the whole command line, every command and option, declared in one place
    # in the order `newsmon --help` shows them.
    p = argparse.ArgumentParser(prog="newsmon", description=__doc__)
    sub = p.add_subparsers(title="commands", metavar="COMMAND")

    def command(parent, name: str, func, help: str, description: str, live: bool = False):
        """A subcommand calling func, with --db (every command) and --live (those that read)."""
        sp = parent.add_parser(name, help=help, description=description)
        if live:
            sp.add_argument("--live", action="store_true",
                            help="read the live database instead of the snapshot published after the last run "
                                 "(the live file is locked while the pipeline writes)")
        sp.add_argument("--db", metavar="FILE", help="DuckDB file (default: $NEWSMON_DB, else data/newsmon.duckdb)")
        sp.set_defaults(func=func)
        return sp

    sp = command(sub, "ingest", cmd_ingest,
                 help="run every stage on local files, folders or URLs, without Airflow",
                 description="Run discover..deliver on local files (.html/.htm/.txt/.json; folders "
                             "recursively) or http(s) URLs and load the result. Ingesting the same "
                             "input twice changes nothing.")
    sp.add_argument("inputs", nargs="+", metavar="PATH_OR_URL")

    sp = command(sub, "run", cmd_run,
                 help="run the newsmon_daily DAG for one logical date (Airflow dag.test)",
                 description="Run the DAG newsmon_daily in this process for a logical date, with "
                             "Airflow's SQLite metadata under data/airflow/, and print a summary.")
    sp.add_argument("--date", required=True, help="logical date, YYYY-MM-DD")

    sp = command(sub, "reprocess", cmd_reprocess,
                 help="rebuild the runs of a date range from the stored pages, without refetching",
                 description="Re-derive articles, entities, claims, checks and alerts of every run whose "
                             "window starts between --from and --to (inclusive) from what those runs "
                             "fetched (kept compressed under data/raw/), replacing their rows. Use it "
                             "after upgrading the extractor, the model, the aliases or the suites.")
    sp.add_argument("--from", dest="date_from", required=True, metavar="D1", help="first date, YYYY-MM-DD")
    sp.add_argument("--to", dest="date_to", required=True, metavar="D2", help="last date, YYYY-MM-DD")

    sp = command(sub, "sql", cmd_sql,
                 help="run a SQL statement against the database and print a table",
                 description="Run one SQL statement (read-only) and print the result as a table.", live=True)
    sp.add_argument("query")
    sp.add_argument("--max-rows", type=int, default=100, help="rows to print at most (default 100)")

    sp = command(sub, "trends", cmd_trends,
                 help="top and rising actors and places, with sparklines",
                 description="Top entities by stories (a syndicated story counts once) over a date or "
                             "a range, with a daily sparkline, and the entities rising on the last day "
                             "against their previous 14 days.", live=True)
    sp.add_argument("--date", help="one day, YYYY-MM-DD (default: the latest day with stories)")
    sp.add_argument("--from", dest="start", help="first day of a range, YYYY-MM-DD")
    sp.add_argument("--to", dest="end", help="last day of a range, YYYY-MM-DD")
    sp.add_argument("--type", choices=["PERSON", "ORG", "LOCATION"], help="only this entity type")
    sp.add_argument("--limit", type=int, default=10, help="rows per table (default 10)")

    sp = command(sub, "quotes", cmd_quotes,
                 help="what someone said, or what was said about someone",
                 description="Quotes by a speaker (--speaker) and/or mentioning an entity (--about), "
                             "newest first, with their source links. Names match the entity's name or "
                             "any of its aliases, case-blind.", live=True)
    sp.add_argument("--speaker", metavar="NAME")
    sp.add_argument("--about", metavar="NAME")
    sp.add_argument("--limit", type=int, default=20, help="rows (default 20)")

    sp = command(sub, "search", cmd_search,
                 help="how much the news said about a topic, when and where (attention)",
                 description="Stories matching QUERY per period and their share of all stories (a "
                             "syndicated story counts once), a sparkline, the top sources and the best-"
                             "ranked stories with the match marked. QUERY: words (all of them), "
                             "\"phrases\", AND / OR / NOT with parentheses, prefix*, title: source: "
                             "lang: fields; case and accents folded, English stemmed.", live=True)
    sp.add_argument("query", metavar="QUERY")
    sp.add_argument("--from", dest="start", help="first day, YYYY-MM-DD (default: 89 days before --to)")
    sp.add_argument("--to", dest="end", help="last day, YYYY-MM-DD (default: the latest day with articles)")
    sp.add_argument("--by", choices=search.PERIODS, default="day",
                    help="what a row of attention is (default day; country: the countries the stories name)")
    sp.add_argument("--top", type=int, default=10, help="sources and stories shown (default 10)")
    fmt = sp.add_mutually_exclusive_group()
    fmt.add_argument("--csv", action="store_true", help="print the attention rows as CSV")
    fmt.add_argument("--json", action="store_true", help="print attention, sources and stories as JSON")

    sp = command(sub, "report", cmd_report,
                 help="write the daily digest: one self-contained HTML page with charts",
                 description="Write a self-contained HTML digest for a day: mentions over time for the "
                             "top actors, a map of the places mentioned, the attention the watchlist's "
                             "topics got, top quotes, data quality.", live=True)
    sp.add_argument("--date", help="YYYY-MM-DD (default: the latest day with stories)")
    sp.add_argument("--out", required=True, metavar="FILE.html")

    sp = command(sub, "dq", cmd_dq,
                 help="data-quality summary of the runs of a date",
                 description="Print, for each run of the date: its status, what failed (critical "
                             "checks first), source volumes and stage completeness, and where its "
                             "Great Expectations Data Docs are.")
    sp.add_argument("--date", required=True, help="YYYY-MM-DD: runs whose window starts that day")

    sp = command(sub, "quarantine", cmd_quarantine,
                 help="list or retry batches held back by a critical data-quality check",
                 description="`list` shows quarantined batches and why; `retry ID` checks and loads "
                             "one again (it leaves quarantine only if it now passes).")
    sp.add_argument("action", choices=["list", "retry"])
    sp.add_argument("run_id", nargs="?", help="the run id to retry (from `newsmon quarantine list`)")

    sp = command(sub, "demo", cmd_demo,
                 help="serve the bundled demo sources on 127.0.0.1 and run the DAG on them",
                 description="Start the demo news server on 127.0.0.1, run newsmon_daily for the "
                             "date against it with the demo watchlist, print the summary, stop.")
    sp.add_argument("--date", default="2026-11-24", help="logical date, YYYY-MM-DD (default 2026-11-24)")
    sp.add_argument("--port", type=int, default=8765,
                    help="port for the demo server on 127.0.0.1 (default 8765; article URLs, and so their ids, "
                         "include it, so keep it fixed for reruns to be idempotent)")

    sp = sub.add_parser("db", help="export the database to Parquet, or import an export (across DuckDB versions)",
                        description="Carry the data across DuckDB versions (README, Upgrading): `export` writes "
                                    "every table as Parquet with a manifest; `import` builds a fresh database "
                                    "from such a folder.")
    db_sub = sp.add_subparsers(title="actions", metavar="ACTION", dest="db_action", required=True)
    dp = command(db_sub, "export", cmd_db_export,
                 help="write every table as Parquet, plus manifest.json, to a new folder",
                 description="Write every table of the database as DIR/<table>.parquet and a "
                             "manifest (schema version, DuckDB version, tables and row counts). Views "
                             "are not exported: migrations recreate them.")
    dp.add_argument("dir", metavar="DIR", help="a folder that does not exist yet or is empty")
    dp = command(db_sub, "import", cmd_db_import,
                 help="create the database from an export, checking every row count",
                 description="Create a fresh, migrated database at --db from an export, load every "
                             "table in one transaction, check the row counts against the manifest "
                             "and publish the read-only snapshot.")
    dp.add_argument("dir", metavar="DIR", help="a folder written by `newsmon db export`")
    dp.add_argument("--replace", action="store_true",
                    help="overwrite a database that already holds data (refused without it)")
    dp = command(db_sub, "optimize", cmd_db_optimize,
                 help="rewrite the search index in word order (the deliver stage does it weekly)",
                 description="Compact the search index: rewrite it sorted by word, so that a query reads "
                             "only the blocks of its words. The deliver stage does this by itself once "
                             "7 runs were indexed since the last time.")
    return p


# ---------------------------------------------------------------- commands


def cmd_ingest(s: Settings, args) -> int:
    scope = "\n".join(sorted(str(Path(i).absolute()) if not i.startswith(("http://", "https://")) else i
                             for i in args.inputs))
    run = runs.new_run(s, "ingest", scope=scope)
    reporter = terminal.Reporter(f"ingest {len(args.inputs)} input(s)")
    with reporter:
        counts = pipeline.run_all(s, run, inputs=args.inputs, progress=reporter.stage_done)
    _print_summary(s, run["run_id"], counts)
    return 0


def cmd_run(s: Settings, args) -> int:
    date = _parse_date(args.date)
    counts = dagrun.run_dag(s, date)
    _print_summary(s, dagrun.run_id_for(date), counts, day=date)
    return 0


def cmd_reprocess(s: Settings, args) -> int:
    first, last = _parse_date(args.date_from), _parse_date(args.date_to)
    if last < first:
        raise CliError("--to is before --from")
    reporter = terminal.Reporter(f"reprocess {first:%Y-%m-%d}..{last:%Y-%m-%d}")
    with reporter:
        done = pipeline.reprocess(s, first, last + timedelta(days=1), progress=reporter.stage_done)
    if not done:
        print(f"No run starts between {first:%Y-%m-%d} and {last:%Y-%m-%d}: nothing to reprocess.")
        return 0
    terminal.table(["run_id", "window_start", "fetched", "unreadable", "kept", "duplicates", "mentions", "claims",
            "checks failed", "quarantined"],
           [(r["run_id"], f"{r['window_start']:%Y-%m-%d %H:%M}", r.get("fetched", 0), r.get("extract_failed", 0),
             r.get("kept", 0), r.get("duplicates", 0), r.get("mentions", 0), r.get("claims", 0),
             r.get("checks_failed", 0), r.get("quarantined", 0)) for r in done], title="Reprocessed runs")
    return 0


def _reader(s: Settings, live: bool = False):
    """A read-only connection: the published snapshot (readable while the pipeline writes), unless live."""
    snap = store.snapshot_path(s.db_path)
    path = s.db_path if live or not snap.exists() else snap
    if not path.exists():
        raise CliError(f"{s.db_path}: no database yet (run `newsmon ingest` or `make run` first)")
    return store.connect(path, read_only=True)


def cmd_sql(s: Settings, args) -> int:
    con = _reader(s, args.live)
    try:
        cols, rows = store.query(con, args.query)
    finally:
        con.close()
    terminal.table(cols, rows[: args.max_rows], title=None)
    if len(rows) > args.max_rows:
        print(f"({len(rows)} rows, {args.max_rows} shown)")
    return 0


def cmd_trends(s: Settings, args) -> int:
    con = _reader(s, args.live)
    try:
        latest = queries.latest_story_day(con)
        if latest is None:
            print("No stories yet.")
            return 1
        if args.start or args.end:
            start = _parse_date(args.start).date() if args.start else latest - timedelta(days=13)
            end = _parse_date(args.end).date() if args.end else latest
        else:
            end = _parse_date(args.date).date() if args.date else latest
            start = end
        spark_from = min(start, end - timedelta(days=13))
        days = [spark_from + timedelta(days=i) for i in range((end - spark_from).days + 1)]
        types = [args.type] if args.type else ["PERSON", "ORG", "LOCATION"]
        top = queries.top_entities(con, start, end, types, args.limit)
        series = queries.daily_stories(con, [t[0] for t in top], spark_from, end)
        label = f"{start}" if start == end else f"{start} to {end}"
        terminal.table(["name", "type", "stories", "mentions", f"daily since {spark_from}"],
               [(n, t, st, me, terminal.sparkline([series.get(e, {}).get(d, 0) for d in days]))
                for e, n, t, st, me in top],
               title=f"Top entities, {label}")
        rising = queries.rising(con, end, types, args.limit)
        terminal.table(["name", "type", "stories", "14-day mean", "ratio", "z"], rising, title=f"Rising on {end}")
    finally:
        con.close()
    return 0


def cmd_quotes(s: Settings, args) -> int:
    if not (args.speaker or args.about):
        raise CliError("give --speaker NAME, --about NAME, or both")
    con = _reader(s, args.live)
    try:
        rows = queries.quotes_of(con, args.speaker, args.about, args.limit)
    finally:
        con.close()
    if not rows:
        print("No quotes found.")
        return 1
    shown = [(d, sp, t if len(t) <= 160 else t[:157] + "…", src, url) for d, sp, t, src, url in rows]
    terminal.table(["date", "speaker", "quote", "source", "url"], shown, title=None)
    return 0


def cmd_search(s: Settings, args) -> int:
    con = _reader(s, args.live)
    try:
        search.check(con, args.query)
        last = _parse_date(args.end) if args.end else queries.latest_article_day(con)
        if last is None:
            print("No articles yet.")
            return 1
        last = datetime(last.year, last.month, last.day)
        first = _parse_date(args.start) if args.start else last - timedelta(days=89)
        if last < first:
            raise CliError("--to is before --from")
        since, until = first, last + timedelta(days=1)
        found = {"query": args.query, "from": f"{first:%Y-%m-%d}", "to": f"{last:%Y-%m-%d}", "by": args.by,
                 "attention": search.attention(con, args.query, since, until, args.by),
                 "sources": search.top_sources(con, args.query, since, until, args.top),
                 "stories": search.best_stories(con, args.query, since, until, args.top)}
    except search.QueryError as exc:
        raise CliError(f"query: {exc}") from exc
    finally:
        con.close()
    terminal.search_report(found, "csv" if args.csv else "json" if args.json else "table")
    return 0


def cmd_report(s: Settings, args) -> int:
    from pipelines import report

    con = _reader(s, args.live)
    try:
        latest = queries.latest_article_day(con)
        day = _parse_date(args.date).date() if args.date else latest
        if day is None:
            raise CliError("no stories yet: nothing to report")
        watched = alerts.topics(alerts.load_watchlist(s.watchlist_path))
        out = report.build_report(con, day, Path(args.out), topics=watched)
    finally:
        con.close()
    print(f"Wrote {out}")
    return 0


def cmd_dq(s: Settings, args) -> int:
    day = _parse_date(args.date)
    if not s.db_path.exists():
        raise CliError(f"{s.db_path}: no database yet")
    con = store.connect(s.db_path, read_only=True)
    try:
        runs = queries.runs_of_day(con, day.date())
        if not runs:
            print(f"No runs for {day:%Y-%m-%d}.")
            return 1
        for rid, kind, status, counts in runs:
            counts = json.loads(counts or "{}")
            rows = queries.checks_of_run(con, rid)
            passed = sum(1 for r in rows if r[3])
            critical = sum(1 for r in rows if not r[3] and r[2] == "critical")
            verdict = "LOADED" if status == "success" else status.upper()
            print(f"\nRun {rid} ({kind}) {day:%Y-%m-%d}: {verdict}. {passed}/{len(rows)} checks passed, "
                  f"{critical} critical failure(s); {counts.get('kept', 0)} articles kept, "
                  f"{counts.get('fetch_failed', 0) + counts.get('discover_failed', 0)} fetch failure(s).")
            print("  " + terminal.gate_line(counts))
            failed = [r for r in rows if not r[3]]
            if failed:
                terminal.table(["table", "check", "severity", "observed"], [r[:3] + r[4:] for r in failed],
                       title="Failed checks")
            volume = [(quality.check_subject(r[1]), r[4], "ok" if r[3] else "FLAGGED") for r in rows
                      if r[0] == "source"]
            if volume:
                terminal.table(["source", "volume", "state"], volume, title="Sources")
            for r in rows:
                if r[0] == "run":
                    print(f"  {quality.check_subject(r[1]).replace('_', ' ')}: {r[4]}"
                          f"{'' if r[3] else '  <- below floor'}")
            docs = s.data_dir / "dq_docs" / rid / "index.html"
            if docs.exists():
                print(f"  Data Docs: {docs}")
    finally:
        con.close()
    return 0


def cmd_quarantine(s: Settings, args) -> int:
    if args.action == "list":
        items = quarantine.quarantined(s)
        if not items:
            print("Nothing in quarantine.")
        rows = [(q["run_id"], q["kind"], q["window_start"] or "", "; ".join(
            f"{f['table_name']}.{f['check_name']} ({f['observed']})" for f in q["failed"])) for q in items]
        if rows:
            terminal.table(["run_id", "kind", "window_start", "failed critical checks"], rows, title="Quarantine")
        return 0
    if not args.run_id:
        raise CliError("quarantine retry needs a run id (see `newsmon quarantine list`)")
    counts = quarantine.retry_quarantined(s, args.run_id)
    if counts.get("quarantined"):
        print(f"Run {args.run_id} still fails a critical check; it stays in quarantine.")
        return 1
    print(f"Run {args.run_id} passed its checks and was loaded: {counts.get('kept', 0)} articles.")
    return 0


def cmd_demo(s: Settings, args) -> int:
    from pipelines import demo

    date = _parse_date(args.date)
    try:
        server = demo.DemoServer(port=args.port)
    except OSError as exc:
        raise CliError(f"cannot serve the demo on 127.0.0.1:{args.port}: {exc.strerror} (try --port)") from exc
    with server as url:
        sources = demo.write_sources(s.data_dir / "demo" / "sources.yaml", url)
        # The demo server is ours, on loopback: no need to space its two dozen pages a second apart.
        s = dataclasses.replace(s, sources_path=sources, watchlist_path=REPO_ROOT / "demo" / "watchlist.yaml",
                                grace_days=max(s.grace_days, 7.0), host_delay=0.0)
        print(f"newsmon: demo sources served at {url}/feed.xml", file=sys.stderr)
        counts = dagrun.run_dag(s, date)
    _print_summary(s, dagrun.run_id_for(date), counts, day=date)
    return 0


def cmd_db_export(s: Settings, args) -> int:
    from pipelines import transfer

    try:
        manifest = transfer.export_database(s.db_path, Path(args.dir))
    except transfer.TransferError as exc:
        raise CliError(str(exc)) from exc
    tables = manifest["tables"]
    terminal.table(["table", "rows"], [(t["name"], t["rows"]) for t in tables], title=None)
    print(f"Exported {sum(t['rows'] for t in tables)} rows in {len(tables)} tables from {s.db_path} to "
          f"{args.dir} (schema version {manifest['schema_version']}, DuckDB {manifest['duckdb_version']}).")
    return 0


def cmd_db_optimize(s: Settings, args) -> int:
    if not s.db_path.exists():
        raise CliError(f"{s.db_path}: no database yet")
    con = store.connect(s.db_path)
    try:
        t0 = time.monotonic()
        rows = searchindex.compact(con)
        con.execute("checkpoint")
        store.publish_snapshot(con, s.db_path)
    finally:
        con.close()
    print(f"Rewrote {rows} search index rows in word order in {time.monotonic() - t0:.1f} s; snapshot published.")
    return 0


def cmd_db_import(s: Settings, args) -> int:
    from pipelines import transfer

    try:
        done = transfer.import_database(s.db_path, Path(args.dir), replace=args.replace)
    except transfer.TransferError as exc:
        raise CliError(str(exc)) from exc
    terminal.table(["table", "rows"], done["tables"], title=None)
    print(f"Imported {sum(n for _, n in done['tables'])} rows in {len(done['tables'])} tables from {args.dir} "
          f"(schema version {done['schema_version']}, exported by DuckDB {done['duckdb_version']}) into "
          f"{s.db_path}; snapshot {done['snapshot']}.")
    if done["created"]:
        print(f"  not in this schema, created as exported: {', '.join(done['created'])}")
    if done["migrated"]:
        print(f"  migrations applied after the load: {', '.join(done['migrated'])}")
    return 0


# ---------------------------------------------------------------- output


def _print_summary(s: Settings, rid: str, counts: dict, day: datetime | None = None) -> None:
    keys = [("fetched", "fetched"), ("fetch failures", "fetch_failed"), ("unreadable", "extract_failed"),
            ("kept", "kept"), ("duplicates", "duplicates"), ("entities", "entities"), ("mentions", "mentions"),
            ("claims", "claims"), ("checks passed", "checks_passed"), ("checks failed", "checks_failed"),
            ("alerts", "alerts"), ("alerts sent", "alerts_sent"), ("alerts pending", "alerts_pending")]
    print(f"\nRun {rid}: " + ", ".join(f"{label} {counts.get(k, 0)}" for label, k in keys))
    print("  " + terminal.gate_line(counts))
    if counts.get("quarantined"):
        print(f"  batch QUARANTINED by a critical data-quality check: see data/quarantine/{rid}/")
    con = store.connect(s.db_path, read_only=True)
    try:
        failures = queries.fetch_log_of_run(con, rid)
        for stage, url, reason in failures[:10]:
            what = "note" if stage == "robots" else "failed"
            print(f"  {stage} {what}: {terminal.printable(url)}: {terminal.printable(reason)}")
        for title, types in (("Top actors", ("PERSON", "ORG")), ("Top places", ("LOCATION",))):
            cols, rows = queries.top_named(con, list(types), run_id=rid, day=day.date() if day else None)
            suffix = f" on {day:%Y-%m-%d}" if day else ""
            terminal.table(cols, rows, title=title + suffix)
    finally:
        con.close()


def _parse_date(text: str) -> datetime:
    try:
        return datetime.strptime(text, "%Y-%m-%d")
    except ValueError as exc:
        raise CliError(f"--date must be YYYY-MM-DD, not {text!r}") from exc


def _describe(exc: Exception) -> str:
    if isinstance(exc, (CliError, SettingsError, dagrun.DagRunError)):
        return str(exc)
    name = type(exc).__name__
    return f"{name}: {exc}" if not isinstance(exc, OSError) else f"{exc.filename or ''}: {exc.strerror or exc}"


if __name__ == "__main__":
    sys.exit(main())
