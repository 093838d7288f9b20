"""The ducklake backend's own promises: many writers at once, readers that see only committed runs, time
travel for exports. The shared behaviour (schema, loads, marts, search) runs on both backends through the
`database` fixture in test_store.py and test_search.py."""

from __future__ import annotations

import json
import multiprocessing
import random
import re
import time

import pandas as pd
import pytest

from pipelines import cli, lake, store, transfer
from pipelines.settings import Settings
from tests.conftest import drop_lake, new_lake
from tests.test_store import random_run


@pytest.fixture
def lake_target(tmp_path):
    target = new_lake(tmp_path)
    yield target
    drop_lake(target)


def day_run(run_id: str, n: int, seed: int) -> dict:
    """A run of n articles of its own (ids carry the run), naming the same three entities as every other
    run, so that concurrent loads rewrite the same rows of the marts and of entities."""
    frames = random_run(random.Random(seed), run_id, [f"{run_id}-a{i}" for i in range(n)])
    while len(frames["articles"]) < n:  # random_run draws up to 6: take them all
        seed += 1000
        frames = random_run(random.Random(seed), run_id, [f"{run_id}-a{i}" for i in range(n)])
    return frames


def _load(target: lake.Lake, runs: list[tuple[str, int]], start: float) -> list[dict]:
    """A worker process: wait for the common start, then load each (run, seed of its frames); what each
    load returned, with when it began and ended."""
    con = store.connect(target)
    time.sleep(max(0.0, start - time.time()))
    outs = []
    for run_id, seed in runs:
        began = time.time()
        out = store.load_run(con, {"run_id": run_id, "kind": "daily", "status": "success", "counts": {}},
                             day_run(run_id, 6, seed), [], [])
        outs.append(out | {"began": began, "ended": time.time()})
    con.close()
    return outs


def _in_processes(target, plans: list[list[tuple[str, int]]]) -> list[list[dict]]:
    store.connect(target).close()  # migrated once, before the workers race
    ctx = multiprocessing.get_context("spawn")
    start = time.time() + 4  # after both processes have imported and connected
    with ctx.Pool(len(plans)) as pool:
        return pool.starmap(_load, [(target, runs, start) for runs in plans])


def _marts_equal_a_recount(con) -> None:
    assert con.execute("select * from entity_forms order by all").fetchall() == con.execute("""
        select entity_id, form, regexp_replace(surface, '\\s+', ' ', 'g'), count(*)
        from mentions group by all order by all""").fetchall()
    daily = con.execute("select * from entity_daily order by all").fetchall()
    assert daily == con.execute("""
        select cast(a.published_at as date), m.entity_id, count(*), count(distinct m.article_id)
        from articles as a inner join mentions as m using (article_id)
        where a.duplicate_of is null and a.published_at is not null
        group by all order by all""").fetchall()
    assert con.execute("select entity_id from entities order by 1").fetchall() == con.execute(
        "select distinct entity_id from mentions order by 1").fetchall()


def test_two_workers_loading_different_dates_at_once_lose_and_double_nothing(lake_target):
    outs = _in_processes(lake_target, [[(f"d{w}-{k}", w + k) for k in range(4)] for w in (1, 2)])
    con = store.connect(lake_target, read_only=True)
    expected = pd.concat([day_run(f"d{w}-{k}", 6, w + k)["articles"] for w in (1, 2) for k in range(4)])
    assert sorted(con.execute("select article_id, run_id from articles").fetchall()) == sorted(
        zip(expected["article_id"], expected["run_id"], strict=True))
    assert con.execute("select count(*), count(distinct mention_id) from mentions").fetchone()[0] == sum(
        len(day_run(f"d{w}-{k}", 6, w + k)["mentions"]) for w in (1, 2) for k in range(4))
    assert con.execute("select count(*) from runs").fetchone()[0] == 8
    _marts_equal_a_recount(con)
    # The workers did meet, and their loads took turns at the writer lock: one waited for the other, and
    # none had its commit conflict and its work thrown away.
    first, second = ([(o["began"], o["ended"]) for o in worker] for worker in outs)
    assert first[0][0] < second[-1][1] and second[0][0] < first[-1][1], outs
    assert max(o["lock_wait"] for worker in outs for o in worker) > 0.05, outs
    assert {o["attempts"] for worker in outs for o in worker} == {1}, outs
    con.close()


