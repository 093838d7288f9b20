"""Airflow for real: PostgreSQL metadata, CeleryExecutor on Redis, a scheduler, a dag-processor and a
Celery worker. A run triggered through the REST API, the asset-scheduled alerts DAG it wakes, a backfill of
three dates, and a rerun that changes nothing. Skipped, with the reason, where PostgreSQL or Redis does not
answer on loopback."""

import duckdb
import pytest

from pipelines import demo
from pipelines.settings import REPO_ROOT
from tests.integration.platform import PG, REDIS, Platform, free_port, reachable

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not (reachable(PG) and reachable(REDIS)),
                       reason="PostgreSQL (127.0.0.1:5432) and Redis (127.0.0.1:6379) must answer for this test"),
]
DAGS = ("newsmon_daily", "newsmon_alerts")
TABLES = ("articles", "entities", "mentions", "claims", "alerts", "fetch_log", "dq_results")


def snapshot(db):
    con = duckdb.connect(str(db), read_only=True)
    try:
        out = {t: sorted(map(repr, con.execute(f"select * from {t}").fetchall())) for t in TABLES}
        out["runs"] = sorted(con.execute("select run_id, kind, logical_date, window_start, window_end, status, "
                                         "counts from runs").fetchall())
        return out
    finally:
        con.close()


def test_scheduler_and_celery_run_trigger_backfill_and_rerun(tmp_path):
    with demo.DemoServer(port=free_port()) as url:
        sources = demo.write_sources(tmp_path / "sources.yaml", url)
        env = {"NEWSMON_DATA_DIR": str(tmp_path / "data"), "NEWSMON_SOURCES": str(sources),
               "NEWSMON_WATCHLIST": str(REPO_ROOT / "demo" / "watchlist.yaml"), "NEWSMON_GRACE_DAYS": "0",
               "NEWSMON_BATCH_SIZE": "3"}
        db = tmp_path / "data" / "newsmon.duckdb"
        with Platform(tmp_path, env) as af:
            for dag_id in DAGS:
                af.api("PATCH", f"/api/v2/dags/{dag_id}", {"is_paused": False})
            run = af.api("POST", "/api/v2/dags/newsmon_daily/dagRuns", {"logical_date": "2026-11-24T00:00:00Z"})
            assert af.wait_run("newsmon_daily", run["dag_run_id"]) == "success", af.log_tail()
            af.settle(DAGS)
            con = duckdb.connect(str(db), read_only=True)
            days = dict(con.execute("select cast(published_at as date)::varchar, count(*) from articles "
                                    "group by 1").fetchall())
            con.close()
            assert days == {"2026-11-24": 6}  # the window is the logical date's day

            # Loading updated the DuckDB asset, which schedules newsmon_alerts.
            alerts_runs = af._wait(lambda: [r for r in af.runs("newsmon_alerts") if r["state"] == "success"], 300,
                                   "newsmon_alerts to run on the asset event")
            assert alerts_runs[0]["run_type"] == "asset_triggered"

            af.api("POST", "/api/v2/backfills", {
                "dag_id": "newsmon_daily", "from_date": "2026-11-21T00:00:00Z", "to_date": "2026-11-23T00:00:00Z",
                "run_backwards": False, "dag_run_conf": {}, "reprocess_behavior": "none", "max_active_runs": 1})
            backfill = af._wait(lambda: (lambda rs: rs if len(rs) == 3 and all(
                r["state"] in ("success", "failed") for r in rs) else None)(
                [r for r in af.runs("newsmon_daily") if r["run_type"] == "backfill"]), 900, "the backfill")
            assert {r["state"] for r in backfill} == {"success"}, af.log_tail()
            af.settle(DAGS)
            con = duckdb.connect(str(db), read_only=True)
            days = dict(con.execute("select cast(published_at as date)::varchar, count(*) from articles "
                                    "group by 1").fetchall())
            con.close()
            assert days == {"2026-11-21": 5, "2026-11-22": 4, "2026-11-23": 5, "2026-11-24": 6}

            # Rerunning a date through the scheduler changes nothing.
            before = snapshot(db)
            target = next(r for r in backfill if r["logical_date"].startswith("2026-11-23"))
            af.api("POST", "/api/v2/dags/newsmon_daily/clearTaskInstances",
                   {"dry_run": False, "dag_run_id": target["dag_run_id"], "reset_dag_runs": True,
                    "only_failed": False})
            assert af.wait_run("newsmon_daily", target["dag_run_id"]) == "success", af.log_tail()
            af.settle(DAGS)
            assert snapshot(db) == before
