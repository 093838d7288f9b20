from datetime import datetime

from pipelines import dedupe

STORY = ("Dockworkers in Rotterdam voted on Monday to strike for three days over the port's automation plan, "
         "the union said. Union leader Tomas Okafor said more than 300 workers would walk out at dawn and "
         "that talks with Meridian Port Holdings had failed after six weeks. The port authority said it "
         "would keep the container terminals open with managers and contractors during the stoppage.")


def art(aid, text, day):
    return {"article_id": aid, "published_at": datetime(2026, 11, day), "content_hash": dedupe.content_hash(text),
            "minhash": dedupe.minhash(text)}


def test_syndicated_copy_points_at_the_first_copy():
    copy = STORY.replace("the union said", "according to the union") + " This story first appeared elsewhere."
    other = "Lisbon opened a new shore power berth for cruise ships on Tuesday, the city said. " * 3
    batch = [art("b", copy, 24), art("a", STORY, 23), art("c", other, 24)]
    assert dedupe.find_duplicates(batch, []) == {"b": "a"}


def test_exact_copy_against_stored_articles_and_a_later_stored_copy_is_not_claimed():
    stored = [dict(art("s", STORY, 22), duplicate_of=None)]
    assert dedupe.find_duplicates([art("n", STORY.upper(), 23)], stored) == {"n": "s"}
    assert dedupe.find_duplicates([art("n", STORY, 21)], stored) == {}


def test_signatures_are_stable_across_calls():
    assert dedupe.minhash(STORY) == dedupe.minhash(STORY)
    assert dedupe.similarity(dedupe.minhash(STORY), dedupe.minhash(STORY)) == 1.0
