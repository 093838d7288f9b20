"""Discovery end to end: sources config, JSON Feed, sitemaps, WARC re-import, conditional GET, hostile XML
and SSRF through sitemaps. Real HTTP servers on 127.0.0.1 and real DuckDB files; nothing of ours is mocked."""

from __future__ import annotations

import dataclasses
import gzip
import io
import json
import threading
from datetime import datetime
from pathlib import Path

import duckdb
import pytest

from pipelines import feeds, run, runs, staging
from pipelines.client import Client
from pipelines.models import Candidate, FeedState, LogRecord
from pipelines.settings import REPO_ROOT
from pipelines.sources import FIELDS, KINDS, Source, SourcesError, load_sources, selected
from tests.conftest import SHARED, Site, needs_shared, page

FEEDS = SHARED / "fixtures" / "feeds_rss_parser" / "input"
DAY = datetime(2026, 11, 24)
NEXT = datetime(2026, 11, 25)

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
<!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
<!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
<!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
<!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
<!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
<!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">]>
"""


@pytest.fixture
def server():
    """The shared loopback Site, serving XML unless a route says otherwise."""
    s = Site(ctype="application/xml")
    yield s
    s.close()


def ctx(**kw) -> feeds.Context:
    client = Client(user_agent="newsmon-test", timeout=5, max_bytes=1_000_000, host_delay=0)
    return feeds.Context(client=client, max_bytes=1_000_000, **kw)


def found(source: Source, **kw):
    records = list(feeds.discover(source, ctx(**kw)))
    return ([r for r in records if isinstance(r, Candidate)], [r for r in records if isinstance(r, LogRecord)],
            [r for r in records if isinstance(r, FeedState)])


def write_sources(settings, text: str) -> None:
    settings.sources_path.write_text(text, encoding="utf-8")


def rss(*items: tuple[str, str, str]) -> str:
    body = "".join(f"<item><title>{t}</title><link>{u}</link><pubDate>{d}</pubDate></item>" for t, u, d in items)
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>{body}</channel></rss>'


def urlset(*entries: str, news: bool = False) -> str:
    ns = ' xmlns:news="http://www.google.com/schemas/sitemap-news/0.9"' if news else ""
    return f'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"{ns}>{"".join(entries)}</urlset>'


def index(*children: tuple[str, str | None]) -> str:
    items = "".join(f"<sitemap><loc>{u}</loc>" + (f"<lastmod>{m}</lastmod>" if m else "") + "</sitemap>"
                    for u, m in children)
    return f'<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{items}</sitemapindex>'


# ---------------------------------------------------------------- the sources file


def test_source_errors_name_the_file_the_line_and_the_field(tmp_path):
    path = tmp_path / "sources.yaml"
    head = "# comment\nsources:\n  - name: ok\n    kind: rss\n    url: https://example.com/rss\n"
    cases = [  # (the bad source, its line of the fault, the field)
        ("  - name: b\n    kind: gopher\n    url: https://x.test/\n", 7, "kind"),
        ("  - name: b\n    kind: sitemap\n    language: en\n", 6, "url"),
        ("  - name: b\n    kind: rss\n    url: https://x.test/\n    tags: news\n", 9, "tags"),
        ("  - name: b\n    kind: rss\n    url: https://x.test/\n    enabled: 'no'\n", 9, "enabled"),
        ("  - name: b\n    kind: warc\n    url: https://x.test/\n", 6, "path"),
        ("  - name: ok\n    kind: urls\n    urls: [https://x.test/a]\n", 6, "name"),
        ("  - name: b\n    kind: rss\n    url: ftp://x.test/\n", 8, "url"),
        ("  - name: b\n    kind: rss\n    url: https://x.test/\n    colour: red\n", 9, "colour"),
    ]
    for bad, line, fld in cases:
        path.write_text(head + bad)
        with pytest.raises(SourcesError) as err:
            load_sources(path)
        message = str(err.value)
        assert message.startswith(f"{path}:{line}: sources[1]"), message
        assert f"field '{fld}'" in message, message
    path.write_text("sources:\n  - {name: a, kind: rss, url: 'https://x.test/'\n")
    with pytest.raises(SourcesError, match=rf"^{path}:\d+: invalid YAML"):
        load_sources(path)


def test_every_kind_loads_and_tags_select_sources(tmp_path):
    path = tmp_path / "sources.yaml"
    path.write_text("""sources:
  - {name: a, kind: rss, url: 'https://x.test/rss', tags: [world, en]}
  - {name: b, kind: jsonfeed, url: 'https://x.test/feed.json', tags: [tech]}
  - {name: c, kind: sitemap, url: 'https://x.test/sitemap.xml', tags: [world]}
  - {name: d, kind: sitemap, path: maps/sitemap.xml}
  - {name: e, kind: urls, urls: ['https://x.test/a']}
  - {name: f, kind: folder, path: inbox, enabled: false, tags: [world]}
  - {name: g, kind: warc, path: crawl.warc.gz, local: true}
