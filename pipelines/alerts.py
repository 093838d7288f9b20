"""Alerts: watchlist rules evaluated on each loaded run; one alert per (rule, story, channel), explained.

Rule kinds:
    mention     a story mentions what the rule watches (an entity, a place, a search query, or all of them)
    claim       a watched actor is quoted (optionally: speaking about something)
    first_seen  an entity appears for the first time ever (optionally limited by type or name)
    spike       an entity's stories in the run against its trailing 14-day daily baseline

Evaluation runs inside the load transaction (so alerts exist exactly when their stories do); delivery
is pipelines/channels.py.
"""

from __future__ import annotations

import json
import math
import statistics
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import yaml

from pipelines import geo, search, store
from pipelines.models import ENTITY_TYPES, stable_id

KINDS = ("mention", "claim", "first_seen", "spike")
MODES = ("instant", "digest")
CHANNEL_TYPES = ("file", "email", "slack", "webhook")
BASELINE_DAYS = 14


class WatchlistError(ValueError):
    """The watchlist file is invalid; the message names the file, the rule and the field."""


@dataclass(frozen=True)
class PlaceFilter:
    """A rule's place condition: named places, a country, or within km of a point (not geo.Place, which
    is a place itself)."""

    names: tuple[str, ...] = ()
    country: str | None = None
    near: tuple[float, float] | None = None
    km: float = 50.0


@dataclass(frozen=True)
class Spike:
    min_count: int = 3
    ratio: float = 3.0
    z: float = 3.0


@dataclass(frozen=True)
class Rule:
    rule_id: str
    kind: str = "mention"
    names: tuple[str, ...] = ()
    type: str | None = None
    place: PlaceFilter | None = None
    query: str | None = None
    quoted: bool = False
    about: tuple[str, ...] = ()
    channels: tuple[str, ...] = ("file",)
    mode: str = "instant"
    spike: Spike = field(default_factory=Spike)


@dataclass(frozen=True)
class Channel:
    name: str
    type: str
    options: dict


@dataclass(frozen=True)
class Watchlist:
    rules: tuple[Rule, ...] = ()
    channels: dict[str, Channel] = field(default_factory=dict)


RULE_FIELDS = {"id", "kind", "name", "aliases", "type", "place", "keywords", "query", "quoted", "about", "channels",
               "mode", "spike"}
CHANNEL_FIELDS = {
    "file": {"type", "path"},
    "email": {"type", "to", "from", "subject_prefix", "smtp_env"},
    "slack": {"type", "url_env"},
    "webhook": {"type", "url", "url_env", "secret_env"},
}


def load_watchlist(path: Path) -> Watchlist:
    """Read and validate the watchlist YAML (see config/watchlist.example.yaml). A missing file is an
    empty watchlist. Secrets are never in this file: channels name the environment variables that hold
    them."""
    if not path.exists():
        return Watchlist()
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise WatchlistError(f"{path}: invalid YAML: {exc}") from exc
    if not isinstance(doc, dict) or not isinstance(doc.get("rules"), list):
        raise WatchlistError(f"{path}: expected a top-level 'rules:' list")
    channels = {"file": Channel("file", "file", {})}
    for name, spec in (doc.get("channels") or {}).items():
        where = f"{path}: channels.{name}"
        if not isinstance(spec, dict) or spec.get("type") not in CHANNEL_TYPES:
            raise WatchlistError(f"{where}: 'type' must be one of {', '.join(CHANNEL_TYPES)}")
        unknown = set(spec) - CHANNEL_FIELDS[spec["type"]]
        if unknown:
            raise WatchlistError(f"{where}: unknown field(s) {', '.join(sorted(unknown))}")
        if spec["type"] == "email" and not spec.get("to"):
            raise WatchlistError(f"{where}: email needs 'to'")
        if spec["type"] == "slack" and not spec.get("url_env"):
            raise WatchlistError(f"{where}: slack needs 'url_env' (the variable holding the webhook URL)")
        if spec["type"] == "webhook" and not (spec.get("url") or spec.get("url_env")):
            raise WatchlistError(f"{where}: webhook needs 'url' or 'url_env'")
        channels[name] = Channel(name, spec["type"], {k: v for k, v in spec.items() if k != "type"})
    rules, ids = [], set()
    for i, item in enumerate(doc["rules"]):
        rule = _rule(item, f"{path}: rules[{i}]", channels)
        if rule.rule_id in ids:
            raise WatchlistError(f"{path}: rules[{i}] ({rule.rule_id}): duplicate id")
        ids.add(rule.rule_id)
        rules.append(rule)
    return Watchlist(tuple(rules), channels)


