"""The type of each name the recogniser found (pipelines/names.py): PERSON, ORG, GPE or none.

`type_run` tries the evidence strongest first (a title, a place, an organisation word, an acronym, a given
name, a verb of saying; then word vectors, pipelines/namevectors.py, and defaults measured with
benchmarks/names.py); `org_after` joins a lower-case organisation word after a name ("Odense kommune");
`propagate` lends a full name's type to its parts later in the article ("Rasmussen" after "Anders Fogh
Rasmussen").
"""

from __future__ import annotations

from pipelines.nameplaces import demonym, inflected_place, is_place_name, place_evidence, place_named
from pipelines.nametext import MAX_WORDS, Run, Text, is_acronym, is_capitalised
from pipelines.namevectors import vector_type, vector_type_words
from pipelines.namewords import GENITIVE_S, Words, name_key

# Types given when nothing but capitals is known, chosen by measurement on the tuning half of
# benchmarks/names.py (None: not a name). One unknown word (no vector): ORG; one that is also a common
# lower-case word ("Governo", "Internet"): dropped; two to four words: PERSON; more: ORG; several words all
# common ("Nações Unidas", "Indre Mission"): ORG.
SINGLE_DEFAULT: str | None = "ORG"
COMMON_SINGLE_DEFAULT: str | None = None
MULTI_DEFAULT: str | None = "PERSON"
LONG_DEFAULT: str | None = "ORG"
COMMON_MULTI_DEFAULT: str | None = "ORG"
# A sentence's first word with no evidence is dropped, unless its vector is a person's.
INITIAL_NEEDS_EVIDENCE = True
INITIAL_VECTOR_LABELS: tuple[str, ...] = ("PERSON",)
# Word vectors type unknown names (one word, and runs of two to four words).
USE_VECTORS = True
MULTI_VECTORS = True


def type_run(run: Run, x: Text) -> None:
    """A run's label by its strongest evidence (each rule's class of text in its comment)."""
    # Over 80 lines on purpose: one ladder of rules whose order is their precedence (the first that
    # fires decides). Cut into pieces, the order that the benchmarks measured would no longer be visible.
    w = x.w
    toks = x.texts[run.start:run.end]
    name = " ".join(toks)  # only for lookups: spacing and offsets come from the doc
    caps = [t for t in toks if is_capitalised(t)]
    if len(caps) > MAX_WORDS:
        run.label = None  # a headline or a list, not a name
        return
    # Demonyms and nationality words are not places ("Russians", "Danes"; local languages mostly write
    # theirs in lower case).
    if len(caps) == 1 and demonym(name):
        run.label = None
        return
    # A capitalised month or day ("Janeiro", "Monday") is a date.
    if len(toks) == 1 and name_key(name) in w.calendar:
        run.label = None
        return
    if run.label == "PERSON":  # after a title (see _clean)
        return
    # A title alone ("Presidente", "Statsministeren") is an office, not a name.
    if len(toks) == 1 and w.title(name.rstrip(".")):
        run.label = None
        return
    # A pronoun or other small word capitalised mid-sentence (Danish "De", "I", Swedish "Ni", German "Sie").
    if len(caps) == 1 and len(toks) == 1 and name.casefold() in w.stop:
        run.label = None
        return
    # Places: a country or region by its name in the language ("Tyskland", "Alemanha"), the gazetteer's
    # places (GeoNames, many local spellings: "Lissabon"), their genitive ("Sveriges", "Danmarks"), and
    # their inflected forms in languages with cases ("w Warszawie", "в Москве"; not stem changes: "v Praze").
    if (is_place_name(name, w) or w.lang in GENITIVE_S and name.endswith("s") and is_place_name(name[:-1], w)
            or len(toks) == 1 and inflected_place(name, w)):
        run.label, run.strong = "GPE", True
        return
    # People: a given name first ("Anders Fogh Rasmussen", "Maria Silva", "Poul-Erik
    # Billeskov").
    if w.first_name(caps[0].split("-")[0]) and not is_place_name(caps[0], w):
        run.label, run.strong = "PERSON", True
        return
    # Places named by their kind's word: first in Romance languages ("Rua Augusta", "Praia do Guincho",
    # "Rio Tejo"), last or as a compound's ending in Germanic ones ("Kongens Nytorv", "Drottninggatan",
    # "Östersjön").
    if place_named(caps, w):
        run.label, run.strong = "GPE", True
        return
    # Organisations: a word of theirs, also inside a compound, a hyphenated word or a genitive
    # ("Ministério", "Universitet", "GmbH", "Folkpartiet", "KV-regeringen", "Fremskridtspartiets").
    if any(w.org_word(p) for t in caps for p in _parts(t, w)):
        run.label, run.strong = "ORG", True
        return
    # Acronyms ("PSD", "SAS", "NATO"; places among them were found above: "USA"), also as the first part
    # of a compound ("DR-Dokumentar", "CNN-journalisterne"). Shouted words are not acronyms.
    first = toks[0].split("-")[0]
    if len(caps) == 1 and is_acronym(first) and not x.shouted[run.start]:
        run.label, run.strong = "ORG", True
        return
    if all(x.shouted[run.start:run.end]) and not w.first_name(caps[0]):
        run.label = None  # a shouted word that nothing above knows: a headline's word
        return
    # People: a verb of saying right after ("Jensen siger", "Guterres disse").
    if run.end < x.n and _next_word(x, run.end).casefold() in w.say_after:
        run.label, run.strong = "PERSON", True
        return
    # Several words, all of them common words of the language, are an institution's or a work's name,
    # not a person's ("Nações Unidas", "Indre Mission", "Grande Prémio"); people's names have given names
    # and surnames that are rarely all common words.
    if len(caps) > 1 and all(x.lower_word(t) for t in caps):
        run.label = COMMON_MULTI_DEFAULT
        return
    # Two to four capitalised words with nothing else known: in news most such names are people's, unless
    # the words' vectors are nearer organisations or places ("Pink Floyd", "Pearl Harbour").
    if 2 <= len(caps) <= 4:
        run.label = (MULTI_VECTORS and vector_type_words(tuple(caps), w.lang)) or MULTI_DEFAULT
        return
    if len(caps) > 4:
        run.label = LONG_DEFAULT
        return
    # One unknown word: typed by its vector (surnames lie near given names, companies near companies,
    # towns near countries), else an organisation: by measurement the most frequent type of an unknown
    # lone name once surnames took their type from full names (see propagate).
    by_vector = USE_VECTORS and vector_type(name, w.lang)
    if x.lower_word(name):
        run.label = COMMON_SINGLE_DEFAULT
    else:
        run.label = by_vector or SINGLE_DEFAULT
    # A sentence's first word that no evidence calls a name is most often a word the dictionary lacks
    # (a compound: "Barntillägget", "Invaliditetsersättning"): a name only if the article names it so
    # elsewhere (see propagate), or if its vector is a person's ("Lacan desenvolveu", "Picasso pintou").
    if INITIAL_NEEDS_EVIDENCE and x.initial[run.start] and by_vector not in INITIAL_VECTOR_LABELS:
        run.pending = True


