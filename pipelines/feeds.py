"""Discovery: the article URLs each source lists (RSS/Atom feeds with feedparser, JSON Feeds, sitemaps,
WARC files, local folders, URL lists). The sources themselves are `pipelines.sources`; sitemap parsing is
`pipelines.sitemaps`."""

from __future__ import annotations

import calendar
import json
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urljoin, urlsplit

from pipelines import fetch
from pipelines.client import Client
from pipelines.models import Candidate, FeedState, LogRecord
from pipelines.objects import Folder
from pipelines.sitemaps import SitemapError, parse_sitemap, w3c_date
from pipelines.sources import Source

DISCOVER_WORKERS = 8
# Real news sites nest at most index -> urlset (sometimes index -> index -> urlset); the caps stop a
# hostile or broken index from making one source fetch without end.
MAX_SITEMAP_DEPTH = 3
MAX_SITEMAPS = 50

Record = Candidate | LogRecord | FeedState


@dataclass
class Context:
    """What discovery needs besides the source: the HTTP client, where raw bytes live, the feeds' last
    known state, the run's logical time and the earliest date the run cares about."""

    # The run's one HTTP client: robots.txt, host delays and retries for feeds and sitemaps as for pages.
    client: Client
    max_bytes: int
    raw: Folder | None = None
    state: dict[str, FeedState] = field(default_factory=dict)
    checked_at: datetime | None = None
    since: datetime | None = None


def discover_all(sources: list[Source], ctx: Context, workers: int = DISCOVER_WORKERS) -> list[Record]:
    """Every source's records, the sources read a few at a time, in the sources' order."""
    def one(source: Source) -> list[Record]:
        try:
            return list(discover(source, ctx))
        except Exception as exc:  # one hostile or broken source must not stop the others
            return [LogRecord(source.name, source.url or source.path or "", "discover",
                              f"discovery failed: {exc.__class__.__name__}: {exc}")]

    with ThreadPoolExecutor(max(1, workers)) as pool:
        return [r for records in pool.map(one, sources) for r in records]


def discover(source: Source, ctx: Context) -> Iterator[Record]:
    """Candidates listed by one source (each with the language the source declares), a LogRecord for
    each failure, and a FeedState for each feed or sitemap URL that answered with validators (for the
    next run's conditional GET)."""
    for record in _listed(source, ctx):
        if isinstance(record, Candidate) and source.language:
            record = replace(record, language=source.language)
        yield record


def _listed(source: Source, ctx: Context) -> Iterator[Record]:
    if source.kind == "folder":
        yield from local_candidates([Path(source.path)], source.name)
    elif source.kind == "urls":
        for url in source.urls:
            yield Candidate(url=url, source=source.name, local=source.local)
    elif source.kind == "warc":
        yield from warc_candidates(source, ctx)
    elif source.kind == "sitemap":
        yield from sitemap_candidates(source, ctx)
    else:
        location = source.url or source.path
        try:
            body, state = _get(location, source, ctx)
        except fetch.FetchError as exc:
            yield LogRecord(source.name, location, "discover", exc.reason, exc.http_status)
            return
        if state:
            yield state
        yield from parse_feed(body, source)


def _get(location: str, source: Source, ctx: Context) -> tuple[bytes, FeedState | None]:
    """A feed or sitemap's bytes. Over HTTP the request is conditional when we hold the body the last
    validators stand for; a 304 then re-reads that body, so it gives exactly what a full GET would
    (a rerun or a backfill of an older window sees the same entries)."""
    if source.path and location == source.path:
        return fetch.read_file(location, ctx.max_bytes), None
    prev = ctx.state.get(location)
    cached = bool(prev and prev.body_sha256 and ctx.raw
                  and ctx.raw.exists(fetch.raw_name(prev.body_sha256)))
    resp = ctx.client.get(location, allow_private=source.local, page=False, etag=prev.etag if cached else None,
                          last_modified=prev.last_modified if cached else None)
    if resp.status == 304:
        if not cached:
            raise fetch.FetchError("HTTP 304 to a request that was not conditional", 304)
        body, digest = fetch.load_raw(ctx.raw, prev.body_sha256), prev.body_sha256
    else:
        body, digest = resp.body, None
    if not (resp.etag or resp.last_modified) or ctx.raw is None or ctx.checked_at is None:
        return body, None
    digest = digest or fetch.store_raw(ctx.raw, body)
    return body, FeedState(location, source.name, resp.etag, resp.last_modified, digest, resp.status, ctx.checked_at)


# ---------------------------------------------------------------- feeds

# Parsing is CPU-bound under the GIL, so serialising it costs the threads nothing and spares us relying
# on feedparser being thread-safe.
_FEEDPARSER_LOCK = threading.Lock()


