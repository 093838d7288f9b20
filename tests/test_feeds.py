from pathlib import Path

import pytest

from pipelines import feeds
from pipelines.models import Candidate, LogRecord
from pipelines.sources import Source, SourcesError, load_sources
from tests.conftest import SHARED, needs_shared

FEEDS = SHARED / "fixtures" / "feeds_rss_parser" / "input"


def write(tmp_path, text):
    p = tmp_path / "sources.yaml"
    p.write_text(text)
    return p


def test_sources_are_validated_with_file_source_and_field(tmp_path):
    ok = write(tmp_path, "sources:\n  - {name: a, kind: rss, url: 'https://example.com/rss'}\n"
                         "  - {name: b, kind: folder, path: inbox, enabled: false}\n")
    a, b = load_sources(ok)
    assert a.kind == "rss" and not a.local and b.path == str((tmp_path / "inbox").resolve()) and not b.enabled
    cases = {
        "sources:\n  - {name: a, kind: gopher, url: x}\n": "kind",
        "sources:\n  - {name: a, kind: rss}\n": "needs 'url'",
        "sources:\n  - {kind: rss, url: 'https://x.test/'}\n": "'name' is required",
        "sources:\n  - {name: a, kind: rss, url: x}\n": "http",
        "sources:\n  - {name: a, kind: rss, url: 'https://x.test/', colour: red}\n": "colour",
        "sources:\n  - {name: a, kind: rss, url: 'https://x.test/'}\n"
        "  - {name: a, kind: rss, url: 'https://y.test/'}\n": "duplicate",
        "feeds: []\n": "sources:",
        "sources: [\n": "invalid YAML",
    }
    for text, message in cases.items():
        with pytest.raises(SourcesError, match=message) as err:
            load_sources(write(tmp_path, text))
        assert str(tmp_path / "sources.yaml") in str(err.value)


@needs_shared(FEEDS)
@pytest.mark.parametrize("name,entries", [("guardian.rss", 55), ("heise.atom", 15), ("uolNoticias.rss", 15),
                                          ("encoding.rss", 40), ("rss-1.rss", 69)])
def test_real_feeds_parse(name, entries):
    src = Source(name="f", kind="rss", url="https://example.com/feed")
    found = list(feeds.parse_feed((FEEDS / name).read_bytes(), src))
    cands = [c for c in found if isinstance(c, Candidate)]
    assert len(cands) == entries
    assert all(c.url.startswith("http") for c in cands)


def test_garbage_is_not_a_feed():
    src = Source(name="f", kind="rss", url="https://example.com/feed")
    (record,) = feeds.parse_feed(b"<html><body>hello</body></html>", src)
    assert isinstance(record, LogRecord) and record.stage == "discover"


def test_folders_are_walked_for_article_files(tmp_path):
    (tmp_path / "sub").mkdir()
    for name in ("a.html", "sub/b.txt", "sub/c.json", "d.png"):
        (tmp_path / name).write_text("x")
    found = list(feeds.local_candidates([tmp_path, tmp_path / "missing.txt"]))
    urls = sorted(Path(c.url[7:]).name for c in found if isinstance(c, Candidate))
    assert urls == ["a.html", "b.txt", "c.json"]
    assert any(isinstance(r, LogRecord) and "no such file" in r.reason for r in found)
