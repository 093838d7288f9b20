"""Every SQL query in docs/analyst.md runs against the demo database, on both backends (the DuckDB file's
snapshot; a lake attached read-only, as the guide's ATTACH line does); the terminal commands work on it."""

import json
import re

import duckdb
import pytest

from pipelines import cli, store, terminal
from pipelines.settings import REPO_ROOT
from tests.conftest import drop_lake, new_lake

DOC = REPO_ROOT / "docs" / "analyst.md"
QUERIES = re.findall(r"```sql\n(.*?)```", DOC.read_text(), re.S)


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """The demo corpus ingested from its files into a DuckDB file (no Airflow needed), plus the demo
    watchlist: (data folder, the environment that names it)."""
    data = tmp_path_factory.mktemp("analyst")
    env = {"NEWSMON_DATA_DIR": str(data), "NEWSMON_WATCHLIST": str(REPO_ROOT / "demo" / "watchlist.yaml")}
    yield from _ingested(data, env)


@pytest.fixture(scope="module")
def demo_db(demo):
    return demo[0]


@pytest.fixture(scope="module")
def demo_lake(tmp_path_factory):
    """The same ingest into a lake (NEWSMON_STORAGE=ducklake): the pipeline's stages, checks and alerts on
    the other backend; (lake, the environment that names it)."""
    data = tmp_path_factory.mktemp("analyst-lake")
    lake = new_lake(data)
    env = {"NEWSMON_DATA_DIR": str(data), "NEWSMON_WATCHLIST": str(REPO_ROOT / "demo" / "watchlist.yaml"),
           "NEWSMON_STORAGE": "ducklake", "NEWSMON_LAKE_CATALOG": lake.catalog, "NEWSMON_LAKE_DATA": lake.data}
    try:
        for _, named in _ingested(data, env):
            yield lake, named
    finally:
        drop_lake(lake)


def _ingested(data, env):
    mp = pytest.MonkeyPatch()
    for k, v in env.items():
        mp.setenv(k, v)
    mp.delenv("NEWSMON_DB", raising=False)
    try:
        # One input that does not exist, so the pipeline's own log has something to show (the same path for
        # both backends: an ingest's run id is a hash of its inputs).
        assert cli.main(["ingest", str(REPO_ROOT / "demo" / "site" / "articles"),
                         str(REPO_ROOT / "demo" / "missing.html")]) == 0
        yield data, env
    finally:
        mp.undo()


def _guide_connection(backend, demo_db, request):
    """A duckdb session as the guide opens one: the snapshot file read-only with `LOAD fts;`, or the lake
    attached read-only with the macros `newsmon db macros` prints read in."""
    if backend == "duckdb":
        con = duckdb.connect(str(store.snapshot_path(demo_db / "newsmon.duckdb")), read_only=True,
                             config=store.offline_config())
        con.execute("load fts")
        return con
    lake, _ = request.getfixturevalue("demo_lake")
    con = duckdb.connect(config=store.offline_config())
    con.execute("load postgres_scanner; load ducklake")
    con.execute(lake.attach_sql(read_only=True))
    con.execute("use lake")
    con.execute(store.macros_sql(for_lake=True))
    return con


def test_the_guide_has_queries():
    assert len(QUERIES) >= 15


@pytest.mark.parametrize("backend", ["duckdb", "ducklake"])
@pytest.mark.parametrize("n", range(len(QUERIES)))
def test_every_query_in_the_guide_runs_and_answers(demo_db, backend, n, request):
    # As an analyst's duckdb session (the extensions from the locked wheels).
    con = _guide_connection(backend, demo_db, request)
    try:
        cur = con.execute(QUERIES[n])
        columns, rows = [d[0] for d in cur.description], cur.fetchall()
    finally:
        con.close()
    assert rows, QUERIES[n]
    # Every column the question asks for is answered somewhere: a join or a renamed column that went
    # wrong gives rows of nulls, which "some rows came back" does not see.
    # (The demo is loaded by `ingest`, which has no window: window_start is null there by design.)
    empty = [c for i, c in enumerate(columns) if all(r[i] is None for r in rows) and c != "window_start"]
    assert empty == [], QUERIES[n]


