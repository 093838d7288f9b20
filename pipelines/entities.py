"""People, organisations and places: spaCy NER, then our layers (normalisation, titles and possessives,
gazetteer type fixes, short forms linked to full names, aliases) into canonical entities and mentions."""

from __future__ import annotations

import bisect
import functools
import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from pipelines import geo
from pipelines.models import entity_id, stable_id

DATA = Path(__file__).parent / "data"
LABELS = {"PERSON": "PERSON", "ORG": "ORG", "GPE": "LOCATION", "LOC": "LOCATION"}
# Same-length replacements, so offsets into the normalised text are offsets into the stored text.
NER_FOLD = str.maketrans({"’": "'", "‘": "'", "“": '"', "”": '"', "\u00a0": " ", "\u2009": " "})
TITLE = re.compile(
    r"^(?:(?:former|late|then|acting|deputy|vice|interim|incoming|outgoing)\s+)*"
    r"(?:(?:[A-Z][a-z]+n|US|U\.S\.|UN)\s+)?"
    r"(?:president|prime\s+minister|minister|chancellor|senator|sen\.|rep\.|gov\.|governor|mayor|mr\.?|mrs\.?"
    r"|ms\.?|dr\.?|prof\.?|professor|general|gen\.|colonel|col\.|captain|capt\.|sgt\.|sergeant|sir|dame|lord"
    r"|lady|king|queen|prince|princess|pope|chief|judge|justice|secretary|ambassador|commissioner|ceo"
    r"|chairman|chairwoman|chair|director|spokesman|spokeswoman|spokesperson|activist|soldier)\s+",
    re.I,
)
POSSESSIVE = re.compile(r"(?:'s|'|’s|’)$")
DEMONYM = re.compile(r"^[A-Z][a-z]+(?:ians?|ans?|eses?|ish|ic|is|ers?|is)$")


@dataclass(frozen=True)
class Mention:
    mention_id: str
    article_id: str
    entity_id: str
    type: str
    surface: str
    form: str
    start_char: int
    end_char: int
    sentence_index: int
    label: str


@dataclass(frozen=True)
class Entity:
    entity_id: str
    name: str
    type: str
    country_code: str | None
    latitude: float | None
    longitude: float | None
    geonames_id: int | None
    precision: str | None


def normalise(text: str) -> str:
    """The text the model reads: typographic quotes as plain ones ("Kyiv’s" is then split as Kyiv + 's),
    same length as the stored text."""
    return text.translate(NER_FOLD)


@functools.cache
def load_model(name: str, patterns: tuple[tuple[str, str], ...] = ()):
    """The spaCy pipeline, loaded once per process, with only what entities need: the NER component (and
    the shared tok2vec only if NER listens to it), a rule-based sentencizer for sentence indexes, and the
    watched names as entity-ruler patterns so they are always recognised. Claims use no parse, so the
    tagger, parser and lemmatizer, which cost more than NER itself, are not loaded."""
    nlp = ner_only(name)
    nlp.add_pipe("sentencizer", first=True)
    if patterns:
        ruler = nlp.add_pipe("entity_ruler", before="ner", config={"overwrite_ents": True})
        ruler.add_patterns([{"label": label, "pattern": text} for label, text in patterns])
    return nlp


def ner_only(name: str):
    """A spaCy pipeline with only what NER needs (the shared tok2vec only if NER listens to it)."""
    import spacy

    nlp = spacy.load(name, exclude=["tagger", "parser", "attribute_ruler", "lemmatizer", "senter", "morphologizer"])
    if "tok2vec" in nlp.pipe_names and "ner" not in nlp.get_pipe("tok2vec").listening_components:
        nlp.remove_pipe("tok2vec")
    return nlp


@functools.cache
def aliases(user_file: str | None = None) -> dict[str, dict[str, str]]:
    """Variant -> canonical name per entity type: the shipped defaults, then the user's file on top."""
    table: dict[str, dict[str, str]] = {}
    sources = [DATA / "aliases.yaml"] + ([Path(user_file)] if user_file else [])
    for path in sources:
        loaded = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for etype, mapping in loaded.items():
            for variant, canonical in (mapping or {}).items():
                table.setdefault(etype, {})[geo.fold(str(variant))] = str(canonical)
    return table