def _commit_a_conflict_once(target: lake.Lake, done: list):
    """An alert_rows_fn that, the first time it is called (inside the load's transaction), has another
    writer, one that does not take the writer lock, commit a change the load then conflicts with."""
    def alert_rows(con):
        if not done:
            other = store.connect(target)
            other.execute("update load_clock set loads = loads + 1")
            other.close()
            done.append(True)
        return []
    return alert_rows


def test_a_load_whose_commit_conflicts_is_done_again_on_what_the_other_writer_left(lake_target):
    con = store.connect(lake_target)
    frames = day_run("r1", 6, 3)
    out = store.load_run(con, {"run_id": "r1", "kind": "daily", "status": "success", "counts": {}}, frames, [], [],
                         _commit_a_conflict_once(lake_target, []))
    assert out["attempts"] == 2, out
    assert con.execute("select count(*) from articles").fetchone()[0] == len(frames["articles"])
    assert con.execute("select loads from load_clock").fetchone()[0] == 2  # the other writer's, and ours
    _marts_equal_a_recount(con)
    con.close()


def test_a_load_waits_for_the_writer_lock_and_a_failed_load_lets_go_of_it(lake_target):
    import threading

    import psycopg2

    con = store.connect(lake_target)
    holder = psycopg2.connect(lake_target.catalog)
    holder.autocommit = True
    holder.cursor().execute("select pg_advisory_lock(%s)", (lake.WRITER_LOCK,))
    with pytest.raises(lake.LakeError, match="held the lake's writer lock for over 0.5 s"), \
            lake.writer_lock(con, wait_seconds=0.5):
        pass
    done = {}
    loader = threading.Thread(target=lambda: done.update(store.load_run(
        con, {"run_id": "r1", "kind": "daily", "status": "success", "counts": {}}, day_run("r1", 6, 3), [], [])))
    loader.start()
    loader.join(2.0)
    assert loader.is_alive() and not done  # waiting behind the holder, nothing written yet
    holder.close()  # a holder that goes away (a worker that died) lets go of the lock too
    loader.join(60)
    assert done["attempts"] == 1 and done["lock_wait"] >= 1.5, done

    def fails(_con):
        raise RuntimeError("a watchlist rule broke")
    with pytest.raises(RuntimeError, match="watchlist rule broke"):
        store.load_run(con, {"run_id": "r2", "kind": "daily", "status": "success", "counts": {}},
                       day_run("r2", 6, 4), [], [], fails)
    again = store.load_run(con, {"run_id": "r2", "kind": "daily", "status": "success", "counts": {}},
                           day_run("r2", 6, 4), [], [])
    assert again["lock_wait"] < 1.0, again
    assert dict(con.execute("select run_id, count(*) from articles group by 1").fetchall()) == {"r1": 6, "r2": 6}
    con.close()


def test_two_loads_of_the_same_run_at_once_leave_what_one_leaves(lake_target, tmp_path):
    _in_processes(lake_target, [[("same", 5)] * 3, [("same", 5)] * 3])
    con = store.connect(lake_target, read_only=True)
    twice = {t: con.execute(f"select * from {t} order by all").fetchall()
             for t in ("articles", "mentions", "entity_daily", "entity_forms", "entities", "search_postings")}
    con.close()
    once = new_lake(tmp_path / "once")
    try:
        con = store.connect(once)
        store.load_run(con, {"run_id": "same", "kind": "daily", "status": "success", "counts": {}},
                       day_run("same", 6, 5), [], [])
        assert {t: con.execute(f"select * from {t} order by all").fetchall() for t in twice} == twice
        con.close()
    finally:
        drop_lake(once)


