"""The load stage: the run written into DuckDB in one transaction, or held back in quarantine."""

from __future__ import annotations

from datetime import datetime

from pipelines import alerts, quality, runs, staging, store
from pipelines.settings import Settings


def load(s: Settings, run: dict, logical_date: datetime | None = None) -> dict:
    """Write the run into DuckDB in one transaction; a quarantined batch writes only its check results,
    its log and the run's status, and its files are copied to quarantine/<run_id>/ (beside staging/)."""
    folder = staging.folder(s, run)
    dq = [dict(r, run_id=run["run_id"]) for r in staging.read_json(folder, "dq.json")]
    blocked = [r for r in dq if r["severity"] == quality.CRITICAL and not r["success"]]
    counts = staging.run_counts(s, run)
    frames = staging.frames(s, run)
    watchlist = alerts.load_watchlist(s.watchlist_path)
    if blocked:
        target = s.quarantine / run["run_id"]
        folder.copy_to(target)
        staging.write_json(target, "reason.json", blocked)
        frames = {k: v.iloc[0:0] for k, v in frames.items()}
    # The run's logical time, not the clock: a rerun of the same window writes the same rows. An ingest
    # has none (its rows' time is the run's started_at), and its rerun must change nothing either.
    logged_at = run["window_end"]
    log_rows = [dict(r, run_id=run["run_id"], logged_at=logged_at) for r in staging.logs(s, run)]
    row = {"run_id": run["run_id"], "kind": run["kind"], "logical_date": runs.naive_utc(logical_date),
           "window_start": run["window_start"], "window_end": run["window_end"],
           "started_at": run["started_at"], "finished_at": None,
           "status": "quarantined" if blocked else "success", "counts": counts}

    def alert_rows(con):
        start = runs.as_datetime(run["window_start"]) if run["window_start"] else None
        return alerts.evaluate(con, watchlist, run["run_id"], runs.run_time(s, run), start)

    con = store.connect(s.database)
    try:
        tables = {"articles": frames["articles"], "entities": frames["entities"],
                  "mentions": frames["mentions_load"], "claims": frames["claims"],
                  "claim_entities": frames["claim_entities"]}
        written = store.load_run(con, row, tables, dq, log_rows, alert_rows, content=not blocked,
                                 feed_state=staging.read_rows(s, run, "feed_state"), fetched=_fetched_rows(s, run))
    finally:
        con.close()
    return staging.finish_stage(s, run, "load", {"alerts": written["alerts"], "quarantined": int(bool(blocked))})


def _fetched_rows(s: Settings, run: dict) -> list[dict]:
    rows = staging.read_all(s, run, "fetched")
    for r in rows:
        r["fetched_at"] = runs.as_datetime(r["fetched_at"])
        r["feed_published"] = runs.as_datetime(r["feed_published"]) if r.get("feed_published") else None
    return rows
