import pytest

from pipelines import claims, entities, extract
from tests.conftest import SEED, needs_shared
from tests.conftest import claims_of as run


def test_both_attribution_orders_and_pronouns(nlp):
    text = ("Port chief Marta Kellerman spoke in Rotterdam on Monday.\n\n"
            "Kellerman said: “We will not accept a deal that costs the port its future.”\n\n"
            "“The terminals must stay open for every ship,” she said.\n\n"
            "‘Nobody wants a long strike,’ said Tomas Okafor, the union leader.")
    got = run(nlp, text)
    quotes = [(t, who, name) for kind, t, who, name in got if kind == "quote"]
    assert quotes[0][2] == "Marta Kellerman" and quotes[0][0].startswith("We will not accept")
    assert quotes[1][1] == "she" and quotes[1][2] == "Marta Kellerman"
    assert quotes[2][2] == "Tomas Okafor"


def test_split_quote_keeps_its_speaker_and_reporter_questions_are_not_attributed(nlp):
    text = ("Union leader Tomas Okafor met workers in Hamburg.\n\n"
            "\"We are ready to talk,\" Okafor said. \"But we will not give up our jobs.\"\n\n"
            "“What happens if the talks fail?” I asked.")
    got = [g for g in run(nlp, text) if g[0] == "quote"]
    assert [g[3] for g in got[:2]] == ["Tomas Okafor", "Tomas Okafor"]
    assert got[2][1].startswith("What happens") and got[2][2] == "I" and got[2][3] is None


def test_quantities_carry_the_speaker_of_their_quote(nlp):
    text = ("Energy minister Ines Duarte visited Lisbon.\n\n"
            "Duarte said: “We lose up to 200 megawatts a day when the cables fail.”\n\n"
            "An aide admitted that more than 100 recruits had left, and costs rose 12 percent.")
    got = run(nlp, text)
    q = {t: name for kind, t, who, name in got if kind == "quantity"}
    assert q["up to 200 megawatts a day"] == "Ines Duarte"
    assert "more than 100 recruits" in q and "12 percent" in q
    assert not any(t.startswith(("ten", "48")) for t in q)


def test_unbalanced_marks_and_repeated_paragraphs(nlp):
    para = "“This quote never closes and runs to the end of the paragraph, said nobody"
    text = f"{para}\n\n{para}\n\n" + "x" * 50000
    got = run(nlp, text)
    assert len([g for g in got if g[0] == "quote"]) == 1


def claims_of(nlp, text):
    mentions, ents = entities.from_doc("a1", text, nlp(entities.normalise(text)))
    names = {e.entity_id: e.name for e in ents}
    out = claims.extract("a1", text, mentions)
    for c in out:
        assert 0 <= c.start_char < c.end_char <= len(text) and text[c.start_char:c.end_char] == c.text
    return out, names


def test_a_quote_over_several_paragraphs_is_one_claim_with_its_speaker(nlp):
    text = ("Port chief Marta Kellerman spoke in Rotterdam on Monday.\n\n"
            "Kellerman said: “We will not accept a deal that costs the port its future.\n\n"
            "“The terminals must stay open for every ship, and nobody will change that.”\n\n"
            "“The strike will go on until the last terminal closes for good.\n\n"
            "“Nobody wants it, but we have no choice left,” said Tomas Okafor, the union leader.")
    out, names = claims_of(nlp, text)
    quotes = [c for c in out if c.kind == "quote"]
    assert len(quotes) == 2
    assert quotes[0].text.startswith("We will not accept") and quotes[0].text.endswith("change that.")
    assert names[quotes[0].speaker_entity_id] == "Marta Kellerman"
    assert "\n\n“Nobody wants it" in quotes[1].text and names[quotes[1].speaker_entity_id] == "Tomas Okafor"


