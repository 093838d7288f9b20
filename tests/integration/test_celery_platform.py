"""Airflow for real: PostgreSQL metadata, CeleryExecutor on Redis, a scheduler, a dag-processor and a
Celery worker. A run triggered through the REST API, the asset-scheduled alerts DAG it wakes, a backfill of
three dates, and a rerun that changes nothing. Then the same four dates backfilled at once into a lake (its
catalog a PostgreSQL database of its own, its data and the staging files on the S3 server on loopback) by
two Celery workers with two load slots: the tables come out as on the DuckDB file. Skipped, with the
reason, where PostgreSQL or Redis does not answer on loopback."""

import itertools
from datetime import datetime

import duckdb
import pytest

from pipelines import demo, lake, store
from pipelines.settings import REPO_ROOT
from tests.conftest import drop_lake, new_lake
from tests.integration.platform import PG, REDIS, Platform, free_port, reachable

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not (reachable(PG) and reachable(REDIS)),
                       reason="PostgreSQL (127.0.0.1:5432) and Redis (127.0.0.1:6379) must answer for this test"),
]
DAGS = ("newsmon_daily", "newsmon_alerts")
TABLES = ("articles", "entities", "mentions", "claims", "alerts", "fetch_log", "dq_results", "search_postings")


# Tables whose rows depend only on a date's own inputs (with the runs' rows, less their counts).
ORDER_FREE = ("articles", "fetch_log", "search_postings", "runs")


def consistent(target) -> bool:
    """The lake's derived tables agree with its rows: the marts with a recount, every entity a mention names
    there once, every alert once."""
    con = store.connect(target, read_only=True)
    try:
        checks = {
            "entity_daily": """select count(*) from (
                (select * from entity_daily except select cast(a.published_at as date), m.entity_id, count(*),
                        count(distinct m.article_id)
                 from articles a join mentions m using (article_id)
                 where a.duplicate_of is null and a.published_at is not null group by all)
                union all
                (select cast(a.published_at as date), m.entity_id, count(*), count(distinct m.article_id)
                 from articles a join mentions m using (article_id)
                 where a.duplicate_of is null and a.published_at is not null group by all
                 except select * from entity_daily))""",
            "entity_forms": """select count(*) from (
                select entity_id, form, sum(mentions) from entity_forms group by all
                except select entity_id, form, count(*) from mentions group by all)""",
            "named": "select count(*) from mentions where entity_id not in (select entity_id from entities)",
            "entities once": "select count(*) - count(distinct entity_id) from entities",
            "alerts once": "select count(*) - count(distinct alert_id) from alerts",
        }
        bad = {k: n for k, sql in checks.items() if (n := con.execute(sql).fetchone()[0])}
        assert bad == {}, bad
        return True
    finally:
        con.close()


def snapshot(db, counts: bool = True):
    con = store.connect(db, read_only=True) if isinstance(db, lake.Lake) else duckdb.connect(str(db), read_only=True)
    try:
        out = {t: sorted(map(repr, con.execute(f"select * from {t}").fetchall())) for t in TABLES}
        out["runs"] = sorted(con.execute("select run_id, kind, logical_date, window_start, window_end, status, "
                                         "counts from runs").fetchall())
        # What the runs held, without their counts: those say how each fetch went (a feed unchanged since an
        # earlier run is a 304), which depends on the order the dates ran in.
        out["runs"] = [r[:-1] for r in out["runs"]] if not counts else out["runs"]
        return out
    finally:
        con.close()


def test_scheduler_and_celery_run_trigger_backfill_and_rerun(tmp_path, s3):
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

        # The same four dates into a lake, backfilled at once by two workers that share nothing on disk.
        s3.make_bucket("newsmon")
        target = new_lake(tmp_path / "lake")
        target = lake.Lake(target.catalog, "s3://newsmon/lake/", lake.S3(s3.url, "us-east-1", "k", "s"))
        lake_env = dict(env, NEWSMON_DATA_DIR=str(tmp_path / "lake-data"), NEWSMON_STORAGE="ducklake",
                        NEWSMON_LAKE_CATALOG=target.catalog, NEWSMON_LAKE_DATA=target.data,
                        NEWSMON_DATA_URL="s3://newsmon/files", NEWSMON_S3_ENDPOINT=s3.url, NEWSMON_S3_KEY_ID="k",
                        NEWSMON_S3_SECRET="s")
        try:
            # The writers' pool starts closed, so the four loads wait for it together; opening two slots at
            # once then starts two loads side by side, whatever order the scheduler ran the rest in.
            with Platform(tmp_path / "lake-platform", lake_env, workers=2, writers=0) as af:
                for dag_id in DAGS:
                    af.api("PATCH", f"/api/v2/dags/{dag_id}", {"is_paused": False})
                af.api("POST", "/api/v2/backfills", {
                    "dag_id": "newsmon_daily", "from_date": "2026-11-21T00:00:00Z",
                    "to_date": "2026-11-24T00:00:00Z", "run_backwards": False, "dag_run_conf": {},
                    "reprocess_behavior": "none", "max_active_runs": 4})
                af._wait(lambda: (lambda rs: len(rs) == 4 and all(
                    ti["state"] == "scheduled" for r in rs for ti in af.task_instances("newsmon_daily", r["dag_run_id"])
                    if ti["task_id"] == "load"))(
                    [r for r in af.runs("newsmon_daily") if r["run_type"] == "backfill"]), 900,
                    "the four loads to wait for the writers' pool")
                af.airflow("pools", "set", "newsmon_duckdb", "2", "Newsmon writers")
                runs = af._wait(lambda: (lambda rs: rs if len(rs) == 4 and all(
                    r["state"] in ("success", "failed") for r in rs) else None)(
                    [r for r in af.runs("newsmon_daily") if r["run_type"] == "backfill"]), 900, "the lake backfill")
                assert {r["state"] for r in runs} == {"success"}, af.log_tail()
                tis = [ti for r in runs for ti in af.task_instances("newsmon_daily", r["dag_run_id"])]
                af.settle(DAGS)
                per_worker = af.tasks_per_worker()
            # Both workers took tasks, and loads of different dates ran at the same time (their transactions
            # took turns at the lake's writer lock).
            assert len(per_worker) == 2 and min(per_worker) > 0, per_worker
            loads = sorted((datetime.fromisoformat(ti["start_date"]), datetime.fromisoformat(ti["end_date"]))
                           for ti in tis if ti["task_id"] == "load")
            assert len(loads) == 4
            assert any(b[0] < a[1] for a, b in itertools.pairwise(loads)), loads
            assert not list((tmp_path / "lake-data").glob("staging/*")) and not (tmp_path / "lake-data/raw").exists()
            # What a date's run writes of its own inputs is the same whatever order the dates ran in, and
            # so the same as the file's sequential backfill. Entity resolution (the corpus's names memory),
            # alerts' first appearances and the volume checks' history read what earlier runs left, so
            # those depend on the order on either backend; there the lake must agree with itself.
            ours, theirs = snapshot(target, counts=False), snapshot(db, counts=False)
            assert {t: ours[t] for t in ORDER_FREE} == {t: theirs[t] for t in ORDER_FREE}
            assert consistent(target)
        finally:
            drop_lake(target)
