from datetime import datetime

from pipelines.models import article_id, canonical_url, entity_id, run_id


def test_tracking_parameters_and_fragments_do_not_change_the_article_id():
    a = "https://News.example.com/world/story?id=7&utm_source=rss&utm_medium=feed#comments"
    b = "https://news.example.com/world/story?id=7"
    assert canonical_url(a) == b
    assert article_id(a) == article_id(b)
    assert article_id(b) != article_id("https://news.example.com/world/story?id=8")


def test_ids_are_deterministic_and_typed():
    assert entity_id("PERSON", "jane doe") == entity_id("PERSON", "jane doe")
    assert entity_id("PERSON", "jordan") != entity_id("LOCATION", "jordan")
    day = datetime(2026, 11, 24)
    assert run_id("daily", day, datetime(2026, 11, 25)) == run_id("daily", day, datetime(2026, 11, 25))
    assert run_id("daily", day, datetime(2026, 11, 25)) != run_id("daily", datetime(2026, 11, 23), day)


def test_local_file_urls_are_kept_as_given():
    assert canonical_url("file:///tmp/a%20b.txt") == "file:///tmp/a%20b.txt"