def test_mismatched_and_nested_marks():
    text = ("„Wir bleiben hier, egal was passiert“, sagte er.\n\n"
            "“We will fight on until the very end,\" said the mayor.\n\n"
            "“Mostly he promotes ignorance and ‘oh so much’ hate in this country,” she said.\n\n"
            "''They pay us a lot of money to do this,'' Mr. King said.")
    spans = [text[a:b] for a, b in claims.quote_spans(text)]
    assert spans == ["Wir bleiben hier, egal was passiert", "We will fight on until the very end,",
                     "Mostly he promotes ignorance and ‘oh so much’ hate in this country,",
                     "They pay us a lot of money to do this,"]
    by_text = {c.text: c.speaker for c in claims.extract("a1", text, [])}
    assert by_text["They pay us a lot of money to do this,"] == "Mr. King"
    assert by_text["We will fight on until the very end,"] == "the mayor"


def test_a_partial_quote_is_attributed_to_the_agent(nlp):
    text = "The shelling of Kharkiv was described as “hell” by President Volodymyr Zelensky on Sunday."
    out, names = claims_of(nlp, text)
    (quote,) = [c for c in out if c.kind == "quote"]
    assert quote.text == "hell" and names[quote.speaker_entity_id] == "Volodymyr Zelensky"


def test_the_parser_finds_speakers_the_patterns_miss(nlp):
    text = ("“The budget is a disaster for every family in this country,” White House press secretary Josh "
            "Earnest said at a briefing on Monday.\n\n"
            "Lamenting their luck, Mexicans often say, “Poor Mexico, so far from God and so close to the "
            "United States.”")
    out, names = claims_of(nlp, text)
    quotes = [c for c in out if c.kind == "quote"]
    assert names[quotes[0].speaker_entity_id] == "Josh Earnest" and quotes[0].speaker.endswith("Josh Earnest")
    assert quotes[1].speaker == "Mexicans" and quotes[1].speaker_entity_id is None


def test_descriptions_resolve_to_the_person_introduced_so_and_the_unresolved_stay_null(nlp):
    text = ("Energy minister Ines Duarte visited Lisbon on Monday. Tomas Okafor met her there.\n\n"
            "“We lose power every day when the cables fail,” the minister said.\n\n"
            "“The bridge will not be rebuilt this year, whatever the council decides,” the engineer said.")
    out, names = claims_of(nlp, text)
    quotes = [c for c in out if c.kind == "quote"]
    assert quotes[0].speaker == "the minister" and names[quotes[0].speaker_entity_id] == "Ines Duarte"
    assert quotes[1].speaker == "the engineer" and quotes[1].speaker_entity_id is None
    assert quotes[1].text.startswith("The bridge will not be rebuilt")


def test_reported_statements_with_named_and_unnamed_sources(nlp):
    text = ("Port chief Marta Kellerman spoke in Rotterdam on Monday.\n\n"
            "Kellerman said the port would reopen for up to 40 ships a day from Friday.\n\n"
            "Ukraine's defence ministry said that 200 troops had crossed the border overnight.\n\n"
            "According to a presidential adviser, the talks will resume on Monday.\n\n"
            "A spokesman for Meridian Port Holdings said the terminal would close for three weeks.")
    out, names = claims_of(nlp, text)
    statements = {c.text: (c.speaker, names.get(c.speaker_entity_id), c.cue) for c in out if c.kind == "statement"}
    assert statements["the port would reopen for up to 40 ships a day from Friday"] == (
        "Kellerman", "Marta Kellerman", "said")
    assert statements["200 troops had crossed the border overnight"] == ("Ukraine's defence ministry", None, "said")
    assert statements["the talks will resume on Monday"] == ("a presidential adviser", None, "according to")
    assert statements["the terminal would close for three weeks"] == (
        "A spokesman for Meridian Port Holdings", "Meridian Port Holdings", "said")
    quantities = {c.text: (c.speaker, names.get(c.speaker_entity_id)) for c in out if c.kind == "quantity"}
    assert quantities["up to 40 ships a day"] == ("Kellerman", "Marta Kellerman")
    assert quantities["200 troops"] == ("Ukraine's defence ministry", None)