def from_doc(article_id: str, text: str, doc, title: str | None = None,
             site_name: str | None = None) -> tuple[list[Mention], list[Entity]]:
    """Mentions and entities of one article from its spaCy doc (made from `normalise(text)`).

    Args:
        article_id: the article's id.
        text: the stored article text; every mention satisfies text[start_char:end_char] == surface.
        doc: the spaCy doc of normalise(text).
        title, site_name: rejected as entities (headlines and site names are not actors).

    Returns:
        The mentions in text order, and one Entity per distinct entity they point at.
    """
    junk = {geo.fold(s) for s in (title, site_name) if s}
    sent_starts = [s.start_char for s in doc.sents] if doc.has_annotation("SENT_START") else [0]
    spans = []
    for ent in doc.ents:
        etype = LABELS.get(ent.label_)
        if etype is None:
            continue
        start, end = _trim(text, ent.start_char, ent.end_char, etype)
        surface = text[start:end]
        if not _plausible(surface, etype) or geo.fold(surface) in junk:
            continue
        spans.append([start, end, etype, ent.label_])
    _fix_types(text, spans)
    spans = _add_missed_surnames(text, spans)
    forms = _link_short_forms(text, spans)
    alias = aliases()
    mentions, entities = [], {}
    for (start, end, etype, label), form in zip(spans, forms, strict=True):
        form = alias.get(etype, {}).get(geo.fold(form), form)
        key = geo.fold(form)
        if not key:
            continue
        eid = entity_id(etype, key)
        if eid not in entities:
            entities[eid] = _entity(eid, form, etype)
        mentions.append(Mention(
            mention_id=stable_id("mention", article_id, start, end),
            article_id=article_id, entity_id=eid, type=etype, surface=text[start:end], form=form,
            start_char=start, end_char=end,
            sentence_index=max(bisect.bisect_right(sent_starts, start) - 1, 0), label=label,
        ))
    return mentions, list(entities.values())


def _trim(text: str, start: int, end: int, etype: str) -> tuple[int, int]:
    """Drop what is not the name: a leading 'the', titles ('President'), a possessive, punctuation."""
    while True:
        span = text[start:end]
        m = re.match(r"^(?:the|an?)\s+", span, re.I) if etype != "PERSON" else TITLE.match(span)
        if m and m.end() < len(span):
            start += m.end()
            continue
        m = re.search(r"\s+(?:of|and|for|the|in|on|at|to)$", span, re.I)
        if m and m.start() > 0:
            end = start + m.start()
            continue
        m = POSSESSIVE.search(span)
        if m and m.start() > 0:
            end = start + m.start()
            continue
        stripped = span.strip(" \t\n.,;:\"'“”‘’()[]-–—")
        if stripped != span and stripped:
            offset = span.index(stripped)
            start, end = start + offset, start + offset + len(stripped)
            continue
        return start, end


def _plausible(surface: str, etype: str) -> bool:
    words = surface.split()
    if not words or not any(c.isupper() for c in surface) or len(surface) < 2:
        return False
    if "\n" in surface or len(words) > (5 if etype == "PERSON" else 8):
        return False
    if etype == "PERSON" and any(c.isdigit() for c in surface):
        return False
    # A lone demonym or adjective ("Ukrainian", "Russians") is not a place or an actor.
    return not (len(words) == 1 and DEMONYM.match(surface) and geo.lookup(surface) is None)