def _read_while_loading(target: lake.Lake, until: float) -> list[str]:
    """A reader process: until `until`, read every committed run and check it is whole."""
    import duckdb

    con = duckdb.connect(config=store.offline_config())
    store.load_extensions(con)
    lake.attach(con, target, read_only=True)
    problems, reads = [], 0
    while time.time() < until:
        con.begin()  # one snapshot for both reads
        held = dict(con.execute("select run_id, count(*) from articles group by run_id").fetchall())
        runs = {r[0] for r in con.execute("select run_id from runs").fetchall()}
        con.commit()
        reads += 1
        if set(held) != runs or any(n != 6 for n in held.values()):
            problems.append(f"read {reads}: runs {sorted(runs)}, articles per run {held}")
    con.close()
    return problems + [f"reads: {reads}"]


def test_a_reader_attached_read_only_sees_whole_runs_while_loads_commit(lake_target):
    store.connect(lake_target).close()
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(1) as pool:
        reading = pool.apply_async(_read_while_loading, (lake_target, time.time() + 20))
        con = store.connect(lake_target)
        time.sleep(4)
        for k in range(10):
            store.load_run(con, {"run_id": f"r{k}", "kind": "daily", "status": "success", "counts": {}},
                           day_run(f"r{k}", 6, k), [], [])
        con.close()
        seen = reading.get(timeout=60)
    assert seen[:-1] == [] and int(seen[-1].split()[-1]) > 10, seen


def test_export_as_of_a_snapshot_or_a_time_writes_the_tables_as_they_stood(lake_target, tmp_path, monkeypatch, capsys):
    con = store.connect(lake_target)
    store.load_run(con, {"run_id": "r1", "kind": "daily", "status": "success", "counts": {}},
                   day_run("r1", 6, 1), [], [])
    first = lake.snapshot(con)
    time.sleep(1.1)
    between = con.execute("select strftime(now() at time zone 'UTC', '%Y-%m-%d %H:%M:%S')").fetchone()[0]
    time.sleep(1.1)
    store.load_run(con, {"run_id": "r2", "kind": "daily", "status": "success", "counts": {}},
                   day_run("r2", 6, 2), [], [])
    con.close()
    monkeypatch.setenv("NEWSMON_STORAGE", "ducklake")
    monkeypatch.setenv("NEWSMON_LAKE_CATALOG", lake_target.catalog)
    monkeypatch.setenv("NEWSMON_LAKE_DATA", lake_target.data)
    for as_of, folder in ((str(first), "by-id"), (between, "by-time")):
        assert cli.main(["export", "--as-of", as_of, "--to", str(tmp_path / folder)]) == 0
        manifest = json.loads((tmp_path / folder / "manifest.json").read_text())
        assert manifest["as_of"]["snapshot"] == first and manifest["as_of"]["backend"] == "ducklake"
        articles = pd.read_parquet(tmp_path / folder / "articles.parquet")
        assert set(articles["run_id"]) == {"r1"} and len(articles) == 6
    assert f"--as-of {first}" in capsys.readouterr().out
    # Now: both runs; the export names the snapshot it took, so it can be taken again.
    assert cli.main(["export", "--to", str(tmp_path / "now")]) == 0
    manifest = json.loads((tmp_path / "now" / "manifest.json").read_text())
    assert manifest["as_of"]["snapshot"] > first
    assert set(pd.read_parquet(tmp_path / "now" / "articles.parquet")["run_id"]) == {"r1", "r2"}
    # Bad snapshots are refused with the reason, and write nothing.
    assert cli.main(["export", "--as-of", "999999", "--to", str(tmp_path / "bad")]) == 2
    assert cli.main(["export", "--as-of", "1999-01-01", "--to", str(tmp_path / "bad")]) == 2
    assert cli.main(["export", "--as-of", "last tuesday", "--to", str(tmp_path / "bad")]) == 2
    assert not (tmp_path / "bad").exists()
    assert "no snapshot 999999" in capsys.readouterr().err


def test_the_embedded_file_exports_its_current_state_and_says_so(tmp_path):
    path = tmp_path / "n.duckdb"
    con = store.connect(path)
    store.load_run(con, {"run_id": "r1", "kind": "daily", "status": "success", "counts": {}},
                   day_run("r1", 6, 1), [], [])
    con.close()
    manifest = transfer.export_database(path, tmp_path / "out", as_of="3")
    assert manifest["as_of"]["backend"] == "duckdb" and manifest["as_of"]["snapshot"] is None
    assert "keeps no history" in manifest["as_of"]["note"] and "as of 3" in manifest["as_of"]["note"]
    assert len(pd.read_parquet(tmp_path / "out" / "articles.parquet")) == 6


