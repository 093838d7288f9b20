"""Discovery: the sources configuration, and the article URLs each source lists (RSS/Atom feeds with
feedparser, local folders, URL lists)."""

from __future__ import annotations

import calendar
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import yaml

from pipelines import fetch
from pipelines.models import Candidate, LogRecord

KINDS = ("rss", "folder", "urls")


class SourcesError(ValueError):
    """The sources file is invalid; the message names the file, the source and the field."""


@dataclass(frozen=True)
class Source:
    name: str
    kind: str
    url: str | None = None
    path: str | None = None
    urls: tuple[str, ...] = ()
    language: str = "en"
    enabled: bool = True
    local: bool = False


def load_sources(path: Path) -> list[Source]:
    """Read and validate the sources YAML (see config/sources.example.yaml)."""
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except OSError as exc:
        raise SourcesError(f"{path}: cannot read sources file: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        raise SourcesError(f"{path}: invalid YAML: {exc}") from exc
    items = doc.get("sources") if isinstance(doc, dict) else None
    if not isinstance(items, list):
        raise SourcesError(f"{path}: expected a top-level 'sources:' list")
    out, names = [], set()
    for i, item in enumerate(items):
        where = f"{path}: sources[{i}]"
        if not isinstance(item, dict):
            raise SourcesError(f"{where}: expected a mapping")
        name = item.get("name")
        if not name or not isinstance(name, str):
            raise SourcesError(f"{where}: 'name' is required")
        if name in names:
            raise SourcesError(f"{where} ({name}): duplicate name")
        names.add(name)
        kind = item.get("kind")
        if kind not in KINDS:
            raise SourcesError(f"{where} ({name}): 'kind' must be one of {', '.join(KINDS)}, not {kind!r}")
        need = {"rss": "url", "folder": "path", "urls": "urls"}[kind]
        if not item.get(need):
            raise SourcesError(f"{where} ({name}): kind {kind} needs '{need}'")
        unknown = set(item) - {"name", "kind", "url", "path", "urls", "language", "enabled", "local"}
        if unknown:
            raise SourcesError(f"{where} ({name}): unknown field(s) {', '.join(sorted(unknown))}")
        path_value = item.get("path")
        if path_value and not Path(path_value).is_absolute():
            path_value = str((path.parent / path_value).resolve())
        out.append(Source(name=name, kind=kind, url=item.get("url"), path=path_value,
                          urls=tuple(item.get("urls") or ()), language=item.get("language", "en"),
                          enabled=bool(item.get("enabled", True)), local=bool(item.get("local", False))))
    return out


def discover(source: Source, *, user_agent: str, timeout: float, max_bytes: int) -> Iterator[Candidate | LogRecord]:
    """Candidates listed by one source; a source that fails yields one LogRecord and nothing else."""
    if source.kind == "folder":
        yield from local_candidates([Path(source.path)], source.name)
    elif source.kind == "urls":
        for url in source.urls:
            yield Candidate(url=url, source=source.name, local=source.local)
    else:
        try:
            resp = fetch.get(source.url, user_agent=user_agent, timeout=timeout, max_bytes=max_bytes,
                             allow_private=source.local)
        except fetch.FetchError as exc:
            yield LogRecord(source.name, source.url, "discover", exc.reason, exc.http_status)
            return
        yield from parse_feed(resp.body, source)


def parse_feed(body: bytes, source: Source) -> Iterator[Candidate | LogRecord]:
    import feedparser

    parsed = feedparser.parse(body)
    if not parsed.entries:
        reason = f"not a feed: {parsed.get('bozo_exception')}" if parsed.get("bozo") else "feed has no entries"
        yield LogRecord(source.name, source.url or "", "discover", reason)
        return
    for entry in parsed.entries:
        link = entry.get("link")
        if not link:
            yield LogRecord(source.name, source.url or "", "discover", "feed entry without a link")
            continue
        when = entry.get("published_parsed") or entry.get("updated_parsed")
        published = datetime.fromtimestamp(calendar.timegm(when), UTC).replace(tzinfo=None) if when else None
        yield Candidate(url=link, source=source.name, local=source.local,
                        feed_title=entry.get("title"), feed_published=published)


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
