"""One invented sentence per rule of the claims stage that tells quoted words from quoted names, headings
and scare quotes, and that finds the speaker of quotes the older patterns left unattributed."""

import pytest

from pipelines import claims, entities
from pipelines.settings import DEFAULT_MODEL


@pytest.fixture(scope="module")
def nlp():
    return entities.load_model(DEFAULT_MODEL)


def quotes(nlp, text):
    mentions, _ = entities.from_doc("a1", text, nlp(entities.normalise(text)))
    return [(c.text, c.speaker) for c in claims.extract("a1", text, mentions) if c.kind == "quote"]


def test_a_show_book_or_song_named_in_quotes_is_not_a_quote(nlp):
    text = ("“We will cut the ferry fares by half,” Mayor Ilse Brandt said on Channel 9's \"Good Evening Harbor.\" "
            "“Nobody should pay more to get to work.”\n\n"
            "The governor told \"Coastal Morning Live\" that the budget was sound.\n\n"
            "Her memoir, \"Salt and Steel: A Life on the Docks,\" sold well, and the band closed with "
            "\"Rivers Run Home.\"")
    got = [t for t, _ in quotes(nlp, text)]
    assert got == ["We will cut the ferry fares by half,", "Nobody should pay more to get to work."]


def test_a_slogan_that_is_chanted_or_followed_by_its_speaker_stays_a_quote(nlp):
    text = ("Hundreds of dock workers marched to the town hall, chanting \"Fair Pay For Every Crew,\" "
            "before dispersing.\n\n"
            "\"BEST SEASON EVER,\" the harbor master declared in a post on Sunday.\n\n"
            "Brandt told the crowd, \"Build The Bridge Now.\"")
    got = dict(quotes(nlp, text))
    assert got["Build The Bridge Now."] == "Brandt"
    assert "Fair Pay For Every Crew," in got
    assert got["BEST SEASON EVER,"] == "the harbor master"


def test_a_name_after_a_preposition_is_a_title_even_before_an_attribution(nlp):
    text = "On Radio Nord's \"Morning Desk,\" Brandt said the ferries would run all winter."
    assert quotes(nlp, text) == []


def test_a_nickname_between_first_name_and_surname_is_not_a_quote(nlp):
    text = "The ferry line is run by Captain Johannes \"Hans\" Vogel, who said he expects a busy summer."
    assert quotes(nlp, text) == []


def test_a_heading_that_opens_with_a_quote_in_single_marks_is_not_a_second_claim(nlp):
    text = ("‘The ferries will run’: A busy summer at the harbor.\n\n"
            "Mayor Ilse Brandt visited the harbor on Monday.\n\n"
            "\"The ferries will run,\" Brandt said. \"We have hired forty new crew members.\"\n\n"
            "'A long way to go'\n\n"
            "The unions are less sure.")
    got = quotes(nlp, text)
    assert [t for t, _ in got] == ["The ferries will run,", "We have hired forty new crew members."]
    assert all(who == "Brandt" for _, who in got)


def test_a_heading_that_names_its_speaker_stays_a_quote(nlp):
    text = "Brandt: 'The ferries will run all winter.'\n\nThe mayor spoke at the harbor on Monday."
    assert quotes(nlp, text) == [("The ferries will run all winter.", "Brandt")]


def test_scare_quotes_without_a_speech_cue_are_not_quotes(nlp):
    text = ("The city will pay for the new piers through \"harbor bonds,\" the council decided on Monday.\n\n"
            "Critics call the plan a \"floating tax\" and the port a \"white elephant,\" but the mayor is calm.\n\n"
            "The old \"megaport\" plan was dropped years ago, officials said.")
    assert quotes(nlp, text) == []


def test_a_short_quote_with_its_cue_and_the_quote_after_a_dropped_one_keep_their_speaker(nlp):
    text = ("Mayor Ilse Brandt called the deal \"historic\" and said: \"We have waited for this moment "
            "for twenty years.\"\n\n"
            "\"Outrageous,\" said Tomas Okafor, the union leader.")
    got = quotes(nlp, text)
    assert ("We have waited for this moment for twenty years.", "Mayor Ilse Brandt") in got
    assert ("Outrageous,", "Tomas Okafor") in got
    assert not any(t == "historic" for t, _ in got)


def test_a_closing_mark_spaced_off_after_an_inner_quote_closes_the_quote(nlp):
    text = ("\"They told us, 'Wait until spring,' \" said Tomas Okafor, the union leader. "
            "\"We waited three springs.\"")
    spans = [text[a:b] for a, b in claims.quote_spans(text)]
    assert spans[0] == "They told us, 'Wait until spring,'"
    assert spans[1] == "We waited three springs."
    got = quotes(nlp, text)
    assert [who for _, who in got] == ["Tomas Okafor", "Tomas Okafor"]


def test_a_quote_left_open_in_single_marks_does_not_run_into_a_double_marked_paragraph():
    text = ("The pier was named after 'Old Harbor in the first survey of the town.\n\n"
            "\"We will rebuild it,\" the mayor said.")
    spans = [text[a:b] for a, b in claims.quote_spans(text)]
    assert spans[-1] == "We will rebuild it,"
    assert not any("We will rebuild" in s and "survey" in s for s in spans)


def test_a_quote_after_a_quote_spanning_paragraphs_continues_its_speaker(nlp):
    text = ("\"The port has lost three shipping lines this year,\" Okafor said. \"Every one of them went north.\n\n"
            "\"And they will not come back on their own,\" he added. \"We have to bring them back with lower "
            "fees and faster cranes.\"")
    got = quotes(nlp, text)
    assert got[-1][0].startswith("We have to bring them back") and got[-1][1] == "he"


def test_a_quote_after_a_sentence_that_ends_with_its_speaker_and_cue(nlp):
    text = ("Harbor economist Lena Marsh agreed. \"The ferries are the cheapest road the town has.\"\n\n"
            "Or maybe the bridge, engineer Paul Dorn says. \"A bridge costs more but it never stops for a storm.\"")
    got = quotes(nlp, text)
    assert [who for _, who in got] == ["Lena Marsh", "Paul Dorn"]


def test_a_sentence_ending_in_a_cue_does_not_take_a_quote_that_has_its_own_attribution(nlp):
    text = ("The council met behind closed doors, the aides said. \"It was not a good meeting,\" said one "
            "official familiar with the talks.")
    got = quotes(nlp, text)
    assert got and got[0][1] != "the aides"


def test_an_attribution_on_the_next_line_after_a_dash(nlp):
    text = ("\"We will open the new pier before the summer season.\"\n\n"
            "- Ilse Brandt.\n\n"
            "The pier will open in August at the earliest, the port authority says.")
    assert quotes(nlp, text) == [("We will open the new pier before the summer season.", "Ilse Brandt")]


def test_a_transcript_name_with_a_party_label_introduces_the_quote(nlp):
    text = "Rep. Ilse Brandt (D-Ore.): \"Who approved the new ferry contract, and when?\""
    assert quotes(nlp, text) == [("Who approved the new ferry contract, and when?", "Rep. Ilse Brandt")]


def test_an_adverb_between_the_speaker_and_the_cue_is_read_by_the_patterns():
    text = "Brandt, visibly tired, calmly replied: \"The ferries will run on Monday.\""
    # no parser ("no_such_model"): the introduction alone names the speaker
    got = claims.extract("a1", text, [], model="no_such_model")
    assert [(c.text, c.speaker, c.cue) for c in got if c.kind == "quote"] == [
        ("The ferries will run on Monday.", "Brandt", "replied")]
