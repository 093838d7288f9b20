"""The sources configuration (config/sources.example.yaml documents it): what each source is, read and
validated with the file, the line, the source and the field named in every error."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import yaml

KINDS = ("rss", "jsonfeed", "sitemap", "urls", "folder", "warc")
FIELDS = ("name", "kind", "url", "path", "urls", "language", "enabled", "local", "tags")
# What each kind reads: one of these fields is required.
NEEDS = {"rss": ("url", "path"), "jsonfeed": ("url", "path"), "sitemap": ("url", "path"), "urls": ("urls",),
         "folder": ("path",), "warc": ("path",)}


class SourcesError(ValueError):
    """The sources file is invalid; the message names the file, the line, the source and the field."""


@dataclass(frozen=True)
class Source:
    name: str
    kind: str
    url: str | None = None
    path: str | None = None
    urls: tuple[str, ...] = ()
    # The language the source publishes in, if declared: the prior of language identification.
    language: str | None = None
    enabled: bool = True
    local: bool = False
    tags: tuple[str, ...] = ()


def load_sources(path: Path) -> list[Source]:
    """Read and validate the sources YAML (see config/sources.example.yaml).

    Raises:
        SourcesError: naming the file, the line, the source and the field at fault.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SourcesError(f"{path}: cannot read sources file: {exc.strerror}") from exc
    try:
        # The composed nodes carry line numbers, which the constructed values lose.
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        doc = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark else f"{path}"
        raise SourcesError(f"{where}: invalid YAML: {getattr(exc, 'problem', None) or exc}") from exc
    items = doc.get("sources") if isinstance(doc, dict) else None
    if not isinstance(items, list):
        line = root.start_mark.line + 1 if root is not None else 1
        raise SourcesError(f"{path}:{line}: expected a top-level 'sources:' list")
    item_nodes = _value_node(root, "sources").value
    out, names = [], set()
    for i, (item, node) in enumerate(zip(items, item_nodes, strict=True)):
        out.append(_source(path, i, item, node, names))
    return out


def _source(path: Path, i: int, item, node, names: set[str]) -> Source:
    def fail(fld: str | None, message: str):
        line = _line(node, fld)
        label = f" ({item.get('name')})" if isinstance(item, dict) and isinstance(item.get("name"), str) else ""
        what = f" field '{fld}'" if fld else ""
        raise SourcesError(f"{path}:{line}: sources[{i}]{label}{what}: {message}")

    if not isinstance(item, dict):
        fail(None, "expected a mapping")
    unknown = sorted(str(k) for k in item if k not in FIELDS)
    if unknown:
        fail(unknown[0], f"unknown field(s) {', '.join(unknown)} (known: {', '.join(FIELDS)})")
    name = item.get("name")
    if not name or not isinstance(name, str):
        fail("name", "'name' is required (a string)")
    if name in names:
        fail("name", f"duplicate name {name!r}")
    names.add(name)
    kind = item.get("kind")
    if kind not in KINDS:
        fail("kind", f"'kind' must be one of {', '.join(KINDS)}, not {kind!r}")
    need = NEEDS[kind]
    if not any(item.get(f) for f in need):
        fail(need[0], f"kind {kind} needs '{need[0]}'" + (f" (or '{need[1]}')" if len(need) > 1 else ""))
    for fld in ("url", "path", "language"):
        if fld in item and not isinstance(item[fld], str):
            fail(fld, f"expected a string, not {item[fld]!r}")
    if isinstance(item.get("language"), str) and not re.fullmatch(r"[a-z]{2,3}", item["language"]):
        fail("language", f"expected an ISO 639-1 code such as 'en' or 'pt', not {item['language']!r}")
    url = item.get("url")
    if url and not url.startswith(("http://", "https://")):
        fail("url", f"expected an http(s) URL, not {url!r}")
    for fld in ("urls", "tags"):
        value = item.get(fld, [])
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            fail(fld, "expected a list of strings")
    for fld in ("enabled", "local"):
        if fld in item and not isinstance(item[fld], bool):
            fail(fld, f"expected true or false, not {item[fld]!r}")
    path_value = item.get("path")
    if path_value and not Path(path_value).is_absolute():
        path_value = str((path.parent / path_value).resolve())
    return Source(name=name, kind=kind, url=url, path=path_value, urls=tuple(item.get("urls") or ()),
                  language=item.get("language"), enabled=item.get("enabled", True),
                  local=item.get("local", False), tags=tuple(item.get("tags") or ()))


def _value_node(mapping, key: str):
    for k, v in getattr(mapping, "value", []):
        if isinstance(k, yaml.ScalarNode) and k.value == key:
            return v
    return None


def _line(node, fld: str | None) -> int:
    """The 1-based line of a field's key in a source's mapping, or of the source itself."""
    if fld and isinstance(node, yaml.MappingNode):
        for k, _ in node.value:
            if isinstance(k, yaml.ScalarNode) and k.value == fld:
                return k.start_mark.line + 1
    return node.start_mark.line + 1


def selected(sources: Iterable[Source], tags: Iterable[str] | None = None) -> list[Source]:
    """The enabled sources, and with `tags` only those carrying at least one of them."""
    wanted = set(tags or ())
    return [x for x in sources if x.enabled and (not wanted or wanted & set(x.tags))]