def parse_feed(body: bytes, source: Source) -> Iterator[Candidate | LogRecord]:
    """The entries of an RSS, Atom or JSON Feed document (JSON Feeds are recognised by their content)."""
    where = source.url or source.path or ""
    if body.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"{"):
        yield from parse_json_feed(body, source)
        return
    if source.kind == "jsonfeed":
        yield LogRecord(source.name, where, "discover", "not a JSON Feed: the body is not a JSON object")
        return
    refused = unsafe_xml(body)
    if refused:
        yield LogRecord(source.name, where, "discover", refused)
        return
    import feedparser

    with _FEEDPARSER_LOCK:
        parsed = feedparser.parse(body)
    if not parsed.entries:
        reason = f"not a feed: {parsed.get('bozo_exception')}" if parsed.get("bozo") else "feed has no entries"
        yield LogRecord(source.name, where, "discover", reason)
        return
    for entry in parsed.entries:
        link = entry.get("link")
        if not link:
            yield LogRecord(source.name, where, "discover", "feed entry without a link")
            continue
        content = entry.get("content") or [{}]
        summary = content[0].get("value") or entry.get("summary")
        yield _entry(link, source, where, entry.get("title"),
                     _struct_date(entry.get("published_parsed") or entry.get("updated_parsed")), summary)


def _struct_date(when) -> datetime | None:
    """feedparser's UTC time tuple as a datetime; a date no datetime can hold (year 0) is no date."""
    if not when:
        return None
    try:
        return datetime.fromtimestamp(calendar.timegm(when), UTC).replace(tzinfo=None)
    except (ValueError, OverflowError, OSError):
        return None


def parse_json_feed(body: bytes, source: Source) -> Iterator[Candidate | LogRecord]:
    """JSON Feed 1.0 and 1.1 (https://jsonfeed.org), which feedparser does not read."""
    where = source.url or source.path or ""
    try:
        doc = json.loads(body.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError) as exc:
        yield LogRecord(source.name, where, "discover", f"not a JSON Feed: invalid JSON ({exc})")
        return
    except RecursionError:
        yield LogRecord(source.name, where, "discover", "not a JSON Feed: JSON nested too deep")
        return
    version = doc.get("version") if isinstance(doc, dict) else None
    items = doc.get("items") if isinstance(doc, dict) else None
    if not isinstance(version, str) or "jsonfeed.org/version/" not in version or not isinstance(items, list):
        yield LogRecord(source.name, where, "discover", "not a JSON Feed: no jsonfeed.org version or no items list")
        return
    if not items:
        yield LogRecord(source.name, where, "discover", "feed has no entries")
        return
    base = next((b for b in (doc.get("feed_url"), doc.get("home_page_url"), source.url) if isinstance(b, str)), "")
    for item in items:
        link = item.get("url") or item.get("external_url") if isinstance(item, dict) else None
        if not isinstance(link, str) or not link.strip():
            yield LogRecord(source.name, where, "discover", "feed entry without a link")
            continue
        title = item.get("title")
        try:
            url = urljoin(base, link.strip())
        except ValueError as exc:  # an invalid IPv6 host, say
            yield LogRecord(source.name, where, "discover", f"feed entry with an invalid link: {exc}")
            continue
        summary = next((item[k] for k in ("content_text", "content_html", "summary")
                        if isinstance(item.get(k), str) and item[k].strip()), None)
        yield _entry(url, source, where, title if isinstance(title, str) else None,
                     w3c_date(item.get("date_published") or item.get("date_modified")), summary)


def _entry(url: str, source: Source, where: str, title: str | None, published: datetime | None,
           summary: str | None = None):
    """A listed URL as a candidate; anything but http(s) is refused, since fetch reads other URLs as
    local files and a feed must not point us at ours."""
    if not url.startswith(("http://", "https://")):
        return LogRecord(source.name, url, "discover", f"refused: listed URL is not http(s) (listed by {where})")
    return Candidate(url=url, source=source.name, local=source.local, feed_title=title, feed_published=published,
                     feed_summary=entry_text(summary))


# A feed entry's text longer than this is not a summary but a whole page pasted in; the page is fetched.
MAX_SUMMARY_CHARS = 100_000


def entry_text(fragment: str | None) -> str | None:
    """A feed entry's summary or content (HTML or plain) as plain text, paragraphs kept; None if empty."""
    if not isinstance(fragment, str) or not fragment.strip():
        return None
    fragment = fragment[:MAX_SUMMARY_CHARS]
    if "<" in fragment:
        import lxml.html
        from lxml.etree import LxmlError

        try:
            root = lxml.html.fragment_fromstring(fragment, create_parent="div")
            for br in root.iter("br", "p", "div", "li", "h1", "h2", "h3"):
                br.tail = "\n" + (br.tail or "")
            fragment = root.text_content()
        except (LxmlError, ValueError):
            return None
    text = "\n".join(" ".join(line.split()) for line in fragment.splitlines())
    text = "\n".join(line for line in text.split("\n") if line)
    return text or None


def unsafe_xml(body: bytes) -> str | None:
    """Why an XML document is refused (it declares entities: billion laughs, external entities), or None.
    Only the refusal matters here: a document that merely fails to parse is left to feedparser's
    lenient parser."""
    from xml.etree.ElementTree import ParseError

    from defusedxml import DefusedXmlException
    from defusedxml.ElementTree import fromstring

    try:
        fromstring(body)
    except DefusedXmlException as exc:
        return f"refused unsafe XML: {exc.__class__.__name__} ({exc}); entity declarations are not allowed"
    except (ParseError, ValueError):
        return None
    return None


