"""`newsmon`: ingest files and URLs, run the daily DAG for a date, query the database, run the demo."""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

import yaml

from pipelines import alerts, dagrun, lake, quality, quarantine, queries, runs, search, searchindex, store, terminal
from pipelines import run as pipeline
from pipelines.settings import REPO_ROOT, Settings, SettingsError, debug_requested

# The command line is data, so that a command or option is added in one place, and in `newsmon --help` order.
COMMANDS = Path(__file__).resolve().parent / "data" / "commands.yaml"
# YAML holds no Python objects: it names the type, and choices that must not drift from the code using them.
TYPES = {"int": int}
CHOICES = {"periods": search.PERIODS}


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
            settings = dataclasses.replace(settings, db_path=Path(args.db).absolute(), storage="duckdb")
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
    """The `newsmon` parser, built from COMMANDS: each runnable command calls cmd_<name> in this module."""
    spec = yaml.safe_load(COMMANDS.read_text(encoding="utf-8"))
    p = argparse.ArgumentParser(prog="newsmon", description=__doc__)
    _add_commands(p, spec["subcommands"], spec["common"], "cmd")
    return p


def _add_commands(parser: argparse.ArgumentParser, level: dict, common: dict, prefix: str) -> None:
    """Add level's commands to parser. A command runs prefix_<name>; its own subcommands extend the prefix."""
    sub = parser.add_subparsers(**{k: v for k, v in level.items() if k != "commands"})
    for command in level["commands"]:
        sp = sub.add_parser(command["name"], help=command["help"], description=command["description"])
        name = f"{prefix}_{command['name']}"
        if "subcommands" in command:  # it only dispatches: no function, no --db of its own
            _add_commands(sp, command["subcommands"], common, name)
            continue
        func = globals().get(name)
        if not callable(func):
            raise LookupError(f"{COMMANDS}: command {command['name']!r} needs a function {name}() in {__name__}")
        shared = [common["live"], common["db"]] if command.get("live") else [common["db"]]
        for argument in shared + command.get("arguments", []):
            _add_argument(sp, argument)
        sp.set_defaults(func=func)


def _add_argument(parser, argument: dict) -> None:
    """Add one argument (or an `exclusive` group of them), with type and choices names resolved."""
    if "exclusive" in argument:
        group = parser.add_mutually_exclusive_group()
        for member in argument["exclusive"]:
            _add_argument(group, member)
        return
    options = {k: v for k, v in argument.items() if k != "name"}
    if "type" in options:
        options["type"] = TYPES[options["type"]]
    if isinstance(options.get("choices"), str):
        options["choices"] = CHOICES[options["choices"]]
    parser.add_argument(argument["name"], **options)


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
    """A read-only connection: the published snapshot (readable while the pipeline writes), unless live.
    A lake is read as it stands: its last committed snapshot."""
    if s.storage == "ducklake":
        if not store.exists(s.database):
            raise CliError(f"{s.database}: no database yet (run `newsmon ingest` or `make run` first)")
        return store.connect(s.database, read_only=True)
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
    if not store.exists(s.database):
        raise CliError(f"{s.database}: no database yet")
    con = store.connect(s.database, read_only=True)
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
    return _export(s, Path(args.dir), None)


def cmd_export(s: Settings, args) -> int:
    return _export(s, Path(args.to), args.as_of)


def _export(s: Settings, directory: Path, as_of: str | None) -> int:
    from pipelines import transfer

    try:
        manifest = transfer.export_database(s.database, directory, as_of=as_of)
    except transfer.TransferError as exc:
        raise CliError(str(exc)) from exc
    tables = manifest["tables"]
    terminal.table(["table", "rows"], [(t["name"], t["rows"]) for t in tables], title=None)
    print(f"Exported {sum(t['rows'] for t in tables)} rows in {len(tables)} tables from {s.database} to "
          f"{directory} (schema version {manifest['schema_version']}, DuckDB {manifest['duckdb_version']}).")
    print(manifest["as_of"]["note"])
    return 0


def cmd_db_optimize(s: Settings, args) -> int:
    if not store.exists(s.database):
        raise CliError(f"{s.database}: no database yet")
    if args.expire_days is not None and s.storage != "ducklake":
        raise CliError("--expire-days is for a lake (NEWSMON_STORAGE=ducklake): a DuckDB file keeps no snapshots")
    con = store.connect(s.database)
    try:
        t0 = time.monotonic()
        rows = searchindex.compact(con)
        upkeep = lake.maintain(con, args.expire_days) if s.storage == "ducklake" else None
        store.publish_snapshot(con, s.database)
    finally:
        con.close()
    if upkeep is None:
        print(f"Rewrote {rows} search index rows in key order in {time.monotonic() - t0:.1f} s; snapshot published.")
    else:
        print(f"Rewrote {rows} search index rows in key order; lake files {upkeep['files']} -> "
              f"{upkeep['files_after']}, snapshots {upkeep['snapshots']} -> {upkeep['snapshots_after']} "
              f"({time.monotonic() - t0:.1f} s).")
    return 0


def cmd_db_macros(s: Settings, args) -> int:
    print(store.macros_sql(for_lake=True))
    return 0


def cmd_db_import(s: Settings, args) -> int:
    from pipelines import transfer

    try:
        done = transfer.import_database(s.database, Path(args.dir), replace=args.replace)
    except transfer.TransferError as exc:
        raise CliError(str(exc)) from exc
    terminal.table(["table", "rows"], done["tables"], title=None)
    print(f"Imported {sum(n for _, n in done['tables'])} rows in {len(done['tables'])} tables from {args.dir} "
          f"(schema version {done['schema_version']}, exported by DuckDB {done['duckdb_version']}) into "
          f"{s.database}" + (f"; snapshot {done['snapshot']}." if done["snapshot"] else "."))
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
    con = store.connect(s.database, read_only=True)
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