def test_trends_and_quotes_in_the_terminal(demo_db, monkeypatch, capsys):
    monkeypatch.setenv("NEWSMON_DATA_DIR", str(demo_db))
    assert cli.main(["trends", "--date", "2026-11-24", "--limit", "3"]) == 0
    out = capsys.readouterr().out
    assert "Top entities, 2026-11-24" in out and "Rising on 2026-11-24" in out and "Amina Wanjiru" in out
    assert re.search(r"[▁▂▃▄▅▆▇█]{14}", out)
    assert cli.main(["trends", "--from", "2026-11-20", "--to", "2026-11-24", "--type", "ORG"]) == 0
    out = capsys.readouterr().out
    assert "Meridian Port Holdings" in out and "LOCATION" not in out
    assert cli.main(["quotes", "--speaker", "Kellerman", "--limit", "50"]) == 0
    out = capsys.readouterr().out
    assert "Marta Kellerman" in out and "file://" in out and "Tomas Okafor" not in out
    assert cli.main(["quotes", "--speaker", "Marta Kellerman", "--about", "Rotterdam"]) == 0
    assert "Rotterdam" in capsys.readouterr().out
    # Only what it is about: every speaker's quotes naming the place, Kellerman's among them.
    assert cli.main(["quotes", "--about", "Rotterdam", "--limit", "50"]) == 0
    about = capsys.readouterr().out
    assert "Rotterdam" in about and "Marta Kellerman" in about
    assert cli.main(["quotes", "--speaker", "Nobody At All"]) == 1
    # A name with quotes and SQL in it is a bound parameter, not SQL.
    assert cli.main(["quotes", "--speaker", "x' or 1=1; --"]) == 1


def test_sparklines_scale_to_the_maximum():
    assert terminal.sparkline([0, 1, 2, 4]) == "▁▃▅█" and terminal.sparkline([0, 0]) == "▁▁"


def test_analysts_can_read_while_the_pipeline_holds_the_live_file(demo_db, monkeypatch, capsys):
    import subprocess
    import sys

    live = demo_db / "newsmon.duckdb"
    holder = subprocess.Popen([sys.executable, "-c", f"import duckdb,time; c=duckdb.connect({str(live)!r}); "
                               "print('ready', flush=True); time.sleep(60)"], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "ready"
        monkeypatch.setenv("NEWSMON_DATA_DIR", str(demo_db))
        assert cli.main(["sql", "select count(*) as n from articles"]) == 0
        assert "24" in capsys.readouterr().out
    finally:
        holder.kill()
        holder.wait()


def test_both_backends_answer_every_query_in_the_guide_alike(demo_db, request):
    # The same ingest, the same answers: each query's rows as a multiset, without its closing LIMIT (which
    # may cut between ties in either order).
    lake_con = _guide_connection("ducklake", demo_db, request)
    file_con = _guide_connection("duckdb", demo_db, request)
    try:
        for query in QUERIES:
            whole = re.sub(r"\s+limit\s+\d+\s*;?\s*$", "", query.strip(), flags=re.I)
            rows = [sorted(map(repr, c.execute(whole).fetchall())) for c in (file_con, lake_con)]
            assert rows[0] == rows[1], query
    finally:
        lake_con.close()
        file_con.close()


def test_the_terminal_reads_the_lake(demo_lake, monkeypatch, capsys):
    _, env = demo_lake
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    assert cli.main(["sql", "select count(*) as n from articles"]) == 0
    assert "24" in capsys.readouterr().out
    assert cli.main(["search", "port strike", "--top", "3", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["stories"]
    assert cli.main(["trends", "--date", "2026-11-24", "--limit", "3"]) == 0
    assert "Amina Wanjiru" in capsys.readouterr().out