# ---------------------------------------------------------------- sitemaps


def sitemap_candidates(source: Source, ctx: Context) -> Iterator[Record]:
    """The article URLs of a sitemap, following a sitemap index down to MAX_SITEMAP_DEPTH levels and at
    most MAX_SITEMAPS sitemaps per source. A child sitemap whose lastmod is before ctx.since lists
    nothing the run wants and is not fetched; the newest children are read first."""
    seen: set[str] = set()
    capped = False

    def walk(location: str, depth: int) -> Iterator[Record]:
        nonlocal capped
        if len(seen) >= MAX_SITEMAPS:
            if not capped:
                capped = True
                yield LogRecord(source.name, location, "discover",
                                f"sitemap not read: more than {MAX_SITEMAPS} sitemaps for one source")
            return
        seen.add(location)
        try:
            body, state = _get(location, source, ctx)
            if state:
                yield state
            kind, entries = parse_sitemap(body, ctx.max_bytes)
        except fetch.FetchError as exc:
            yield LogRecord(source.name, location, "discover", exc.reason, exc.http_status)
            return
        except SitemapError as exc:
            yield LogRecord(source.name, location, "discover", str(exc))
            return
        if kind == "urlset":
            for e in entries:
                yield _entry(e["loc"], source, location, e["title"], e["published"] or e["lastmod"])
            return
        children = sorted(entries, key=lambda e: e["lastmod"] or datetime.min, reverse=True)
        for e in children:
            if e["loc"] in seen or (ctx.since and e["lastmod"] and e["lastmod"] < ctx.since):
                continue
            if depth + 1 >= MAX_SITEMAP_DEPTH:
                yield LogRecord(source.name, e["loc"], "discover",
                                f"sitemap not read: indexes nested deeper than {MAX_SITEMAP_DEPTH} levels")
                continue
            yield from walk(e["loc"], depth + 1)

    for root in _sitemap_roots(source, ctx):
        yield from walk(root, 0)


def _sitemap_roots(source: Source, ctx: Context) -> list[str]:
    """Where a sitemap source starts: its URL, or for a source that names only a site (no path), the
    Sitemap: lines of the site's robots.txt, else the conventional /sitemap.xml."""
    if not source.url or urlsplit(source.url).path not in ("", "/"):
        return [source.url or source.path]
    try:
        listed = ctx.client.sitemaps(source.url, allow_private=source.local)
    except fetch.FetchError:
        listed = []  # the sitemap request then says what is wrong with the site
    return listed or [urljoin(source.url, "/sitemap.xml")]


# ---------------------------------------------------------------- WARC files and local files


def warc_candidates(source: Source, ctx: Context) -> Iterator[Candidate | LogRecord]:
    """Each HTML `response` record of a WARC file, its body stored now so fetch takes it as fetched.
    Records of other types (requests, metadata, revisits) and non-HTML responses (images, scripts) are
    page furniture, not articles, and are passed over; an HTML response that is not a 200 is logged."""
    from warcio.archiveiterator import ArchiveIterator
    from warcio.exceptions import ArchiveLoadFailed

    if ctx.raw is None:
        yield LogRecord(source.name, source.path, "discover", "a WARC import needs the raw folder to store bodies")
        return
    try:
        with open(source.path, "rb") as fh:
            for record in ArchiveIterator(fh):
                if record.rec_type != "response" or record.http_headers is None:
                    continue
                url = record.rec_headers.get_header("WARC-Target-URI") or ""
                status = int(record.http_headers.get_statuscode() or 0)
                ctype = record.http_headers.get_header("Content-Type") or ""
                if fetch.kind_of(url, ctype) != "html":
                    continue
                if status != 200:
                    yield LogRecord(source.name, url, "discover", f"WARC record: HTTP {status}", status)
                    continue
                body = record.content_stream().read(ctx.max_bytes + 1)
                if len(body) > ctx.max_bytes:
                    yield LogRecord(source.name, url, "discover", f"WARC record larger than {ctx.max_bytes} bytes")
                elif not body.strip():
                    yield LogRecord(source.name, url, "discover", "WARC record with an empty body", status)
                else:
                    yield Candidate(url=url, source=source.name, local=source.local,
                                    raw_sha256=fetch.store_raw(ctx.raw, body), kind="html", http_status=status,
                                    charset=fetch.charset_of(body, ctype))
    except (OSError, ArchiveLoadFailed) as exc:
        yield LogRecord(source.name, source.path, "discover", f"cannot read WARC: {exc}")


def local_candidates(paths: list[Path], source: str = "local") -> Iterator[Candidate | LogRecord]:
    """Files to ingest: each given file, and the .html/.htm/.txt/.json files under each folder."""
    for path in paths:
        path = path.absolute()
        if path.is_dir():
            files = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in fetch.TEXT_SUFFIXES)
            for f in files:
                yield Candidate(url=f.as_uri(), source=source, local=True)
        elif path.is_file():
            yield Candidate(url=path.as_uri(), source=source, local=True)
        else:
            yield LogRecord(source, str(path), "discover", "no such file or folder")
