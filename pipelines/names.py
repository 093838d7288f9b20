"""People, organisations and places in languages that have no NER model here: rules on how names are
written, with word frequencies, a gazetteer and a few word lists, as a spaCy pipeline.

Why: the pinned spaCy models cover English and French only, none other can be installed and nothing may be
downloaded at run time, yet Danish, Portuguese, Swedish, German, Spanish... articles must still give their
names to the tables. `pipeline(lang)` is a blank spaCy pipeline (its tokenizer and stop words for the
language) with a sentencizer and the "newsmon_names" component, which sets `doc.ents` with the labels
PERSON, ORG and GPE (the entity stage maps GPE to LOCATION), as the model pipelines do.

How, in short: a name is a run of capitalised words (with the small words names keep inside them:
"Banco do Brasil", "Ludwig van Beethoven"). A run is dropped when it is only a common word capitalised by
its position (a sentence's first word, a headline in capitals, any noun in German: wordfreq frequencies,
spaCy's stop words, and the article's own lower-case words). What is left is typed by evidence, strongest
first: a title before it (a person), a place (the gazetteer, geo; countries' names in the language from
CLDR through babel; a short list), an organisation word ("Ministério", "-partiet", "GmbH"), an acronym, a
given name or a verb of saying after it (a person); names no rule knows by the word vectors of the
installed French model (surnames lie near given names, companies near companies). A full name lends its
type to its parts later in the article ("Rasmussen" after "Anders Fogh Rasmussen"). Scripts without
capitals (Chinese, Japanese...) get only the places the lists name. Word lists:
pipelines/data/name_words.yaml; the choices and thresholds were measured with benchmarks/names.py.

Cost: a tokenizer pass and a few passes over the tokens' texts (no model), linear in the text; a token of
100 characters or more is not searched for affixes (spaCy's tokenizer is quadratic there).

Modules: this one builds the pipeline, finds the runs of capitalised words and cuts them into names;
pipelines/nametypes.py types them. What both ask is in pipelines/namewords.py (a language's words),
nameplaces.py (whether a name is a place), namevectors.py (word vectors), nametext.py (the doc as the rules
read it) and nametokenizer.py (the tokenizer).
"""

from __future__ import annotations

import functools
import re

import spacy
from spacy.language import Language
from spacy.tokens import Doc, Span

from pipelines.nameplaces import SAINTS, is_place_name, place_head
from pipelines.nametext import MAX_WORDS, Run, Text, is_acronym
from pipelines.nametokenizer import TEXT_KEY, BoundedTokenizer, split_possessives
from pipelines.nametypes import org_after, propagate, type_run
from pipelines.namewords import (
    GENITIVE_S,
    NOUN_CAPITALISING,
    TERRITORIES_SKIPPED,
    Words,
    _spacy_code,
    babel_locale,
    listed_places,
    word_lists,
    words,
)

COMPONENT = "newsmon_names"
# Companies' legal forms, the end of a company's name.
LEGAL_FORMS = {"A/S", "ApS", "AB", "ASA", "GmbH", "AG", "SA", "S.A.", "Inc", "Inc.", "Ltd", "Ltd.", "plc", "PLC",
               "Oy", "Oyj", "NV", "N.V.", "BV", "B.V.", "SpA", "S.p.A.", "Lda", "Ltda", "LLC", "KG"}
# An elided article or preposition joined to a name ("d'Italia", "dell'Economia", "l'Oréal").
ELISION = re.compile(r"^(?:d|l|dell|dall|nell|sull|all|degl|qu)['’][A-ZÀ-Þ]", re.I)


def build(lang: str) -> Language:
    """A new names pipeline for a language: spaCy's blank tokenizer for it (the multi-language one if
    spaCy has none), a sentencizer and the names component (`entities.load_model` adds the entity memory
    to its own copy)."""
    code = _spacy_code(lang)
    try:
        nlp = spacy.blank(code)
    except ImportError:
        nlp = spacy.blank("xx")
    # Only a tokenizer and rules run: long texts cost linear time and little memory (the limit guards
    # the models' memory).
    nlp.max_length = 50_000_000
    split_possessives(nlp)
    nlp.tokenizer = BoundedTokenizer(nlp.tokenizer)
    nlp.add_pipe("sentencizer")
    nlp.add_pipe(COMPONENT, config={"lang": code})
    return nlp


# One per language and process.
pipeline = functools.cache(build)


@Language.factory(COMPONENT, default_config={"lang": "xx"})
def _make_component(nlp: Language, name: str, lang: str):
    return NameFinder(lang)


class NameFinder:
    """Sets doc.ents from capitalised runs of words (see the module docstring)."""

    def __init__(self, lang: str):
        self.lang = lang
        self.words = words(lang)

    def __call__(self, doc: Doc) -> Doc:
        if self.lang in UNCASED:
            doc.user_data.pop(TEXT_KEY, None)
            doc.ents = [Span(doc, s, e, label="GPE") for s, e in _uncased_places(doc, self.lang)]
            return doc
        found = find(doc, self.words)
        doc.ents = [Span(doc, s, e, label=label) for s, e, label in found]
        return doc


