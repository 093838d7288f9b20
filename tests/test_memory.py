"""Entity memory: names the corpus, the watchlist and the alias table know are found in later articles,
in every language, with their known type; common words are guarded; hostile input stays bounded."""

import json
import time

import duckdb
import pytest

from pipelines import cli, entities, memory
from pipelines.settings import DEFAULT_MODEL as MODEL


@pytest.fixture
def env(settings, monkeypatch):
    monkeypatch.setenv("NEWSMON_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("NEWSMON_WATCHLIST", str(settings.watchlist_path))
    monkeypatch.delenv("NEWSMON_DB", raising=False)
    return settings


def _mentions(db, url_part: str) -> set[tuple[str, str]]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return set(con.execute("""select m.surface, e.type from mentions m join articles a using (article_id)
                                  join entities e using (entity_id) where a.url like $u""",
                               {"u": f"%{url_part}%"}).fetchall())
    finally:
        con.close()


def _blank_with_memory(tmp_path, names: list[memory.Name], extra=()):
    import spacy

    memory.register()
    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
    memory.add_component(nlp, str(memory.write(memory.merge(names), tmp_path)), extra)
    return nlp


# A brief the English model alone misses the company in (checked below).
BRIEF = "Up 3%: Quillfeather Analytics"


@pytest.mark.slow
def test_a_rerun_does_not_learn_from_its_own_articles(env, tmp_path):
    # The brief alone is missed by the model; the profile in the same run names the company three times.
    # Had the rerun read the first run's own names as memory, it would tag the brief the second time.
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "profile.txt").write_text(
        "It was a win for Quillfeather Analytics on Monday. Investors said Quillfeather Analytics had "
        "beaten forecasts. Rivals of Quillfeather Analytics fell.\n", encoding="utf-8")
    (folder / "brief.txt").write_text(BRIEF + "\n", encoding="utf-8")
    assert cli.main(["ingest", str(folder)]) == 0
    first = _mentions(env.db_path, "brief.txt"), _mentions(env.db_path, "profile.txt")
    assert not [e for e in entities.load_model(MODEL)(BRIEF).ents if "Quillfeather" in e.text]
    assert ("Quillfeather Analytics", "ORG") in first[1] and not first[0]
    assert cli.main(["ingest", str(folder)]) == 0
    assert (_mentions(env.db_path, "brief.txt"), _mentions(env.db_path, "profile.txt")) == first


@pytest.mark.slow
def test_a_name_the_corpus_knows_is_found_where_the_model_misses_it(env, tmp_path):
    brief = BRIEF
    plain = entities.load_model(MODEL)(brief)
    assert not [e for e in plain.ents if "Quillfeather" in e.text]  # the model alone misses it here
    first = tmp_path / "first"
    first.mkdir()
    (first / "profile.txt").write_text(
        "It was a win for Quillfeather Analytics on Monday. Investors said Quillfeather Analytics had "
        "beaten forecasts. Rivals of Quillfeather Analytics fell.\n", encoding="utf-8")
    assert cli.main(["ingest", str(first)]) == 0
    later = tmp_path / "later"
    later.mkdir()
    (later / "brief.txt").write_text(brief + "\n", encoding="utf-8")
    assert cli.main(["ingest", str(later)]) == 0
    assert ("Quillfeather Analytics", "ORG") in _mentions(env.db_path, "brief.txt")
    files = sorted((env.data_dir / "memory").glob("memory-*.json"))
    assert any(n["text"] == "Quillfeather Analytics" and n["origin"] == "corpus"
               for n in json.loads(files[-1].read_text()))


def test_memory_tags_known_names_with_their_type_case_sensitively(tmp_path):
    nlp = _blank_with_memory(tmp_path, [memory.Name("Vexmoor", "ORG", "corpus"),
                                        memory.Name("Ingrid Solvang", "PERSON", "corpus")],
                             extra=(("GPE", "Kyiv"),))
    doc = nlp("The deal angered Vexmoor and Ingrid Solvang in Kyiv; the ingrid solvang fan page did not say.")
    assert [(e.text, e.label_) for e in doc.ents] == [("Vexmoor", "ORG"), ("Ingrid Solvang", "PERSON"),
                                                      ("Kyiv", "GPE")]


def test_a_one_word_name_the_article_uses_as_a_word_is_not_tagged_from_memory(tmp_path):
    nlp = _blank_with_memory(tmp_path, [memory.Name("Apple", "ORG", "corpus"), memory.Name("Will", "PERSON", "corpus"),
                                        memory.Name("May", "PERSON", "watchlist")])
    recipe = nlp("Apple crumble. Peel four apples. Will it brown? It will, so you may add lemon. May is best.")
    assert list(recipe.ents) == []
    news = nlp("Apple raised prices on Monday, Will Marsh said. May spoke later.")
    assert [(e.text, e.label_) for e in news.ents] == [("Apple", "ORG"), ("Will", "PERSON"), ("May", "PERSON")]
    assert memory.is_word_here("Apple", memory.lowered("two apples"))
    assert not memory.is_word_here("Apple Records", memory.lowered("two apples"))
    assert not memory.is_word_here("NATO", memory.lowered("nato"))


def test_first_source_names_a_type_the_corpus_cannot_change():
    merged = memory.merge([memory.Name("Kyiv", "LOCATION", "shipped")], [memory.Name("Kyiv", "PERSON", "corpus"),
                                                                         memory.Name("x", "ORG", "corpus")])
    assert merged == [memory.Name("Kyiv", "LOCATION", "shipped")]  # "x": no capital, not a name


