"""The stages in order, each a function of (settings, run) that reads the previous stage's files in the
run's staging folder and writes its own: the DAG calls them one task each, the CLI calls run_all().

A run is a small dict (run_id, kind, window, staging dir): what XCom carries between tasks.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

from pipelines import alerts, dedupe, extract, feeds, fetch, language, quality, queries, staging, store
from pipelines.client import Client
from pipelines.models import Candidate, FeedState, LogRecord, article_id, run_id
from pipelines.settings import Settings
from pipelines.sources import load_sources, selected
from pipelines.staging import STAGES

# How an article's language was settled (language.Identified.origin), each counted by the extract stage.
LANGUAGE_ORIGINS = ("identified", "declared", "default")


def window_for(logical_date: datetime, interval_start: datetime | None, interval_end: datetime | None):
    """The window a run covers: it starts at the logical date and lasts as long as the data interval.

    A scheduled or backfill run's logical date is its interval start, so this is its interval; a manual
    run (`dag.test`, `newsmon run --date D`) covers D and the period after it, like the scheduled run of D.
    """
    length = (interval_end - interval_start) if interval_start and interval_end else timedelta(days=1)
    if length <= timedelta(0):
        length = timedelta(days=1)
    start = _naive_utc(logical_date)
    return start, start + length


def new_run(s: Settings, kind: str, start: datetime | None = None, end: datetime | None = None,
            scope: str = "") -> dict:
    """Create the run reference and an empty staging folder for it (a rerun starts clean)."""
    return _open_run(s, run_id(kind, start, end, scope), kind, start, end)


def _open_run(s: Settings, rid: str, kind: str, start: datetime | None, end: datetime | None) -> dict:
    folder = s.staging_dir / rid
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    run = {"run_id": rid, "kind": kind, "dir": str(folder),
           "window_start": start.isoformat() if start else None, "window_end": end.isoformat() if end else None,
           # Operational only (runs.started_at): when it ran, never what it covers.
           "started_at": datetime.now(UTC).replace(tzinfo=None).isoformat(timespec="seconds")}
    staging.write_json(folder / "run.json", run)
    return run


# ---------------------------------------------------------------- stages


def discover(s: Settings, run: dict, inputs: list[str] | None = None, tags: list[str] | None = None) -> dict:
    """Candidates for the run: the configured sources' entries in the window (daily runs), or the given
    files, folders and URLs (ingest). URLs another run already stored are skipped. With `tags`, only the
    sources carrying one of them are read.

    Feeds and sitemaps are read with conditional GETs against the state the last load stored; the new
    state goes to the staging folder for `load` to write (discovery never writes the database)."""
    found: list[Candidate | LogRecord | FeedState] = []
    window = _window(s, run)
    if inputs is not None:
        paths = [i for i in inputs if not i.startswith(("http://", "https://"))]
        found += list(feeds.local_candidates([Path(p) for p in paths]))
        found += [Candidate(url=u, source="cli", local=True) for u in inputs if u not in paths]
    else:
        if tags is None:
            tags = [t.strip() for t in s.source_tags.split(",") if t.strip()]
        sources = selected(load_sources(s.sources_path), tags)
        http = Client.from_settings(s)
        ctx = feeds.Context(client=http, max_bytes=s.max_bytes, raw_dir=s.raw_dir, state=_feed_state(s),
                            since=window.earliest, checked_at=window.end)
        try:
            found += feeds.discover_all(sources, ctx)
        finally:
            http.close()
        found += _robots_notes(http)
    logs = [f for f in found if isinstance(f, LogRecord)]
    states = list({f.url: f for f in found if isinstance(f, FeedState)}.values())  # two sources, one feed
    cands = _unique(c for c in found if isinstance(c, Candidate))
    counts = {"discovered": len(cands), "discover_failed": sum(x.stage == "discover" for x in logs),
              "not_modified": sum(f.status == 304 for f in states)}
    staging.write_rows(run, "feed_state", [asdict(f) for f in states])
    if window.start:
        in_window = [c for c in cands
                     if c.feed_published is None or window.earliest <= c.feed_published < window.end]
        counts["outside_window"] = len(cands) - len(in_window)
        known = _stored_elsewhere(s, run["run_id"], in_window)
        cands = [c for c in in_window if c.url not in known and article_id(c.url) not in known]
        counts["already_stored"] = len(in_window) - len(cands)
    staging.write_rows(run, "candidates", [asdict(c) for c in cands])
    return staging.finish_stage(run, "discover", counts, logs)


def parts(s: Settings, run: dict) -> list[int]:
    """The batches the run's candidates split into (batch_size each, at least one), for the DAG's
    mapped fetch, extract and analyse tasks."""
    n = len(staging.read_rows(run, "candidates"))
    return list(range(max(1, -(-n // s.batch_size))))


def fetch_stage(s: Settings, run: dict, part: int | None = None) -> dict:
    """Fetch every candidate, keep the bytes content-addressed under data/raw/. Pages of different
    hosts are fetched at the same time, each host politely (robots.txt, a delay, retries: client.Client).
    With `part`, only that batch of the candidates (a mapped task of the DAG)."""
    cands = [Candidate(**c) for c in staging.batch(staging.read_rows(run, "candidates"), part, s.batch_size)]
    client = Client.from_settings(s)

    def one(c: Candidate) -> tuple[dict | None, LogRecord | None]:
        base = {k: v for k, v in asdict(c).items() if k != "feed_summary"}
        base["summary_sha256"] = _store_summary(s, c)
        if c.raw_sha256:  # discovery stored the bytes (a WARC re-import): nothing to fetch
            return {**base, "fetched_at": run["window_end"] or "1970-01-01T00:00:00"}, None
        try:
            if c.url.startswith(("http://", "https://")):
                resp = client.get(c.url, allow_private=c.local)
                body, kind, status = resp.body, fetch.kind_of(resp.url, resp.content_type), resp.status
                if kind is None:
                    raise fetch.FetchError(f"not an article page (content type {resp.content_type!r})", status)
                stamp = run["window_end"] or _http_date(resp)
                charset = fetch.charset_of(body, resp.content_type) if body.strip() else None
            else:
                body, kind, status = fetch.read_file(c.url, s.max_bytes), fetch.kind_of(c.url), None
                if kind is None:
                    raise fetch.FetchError("unsupported file type (expected .html, .htm, .txt or .json)")
                stamp = run["window_end"] or _mtime(c.url)
                # A local text file must be UTF-8 (extraction says so when it is not); HTML carries its own.
                charset = fetch.charset_of(body) if kind == "html" and body.strip() else None
            if not body.strip():
                raise fetch.FetchError("empty response" if status else "empty file", status)
            digest = fetch.store_raw(s.raw_dir, body)
            return {**base, "raw_sha256": digest, "kind": kind, "http_status": status, "fetched_at": stamp,
                    "charset": charset}, None
        except fetch.FetchError as exc:
            log = LogRecord(c.source, c.url, "fetch", exc.reason, exc.http_status, exc.attempts or None)
            if base["summary_sha256"] is None:
                return None, log
            # The page is lost but the feed said what the story is: that text is the article, and the
            # failure is still logged.
            return {**base, "raw_sha256": base["summary_sha256"], "kind": "json", "http_status": exc.http_status,
                    "fetched_at": run["window_end"] or "1970-01-01T00:00:00", "charset": None}, log

    try:
        results = client.map(one, cands, lambda c: c.url, s.fetch_threads)
    finally:
        client.close()
    rows = [r for r, _ in results if r is not None]
    logs = [log for _, log in results if log is not None]
    notes = _robots_notes(client)
    staging.write_rows(run, "fetched", rows, part)
    counts = {"fetched": len(rows), "fetch_failed": len(logs), "robots_notes": len(notes)}
    return staging.finish_stage(run, "fetch", counts, logs + notes, part)


def _robots_notes(client: Client) -> list[LogRecord]:
    """A fetch_log row for each robots.txt that was read with a caveat (cut at 500 KiB, UTF-16,
    redirected too often), so a site's odd rules are visible without being failures."""
    return [LogRecord("robots.txt", url, "robots", note) for url, note in client.notes()]


