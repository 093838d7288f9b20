"""The alias table: variant -> canonical name, per entity type ("Kiev" -> "Kyiv"). The shipped defaults are
pipelines/data/aliases.yaml; a user's file (NEWSMON_ALIASES, same shape) goes on top. This is the one
reader of those files; the entity stage and the geocoder fold the names their own way."""

from __future__ import annotations

import functools
from pathlib import Path

import yaml

SHIPPED = Path(__file__).parent / "data" / "aliases.yaml"


@functools.cache
def table(user_file: str | None = None) -> dict[str, dict[str, str]]:
    """{entity type: {variant as spelt: canonical name}}: the shipped file, then the user's, whose entries
    come later and so win where both spell a variant alike."""
    out: dict[str, dict[str, str]] = {}
    for path in [SHIPPED] + ([Path(user_file)] if user_file else []):
        loaded = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for etype, mapping in loaded.items():
            for variant, canonical in (mapping or {}).items():
                out.setdefault(etype, {})[str(variant)] = str(canonical)
    return out
