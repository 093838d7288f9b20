"""The fetch stage: every candidate's bytes, kept content-addressed under data/raw/."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import UTC, datetime

from pipelines import fetch, runs, staging
from pipelines.client import Client
from pipelines.models import Candidate, LogRecord
from pipelines.settings import Settings


def fetch_stage(s: Settings, run: dict, part: int | None = None) -> dict:
    """Fetch every candidate, keep the bytes content-addressed under data/raw/. Pages of different
    hosts are fetched at the same time, each host politely (robots.txt, a delay, retries: client.Client).
    With `part`, only that batch of the candidates (a mapped task of the DAG)."""
    cands = [Candidate(**c) for c in staging.batch(staging.read_rows(s, run, "candidates"), part, s.batch_size)]
    client = Client.from_settings(s)

    def one(c: Candidate) -> tuple[dict | None, LogRecord | None]:
        base = {k: v for k, v in asdict(c).items() if k != "feed_summary"}
        base["summary_sha256"] = _store_summary(s, c)
        if c.raw_sha256:  # discovery stored the bytes (a WARC re-import): nothing to fetch
            return {**base, "fetched_at": run["window_end"] or "1970-01-01T00:00:00"}, None
        try:
            if c.url.startswith(("http://", "https://")):
                resp = client.get(c.url, allow_private=c.local)
                body, kind, status = resp.body, fetch.kind_of(resp.url, resp.content_type), resp.status
                if kind is None:
                    raise fetch.FetchError(f"not an article page (content type {resp.content_type!r})", status)
                stamp = run["window_end"] or _http_date(resp)
                charset = fetch.charset_of(body, resp.content_type) if body.strip() else None
            else:
                body, kind, status = fetch.read_file(c.url, s.max_bytes), fetch.kind_of(c.url), None
                if kind is None:
                    raise fetch.FetchError("unsupported file type (expected .html, .htm, .txt or .json)")
                stamp = run["window_end"] or _mtime(c.url)
                # A local text file must be UTF-8 (extraction says so when it is not); HTML carries its own.
                charset = fetch.charset_of(body) if kind == "html" and body.strip() else None
            if not body.strip():
                raise fetch.FetchError("empty response" if status else "empty file", status)
            digest = fetch.store_raw(s.raw, body)
            return {**base, "raw_sha256": digest, "kind": kind, "http_status": status, "fetched_at": stamp,
                    "charset": charset}, None
        except fetch.FetchError as exc:
            log = LogRecord(c.source, c.url, "fetch", exc.reason, exc.http_status, exc.attempts or None)
            if base["summary_sha256"] is None:
                return None, log
            # The page is lost but the feed said what the story is: that text is the article, and the
            # failure is still logged.
            return {**base, "raw_sha256": base["summary_sha256"], "kind": "json", "http_status": exc.http_status,
                    "fetched_at": run["window_end"] or "1970-01-01T00:00:00", "charset": None}, log

    try:
        results = client.map(one, cands, lambda c: c.url, s.fetch_threads)
    finally:
        client.close()
    rows = [r for r, _ in results if r is not None]
    logs = [log for _, log in results if log is not None]
    notes = robots_notes(client)
    staging.write_rows(s, run, "fetched", rows, part)
    counts = {"fetched": len(rows), "fetch_failed": len(logs), "robots_notes": len(notes)}
    return staging.finish_stage(s, run, "fetch", counts, logs + notes, part)


def robots_notes(client: Client) -> list[LogRecord]:
    """A fetch_log row for each robots.txt that was read with a caveat (cut at 500 KiB, UTF-16,
    redirected too often), so a site's odd rules are visible without being failures."""
    return [LogRecord("robots.txt", url, "robots", note) for url, note in client.notes()]


def _store_summary(s: Settings, c: Candidate) -> str | None:
    """The feed entry's own text, stored under data/raw/ as a JSON record (what a reprocess re-reads)."""
    if not c.feed_summary:
        return None
    record = {"title": c.feed_title, "text": c.feed_summary,
              "published_at": c.feed_published.isoformat() if c.feed_published else None}
    return fetch.store_raw(s.raw, json.dumps(record, ensure_ascii=False, sort_keys=True).encode("utf-8"))


def _http_date(resp) -> str:
    """When the server says it answered (ingest of a URL has no logical date to use)."""
    from email.utils import parsedate_to_datetime

    try:
        return runs.naive_utc(parsedate_to_datetime(resp.date)).isoformat()
    except (TypeError, ValueError):
        return "1970-01-01T00:00:00"


def _mtime(url: str) -> str:
    ts = fetch.file_path(url).stat().st_mtime
    return datetime.fromtimestamp(ts, UTC).replace(tzinfo=None).isoformat()
