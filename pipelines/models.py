"""Records passed between stages, and the deterministic ids that make reruns idempotent."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

ENTITY_TYPES = ("PERSON", "ORG", "LOCATION")
CLAIM_KINDS = ("quote", "statement", "quantity")


def stable_id(*parts: object) -> str:
    """A 16-hex-digit id from its parts: the same inputs give the same id in every run and process."""
    joined = "\x1f".join("" if p is None else str(p) for p in parts)
    return hashlib.sha256(joined.encode("utf-8")).hexdigest()[:16]


def canonical_url(url: str) -> str:
    """The URL an article is known by: scheme and host lowercased, default port, fragment and tracking
    parameters (utm_*, fbclid, ...) dropped, so the same story linked two ways gets one id."""
    if not url.startswith(("http://", "https://")):
        return url
    from courlan import normalize_url

    try:
        return normalize_url(url, strict=True)
    except ValueError:
        return url


def article_id(url: str) -> str:
    return stable_id("article", canonical_url(url))


def entity_id(entity_type: str, key: str) -> str:
    return stable_id("entity", entity_type, key)


def run_id(kind: str, start: datetime | None, end: datetime | None, scope: str = "") -> str:
    """One id per (job, window): a scheduled run, a manual rerun and a backfill of a date share it."""
    return stable_id("run", kind, start.isoformat() if start else "", end.isoformat() if end else "", scope)


@dataclass(frozen=True)
class Candidate:
    """A URL or file discovered for fetching, with what its feed entry said about it."""

    url: str
    source: str
    local: bool = False
    feed_title: str | None = None
    feed_published: datetime | None = None
    # Set when discovery already holds the bytes (a WARC re-import): fetch takes them as fetched.
    raw_sha256: str | None = None
    kind: str | None = None
    http_status: int | None = None
    charset: str | None = None
    # The language the source declares (the prior of language identification); None: not declared.
    language: str | None = None
    # The feed entry's own text (its summary or content), kept as the article when the page cannot be
    # had or holds no article: a feed-only brief is still news.
    feed_summary: str | None = None


@dataclass(frozen=True)
class LogRecord:
    """One item that failed or was skipped at some stage, with its reason (the `fetch_log` table)."""

    source: str
    url: str
    stage: str
    reason: str
    http_status: int | None = None
    # HTTP requests made for the item (retries included); None where none was made.
    attempts: int | None = None


@dataclass(frozen=True)
class FeedState:
    """What a feed or sitemap URL answered last (the `feed_state` table): the validators for the next
    conditional GET, and the digest of the body they stand for, so a 304 re-reads that body."""

    url: str
    source: str
    etag: str | None
    last_modified: str | None
    body_sha256: str | None
    status: int
    checked_at: datetime | None
