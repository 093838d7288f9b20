import json
import os
import subprocess
import sys
from datetime import datetime

from pipelines.models import article_id, canonical_url, entity_id, run_id
from pipelines.settings import REPO_ROOT


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


IDS_SCRIPT = """
import json, sys
from datetime import datetime
from pipelines import dedupe
from pipelines.models import article_id, entity_id, run_id
text = "Port officials said the ferries to the islands would run on the summer timetable from Friday."
print(json.dumps({
    "article": article_id("https://News.example.com/world/story?id=7&utm_source=rss#c"),
    "entity": entity_id("PERSON", "volodymyr grotskov"),
    "run": run_id("daily", datetime(2026, 11, 24), datetime(2026, 11, 25)),
    "minhash": dedupe.minhash(text),
    "content_hash": dedupe.content_hash(text),
}))
"""


def test_ids_and_signatures_are_the_same_in_two_separate_processes():
    # Two interpreters with different hash seeds: nothing may depend on Python's per-process str hash.
    outputs = [subprocess.run([sys.executable, "-c", IDS_SCRIPT], capture_output=True, text=True, check=True,
                              cwd=REPO_ROOT, env={**os.environ, "PYTHONHASHSEED": seed}).stdout
               for seed in ("1", "2")]
    first, second = (json.loads(o) for o in outputs)
    assert first == second
    assert first["run"] == run_id("daily", datetime(2026, 11, 24), datetime(2026, 11, 25))
    assert first["article"] == article_id("https://news.example.com/world/story?id=7")
