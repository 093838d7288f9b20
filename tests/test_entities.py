import pytest

from pipelines import entities, extract
from pipelines.settings import DEFAULT_MODEL
from pipelines.spans import add_missed_surnames
from tests.conftest import SEED, needs_shared


@pytest.fixture(scope="module")
def nlp():
    return entities.load_model(DEFAULT_MODEL)


def analyse(nlp, text, title=None):
    return entities.from_doc("a1", text, nlp(entities.normalise(text)), title)


def test_offsets_index_the_stored_text_and_possessives_are_stripped(nlp):
    text = "Officials met in Kiev on Monday, and Kyiv’s mayor spoke. Later, Vladimir Putin’s spokesman spoke in Moscow."
    mentions, ents = analyse(nlp, text)
    for m in mentions:
        assert text[m.start_char:m.end_char] == m.surface
    names = {(e.name, e.type) for e in ents}
    assert ("Kyiv", "LOCATION") in names and ("Vladimir Putin", "PERSON") in names
    # Kiev and Kyiv are one place.
    kyiv = [m for m in mentions if m.form == "Kyiv"]
    assert {m.surface for m in kyiv} == {"Kyiv", "Kiev"} and len({m.entity_id for m in kyiv}) == 1


def test_surnames_link_to_the_full_name_in_the_article(nlp):
    text = ("Union leader Tomas Okafor called the strike on Monday in Rotterdam. "
            "Okafor said the workers would not back down. Okafor later met the port chief.")
    mentions, _ = analyse(nlp, text)
    okafor = [m for m in mentions if m.surface in ("Okafor", "Tomas Okafor")]
    assert len(okafor) >= 2 and {m.form for m in okafor} == {"Tomas Okafor"}


def test_a_missed_surname_is_added_only_where_it_stands_as_a_word():
    text = "Tomas Okafor spoke. Okafor agreed; O'Okafor, Okafor-Lee and Okaforsson did not. Okafor."
    spans = [[0, 12, "PERSON", "PERSON"], [len(text) - 7, len(text) - 1, "PERSON", "PERSON"]]
    added = [s for s in add_missed_surnames(text, spans) if s[3] == "SURNAME"]
    # Only the lone "Okafor" after the first sentence: not inside an elision, a hyphenated name, a
    # longer word, or a span the model already found.
    assert [(text[s:e], s) for s, e, _, _ in added] == [("Okafor", text.index("Okafor agreed"))]


def test_ambiguous_surnames_stay_apart(nlp):
    text = "John Smith and Mary Smith run the bakery in London. Smith said the rent had doubled this year."
    mentions, _ = analyse(nlp, text)
    assert all(m.form != "Mary Smith" or m.surface != "Smith" for m in mentions)


@needs_shared(SEED)
def test_seed_people_and_places(nlp):
    art = extract.from_text(SEED.read_text(encoding="utf-8"), SEED.as_uri())
    mentions, ents = analyse(nlp, art.text, art.title)
    by_name = {e.name: e for e in ents}
    for person in ("Volodymyr Grotskov", "Vladimir Putin", "Igor Volobuev", "Volodymyr Zelensky"):
        assert by_name[person].type == "PERSON"
    for place in ("Kyiv", "Russia", "Ukraine", "Donbas", "Moscow", "Crimea", "Izyum", "Bucha", "Irpin"):
        assert by_name[place].type == "LOCATION", place
        assert by_name[place].latitude is not None and by_name[place].country_code in ("UA", "RU")
    assert "Grotskov" not in by_name and "Putin" not in by_name  # linked to the full names
    assert by_name["Alexei Navalny"].type == "PERSON"  # alias table fixes the model's ORG
    assert not any(e.name.startswith("Latest News") for e in ents)


def test_an_organisations_short_name_is_the_organisation_not_a_town(nlp):
    text = ("Meridian Port Holdings runs the container terminal in Rotterdam. "
            "Meridian said on Monday that the automation plan would go ahead. "
            "Workers in Meridian, Idaho, were not asked.")
    mentions, _ = analyse(nlp, text)
    first = next(m for m in mentions if m.surface == "Meridian")
    assert (first.type, first.form) == ("ORG", "Meridian Port Holdings")


def test_a_surname_two_full_names_fit_stays_apart_and_is_counted(nlp, caplog):
    text = ("Vladimir Putin met the governor in Moscow on Monday. His former wife Lyudmila Putina was not there. "
            "Putin said the talks went well.")
    notes = {}
    with caplog.at_level("INFO", logger="pipelines.entities"):
        mentions, _ = entities.from_doc("a1", text, nlp(entities.normalise(text)), notes=notes)
    lone = [m for m in mentions if m.surface == "Putin"]
    assert lone and all(m.form == "Putin" for m in lone)
    assert notes["ambiguous_short_forms"] == 1
    assert "could be Lyudmila Putina or Vladimir Putin" in caplog.text


def test_places_are_chosen_by_the_articles_other_places(nlp):
    _, fr = analyse(nlp, "Protesters marched in Paris on Saturday, and police in Lyon and Marseille braced for more.")
    _, tx = analyse(nlp, "The storm hit Paris, Texas, on Monday before it moved on to Dallas and Tyler.")
    paris_fr = next(e for e in fr if e.name == "Paris")
    paris_tx = next(e for e in tx if e.name == "Paris")
    assert (paris_fr.country_code, round(paris_fr.latitude)) == ("FR", 49)
    assert (paris_tx.country_code, round(paris_tx.latitude)) == ("US", 34)
    # Two places that share a name are two entities.
    assert paris_fr.entity_id != paris_tx.entity_id