# Scripts without capital letters: no run of capitals to find, only the places the language's lists name.
UNCASED = {"zh", "ja", "ko", "th", "lo", "km", "my", "ar", "fa", "ur", "he", "yi", "hi", "mr", "ne", "bn", "pa",
           "gu", "ta", "te", "kn", "ml", "si", "ka", "am"}


@functools.cache
def _uncased_pattern(lang: str):
    names = {n for loc in filter(None, (babel_locale(lang),)) for code, n in loc.territories.items()
             if code not in TERRITORIES_SKIPPED}
    names |= set(listed_places(word_lists(), lang))
    names = sorted((n for n in names if len(n) >= 2 and not n.isascii()), key=len, reverse=True)
    return re.compile("|".join(map(re.escape, names))) if names else None


def _uncased_places(doc: Doc, lang: str) -> list[tuple[int, int]]:
    """Country and listed place names found in the text (longest first), as token spans."""
    pattern = _uncased_pattern(lang)
    out = []
    if pattern is None:
        return out
    last = -1
    for m in pattern.finditer(doc.text):
        span = doc.char_span(m.start(), m.end(), alignment_mode="expand")
        if span is not None and span.start >= last:
            out.append((span.start, span.end))
            last = span.end
    return out


# ---------------------------------------------------------------------------------------------------------
# Recognition


def find(doc: Doc, w: Words) -> list[tuple[int, int, str]]:
    """(start token, end token, label) of every name in doc, in order, not overlapping."""
    if not len(doc):
        return []
    x = Text(doc, w)
    out: list[Run] = []
    for run in _runs(x):
        for part in _clean(run, x):
            type_run(part, x)
            org_after(part, x)
            if part.label:
                out.append(part)
    propagate(out, x)
    return [(r.start, r.end, r.label) for r in out if r.label]


def _runs(x: Text) -> list[Run]:
    """Maximal runs of capitalised tokens in one sentence, with connectors inside ("de", "van"; and "for",
    "og" once an organisation word was seen), hyphens between parts written without spaces, "&" and "A/S"
    between names, and initials ("J. K. Rowling" is tokenised "J." "K." "Rowling")."""
    texts, cap, w = x.texts, x.cap, x.w
    runs: list[Run] = []
    n = x.n
    i = 0
    while i < n:
        if not cap[i]:
            i += 1
            continue
        start, end = i, i + 1
        has_org = w.org_word(texts[i])
        j = end
        while j < n and j - start < 3 * MAX_WORDS and not x.sent_start[j]:
            t = texts[j]
            if texts[j - 1] in LEGAL_FORMS:
                break  # "Novo Nordisk A/S i København": a company's name ends with its legal form
            if cap[j] or ELISION.match(t):  # "Banca d'Italia", "Musée d'Orsay"
                has_org = has_org or w.org_word(t)
                j += 1
                end = j
                continue
            if t == "&" and j + 1 < n and cap[j + 1]:
                j += 1
                continue
            if t in ("-", "‐", "/") and not x.spaced[j - 1] and not x.spaced[j] and j + 1 < n and cap[j + 1]:
                j += 1  # "ABS-CBN", "Jean-Pierre" where the tokenizer splits them
                continue
            low = t.casefold()
            if low in w.connectors or low in w.articles and texts[j - 1].casefold() in w.connectors:
                # ("Alexander Van der Bellen": an article after a capitalised connector.)
                # One or two connectors ("van der", "de la", "de os"), then a capitalised word.
                k = j + 1
                if k < n and (texts[k].casefold() in w.connectors or texts[k].casefold() in w.articles):
                    k += 1
                if k < n and cap[k] and not x.sent_start[k]:
                    j = k
                    continue
            elif has_org and low in w.org_connectors:
                # Inside an organisation's name ("Ministério da Agricultura e Pescas", "Universitetet i
                # Oslo"), but not before another organisation ("Banco de España y la Universidad").
                k = j + 1
                if k < n and cap[k] and not x.sent_start[k] and not w.org_word(texts[k]):
                    j = k
                    continue
            break
        runs.append(Run(start, end))
        i = end
    return runs


