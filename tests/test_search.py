"""Search: the query language, the index the loads keep, attention, the CLI, and the keyword alerts that
use the same parser."""

import csv
import io
import json
import random
import time
from datetime import datetime

import pandas as pd
import pytest

from pipelines import alerts, cli, search, searchindex, store
from pipelines.lake import Lake
from tests.conftest import drop_lake, new_lake

SINCE, UNTIL = datetime(2026, 11, 1), datetime(2026, 12, 1)
CORPUS = {
    # id: (title, text, source, language, day, duplicate_of)
    "a1": ("Port strike in Rotterdam", "Dockworkers began a port strike on Monday over automation.",
           "harbour.example", "en", 20, None),
    "a2": ("Ceasefire talks resume", "Negotiators met in Doha as ceasefire talks for Gaza resumed.",
           "wire.example", "en", 21, None),
    "a3": ("Football: derby ends in ceasefire of sorts", "The football derby in Gaza City ended goalless.",
           "sport.example", "en", 21, None),
    "a4": ("Strikes spread", "Strikers at the port of Antwerp joined; the strike of port workers grows.",
           "harbour.example", "en", 22, None),
    "a5": ("Grève au port de Marseille", "Les dockers de Marseille sont en grève; négociations à Genève.",
           "presse.example", "fr", 22, None),
    "a6": ("Port strike in Rotterdam", "Dockworkers began a port strike on Monday over automation.",
           "copy.example", "en", 22, "a1"),
    "a7": ("Bird flu found on farm", "Avian influenza, bird flu, was confirmed near Kyïv on Tuesday.",
           "wire.example", "en", 23, None),
}


def articles(ids, run_id="r1"):
    rows = []
    for aid in ids:
        title, text, source, lang, day, dup = CORPUS[aid]
        rows.append({"article_id": aid, "url": f"https://{source}/{aid}", "source": source, "title": title,
                     "published_at": pd.Timestamp(2026, 11, day, 9), "language": lang, "text": text,
                     "word_count": len(text.split()), "content_hash": aid, "duplicate_of": dup,
                     "fetched_at": pd.Timestamp(2026, 11, 25), "run_id": run_id})
    return pd.DataFrame(rows)


def empty(columns):
    return pd.DataFrame({c: pd.Series(dtype="string") for c in columns})


def frames(ids, run_id="r1"):
    return {"articles": articles(ids, run_id),
            "entities": empty(["entity_id", "name", "type", "country_code", "latitude", "longitude", "geonames_id",
                               "precision"]),
            "mentions": empty(["mention_id", "article_id", "entity_id", "surface", "form", "start_char", "end_char",
                               "sentence_index", "label"]),
            "claims": empty(["claim_id", "article_id", "kind", "speaker_entity_id", "text", "start_char",
                             "end_char"])}


def load(con, ids, run_id="r1", alert_rows_fn=None):
    store.load_run(con, {"run_id": run_id, "kind": "ingest", "status": "success", "counts": {}}, frames(ids, run_id),
                   [], [], alert_rows_fn=alert_rows_fn)


@pytest.fixture(scope="module", params=["duckdb", "ducklake"])
def db(request, tmp_path_factory):
    """The corpus loaded once per backend for the tests that only read it (a DuckDB file, a lake)."""
    folder = tmp_path_factory.mktemp("search")
    target = folder / "n.duckdb" if request.param == "duckdb" else new_lake(folder)
    con = store.connect(target)
    load(con, sorted(CORPUS))
    yield con
    con.close()
    if request.param == "ducklake":
        drop_lake(target)


def found(con, query, **window):
    return {r[0] for r in con.execute("select article_id from search($q, since := $s, until := $u)",
                                      {"q": query, "s": window.get("since"), "u": window.get("until")}).fetchall()}