def test_odessa_and_odesa_are_one_place_and_unknown_places_keep_null_points(nlp):
    text = "Shelling hit Odessa overnight. Officials in Odesa and in Zzyzxborough counted the damage."
    mentions, ents = analyse(nlp, text)
    odesa = {m.entity_id for m in mentions if m.surface in ("Odessa", "Odesa")}
    assert len(odesa) == 1
    place = next(e for e in ents if e.entity_id in odesa)
    assert place.country_code == "UA" and place.latitude is not None
    for e in ents:
        if e.geonames_id is None and e.type == "LOCATION":
            assert e.latitude is None and e.longitude is None  # never 0,0


def test_wire_copy_conventions(nlp):
    text = ("BELGRADE 1996-08-30\nThe U.S. envoy arrived, a Reuters reporter said.\n"
            "Baseball standings\nCHICAGO 58 71 .450\nHOUSTON 70 60 .538\n")
    mentions, _ = analyse(nlp, text)
    got = {(m.surface, m.type) for m in mentions}
    assert ("BELGRADE", "LOCATION") in got  # an all-capital dateline is read in ordinary case
    assert ("U.S.", "LOCATION") in got  # the abbreviation keeps its full stop
    assert ("Reuters", "ORG") in got  # not taken for a nationality word
    assert ("CHICAGO", "ORG") in got and ("HOUSTON", "ORG") in got  # teams in a standings table


def test_all_capital_lines_keep_their_length():
    text = "SOCCER - ROMANIA BEAT LITHUANIA IN UNDER-21 MATCH.\nMÜNCHEN ÖSTERREICH\nThe NBA said."
    out = entities.normalise(text)
    assert len(out) == len(text) and out.splitlines()[0] == "Soccer - Romania Beat Lithuania in Under-21 Match."
    assert out.endswith("The NBA said.")


def test_a_town_beside_its_own_institutions_stays_the_town(nlp):
    # "<Town> Police Department" is the town's police: the town alone is still the town (the short form of
    # a company named after a town, "Meridian" for "Meridian Port Holdings", is tested above).
    text = ("Two officers of the Carlisle Police Department were hurt on Friday. The crash closed the main road "
            "in Carlisle for six hours, and Carlisle schools opened late.")
    mentions, _ = analyse(nlp, text)
    town = [m for m in mentions if m.surface == "Carlisle"]
    assert town and all((m.type, m.form) == ("LOCATION", "Carlisle") for m in town)
    assert any((m.surface, m.type) == ("Carlisle Police Department", "ORG") for m in mentions)


def test_ap_state_abbreviations_keep_their_full_stop(nlp):
    text = ("The festival drew visitors from Morgantown, W.Va., and from Bloomington, Ind., organisers said. "
            "Others came from Paducah, Ky.")
    mentions, ents = analyse(nlp, text)
    got = {(m.surface, m.type) for m in mentions}
    assert {("W.Va.", "LOCATION"), ("Ind.", "LOCATION"), ("Ky.", "LOCATION")} <= got
    for m in mentions:
        assert text[m.start_char:m.end_char] == m.surface
    # The town before the abbreviation is placed in that state.
    assert next(e for e in ents if e.name == "Bloomington").country_code == "US"


def test_organisations_named_like_places_need_strong_evidence_to_become_places(nlp):
    # Alternate names (Hamm's "Hamas", Casablanca's "White House") and a county's bare name ("Ford" for
    # Ford County) no longer make a place of what the model read as an organisation...
    for text, name in [("Leaders of Hamas met in Doha on Sunday. Hamas said the truce would hold.", "Hamas"),
                       ("Ford said on Monday it would cut 2,000 jobs at its plant. Ford shares fell 3 percent.",
                        "Ford"),
                       ("The senator spoke to reporters outside the White House after meeting Dodge executives.",
                        "White House")]:
        mentions, _ = analyse(nlp, text)
        named = [m for m in mentions if m.surface == name]
        assert named and all(m.type == "ORG" for m in named), (name, named)
    # ...while a known place the model tagged as an organisation or a person still becomes a place.
    mentions, _ = analyse(nlp, "Officials in Kiev said on Monday that the Crimea bridge was hit.")
    assert {(m.form, m.type) for m in mentions} == {("Kyiv", "LOCATION"), ("Crimea", "LOCATION")}


def test_an_alias_pattern_does_not_cut_a_longer_place(nlp):
    text = "Investors from North America and South America met in Lisbon. Trade with Latin America grew."
    mentions, ents = analyse(nlp, text)
    assert [m.surface for m in mentions if m.type == "LOCATION"] == [
        "North America", "South America", "Lisbon", "Latin America"]
    assert not any(e.name == "United States" for e in ents)


def test_a_country_read_once_as_a_surname_stays_a_country(nlp):
    # A headline tagged as a person ("Rethinking Egypt") does not make the article's other "Egypt"s people.
    text = ("Rethinking Egypt\nEgypt has long been a partner of the United States. Egypt borders Libya and "
            "Sudan, and officials in Egypt said the talks would resume.")
    mentions, _ = analyse(nlp, text)
    egypt = [m for m in mentions if m.surface == "Egypt"]
    # The headline's own "Egypt" is a person or a place by the model; the body's three stay the country.
    body = [m for m in egypt if m.start_char > text.index("\n")]
    assert len(body) == 3 and all((m.type, m.form) == ("LOCATION", "Egypt") for m in body)