def _clean(run: Run, x: Text) -> list[Run]:
    """The parts of a run that can be names:
    - a leading title cut off, and the rest is a person ("Statsminister Poul Schlüter", "Presidente Lula");
    - a common word whose capital its position explains cut off ("Hvis Jensen" -> "Jensen", "Det");
    - where capitals are no evidence (German, shouted words) the common words cut out;
    - a genitive or an acronym before a given name split off ("TVs Sten Baadsgaard": TVs | Sten Baadsgaard).
    """
    texts, w = x.texts, x.w
    s, e = run.start, run.end
    title_before = s > 0 and _lower_title(texts, s, w)
    while s < e:
        t = texts[s]
        if w.title(t.rstrip(".")) and s + 1 < e:
            s += 1
            # "Presidente Lula" is a person, "Vorsitzende der SPD" is not.
            title_before = x.cap[s]
        elif (x.initial[s] or x.shouted[s]) and x.common(s, s + 1 < e and x.cap[s + 1]):
            s += 1
            title_before = False
        else:
            break
        while s < e and not x.cap[s]:
            s += 1  # connectors left at the front
    while e > s and not x.cap[e - 1]:
        e -= 1
    if s >= e:
        return []
    parts = [Run(s, e)]
    if w.lang in NOUN_CAPITALISING or any(x.shouted[s:e]):
        parts = _split_common(s, e, x)
    split = []
    for p in parts:
        split += _split_names(p, x)
    if len(split) > 1 and all(x.lower_word(texts[i]) for i in range(split[0].start, split[0].end) if x.cap[i]):
        split = split[1:]  # "Predsjednik Vlade Andrej Plenković": the office's common words go
    elif title_before and split:  # every part may have been a common word ("Präsident Regierung")
        split[0].label, split[0].strong = "PERSON", True
    return split


def _split_names(run: Run, x: Text) -> list[Run]:
    """Two names side by side in one run, split:
    - before a given name after a genitive, an acronym, a place, an organisation word or a common word
      ("TVs Sten Baadsgaard", "Brasília Vicente Rivera", "Consiglio Giorgia Meloni", "Vlade Andrej
      Plenković"), but not after a saint's title or in a street's or a square's name ("Santa Maria",
      "Praça General Humberto Delgado");
    - at a connector followed by a place or an acronym, unless the run is one place or has an
      organisation word ("PF de Brasília", "Dow dos EUA"; but "Rio de Janeiro", "Banco de Portugal")."""
    texts, w = x.texts, x.w
    if is_place_name(" ".join(texts[run.start:run.end]), w):
        return [run]
    has_org = any(w.org_word(texts[k]) for k in range(run.start, run.end) if x.cap[k])
    out = []
    a = run.start
    k = run.start + 1
    while k < run.end:
        prev = texts[k - 1]
        if x.cap[k] and x.cap[k - 1] and w.first_name(texts[k]) and not w.first_name(prev) and (
                prev.endswith("s") and w.lang in GENITIVE_S or is_acronym(prev) or is_place_name(prev, w)
                or w.org_word(prev) or x.lower_word(prev) and not place_head(texts[run.start], w)
                and prev.casefold() not in SAINTS):
            out.append(Run(a, k))
            a = k
        elif not x.cap[k] and not has_org and x.cap[k - 1] and texts[k].casefold() in w.connectors:
            # The name after the connector(s): up to the next connector or the run's end.
            b = k
            while b < run.end and not x.cap[b]:
                b += 1
            c = b
            while c < run.end and x.cap[c]:
                c += 1
            tail = " ".join(texts[b:c])
            if b < run.end and (is_place_name(tail, w) or c - b == 1 and is_acronym(texts[b])):
                out.append(Run(a, k))
                a = b
                k = b
        k += 1
    out.append(Run(a, run.end))
    return out


def _lower_title(texts: list[str], s: int, w: Words) -> bool:
    """A lower-case title or office right before ("statsminister Poul Schlüter", "o ministro Amado")."""
    k = s - 1
    while k >= 0 and texts[k].isspace():
        k -= 1
    return k >= 0 and texts[k][:1].islower() and w.title(texts[k].rstrip("."))


def _split_common(s: int, e: int, x: Text) -> list[Run]:
    """Where capitals are no evidence (German nouns, shouted words): the run's stretches of words that are
    not common, and the words after a given name (surnames are common words too: "Angela Merkel"); or
    the whole run if it is an organisation's name or a place ("Deutsche Bank", "Vereinigte Staaten"),
    less common words before a connector ("Politik der Europäischen Union" -> "Europäischen Union")."""
    texts, w = x.texts, x.w
    caps = [texts[i] for i in range(s, e) if x.cap[i]]
    if len(caps) > 1 and any(w.org_word(t) for t in caps) or is_place_name(" ".join(texts[s:e]), w):
        k = s
        while k < e and x.cap[k] and x.common(k, False) and not w.org_word(texts[k]):
            k += 1
        if s < k < e and not x.cap[k]:
            while k < e and not x.cap[k]:
                k += 1
            return [Run(k, e)] if k < e else []
        return [Run(s, e)]
    out: list[Run] = []
    cur = None
    named = False  # the previous kept word is a given name or follows one
    for i in range(s, e):
        if not x.cap[i]:
            keep = cur is not None
        else:
            keep = named and texts[i].casefold() not in w.stop or not x.common(i, i + 1 < e and x.cap[i + 1])
            named = keep and (named or w.first_name(texts[i]))
        if keep:
            cur = i if cur is None else cur
        else:
            named = False
            if cur is not None:
                out.append(Run(cur, i))
            cur = None
    if cur is not None:
        out.append(Run(cur, e))
    cleaned = []
    for r in out:
        a, b = r.start, r.end
        while b > a and not x.cap[b - 1]:
            b -= 1
        if a < b:
            cleaned.append(Run(a, b))
    return cleaned