def extract_stage(s: Settings, run: dict, part: int | None = None) -> dict:
    """Main text and metadata of every fetched item; an item we cannot read is logged with its reason.
    With `part`, the items fetched by that batch, in this process (the DAG's workers are the parallelism)."""
    rows, logs = [], []
    earliest = _window(s, run).earliest
    fetched = staging.read_rows(run, "fetched", part)
    workers = s.workers if part is None else 1
    for f, row in zip(fetched, _parallel(_extract_one, [(s, run, f) for f in fetched], workers), strict=True):
        if isinstance(row, LogRecord):
            logs.append(row)
            continue
        if earliest and row["published_at"] and row["published_at"] < earliest:
            # The feed listed it as new, but the page dates it before this run's window: an old story.
            logs.append(LogRecord(f["source"], f["url"], "extract",
                                  f"published {row['published_at']:%Y-%m-%d}, before the run's window"))
            continue
        rows.append(row)
    unique = _one_per_article(rows)  # one URL listed by two sources is one article
    staging.write_rows(run, "articles", unique, part)
    counts = {"extracted": len(unique), "extract_failed": len(logs),
              # The gate an HTML page passes only if it holds an article (extract.MIN_WORDS).
              "no_article_in_page": sum(x.reason.startswith("no article in the page") for x in logs),
              "kept_from_feed_entry": sum(bool(r.get("from_feed_entry")) for r in unique),
              # How each article's language was settled: identified from its text, or (the identifier
              # unsure) the source's declared language, or the configured default.
              **{f"language_{o}": sum(r["language_origin"] == o for r in unique) for o in LANGUAGE_ORIGINS}}
    return staging.finish_stage(run, "extract", counts, logs, part)