@pytest.mark.parametrize("query,expected", [
    ("ceasefire", {"a2", "a3"}),
    ("ceasefire gaza", {"a2", "a3"}),                       # every word: AND is implied
    ("ceasefire NOT football", {"a2"}),
    ("(ceasefire OR flu) AND NOT football", {"a2", "a7"}),
    ("ceasefire OR flu football", {"a2", "a3"}),             # AND binds tighter than OR: a7 has no football
    ("(ceasefire OR flu) football", {"a3"}),
    ('"port strike"', {"a1", "a6"}),                        # in that order
    ('"strike port"', {"a4"}),                              # "strike of port": the stopword is skipped
    ("strikes", {"a1", "a4", "a6"}),                        # stemmed: strike, strikes
    ("strik*", {"a1", "a4", "a6"}),                         # prefix: strike, strikers
    ("KYIV", {"a7"}), ("kyïv", {"a7"}),                     # case and accents folded
    ("greve", {"a5"}),
    ("title:ceasefire", {"a2", "a3"}),
    ('title:"bird flu"', {"a7"}),
    ("title:automation", set()),                            # in the text, not the title
    ("source:harbour.example", {"a1", "a4"}),
    ("lang:fr", {"a5"}),
    ("port AND lang:en", {"a1", "a4", "a6"}),
    ("NOT port", {"a2", "a3", "a7"}),                       # a5's title has "port" too (Grève au port …)
    ("the strike", {"a1", "a4", "a6"}),                     # a stopword drops out beside AND ...
    ("the OR flu", {"a7"}),                                 # ... and beside OR
    ("zzzunknown", set()),
])
def test_the_query_language(db, query, expected):
    assert found(db, query) == expected


def test_a_window_bounds_publication_time(db):
    assert found(db, "port", since=datetime(2026, 11, 21), until=datetime(2026, 11, 23)) == {"a4", "a5", "a6"}


def test_scores_rank_the_article_that_says_it_more_first(db):
    # a2 says "ceasefire" in its title and its text, a3 in its title only.
    rows = db.execute("select article_id, score from search('ceasefire') order by score desc").fetchall()
    assert [a for a, _ in rows] == ["a2", "a3"] and rows[0][1] > rows[1][1] > 0


@pytest.mark.parametrize("query,position,message", [
    ("port AND", 9, "the query ends after AND"),
    ("AND port", 1, "AND needs a word before it"),
    ("port OR OR strike", 9, "OR needs a word before it"),
    ("(port strike", 1, "( is not closed"),
    ("(a) (port", 5, "( is not closed"),
    ("port)", 5, ") closes no ("),
    ("()", 2, "nothing to close before )"),
    ('port "strike', 6, "the quote is not closed"),
    ("*", 1, "a prefix needs 3 letters"),
    ("po*", 1, "a prefix needs 3 letters"),
    ("p*rt", 1, "* may only end a word"),
    ("foo:bar", 1, "unknown field foo"),
    ("title:", 1, "title: needs a word"),
    ("the of and", 11, "nothing to search for"),
    ("", 1, "the query is empty"),
    (" OR ".join(f"w{i}" for i in range(13)), 78, "more than 12 different"),
    ("x" * 10_240, 1001, "longer than 1,000 characters"),
    ("(" * 40 + "x" + ")" * 40, 1, "nested too deeply"),
])
def test_a_syntax_error_names_its_position(db, query, position, message):
    with pytest.raises(search.QueryError) as err:
        search.check(db, query)
    assert str(err.value).startswith(f"position {position}: ") and message in str(err.value)
    # The table macro refuses it the same way, in SQL.
    with pytest.raises(Exception, match=f"position {position}: "):
        db.execute("select * from search($q)", {"q": query}).fetchall()


@pytest.mark.parametrize("query", [
    "port'; drop table articles; --", '"; delete from articles; --"', "port -- strike", "a;b", "'", "\\", "%_%",
    "port\x00strike", "title:'x' OR source:'; drop table search_postings; --", "ß ﬁ Ⅻ 東京", "*" * 50,
])
def test_hostile_queries_are_data_not_sql(db, query):
    t0 = time.monotonic()
    try:
        hits = found(db, query)
        assert hits <= set(CORPUS)
    except Exception as exc:  # a syntax error, said as one
        assert "position" in str(exc)
    assert time.monotonic() - t0 < 5
    assert db.execute("select count(*) from articles").fetchone()[0] == len(CORPUS)
    assert _index(db) == _fresh_index(db)


