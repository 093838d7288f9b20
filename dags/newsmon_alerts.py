"""newsmon_alerts: deliver due alerts whenever the DuckDB asset is updated.

Scheduled on the asset that newsmon_daily's load task updates, so it runs after every load: scheduled
runs, reruns, backfills. Alerts themselves are created inside the load transaction; this DAG sends
what is due (new alerts, daily digests, retries of failed deliveries).
"""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.sdk import Asset, BaseHook, dag, task

from pipelines.settings import DUCKDB_ASSET_URI

DUCKDB = Asset(DUCKDB_ASSET_URI)


def _on_failure(context) -> None:
    from pipelines.channels import notify_task_failure

    notify_task_failure(context)


@dag(
    dag_id="newsmon_alerts",
    schedule=[DUCKDB],
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    default_args={"retries": 3, "retry_delay": timedelta(minutes=1), "retry_exponential_backoff": True,
                  "execution_timeout": timedelta(minutes=30), "on_failure_callback": _on_failure},
    tags=["newsmon", "alerts"],
    doc_md=__doc__,
)
def newsmon_alerts():
    @task(pool="newsmon_duckdb")  # one slot, shared with newsmon_daily's writers
    def deliver_alerts(triggering_asset_events=None) -> dict:
        from datetime import datetime

        from pipelines.settings import Settings
        from pipelines.stages import deliver

        events = list((triggering_asset_events or {}).get(DUCKDB, []))
        # The logical time of the load that triggered us (its window's end), never the wall clock.
        ends = [e.extra.get("window_end") for e in events if e.extra and e.extra.get("window_end")]
        now = max(datetime.fromisoformat(x) for x in ends) if ends else None
        try:
            smtp = BaseHook.get_connection("newsmon_smtp").get_uri()
        except Exception:  # no such connection: channels fall back to NEWSMON_SMTP_URL
            smtp = None
        return deliver.deliver_alerts(Settings.from_env(), now, smtp)

    deliver_alerts()


newsmon_alerts()
