"""Main text and metadata from a page or file: trafilatura for HTML, then our cleanup of what it leaves."""

from __future__ import annotations

import json
import re
import unicodedata
import warnings
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime

from dateutil import parser as dateparser

# Page dates such as "EST" parse without their zone; dateutil (here and inside htmldate) warns on each.
warnings.filterwarnings("ignore", category=dateparser.UnknownTimezoneWarning)

# An HTML page with less main text than this holds no article (a navigation, tag or login page). Only
# pages are held to it: a supplied text, a JSON record or a feed entry is an article whatever its length
# (a two-line wire flash about a watched name is exactly what a monitor must not drop).
MIN_WORDS = 20
# Extraction time grows with the number of elements (about 40 µs each): a 10 MB page of 2.5 million
# empty <br> took over 2 minutes (benchmarks/fuzz.py). News pages have a few thousand; this many "<"
# is a page built to stall the stage, refused in milliseconds.
MAX_TAGS = 250_000

BOILERPLATE = [
    re.compile(p, re.I)
    for p in (
        r"\b(this|our) (web)?site uses cookies\b",
        r"\bwe use cookies\b",
        r"\bcookie (policy|settings|preferences)\b",
        r"\baccept (all )?cookies\b",
        r"^(read more|continue reading|advertisement|share this( article)?|click here)\W*$",
        r"\b(sign up|subscribe) (for|to) (our|the) .{0,40}newsletter\b",
        r"^(latest|breaking|top) news\b.{0,60}$",
        r"^all rights reserved\b|\ball rights reserved\.?$|^(copyright|©)\s",
    )
]
# A paragraph longer than this that matches a BOILERPLATE pattern is text with a notice run into it
# (a footer on the same line as the story): the matching sentences go, not the paragraph.
NOTICE_MAX_WORDS = 40
SENTENCE_SPLIT = re.compile(r"(?<=[.!?…])\s+")
TAGLINE = re.compile(r"\b(headlines|breaking news|latest news|news (and|&) (views|analysis))\b", re.I)
SENTENCE_END = re.compile(r"[.!?…\"”’»)]\s*$")
URL_DATE = re.compile(r"/(20\d\d|19\d\d)[/-](\d\d?)[/-](\d\d?)(?:/|$|-)")
# Chinese and Japanese run words together: each ideograph or kana counts as a word, as word processors do.
CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
WORD = re.compile(f"[{CJK}]|[^\\W{CJK}]+")
QUOTE_FOLD = str.maketrans({"“": '"', "”": '"', "„": '"', "«": '"', "»": '"', "‘": "'", "’": "'", "‚": "'",
                            "–": "-", "—": "-", "\u00a0": " "})

STOPWORDS = {
    "en": "the and of to in is that for it was on with as he said by at from his be have are this".split(),
    "de": "der die und den das nicht von sie ist des sich mit dem dass er es ein ich auf".split(),
    "fr": "le la les de des et est que une dans pour pas qui sur au avec il du".split(),
    "es": "el la de que y en los del se las por un para con no una su al es lo".split(),
    "pt": "de que o a do da em um para com não uma os no se na por mais as dos".split(),
    "it": "di che il la è per un non in una sono mi del ho le si da della".split(),
    "nl": "de het een van en in is dat op te zijn voor met niet aan er".split(),
}


class ExtractionError(ValueError):
    """The input holds no article we can keep; the message is the reason recorded in fetch_log."""


@dataclass(frozen=True)
class Extracted:
    title: str | None
    text: str
    published_at: datetime | None
    date_origin: str | None
    author: str | None
    site_name: str | None