def test_a_repeated_paragraph_yields_its_claims_once(nlp):
    para = ("Kellerman said the port would reopen for up to 40 ships a day. “We will not accept a deal that "
            "costs the port its future,” she said.")
    text = f"Port chief Marta Kellerman spoke in Rotterdam.\n\n{para}\n\nThe union replied.\n\n{para}"
    out, _ = claims_of(nlp, text)
    kinds = sorted(c.kind for c in out)
    assert kinds == ["quantity", "quote", "statement"]
    assert all(c.start_char < text.index("The union") for c in out)


def test_claim_entities_rows_name_the_speaker_and_the_entities_mentioned(nlp):
    text = ("Port chief Marta Kellerman spoke in Rotterdam.\n\n"
            "“Tomas Okafor and Marta Kellerman will meet in Hamburg,” Kellerman said.")
    mentions, ents = entities.from_doc("a1", text, nlp(entities.normalise(text)))
    names = {e.entity_id: e.name for e in ents}
    found = claims.extract("a1", text, mentions)
    rows = {(names[r["entity_id"]], r["role"]) for r in claims.links(found, mentions)}
    assert rows == {("Marta Kellerman", "speaker"), ("Tomas Okafor", "mentioned"), ("Hamburg", "mentioned")}
    assert all(r["article_id"] == "a1" for r in claims.links(found, mentions))


@pytest.mark.parametrize("text", [
    "“" + "word " * 10_000 + " said Okafor",                      # a 50,000-character quote, never closed
    "said " * 10_000,                                             # cue words with no sentence break
    "Okafor said " + "Aaaa Bbbb, " * 5_000,                       # capitalised words: the name patterns
    "“a” " * 12_000,                                              # thousands of tiny quotes
    ("x " * 300 + "“" + "y " * 300 + "”, Mr. A. B. said. ") * 60,  # long sentences, initials
    "„" * 20_000 + "”" * 20_000,                                  # marks only
    "Kellerman said that, " * 3_000 + "according to " * 3_000,
])
def test_hostile_input_neither_crashes_nor_leaves_the_text(text):
    found = claims.extract("a1", text, [])
    for c in found:
        assert 0 <= c.start_char < c.end_char <= len(text) and text[c.start_char:c.end_char] == c.text


def _frames(run_id, claim_rows, link_rows, aid="a1"):
    import pandas as pd

    text = "“Okafor will lose in Hamburg,” Kellerman said."
    return {
        "articles": pd.DataFrame([{"article_id": aid, "url": f"file:///{aid}", "source": "t", "title": "T",
                                   "published_at": pd.Timestamp("2026-11-24"), "language": "en", "text": text,
                                   "word_count": 7, "content_hash": "h", "fetched_at": pd.Timestamp("2026-11-24"),
                                   "run_id": run_id}]),
        "entities": pd.DataFrame([{"entity_id": e, "name": n, "type": "PERSON", "country_code": None,
                                   "latitude": None, "longitude": None, "geonames_id": None, "precision": None}
                                  for e, n in (("e1", "Marta Kellerman"), ("e2", "Tomas Okafor"))]),
        "mentions": pd.DataFrame([{"mention_id": f"{aid}-m{i}", "article_id": aid, "entity_id": e, "surface": s,
                                   "form": f, "start_char": a, "end_char": a + len(s), "sentence_index": 0,
                                   "label": "PERSON"}
                                  for i, (e, s, f, a) in enumerate((("e2", "Okafor", "Tomas Okafor", 1),
                                                                    ("e1", "Kellerman", "Marta Kellerman", 31)))]),
        "claims": pd.DataFrame(claim_rows, columns=["claim_id", "article_id", "kind", "speaker_entity_id", "speaker",
                                                    "cue", "text", "start_char", "end_char"]),
        "claim_entities": pd.DataFrame(link_rows, columns=["claim_id", "article_id", "entity_id", "role"]),
    }


