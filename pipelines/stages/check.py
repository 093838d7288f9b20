"""The check stage: the data-quality suites and the run- and source-level checks of the batch."""

from __future__ import annotations

from dataclasses import asdict
from datetime import timedelta

from pipelines import quality, queries, runs, staging, store
from pipelines.settings import Settings
from pipelines.sources import load_sources


def check(s: Settings, run: dict) -> dict:
    """Run the quality suites on the batch (Data Docs under data/dq_docs/<run_id>/), then the run- and
    source-level checks; a failed critical check quarantines the batch at load."""
    frames = staging.frames(s, run)
    window = runs.window(s, run)
    results = quality.check(frames, window, docs_dir=s.data_dir / "dq_docs" / run["run_id"],
                            run_name=run["run_id"], run_time=window.end)
    results += quality.completeness(frames)
    results += quality.without_entities(frames, _entity_share_history(s, run, window))
    if run["kind"] == "daily":
        names = [x.name for x in load_sources(s.sources_path) if x.enabled]
        batch = frames["articles"]["source"].value_counts().to_dict()
        results += quality.volume(batch, _source_history(s, run, window), names)
    staging.write_json(staging.folder(s, run), "dq.json", [asdict(r) for r in results])
    blocking = quality.blocking(results)
    counts = {"checks_passed": sum(r.success for r in results), "checks_failed": sum(not r.success for r in results),
              "checks_blocking": len(blocking)}
    return staging.finish_stage(s, run, "check", counts)


def _source_history(s: Settings, run: dict, window: quality.Window) -> dict[str, list[int]]:
    """Articles per source for each of the VOLUME_DAYS days before the window (first copies and
    duplicates alike: volume is about the source, not the story)."""
    if not store.exists(s.database):
        return {}
    days = quality.VOLUME_DAYS
    con = store.connect(s.database, read_only=True)
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
    if not window.start or not store.exists(s.database):
        return []
    con = store.connect(s.database, read_only=True)
    try:
        return queries.shares_without_entities(con, window.start - timedelta(days=quality.VOLUME_DAYS),
                                             window.start, run["run_id"])
    finally:
        con.close()