def from_html(html: bytes | str, url: str, feed_published: datetime | None = None) -> Extracted:
    """Extract the main text and metadata of an HTML page.

    Args:
        html: the page as fetched (bytes: trafilatura sniffs the charset).
        url: where it came from; used for relative links and a date in the path.
        feed_published: the feed entry's date, used when the page has none.

    Returns:
        The cleaned article.

    Raises:
        ExtractionError: the page holds no article: no main text, or less than MIN_WORDS words of it.
    """
    import trafilatura
    from lxml.etree import LxmlError

    tags = html.count(b"<" if isinstance(html, bytes) else "<")
    if tags > MAX_TAGS:
        raise ExtractionError(f"page has {tags} tags, more than the {MAX_TAGS} an article page may have")
    try:
        doc = trafilatura.bare_extraction(
            html,
            url=url,
            with_metadata=True,
            # Reader comments are not the article. Tables are (results, figures, fact boxes): without them
            # recall fell below plain trafilatura's on its evaluation set (benchmarks/extraction.py).
            include_comments=False,
            include_tables=True,
            # Extensive date search costs a third of the extraction time; meta tags, the feed and the URL
            # cover news pages.
            date_extraction_params={"extensive_search": False, "original_date": True, "outputformat": "%Y-%m-%d"},
        )
    except (LxmlError, RecursionError) as exc:
        # A page that breaks the parser (benchmarks/fuzz.py: 12.5 million <br> gave XPathEvalError) is an
        # unreadable page, with a reason, like any other; the extract stage catches ExtractionError only.
        raise ExtractionError(f"page could not be parsed: {type(exc).__name__}: {exc}") from exc
    if doc is None or not (doc.text or "").strip():
        raise ExtractionError("no main text found in the page")
    title = _clean_line(doc.title) if doc.title else None
    text = clean_text(doc.text, title=title, site_name=doc.sitename)
    published, origin = _pick_date(_page_time(html) or doc.date, feed_published, url)
    if word_count(text) < MIN_WORDS:
        raise ExtractionError(f"no article in the page: main text too short ({word_count(text)} words, "
                              f"minimum {MIN_WORDS} for a page)")
    return _finish(title, text, published, origin, doc.author, doc.sitename)


