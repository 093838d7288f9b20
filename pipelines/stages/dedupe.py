"""The dedupe stage: syndicated and repeated copies marked with the first copy."""

from __future__ import annotations

from datetime import datetime, timedelta

from pipelines import dedupe, queries, staging, store
from pipelines.settings import Settings


def dedupe_stage(s: Settings, run: dict) -> dict:
    """Mark syndicated and repeated copies with duplicate_of (the first copy), within the batch and
    against what is stored from the last dedupe_days. Merges the batches' articles into one file."""
    # One URL listed in two batches is one article.
    rows = staging.first_per_article(staging.read_all(s, run, "articles"))
    stored = _stored_fingerprints(s, run, rows)
    dups = dedupe.find_duplicates(rows, stored)
    for r in rows:
        r["duplicate_of"] = dups.get(r["article_id"])
    staging.write_rows(s, run, "articles", rows)
    return staging.finish_stage(s, run, "dedupe", {"kept": len(rows) - len(dups), "duplicates": len(dups)})


def _stored_fingerprints(s: Settings, run: dict, rows: list[dict]) -> list[dict]:
    if not rows or not store.exists(s.database):
        return []
    dates = [r["published_at"] for r in rows if r["published_at"]]
    since = (min(dates) if dates else datetime(1970, 1, 1)) - timedelta(days=s.dedupe_days)
    con = store.connect(s.database, read_only=True)
    try:
        return queries.fingerprints_since(con, since, [r["article_id"] for r in rows], run["run_id"])
    finally:
        con.close()
