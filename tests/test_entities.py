import pytest

from pipelines import entities, extract
from pipelines.settings import DEFAULT_MODEL
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