def test_claim_entities_is_a_table_replaced_with_its_articles_claims(tmp_path):
    from pipelines import store

    con = store.connect(tmp_path / "n.duckdb")
    assert con.execute("select table_type from information_schema.tables where table_name = 'claim_entities'"
                       ).fetchone()[0] == "BASE TABLE"
    quote = ["c1", "a1", "quote", "e1", "Kellerman", "said", "Okafor will lose in Hamburg,", 1, 29]
    links = [["c1", "a1", "e1", "speaker"], ["c1", "a1", "e2", "mentioned"]]
    store.load_run(con, {"run_id": "r1", "kind": "ingest", "status": "success"}, _frames("r1", [quote], links),
                   [], [])
    assert con.execute("select speaker_name, about_name from said_about").fetchall() == [
        ("Marta Kellerman", "Tomas Okafor")]
    # A rerun that no longer finds the quote leaves no link behind.
    store.load_run(con, {"run_id": "r1", "kind": "ingest", "status": "success"}, _frames("r1", [], []), [], [])
    assert con.execute("select count(*) from claim_entities").fetchone()[0] == 0
    # The article loaded again by another run: its links are replaced, not added to.
    store.load_run(con, {"run_id": "r1", "kind": "ingest", "status": "success"}, _frames("r1", [quote], links),
                   [], [])
    store.load_run(con, {"run_id": "r2", "kind": "ingest", "status": "success"}, _frames("r2", [quote], links),
                   [], [])
    assert sorted(con.execute("select claim_id, entity_id, role from claim_entities").fetchall()) == [
        ("c1", "e1", "speaker"), ("c1", "e2", "mentioned")]
    con.close()


def test_migration_007_backfills_claim_entities_from_the_stored_claims(tmp_path):
    import duckdb

    from pipelines import store

    con = duckdb.connect(str(tmp_path / "old.duckdb"))
    con.execute("create table schema_version (version integer primary key, name varchar, "
                "applied_at timestamp default current_timestamp)")
    for path in sorted((store.SQL_DIR / "migrations").glob("*.sql")):
        version = int(path.name.split("_", 1)[0])
        if version < 7:
            con.execute(path.read_text(encoding="utf-8"))
            con.execute("insert into schema_version (version, name) values (?, ?)", [version, path.stem])
    con.execute("insert into claims values ('c1', 'a1', 'quote', 'e1', 'Kellerman', 'said', "
                "'Okafor will lose in Hamburg,', 1, 29)")
    con.execute("insert into mentions (mention_id, article_id, entity_id, surface, form, start_char, end_char, "
                "sentence_index, label) values ('m1', 'a1', 'e2', 'Okafor', 'Okafor', 1, 7, 0, 'PERSON'), "
                "('m2', 'a1', 'e1', 'Kellerman', 'Kellerman', 31, 40, 0, 'PERSON')")
    # What the database held before: claim_entities as a view.
    con.execute("create view claim_entities as select claim_id, speaker_entity_id as entity_id, 'speaker' as role "
                "from claims")
    assert "007_claim_entities" in store.migrate(con)
    assert sorted(con.execute("select * from claim_entities").fetchall()) == [
        ("c1", "a1", "e1", "speaker"), ("c1", "a1", "e2", "mentioned")]
    con.close()


def test_introductions_that_end_with_a_colon():
    text = ("Stone was speaking on the radio.\n\nStated Stone:\n\n“I think that the stakes are very high this "
            "time.”\n\nPollsters agree - Carl Bialik: “Keep on contacting voters as late as possible.”")
    speakers = [c.speaker for c in claims.extract("a1", text, []) if c.kind == "quote"]
    assert speakers == ["Stone", "Carl Bialik"]


