"""The corrections made to the spans a model tagged before they become mentions (pipelines/entities.py
calls them in order): the name trimmed of titles, articles, possessives and punctuation; implausible
spans dropped; gazetteer and context over the model's types; organisations, clubs and facilities the
model misread; places written in lower case; and a name tagged once spread to its other occurrences.

A span is a list [start, end, type, label] of offsets into the stored text, one of our types (PERSON,
ORG, LOCATION) and the model's label, or the rule's that added it (ORG_OF, GAZETTEER, SURNAME, PROPAGATED)."""

from __future__ import annotations

import bisect
import itertools
import re
from collections import Counter

from pipelines import geo, memory

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
# Around a name, never part of it: spaces of every kind, quote marks of every style, brackets, dashes.
TRIM = " \t\n\r\u00a0\u2009\u202f,;:\"'“”‘’„‚«»‹›()[]-–—"
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


def trim(text: str, start: int, end: int, etype: str) -> tuple[int, int]:
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


def plausible(surface: str, etype: str) -> bool:
    """Whether a trimmed span of type `etype` can be a name at all (not a phrase, a headline's parts, an
    everyday abbreviation or a lone demonym)."""
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


def spaced_dash(surface: str) -> int | None:
    """Where a span joined across a spaced dash ends its name ("Brandon Luna - Analyst"), or None when
    the dash is part of the name or absent."""
    at = surface.find(" - ")
    if at <= 0 or surface.isupper() or HYPHEN_APART.search(surface):
        return None
    return at


def fix_types(text: str, spans: list[list], known: dict[str, frozenset[str]]) -> None:
    """Gazetteer and article context over the model's label: a known place tagged PERSON or ORG is a
    LOCATION (Kiev, Crimea) when the evidence is strong (geo.is_place: not an alternate name like Hamm's
    "Hamas", nor a county's bare name like "Ford", unless the article names the county in full); a
    place-tagged surname of a person named in the article is that PERSON, unless it is a country or
    first-level area most of whose mentions the model read as a place. A name in `known` (folded names
    by type, from the alias table; entities.from_doc passes them) under one type only has that type."""
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


def lower_case_areas(text: str, spans: list[list], junk: set[str]) -> list[list]:
    """Countries and first-level areas written in lower case after a preposition (LOWER_PLACE) added as
    LOCATION spans where no span covers them, unless they are `junk` (the title or the site name)."""
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


def common_words_dropped(text: str, spans: list[list], sent_starts: list[int]) -> list[list]:
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


def named_organisations(text: str, spans: list[list]) -> list[list]:
    """Organisations named "<head> of <Name>" (ORG_OF) as one ORG span, replacing the pieces the model
    found inside it; a span that reaches outside the name is left as the model made it."""
    found = []
    for m in ORG_OF.finditer(text):
        start, end = trim(text, m.start(), m.end(), "ORG")
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


def compound_organisations(text: str, spans: list[list]) -> None:
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


def teams(text: str, spans: list[list]) -> None:
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


def add_missed_surnames(text: str, spans: list[list]) -> list[list]:
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


def every_occurrence(text: str, spans: list[list]) -> list[list]:
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