def test_migrations_become_ducklake_ddl():
    sql = ("create table t (id varchar primary key, n integer not null default 0, ok boolean default false,\n"
           "    at timestamp default current_timestamp, unique (n), primary key (id, n));\n"
           "create or replace macro m(x) as x;")
    assert lake.for_lake(sql) == ("create table t (id varchar, n integer not null default 0, ok boolean "
                                  "default 'false',\n    at timestamp);\ncreate or replace temp macro m(x) as x;")


def test_a_missing_catalog_is_a_clear_error_without_its_password(tmp_path):
    target = lake.Lake("host=127.0.0.1 port=5432 user=postgres password=hunter2 dbname=newsmon_no_such_db "
                       "connect_timeout=3", str(tmp_path / "lake"))
    with pytest.raises(lake.LakeError, match="NEWSMON_LAKE_CATALOG") as failed:
        store.connect(target)
    assert "hunter2" not in str(failed.value) and failed.value.__cause__ is None
    assert not store.exists(target)


def test_a_lake_with_its_data_on_s3_keeps_nothing_on_local_disk(tmp_path, s3, monkeypatch):
    s3.make_bucket("newsmon")
    monkeypatch.chdir(tmp_path)
    target = new_lake(tmp_path)
    target = lake.Lake(target.catalog, "s3://newsmon/lake/", lake.S3(s3.url, "us-east-1", "test", "test"))
    try:
        con = store.connect(target)
        for k in range(3):
            store.load_run(con, {"run_id": f"r{k}", "kind": "daily", "status": "success", "counts": {}},
                           day_run(f"r{k}", 6, k), [], [])
        con.close()
        keys = s3.keys("newsmon")
        assert keys and all(k.startswith("lake/") and k.endswith(".parquet") for k in keys)
        assert any("/articles/" in k for k in keys) and any("/search_postings/" in k for k in keys)
        assert sorted(p.name for p in tmp_path.iterdir()) == ["moto.log"]  # nothing written beside it
        reader = store.connect(target, read_only=True)
        assert reader.execute("select count(*) from articles").fetchone()[0] == 18
        assert reader.execute("select count(*) from search('r1')").fetchone()[0] == 6  # the titles' words
        reader.close()
    finally:
        drop_lake(target)


def test_optimize_merges_the_lake_files_and_expires_old_snapshots_on_request(lake_target, monkeypatch, capsys):
    con = store.connect(lake_target)
    for k in range(4):
        store.load_run(con, {"run_id": f"r{k}", "kind": "daily", "status": "success", "counts": {}},
                       day_run(f"r{k}", 6, k), [], [])
    before = con.execute("select * from articles order by all").fetchall()
    con.close()
    for k, v in (("NEWSMON_STORAGE", "ducklake"), ("NEWSMON_LAKE_CATALOG", lake_target.catalog),
                 ("NEWSMON_LAKE_DATA", lake_target.data)):
        monkeypatch.setenv(k, v)
    assert cli.main(["db", "optimize"]) == 0
    out = capsys.readouterr().out
    files, after = map(int, re.search(r"lake files (\d+) -> (\d+)", out).groups())
    assert after < files
    assert cli.main(["db", "optimize", "--expire-days", "0"]) == 0
    snapshots = re.search(r"snapshots (\d+) -> (\d+)", capsys.readouterr().out).groups()
    assert int(snapshots[1]) < int(snapshots[0])
    con = store.connect(lake_target, read_only=True)
    assert con.execute("select * from articles order by all").fetchall() == before
    assert con.execute("select count(*) from search('r2')").fetchone()[0] == 6
    con.close()
    # A DuckDB file has no snapshots to expire: said, not ignored.
    monkeypatch.setenv("NEWSMON_STORAGE", "duckdb")
    assert cli.main(["db", "optimize", "--expire-days", "3"]) == 2


