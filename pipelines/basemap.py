"""Basemap: Natural Earth's country outlines, projected and thinned into SVG paths for the digest's world map.

The outlines come from inside the ``geo-intel-offline`` wheel (pinned in requirements.in): its
``polygons.json.gz`` is Natural Earth's 1:10m Admin 0 countries (public domain), one entry per country,
rings as [lat, lon] pairs already thinned to about 0.005°. Only that data file is read, as plain gzipped
JSON: none of the package's code runs, and nothing is fetched at run time.
"""

from __future__ import annotations

import functools
import gzip
import importlib.metadata
import json
from dataclasses import dataclass

DISTRIBUTION = "geo-intel-offline"
POLYGONS = "geo_intel_offline/data/polygons.json.gz"
METADATA = "geo_intel_offline/data/metadata.json.gz"  # names, under the same keys
# Path coordinates are whole half-pixels: short integers keep the page small, and the half step keeps
# coastlines from looking stair-stepped on high-density screens. Draw the paths scaled by 1 / GRID.
GRID = 2
# Douglas-Peucker tolerance and the smallest island kept, in pixels: finer detail than this cannot be
# seen on the map but would roughly double the page.
TOLERANCE = 0.5
MIN_AREA = 0.5


@dataclass(frozen=True)
class Country:
    """One Natural Earth country (or dependency, disputed area, ...) as drawn on the map.

    Attributes:
        name: Natural Earth's short name ("Kenya", "Bosnia and Herz.").
        path: SVG path data in map pixels times ``GRID``; one closed subpath per ring, holes included
            (draw with ``fill-rule="evenodd"``).
        bbox: the outline's bounds in map pixels, (x0, y0, x1, y1).
    """

    name: str
    path: str
    bbox: tuple[float, float, float, float]


def project(lat: float, lon: float, width: float, height: float) -> tuple[float, float]:
    """Equirectangular (plate carrée) projection: degrees map linearly to pixels, north up, 180°W at x=0.

    Args:
        lat: latitude in degrees, -90 to 90.
        lon: longitude in degrees, -180 to 180.
        width: the map's width in pixels (360° of longitude).
        height: the map's height in pixels (180° of latitude).

    Returns:
        The point's (x, y) in pixels from the map's top-left corner.
    """
    return (lon + 180) / 360 * width, (90 - lat) / 180 * height


@functools.cache
def countries(width: int, height: int) -> tuple[Country, ...]:
    """Every country of the package's file, projected onto a ``width`` x ``height`` map and thinned.

    Read and converted once per process (about a second): the file holds some 370,000 points.
    Rings that thin away to nothing or to less than ``MIN_AREA`` are dropped, but each country keeps at
    least its largest ring, so every country of the file has a path (a microstate draws as a dot).

    Args:
        width: the map's width in pixels.
        height: the map's height in pixels.

    Returns:
        The countries, in the file's order.
    """
    raw = json.loads(gzip.decompress(_data_file(POLYGONS)))
    names = json.loads(gzip.decompress(_data_file(METADATA)))
    out = []
    for key, shape in raw.items():
        # A multipolygon lists its parts in "exteriors" ("exterior" is only the first of them again).
        rings = [*(shape["exteriors"] if shape.get("multi") else [shape["exterior"]]), *shape.get("holes", [])]
        projected = [[project(lat, lon, width, height) for lat, lon in ring] for ring in rings]
        kept = [r for r in (_grid(_simplify(r, TOLERANCE)) for r in projected) if _area(r) >= MIN_AREA * GRID**2]
        if not kept:
            kept = [_grid(max(projected, key=_area))]
        xs = [x for r in projected for x, _ in r]
        ys = [y for r in projected for _, y in r]
        out.append(Country(names[key]["name"], "".join(_subpath(r) for r in kept),
                           (min(xs), min(ys), max(xs), max(ys))))
    return tuple(out)


def _data_file(name: str) -> bytes:
    # Located through the distribution's file list, so the package itself is never imported.
    return importlib.metadata.distribution(DISTRIBUTION).locate_file(name).read_bytes()


def _simplify(points: list[tuple[float, float]], tolerance: float) -> list[tuple[float, float]]:
    """Douglas-Peucker, iterative: a coastline of 15,000 points would overflow a recursive one."""
    if len(points) < 3:
        return points
    keep = {0, len(points) - 1}
    stack = [(0, len(points) - 1)]
    while stack:
        a, b = stack.pop()
        (ax, ay), (bx, by) = points[a], points[b]
        dx, dy = bx - ax, by - ay
        norm = dx * dx + dy * dy
        far, far_d = -1, tolerance * tolerance
        for i in range(a + 1, b):
            px, py = points[i][0] - ax, points[i][1] - ay
            # Squared distance to the chord; a closed ring's first chord has no length, so to its point.
            d = (px * dy - py * dx) ** 2 / norm if norm else px * px + py * py
            if d > far_d:
                far, far_d = i, d
        if far > 0:
            keep.add(far)
            stack += [(a, far), (far, b)]
    return [points[i] for i in sorted(keep)]


def _grid(points: list[tuple[float, float]]) -> list[tuple[int, int]]:
    """Snap to the half-pixel grid, dropping repeats and the ring's closing point (``z`` closes it)."""
    out: list[tuple[int, int]] = []
    for x, y in points:
        p = (round(x * GRID), round(y * GRID))
        if not out or out[-1] != p:
            out.append(p)
    if len(out) > 1 and out[0] == out[-1]:
        out.pop()
    return out


def _area(ring) -> float:
    """Shoelace area, in the ring's own units squared."""
    return abs(sum(x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in zip(ring, ring[1:] + ring[:1], strict=True))) / 2


def _subpath(ring: list[tuple[int, int]]) -> str:
    """``M`` to the first point, then relative ``l`` steps: mostly one-digit numbers, and a minus sign
    separates numbers as well as a space does."""
    (x, y), rest = ring[0], ring[1:]
    out = [f"M{x} {y}"]
    if rest:
        steps = "l"
        for nx, ny in rest:
            for n in (nx - x, ny - y):
                steps += str(n) if n < 0 or steps[-1] == "l" else f" {n}"
            x, y = nx, ny
        out.append(steps)
    return "".join(out) + "z"