def dedupe_stage(s: Settings, run: dict) -> dict:
    """Mark syndicated and repeated copies with duplicate_of (the first copy), within the batch and
    against what is stored from the last dedupe_days. Merges the batches' articles into one file."""
    rows = _one_per_article(staging.read_all(run, "articles"))  # one URL listed in two batches is one article
    stored = _stored_fingerprints(s, run, rows)
    dups = dedupe.find_duplicates(rows, stored)
    for r in rows:
        r["duplicate_of"] = dups.get(r["article_id"])
    staging.write_rows(run, "articles", rows)
    return staging.finish_stage(run, "dedupe", {"kept": len(rows) - len(dups), "duplicates": len(dups)})


def analyse(s: Settings, run: dict, part: int | None = None) -> dict:
    """Entities, mentions and claims for every article in the NLP languages (one NER pass each): English
    with the English model, a language with a pinned spaCy pipeline with that one, any other with the
    model-free recogniser; the entity memory (the corpus's known names) in all of them. With `part`,
    that batch of the deduplicated articles, in this process.

    Every article that ends with no entity is counted by why: its language is not analysed
    (NEWSMON_NLP_LANGUAGES), or it was analysed and named no one."""
    from pipelines import entities

    batch = staging.read_rows(run, "articles")
    rows = staging.batch(batch, part, s.batch_size)
    wanted = {x.strip() for x in s.nlp_languages.split(",")}
    analysed = [r for r in rows if "*" in wanted or r["language"] in wanted]
    patterns = alerts.patterns(alerts.load_watchlist(s.watchlist_path))
    names = str(_memory_file(s, run["run_id"], [r["article_id"] for r in batch])) if analysed else None
    workers = s.workers if part is None else 1
    # Each worker process loads the models once and runs the whole analysis of its chunks: NER, the
    # entity layers, geocoding and claims. Only small rows come back, not spaCy Docs, and the main
    # process, idle meanwhile, is no bottleneck beside the workers.
    size = max(1, min(ANALYSE_CHUNK, -(-len(analysed) // max(workers, 1))))
    chunks = [[dict(_analysis_input(r), model=entities.model_for(r["language"], s.spacy_model, s.language_models))
               for r in analysed[i:i + size]] for i in range(0, len(analysed), size)]
    results = _parallel(_analyse_chunk, [(s.parser_model, patterns, names, c) for c in chunks], workers,
                        minimum=PARALLEL_FROM // size, chunksize=1)
    mention_rows, claim_rows, link_rows, entity_rows = [], [], [], {}
    notes = dict.fromkeys(ANALYSIS_NOTES, 0)
    for res in results:
        mention_rows += res["mentions"]
        claim_rows += res["claims"]
        link_rows += res["claim_entities"]
        for e in res["entities"]:
            entity_rows.setdefault(e["entity_id"], e)
        for k, v in res["notes"].items():
            notes[k] = notes.get(k, 0) + v
    staging.write_rows(run, "mentions", mention_rows, part)
    staging.write_rows(run, "entities", list(entity_rows.values()), part)
    staging.write_rows(run, "claims", claim_rows, part)
    staging.write_rows(run, "claim_entities", link_rows, part)
    named = {m["article_id"] for m in mention_rows}
    counts = {"entities": len(entity_rows), "mentions": len(mention_rows), "claims": len(claim_rows),
              "no_entities_language_not_analysed": len(rows) - len(analysed),
              "no_entities_none_found": sum(r["article_id"] not in named for r in analysed), **notes}
    return staging.finish_stage(run, "analyse", counts, part=part)


def _memory_file(s: Settings, run_id: str, replaced: list[str]) -> Path:
    """The entity memory for this analysis: the corpus's known names as the database holds them now,
    less the articles this run replaces (read-only: `load` is the one writer), in a file named by its
    content (data/memory/), which each worker loads once. A new name in the database makes a new file."""
    from pipelines import memory

    names: list = []
    if s.db_path.exists():
        import duckdb

        con = store.connect(s.db_path, read_only=True)
        try:
            names = memory.from_store(con, replaced, run_id)
        except duckdb.CatalogException:  # a database from before migration 006 (read-only opens do not migrate)
            names = []
        finally:
            con.close()
    return memory.write(memory.merge(names), s.data_dir / "memory")


def _analysis_input(r: dict) -> dict:
    return {k: r[k] for k in ("article_id", "text", "title", "site_name", "language")}


def _analyse_chunk(args) -> dict:
    """Entities, mentions, claims and claim links of a chunk of articles (picklable for worker processes;
    the models load once per process). Each article goes through its language's pipeline, in order."""
    from pipelines import claims, entities

    parser, patterns, names, arts = args
    out: dict = {"mentions": [], "entities": [], "claims": [], "claim_entities": [],
                 "notes": dict.fromkeys(ANALYSIS_NOTES, 0)}
    docs: dict[int, object] = {}
    for model in dict.fromkeys(r["model"] for r in arts):
        nlp = entities.load_model(model, patterns, names)
        group = [i for i, r in enumerate(arts) if r["model"] == model]
        # Small batches: the speed is the same on articles this long, and a batch of 32 long ones took
        # 200 MB more per worker.
        for i, doc in zip(group, nlp.pipe((entities.normalise(arts[i]["text"]) for i in group), batch_size=4),
                          strict=True):
            docs[i] = doc
    for i, r in enumerate(arts):
        ms, ents = entities.from_doc(r["article_id"], r["text"], docs.pop(i), r["title"], r["site_name"],
                                     out["notes"])
        out["mentions"] += [asdict(m) for m in ms]
        out["entities"] += [asdict(e) for e in ents]
        if r["language"] not in claims.LANGUAGES:
            out["notes"]["claims_skipped_language"] += 1
            continue
        found = claims.extract(r["article_id"], r["text"], ms, parser)
        out["claims"] += [asdict(c) for c in found]
        out["claim_entities"] += claims.links(found, ms)
    return out


def check(s: Settings, run: dict) -> dict:
    """Run the quality suites on the batch (Data Docs under data/dq_docs/<run_id>/), then the run- and
    source-level checks; a failed critical check quarantines the batch at load."""
    frames = _frames(run)
    window = _window(s, run)
    results = quality.check(frames, window, docs_dir=s.data_dir / "dq_docs" / run["run_id"],
                            run_name=run["run_id"], run_time=window.end)
    results += quality.completeness(frames)
    results += quality.without_entities(frames, _entity_share_history(s, run, window))
    if run["kind"] == "daily":
        names = [x.name for x in load_sources(s.sources_path) if x.enabled]
        batch = frames["articles"]["source"].value_counts().to_dict()
        results += quality.volume(batch, _source_history(s, run, window), names)
    staging.write_json(Path(run["dir"]) / "dq.json", [asdict(r) for r in results])
    blocking = quality.blocking(results)
    counts = {"checks_passed": sum(r.success for r in results), "checks_failed": sum(not r.success for r in results),
              "checks_blocking": len(blocking)}
    return staging.finish_stage(run, "check", counts)


def load(s: Settings, run: dict, logical_date: datetime | None = None) -> dict:
    """Write the run into DuckDB in one transaction; a quarantined batch writes only its check results,
    its log and the run's status, and its files move to data/quarantine/<run_id>/."""
    folder = Path(run["dir"])
    dq = [dict(r, run_id=run["run_id"]) for r in staging.read_json(folder / "dq.json")]
    blocked = [r for r in dq if r["severity"] == quality.CRITICAL and not r["success"]]
    counts = staging.run_counts(run)
    frames = _frames(run)
    watchlist = alerts.load_watchlist(s.watchlist_path)
    if blocked:
        target = s.data_dir / "quarantine" / run["run_id"]
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(folder, target)
        staging.write_json(target / "reason.json", blocked)
        frames = {k: v.iloc[0:0] for k, v in frames.items()}
    # The run's logical time, not the clock: a rerun of the same window writes the same rows. An ingest
    # has none (its rows' time is the run's started_at), and its rerun must change nothing either.
    logged_at = run["window_end"]
    log_rows = [dict(r, run_id=run["run_id"], logged_at=logged_at) for r in staging.logs(run)]
    row = {"run_id": run["run_id"], "kind": run["kind"], "logical_date": _naive_utc(logical_date),
           "window_start": run["window_start"], "window_end": run["window_end"],
           "started_at": run["started_at"], "finished_at": None,
           "status": "quarantined" if blocked else "success", "counts": counts}

    def alert_rows(con):
        start = _dt(run["window_start"]) if run["window_start"] else None
        return alerts.evaluate(con, watchlist, run["run_id"], _run_time(run), start)

    con = store.connect(s.db_path)
    try:
        tables = {"articles": frames["articles"], "entities": frames["entities"],
                  "mentions": frames["mentions_load"], "claims": frames["claims"],
                  "claim_entities": frames["claim_entities"]}
        written = store.load_run(con, row, tables, dq, log_rows, alert_rows, content=not blocked,
                                 feed_state=staging.read_rows(run, "feed_state"), fetched=_fetched_rows(run))
    finally:
        con.close()
    return staging.finish_stage(run, "load", {"alerts": written["alerts"], "quarantined": int(bool(blocked))})


def deliver(s: Settings, run: dict, smtp_uri: str | None = None) -> dict:
    """Send every alert that is due (this run's and earlier ones awaiting a retry), then record the
    run's final counts and finish time."""
    deliver_alerts(s, _run_time(run), smtp_uri)
    con = store.connect(s.db_path)
    try:
        # The run's own alerts and where they stand: the same on a rerun, unlike what one call delivered.
        sent, waiting = queries.alert_states(con, run["run_id"])
        staging.write_json(Path(run["dir"]) / "counts_deliver.json", {"alerts_sent": sent, "alerts_pending": waiting})
        counts = staging.run_counts(run)
        store.finish_run(con, run["run_id"], counts, datetime.now(UTC).replace(tzinfo=None))
        store.publish_snapshot(con, s.db_path)
    finally:
        con.close()
    return counts


def deliver_alerts(s: Settings, now: datetime | None, smtp_uri: str | None = None) -> dict:
    """Deliver every alert that is due as of the logical time `now` (the alerts DAG calls this after each
    load, including reprocessing and backfills)."""
    from pipelines import channels

    watchlist = alerts.load_watchlist(s.watchlist_path)
    con = store.connect(s.db_path)
    try:
        return channels.deliver(con, watchlist, s.alerts_file, now, smtp_uri, env=s.environ)
    finally:
        con.close()


def quarantined(s: Settings) -> list[dict]:
    """Batches held back by a critical check, newest first: run id, window and the failed checks."""
    folder = s.data_dir / "quarantine"
    out = []
    for d in sorted(folder.glob("*/reason.json"), key=lambda p: p.stat().st_mtime, reverse=True):
        run = staging.read_json(d.parent / "run.json", {})
        out.append({"run_id": d.parent.name, "kind": run.get("kind"), "window_start": run.get("window_start"),
                    "failed": staging.read_json(d), "path": str(d.parent)})
    return out


def retry_quarantined(s: Settings, rid: str) -> dict:
    """Check and load a quarantined batch again (after the cause was fixed: a suite, the code, the data);
    a batch that now passes loads and leaves quarantine, one that still fails stays there."""
    src = s.data_dir / "quarantine" / rid
    if not (src / "reason.json").exists():
        raise FileNotFoundError(f"no quarantined batch {rid!r} under {src.parent}")
    dst = s.staging_dir / rid
    shutil.rmtree(dst, ignore_errors=True)
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns("reason.json"))
    run = dict(staging.read_json(dst / "run.json"), dir=str(dst))
    staging.write_json(dst / "run.json", run)
    check(s, run)
    counts = load(s, run, _dt(run["window_start"]) if run["window_start"] else None)
    counts = deliver(s, run)
    if not counts.get("quarantined"):
        shutil.rmtree(src)
    return counts


def run_all(s: Settings, run: dict, inputs: list[str] | None = None, logical_date: datetime | None = None,
            progress: Callable[[str, dict], None] | None = None, stages: Iterable[str] = STAGES) -> dict:
    """The stages in order (every one by default), in this process (the CLI's `ingest` and `reprocess`;
    the DAG runs the same functions as tasks)."""
    steps = {
        "discover": lambda: discover(s, run, inputs), "fetch": lambda: fetch_stage(s, run),
        "extract": lambda: extract_stage(s, run), "dedupe": lambda: dedupe_stage(s, run),
        "analyse": lambda: analyse(s, run), "check": lambda: check(s, run),
        "load": lambda: load(s, run, logical_date), "deliver": lambda: deliver(s, run),
    }
    stages = list(stages)
    if "check" in stages:
        quality.preload()
    counts: dict = {}
    for name, step in ((n, steps[n]) for n in stages):
        t0 = time.monotonic()
        counts = step()
        if progress:
            progress(name, dict(counts, seconds=round(time.monotonic() - t0, 2)))
    return counts


def reprocess(s: Settings, start: datetime, end: datetime,
              progress: Callable[[str, dict], None] | None = None) -> list[dict]:
    """Rebuild every run whose window starts in [start, end) from what it fetched (the `fetched` table and
    the bytes under data/raw/), without refetching: extract, dedupe, analyse, check, load and deliver
    again, replacing those runs' rows. For a better extractor, model, gazetteer or suite.

    Each run keeps its id, window and logical date, its discovery and fetch counts and failures, so the
    result is what the run would load today from the same pages; a second reprocess changes nothing.
    Returns each run's counts.
    """
    con = store.connect(s.db_path, read_only=True)
    try:
        runs = queries.runs_starting(con, _naive_utc(start), _naive_utc(end))
    finally:
        con.close()
    out = []
    for r in runs:
        run = _open_run(s, r["run_id"], r["kind"], r["window_start"], r["window_end"])
        before = json.loads(r["counts"] or "{}")
        for stage, keys in (("discover", ("discovered", "discover_failed", "not_modified", "outside_window",
                                          "already_stored")), ("fetch", ("fetched", "fetch_failed", "robots_notes"))):
            # Notes on robots.txt files travel with the fetch stage, where they were written.
            kept = (stage, "robots") if stage == "fetch" else (stage,)
            logs = [LogRecord(**x) for x in r["logs"] if x["stage"] in kept]
            staging.finish_stage(run, stage, {k: before[k] for k in keys if k in before}, logs)
        staging.write_rows(run, "fetched", r["fetched"])
        counts = run_all(s, run, logical_date=r["logical_date"], progress=progress,
                         stages=("extract", "dedupe", "analyse", "check", "load", "deliver"))
        out.append({"run_id": r["run_id"], "window_start": r["window_start"], **counts})
    return out


# ---------------------------------------------------------------- helpers


def _fetched_rows(run: dict) -> list[dict]:
    rows = staging.read_all(run, "fetched")
    for r in rows:
        r["fetched_at"] = _dt(r["fetched_at"])
        r["feed_published"] = _dt(r["feed_published"]) if r.get("feed_published") else None
    return rows


PARALLEL_FROM = 100  # below this many items a second process costs more than it saves
# What the analysis counts beside its rows: short forms kept apart because two full names fit them, and
# articles analysed for entities but outside the languages the claims' rules are written for.
ANALYSIS_NOTES = ("ambiguous_short_forms", "claims_skipped_language")
# Articles per analysis task: small enough that two workers finish together, large enough that
# nlp.pipe batches well.
ANALYSE_CHUNK = 16


def _parallel(fn, items: list, workers: int, minimum: int | None = None, chunksize: int | None = None) -> list:
    """fn over items, in order; in worker processes when there are at least `minimum` items (PARALLEL_FROM,
    read at the call, so one setting governs every stage). Spawned, not forked: the caller may be an
    Airflow task process with threads, where fork can deadlock."""
    minimum = PARALLEL_FROM if minimum is None else minimum
    if workers <= 1 or len(items) < max(minimum, 2):
        return [fn(i) for i in items]
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        return list(pool.map(fn, items, chunksize=chunksize or max(1, len(items) // (workers * 32))))


def _store_summary(s: Settings, c: Candidate) -> str | None:
    """The feed entry's own text, stored under data/raw/ as a JSON record (what a reprocess re-reads)."""
    if not c.feed_summary:
        return None
    record = {"title": c.feed_title, "text": c.feed_summary,
              "published_at": c.feed_published.isoformat() if c.feed_published else None}
    return fetch.store_raw(s.raw_dir, json.dumps(record, ensure_ascii=False, sort_keys=True).encode("utf-8"))


def _extract_one(args) -> dict | LogRecord:
    """One fetched item to an article row, or the failure record saying why it has none (picklable for
    worker processes).
    An item whose page holds no article but whose feed entry had text becomes the article of that text."""
    s, run, f = args
    try:
        row = _article_row(s, run, f)
        return dict(row, from_feed_entry=True) if f["raw_sha256"] == f.get("summary_sha256") else row
    except extract.ExtractionError as exc:
        if f.get("summary_sha256") and f["summary_sha256"] != f["raw_sha256"]:
            try:
                return dict(_article_row(s, run, dict(f, raw_sha256=f["summary_sha256"], kind="json",
                                                      charset=None)), raw_sha256=f["raw_sha256"],
                            from_feed_entry=True)
            except extract.ExtractionError:
                pass
        return LogRecord(f["source"], f["url"], "extract", str(exc))


def _article_row(s: Settings, run: dict, f: dict) -> dict:
    body = fetch.load_raw(s.raw_dir, f["raw_sha256"])
    published = _dt(f["feed_published"]) if f.get("feed_published") else None
    if f["kind"] == "html":
        # Decoded with the charset fetch settled on: trafilatura ignores the declared one and guesses
        # wrong on short Latin-1 pages (it reads valid UTF-8 right by itself).
        charset = f.get("charset")
        html = body.decode(charset, "replace") if charset and charset != "utf-8" else body
        art = extract.from_html(html, f["url"], published)
    else:
        charset = f.get("charset")
        try:
            # A text served over HTTP in another charset has it from fetch; a local file must be UTF-8.
            raw = body.decode(charset, "replace") if charset not in (None, "utf-8") else body.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise extract.ExtractionError(f"not UTF-8 text: invalid byte at position {exc.start}") from exc
        art = extract.from_json(raw, f["url"]) if f["kind"] == "json" else extract.from_text(raw, f["url"], published)
    lang = language.identify(art.text, declared=f.get("language"), default=s.default_language)
    return {
        "article_id": article_id(f["url"]), "url": f["url"], "source": f["source"],
        "title": art.title or f.get("feed_title"), "published_at": art.published_at, "date_origin": art.date_origin,
        "language": lang.language, "text": art.text, "word_count": extract.word_count(art.text),
        "author": art.author, "site_name": art.site_name, "content_hash": dedupe.content_hash(art.text),
        "minhash": dedupe.minhash(art.text), "duplicate_of": None, "raw_sha256": f["raw_sha256"],
        "fetched_at": _dt(f["fetched_at"]), "run_id": run["run_id"], "language_origin": lang.origin,
    }


def _frames(run: dict) -> dict:
    import pandas as pd

    columns = {
        "articles": ["article_id", "url", "source", "title", "published_at", "date_origin", "language", "text",
                     "word_count", "author", "site_name", "content_hash", "minhash", "duplicate_of", "raw_sha256",
                     "fetched_at", "run_id"],
        "entities": ["entity_id", "name", "type", "country_code", "latitude", "longitude", "geonames_id",
                     "precision"],
        "mentions": ["mention_id", "article_id", "entity_id", "surface", "form", "start_char", "end_char",
                     "sentence_index", "label", "type"],
        "claims": ["claim_id", "article_id", "kind", "speaker_entity_id", "speaker", "cue", "text", "start_char",
                   "end_char"],
        "claim_entities": ["claim_id", "article_id", "entity_id", "role"],
    }
    out = {}
    for table, cols in columns.items():
        files = staging.files(run, table)
        df = pd.concat([pd.read_parquet(f) for f in files], ignore_index=True) if files else pd.DataFrame()
        out[table] = df.reindex(columns=cols)
    # Two batches can find the same entity; it is one row.
    out["entities"] = out["entities"].drop_duplicates("entity_id", ignore_index=True)
    out["mentions_load"] = out["mentions"].drop(columns=["type"])
    return out


def _window(s: Settings, run: dict) -> quality.Window:
    if not run["window_start"]:
        return quality.Window(grace_days=s.grace_days)
    return quality.Window(_dt(run["window_start"]), _dt(run["window_end"]), s.grace_days)


def _source_history(s: Settings, run: dict, window: quality.Window) -> dict[str, list[int]]:
    """Articles per source for each of the VOLUME_DAYS days before the window (first copies and
    duplicates alike: volume is about the source, not the story)."""
    if not s.db_path.exists():
        return {}
    days = quality.VOLUME_DAYS
    con = store.connect(s.db_path, read_only=True)
    try:
        rows = queries.articles_per_source_day(con, window.start - timedelta(days=days), window.start,
                                               run["run_id"])
    finally:
        con.close()
    first = (window.start - timedelta(days=days)).date()
    history: dict[str, list[int]] = {}
    for source, day, n in rows:
        history.setdefault(source, [0] * days)[(day - first).days] = n
    return history


def _entity_share_history(s: Settings, run: dict, window: quality.Window) -> list[float]:
    """The daily shares of articles without entities over the VOLUME_DAYS days before the window (none for
    an ingest, which has no window)."""
    if not window.start or not s.db_path.exists():
        return []
    con = store.connect(s.db_path, read_only=True)
    try:
        return queries.shares_without_entities(con, window.start - timedelta(days=quality.VOLUME_DAYS),
                                             window.start, run["run_id"])
    finally:
        con.close()


def _feed_state(s: Settings) -> dict[str, FeedState]:
    """What each feed and sitemap URL answered last, read-only: `load` is the database's one writer."""
    if not s.db_path.exists():
        return {}
    con = store.connect(s.db_path, read_only=True)
    try:
        return queries.feed_states(con)
    finally:
        con.close()


def _stored_elsewhere(s: Settings, rid: str, cands: list[Candidate]) -> set[str]:
    """The article ids and URLs among the candidates that another run already stored: as an article, or
    as fetched bytes that did not make one (a PDF link, a page too short); reprocess re-reads those."""
    if not cands or not s.db_path.exists():
        return set()
    con = store.connect(s.db_path, read_only=True)
    try:
        return queries.stored_elsewhere(con, [article_id(c.url) for c in cands], [c.url for c in cands], rid)
    finally:
        con.close()


def _stored_fingerprints(s: Settings, run: dict, rows: list[dict]) -> list[dict]:
    if not rows or not s.db_path.exists():
        return []
    dates = [r["published_at"] for r in rows if r["published_at"]]
    since = (min(dates) if dates else datetime(1970, 1, 1)) - timedelta(days=s.dedupe_days)
    con = store.connect(s.db_path, read_only=True)
    try:
        return queries.fingerprints_since(con, since, [r["article_id"] for r in rows], run["run_id"])
    finally:
        con.close()


def _unique(cands: Iterable[Candidate]) -> list[Candidate]:
    """The first candidate of each article (two links to one story are one article)."""
    first: dict[str, Candidate] = {}
    for c in cands:
        first.setdefault(article_id(c.url), c)
    return list(first.values())


def _one_per_article(rows: Iterable[dict]) -> list[dict]:
    """The first row of each article_id, in order."""
    first: dict[str, dict] = {}
    for r in rows:
        first.setdefault(r["article_id"], r)
    return list(first.values())


def _run_time(run: dict) -> datetime | None:
    """The run's logical time: its window's end; for an ingest, when its newest input was obtained."""
    if run["window_end"]:
        return _dt(run["window_end"])
    import pandas as pd

    stamps = [pd.read_parquet(f, columns=["fetched_at"])["fetched_at"].max() for f in staging.files(run, "articles")]
    stamps = [t for t in stamps if pd.notna(t)]
    return max(stamps).to_pydatetime() if stamps else None


def _http_date(resp) -> str:
    """When the server says it answered (ingest of a URL has no logical date to use)."""
    from email.utils import parsedate_to_datetime

    try:
        return _naive_utc(parsedate_to_datetime(resp.date)).isoformat()
    except (TypeError, ValueError):
        return "1970-01-01T00:00:00"


def _mtime(url: str) -> str:
    ts = fetch.file_path(url).stat().st_mtime
    return datetime.fromtimestamp(ts, UTC).replace(tzinfo=None).isoformat()


def _dt(value) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))


def _naive_utc(dt: datetime | None) -> datetime | None:
    if dt is None:
        return None
    return dt.astimezone(UTC).replace(tzinfo=None) if dt.tzinfo else dt