def _rule(item, where: str, channels: dict) -> Rule:
    if not isinstance(item, dict) or not item.get("id"):
        raise WatchlistError(f"{where}: each rule needs an 'id'")
    rid = str(item["id"])
    where = f"{where} ({rid})"
    unknown = set(item) - RULE_FIELDS
    if unknown:
        raise WatchlistError(f"{where}: unknown field(s) {', '.join(sorted(unknown))}")
    kind = item.get("kind", "mention")
    if kind not in KINDS:
        raise WatchlistError(f"{where}: 'kind' must be one of {', '.join(KINDS)}")
    mode = item.get("mode", "instant")
    if mode not in MODES:
        raise WatchlistError(f"{where}: 'mode' must be instant or digest")
    etype = item.get("type")
    if etype is not None and etype not in ENTITY_TYPES:
        raise WatchlistError(f"{where}: 'type' must be one of {', '.join(ENTITY_TYPES)}")
    names = tuple(str(n) for n in ([item["name"]] if item.get("name") else []) + list(item.get("aliases") or []))
    place = None
    if item.get("place") is not None:
        p = item["place"]
        if not isinstance(p, dict) or not ({"name", "names", "country", "near"} & set(p)):
            raise WatchlistError(f"{where}: 'place' needs name, country or near: [lat, lon] (with km)")
        near = p.get("near")
        if near is not None and (not isinstance(near, list) or len(near) != 2):
            raise WatchlistError(f"{where}: place.near must be [latitude, longitude]")
        place_names = tuple(str(n) for n in ([p["name"]] if p.get("name") else []) + list(p.get("names") or []))
        place = PlaceFilter(place_names, p.get("country"), tuple(map(float, near)) if near else None,
                      float(p.get("km", 50)))
    query = _query(item, where)
    about = tuple(str(a) for a in item.get("about") or ())
    quoted = bool(item.get("quoted", False)) or kind == "claim"
    if kind in ("mention", "claim") and not (names or etype or place or query):
        raise WatchlistError(f"{where}: needs 'name' (with optional 'aliases'), 'type', 'place', 'query' or "
                             f"'keywords'")
    if (quoted or about) and not names:
        raise WatchlistError(f"{where}: 'quoted' and 'about' need the actor's 'name'")
    chans = tuple(item.get("channels") or ("file",))
    bad = [c for c in chans if c not in channels]
    if bad:
        raise WatchlistError(f"{where}: unknown channel(s) {', '.join(bad)} (define them under 'channels:')")
    spike = Spike(**{k: v for k, v in (item.get("spike") or {}).items() if k in ("min_count", "ratio", "z")})
    return Rule(rid, kind, names, etype, place, query, quoted, about, chans, mode, spike)


def _query(item: dict, where: str) -> str | None:
    """A rule's search query (the language of `newsmon search`); `keywords: [a, b]` is the query
    `"a" OR "b"`. A query that does not parse is refused with its position."""
    if item.get("query") is not None and item.get("keywords"):
        raise WatchlistError(f"{where}: give 'query' or 'keywords', not both")
    if item.get("keywords"):
        query = " OR ".join('"' + str(k).replace('"', " ") + '"' for k in item["keywords"])
    elif item.get("query") is not None:
        query = str(item["query"])
    else:
        return None
    try:
        search.check_query(query)
    except search.QueryError as exc:
        raise WatchlistError(f"{where}: query {query!r}: {exc}") from exc
    return query


def topics(watchlist: Watchlist) -> tuple[tuple[str, str], ...]:
    """(rule id, query) of the rules that watch a query or keywords: the digest's topics."""
    return tuple((r.rule_id, r.query) for r in watchlist.rules if r.query)


def patterns(watchlist: Watchlist) -> tuple[tuple[str, str], ...]:
    """Entity-ruler patterns so the model always recognises watched names with a known type."""
    label = {"PERSON": "PERSON", "ORG": "ORG", "LOCATION": "GPE"}
    return tuple(sorted({(label[r.type], n) for r in watchlist.rules if r.type for n in r.names}))


# ---------------------------------------------------------------- evaluation


