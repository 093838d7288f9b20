import duckdb
import pandas as pd
import pytest

from pipelines import store


def test_migrations_apply_once_and_views_exist(database):
    con = store.connect(database)
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
        "mentions": pd.DataFrame([{"mention_id": f"{aid}-m1", "article_id": aid, "entity_id": "e1", "surface": surface,
                                   "form": "Kyiv", "start_char": 0, "end_char": 4, "sentence_index": 0,
                                   "label": "GPE"}]),
        "claims": pd.DataFrame(columns=["claim_id", "article_id", "kind", "text", "start_char", "end_char"]),
    }


RUN = {"run_id": "r1", "kind": "ingest", "status": "success", "counts": {"kept": 1}}


def test_a_failing_load_leaves_the_database_as_it_was(database):
    con = store.connect(database)
    store.load_run(con, RUN, frames(), [], [])
    before = con.execute("select * from articles").fetchall()

    def explode(_con):
        raise RuntimeError("crash in the middle of the load")

    with pytest.raises(RuntimeError):
        store.load_run(con, RUN, frames(text="Kyiv changed."), [], [], alert_rows_fn=explode)
    assert con.execute("select * from articles").fetchall() == before
    assert con.execute("select name, aliases from entities").fetchall() == [("Kyiv", [])]


def test_reloading_a_run_replaces_its_rows_and_recomputes_aliases(database):
    con = store.connect(database)
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


def random_run(rng, run_id, pool):
    """A run's frames: articles drawn from a shared pool of ids (so runs overlap and replace each other's
    copies), on a few days, some syndicated copies, with mentions named in several ways."""
    ids = rng.sample(pool, rng.randint(0, 6))
    arts, ments = [], []
    for aid in ids:
        day = rng.choice([None, "2026-11-20", "2026-11-21", "2026-11-22"])
        arts.append({"article_id": aid, "url": f"https://x.test/{aid}", "source": "t", "title": aid,
                     "published_at": pd.Timestamp(day) if day else None, "language": "en", "text": "t",
                     "word_count": 1, "content_hash": aid, "fetched_at": pd.Timestamp("2026-11-24"),
                     "run_id": run_id, "duplicate_of": rng.choice([None, None, "a-first"])})
        for i in range(rng.randint(0, 4)):
            ent = rng.choice(["e1", "e2", "e3"])
            form = rng.choice({"e1": ["Kyiv"], "e2": ["Volodymyr Grotskov", "Grotskov"], "e3": ["NATO"]}[ent])
            ments.append({"mention_id": f"{aid}-{i}", "article_id": aid, "entity_id": ent, "form": form,
                          "surface": rng.choice([form, form.upper(), form.replace(" ", "  ")]), "start_char": 0,
                          "end_char": 1, "sentence_index": 0, "label": "X"})
    mentions = pd.DataFrame(ments, columns=["mention_id", "article_id", "entity_id", "form", "surface",
                                            "start_char", "end_char", "sentence_index", "label"])
    entities = pd.DataFrame([{"entity_id": e, "name": e, "type": "ORG"} for e in sorted(set(mentions["entity_id"]))],
                            columns=["entity_id", "name", "type", "country_code", "latitude", "longitude",
                                     "geonames_id", "precision"])
    return {"articles": pd.DataFrame(arts), "entities": entities, "mentions": mentions,
            "claims": pd.DataFrame(columns=["claim_id", "article_id", "kind", "text", "start_char", "end_char"])}


def test_incremental_marts_match_a_full_recount_after_reruns_and_moves(database):
    """Loads keep entity_daily, entity_forms and entity names by deltas; after any sequence of loads,
    reruns and articles moving between runs they equal what a recount from scratch gives."""
    import random

    rng = random.Random(7)
    con = store.connect(database)
    pool = [f"a{i}" for i in range(12)]
    for step in range(40):
        run_id = f"r{rng.randint(1, 5)}"
        store.load_run(con, {"run_id": run_id, "kind": "daily", "status": "success", "counts": {}},
                       random_run(rng, run_id, pool), [], [])
        daily = con.execute("select * from entity_daily order by all").fetchall()
        store.refresh_entity_daily(con, [r[0] for r in con.execute(
            "select distinct day from entity_daily union select distinct cast(published_at as date) "
            "from articles where published_at is not null").fetchall()])
        assert con.execute("select * from entity_daily order by all").fetchall() == daily, step
        assert con.execute("select * from entity_forms order by all").fetchall() == con.execute("""
            select entity_id, form, regexp_replace(surface, '\\s+', ' ', 'g'), count(*)
            from mentions group by all order by all""").fetchall(), step
        assert con.execute("select entity_id from entities order by 1").fetchall() == con.execute(
            "select distinct entity_id from mentions order by 1").fetchall(), step
        assert con.execute("select entity_id, name from entities order by 1").fetchall() == con.execute("""
            select entity_id, first(form order by n desc, length(form) desc, form)
            from (select entity_id, form, count(*) as n from mentions group by all)
            group by entity_id order by 1""").fetchall(), step
    assert con.execute("select sum(mentions) from entity_daily").fetchone()[0] == con.execute("""
        select count(*) from mentions join articles using (article_id)
        where duplicate_of is null and published_at is not null""").fetchone()[0]


