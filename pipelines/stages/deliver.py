"""The deliver stage: the alerts that are due sent, the run's counts recorded, the snapshot published."""

from __future__ import annotations

from datetime import UTC, datetime

from pipelines import alerts, queries, runs, searchindex, staging, store
from pipelines.settings import Settings


def deliver(s: Settings, run: dict, smtp_uri: str | None = None) -> dict:
    """Send every alert that is due (this run's and earlier ones awaiting a retry), record the run's
    final counts and finish time, compact the search index when enough runs were indexed since it last
    was, and publish the analysts' snapshot."""
    deliver_alerts(s, runs.run_time(s, run), smtp_uri)
    con = store.connect(s.database)
    try:
        # The run's own alerts and where they stand: the same on a rerun, unlike what one call delivered.
        sent, waiting = queries.alert_states(con, run["run_id"])
        staging.write_json(staging.folder(s, run), "counts_deliver.json",
                           {"alerts_sent": sent, "alerts_pending": waiting})
        counts = staging.run_counts(s, run)
        store.finish_run(con, run["run_id"], counts, datetime.now(UTC).replace(tzinfo=None))
        if searchindex.needs_compaction(con):
            searchindex.compact(con)
        store.publish_snapshot(con, s.database)
    finally:
        con.close()
    return counts


def deliver_alerts(s: Settings, now: datetime | None, smtp_uri: str | None = None) -> dict:
    """Deliver every alert that is due as of the logical time `now` (the alerts DAG calls this after each
    load, including reprocessing and backfills)."""
    from pipelines import channels

    watchlist = alerts.load_watchlist(s.watchlist_path)
    con = store.connect(s.database)
    try:
        return channels.deliver(con, watchlist, s.alerts_file, now, smtp_uri, env=s.environ)
    finally:
        con.close()