def evaluate(con, watchlist: Watchlist, run_id: str, created_at: datetime | None, window_start: datetime | None):
    """Alert rows for what a run loaded: call inside its load transaction, where store.load_run has
    registered the run's rows as run_articles, run_mentions and run_claims (so nothing here scans the
    history: the load's time does not grow with the database).

    Syndicated copies (duplicate_of set) never alert: their story already did. Ids hash the rule, what
    fired (the story; the entity for first_seen; entity and window for spike) and the channel, so a
    rerun, a reprocess or a backfill of the same content never alerts twice.
    """
    if not watchlist.rules:
        return []
    stories = store.records(con, """select article_id, title, url, text from run_articles
                            where duplicate_of is null order by article_id""")
    if not stories:
        return []
    mentions = store.records(con, """
        select m.*, e.name, e.type, e.aliases, e.country_code, e.latitude, e.longitude
        from run_mentions m join entities e using (entity_id)
        join run_articles a using (article_id)
        where a.duplicate_of is null order by m.article_id, m.start_char""")
    claims = store.records(con, """select c.* from run_claims c join run_articles a using (article_id)
                           where a.duplicate_of is null order by c.article_id, c.start_char""")
    by_article: dict[str, list[dict]] = {}
    for m in mentions:
        by_article.setdefault(m["article_id"], []).append(m)
    claims_by: dict[str, list[dict]] = {}
    for c in claims:
        claims_by.setdefault(c["article_id"], []).append(c)
    texts = {s["article_id"]: s for s in stories}
    # A rule's query runs on the run's own articles (in_run), through the index the load just wrote.
    matches = {r.rule_id: search.matches_in_run(con, r.query, run_id, texts) for r in watchlist.rules if r.query}
    out: list[dict] = []
    for rule in watchlist.rules:
        if rule.kind in ("mention", "claim"):
            for story in stories:
                hit = _story_hit(rule, story, by_article.get(story["article_id"], []),
                                 claims_by.get(story["article_id"], []), matches.get(rule.rule_id, {}))
                if hit:
                    out += _rows_for(rule, story["article_id"], hit, created_at, run_id)
        elif rule.kind == "first_seen":
            for ent, m in _first_seen(con, rule, mentions):
                hit = {"entity_id": ent, "mention": m, "matched": m["surface"], "why": "first time seen",
                       "snippet": search.snippet(texts[m["article_id"]]["text"], m["start_char"], m["end_char"])}
                out += _rows_for(rule, m["article_id"], hit, created_at, run_id, key=ent)
        elif rule.kind == "spike" and window_start is not None:
            for hit in _spikes(con, rule, mentions, window_start, texts):
                out += _rows_for(rule, hit["mention"]["article_id"], hit, created_at, run_id,
                                 key=f"{hit['entity_id']}|{window_start.isoformat()}")
    return out


def _story_hit(rule: Rule, story: dict, mentions: list[dict], claims: list[dict],
               matches: dict[str, tuple[int, int]]) -> dict | None:
    """What in a story satisfies every condition of a mention or claim rule, or None. `matches` holds the
    stories the rule's query matched, with where its first word stands."""
    text = story["text"]
    actor = None
    if rule.names or rule.type:
        wanted = {geo.fold(n) for n in rule.names}
        for m in mentions:
            if rule.type and m["type"] != rule.type:
                continue
            if not wanted:
                actor = (m, m["surface"])
                break
            names = [m["surface"], m["form"], m["name"], *(m["aliases"] or [])]
            matched = next((n for n in names if geo.fold(n) in wanted), None)
            if matched:
                actor = (m, m["surface"] if geo.fold(m["surface"]) in wanted else matched)
                break
        if actor is None:
            return None
    place = None
    if rule.place:
        place = next((m for m in mentions if m["type"] == "LOCATION" and _in_place(rule.place, m)), None)
        if place is None:
            return None
    keyword = None
    if rule.query:
        keyword = matches.get(story["article_id"])
        if keyword is None:
            return None
    claim = None
    if rule.quoted or rule.about:
        about = {geo.fold(a) for a in rule.about}
        for c in claims:
            if c["kind"] == "quantity" or c["speaker_entity_id"] != actor[0]["entity_id"]:
                continue
            if not about or _speaks_about(c, about, mentions):
                claim = c
                break
        if claim is None:
            return None
    # Highlight what matters most: the quote, else the actor, the place, the keyword.
    if claim:
        start, end = claim["start_char"], claim["end_char"]
    elif actor:
        start, end = actor[0]["start_char"], actor[0]["end_char"]
    elif place:
        start, end = place["start_char"], place["end_char"]
    else:
        start, end = keyword
    why = []
    if actor:
        why.append(f"{actor[0]['name']} mentioned as “{actor[1]}”")
    if place:
        why.append(f"in {place['name']}")
    if keyword:
        why.append(f"query {rule.query} (“{text[keyword[0]:keyword[1]]}”)")
    if claim:
        why.append("quoted" + (f" about {', '.join(rule.about)}" if rule.about else ""))
    return {"entity_id": actor[0]["entity_id"] if actor else None, "mention": actor[0] if actor else place,
            "matched": actor[1] if actor else (place["surface"] if place else text[keyword[0]:keyword[1]]),
            "claim_id": claim["claim_id"] if claim else None, "why": "; ".join(why),
            "snippet": search.snippet(text, start, end)}