def org_after(run: Run, x: Text) -> None:
    """In languages that put the head last, a name followed by a lower-case organisation word is that
    organisation ("Odense kommune", "Frederikshavns politi", "Uppsala universitet"): the word joins the
    span."""
    w = x.w
    if w.lang not in GENITIVE_S or run.label not in ("GPE", "ORG", "PERSON") or run.end >= x.n:
        return
    k = run.end
    if not x.spaced[k - 1]:
        return
    t = x.texts[k]
    if t[:1].islower() and t.casefold() not in w.stop and any(p.casefold() in w.org_words for p in _parts(t, w)):
        run.end = k + 1
        run.label, run.strong = "ORG", True


def _parts(t: str, w: Words) -> list[str]:
    """A token and its pieces for organisation words: hyphen parts and the genitive's base."""
    out = [t] + (t.split("-") if "-" in t else [])
    if w.lang in GENITIVE_S:
        out += [p[:-1] for p in out if p.endswith("s") and len(p) > 3]
    return out


def _next_word(x: Text, i: int) -> str:
    while i < x.n and x.texts[i].isspace():
        i += 1
    return x.texts[i] if i < x.n else ""


def propagate(runs: list[Run], x: Text) -> None:
    """An article names someone in full once and by one name after ("Anders Fogh Rasmussen" ...
    "Rasmussen"), an organisation by its first word: a name typed by default takes the type the article's
    evidence gave the same name, or the full name it is part of."""
    texts = x.texts
    by_word: dict[str, str] = {}
    whole: dict[str, str] = {}
    for r in runs:
        toks = [t for t in texts[r.start:r.end] if is_capitalised(t)]
        if r.strong:
            whole.setdefault(" ".join(texts[r.start:r.end]), r.label)
        if len(toks) > 1 and r.label == "PERSON":
            by_word.setdefault(toks[-1], "PERSON")
            by_word.setdefault(toks[0], "PERSON")
        elif len(toks) > 1 and r.strong:
            by_word.setdefault(toks[0], r.label)
    # Names the article uses where no sentence start explains the capital: a sentence-initial use of one
    # is the same name ("Tvebak er utilfreds. ... talte vi med Tvebak").
    settled = {" ".join(texts[r.start:r.end]): r.label for r in runs if not r.pending}
    for r in runs:
        name = " ".join(texts[r.start:r.end])
        if r.strong:
            # A town's name that is also the surname of someone the article names in full is that person
            # ("Rose Kennedy" ... "Kennedy", not Kennedy, Bogotá); countries and local places stay.
            if (r.label == "GPE" and r.end - r.start == 1 and by_word.get(name) == "PERSON"
                    and place_evidence(name, x.w.lang) < 3):
                r.label = "PERSON"
            continue
        if name in whole:
            r.label = whole[name]
        elif r.end - r.start == 1 and name in by_word:
            r.label = by_word[name]
        elif r.pending:
            r.label = settled.get(name)
