"""Whether a name is a place, for the model-free recogniser (pipelines/names.py).

`place_evidence(name, lang)` grades a name from 0 (not a place) to 3 (a country, a listed region or a
town in a country of the language) by CLDR's names of countries, the word lists and the gazetteer
(pipelines/geo.py); `is_place_name` turns the grade into yes or no. Also here: places in languages that
inflect names ("Warszawie"), places named by their kind's word ("Rua Augusta", "Drottninggatan") and
demonyms, which are not places.
"""

from __future__ import annotations

import functools

from pipelines import geo
from pipelines.namewords import Words, compound_of, name_key, to_latin, words

# Towns known by a translated or local name ("Lissabon", "Estocolmo") count as places from this size: at
# smaller sizes alternate names are surnames and words ("Hansen" is a town of 1,249).
ALT_NAME_POPULATION = 250_000
# Towns in a country that speaks the language count as places from this size (by their own name); other
# towns from geo.is_place's 100,000 ("Taylor, Texas" is a surname).
LOCAL_POPULATION = 5_000
# Case endings of names in languages that inflect them, longest first, and the nominative endings tried in
# their place (a stem plus "", "a", "o"...).
_SLAVIC_LATIN = ("iem", "ach", "owi", "ami", "om", "em", "ie", "iu", "ą", "ę", "u", "a", "y", "i", "e", "é", "ú",
                 "ou", "ov", "oj")
_CYRILLIC = ("ами", "ах", "ом", "ой", "ей", "ем", "е", "у", "ю", "ы", "и", "а", "я")
CASE_ENDINGS = {lang: _SLAVIC_LATIN for lang in ("pl", "cs", "sk", "sl", "hr", "lt", "lv")}
CASE_ENDINGS |= {lang: _CYRILLIC for lang in ("ru", "uk", "be", "bg")}
CASE_ENDINGS |= {lang: _CYRILLIC + _SLAVIC_LATIN for lang in ("sr", "bs", "mk")}  # written in both scripts
NOMINATIVE_ENDINGS = ("", "a", "o", "e", "y", "а", "я", "о")


@functools.lru_cache(maxsize=65_536)
def demonym(name: str) -> bool:
    return geo.is_demonym(name)


# "São Paulo", "Santa Maria", "San José", "Sankt Petersburg": a saint's place or institution, not a word
# before a person's name.
SAINTS = {"são", "santa", "santo", "san", "sankt", "saint", "sainte", "st.", "st", "ste", "sveti", "sveta",
          "sv.", "svätý", "święty", "santos", "santas"}


def place_head(word: str, w: Words) -> bool:
    return word.rstrip(".").casefold() in w.place_words


def place_named(caps: list[str], w: Words) -> bool:
    head = caps[0].rstrip(".").casefold()
    if len(caps) > 1 and head in w.place_words:
        return True
    if not w.place_suffixes:  # languages whose place words come first
        return False
    if len(caps) > 1 and caps[-1].casefold() in w.place_words:
        return True
    return any(compound_of(c.casefold(), w.place_suffixes) for c in caps)


def inflected_place(name: str, w: Words) -> bool:
    """A place's name with a case ending (Slavic and Baltic languages inflect names: "Warszawie",
    "Krakowie", "Gdańsku", "Москве"): the ending swapped for a nominative one finds it."""
    endings = CASE_ENDINGS.get(w.lang)
    if not endings or len(name) < 5:
        return False
    for end in endings:
        if name.endswith(end) and len(name) - len(end) >= 3:
            stem = name[: len(name) - len(end)]
            if any(place_evidence(stem + base, w.lang) >= 2 for base in NOMINATIVE_ENDINGS):
                return True
    return False


@functools.lru_cache(maxsize=65_536)
def place_evidence(name: str, lang: str) -> int:
    """0: not a place; 1: a place where the capital letter already says "a name" (mid-sentence); 2: a
    place even where the capital is explained by position, so a common word that is also a foreign
    village does not pass ("Både" is Bade, Taiwan, "Ändå" folds to an alternate name of Daqing); 3: a
    country, a listed region or a place in a country of the language (stronger than any other reading).

    Places: countries and world regions by their names in the language or English (CLDR); the gazetteer's
    countries, regions and first-level areas, and towns of 100,000 or more by their own name
    (geo.is_place); towns of LOCAL_POPULATION or more in a country that speaks the language (local news
    names small towns: "Skjern", "Kalundborg"); towns of ALT_NAME_POPULATION or more by an alternate name
    ("Lissabon", "Estocolmo")."""
    key = name_key(name)
    w = words(lang)
    if not key or demonym(name):
        return 0
    if key in w.territories or key in w.places:
        return 3
    if not geo.fold(name):
        latin = to_latin(name)
        if name.isascii() or not geo.fold(latin) or latin.casefold() == name.casefold():
            return 0
        # The gazetteer's keys are Latin letters: a Cyrillic name by its transliteration ("Београд").
        return min(place_evidence(to_latin(name), lang), 2)
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


def is_place_name(name: str, w: Words, strong: bool = False) -> bool:
    return place_evidence(name, w.lang) >= (2 if strong else 1)