def _in_place(place: PlaceFilter, m: dict) -> bool:
    if place.names and geo.fold(m["name"]) in {geo.fold(n) for n in place.names}:
        return True
    if place.country and m["country_code"] == place.country.upper():
        return True
    if place.near and m["latitude"] is not None:
        return haversine_km(place.near, (m["latitude"], m["longitude"])) <= place.km
    return False


def _speaks_about(claim: dict, about: set[str], mentions: list[dict]) -> bool:
    if any(a in geo.fold(claim["text"]) for a in about):
        return True
    return any(claim["start_char"] <= m["start_char"] < claim["end_char"]
               and {geo.fold(m["name"]), geo.fold(m["form"])} & about for m in mentions)


def _first_seen(con, rule: Rule, mentions: list[dict]):
    # Mentioned before: more mentions in the whole database (entity_forms) than in this run alone.
    earlier = {r["entity_id"] for r in store.records(con, """
        with here as (select entity_id, count(*) as n from run_mentions group by entity_id)
        select h.entity_id from here as h inner join entity_forms as f using (entity_id)
        group by h.entity_id, h.n
        having sum(f.mentions) > h.n""")}
    wanted = {geo.fold(n) for n in rule.names}
    seen: dict[str, dict] = {}
    for m in mentions:
        if m["entity_id"] in earlier or m["entity_id"] in seen:
            continue
        if rule.type and m["type"] != rule.type:
            continue
        if wanted and geo.fold(m["name"]) not in wanted:
            continue
        seen[m["entity_id"]] = m
    return sorted(seen.items())


def _spikes(con, rule: Rule, mentions: list[dict], start: datetime, texts: dict) -> list[dict]:
    """Entities whose stories in this run stand out against their previous BASELINE_DAYS days."""
    now: dict[str, list[dict]] = {}
    for m in mentions:
        if rule.type and m["type"] != rule.type:
            continue
        if rule.names and geo.fold(m["name"]) not in {geo.fold(n) for n in rule.names}:
            continue
        now.setdefault(m["entity_id"], []).append(m)
    if not now:
        return []
    first = start - timedelta(days=BASELINE_DAYS)
    history = store.records(con, """
        select entity_id, day, stories as n from entity_daily
        where day >= $lo and day < $hi and entity_id in (select unnest($ids::varchar[]))""",
                    {"lo": first.date(), "hi": start.date(), "ids": sorted(now)})
    daily: dict[str, list[int]] = {e: [0] * BASELINE_DAYS for e in now}
    for h in history:
        daily[h["entity_id"]][(h["day"] - first.date()).days] = h["n"]
    out = []
    for ent, ms in sorted(now.items()):
        count = len({m["article_id"] for m in ms})
        mean = statistics.fmean(daily[ent])
        sd = statistics.pstdev(daily[ent])
        ratio = count / max(mean, 0.5)
        z = (count - mean) / max(sd, 1.0)
        if count >= rule.spike.min_count and (ratio >= rule.spike.ratio or z >= rule.spike.z):
            m = ms[0]
            why = (f"{m['name']}: {count} stories in this run vs a {BASELINE_DAYS}-day mean of {mean:.1f} "
                   f"(ratio {ratio:.1f}, z {z:.1f})")
            out.append({"entity_id": ent, "mention": m, "matched": m["surface"], "why": why,
                        "spike": {"count": count, "mean": round(mean, 2), "sd": round(sd, 2),
                                  "ratio": round(ratio, 2), "z": round(z, 2), "daily": daily[ent]},
                        "snippet": search.snippet(texts[m["article_id"]]["text"], m["start_char"], m["end_char"])})
    return out


def _rows_for(rule: Rule, story: str, hit: dict, created_at, run_id: str, key: str | None = None) -> list[dict]:
    m = hit.get("mention")
    reason = {"rule": rule.rule_id, "kind": rule.kind, "why": hit["why"], "matched": hit["matched"],
              "entity": m["name"] if m else None}
    if "spike" in hit:
        reason["spike"] = hit["spike"]
    return [{
        "alert_id": stable_id("alert", rule.rule_id, key or story, channel),
        "rule_id": rule.rule_id, "kind": rule.kind, "mode": rule.mode, "entity_id": hit["entity_id"],
        "article_id": story, "story_id": story, "mention_id": m["mention_id"] if m else None,
        "claim_id": hit.get("claim_id"), "created_at": created_at, "channel": channel, "status": "pending",
        "attempts": 0, "error": None, "matched": hit["matched"], "snippet": hit["snippet"],
        "reason": json.dumps(reason, ensure_ascii=False), "next_attempt_at": None, "delivered_at": None,
        "run_id": run_id,
    } for channel in rule.channels]


def haversine_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * 6371.0 * math.asin(math.sqrt(h))


