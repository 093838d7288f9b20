"""The speaker ranking (pipelines/speakers.py) and the lexicon it reads (pipelines/lexicon.py): candidates
and their named features, plural and group speakers, agreement, the weight table, and bad input."""

import time

import pytest
import yaml

from pipelines import claims, entities, lexicon, speakers
from pipelines.entities import Mention
from tests.conftest import claims_of as quotes_and_statements


def test_every_speech_verb_of_the_cue_table_attributes_a_quote_after_it():
    for form in sorted(lexicon.CUE_WORDS):
        site_text = f"“We will rebuild the pier,” she {form}."
        site = speakers.Site(0, 1, 26, 28, 0, len(site_text))
        (found,) = speakers.proposals(site_text, site)
        assert (found.words, found.cue, found.kinds) == ("she", form, frozenset({"after"})), form


def test_the_lexicon_has_one_cue_table_and_no_words_yaml_turned_into_booleans():
    data = yaml.safe_load(lexicon.PATH.read_text(encoding="utf-8"))

    def strings(node):
        if isinstance(node, dict):
            return all(isinstance(k, str) and strings(v) for k, v in node.items())
        if isinstance(node, list):
            return all(isinstance(v, str) for v in node)
        return True

    assert strings({k: v for k, v in data.items() if "weights" not in k})
    for role in ("trigger", "clause", "clause_object"):
        assert set(lexicon._forms(role)) <= lexicon.CUE_WORDS, role
    assert {"described", "called"} <= set(lexicon._forms("label")) and not {"described", "called"} & lexicon.CUE_WORDS


def test_the_weight_table_names_only_known_features():
    for part, names in (("speaker", speakers.SPEAKER_FEATURES), ("antecedent", speakers.ANTECEDENT_FEATURES)):
        assert set(speakers.weights()[part]) <= set(names), part
        assert set(speakers.PRIOR[part]) <= set(names), part


def test_features_are_named_and_the_best_score_wins_over_no_speaker():
    site = speakers.Site(10, 11, 40, 41, 0, 60)
    near = speakers.Candidate("Okafor", 43, "said", frozenset({"after"}))
    far = speakers.Candidate("the mayor", 0, None, frozenset({"paragraph_name"}))
    feats = speakers.features(near, site, "PERSON")
    assert {"after", "cue", "neutral_cue", "name", "person", "distance"} == set(feats)
    assert set(feats) <= set(speakers.SPEAKER_FEATURES)
    options = [speakers.Option(c, None, speakers.features(c, site, t)) for c, t in ((far, None), (near, "PERSON"))]
    table = {"after": 2.0, "cue": 1.0, "paragraph_name": 0.5, "null": 1.0}
    assert speakers.choose(options, table) == 1
    assert speakers.choose(options, {"null": 1.0}) is None
    assert speakers.choose(options, {"null": 1.0}, allow_null=False) == 0


def test_candidates_from_context_are_ranked_with_the_sentences_own():
    text = "Harbor economist Lena Marsh agreed. “The ferries are the cheapest road the town has.”"
    site = speakers.Site(36, 37, 84, 85, 0, len(text), 0, False)
    own = speakers.proposals(text, site)
    assert [(c.words, c.kinds) for c in own] == [("Lena Marsh", frozenset({"sentence_before"}))]
    around = speakers.context(text, site, speakers.Mentions([], text), None, None, None, None)
    assert "neighbour_subject" in {k for c in around for k in c.kinds}


def test_they_and_the_group_resolve_to_an_organisation_named_before(nlp):
    got = quotes_and_statements(nlp, (
        "The Harbor Workers Union called a strike on Monday.\n\n"
        "“We will not go back until the cranes are safe,” they said in a statement."))
    assert ("quote", "We will not go back until the cranes are safe,", "they", "Harbor Workers Union") in got
    got = quotes_and_statements(nlp, (
        "The Ministry of Defence published new figures on Monday.\n\n"
        "“The brigade has lost a third of its vehicles,” the ministry said."))
    assert ("quote", "The brigade has lost a third of its vehicles,", "the ministry", "Ministry of Defence") in got
    got = quotes_and_statements(nlp, (
        "Meridian Port Holdings opened its third terminal in Hamburg.\n\n"
        "Officials said the terminal would handle up to 40 ships a week."))
    statement = ("statement", "the terminal would handle up to 40 ships a week", "Officials", "Meridian Port Holdings")
    assert statement in got


def test_a_plural_speaker_with_no_organisation_to_stand_for_stays_unresolved_with_its_words(nlp):
    got = quotes_and_statements(nlp, (
        "Dock workers marched through Rotterdam on Monday, led by Tomas Okafor.\n\n"
        "“We will not go back until the cranes are safe,” they said."))
    assert ("quote", "We will not go back until the cranes are safe,", "they", None) in got


def test_a_pronoun_agrees_in_gender_with_the_person_it_stands_for(nlp):
    text = ("Mr. Paul Ryan met Ms. Elena Warren in Boston on Monday. Warren arrived late.\n\n"
            "“We agreed on nothing at all today,” she said.")
    assert ("quote", "We agreed on nothing at all today,", "she", "Elena Warren") in quotes_and_statements(nlp, text)
    mentions, _ = entities.from_doc("a1", text, nlp(entities.normalise(text)))
    index = speakers.Mentions(mentions, text)
    options = {o.entity: o.features for o in speakers.antecedents("he", None, len(text) - 5, index, None, {})}
    by_name = {m.surface: m.entity_id for m in mentions}
    assert options[by_name["Paul Ryan"]]["agree_gender"] == 1.0
    assert options[by_name["Elena Warren"]]["agree_gender"] == -1.0


