"""Every SQL query in docs/analyst.md runs against the demo database; the terminal commands work on it."""

import re

import duckdb
import pytest

from pipelines import cli, store, terminal
from pipelines.settings import REPO_ROOT

DOC = REPO_ROOT / "docs" / "analyst.md"
QUERIES = re.findall(r"```sql\n(.*?)```", DOC.read_text(), re.S)


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory):
    """The demo corpus ingested from its files (no Airflow needed), plus the demo watchlist."""
    data = tmp_path_factory.mktemp("analyst")
    mp = pytest.MonkeyPatch()
    mp.setenv("NEWSMON_DATA_DIR", str(data))
    mp.setenv("NEWSMON_WATCHLIST", str(REPO_ROOT / "demo" / "watchlist.yaml"))
    mp.delenv("NEWSMON_DB", raising=False)
    # One input that does not exist, so the pipeline's own log has something to show.
    assert cli.main(["ingest", str(REPO_ROOT / "demo" / "site" / "articles"), str(data / "missing.html")]) == 0
    yield data
    mp.undo()


def test_the_guide_has_queries():
    assert len(QUERIES) >= 15


@pytest.mark.parametrize("n", range(len(QUERIES)))
def test_every_query_in_the_guide_runs_and_answers(demo_db, n):
    # As an analyst's duckdb session on the snapshot, after `LOAD fts;` (here from the locked wheel).
    con = duckdb.connect(str(store.snapshot_path(demo_db / "newsmon.duckdb")), read_only=True,
                         config=store.offline_config())
    con.execute("load fts")
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
