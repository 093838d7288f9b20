import pytest

from pipelines import extract
from tests.conftest import SEED, needs_shared, page


@needs_shared(SEED)
def test_seed_text_loses_banner_tagline_cookie_notice_and_repeated_captions():
    art = extract.from_text(SEED.read_text(encoding="utf-8"), SEED.as_uri())
    assert art.title == "Ukraine’s newest heroes: How brave Russian defectors have joined Kyiv’s forces"
    assert art.site_name == "WhatsNew2Day"
    assert "WhatsNew2Day" not in art.text and "Latest News And Breaking Headlines" not in art.text
    assert "uses cookies" not in art.text
    # The caption given twice (straight and curly quotes) survives once, in its typographic form.
    assert art.text.count("Countless Russians are so outraged") == 1
    assert "Moscow’s central financial institutions (Russia’s Freedom Legion" in art.text
    # A truncated copy of the next paragraph is dropped.
    assert "sees the Kremlin as a destructive\n" not in art.text
    # The headline names the story's places: it opens the text too (only the banner and tagline go).
    assert art.text.startswith(art.title + "\n\nLike all his Ukrainian army comrades")
    assert art.published_at is None and art.date_origin is None


def test_html_gives_text_and_metadata_without_boilerplate():
    html = page("Harbour strike ends", [
        "Dockworkers in Rotterdam returned to work on Monday after a three-day strike over automation plans.",
        "“We have a deal that protects every job,” said union leader Tomas Okafor after the vote.",
        "Port officials said more than 40 ships had waited offshore during the stoppage this week.",
    ], published="2026-11-24T09:30:00Z")
    art = extract.from_html(html.encode(), "https://example.com/2026/11/24/strike")
    assert art.title == "Harbour strike ends"
    assert art.site_name == "Test Gazette"
    assert art.published_at.isoformat() == "2026-11-24T09:30:00" and art.date_origin == "page"
    assert "Tomas Okafor" in art.text
    assert "cookies" not in art.text and "All rights reserved" not in art.text


def test_date_falls_back_to_feed_then_url_never_fetch_time():
    text = "Title line\n" + "A sentence of the story that is long enough to count as a body paragraph. " * 3
    from datetime import datetime
    feed = datetime(2026, 11, 23, 8)
    assert extract.from_text(text, "file:///x.txt", feed).date_origin == "feed"
    art = extract.from_text(text, "https://example.com/2026/11/22/story")
    assert (art.published_at.date().isoformat(), art.date_origin) == ("2026-11-22", "url")


def test_json_article_and_its_errors():
    art = extract.from_json('{"title": "T", "text": "' + "word " * 30 + '", "published_at": "2026-11-20"}',
                            "file:///a.json")
    assert art.title == "T" and art.date_origin == "json"
    with pytest.raises(extract.ExtractionError, match="invalid JSON"):
        extract.from_json("{nope", "file:///a.json")
    with pytest.raises(extract.ExtractionError, match="'text'"):
        extract.from_json('{"title": "no body"}', "file:///a.json")


def test_pages_without_an_article_are_errors_with_a_reason():
    with pytest.raises(extract.ExtractionError):
        extract.from_html(b"<html><body><nav>Home</nav></body></html>", "https://example.com/")
    with pytest.raises(extract.ExtractionError, match="empty"):
        extract.from_text("\n \n", "file:///empty.txt")


def test_short_supplied_texts_are_articles_and_short_pages_are_not():
    brief = extract.from_text("Putin arrived in Minsk on Monday.", "file:///brief.txt")
    assert brief.text == "Putin arrived in Minsk on Monday." and brief.title == brief.text
    flash = extract.from_text("Meridian Port Holdings halts trading\nROTTERDAM 2026-11-24", "file:///flash.txt")
    assert flash.text.split("\n\n") == ["Meridian Port Holdings halts trading", "ROTTERDAM 2026-11-24"]
    assert flash.title == "Meridian Port Holdings halts trading"
    assert extract.from_json('{"text": "Strike ends."}', "file:///a.json").text == "Strike ends."
    short = r"no article in the page: main text too short \(\d+ words, minimum 20 for a page\)"
    with pytest.raises(extract.ExtractionError, match=short):
        extract.from_html(page("Strike", ["Dockworkers returned to work on Monday."]).encode(), "https://e.com/a")


def test_notices_go_and_a_story_with_a_footer_run_into_it_stays():
    story = ("Filmmaterial Fuji X-TRA 400. Kameras Shuji: Widelux. Walter: PENTAX Z-1 and a long run of "
             "further sentences about the exchange of films between the two photographers this spring, "
             "with more detail on the exposures and the prints they made. Copyright © 2018. All Rights Reserved.")
    text = "\n".join([
        "This website uses cookies to improve your experience. We'll assume you're ok with this. Accept Read More",
        "Read More",
        "Sign up for our daily newsletter to get the news first",
        "© 2016 The Associated Press. All rights reserved.",
        story,
    ])
    assert extract.clean_text(text) == story.removesuffix(" Copyright © 2018. All Rights Reserved.")


def test_words_of_languages_written_without_spaces_are_counted():
    assert extract.word_count("Port closed, 2026!") == 3
    # 50 characters of a Japanese news sentence: one word each, as word processors count them.
    sentence = ("子どもへの虐待をなくすための法律ができて、親が子どもを教育するために、"
                "たたいたり蹴ったりする体罰を禁止することになりました。")
    assert extract.word_count(sentence) >= 50
