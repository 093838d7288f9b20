import pytest

from pipelines import claims, entities
from pipelines.settings import DEFAULT_MODEL


@pytest.fixture(scope="module")
def nlp():
    return entities.load_model(DEFAULT_MODEL)


def run(nlp, text):
    mentions, ents = entities.from_doc("a1", text, nlp(entities.normalise(text)))
    names = {e.entity_id: e.name for e in ents}
    out = claims.extract("a1", text, mentions)
    for c in out:
        assert text[c.start_char:c.end_char] == c.text
    return [(c.kind, c.text, c.speaker, names.get(c.speaker_entity_id)) for c in out]


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