def test_a_description_resolves_only_to_someone_introduced_with_its_head_noun():
    text = "Energy minister Ines Duarte visited Lisbon. Tomas Okafor met her.\n\nThe minister said it went well."
    mentions = [
        Mention("m1", "a1", "duarte", "PERSON", "Ines Duarte", "Ines Duarte", 16, 27, 0, "PERSON"),
        Mention("m2", "a1", "okafor", "PERSON", "Tomas Okafor", "Tomas Okafor", 44, 56, 1, "PERSON"),
    ]
    index = speakers.Mentions(mentions, text)
    at = text.index("The minister")
    options = speakers.antecedents("The minister", at, at + 13, index, None, {})
    assert [o.entity for o in options] == ["duarte"] and options[0].features["head_noun"] == 1.0
    assert speakers.antecedents("The engineer", at, at + 13, index, None, {}) == []
    assert speakers.resolve("The engineer", at, at + 13, index, None, {}) is None


@pytest.mark.parametrize("text,content,speaker", [
    ("Port chief Marta Kellerman said in April that the port would reopen for up to 40 ships a day.",
     "the port would reopen for up to 40 ships a day", "Port chief Marta Kellerman"),
    ("Port chief Marta Kellerman said on Monday the port would reopen for up to 40 ships a day.",
     "the port would reopen for up to 40 ships a day", "Port chief Marta Kellerman"),
    ("The council approved the budget, which the mayor said in March would cut 200 jobs.",
     "would cut 200 jobs", "the mayor"),
    ("A presidential adviser said it was created after prisoners, outraged by atrocities in the town, begged to "
     "take revenge.", "it was created after prisoners, outraged by atrocities in the town, begged to take revenge",
     "A presidential adviser"),
    ("According to the port authority, the terminal will close for three weeks.",
     "the terminal will close for three weeks", "the port authority"),
])
def test_statements_in_every_common_shape_keep_their_content_and_speaker(nlp, text, content, speaker):
    got = quotes_and_statements(nlp, text)
    assert ("statement", content, speaker) in [(k, t, s) for k, t, s, _ in got]
    for kind, t, who, _ in got:
        if kind == "quantity":
            assert who == speaker, t


def _mention(i: int, text: str, start: int, end: int, etype: str = "PERSON") -> Mention:
    return Mention(f"m{i}", "a1", f"e{i % 7}", etype, text[start:end], text[start:end], start, end, 0, etype)


def _bounded(text: str, mentions: list[Mention], seconds: float) -> list:
    started = time.perf_counter()
    found = claims.extract("a1", text, mentions)
    assert time.perf_counter() - started < seconds
    for c in found:
        assert 0 <= c.start_char < c.end_char <= len(text) and text[c.start_char:c.end_char] == c.text
        assert c.speaker is None or " ".join(c.speaker.split()) in " ".join(text.split())
    return found


def test_five_hundred_paragraphs_with_no_attribution_stay_unattributed_in_bounded_time():
    quote = "“The ferry was late again and nobody on the pier knew why it was so late,” on pier"
    text = "\n\n".join(f"{quote} {i}." if i % 2 else f"Tomas Okafor walked along pier {i} today." for i in range(500))
    mentions = [_mention(i, text, m, m + 12) for i, m in enumerate(
        k for k in range(len(text)) if text.startswith("Tomas Okafor", k))]
    found = _bounded(text, mentions, 20)
    assert len([c for c in found if c.kind == "quote"]) == 1  # the same words 250 times are one claim
    assert all(c.speaker is None for c in found)


def test_a_quote_nested_ten_deep_is_one_quote_in_bounded_time():
    inner = "we stay"
    for level in range(10):
        inner = f"“level {level} {inner}”" if level % 2 else f"‘level {level} {inner}’"
    text = f"The mayor said: {inner} and left."
    found = _bounded(text, [], 10)
    assert sum(c.kind == "quote" for c in found) >= 1


def test_two_thousand_pronouns_in_a_row_resolve_in_bounded_time():
    text = "The Harbor Workers Union met. " + "“We stay,” they said. “We stay,” he said. " * 1000
    mentions = [_mention(0, text, 4, 24, "ORG")]
    found = _bounded(text, mentions, 30)
    assert {c.speaker for c in found if c.kind == "quote"} <= {"they", "he"}


def test_a_speaker_span_longer_than_its_sentence_keeps_offsets_inside_the_text():
    text = "Okafor met the mayor. “We will rebuild every pier in the harbor,” he said. The end."
    # A mention wider than its sentence (as a broken entity stage could give), and one past the text's end.
    mentions = [_mention(0, text, 0, len(text) - 8), _mention(1, text, 0, 6)]
    mentions.append(Mention("m9", "a1", "e9", "ORG", "x", "x", len(text) - 2, len(text) + 50, 0, "ORG"))
    found = _bounded(text, mentions, 10)
    assert any(c.kind == "quote" and c.speaker == "he" for c in found)
