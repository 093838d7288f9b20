"""Hostile pages, files, feeds and sitemaps through the real extraction and discovery code: does every
input give a result or a reason, within a time budget and without a memory blowup?

    .venv/bin/python benchmarks/fuzz.py [--small] [--budget 60] [--only KIND]

Each kind runs in its own child process (so its peak RSS is its own, and a hang can be killed): the
child loads the libraries, reports its RSS then (the baseline), and runs every input of the kind,
reporting one line per input. An input that takes longer than --budget seconds is recorded as a hang
and the child restarted after it. Inputs are generated from a fixed seed: the same run gives the same
table.

Outcomes: `result` (an article, or feed entries), `reason` (ExtractionError, a LogRecord, SitemapError,
FetchError: what fetch_log would record), `crash` (any other exception escaped: a bug), `hang`.
Articles go through stages.extract.extract_one with the body stored in a raw folder, as the extract stage does.
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import queue
import random
import resource
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

MB = 1_000_000
WORDS = ("the minister said on Monday that talks with the port authority would resume after new sanctions "
         "were announced by the council while dockers and shipping firms waited for cargo to move again").split()


def prose(rng: random.Random, n_words: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n_words))


def page(rng: random.Random, paragraphs: int = 8) -> bytes:
    body = "".join(f"<p>{prose(rng, 40)}.</p>" for _ in range(paragraphs))
    return (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Port talks resume</title>'
            f'<meta property="article:published_time" content="2026-11-24T09:00:00Z"></head><body>'
            f"<header><nav><a href='/'>Home</a></nav></header><main><article><h1>Port talks resume</h1>"
            f"{body}</article></main><footer>All rights reserved</footer></body></html>").encode()


def rss(rng: random.Random, items: int = 5) -> bytes:
    entries = "".join(f"<item><title>Story {i}</title><link>https://news.example/s{i}</link>"
                      f"<pubDate>Tue, 24 Nov 2026 09:{i % 60:02d}:00 GMT</pubDate></item>" for i in range(items))
    return (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Wire</title>'
            f"<link>https://news.example/</link>{entries}</channel></rss>").encode()


def atom(rng: random.Random, items: int = 5) -> bytes:
    entries = "".join(f'<entry><title>Story {i}</title><link href="https://news.example/a{i}"/>'
                      f"<updated>2026-11-24T09:00:00Z</updated></entry>" for i in range(items))
    return f'<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>W</title>{entries}</feed>'.encode()


def json_feed(items: list) -> bytes:
    return json.dumps({"version": "https://jsonfeed.org/version/1.1", "title": "W", "items": items}).encode()


def sitemap(n: int = 5, lastmod: str = "2026-11-24") -> bytes:
    urls = "".join(f"<url><loc>https://news.example/m{i}</loc><lastmod>{lastmod}</lastmod></url>" for i in range(n))
    return (f'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}'
            "</urlset>").encode()


def cuts(doc: bytes, n: int) -> list[tuple[str, bytes]]:
    """The document cut off at n points spread over its length (a connection dropped mid-body)."""
    return [(f"cut at {k * len(doc) // (n + 1)} of {len(doc)}", doc[: k * len(doc) // (n + 1)])
            for k in range(1, n + 1)]


def garbage(rng: random.Random, n: int, big: int) -> list[tuple[str, bytes]]:
    magic = [b"", b"\x89PNG\r\n\x1a\n", b"\x1f\x8b\x08\x00", b"%PDF-1.7\n", b"PK\x03\x04", b"\xff\xd8\xff",
             b"\xef\xbb\xbf", b"\xff\xfe", b"<", b"<?xml "]
    out = []
    for i in range(n):
        size = rng.choice([1, 16, 1000, 50_000, big])
        out.append((f"random {size} bytes after {magic[i % len(magic)][:6]!r}",
                    magic[i % len(magic)] + rng.randbytes(size)))
    return out


def bad_utf8(rng: random.Random, doc: bytes, n: int) -> list[tuple[str, bytes]]:
    # A stray continuation byte, an overlong '/', a UTF-16 surrogate, a 5-byte form, a BOM in the middle,
    # a cut 3-byte character, a code point past U+10FFFF.
    seqs = [b"\x80", b"\xc0\xaf", b"\xed\xa0\x80", b"\xf8\x88\x80\x80\x80", b"\xff\xfe", b"\xe2\x82",
            b"\xf4\x90\x80\x80"]
    out = [("valid page then a cut multi-byte char", doc + "é".encode()[:1]),
           ("page re-encoded as Latin-1 but declared UTF-8",
            doc.decode().replace("said", "sagte ä ö ü").encode("latin-1")),
           ("page declared UTF-16, bytes ASCII", doc.replace(b'charset="utf-8"', b'charset="utf-16"'))]
    for i in range(n - len(out)):
        b = bytearray(doc)
        for _ in range(rng.choice([1, 10, 1000])):
            at = rng.randrange(len(b))
            b[at:at] = rng.choice(seqs)
        out.append((f"invalid UTF-8 sequences inserted #{i}", bytes(b)))
    return out


def nuls(rng: random.Random, doc: bytes, big: int) -> list[tuple[str, bytes]]:
    sprinkled = bytearray(doc)
    for _ in range(200):
        sprinkled[rng.randrange(len(sprinkled))] = 0
    return [("NUL bytes sprinkled over a page", bytes(sprinkled)),
            ("NUL after every byte (UTF-16 without BOM)", doc.decode().encode("utf-16-le")),
            ("NUL inside tags and text", doc.replace(b"<p>", b"<p\x00>\x00").replace(b" ", b" \x00")),
            (f"{big} NUL bytes", b"\x00" * big)]


def deep_html(depth: int, words: str) -> list[tuple[str, bytes]]:
    text = words.encode()
    return [(f"<div> nested {depth} deep, closed", b"<html><body>" + b"<div>" * depth + text + b"</div>" * depth
             + b"</body></html>"),
            (f"<div> nested {depth} deep, never closed", b"<html><body>" + b"<div>" * depth + text),
            (f"<b><i> nested {depth} deep", b"<p>" + b"<b><i>" * (depth // 2) + text + b"</i></b>" * (depth // 2)),
            (f"tables nested {depth} deep", b"<body>" + b"<table><tr><td>" * (depth // 3) + text),
            (f"{depth} unclosed <p> in <article>", b"<article>" + (b"<p>" + text[:200]) * depth)]


def billion_laughs(root: str = "rss", levels: int = 10) -> bytes:
    ents = '<!ENTITY lol0 "lol">' + "".join(
        f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10}">' for i in range(1, levels))
    return f'<?xml version="1.0"?><!DOCTYPE {root} [{ents}]><{root}>&lol{levels - 1};</{root}>'.encode()


def entity_attacks(root: str) -> list[tuple[str, bytes]]:
    big = "A" * 100_000
    return [("billion laughs (10^9 'lol')", billion_laughs(root)),
            ("quadratic blowup (100 kB entity used 10,000 times)",
             f'<?xml version="1.0"?><!DOCTYPE {root} [<!ENTITY a "{big}">]><{root}>{"&a;" * 10_000}</{root}>'.encode()),
            ("external entity (XXE) reading /etc/passwd",
             f'<?xml version="1.0"?><!DOCTYPE {root} [<!ENTITY x SYSTEM "file:///etc/passwd">]><{root}>&x;</{root}>'.encode()),
            ("external DTD on a closed port",
             f'<?xml version="1.0"?><!DOCTYPE {root} SYSTEM "http://127.0.0.1:1/evil.dtd"><{root}/>'.encode()),
            ("parameter entity", f'<?xml version="1.0"?><!DOCTYPE {root} [<!ENTITY % p SYSTEM '
                                 f'"http://127.0.0.1:1/p.dtd"> %p;]><{root}/>'.encode())]


def gzip_bomb(inflated: int) -> bytes:
    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, mode="wb", compresslevel=9) as gz:
        chunk = b"\x00" * MB
        for _ in range(inflated // MB):
            gz.write(chunk)
    return buf.getvalue()


# ---------------------------------------------------------------- the kinds


def inputs(kind: str, small: bool = False) -> list[tuple[str, bytes]]:
    """The hostile inputs of one kind (`small`: a few of each, for the test suite)."""
    rng = random.Random(f"newsmon-fuzz-{kind}")
    doc = page(rng)
    n = 8 if small else 120
    big = 200_000 if small else 5 * MB
    if kind == "html-truncated":
        return cuts(doc, n)
    if kind == "html-deep":
        return deep_html(2_000 if small else 10_000, prose(rng, 60))
    if kind == "html-huge":
        # 50 MB never reaches extraction in a run (fetch and read_file stop at max_bytes, 10 MB by
        # default: see fetch-huge); the 10 MB pages are the worst a run can meet.
        para = f"<p>{prose(rng, 60)}.</p>".encode()
        out = []
        for huge in ([2 * MB] if small else [10 * MB, 50 * MB]):
            out += [(f"{huge // MB} MB of paragraphs",
                     b"<html><body><article>" + para * (huge // len(para)) + b"</article>"),
                    (f"{huge // MB} MB single token", b"<html><body><p>" + b"a" * huge + b"</p></body></html>"),
                    (f"{huge // MB} MB attribute", b'<html><body><p title="' + b"x" * huge + b'">' + para + b"</p>"),
                    (f"{huge // 4:,} empty <br> ({huge // MB} MB)", b"<html><body>" + b"<br>" * (huge // 4))]
        return out
    if kind == "html-bad-utf8":
        return bad_utf8(rng, doc, n)
    if kind == "html-nul":
        return nuls(rng, doc, big)
    if kind == "html-garbage":
        return garbage(rng, n, big) + [("empty body", b""), ("whitespace only", b" \n\t" * 1000),
                                       ("BOM only", b"\xef\xbb\xbf")]
    if kind == "html-entities":
        return [("billion laughs in XHTML", billion_laughs("html")),
                ("1,000,000 &amp; entities", b"<p>" + b"&amp;" * (100_000 if small else 1_000_000) + b"</p>"),
                ("invalid numeric references", b"<p>" + b"&#0; &#xD800; &#99999999999; &#x110000; " * 1000 + b"</p>"),
                ("meta date 0001-01-01T00:00:00+01:00",
                 doc.replace(b"2026-11-24T09:00:00Z", b"0001-01-01T00:00:00+01:00")),
                ("meta date 99999-99-99", doc.replace(b"2026-11-24T09:00:00Z", b"99999-99-99T99:99:99Z"))]
    if kind == "txt-hostile":
        text = prose(rng, 300).encode()
        return (bad_utf8(rng, text, n // 2) + nuls(rng, text, big) + garbage(rng, n // 2, big)
                + [("one line of 1,000,000 words", b"word " * (100_000 if small else 1_000_000)),
                   ("100,000 empty lines", b"\n" * 100_000), ("\\r only line ends", text.replace(b" ", b"\r"))])
    if kind == "json-hostile":
        body = prose(rng, 60)
        cases = [("nested 100,000 deep", b'{"a":' * 100_000), ("array nested 100,000 deep", b"[" * 100_000),
                 ("site_name is a number", json.dumps({"text": body, "site_name": 5}).encode()),
                 ("text is a list", json.dumps({"text": [body], "content": {"x": body}}).encode()),
                 ("title/author/date of every type", json.dumps({"text": body, "title": [1], "author": {"a": 1},
                                                                 "date": [2026, 11, 24], "source": None}).encode()),
                 ("number 1e999999", b'{"text": "' + body.encode() + b'", "date": 1e999999}'),
                 ("date year 0001 with offset",
                  json.dumps({"text": body, "date": "0001-01-01T00:00:00+01:00"}).encode()),
                 ("lone surrogate escapes", b'{"text": "\\ud800 ' + body.encode() + b' \\udfff"}'),
                 ("top-level array", json.dumps([{"text": body}]).encode()), ("NaN", b"NaN"),
                 ("2 MB text" if not small else "200 kB text",
                  json.dumps({"text": "word " * (400_000 if not small else 40_000)}).encode())]
        return cases + cuts(json.dumps({"title": "T", "text": body, "date": "2026-11-24"}).encode(), n // 4)
    if kind == "feed-truncated":
        return (cuts(rss(rng), n // 3) + cuts(atom(rng), n // 3)
                + cuts(json_feed([{"url": "https://news.example/j1", "title": "J"}]), n // 3))
    if kind == "feed-deep":
        depth = 2_000 if small else 10_000
        item = "<item><title>T</title><link>https://news.example/d</link></item>"
        return [(f"XML nested {depth} deep inside an item", f"<rss><channel>{'<x>' * depth}{item}{'</x>' * depth}"
                                                          "</channel></rss>".encode()),
                (f"XML nested {depth} deep, never closed", ("<rss><channel>" + "<item>" * depth).encode()),
                (f"JSON Feed nested {depth * 10} deep", b'{"items":' * (depth * 10)),
                (f"JSON Feed items nested {depth * 10} deep",
                 b'{"version": "https://jsonfeed.org/version/1.1", "items": ' + b"[" * (depth * 10))]
    if kind == "feed-entities":
        return entity_attacks("rss") + entity_attacks("feed")
    if kind == "feed-bytes":
        return bad_utf8(rng, rss(rng), n // 2) + nuls(rng, rss(rng), big) + garbage(rng, n // 2, big)
    if kind == "feed-values":
        items = [{"url": "https://news.example/v"}]
        return [("javascript:, file:, data: links", rss(rng).replace(b"https://news.example/s1", b"javascript:alert(1)")
                 .replace(b"https://news.example/s2", b"file:///etc/passwd").replace(b"https://news.example/s3",
                                                                                     b"data:text/html,x")),
                ("RSS pubDate in year 10000", rss(rng).replace(b"2026", b"10000")),
                ("Atom updated 0001-01-01T00:00:00+01:00", atom(rng).replace(b"2026-11-24T09:00:00Z",
                                                                             b"0001-01-01T00:00:00+01:00")),
                ("JSON Feed date 0001-01-01T00:00:00+01:00",
                 json_feed([{"url": "https://news.example/y", "date_published": "0001-01-01T00:00:00+01:00"}])),
                ("JSON Feed feed_url is a number",
                 json.dumps({"version": "https://jsonfeed.org/version/1", "feed_url": 5, "items": items}).encode()),
                ("JSON Feed items of every type", json_feed([None, 5, "x", [], {"url": 5}, {"url": ["a"]}])),
                ("JSON Feed version is a number", json.dumps({"version": 1, "items": items}).encode()),
                ("entry without link", b"<rss><channel><item><title>no link</title></item></channel></rss>"),
                ("empty feed", b"<rss><channel></channel></rss>"), ("empty body", b"")]
    if kind == "feed-size-cap":
        items = 4_000 if small else 80_000  # 80,000 items: the 10 MB max_bytes a feed may have
        return [(f"RSS with {items} items ({len(rss(rng, items)) // MB} MB)", rss(rng, items)),
                (f"JSON Feed with {items} items",
                 json_feed([{"url": f"https://news.example/{i}"} for i in range(items)]))]
    if kind == "sitemap-hostile":
        depth = 2_000 if small else 10_000
        return (cuts(sitemap(), n // 4) + entity_attacks("urlset")
                + [(f"nested {depth} deep", ("<urlset>" + "<url>" * depth).encode()),
                   ("lastmod 0001-01-01T00:00:00+01:00", sitemap(3, "0001-01-01T00:00:00+01:00")),
                   ("lastmod 99999", sitemap(3, "99999-01-01")),
                   (f"gzip bomb ({(100 if small else 1000)} MB of zeros)", gzip_bomb((100 if small else 1000) * MB)),
                   ("corrupt gzip", b"\x1f\x8b\x08\x00" + rng.randbytes(1000)),
                   ("HTML instead of a sitemap", doc)]
                + garbage(rng, n // 4, big))
    if kind == "ner-long-tokens":
        # Runs that spaCy's tokenizer strips one suffix or prefix at a time.
        n = 1_000 if small else 30_000
        names = " met Volodymyr Zelensky in Kyiv. "
        return [(f"{n:,} x {c!r} in one token", (names + c * n + names).encode())
                for c in (")", "’", "(", "$", "%", '"', "…", "🙂", "'s")] + [
                (f"{n:,} chars of a URL", (names + "https://news.example/" + "a/" * (n // 2) + names).encode()),
                (f"{n // 10:,} quotes in one sentence", (names + 'he said "we go now" and ' * (n // 10)).encode())]
    if kind == "fetch-huge":
        # Served from loopback by the child itself: body size and whether Content-Length is sent.
        size = 50 * MB
        return [(f"{size // MB} MB body with Content-Length", f"{size}:length".encode()),
                (f"{size // MB} MB body without Content-Length", f"{size}:stream".encode())]
    raise KeyError(kind)


KINDS = {  # kind -> what it goes through
    "html-truncated": "article-html", "html-deep": "article-html", "html-huge": "article-html",
    "html-bad-utf8": "article-html", "html-nul": "article-html", "html-garbage": "article-html",
    "html-entities": "article-html", "txt-hostile": "article-txt", "json-hostile": "article-json",
    "feed-truncated": "feed", "feed-deep": "feed", "feed-entities": "feed", "feed-bytes": "feed",
    "feed-values": "feed", "feed-size-cap": "feed", "sitemap-hostile": "sitemap", "fetch-huge": "fetch",
    "ner-long-tokens": "entities",
}


# ---------------------------------------------------------------- running one input


class Harness:
    """What an input goes through, set up once per process: settings in a temporary folder (raw
    bodies are stored there, as fetch stores them) and, for fetch, a loopback server."""

    def __init__(self, tmp: Path):
        from pipelines.settings import Settings
        from pipelines.sources import Source

        self.settings = Settings.from_env({"NEWSMON_DATA_DIR": str(tmp / "data"),
                                           "NEWSMON_SOURCES": str(tmp / "s.yaml"),
                                           "NEWSMON_WATCHLIST": str(tmp / "w.yaml")})
        self.source = Source(name="fuzz", kind="rss", url="https://news.example/feed")
        self.server = None

    def run(self, target: str, body: bytes) -> tuple[str, str]:
        """(outcome, detail) for one input: result, reason or crash."""
        try:
            return getattr(self, "_" + target.replace("-", "_"))(body)
        except Exception as exc:  # the point of the exercise: anything escaping is a bug to report
            return "crash", f"{type(exc).__name__}: {str(exc)[:200]}"

    def _article(self, body: bytes, kind: str) -> tuple[str, str]:
        from pipelines import fetch
        from pipelines.models import LogRecord
        from pipelines.stages import extract as extract_stage

        digest = fetch.store_raw(self.settings.raw, body)
        f = {"url": "https://news.example/2026/11/24/story", "source": "fuzz", "kind": kind, "raw_sha256": digest,
             "feed_published": None, "charset": None, "fetched_at": "2026-11-24T10:00:00"}
        row = extract_stage.extract_one((self.settings, {"run_id": "fuzz"}, f))
        if isinstance(row, LogRecord):
            return "reason", row.reason
        return "result", f"{row['word_count']} words"

    def _article_html(self, body):
        return self._article(body, "html")

    def _article_txt(self, body):
        return self._article(body, "txt")

    def _article_json(self, body):
        return self._article(body, "json")

    def _entities(self, body: bytes) -> tuple[str, str]:
        """The analyse stage on a stored text: the model on its normalised form, then claims."""
        from pipelines import claims, entities

        text = body.decode("utf-8")
        nlp = entities.load_model(self.settings.spacy_model)
        mentions, _ = entities.from_doc("fuzz", text, nlp(entities.normalise(text)))
        if any(text[m.start_char:m.end_char] != m.surface for m in mentions):
            return "crash", "a mention's offsets do not index its surface"
        found = claims.extract("fuzz", text, mentions)
        return "result", f"{len(mentions)} mentions, {len(found)} claims"

    def _feed(self, body: bytes) -> tuple[str, str]:
        from pipelines import feeds
        from pipelines.models import Candidate, LogRecord

        records = list(feeds.parse_feed(body, self.source))
        found = [r for r in records if isinstance(r, Candidate)]
        logged = [r for r in records if isinstance(r, LogRecord)]
        if len(found) + len(logged) != len(records) or any(not r.reason for r in logged):
            return "crash", f"unexpected records: {records[:3]}"
        if found:
            return "result", f"{len(found)} entries" + (f", {len(logged)} logged" if logged else "")
        if not logged:
            return "crash", "no entry and no LogRecord: the input vanished without a reason"
        return "reason", logged[0].reason

    def _sitemap(self, body: bytes) -> tuple[str, str]:
        from pipelines import fetch
        from pipelines.sitemaps import SitemapError, parse_sitemap

        try:
            kind, entries = parse_sitemap(body, self.settings.max_bytes)
        except (SitemapError, fetch.FetchError) as exc:
            return "reason", str(exc)
        return "result", f"{kind} of {len(entries)}"

    def _fetch(self, spec: bytes) -> tuple[str, str]:
        from pipelines import fetch
        from pipelines.client import Client

        size, mode = spec.decode().split(":")
        url = serve_once(int(size), mode == "length")
        client = Client(user_agent="newsmon-fuzz", timeout=30, max_bytes=self.settings.max_bytes, host_delay=0)
        try:
            resp = client.get(url, allow_private=True)
        except fetch.FetchError as exc:
            return "reason", exc.reason
        finally:
            client.close()
        return ("crash" if len(resp.body) > self.settings.max_bytes else "result"), f"{len(resp.body)} bytes"


def serve_once(size: int, with_length: bool) -> str:
    """A loopback server that answers one GET with `size` bytes of HTML, streamed in 1 MB chunks (and
    the robots.txt request before it with a 404)."""
    from http.server import BaseHTTPRequestHandler, HTTPServer

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.0"  # without Content-Length the body ends when the connection closes

        def do_GET(self):  # noqa: N802
            if self.path == "/robots.txt":
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            if with_length:
                self.send_header("Content-Length", str(size))
            self.end_headers()
            chunk = b"<p>" + b"x" * (MB - 3)
            try:
                for _ in range(size // MB):
                    self.wfile.write(chunk)
            except OSError:
                pass  # the client stopped reading at its cap, as it should

        def log_message(self, *args):
            pass

    httpd = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=lambda: [httpd.handle_request() for _ in range(2)], daemon=True).start()
    return f"http://127.0.0.1:{httpd.server_address[1]}/big.html"


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def child(kind: str, small: bool, start: int) -> None:
    """Run the inputs of one kind from `start`, one JSON line each, the baseline RSS first."""
    import tempfile

    import trafilatura  # noqa: F401 - loaded before the baseline, as in a pipeline worker

    with tempfile.TemporaryDirectory() as tmp:
        harness = Harness(Path(tmp))
        items = inputs(kind, small)
        harness.run(KINDS[kind], b"<p>warm up</p>")  # lazy imports (feedparser, defusedxml) into the baseline
        # The baseline holds the libraries and this kind's inputs (up to 3 x 50 MB): the peak above it is
        # what processing them cost.
        print(json.dumps({"baseline_mb": rss_mb(), "count": len(items)}), flush=True)
        for i, (label, body) in enumerate(items[start:], start):
            print(json.dumps({"start": i, "label": label}), flush=True)
            t0 = time.perf_counter()
            outcome, detail = harness.run(KINDS[kind], body)
            print(json.dumps({"i": i, "label": label, "outcome": outcome, "detail": detail,
                              "seconds": time.perf_counter() - t0, "rss_mb": rss_mb()}), flush=True)


# ---------------------------------------------------------------- the parent: budget, table


def _pump(proc: subprocess.Popen, lines: queue.Queue) -> None:
    for line in proc.stdout:
        lines.put(line)
    lines.put(None)


def run_kind(kind: str, small: bool, budget: float) -> dict:
    results, baseline, count, start, peak = [], None, None, 0, 0.0
    while count is None or start < count:
        cmd = [sys.executable, __file__, "--child", kind, "--start", str(start)] + (["--small"] if small else [])
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        lines: queue.Queue = queue.Queue()
        threading.Thread(target=_pump, args=(proc, lines), daemon=True).start()
        current = None
        while True:
            try:
                line = lines.get(timeout=budget + (120 if current is None else 0))
            except queue.Empty:
                proc.kill()
                proc.wait()
                label = current["label"] if current else "(loading)"
                results.append({"label": label, "outcome": "hang", "detail": f"over {budget:g} s",
                                "seconds": budget})
                start = (current["start"] if current else start) + 1
                break
            if line is None:
                proc.wait()
                if current is not None:  # the child died inside an input: out of memory, a segfault
                    results.append({"label": current["label"], "outcome": "crash",
                                    "detail": f"process died (exit {proc.returncode})", "seconds": 0.0})
                    start = current["start"] + 1
                else:
                    start = count if count is not None else start + 1
                break
            msg = json.loads(line)
            if "baseline_mb" in msg:
                baseline = msg["baseline_mb"] if baseline is None else min(baseline, msg["baseline_mb"])
                count = msg["count"]
            elif "start" in msg:
                current = msg
            else:
                current = None
                peak = max(peak, msg["rss_mb"])
                results.append(msg)
    return {"kind": kind, "target": KINDS[kind], "results": results, "baseline_mb": baseline or 0.0,
            "peak_mb": peak}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--small", action="store_true", help="the test suite's smaller set")
    ap.add_argument("--budget", type=float, default=60.0, help="seconds one input may take (default 60)")
    ap.add_argument("--only", action="append", choices=sorted(KINDS), help="run only this kind (repeatable)")
    ap.add_argument("--json", metavar="FILE", help="also write every input's outcome here")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--start", type=int, default=0, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args.child, args.small, args.start)
        return
    kinds = args.only or list(KINDS)
    header = (f"{'input kind':<16} {'through':<13} {'n':>4} {'result':>6} {'reason':>6} {'crash':>5} {'hang':>4} "
              f"{'max s':>7} {'RSS MB (base)':>14}")
    print(header + "\n" + "-" * len(header), flush=True)
    done, bugs = [], []
    for kind in kinds:
        r = run_kind(kind, args.small, args.budget)
        done.append(r)
        counts = {o: sum(1 for x in r["results"] if x["outcome"] == o) for o in ("result", "reason", "crash", "hang")}
        slowest = max((x["seconds"] for x in r["results"]), default=0.0)
        print(f"{kind:<16} {r['target']:<13} {len(r['results']):>4} {counts['result']:>6} {counts['reason']:>6} "
              f"{counts['crash']:>5} {counts['hang']:>4} {slowest:>7.2f} "
              f"{r['peak_mb']:>6.0f} ({r['baseline_mb']:>4.0f})", flush=True)
        bugs += [(kind, x) for x in r["results"] if x["outcome"] in ("crash", "hang")]
    if bugs:
        print("\nCrashes and hangs:")
        for kind, x in bugs:
            print(f"  {kind}: {x['label']}: {x['outcome']}: {x['detail']}")
    slow = sorted(((x["seconds"], k["kind"], x["label"]) for k in done for x in k["results"]), reverse=True)[:5]
    print("\nSlowest inputs:\n" + "\n".join(f"  {s:7.2f} s  {k}: {label}" for s, k, label in slow))
    if args.json:
        Path(args.json).write_text(json.dumps(done, indent=1))


if __name__ == "__main__":
    main()
