"""The words a language's names are recognised by, for the model-free recogniser (pipelines/names.py).

`words(lang)` gathers, once per language and process, what the rules ask of a word: the word lists of
pipelines/data/name_words.yaml (connectors, titles, organisation and place words, given names...), spaCy's
stop words, wordfreq's frequencies and, from CLDR through babel, the month and day names, the names of
countries and regions in the language and the countries that speak it. Also here: the codes each library
knows a language by, the habits of languages that the rules depend on (German capitalises every noun,
Nordic genitives take no apostrophe), and the key that names are looked up by.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field
from pathlib import Path

import spacy
import yaml

from pipelines import geo

DATA = Path(__file__).parent / "data"
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
TERRITORIES_SKIPPED = {"EU", "EZ", "UN", "001", "QO", "ZZ", "XA", "XB"}  # unions are organisations


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
            f = self.freq.get(to_latin(low))  # Serbian in Cyrillic, its word list in Latin letters
        return math.log10(f) + 9 if f else 0.0

    def first_name(self, word: str) -> bool:
        return word.casefold() in self.first_names

    def org_word(self, word: str) -> bool:
        # Asked of the same few words many times per article: remembered (bounded).
        hit = self.memo.get(word)
        if hit is None:
            low = word.casefold()
            hit = low in self.org_words or compound_of(low, self.org_suffixes)
            if len(self.memo) < 100_000:
                self.memo[word] = hit
        return hit

    def title(self, word: str) -> bool:
        low = word.casefold()
        return low in self.titles or compound_of(low, self.title_suffixes)


def compound_of(low: str, suffixes: tuple[str, ...]) -> bool:
    """Whether a word ends with one of the suffixes after at least three more letters ("Folkpartiet")."""
    # str.endswith with a tuple is one C call; the loop runs only for the few words that match.
    return bool(suffixes) and low.endswith(suffixes) and any(
        low.endswith(s) and len(low) > len(s) + 2 for s in suffixes)


@functools.cache
def word_lists() -> dict:
    return yaml.safe_load((DATA / "name_words.yaml").read_text(encoding="utf-8"))


@functools.cache
def words(lang: str) -> Words:
    """The word lists, frequencies and calendar and country names of a language (cached)."""
    lists = word_lists()

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
        places=frozenset(name_key(p) for p in listed_places(lists, lang)),
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


def to_latin(text: str) -> str:
    low = text.casefold().translate(CYRILLIC)
    return low[:1].upper() + low[1:] if text[:1].isupper() else low


def name_key(name: str) -> str:
    """Lookup key: geo.fold (accents, case and punctuation away) for Latin letters; case-folded for other
    scripts, which geo.fold would erase ("Москва")."""
    return geo.fold(name) or " ".join(name.casefold().split())


def listed_places(lists: dict, lang: str) -> list[str]:
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


def babel_locale(lang: str):
    # babel (CLDR data) is installed with Airflow and trafilatura; without it only the gazetteer is used.
    try:
        from babel import Locale

        return Locale.parse(BABEL_CODES.get(lang, lang))
    except Exception:  # noqa: BLE001 - an unknown locale or no babel: no calendar or country names
        return None


def _calendar(lang: str) -> frozenset[str]:
    """Month and day names, which some languages capitalise ("Janeiro" in older Portuguese, English)."""
    out: set[str] = set()
    for loc in filter(None, (babel_locale(lang), babel_locale("en"))):
        for table in (loc.months, loc.days):
            for context in ("format", "stand-alone"):
                for width in ("wide", "abbreviated"):
                    out |= {name_key(v) for v in (table.get(context, {}).get(width) or {}).values()}
    return frozenset(out)


def _territories(lang: str) -> frozenset[str]:
    """Countries and world regions by their names in the language and in English ("Tyskland", "Alemanha",
    "Europa"): the gazetteer knows most countries by their English and own names only."""
    out: set[str] = set()
    for loc in filter(None, (babel_locale(lang), babel_locale("en"))):
        out |= {name_key(name) for code, name in loc.territories.items() if code not in TERRITORIES_SKIPPED}
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