def test_the_snapshot_is_readable_while_the_writer_holds_the_database_and_replaced_atomically(tmp_path):
    import subprocess
    import sys

    path = tmp_path / "n.duckdb"
    con = store.connect(path)
    store.load_run(con, RUN, frames(), [], [])
    snap = store.publish_snapshot(con, path)
    count = "select count(*) from articles"
    reader = subprocess.Popen(
        [sys.executable, "-c", f"import duckdb,sys; c=duckdb.connect({str(snap)!r}, read_only=True); "
         f"print(c.execute({count!r}).fetchone()[0], flush=True); sys.stdin.readline(); "
         f"print(c.execute({count!r}).fetchone()[0], flush=True)"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert reader.stdout.readline().strip() == "1"  # the writer still holds n.duckdb open
        store.load_run(con, {**RUN, "run_id": "r2"}, frames(aid="a2"), [], [])
        store.publish_snapshot(con, path)  # while the reader holds the old snapshot
        reader.stdin.write("\n")
        reader.stdin.flush()
        assert reader.stdout.readline().strip() == "1"  # its view stays consistent
    finally:
        reader.kill()
        reader.wait()
    fresh = duckdb.connect(str(snap), read_only=True)
    assert fresh.execute(count).fetchone()[0] == 2
    assert fresh.execute("select count(*) from entity_forms").fetchone()[0] == 1


def test_a_run_without_mentions_loads_its_alerts_whatever_types_its_empty_frames_have(database, tmp_path):
    # Staging gives an empty frame back from Parquet with null-typed (object or float) columns; DuckDB 1.4
    # took them for numbers and the alerts' join of mentions with articles failed to cast the ids.
    from datetime import datetime

    from pipelines import alerts

    now = datetime(2026, 11, 25)
    con = store.connect(database)
    store.load_run(con, RUN, frames(), [], [])  # an entity to join with
    empty = pd.DataFrame({c: pd.Series([], dtype=t) for c, t in [
        ("mention_id", "float64"), ("article_id", "float64"), ("entity_id", object), ("surface", object),
        ("form", object), ("start_char", "float64"), ("end_char", "float64"), ("sentence_index", "float64"),
        ("label", object)]})
    f = frames(text="A city is a city.")
    f["mentions"] = empty
    (tmp_path / "w.yaml").write_text("rules:\n  - {id: city, keywords: [city]}\n  - {id: kyiv, name: Kyiv}\n")
    watchlist = alerts.load_watchlist(tmp_path / "w.yaml")
    store.load_run(con, RUN, f, [], [], alert_rows_fn=lambda c: alerts.evaluate(c, watchlist, "r1", now, None))
    assert con.execute("select rule_id, article_id from alerts").fetchall() == [("city", "a1")]


def test_a_large_batch_of_new_entities_with_aliases_loads(database):
    # Thousands of entities new in one load, each named two ways: DuckDB 1.4 failed an UPDATE of their
    # aliases (a list column) on rows the same transaction inserted, with a duplicate key.
    con = store.connect(database)
    n = 6000
    f = frames(aid="a1", text="x " * 10)
    f["entities"] = pd.DataFrame([{"entity_id": f"e{i}", "name": f"Name {i}", "type": "PERSON", "country_code": None,
                                   "latitude": None, "longitude": None, "geonames_id": None, "precision": None}
                                  for i in range(n)])
    f["mentions"] = pd.DataFrame([{"mention_id": f"m{i}-{k}", "article_id": "a1", "entity_id": f"e{i}",
                                   "surface": f"{'Mr ' if k else ''}Name {i}", "form": f"Name {i}", "start_char": 0,
                                   "end_char": 1, "sentence_index": 0, "label": "PERSON"}
                                  for i in range(n) for k in range(2)])
    store.load_run(con, RUN, f, [], [])
    assert con.execute("select count(*), count(*) filter (where aliases = ['Mr Name 7']) from entities"
                       ).fetchone() == (n, 1)
