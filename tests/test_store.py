import duckdb
import pandas as pd
import pytest

from pipelines import store


def test_migrations_apply_once_and_views_exist(tmp_path):
    con = store.connect(tmp_path / "n.duckdb")
    assert con.execute("select count(*) from schema_version").fetchone()[0] >= 1
    assert store.migrate(con) == []  # nothing new the second time
    tables = {r[0] for r in con.execute("select table_name from information_schema.tables").fetchall()}
    assert {"articles", "entities", "mentions", "claims", "dq_results", "alerts", "runs", "fetch_log",
            "actor_daily"} <= tables
    con.close()


def frames(aid="a1", text="Kyiv is a city.", surface="Kyiv"):
    return {
        "articles": pd.DataFrame([{"article_id": aid, "url": f"file:///{aid}", "source": "t", "title": "T",
                                   "published_at": None, "language": "en", "text": text, "word_count": 4,
                                   "content_hash": "h", "fetched_at": pd.Timestamp("2026-11-24"),
                                   "run_id": "r1"}]),
        "entities": pd.DataFrame([{"entity_id": "e1", "name": "Kyiv", "type": "LOCATION", "country_code": "UA",
                                   "latitude": 50.4, "longitude": 30.5, "geonames_id": 703448,
                                   "precision": "city"}]),
        "mentions": pd.DataFrame([{"mention_id": "m1", "article_id": aid, "entity_id": "e1", "surface": surface,
                                   "form": "Kyiv", "start_char": 0, "end_char": 4, "sentence_index": 0,
                                   "label": "GPE"}]),
        "claims": pd.DataFrame(columns=["claim_id", "article_id", "kind", "text", "start_char", "end_char"]),
    }


RUN = {"run_id": "r1", "kind": "ingest", "status": "success", "counts": {"kept": 1}}


def test_a_failing_load_leaves_the_database_as_it_was(tmp_path):
    con = store.connect(tmp_path / "n.duckdb")
    store.load_run(con, RUN, frames(), [], [])
    before = con.execute("select * from articles").fetchall()

    def explode(_con):
        raise RuntimeError("crash in the middle of the load")

    with pytest.raises(RuntimeError):
        store.load_run(con, RUN, frames(text="Kyiv changed."), [], [], alert_rows_fn=explode)
    assert con.execute("select * from articles").fetchall() == before
    assert con.execute("select name, aliases from entities").fetchall() == [("Kyiv", [])]


def test_reloading_a_run_replaces_its_rows_and_recomputes_aliases(tmp_path):
    con = store.connect(tmp_path / "n.duckdb")
    store.load_run(con, RUN, frames(), [], [])
    store.load_run(con, RUN, frames(text="Kiev is a city.", surface="Kiev"), [], [])
    assert con.execute("select count(*) from articles").fetchone()[0] == 1
    assert con.execute("select name, aliases from entities").fetchall() == [("Kyiv", ["Kiev"])]


def test_a_reader_process_blocks_writers_with_a_clear_error(tmp_path):
    path = tmp_path / "n.duckdb"
    store.connect(path).close()
    import subprocess
    import sys
    holder = subprocess.Popen([sys.executable, "-c", f"import duckdb,time; c=duckdb.connect({str(path)!r}); "
                               "print('ready', flush=True); time.sleep(30)"], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "ready"
        with pytest.raises(store.DatabaseBusy, match="in use"):
            store.connect(path, wait_seconds=1)
    finally:
        holder.kill()
        holder.wait()
    assert isinstance(store.connect(path), duckdb.DuckDBPyConnection)