INDEX_COLUMNS = "run_id, field, term, term_key, article_ids, counts, positions"


def _index(con):
    return sorted(con.execute(f"select {INDEX_COLUMNS} from search_postings").fetchall())


def _terms_cover_the_index(con):
    """Every (field, word) of the index is in the word list that prefixes read, with its key."""
    return con.execute("""select count(*) from (select distinct field, term, term_key from search_postings
                          except select field, term, term_key from search_terms)""").fetchone()[0] == 0


def _fresh_index(con):
    return sorted(con.execute(f"select {INDEX_COLUMNS} from search_index_rows((select list(distinct run_id) "
                              "from articles))").fetchall())


def test_the_index_follows_reruns_moves_and_crashes(database):
    con = store.connect(database)
    load(con, ["a1", "a2", "a7"], "r1")
    assert found(con, "flu") == {"a7"}
    # A rerun of r1 that no longer has a7: search forgets it with the articles.
    load(con, ["a1", "a2"], "r1")
    assert found(con, "flu") == set() and _index(con) == _fresh_index(con)
    # a2 moves to run r2 (a re-ingest): found once, through its new run; r1 is indexed again.
    load(con, ["a2", "a3"], "r2")
    assert found(con, "ceasefire") == {"a2", "a3"} and found(con, "ceasef*") == {"a2", "a3"}
    assert _index(con) == _fresh_index(con) and _terms_cover_the_index(con)
    assert con.execute("select run_id, articles from search_runs order by run_id").fetchall() == [("r1", 1), ("r2", 2)]
    # A crash in the middle of a load leaves articles and index as they were.
    before = _index(con)

    def explode(_con):
        raise RuntimeError("crash during the load")

    with pytest.raises(RuntimeError):
        load(con, ["a4", "a7"], "r3", alert_rows_fn=explode)
    assert _index(con) == before and found(con, "flu") == set()
    # A run the index does not hold (loaded by a version without search, imported from an old export) is
    # indexed by the next load ...
    con.execute("delete from search_postings where run_id = 'r2'")
    con.execute("delete from search_runs where run_id = 'r2'")
    assert found(con, "ceasefire") == set()
    load(con, ["a5"], "r4")
    assert found(con, "ceasefire") == {"a2", "a3"} and _index(con) == _fresh_index(con)
    # ... and by opening the database for writing.
    con.execute("delete from search_runs")
    con.execute("delete from search_postings")
    con.close()
    con = store.connect(database)
    assert found(con, "ceasefire") == {"a2", "a3"} and _index(con) == _fresh_index(con)
    assert _terms_cover_the_index(con)
    con.close()


def test_attention_counts_a_syndicated_story_once_with_its_share(db):
    rows = search.attention(db, '"port strike"', SINCE, UNTIL)
    by_day = {r["period"]: (r["stories"], r["all_stories"], r["share"]) for r in rows}
    # a6 is a copy of a1: on the 22nd it is the story a1 again, beside a4 and a5.
    assert by_day["2026-11-20"] == (1, 1, 1.0)
    assert by_day["2026-11-22"] == (1, 3, round(1 / 3, 4))
    assert by_day["2026-11-21"] == (0, 2, 0.0)
    weeks = search.attention(db, "strike", SINCE, UNTIL, per="week")
    # 22 November 2026 is a Sunday: a1 and a4 are week 47's stories, week 48 has none about strikes.
    assert {r["period"]: r["stories"] for r in weeks} == {"2026-W47": 2, "2026-W48": 0}
    langs = {r["period"]: r["stories"] for r in search.attention(db, "port", SINCE, UNTIL, per="language")}
    assert langs == {"en": 2, "fr": 1}


