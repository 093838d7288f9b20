"""Alerts: a watchlist of names (with aliases) and keywords; each watched name or keyword in a new story
becomes one alert per rule and article, delivered once to its channel (a JSONL file here)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from pipelines import geo
from pipelines.models import ENTITY_TYPES, stable_id

CHANNELS = ("file",)


class WatchlistError(ValueError):
    """The watchlist file is invalid; the message names the file, the rule and the field."""


@dataclass(frozen=True)
class Rule:
    rule_id: str
    names: tuple[str, ...] = ()
    type: str | None = None
    keywords: tuple[str, ...] = ()
    channels: tuple[str, ...] = ("file",)


def load_watchlist(path: Path) -> list[Rule]:
    """Read and validate the watchlist YAML (see config/watchlist.example.yaml). A missing file is an
    empty watchlist."""
    if not path.exists():
        return []
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise WatchlistError(f"{path}: invalid YAML: {exc}") from exc
    items = doc.get("rules") if isinstance(doc, dict) else None
    if not isinstance(items, list):
        raise WatchlistError(f"{path}: expected a top-level 'rules:' list")
    rules, ids = [], set()
    for i, item in enumerate(items):
        where = f"{path}: rules[{i}]"
        if not isinstance(item, dict) or not item.get("id"):
            raise WatchlistError(f"{where}: each rule needs an 'id'")
        rid = str(item["id"])
        if rid in ids:
            raise WatchlistError(f"{where} ({rid}): duplicate id")
        ids.add(rid)
        unknown = set(item) - {"id", "name", "aliases", "type", "keywords", "channels"}
        if unknown:
            raise WatchlistError(f"{where} ({rid}): unknown field(s) {', '.join(sorted(unknown))}")
        names = tuple([item["name"]] if item.get("name") else []) + tuple(item.get("aliases") or ())
        keywords = tuple(item.get("keywords") or ())
        if not names and not keywords:
            raise WatchlistError(f"{where} ({rid}): needs 'name' (with optional 'aliases') or 'keywords'")
        etype = item.get("type")
        if etype is not None and etype not in ENTITY_TYPES:
            raise WatchlistError(f"{where} ({rid}): 'type' must be one of {', '.join(ENTITY_TYPES)}")
        channels = tuple(item.get("channels") or ("file",))
        bad = [c for c in channels if c not in CHANNELS]
        if bad:
            raise WatchlistError(f"{where} ({rid}): unknown channel(s) {', '.join(bad)}")
        rules.append(Rule(rid, tuple(map(str, names)), etype, tuple(map(str, keywords)), channels))
    return rules


def patterns(rules: list[Rule]) -> tuple[tuple[str, str], ...]:
    """Entity-ruler patterns so the model always recognises watched names with a known type."""
    label = {"PERSON": "PERSON", "ORG": "ORG", "LOCATION": "GPE"}
    return tuple(sorted({(label[r.type], n) for r in rules if r.type for n in r.names}))


def match(rules: list[Rule], articles, mentions, created_at, run_id: str) -> list[dict]:
    """Alert rows for a batch: one per (rule, article, channel), the first matching mention kept.
    Syndicated copies (duplicate_of set) never alert: their story already did."""
    rows = []
    stories = articles[articles["duplicate_of"].isna()]
    texts = dict(zip(stories["article_id"], stories["text"], strict=True))
    by_article: dict[str, list] = {}
    for m in mentions.sort_values(["article_id", "start_char"]).itertuples():
        if m.article_id in texts:
            by_article.setdefault(m.article_id, []).append(m)
    for rule in rules:
        wanted = {geo.fold(n) for n in rule.names}
        for aid, text in texts.items():
            hit = None
            for m in by_article.get(aid, []):
                if (rule.type is None or m.type == rule.type) and (
                        geo.fold(m.form) in wanted or geo.fold(m.surface) in wanted):
                    hit = (m.entity_id, m.mention_id, m.surface, m.start_char, m.end_char)
                    break
            if hit is None and rule.keywords:
                for kw in rule.keywords:
                    km = re.search(rf"\b{re.escape(kw)}\b", text, re.I)
                    if km:
                        hit = (None, None, km[0], km.start(), km.end())
                        break
            if hit is None:
                continue
            entity, mention, matched, start, end = hit
            for channel in rule.channels:
                rows.append({
                    "alert_id": stable_id("alert", rule.rule_id, aid, channel),
                    "rule_id": rule.rule_id, "entity_id": entity, "article_id": aid, "mention_id": mention,
                    "created_at": created_at, "channel": channel, "status": "pending", "attempts": 0,
                    "error": None, "matched": matched, "snippet": snippet(text, start, end), "run_id": run_id,
                })
    return rows


def snippet(text: str, start: int, end: int, width: int = 120) -> str:
    """The words around a match, the match marked with «»."""
    lo, hi = max(0, start - width), min(len(text), end + width)
    return (("…" if lo else "") + text[lo:start] + "«" + text[start:end] + "»" + text[end:hi]
            + ("…" if hi < len(text) else "")).replace("\n", " ")


def deliver_pending(con, alerts_file: Path) -> dict:
    """Deliver every pending alert (this run's and earlier failures) and mark it sent.

    The JSONL channel is idempotent by alert_id: an alert already in the file (written before a crash
    that kept it from being marked sent) is not written again.
    """
    cols, rows = _pending(con)
    if not rows:
        return {"sent": 0, "failed": 0}
    sent, failed = [], []
    try:
        alerts_file.parent.mkdir(parents=True, exist_ok=True)
        present = set()
        if alerts_file.exists():
            for line in alerts_file.read_text(encoding="utf-8").splitlines():
                try:
                    present.add(json.loads(line)["alert_id"])
                except (ValueError, KeyError):
                    continue
        with alerts_file.open("a", encoding="utf-8") as out:
            for row in rows:
                record = dict(zip(cols, row, strict=True))
                if record["alert_id"] not in present:
                    out.write(json.dumps(record, default=str, ensure_ascii=False) + "\n")
                sent.append(record["alert_id"])
    except OSError as exc:
        failed = [r[0] for r in rows if r[0] not in sent]
        con.execute("update alerts set attempts = attempts + 1, status = 'failed', error = $e "
                    "where alert_id in (select unnest($ids::varchar[]))", {"e": str(exc), "ids": failed})
    if sent:
        con.execute("update alerts set status = 'sent', attempts = attempts + 1, error = null "
                    "where alert_id in (select unnest($ids::varchar[]))", {"ids": sent})
    return {"sent": len(sent), "failed": len(failed)}


def _pending(con):
    cur = con.execute("""
        select a.alert_id, a.rule_id, a.channel, a.created_at, a.matched, a.snippet,
               e.name as entity, e.type as entity_type, ar.title, ar.url, ar.source, ar.published_at
        from alerts as a
        left join entities as e on e.entity_id = a.entity_id
        left join articles as ar on ar.article_id = a.article_id
        where a.status in ('pending', 'failed') and a.channel = 'file'
        order by a.created_at, a.alert_id""")
    return [d[0] for d in cur.description], cur.fetchall()