def _fix_types(text: str, spans: list[list]) -> None:
    """Gazetteer and article context over the model's label: a known place tagged PERSON or ORG is a
    LOCATION (Kiev, Crimea); a place-tagged surname of a person named in the article is that PERSON."""
    surnames = {text[s:e].split()[-1] for s, e, t, _ in spans if t == "PERSON" and len(text[s:e].split()) > 1}
    lone = {text[s:e] for s, e, t, _ in spans if t == "PERSON" and len(text[s:e].split()) == 1}
    org_heads = {text[s:e].split()[0] for s, e, t, _ in spans if t == "ORG" and len(text[s:e].split()) > 1}
    known = _known_names()
    for span in spans:
        surface = text[span[0]:span[1]]
        listed = [t for t, names in known.items() if geo.fold(surface) in names]
        if len(listed) == 1:  # a name in the alias table has a known type (Navalny is a person)
            span[2] = listed[0]
            continue
        place = geo.lookup(surface)
        if (span[2] != "ORG" and len(surface.split()) == 1 and surface in org_heads
                and (place is None or place.precision == "city")):
            span[2] = "ORG"  # "Meridian" after "Meridian Port Holdings": the company, not Meridian, Idaho
            continue
        # Town names are also surnames; a one-word ORG that is a town is far more often the town.
        threshold = 15_000 if span[2] == "ORG" and len(surface.split()) == 1 else 100_000
        if span[2] in ("PERSON", "ORG") and surface not in surnames and geo.is_place(surface, threshold):
            span[2] = "LOCATION"
        elif span[2] != "PERSON" and len(surface.split()) == 1 and surface in surnames:
            span[2] = "PERSON"
        elif (span[2] != "PERSON" and 1 < len(surface.split()) <= 3 and surface.split()[-1] in lone
              and not geo.is_place(surface, 15_000)):
            span[2] = "PERSON"  # "Tomas Okafor" read as a place, while "Okafor" alone is a person


def _add_missed_surnames(text: str, spans: list[list]) -> list[list]:
    """The model often misses a surname standing alone ("Okafor said ..."); once the article has named
    the person in full, every other capitalised use of that surname is the same person."""
    owners: dict[str, set[str]] = {}
    for s, e, t, _ in spans:
        words = text[s:e].split()
        if t == "PERSON" and len(words) > 1 and len(words[-1]) >= 3:
            owners.setdefault(words[-1], set()).add(" ".join(words))
    covered = [(s, e) for s, e, _, _ in spans]
    extra = []
    for surname, full in owners.items():
        if len(full) != 1 or geo.is_place(surname, 15_000):
            continue
        for m in re.finditer(rf"(?<![\w'’-]){re.escape(surname)}(?![\w-])", text):
            if not any(s <= m.start() < e for s, e in covered):
                extra.append([m.start(), m.end(), "PERSON", "SURNAME"])
    return sorted(spans + extra, key=lambda sp: sp[0])


@functools.cache
def _known_names() -> dict[str, frozenset[str]]:
    return {t: frozenset(m) | frozenset(geo.fold(v) for v in m.values()) for t, m in aliases().items()}


def _link_short_forms(text: str, spans: list[list]) -> list[str]:
    """Each span's form: a person's surname alone links to the one full name in the article that ends
    with it ("Grotskov" -> "Volodymyr Grotskov"), an organisation's first word to the one full name that
    starts with it ("Meridian" -> "Meridian Port Holdings"). Two candidates are ambiguous: the short form
    stays."""
    full = sorted({" ".join(text[s:e].split()) for s, e, t, _ in spans if len(text[s:e].split()) > 1})
    types = {" ".join(text[s:e].split()): t for s, e, t, _ in spans}
    forms = []
    for s, e, t, _ in spans:
        surface = " ".join(text[s:e].split())
        if t in ("PERSON", "ORG") and len(surface.split()) == 1:
            # A person by the last word of the full name, an organisation by the first ("Meridian").
            at = -1 if t == "PERSON" else 0
            candidates = {f for f in full if types[f] == t and f.split()[at] == surface}
            if len(candidates) == 1:
                surface = candidates.pop()
        forms.append(surface)
    return forms


def _entity(eid: str, form: str, etype: str) -> Entity:
    place = geo.lookup(form) if etype == "LOCATION" else None
    if place is None:
        return Entity(eid, form, etype, None, None, None, None, None)
    return Entity(eid, form, etype, place.country_code, place.latitude, place.longitude, place.geonames_id,
                  place.precision)