def test_best_stories_mark_the_match_and_show_a_story_once(db):
    rows = search.best_stories(db, "strike", SINCE, UNTIL)
    assert [r["story_id"] for r in rows].count("a1") == 1
    assert {r["story_id"] for r in rows} == {"a1", "a4"}
    a4 = next(r for r in rows if r["article_id"] == "a4")
    assert "«Strikers»" in a4["snippet"] or "«strike»" in a4["snippet"]


def test_keyword_alerts_and_search_select_the_same_stories(database, tmp_path):
    query = "(ceasefire OR flu OR strike) NOT football"
    wl_path = tmp_path / "watchlist.yaml"
    wl_path.write_text(f"rules:\n  - id: topic\n    query: '{query}'\n  - id: old\n    keywords: [port strike]\n")
    watchlist = alerts.load_watchlist(wl_path)
    con = store.connect(database)
    load(con, sorted(CORPUS), "r1",
         alert_rows_fn=lambda c: alerts.evaluate(c, watchlist, "r1", datetime(2026, 11, 25), None))
    fired = {(r[0], r[1]) for r in con.execute("select rule_id, article_id from alerts").fetchall()}
    stories = con.execute("""select distinct coalesce(a.duplicate_of, a.article_id) from search($q) as s
                             join articles as a using (article_id)""", {"q": query}).fetchall()
    assert {a for rule, a in fired if rule == "topic"} == {r[0] for r in stories} == {"a1", "a2", "a4", "a7"}
    assert {a for rule, a in fired if rule == "old"} == {"a1"}
    snippets = dict(con.execute("select article_id, snippet from alerts where rule_id = 'topic'").fetchall())
    assert "«flu»" in snippets["a7"] and "«ceasefire»" in snippets["a2"]
    con.close()


def test_a_watchlist_query_that_does_not_parse_is_refused_with_the_rule(tmp_path):
    path = tmp_path / "watchlist.yaml"
    path.write_text("rules:\n  - id: broken\n    query: 'ceasefire AND (gaza'\n")
    with pytest.raises(alerts.WatchlistError, match=r"rules\[0\] \(broken\).*position 15: \( is not closed"):
        alerts.load_watchlist(path)


