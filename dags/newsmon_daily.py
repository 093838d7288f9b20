"""newsmon_daily: discover -> fetch[batches] -> extract[batches] -> dedupe -> analyse[batches] -> check ->
load -> deliver.

Wiring only: every task imports the `pipelines` library at run time and passes a small run reference
(ids, window, staging folder) through XCom; the data itself lives in files under the staging folder.
"""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.sdk import Asset, chain, dag, task
from airflow.timetables.interval import CronDataIntervalTimetable

from pipelines.settings import DUCKDB_ASSET_URI, Settings

DUCKDB = Asset(DUCKDB_ASSET_URI)
DUCKDB_POOL = "newsmon_duckdb"  # the writers: one slot for a DuckDB file (one writing process), more on a lake


def _settings() -> Settings:
    # Read again in the task: the worker's environment is the one that counts at run time.
    return Settings.from_env()


def _on_failure(context) -> None:
    from pipelines.channels import notify_task_failure

    notify_task_failure(context)


def _smtp_uri() -> str | None:
    """SMTP settings from the Airflow connection `newsmon_smtp`, if there is one (else the environment)."""
    from airflow.sdk import BaseHook

    try:
        return BaseHook.get_connection("newsmon_smtp").get_uri()
    except Exception:  # no such connection: channels fall back to NEWSMON_SMTP_URL
        return None


SETTINGS = Settings.from_env()  # light: paths and numbers, no connections


@dag(
    dag_id="newsmon_daily",
    schedule=CronDataIntervalTimetable(SETTINGS.schedule, timezone="UTC"),
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    # Backfills go through `airflow backfill create`; NEWSMON_CATCHUP=true makes the scheduler fill gaps too.
    catchup=SETTINGS.catchup,
    max_active_runs=1,
    default_args={"retries": SETTINGS.task_retries, "retry_delay": timedelta(minutes=2),
                  "retry_exponential_backoff": True, "max_retry_delay": timedelta(minutes=30),
                  "execution_timeout": timedelta(hours=2), "on_failure_callback": _on_failure},
    tags=["newsmon", "ingest"],
    doc_md=__doc__,
)
def newsmon_daily():
    @task
    def start(logical_date=None, data_interval_start=None, data_interval_end=None) -> dict:
        from pipelines import runs

        begin, end = runs.window_for(logical_date, data_interval_start, data_interval_end)
        return runs.new_run(_settings(), "daily", begin, end)

    @task
    def discover(ref: dict) -> list[int]:
        """Find the window's candidates; return the batches the mapped tasks fan out over."""
        from pipelines.stages import discover

        s = _settings()
        discover.discover(s, ref)
        return discover.parts(s, ref)

    # One fetch batch at a time across the deployment: each batch spreads over many hosts with its own
    # threads, and the per-host delay and connection cap hold only within one process.
    @task(max_active_tis_per_dag=1)
    def fetch(ref: dict, part: int) -> int:
        from pipelines.stages import fetch

        fetch.fetch_stage(_settings(), ref, part)
        return part

    @task
    def extract(ref: dict, part: int) -> int:
        from pipelines.stages import extract

        extract.extract_stage(_settings(), ref, part)
        return part

    @task
    def dedupe(ref: dict) -> dict:
        from pipelines.stages import dedupe

        return dedupe.dedupe_stage(_settings(), ref)

    @task
    def analyse(ref: dict, part: int) -> int:
        from pipelines.stages import analyse

        analyse.analyse(_settings(), ref, part)
        return part

    @task
    def check(ref: dict) -> dict:
        from pipelines.stages import check

        return check.check(_settings(), ref)

    @task(outlets=[DUCKDB], pool=DUCKDB_POOL)
    def load(ref: dict, logical_date=None, outlet_events=None) -> dict:
        from pipelines.stages import load

        counts = load.load(_settings(), ref, logical_date)
        # newsmon_alerts reads the window from the event, so its retries are timed like this run.
        outlet_events[DUCKDB].extra = {"run_id": ref["run_id"], "window_end": ref["window_end"]}
        return counts

    @task(pool=DUCKDB_POOL)
    def deliver(ref: dict) -> dict:
        from pipelines.stages import deliver

        return deliver.deliver(_settings(), ref, _smtp_uri())

    ref = start()
    parts = discover(ref)
    # Fetch, extract and analyse fan out over batches (each writes its own Parquet files); dedupe sees
    # every batch at once, and one load task merges them into DuckDB, the single writer.
    fetched = fetch.partial(ref=ref).expand(part=parts)
    extracted = extract.partial(ref=ref).expand(part=fetched)
    deduped = dedupe(ref)
    analysed = analyse.partial(ref=ref).expand(part=parts)
    chain(extracted, deduped, analysed, check(ref), load(ref), deliver(ref))


newsmon_daily()