def test_staging_and_raw_pages_go_to_object_storage_with_the_data_url(tmp_path, s3, monkeypatch):
    from pipelines.settings import REPO_ROOT

    s3.make_bucket("newsmon")
    target = new_lake(tmp_path)
    env = {"NEWSMON_DATA_DIR": str(tmp_path / "data"), "NEWSMON_STORAGE": "ducklake",
           "NEWSMON_LAKE_CATALOG": target.catalog, "NEWSMON_LAKE_DATA": "s3://newsmon/lake/",
           "NEWSMON_DATA_URL": "s3://newsmon/files", "NEWSMON_S3_ENDPOINT": s3.url, "NEWSMON_S3_KEY_ID": "k",
           "NEWSMON_S3_SECRET": "s", "NEWSMON_WATCHLIST": str(REPO_ROOT / "demo" / "watchlist.yaml")}
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    try:
        assert cli.main(["ingest", str(REPO_ROOT / "demo" / "site" / "articles")]) == 0
        keys = s3.keys("newsmon")
        raw = [k for k in keys if k.startswith("files/raw/")]
        staged = {k.rsplit("/", 1)[1] for k in keys if k.startswith("files/staging/")}
        assert len(raw) == 24 and all(k.endswith(".gz") for k in raw)
        assert {"run.json", "articles.parquet", "mentions.parquet", "dq.json", "counts_load.json"} <= staged
        assert any(k.startswith("lake/") for k in keys)
        local = {p.relative_to(tmp_path / "data").parts[0] for p in (tmp_path / "data").rglob("*")}
        assert not local & {"staging", "raw", "quarantine", "newsmon.duckdb"}, local
        con = store.connect(Settings.from_env().database, read_only=True)
        assert con.execute("select count(*) from articles").fetchone()[0] == 24
        con.close()
        # A rerun reads the raw pages back from the bucket and changes nothing.
        assert cli.main(["ingest", str(REPO_ROOT / "demo" / "site" / "articles")]) == 0
        assert len([k for k in s3.keys("newsmon") if k.startswith("files/raw/")]) == 24
    finally:
        drop_lake(target)


def test_a_writer_connecting_again_commits_nothing(lake_target):
    # Each commit is a lake snapshot: views already as their files say are not made again, so the many
    # connections of a day's tasks leave the lake's history to the loads.
    def snapshots():
        con = store.connect(lake_target)
        n = con.execute("select count(*) from ducklake_snapshots('lake')").fetchone()[0]
        con.close()
        return n

    first = snapshots()
    assert snapshots() == first == snapshots()
    con = store.connect(lake_target)
    con.execute("create or replace view stories as select 1 as stale")  # an older definition
    con.close()
    con = store.connect(lake_target)
    assert "stale" not in [d[0] for d in con.execute("select * from stories limit 0").description]
    con.close()


def test_a_file_moves_to_a_lake_through_export_and_import(tmp_path, lake_target, monkeypatch, capsys):
    path = tmp_path / "n.duckdb"
    con = store.connect(path)
    for k in range(3):
        store.load_run(con, {"run_id": f"r{k}", "kind": "daily", "status": "success", "counts": {}},
                       day_run(f"r{k}", 6, k), [], [])
    tables = [r[0] for r in con.execute("select table_name from duckdb_tables() where not temporary "
                                        "and table_name <> 'schema_version'").fetchall()]
    before = {t: con.execute(f"select * from {t} order by all").fetchall() for t in tables}
    con.close()
    assert cli.main(["db", "export", str(tmp_path / "out"), "--db", str(path)]) == 0
    for k, v in (("NEWSMON_STORAGE", "ducklake"), ("NEWSMON_LAKE_CATALOG", lake_target.catalog),
                 ("NEWSMON_LAKE_DATA", lake_target.data)):
        monkeypatch.setenv(k, v)
    assert cli.main(["db", "import", str(tmp_path / "out")]) == 0
    con = store.connect(lake_target, read_only=True)
    assert {t: con.execute(f"select * from {t} order by all").fetchall() for t in tables} == before
    assert con.execute("select count(*) from search('r1')").fetchone()[0] == 6
    con.close()
    # A lake that holds rows is not imported into.
    assert cli.main(["db", "import", str(tmp_path / "out")]) == 2
    assert "already holds" in capsys.readouterr().err