def test_newsmon_search_in_the_terminal(database, monkeypatch, capsys):
    con = store.connect(database)
    load(con, sorted(CORPUS))
    con.close()
    if isinstance(database, Lake):
        for k, v in (("NEWSMON_STORAGE", "ducklake"), ("NEWSMON_LAKE_CATALOG", database.catalog),
                     ("NEWSMON_LAKE_DATA", database.data)):
            monkeypatch.setenv(k, v)
    where = [] if isinstance(database, Lake) else ["--db", str(database)]
    argv = ["search", *where, "--from", "2026-11-20", "--to", "2026-11-23"]
    assert cli.main(argv + ["strike", "--top", "5"]) == 0
    out = capsys.readouterr().out
    assert "strike: 3 of 7 stories" in out and "Top sources" in out and "harbour.example" in out
    assert "«" in out and "https://harbour.example/a4" in out
    assert cli.main(argv + ["strike", "--csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [(r["period"], r["stories"], r["all_stories"]) for r in rows] == [
        ("2026-11-20", "1", "1"), ("2026-11-21", "0", "2"), ("2026-11-22", "2", "3"), ("2026-11-23", "0", "1")]
    assert cli.main(argv + ["port", "--by", "source", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert {r["period"]: r["stories"] for r in doc["attention"]}["harbour.example"] == 2
    assert {s["story_id"] for s in doc["stories"]} == {"a1", "a4", "a5"}
    # A syntax error: one line that names the position, exit status 2.
    assert cli.main(argv + ["port AND (strike"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["newsmon: error: query: position 10: ( is not closed"]


def test_compaction_rewrites_the_index_in_word_order_and_changes_no_answer(database):
    con = store.connect(database)
    for i, aid in enumerate(sorted(CORPUS)):  # one run per article: the index in run order, words mixed
        load(con, [aid], f"r{i}")
    queries = ["ceasefire", '"port strike"', "strik* NOT football", "lang:fr OR flu"]
    before = {q: found(con, q) for q in queries}
    assert searchindex.needs_compaction(con)  # seven runs indexed since the index was last compacted
    rows = con.execute("select count(*) from search_postings").fetchone()[0]
    assert searchindex.compact(con) == rows
    assert {q: found(con, q) for q in queries} == before
    stored = con.execute("select term_key, run_id from search_postings").fetchall()
    assert stored == sorted(stored) and not searchindex.needs_compaction(con)
    load(con, ["a1"], "r-new")  # a later load appends its run, not yet compacted
    assert con.execute("select count(*) from search_runs where not compacted").fetchone()[0] == 1
    con.close()



def test_a_phrase_is_its_words_one_after_another_as_the_text_says(database):
    # The index's positions against the text itself: random texts over a few words (stopwords, plurals and
    # repeats among them) and every phrase of two or three of them, "new new" and "port of port" too.
    rng = random.Random(20)
    vocabulary = ["port", "ports", "strike", "striking", "new", "york", "the", "of", "workers", "Port-Strike"]
    con = store.connect(database)
    frame = articles(["a1"] * 60)
    frame["article_id"] = [f"r{i:02}" for i in range(60)]
    frame["title"] = [" ".join(rng.choices(vocabulary, k=3)) for _ in range(60)]
    frame["text"] = [" ".join(rng.choices(vocabulary, k=rng.randint(0, 12))) for _ in range(60)]
    store.load_run(con, {"run_id": "r1", "kind": "ingest", "status": "success", "counts": {}},
                   {**frames([]), "articles": frame}, [], [])
    phrases = {" ".join(rng.choices(vocabulary[:6], k=rng.randint(2, 3))) for _ in range(80)}
    phrases |= {"new new", "port of port", "ports strike"}
    for phrase in sorted(phrases):
        for field, prefix in (("text", ""), ("title", "title:")):
            expected = {r[0] for r in con.execute(
                "select article_id from articles where contains("
                "' ' || array_to_string(search_words(search_field(title, text, $f)), ' ') || ' ', "
                "' ' || array_to_string(search_words($p), ' ') || ' ')", {"f": field, "p": phrase}).fetchall()}
            assert found(con, f'{prefix}"{phrase}"') == expected, (field, phrase)
    assert found(con, '"port strike"')  # the random texts do hold the commonest phrase
    con.close()


def test_an_index_from_before_positions_is_built_again(database):
    # A database indexed before migration 011 has no positions: opening it for writing indexes it again.
    con = store.connect(database)
    load(con, sorted(CORPUS))
    con.execute("alter table search_postings drop column positions")
    con.execute("delete from schema_version where version = 11")
    con.close()
    con = store.connect(database)
    assert found(con, '"port strike"') == {"a1", "a6"} and found(con, '"strike port"') == {"a4"}
    assert _index(con) == _fresh_index(con)
    assert con.execute("select count(*) from search_postings where positions is null").fetchone()[0] == 0
    con.close()


def test_an_index_from_before_keys_gets_them_in_key_order_without_indexing_again(database):
    # Migration 012 keys the rows a database already holds (the expression is search_key's, written out
    # because macros come after migrations) and rewrites them in key order; no run is indexed again.
    con = store.connect(database)
    for i, aid in enumerate(sorted(CORPUS)):
        load(con, [aid], f"r{i}")
    fresh = _fresh_index(con)
    con.execute("alter table search_postings drop column term_key")
    con.execute("drop table search_terms")
    con.execute("delete from schema_version where version = 12")
    con.execute("update search_runs set compacted = true")
    con.close()
    con = store.connect(database)
    assert _index(con) == fresh
    keys = con.execute("select term_key, run_id from search_postings").fetchall()
    assert keys == sorted(keys) and None not in {k for k, _ in keys}
    assert con.execute("select count(*) from search_postings where term_key <> search_key(field, term)"
                       ).fetchone()[0] == 0
    assert con.execute("select bool_and(compacted) from search_runs").fetchone()[0]  # nothing indexed again
    assert _terms_cover_the_index(con)
    assert found(con, '"port strike"') == {"a1", "a6"} and found(con, "strik* NOT football")
    con.close()
