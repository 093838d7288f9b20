"""The discover stage: the run's candidate articles, from its sources or the given inputs."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict
from pathlib import Path

from pipelines import feeds, queries, runs, staging, store
from pipelines.client import Client
from pipelines.models import Candidate, FeedState, LogRecord, article_id
from pipelines.settings import Settings
from pipelines.sources import load_sources, selected
from pipelines.stages.fetch import robots_notes


def discover(s: Settings, run: dict, inputs: list[str] | None = None, tags: list[str] | None = None) -> dict:
    """Candidates for the run: the configured sources' entries in the window (daily runs), or the given
    files, folders and URLs (ingest). URLs another run already stored are skipped. With `tags`, only the
    sources carrying one of them are read.

    Feeds and sitemaps are read with conditional GETs against the state the last load stored; the new
    state goes to the staging folder for `load` to write (discovery never writes the database)."""
    found: list[Candidate | LogRecord | FeedState] = []
    window = runs.window(s, run)
    if inputs is not None:
        paths = [i for i in inputs if not i.startswith(("http://", "https://"))]
        found += list(feeds.local_candidates([Path(p) for p in paths]))
        found += [Candidate(url=u, source="cli", local=True) for u in inputs if u not in paths]
    else:
        if tags is None:
            tags = [t.strip() for t in s.source_tags.split(",") if t.strip()]
        sources = selected(load_sources(s.sources_path), tags)
        http = Client.from_settings(s)
        ctx = feeds.Context(client=http, max_bytes=s.max_bytes, raw=s.raw, state=_feed_state(s),
                            since=window.earliest, checked_at=window.end)
        try:
            found += feeds.discover_all(sources, ctx)
        finally:
            http.close()
        found += robots_notes(http)
    logs = [f for f in found if isinstance(f, LogRecord)]
    states = list({f.url: f for f in found if isinstance(f, FeedState)}.values())  # two sources, one feed
    cands = _unique(c for c in found if isinstance(c, Candidate))
    counts = {"discovered": len(cands), "discover_failed": sum(x.stage == "discover" for x in logs),
              "not_modified": sum(f.status == 304 for f in states)}
    staging.write_rows(s, run, "feed_state", [asdict(f) for f in states])
    if window.start:
        in_window = [c for c in cands
                     if c.feed_published is None or window.earliest <= c.feed_published < window.end]
        counts["outside_window"] = len(cands) - len(in_window)
        known = _stored_elsewhere(s, run["run_id"], in_window)
        cands = [c for c in in_window if c.url not in known and article_id(c.url) not in known]
        counts["already_stored"] = len(in_window) - len(cands)
    staging.write_rows(s, run, "candidates", [asdict(c) for c in cands])
    return staging.finish_stage(s, run, "discover", counts, logs)


def parts(s: Settings, run: dict) -> list[int]:
    """The batches the run's candidates split into (batch_size each, at least one), for the DAG's
    mapped fetch, extract and analyse tasks."""
    n = len(staging.read_rows(s, run, "candidates"))
    return list(range(max(1, -(-n // s.batch_size))))


def _feed_state(s: Settings) -> dict[str, FeedState]:
    """What each feed and sitemap URL answered last, read-only: `load` is the database's one writer."""
    if not store.exists(s.database):
        return {}
    con = store.connect(s.database, read_only=True)
    try:
        return queries.feed_states(con)
    finally:
        con.close()


def _stored_elsewhere(s: Settings, rid: str, cands: list[Candidate]) -> set[str]:
    """The article ids and URLs among the candidates that another run already stored: as an article, or
    as fetched bytes that did not make one (a PDF link, a page too short); reprocess re-reads those."""
    if not cands or not store.exists(s.database):
        return set()
    con = store.connect(s.database, read_only=True)
    try:
        return queries.stored_elsewhere(con, [article_id(c.url) for c in cands], [c.url for c in cands], rid)
    finally:
        con.close()


def _unique(cands: Iterable[Candidate]) -> list[Candidate]:
    """The first candidate of each article (two links to one story are one article)."""
    first: dict[str, Candidate] = {}
    for c in cands:
        first.setdefault(article_id(c.url), c)
    return list(first.values())