""")
    sources = load_sources(path)
    assert [x.kind for x in sources] == ["rss", "jsonfeed", "sitemap", "sitemap", "urls", "folder", "warc"]
    assert sources[3].path == str((tmp_path / "maps" / "sitemap.xml").resolve()) and sources[6].local
    assert [x.name for x in selected(sources, ["world"])] == ["a", "c"]  # f is disabled
    assert [x.name for x in selected(sources)] == ["a", "b", "c", "d", "e", "g"]


def test_the_example_sources_file_is_valid_and_documents_every_kind_and_field():
    path = REPO_ROOT / "config" / "sources.example.yaml"
    sources = load_sources(path)
    text = path.read_text()
    assert {x.kind for x in sources} == set(KINDS)
    assert all(f"#   {f}" in text or f"# {f}" in text for f in FIELDS)
    assert any(x.kind == "sitemap" and x.url and x.url.startswith("https://") and x.enabled for x in sources)


# ---------------------------------------------------------------- feeds


def test_json_feeds_are_read_as_json_feed_or_by_content_under_rss(server):
    doc = {"version": "https://jsonfeed.org/version/1.1", "title": "J", "home_page_url": server.url + "/",
           "items": [{"id": "1", "url": "/2026/port-strike", "title": "Port strike ends",
                      "date_published": "2026-11-24T11:00:00+02:00"},
                     {"id": "2", "external_url": "https://other.test/story", "date_modified": "2026-11-23"},
                     {"id": "3", "title": "no link"}]}
    url = server.add("/feed.json", json.dumps(doc), "application/feed+json")
    v10 = server.add("/v1.json", json.dumps(dict(doc, version="https://jsonfeed.org/version/1")), "application/json")
    for kind, where in (("jsonfeed", url), ("rss", url), ("rss", v10)):
        cands, logs, _ = found(Source(name="j", kind=kind, url=where, local=True))
        assert [(c.url, c.feed_title, c.feed_published) for c in cands] == [
            (server.url + "/2026/port-strike", "Port strike ends", datetime(2026, 11, 24, 9, 0)),
            ("https://other.test/story", None, datetime(2026, 11, 23)),
        ]
        assert [r.reason for r in logs] == ["feed entry without a link"]
    rss_url = server.add("/rss.xml", rss(("A", "https://x.test/a", "Tue, 24 Nov 2026 09:00:00 GMT")))
    _, logs, _ = found(Source(name="j", kind="jsonfeed", url=rss_url, local=True))
    assert len(logs) == 1 and logs[0].reason.startswith("not a JSON Feed")


@needs_shared(FEEDS)
def test_a_latin1_feed_that_declares_nothing_is_decoded_over_http(server):
    # uolNoticias.rss has no XML declaration and Latin-1 bytes; the server claims UTF-8, as such servers do.
    url = server.add("/uol.rss", (FEEDS / "uolNoticias.rss").read_bytes(), "application/rss+xml; charset=utf-8")
    cands, logs, _ = found(Source(name="uol", kind="rss", url=url, local=True))
    assert len(cands) == 15 and logs == []
    assert cands[0].feed_title == "Ibope: Bolsonaro perde de Haddad, Ciro e Alckmin em simulações de 2º turno"
    assert not any("\ufffd" in (c.feed_title or "") for c in cands)


def test_hostile_feeds_and_sitemaps_are_refused_with_a_reason(tmp_path, server):
    bomb_feed = server.add("/bomb.rss", BILLION_LAUGHS + b'<rss version="2.0"><channel><title>&lol9;</title>'
                           b"<item><title>&lol9;</title><link>https://x.test/a</link></item></channel></rss>")
    xxe_feed = server.add("/xxe.rss", b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
                          b'<rss version="2.0"><channel><item><title>&x;</title><link>https://x.test/b</link>'
                          b"</item></channel></rss>")
    bomb_map = server.add("/bomb.xml", BILLION_LAUGHS + urlset("<url><loc>https://x.test/&lol9;</loc></url>").split(
        "?>", 1)[1].encode())
    for kind, url in (("rss", bomb_feed), ("rss", xxe_feed), ("sitemap", bomb_map)):
        cands, logs, _ = found(Source(name="h", kind=kind, url=url, local=True))
        assert cands == []
        assert len(logs) == 1 and logs[0].reason.startswith("refused unsafe XML") and logs[0].stage == "discover"
    # A DOCTYPE without entity declarations (RSS 0.91's) and an HTML entity are not hostile.
    legit = server.add("/rss091.xml", b'<?xml version="1.0"?><!DOCTYPE rss PUBLIC "-//Netscape Communications//DTD '
                       b'RSS 0.91//EN" "http://my.netscape.com/publish/formats/rss-0.91.dtd"><rss version="0.91">'
                       b"<channel><item><title>A&nbsp;b</title><link>https://x.test/a</link></item></channel></rss>")
    cands, logs, _ = found(Source(name="h", kind="rss", url=legit, local=True))
    assert [c.url for c in cands] == ["https://x.test/a"] and logs == []
    # Fetch reads non-http URLs as local files: a feed or sitemap may not list one.
    (tmp_path / "secret.txt").write_text("a local secret")
    secret = (tmp_path / "secret.txt").as_uri()
    server.add("/files.xml", urlset(f"<url><loc>{secret}</loc></url>"))
    files = server.add("/files-index.xml", index((secret, None), (server.url + "/files.xml", None)))
    files_feed = server.add("/files.rss", rss(("S", secret, "Tue, 24 Nov 2026 09:00:00 GMT")))
    for kind, url in (("sitemap", files), ("rss", files_feed)):
        cands, logs, _ = found(Source(name="h", kind=kind, url=url, local=True))
        assert cands == [] and logs and all(r.url.startswith("file:") and r.url.endswith("secret.txt") for r in logs)
        assert all(r.reason.startswith(("refused: listed URL is not http(s)", "unsupported URL scheme")) for r in logs)
    gz_bomb = server.add("/bomb.xml.gz", gzip.compress(b" " * 3_000_000), "application/gzip")
    cands, logs, _ = found(Source(name="h", kind="sitemap", url=gz_bomb, local=True))
    assert cands == [] and "inflates past" in logs[0].reason


# ---------------------------------------------------------------- sitemaps


def test_a_sitemap_index_leads_to_news_and_gzipped_urlsets_and_skips_old_children(server):
    news = urlset(
        "<url><loc>https://news.test/a</loc><lastmod>2026-11-25T01:00:00Z</lastmod><news:news>"
        "<news:publication><news:name>N</news:name><news:language>en</news:language></news:publication>"
        "<news:publication_date>2026-11-24T10:30:00+01:00</news:publication_date>"
        "<news:title>Port strike ends</news:title></news:news></url>",
        "<url><loc> https://news.test/b </loc></url>", news=True)
    pages = urlset("<url><loc>https://news.test/c</loc><lastmod>2026-11-24</lastmod></url>")
    server.add("/news.xml", news)
    server.add("/pages.xml.gz", gzip.compress(pages.encode()), "application/x-gzip")
    server.add("/archive-2019.xml", urlset("<url><loc>https://news.test/old</loc></url>"))
    root = server.add("/sitemap_index.xml", index(
        (server.url + "/archive-2019.xml", "2019-12-31"), (server.url + "/pages.xml.gz", "2026-11-24T08:00:00Z"),
        (server.url + "/news.xml", "2026-11-24T12:00:00Z"), (server.url + "/sitemap_index.xml", None)))
    cands, logs, _ = found(Source(name="s", kind="sitemap", url=root, local=True), since=datetime(2026, 11, 23))
    assert logs == []
    assert [(c.url, c.feed_title, c.feed_published) for c in cands] == [
        ("https://news.test/a", "Port strike ends", datetime(2026, 11, 24, 9, 30)),  # publication_date, not lastmod
        ("https://news.test/b", None, None),
        ("https://news.test/c", None, datetime(2026, 11, 24)),  # lastmod as the fallback
    ]
    assert "/archive-2019.xml" not in server.paths()  # its lastmod is before the run cares
    assert server.paths().count("/sitemap_index.xml") == 1  # a loop is not followed


def test_sitemap_nesting_is_capped(server):
    server.add("/d3.xml", urlset("<url><loc>https://news.test/deep</loc></url>"))
    server.add("/d2.xml", index((server.url + "/d3.xml", None)))
    server.add("/d1.xml", index((server.url + "/d2.xml", None)))
    root = server.add("/d0.xml", index((server.url + "/d1.xml", None)))
    cands, logs, _ = found(Source(name="s", kind="sitemap", url=root, local=True))
    assert cands == [] and "nested deeper" in logs[0].reason and logs[0].url == server.url + "/d3.xml"
    assert "/d3.xml" not in server.paths()


def test_sitemaps_cannot_reach_private_addresses_for_a_non_local_source(tmp_path, settings, server):
    server.add("/child.xml", urlset("<url><loc>https://news.test/x</loc></url>"))
    server.add("/a.html", page("Secret intranet page", ["An internal page that must never be fetched."]),
               "text/html")
    children = [server.url + "/child.xml", "http://169.254.169.254/latest/meta-data/", "http://10.0.0.1/s.xml"]
    (tmp_path / "index.xml").write_text(index(*[(u, None) for u in children]))
    articles = [server.url + "/a.html", "http://169.254.169.254/latest/meta-data/iam", "http://10.0.0.1/story"]
    (tmp_path / "urls.xml").write_text(urlset(*[f"<url><loc>{u}</loc></url>" for u in articles]))
    write_sources(settings, f"""sources:
  - {{name: idx, kind: sitemap, path: {tmp_path / 'index.xml'}}}
  - {{name: map, kind: sitemap, path: {tmp_path / 'urls.xml'}}}