def from_text(text: str, url: str, feed_published: datetime | None = None) -> Extracted:
    """An already-extracted plain text. Its opening short lines (before the first sentence) are a header:
    a site banner (a first line of three words at most followed by a tagline, as on the seed article),
    taglines, a headline, a dateline. The banner is dropped; the longest other header line is the
    title and stays in the text with the rest, since a headline or dateline names the story's actors and
    places ("CRICKET - LEICESTERSHIRE TAKE OVER AT TOP", "LONDON 1996-08-30"). Taglines go in clean_text.
    """
    lines = [ln.strip() for ln in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    lines = [ln for ln in lines if ln]
    if not lines:
        raise ExtractionError("empty file")
    header: list[str] = []
    for ln in lines:
        if len(ln.split()) >= 25 or SENTENCE_END.search(ln) or len(header) >= 4:
            break
        header.append(ln)
    # A banner is a short first line followed by a tagline ("WhatsNew2Day" / "Latest News And Breaking
    # Headlines"); a short first line alone may be a byline or a name ("Joan Woodson") and stays.
    site_name = (header[0] if len(header) >= 2 and len(header[0].split()) <= 3 and TAGLINE.search(header[1])
                 else None)
    named = [ln for ln in header if ln != site_name and not TAGLINE.search(ln)]
    title = _clean_line(max(named, key=len) if named else lines[0])
    body = "\n".join(lines[1:] if site_name else lines)
    published, origin = _pick_date(None, feed_published, url)
    return _finish(title, clean_text(body, site_name=site_name), published, origin, None, site_name)


def from_json(raw: str, url: str) -> Extracted:
    """A JSON object with `text` (or `content`/`body`) and optionally title, published_at/date, author."""
    try:
        obj = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ExtractionError(f"invalid JSON: {exc}") from exc
    except RecursionError as exc:
        # Hostile input ('{"a":' repeated 100,000 times): the extract stage catches ExtractionError only.
        raise ExtractionError("invalid JSON: nested too deeply") from exc
    if not isinstance(obj, dict):
        raise ExtractionError("JSON must be an object with a 'text' field")
    body = next((obj[k] for k in ("text", "content", "body") if isinstance(obj.get(k), str)), None)
    if not body:
        raise ExtractionError("JSON object has no 'text', 'content' or 'body' string")
    date = next((obj[k] for k in ("published_at", "published", "date") if obj.get(k)), None)
    title = _clean_line(obj["title"]) if isinstance(obj.get("title"), str) else None
    published, origin = _pick_date(str(date) if date else None, None, url, page_origin="json")
    # Any JSON type may come in; clean_text needs a string (a number here raised AttributeError).
    site = next((obj[k] for k in ("site_name", "source") if isinstance(obj.get(k), str) and obj[k]), None)
    return _finish(title, clean_text(body, title=title, site_name=site), published, origin, obj.get("author"), site)


def clean_text(text: str, title: str | None = None, site_name: str | None = None) -> str:
    """Drop what extractors leave around a story: banners and taglines, cookie and newsletter notices,
    the title repeated, and paragraphs repeated within the article (a caption given twice, once with
    straight and once with curly quotes; a truncated copy of a neighbouring paragraph). A notice run
    into a long paragraph of the story loses its sentences only.
    """
    paras = [_clean_line(p) for p in text.split("\n")]
    drop = {_fold(title)} if title else set()
    if site_name:
        drop.add(_fold(site_name))
    kept: list[str] = []
    keys: list[str] = []
    for para in paras:
        if _is_notice(para):
            if len(para.split()) <= NOTICE_MAX_WORDS:
                continue
            para = " ".join(s for s in SENTENCE_SPLIT.split(para) if not _is_notice(s))
        key = _fold(para)
        if not key or key in drop:
            continue
        if len(para.split()) <= 6 and TAGLINE.search(para):
            continue
        dup = _duplicate_of(key, keys)
        if dup is None:
            kept.append(para)
            keys.append(key)
        elif len(key) > len(keys[dup]) or (key == keys[dup] and _typography(para) > _typography(kept[dup])):
            # Keep the fuller copy, and of two equal ones the one with typographic quotes (the original).
            kept[dup], keys[dup] = para, key
    return "\n\n".join(kept)


def detect_language(text: str) -> str:
    """ISO 639-1 code by stopword share among a few European languages; `und` when none is clear.

    Superseded by `pipelines.language.identify` (a kept identifier with the source's declared language as
    its prior); kept as the old method that benchmarks/language.py measures it against."""
    words = re.findall(r"[^\W\d_]+", text[:20000].lower())
    if len(words) < 5:
        return "und"
    counts = Counter(words)
    scores = {lang: sum(counts[w] for w in sw) / len(words) for lang, sw in STOPWORDS.items()}
    lang, best = max(scores.items(), key=lambda kv: kv[1])
    return lang if best >= 0.08 else "und"


def word_count(text: str) -> int:
    return len(WORD.findall(text))


def _is_notice(s: str) -> bool:
    return any(p.search(s) for p in BOILERPLATE)


def _duplicate_of(key: str, keys: list[str]) -> int | None:
    for i, other in enumerate(keys):
        if key == other:
            return i
        short, long_ = (key, other) if len(key) < len(other) else (other, key)
        if len(short) >= 40 and long_.startswith(short):
            return i
    return None


def _fold(s: str | None) -> str:
    """Comparison key: case, quote style, accents, punctuation and spacing folded away."""
    if not s:
        return ""
    s = unicodedata.normalize("NFKD", s.translate(QUOTE_FOLD))
    return re.sub(r"[\W_]+", " ", s.casefold()).strip()


def _typography(s: str) -> int:
    return sum(s.count(c) for c in "“”‘’«»–—")


def _clean_line(s: str) -> str:
    s = unicodedata.normalize("NFC", s).replace("\u00a0", " ").replace("\u200b", "")
    return re.sub(r"[ \t\f\v]+", " ", s).strip()


def _pick_date(page: str | None, feed: datetime | None, url: str, page_origin: str = "page"):
    """Publication date and where it came from: the page's metadata, the feed entry, or the URL path.
    Never the fetch time."""
    if page:
        try:
            return _utc(dateparser.parse(page)), page_origin
        except (ValueError, OverflowError):
            pass
    if feed is not None:
        return _utc(feed), "feed"
    m = URL_DATE.search(url)
    if m:
        try:
            return datetime(int(m[1]), int(m[2]), int(m[3])), "url"
        except ValueError:
            pass
    return None, None


def _page_time(html: bytes | str) -> str | None:
    """A full timestamp from article:published_time when the page has one (trafilatura keeps the day only)."""
    head = html[:200_000].decode("utf-8", "replace") if isinstance(html, bytes) else html[:200_000]
    m = re.search(r"<meta[^>]+(?:property|name)=[\"'](?:article:published_time|datePublished|pubdate)[\"'][^>]*>",
                  head, re.I)
    if m:
        c = re.search(r"content=[\"']([^\"']+)", m[0], re.I)
        if c:
            return c[1]
    return None


def _utc(dt: datetime) -> datetime:
    if dt.tzinfo is not None:
        dt = dt.astimezone(UTC).replace(tzinfo=None)
    return dt


def _finish(title, text, published, origin, author, site_name) -> Extracted:
    if not word_count(text):
        raise ExtractionError("no text: nothing left after cleanup")
    return Extracted(
        title=title or None,
        text=text,
        published_at=published,
        date_origin=origin,
        author=_clean_line(author) if isinstance(author, str) and author.strip() else None,
        site_name=_clean_line(site_name) if isinstance(site_name, str) and site_name.strip() else None,
    )