def test_a_quote_of_30000_marks_parses_in_bounded_time_with_valid_spans():
    # spaCy's tokenizer is quadratic on long punctuation runs: such a run must not reach it whole.
    text = ("“We will rebuild every bridge,” Zelensky said.\n"
            " met Volodymyr Zelensky in Kyiv. " + '"' * 30000 + " met Volodymyr Zelensky in Kyiv. ")
    found = claims.extract("a1", text, [])
    assert "We will rebuild every bridge," in [c.text for c in found]
    for c in found:
        assert 0 <= c.start_char < c.end_char <= len(text) and text[c.start_char:c.end_char] == c.text


# Every claim the stage found on the seed article before speakers were ranked, but for the three the issue
# names (below): (kind, start of the text, speaker words, entity). None of it may be lost.
SEED_KEPT = [
    ('statement', 'he loves his country and sees th', 'The 48-year-old electrical engineer', None),
    ('quote', 'It may sound pretentious, but I ', 'he', 'Volodymyr Grotskov'),
    ('quote', 'So what would happen if you got ', 'I', None),
    ('quote', 'Death would happen,', 'he', 'Volodymyr Grotskov'),
    ('quote', 'Guys from Russia, if you hate Pu', 'Igor Volobuev', 'Igor Volobuev'),
    ('quote', 'I was shocked by the magnitude o', 'Grotskov', 'Volodymyr Grotskov'),
    ('quote', 'I’ve always been the kind of per', 'he', 'Volodymyr Grotskov'),
    ('quote', 'I went to Ukraine because I knew', 'he', 'Volodymyr Grotskov'),
    ('quote', 'They have fun, spend the money, ', 'He', 'Volodymyr Grotskov'),
    ('quote', 'A lot of people are getting the ', 'He', 'Volodymyr Grotskov'),
    ('quantity', '99 percent', 'He', 'Volodymyr Grotskov'),
    ('statement', 'he is proud to fight for Kiev af', 'Grotskov', 'Volodymyr Grotskov'),
    ('quote', 'I feel like it’s my home. is. My', 'Grotskov', 'Volodymyr Grotskov'),
    ('statement', 'Russia’s problem goes far beyond', 'he', 'Volodymyr Grotskov'),
    ('quote', 'I am not personally against Puti', 'He', 'Volodymyr Grotskov'),
    ('quote', 'hell', 'Ukrainian President Volodymyr Zelensky', 'Volodymyr Zelensky'),
    ('quote', 'I am not personally against Puti', 'Grotskov', 'Volodymyr Grotskov'),
    ('statement', 'they are losing up to 200 troops', 'An aide', None),
    ('quantity', 'up to 200 troops a day', 'An aide', None),
    ('quote', 'For Russia, for victory', 'his troops', None),
    ('quote', 'keep on the sidelines watching R', 'Ukrainian-born Volobuev', 'Igor Volobuev'),
]


@needs_shared(SEED)
def test_the_seed_gets_its_three_hard_claims_and_loses_nothing(nlp):
    art = extract.from_text(SEED.read_text(encoding="utf-8"), SEED.as_uri())
    got = run(nlp, art.text)
    for kind, start, who, name in SEED_KEPT:
        assert any(g[0] == kind and g[1].startswith(start) and g[2:] == (who, name) for g in got), start
    # 'they proclaimed': the Legion, named in the sentence before ('the Legion's social media channel').
    assert ("quote", "Now it will serve for the liberation of Russia from Putinism,", "they",
            "Legion of Freedom of Russia") in got
    # A relative clause introduces the quantity: '…, which Ukraine's defense ministry said in April had …'.
    assert ("statement", "had been established with more than 100 recruits", "Ukraine’s defense ministry", None) in got
    assert ("quantity", "more than 100 recruits", "Ukraine’s defense ministry", None) in got
    # The content runs past the commas to the end of the reported clause.
    assert ("statement", "it was created after Russian prisoners, outraged by atrocities in places like Bucha and "
            "Irpin, begged to take revenge on Putin", "A presidential adviser", None) in got
