"""Sitemaps: a urlset or a sitemap index, gzipped or not, parsed safely (no DTD, no entities), with the
Google News extension's publication date and title. Walking them for a source is discovery's
(`feeds.sitemap_candidates`)."""

from __future__ import annotations

from datetime import UTC, datetime

from pipelines import fetch


class SitemapError(ValueError):
    """A sitemap that cannot be read; the message is what fetch_log records."""


def parse_sitemap(body: bytes, max_bytes: int) -> tuple[str, list[dict]]:
    """('urlset' | 'index', entries) of a sitemap, gzipped or not; each entry has loc, lastmod and, from
    a Google News sitemap, the publication date and title.

    Raises:
        SitemapError: invalid or unsafe XML (a DTD is refused: billion laughs, external entities).
        fetch.FetchError: a gzip body that is corrupt or inflates past max_bytes.
    """
    from xml.etree.ElementTree import ParseError

    from defusedxml import DefusedXmlException
    from defusedxml.ElementTree import fromstring

    if body[:2] == b"\x1f\x8b":
        body = fetch.gunzip(body, max_bytes)
    try:
        root = fromstring(body, forbid_dtd=True)
    except DefusedXmlException as exc:
        raise SitemapError(f"refused unsafe XML: {exc.__class__.__name__} ({exc}); "
                           "sitemaps may not declare a DTD or entities") from exc
    except ParseError as exc:
        raise SitemapError(f"not a sitemap: invalid XML ({exc})") from exc
    tag = _local(root.tag)
    if tag not in ("urlset", "sitemapindex"):
        raise SitemapError(f"not a sitemap: root element <{tag}>")
    entries = []
    for el in root:
        if _local(el.tag) not in ("url", "sitemap"):
            continue
        loc = _text(el, "loc")
        if not loc:
            continue
        news = next((c for c in el if _local(c.tag) == "news"), None)
        entries.append({"loc": loc, "lastmod": w3c_date(_text(el, "lastmod")),
                        "published": w3c_date(_text(news, "publication_date")) if news is not None else None,
                        "title": _text(news, "title") if news is not None else None})
    return ("urlset" if tag == "urlset" else "index"), entries


def _local(tag) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _text(el, name: str) -> str | None:
    for c in el:
        if _local(c.tag) == name and c.text and c.text.strip():
            return c.text.strip()
    return None


def w3c_date(value) -> datetime | None:
    """A W3C/ISO 8601 datetime (sitemaps, JSON Feed) as naive UTC; a bare date is midnight UTC."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        dt = datetime.fromisoformat(value.strip())
    except ValueError:
        from dateutil.parser import isoparse

        try:
            dt = isoparse(value.strip())
        except (ValueError, OverflowError):
            return None
    try:
        return dt.astimezone(UTC).replace(tzinfo=None) if dt.tzinfo else dt
    except OverflowError:  # year 1 with a positive offset falls before year 1 in UTC
        return None