""")
    ref = runs.new_run(settings, "daily", DAY, NEXT)
    counts = run.discover(settings, ref)
    assert counts["discovered"] == 3 and counts["discover_failed"] == 3
    counts = run.fetch_stage(settings, ref)
    assert counts["fetched"] == 0 and counts["fetch_failed"] == 3
    assert server.paths() == []  # neither the child sitemap nor the article was requested
    run.check(settings, ref)
    run.load(settings, ref, DAY)
    con = duckdb.connect(str(settings.db_path), read_only=True)
    rows = con.execute("select source, stage, url, reason from fetch_log order by stage, url").fetchall()
    con.close()
    assert {(src, stage, url) for src, stage, url, _ in rows} == (
        {("idx", "discover", u) for u in children} | {("map", "fetch", u) for u in articles})
    assert all("non-public address" in reason for *_, reason in rows)


# ---------------------------------------------------------------- concurrency, failures, conditional GET


def test_sources_are_read_concurrently_and_listed_in_their_order(settings, server):
    # Feeds go through the pages' client: on one host, as here, as many at once as the host allows.
    settings = dataclasses.replace(settings, host_connections=4, host_delay=0)
    gate = threading.Barrier(4, timeout=10)  # a one-by-one discovery would break the barrier
    lines = ["sources:"]
    for i in range(4):
        url = server.add(f"/f{i}.xml", rss((f"S{i}", f"https://x.test/{i}", "Tue, 24 Nov 2026 09:00:00 GMT")),
                         barrier=gate)
        lines.append(f"  - {{name: s{i}, kind: rss, url: '{url}', local: true}}")
    lines.append(f"  - {{name: down, kind: rss, url: '{server.add('/down.xml', 'x', status=503)}', local: true}}")
    write_sources(settings, "\n".join(lines) + "\n")
    ref = runs.new_run(settings, "daily", DAY, NEXT)
    counts = run.discover(settings, ref)
    assert counts["discovered"] == 4 and counts["discover_failed"] == 1
    listed = [c["url"] for c in staging.read_rows(settings, ref, "candidates")]
    assert listed == [f"https://x.test/{i}" for i in range(4)]
    (log,) = json.loads((Path(ref["dir"]) / "log_discover.json").read_text())
    assert (log["source"], log["http_status"], log["reason"]) == ("down", 503,
                                                                   "HTTP 503 Service Unavailable (after 3 attempts)")


def test_a_304_is_counted_and_replays_the_stored_body(settings, server):
    feed = rss(("Yesterday", "https://x.test/a", "Tue, 24 Nov 2026 09:00:00 GMT"),
               ("Just after midnight", "https://x.test/b", "Wed, 25 Nov 2026 00:10:00 GMT"))
    url = server.add("/feed.xml", feed, "application/rss+xml", etag='"v1"')
    stamp = "Tue, 24 Nov 2026 23:00:00 GMT"
    sitemap = server.add("/news.xml", urlset("<url><loc>https://x.test/c</loc><lastmod>2026-11-25</lastmod></url>"),
                         modified=stamp)
    write_sources(settings, f"sources:\n  - {{name: f, kind: rss, url: '{url}', local: true}}\n"
                            f"  - {{name: s, kind: sitemap, url: '{sitemap}', local: true}}\n")

    first = runs.new_run(settings, "daily", DAY, NEXT)
    counts = run.discover(settings, first)
    assert counts["not_modified"] == 0 and [c["url"] for c in staging.read_rows(settings, first, "candidates")] == [
        "https://x.test/a"]  # b is after the window
    run.check(settings, first)
    run.load(settings, first, DAY)
    assert not any("If-None-Match" in h or "If-Modified-Since" in h for _, h in server.seen)

    second = runs.new_run(settings, "daily", NEXT, datetime(2026, 11, 26))
    seen = len(server.seen)
    counts = run.discover(settings, second)
    asked = dict(server.seen[seen:])
    assert asked["/feed.xml"].get("If-None-Match") == '"v1"' and asked["/news.xml"].get("If-Modified-Since") == stamp
    # Both are unchanged, and b, listed already at the first run but after its window, is still found.
    assert counts["not_modified"] == 2
    listed = {c["url"] for c in staging.read_rows(settings, second, "candidates")}
    assert {"https://x.test/b", "https://x.test/c"} <= listed
    run.check(settings, second)
    run.load(settings, second, NEXT)
    # A backfill of an older day loads afterwards: the newer state stays.
    backfill = runs.new_run(settings, "daily", datetime(2026, 11, 20), datetime(2026, 11, 21))
    run.discover(settings, backfill)
    run.check(settings, backfill)
    run.load(settings, backfill, datetime(2026, 11, 20))
    con = duckdb.connect(str(settings.db_path), read_only=True)
    state = con.execute("select url, source, etag, last_modified, status, checked_at from feed_state "
                        "order by source").fetchall()
    con.close()
    assert state == [(url, "f", '"v1"', None, 304, datetime(2026, 11, 26)),
                     (sitemap, "s", None, stamp, 304, datetime(2026, 11, 26))]


# ---------------------------------------------------------------- WARC re-import


def write_warc(path: Path, records: list[tuple[str, int, str, bytes]]) -> None:
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    with path.open("wb") as fh:
        writer = WARCWriter(fh, gzip=True)
        for url, status, ctype, body in records:
            headers = StatusAndHeaders(f"{status} X", [("Content-Type", ctype)], protocol="HTTP/1.1")
            request = io.BytesIO(b"GET / HTTP/1.1\r\n\r\n")
            writer.write_record(writer.create_warc_record(url, "request", payload=request))
            writer.write_record(writer.create_warc_record(url, "response", payload=io.BytesIO(body),
                                                          http_headers=headers))


def test_a_warc_file_is_imported_without_refetching(tmp_path, settings):
    html = page("Port strike ends", [
        "Dockworkers in Rotterdam returned to work on Monday after a three-day strike over automation plans.",
        "The union said the agreement protects every job at the terminal for the next five years.",
    ]).encode()
    # news.invalid cannot resolve: a fetch of it would fail and be counted.
    write_warc(tmp_path / "crawl.warc.gz", [
        ("https://news.invalid/port-strike", 200, "text/html; charset=utf-8", html),
        ("https://news.invalid/logo.png", 200, "image/png", b"\x89PNG\r\n"),
        ("https://news.invalid/zurich", 200, "text/html; charset=iso-8859-1", page("Zürich court rules", [
            "The court in Zürich ruled on Tuesday that the müller family may keep the mill it has run since 1870.",
            "Lawyers for both sides said they would study the judgment before deciding whether to appeal it.",
        ]).replace('<meta charset="utf-8">', "").encode("latin-1")),
        ("https://news.invalid/gone", 404, "text/html", b"<html>not found</html>"),
    ])
    write_sources(settings, "sources:\n  - {name: crawl, kind: warc, path: crawl.warc.gz}\n"
                            "  - {name: broken, kind: warc, path: missing.warc}\n")
    ref = runs.new_run(settings, "daily", DAY, NEXT)
    counts = run.discover(settings, ref)
    assert counts["discovered"] == 2 and counts["discover_failed"] == 2
    logs = json.loads((Path(ref["dir"]) / "log_discover.json").read_text())
    assert {(x["source"], x["reason"].split(":")[0]) for x in logs} == {("crawl", "WARC record"),
                                                                        ("broken", "cannot read WARC")}
    counts = run.fetch_stage(settings, ref)
    assert counts["fetched"] == 2 and counts["fetch_failed"] == 0
    counts = run.extract_stage(settings, ref)
    assert counts["extracted"] == 2
    strike, zurich = staging.read_rows(settings, ref, "articles")
    assert strike["url"] == "https://news.invalid/port-strike" and strike["title"] == "Port strike ends"
    assert "three-day strike" in strike["text"] and strike["fetched_at"] == NEXT
    assert zurich["title"] == "Zürich court rules" and "müller family" in zurich["text"]  # the record's charset


def test_a_feed_disallowed_by_robots_txt_is_not_requested(settings, server):
    feed = server.add("/private/feed.xml", rss(("A", "https://x.test/a", "Tue, 24 Nov 2026 09:00:00 GMT")))
    server.add("/robots.txt", "User-agent: *\nDisallow: /private/\n", "text/plain")
    open_feed = server.add("/feed.xml", rss(("B", "https://x.test/b", "Tue, 24 Nov 2026 09:00:00 GMT")))
    write_sources(settings, f"sources:\n  - {{name: closed, kind: rss, url: '{feed}', local: true}}\n"
                            f"  - {{name: open, kind: rss, url: '{open_feed}', local: true}}\n")
    ref = runs.new_run(settings, "daily", DAY, NEXT)
    counts = run.discover(settings, ref)
    assert counts["discovered"] == 1 and counts["discover_failed"] == 1
    (log,) = json.loads((Path(ref["dir"]) / "log_discover.json").read_text())
    assert (log["source"], log["reason"]) == ("closed", "disallowed by robots.txt")
    assert "/private/feed.xml" not in server.paths() and server.paths().count("/robots.txt") == 1


def test_feed_entries_whose_page_is_lost_or_empty_are_kept_from_their_own_text(settings, server):
    nav = page("Markets", ["Home"])  # a page without an article
    server.add("/nav.html", nav, "text/html; charset=utf-8")
    items = (
        f'<item><title>Port strike</title><link>{server.url}/gone.html</link>'
        '<pubDate>Tue, 24 Nov 2026 09:00:00 GMT</pubDate>'
        '<description>&lt;p&gt;Meridian Port Holdings halted all trading at its Rotterdam terminals on Tuesday after '
        'the union called a strike over the new automation plans.&lt;/p&gt;</description></item>'
        f'<item><title>Greve</title><link>{server.url}/nav.html</link>'
        '<pubDate>Tue, 24 Nov 2026 10:00:00 GMT</pubDate>'
        '<description>Greve no porto.</description></item>'
        f'<item><title>Bare</title><link>{server.url}/bare.html</link>'
        '<pubDate>Tue, 24 Nov 2026 11:00:00 GMT</pubDate></item>'
    )
    url = server.add("/feed.xml", f'<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>{items}'
                                  "</channel></rss>", "application/rss+xml")
    write_sources(settings, f"sources:\n  - {{name: wire, kind: rss, url: '{url}', local: true, language: pt}}\n")
    ref = runs.new_run(settings, "daily", DAY, NEXT)
    counts = run.run_all(settings, ref, logical_date=DAY)
    # The page without an article is not dropped (its feed entry is the article), so it is no loss.
    assert counts["kept_from_feed_entry"] == 2 and counts["no_article_in_page"] == 0
    con = duckdb.connect(str(settings.db_path), read_only=True)
    try:
        arts = {r[0].rsplit("/", 1)[1]: r[1:] for r in con.execute(
            "select url, text, language, title from articles").fetchall()}
        logs = dict(con.execute("select regexp_extract(url, '[^/]+$'), reason from fetch_log").fetchall())
        fetched = con.execute("select count(*) from fetched where language = 'pt' and summary_sha256 is not null"
                              ).fetchone()[0]
    finally:
        con.close()
    # A clearly English text beats the source's declared language.
    assert arts["gone.html"] == ("Meridian Port Holdings halted all trading at its Rotterdam terminals on Tuesday "
                                 "after the union called a strike over the new automation plans.", "en", "Port strike")
    # Three words are too few to identify: the source's declared language wins.
    assert arts["nav.html"] == ("Greve no porto.", "pt", "Greve")
    assert "bare.html" not in arts and logs["bare.html"].startswith("HTTP 404")
    assert logs["gone.html"].startswith("HTTP 404") and "nav.html" not in logs
    assert fetched == 2
    # A reprocess rebuilds the same articles from what the run stored.
    run.reprocess(settings, DAY, NEXT)
    con = duckdb.connect(str(settings.db_path), read_only=True)
    try:
        again = {r[0].rsplit("/", 1)[1]: r[1:] for r in con.execute(
            "select url, text, language, title from articles").fetchall()}
    finally:
        con.close()
    assert again == arts


def test_a_feed_answering_429_is_retried_after_retry_after_and_given_up_with_its_reason(settings, servers):
    site = servers()
    asked = {"/busy.xml": 0, "/patient.xml": 0}
    feed = rss(("Story", "https://x.test/a", "Tue, 24 Nov 2026 09:00:00 GMT")).encode()

    def busy_until(n: int, path: str):
        def route(_handler):
            asked[path] += 1
            if asked[path] <= n:
                return 429, {"Content-Type": "text/plain", "Retry-After": "1"}, b"slow down"
            return 200, {"Content-Type": "application/rss+xml"}, feed
        return route

    site.routes["/patient.xml"] = busy_until(2, "/patient.xml")  # the third attempt is answered
    site.routes["/busy.xml"] = busy_until(3, "/busy.xml")  # every attempt of the three is refused
    write_sources(settings, f"sources:\n  - {{name: patient, kind: rss, url: '{site.url}/patient.xml', local: true}}\n"
                            f"  - {{name: busy, kind: rss, url: '{site.url}/busy.xml', local: true}}\n")
    ref = runs.new_run(settings, "daily", DAY, NEXT)
    counts = run.discover(settings, ref)

    assert counts["discovered"] == 1 and asked == {"/patient.xml": 3, "/busy.xml": 3}
    (log,) = json.loads((Path(ref["dir"]) / "log_discover.json").read_text())
    assert (log["source"], log["http_status"], log["reason"]) == (
        "busy", 429, "HTTP 429 Too Many Requests (after 3 attempts)")
    times = site.times("/patient.xml")
    assert times[1] - times[0] >= 0.95 and times[2] - times[1] >= 0.95  # Retry-After: 1, each time


def test_a_sitemap_source_naming_only_a_site_starts_from_its_robots_txt(settings, server):
    server.add("/robots.txt", f"User-agent: *\nSitemap: {server.url}/news-sitemap.xml\n", "text/plain")
    server.add("/news-sitemap.xml", urlset("<url><loc>https://x.test/listed</loc><lastmod>2026-11-24</lastmod></url>"))
    server.add("/sitemap.xml", urlset("<url><loc>https://x.test/conventional</loc></url>"))
    write_sources(settings, f"sources:\n  - {{name: site, kind: sitemap, url: '{server.url}/', local: true}}\n")
    ref = runs.new_run(settings, "daily", DAY, NEXT)
    run.discover(settings, ref)
    assert [c["url"] for c in staging.read_rows(settings, ref, "candidates")] == ["https://x.test/listed"]

    server.add("/robots.txt", "User-agent: *\nDisallow:\n", "text/plain")  # no Sitemap: line
    ref = runs.new_run(settings, "daily", NEXT, NEXT + (NEXT - DAY))
    run.discover(settings, ref)
    assert [c["url"] for c in staging.read_rows(settings, ref, "candidates")] == ["https://x.test/conventional"]