def test_a_name_tagged_once_is_tagged_at_every_occurrence(tmp_path):
    import spacy
    from spacy.tokens import Span

    text = "Tomas Okafor spoke first. Later Okafor left, and the crowd cheered Tomas Okafor again."
    doc = spacy.blank("en")(text)
    doc.ents = [Span(doc, 0, 2, label="PERSON")]
    mentions, _ = entities.from_doc("a", text, doc)
    found = [(m.surface, m.start_char, m.label) for m in mentions]
    assert ("Tomas Okafor", text.rindex("Tomas Okafor"), "PROPAGATED") in found
    assert all(text[m.start_char:m.end_char] == m.surface for m in mentions)
    assert {m.entity_id for m in mentions} == {mentions[0].entity_id}


def test_ten_thousand_names_and_hostile_texts_stay_bounded(tmp_path):
    names = [memory.Name(f"Name{i:05d} Holdings", "ORG", "corpus") for i in range(10_000)]
    t0 = time.monotonic()
    nlp = _blank_with_memory(tmp_path, names)
    assert time.monotonic() - t0 < 30
    texts = {
        "one line": ("Name00042 Holdings sold shares. " * 40_000)[:1_000_000],
        "numbers": "\n".join(" ".join(str(i * j) for j in range(10)) for i in range(500)),
        "mixed scripts": "Name00007 Holdings и Газпром 東京 القاهرة Name00008 Holdings ελληνικά. " * 200,
    }
    for label, text in texts.items():
        t0 = time.monotonic()
        doc = nlp(entities.normalise(text))
        mentions, _ = entities.from_doc("a", text, doc)
        assert time.monotonic() - t0 < 60, label
        assert all(text[m.start_char:m.end_char] == m.surface for m in mentions), label
        if label != "numbers":
            assert any(m.surface.startswith("Name0004") or m.surface.startswith("Name0000") for m in mentions)


@pytest.mark.slow
def test_a_watched_name_in_a_german_portuguese_or_swedish_article_raises_its_alert(env, tmp_path):
    env.watchlist_path.write_text("rules:\n  - {id: meridian, name: Meridian Port Holdings, type: ORG}\n"
                                  "  - {id: ruiz, name: Ana Ruiz, type: PERSON}\n", encoding="utf-8")
    texts = {
        "de": "Die Reederei Meridian Port Holdings hat am Montag in Hamburg den Betrieb eingestellt, teilte die "
              "Bürgermeisterin Ana Ruiz mit. Die Gewerkschaft will am Dienstag über einen Streik abstimmen.",
        "pt": "A empresa Meridian Port Holdings suspendeu na segunda-feira as operações no porto de Lisboa, disse "
              "a presidente da câmara Ana Ruiz. O sindicato vai votar uma greve na terça-feira.",
        "sv": "Rederiet Meridian Port Holdings stoppade på måndagen verksamheten i hamnen i Göteborg, meddelade "
              "kommunalrådet Ana Ruiz. Facket ska rösta om en strejk på tisdag.",
    }
    folder = tmp_path / "in"
    folder.mkdir()
    for lang, text in texts.items():
        (folder / f"{lang}.txt").write_text(text + "\n", encoding="utf-8")
    assert cli.main(["ingest", str(folder)]) == 0
    con = duckdb.connect(str(env.db_path), read_only=True)
    try:
        languages = dict(con.execute("select regexp_extract(url, '(\\w+)\\.txt$', 1), language from articles")
                         .fetchall())
        fired = con.execute("""select regexp_extract(a.url, '(\\w+)\\.txt$', 1), al.rule_id from alerts al
                               join articles a using (article_id)""").fetchall()
        counts = json.loads(con.execute("select counts from runs").fetchone()[0])
    finally:
        con.close()
    assert languages == {"de": "de", "pt": "pt", "sv": "sv"}
    assert set(fired) == {(lang, rule) for lang in texts for rule in ("meridian", "ruiz")}
    # Claims' rules are English-only, and say so.
    assert counts["claims_skipped_language"] == 3 and counts["no_entities_none_found"] == 0


@pytest.mark.slow
def test_hostile_articles_still_load_with_valid_offsets_and_a_common_word_watch(env, tmp_path):
    env.watchlist_path.write_text("rules:\n  - {id: will, name: Will, type: PERSON}\n"
                                  "  - {id: apple, name: Apple, type: ORG}\n", encoding="utf-8")
    folder = tmp_path / "in"
    folder.mkdir()
    files = {
        "line.txt": ("Meridian Port Holdings said Will Okafor would go. " * 21_000)[:1_000_000],
        "table.txt": "\n".join(" ".join(str(i * 10 + j) for j in range(10)) for i in range(500)),
        "mixed.txt": "Газпром и Apple в 東京: القاهرة, Ελλάδα. Will Okafor said so. " * 500,
        "recipe.txt": "Apple crumble\nPeel four apples and slice them. Will it brown? It will, so add lemon.",
    }
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    t0 = time.monotonic()
    assert cli.main(["ingest", str(folder)]) == 0
    assert time.monotonic() - t0 < 300
    con = duckdb.connect(str(env.db_path), read_only=True)
    try:
        loaded = {r[0].rsplit("/", 1)[1] for r in con.execute("select url from articles").fetchall()}
        bad = con.execute("""select count(*) from mentions m join articles a using (article_id)
                             where substr(a.text, m.start_char + 1, m.end_char - m.start_char) <> m.surface"""
                          ).fetchone()[0]
        fired = {r[0] for r in con.execute("""select a.url from alerts al join articles a using (article_id)
                                              where al.rule_id = 'apple'""").fetchall()}
        status = con.execute("select status from runs").fetchone()[0]
    finally:
        con.close()
    assert loaded == set(files) and bad == 0 and status == "success"
    # The recipe's apples are a word there: the watched company is not found in it.
    assert not any(u.endswith("recipe.txt") for u in fired)
