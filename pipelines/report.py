"""Daily digest: one self-contained HTML page per day (inline CSS and SVG; no script, nothing fetched)."""

from __future__ import annotations

import datetime
import html
import math
from pathlib import Path
from urllib.parse import urlsplit

from pipelines import basemap, queries, search

# Colour-blind-safe (Okabe-Ito) so the five lines stay distinguishable for every reader.
PALETTE = ("#0072b2", "#d55e00", "#009e73", "#cc79a7", "#e69f00")
# Actors often share a count (0 most days): later lines are dashed so the ones beneath show through.
DASHES = ("none", "7 4", "3 3", "10 3 2 3", "1 3")

CSS = """
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1d232a;
       max-width: 980px; margin: 0 auto; padding: 24px; background: #fff; }
h1 { margin: 0 0 4px; font-size: 26px; } h2 { margin: 32px 0 8px; font-size: 19px; border-bottom: 1px solid #dde2e8; }
h3 { margin: 16px 0 4px; font-size: 15px; }
.totals { display: flex; gap: 12px; margin: 12px 0; }
.totals div { background: #f2f5f8; border-radius: 6px; padding: 8px 14px; }
.totals b { display: block; font-size: 22px; }
.muted, .nodata { color: #5c6773; } .nodata { font-style: italic; }
svg { display: block; max-width: 100%; height: auto; }
svg text { font: 11px system-ui, sans-serif; fill: #3a434d; }
blockquote { margin: 10px 0; padding: 6px 14px; border-left: 4px solid #0072b2; background: #f7f9fb; }
blockquote p { margin: 0 0 4px; } blockquote footer { color: #5c6773; font-size: 13px; }
table { border-collapse: collapse; font-size: 13px; } td, th { padding: 3px 10px 3px 0; text-align: left; }
th { border-bottom: 1px solid #dde2e8; } .ok { color: #1a7f37; } .bad { color: #b42318; font-weight: 600; }
"""


def build_report(con, day: datetime.date, out: Path, days: int = 14,
                 topics: tuple[tuple[str, str], ...] = ()) -> Path:
    """Write the daily digest for one publication day as a single self-contained HTML file.

    The page has a header with the day's totals, the daily story counts of the day's five most covered
    people and organisations, a map of the places mentioned, the attention each watched topic got, the
    day's top quotes and the data-quality outcome of the day's runs. Every section says so when it has
    no data. Everything taken from the database is HTML-escaped, only http(s) article URLs become links,
    and the page loads nothing else: it can be mailed or archived as it is. Nothing depends on the clock,
    so the same database and day always give the same file.

    Args:
        con: an open DuckDB connection (read-only is enough) with the Newsmon tables.
        day: the publication day (UTC) to report on; a datetime is reduced to its date.
        out: the HTML file to write (parents are created); an existing directory gets
            ``newsmon-report-YYYY-MM-DD.html`` inside it.
        days: how many days, ending on ``day``, the chart and the map cover.
        topics: (name, search query) pairs, the watchlist's query rules: each gets an attention chart.

    Returns:
        The path of the file written.

    Raises:
        ValueError: if ``days`` is less than 1.
    """
    if days < 1:
        raise ValueError(f"days must be at least 1, not {days}")
    if isinstance(day, datetime.datetime):
        day = day.date()
    first = day - datetime.timedelta(days=days - 1)
    body = "\n".join([
        _header(con, day, first),
        _actors_section(con, day, first, days),
        _places_section(con, day, first),
        _topics_section(con, topics, first, days),
        _quotes_section(con, day),
        _quality_section(con, day),
    ])
    page = (f'<!doctype html>\n<html lang="en"><head><meta charset="utf-8">\n'
            # Defence in depth: should any database text ever slip through unescaped, the browser still
            # refuses to run it or to fetch anything for it.
            f'<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; style-src \'unsafe-inline\'">\n'
            f'<meta name="referrer" content="no-referrer">\n'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>Newsmon daily digest {day:%Y-%m-%d}</title>\n<style>{CSS}</style></head>\n"
            f"<body>\n{body}\n</body></html>\n")
    out = Path(out)
    if out.is_dir():
        out = out / f"newsmon-report-{day:%Y-%m-%d}.html"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(page, encoding="utf-8")
    return out


# ---------------------------------------------------------------- sections


def _header(con, day: datetime.date, first: datetime.date) -> str:
    stories, articles, entities = queries.day_totals(con, day)
    totals = "".join(f"<div><b>{n}</b>{label}</div>" for n, label in (
        (stories, "stories"), (articles, "articles (with syndicated copies)"), (entities, "entities mentioned")))
    return (f"<header><h1>Newsmon daily digest: {day:%A %d %B %Y}</h1>"
            f'<p class="muted">Articles by publication day (UTC). Chart and map cover {first:%d %b} to '
            f"{day:%d %b %Y}.</p>"
            f'<div class="totals">{totals}</div></header>')


def _actors_section(con, day: datetime.date, first: datetime.date, days: int) -> str:
    title = "<section><h2>Mentions over time for the top actors</h2>"
    top = queries.top_actors_of_day(con, day)
    if not top:
        return title + _nodata("No person or organisation was mentioned in a story that day.") + "</section>"
    counts = queries.stories_per_entity_day(con, [t[0] for t in top], first, day)
    dates = [first + datetime.timedelta(days=i) for i in range(days)]
    series = [(f"{name} ({etype.lower()})", [counts.get((eid, d), 0) for d in dates]) for eid, name, etype, _ in top]
    note = (f'<p class="muted">The {len(top)} people and organisations in the most stories on {day:%d %b}; '
            "one point per day, a syndicated copy counts once.</p>")
    return title + note + _line_chart(dates, series) + "</section>"


def _places_section(con, day: datetime.date, first: datetime.date) -> str:
    title = "<section><h2>Places mentioned</h2>"
    places = queries.mapped_places(con, first, day)
    if not places:
        return title + _nodata("No place with known coordinates was mentioned in this period.") + "</section>"
    listed = ", ".join(f"{_e(name)} ({n})" for name, _, _, _, n in places[:15])
    more = f" and {len(places) - 15} more" if len(places) > 15 else ""
    note = (f'<p class="muted">{len(places)} places from {first:%d %b} to {day:%d %b}; circle area follows '
            "the number of stories (hover a circle for its name).</p>")
    return title + note + _world_map(places) + f'<p class="muted">Most mentioned: {listed}{more}.</p></section>'


def _topics_section(con, topics: tuple[tuple[str, str], ...], first: datetime.date, days: int) -> str:
    title = "<section><h2>Topics</h2>"
    if not topics:
        return title + _nodata("The watchlist has no rule with a query or keywords.") + "</section>"
    dates = [first + datetime.timedelta(days=i) for i in range(days)]
    since = datetime.datetime.combine(first, datetime.time())
    series = []
    for name, query in topics[:len(PALETTE)]:
        rows = {r["period"]: r for r in search.attention(con, query, since, since + datetime.timedelta(days=days))}
        series.append((f"{name}: {query}", [rows[f"{d:%Y-%m-%d}"]["stories"] if f"{d:%Y-%m-%d}" in rows else 0
                                            for d in dates]))
    more = f" (the first {len(PALETTE)} of {len(topics)})" if len(topics) > len(PALETTE) else ""
    note = ('<p class="muted">Stories per day matching each watched query (a syndicated story counts once), '
            f"as <code>newsmon search</code> counts them{more}.</p>")
    return title + note + _line_chart(dates, series) + "</section>"


def _quotes_section(con, day: datetime.date) -> str:
    title = "<section><h2>Top quotes</h2>"
    quotes = queries.top_quotes_of_day(con, day)
    if not quotes:
        return title + _nodata("No quote with an identified speaker that day.") + "</section>"
    items = []
    for speaker, text, url, art_title, source in quotes:
        label = _e(art_title or url)
        href = _href(url)
        cite = f'<a href="{href}" rel="noopener noreferrer">{label}</a>' if href else label
        # The extractor keeps the comma that led into "she said"; it reads as a typo once the cue is gone.
        text = text.rstrip().rstrip(",")
        items.append(f"<blockquote><p>“{_e(text)}”</p><footer>— <b>{_e(speaker)}</b>, in <cite>{cite}</cite>"
                     f" ({_e(source)})</footer></blockquote>")
    return title + "\n".join(items) + "</section>"


def _quality_section(con, day: datetime.date) -> str:
    title = "<section><h2>Data quality</h2>"
    runs = [r[:3] for r in queries.runs_of_day(con, day)]
    if not runs:
        return title + _nodata("No run covered this day.") + "</section>"
    parts = []
    for run_id, kind, status in runs:
        checks = queries.checks_of_run(con, run_id)
        failed = [c for c in checks if not c[3]]
        critical = sum(1 for c in failed if c[2] == "critical")
        # A loaded run with failed warnings is still a success: only quarantine and critical failures are red.
        css = "ok" if status == "success" else "bad"
        of_which = f' (<span class="bad">{critical} critical</span>)' if critical else ""
        parts.append(f'<h3>Run {_e(run_id)} ({_e(kind)}): <span class="{css}">{_e(status)}</span></h3>'
                     f"<p>{len(checks) - len(failed)} checks passed, {len(failed)} failed{of_which}.</p>")
        if failed:
            rows = "".join(f"<tr><td>{_e(t)}</td><td>{_e(c)}</td><td>{_e(s)}</td><td>{_e(o)}</td></tr>"
                           for t, c, s, _, o in failed)
            parts.append("<table><tr><th>table</th><th>failed check</th><th>severity</th><th>observed</th></tr>"
                         f"{rows}</table>")
    return title + "\n".join(parts) + "</section>"


# ---------------------------------------------------------------- drawing


def _line_chart(dates: list[datetime.date], series: list[tuple[str, list[int]]]) -> str:
    width, height, left, right, top, bottom = 900, 300, 44, 230, 14, 40
    pw, ph = width - left - right, height - top - bottom
    step = max(1, math.ceil(max(max(v) for _, v in series) / 4))  # about four whole-number gridlines
    ymax = step * max(1, math.ceil(max(max(v) for _, v in series) / step))

    def x(i: int) -> float:
        return left + (pw / 2 if len(dates) == 1 else i * pw / (len(dates) - 1))

    def y(v: float) -> float:
        return top + ph - v / ymax * ph

    out = [f'<svg viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img">'
           "<title>Stories per day for the top actors</title>"]
    for v in range(0, ymax + 1, step):
        out.append(f'<line x1="{left}" x2="{left + pw}" y1="{y(v):.1f}" y2="{y(v):.1f}" stroke="#e3e7ec"/>'
                   f'<text x="{left - 6}" y="{y(v) + 4:.1f}" text-anchor="end">{v}</text>')
    out.append(f'<line x1="{left}" x2="{left}" y1="{top}" y2="{top + ph}" stroke="#8a949e"/>'
               f'<line x1="{left}" x2="{left + pw}" y1="{top + ph}" y2="{top + ph}" stroke="#8a949e"/>')
    every = math.ceil(len(dates) / 8)  # keep date labels from overlapping; the last day is always labelled
    for i, d in enumerate(dates):
        if (len(dates) - 1 - i) % every == 0:
            out.append(f'<text x="{x(i):.1f}" y="{top + ph + 16}" text-anchor="middle">{d:%d %b}</text>')
    out.append(f'<text x="12" y="{top + ph / 2:.0f}" text-anchor="middle" '
               f'transform="rotate(-90 12 {top + ph / 2:.0f})">stories</text>')
    for k, (label, values) in enumerate(series):
        colour, dash = PALETTE[k % len(PALETTE)], DASHES[k % len(DASHES)]
        points = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in enumerate(values))
        out.append(f'<polyline points="{points}" fill="none" stroke="{colour}" stroke-width="2.2" '
                   f'stroke-dasharray="{dash}"/>')
        out.extend(f'<circle cx="{x(i):.1f}" cy="{y(v):.1f}" r="3" fill="{colour}"><title>{_e(label)}, '
                   f'{d:%d %b}: {v} stor{"y" if v == 1 else "ies"}</title></circle>'
                   for i, (d, v) in enumerate(zip(dates, values, strict=True)))
        ly = top + 10 + k * 22
        short = label if len(label) <= 30 else label[:29] + "…"
        out.append(f'<line x1="{left + pw + 16}" x2="{left + pw + 36}" y1="{ly - 4}" y2="{ly - 4}" '
                   f'stroke="{colour}" stroke-width="2.2" stroke-dasharray="{dash}"/>'
                   f'<text x="{left + pw + 40}" y="{ly}">{_e(short)}<title>{_e(label)}</title></text>')
    out.append("</svg>")
    return "".join(out)


def _world_map(places: list[tuple]) -> str:
    width, height = 900, 450
    most = max(p[4] for p in places)

    def project(lat: float, lon: float) -> tuple[float, float]:
        return basemap.project(lat, lon, width, height)  # the outlines' own projection, so circles land on them

    out = [f'<svg viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img">'
           "<title>Places mentioned, on a world map of Natural Earth country outlines</title>"
           f'<rect width="{width}" height="{height}" fill="#e8f0f7" stroke="#c9d3dd"/>']
    meridians = [(lon, project(0, lon)[0]) for lon in range(-150, 180, 30)]
    parallels = [(lat, project(lat, 0)[1]) for lat in range(-60, 90, 30)]
    # Grid lines under the land, so they read as the sea's graticule and do not cross out small countries.
    for lon, gx in meridians:
        colour = "#b8c4d0" if lon == 0 else "#d5e0ea"  # the prime meridian and equator orient the reader
        out.append(f'<line x1="{gx:.1f}" x2="{gx:.1f}" y1="0" y2="{height}" stroke="{colour}"/>')
    for lat, gy in parallels:
        colour = "#b8c4d0" if lat == 0 else "#d5e0ea"
        out.append(f'<line x1="0" x2="{width}" y1="{gy:.1f}" y2="{gy:.1f}" stroke="{colour}"/>')
    # One path per country: the fill is the land, its edge the coastline or border (a hairline, scaled).
    out.append(f'<g class="land" transform="scale({1 / basemap.GRID:g})" fill="#fbfaf5" stroke="#9aa6b2" '
               f'stroke-width="{0.6 * basemap.GRID:g}" stroke-linejoin="round" fill-rule="evenodd">')
    out.extend(f'<path d="{country.path}"/>' for country in basemap.countries(width, height))
    out.append("</g>")
    for lon, gx in meridians:
        out.append(f'<text x="{gx + 3:.1f}" y="{height - 4}" fill="#8a949e">{abs(lon)}°{"EW"[lon < 0] if lon else ""}'
                   "</text>")
    for lat, gy in parallels:
        out.append(f'<text x="3" y="{gy - 3:.1f}">{abs(lat)}°{"NS"[lat < 0] if lat else ""}</text>')
    # Biggest first, so a small place near a big one is drawn on top and stays hoverable.
    for name, country, lat, lon, n in sorted(places, key=lambda p: -p[4]):
        cx, cy = project(lat, lon)
        r = 3 + 11 * math.sqrt(n / most)
        where = f" ({_e(country)})" if country else ""
        out.append(f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="{r:.1f}" fill="#d55e00" fill-opacity="0.55" '
                   f'stroke="#9c3f00"><title>{_e(name)}{where}: {n} stor{"y" if n == 1 else "ies"}</title></circle>')
    out.append("</svg>")
    return "".join(out)


# ---------------------------------------------------------------- helpers


def _e(value) -> str:
    """Database text is untrusted (it comes from scraped pages): always escape, quotes included."""
    return "" if value is None else html.escape(str(value), quote=True)


def _href(url: str | None) -> str | None:
    """Only web links may be followed from the digest; javascript:, data: and file: URLs stay text."""
    if not url:
        return None
    parts = urlsplit(url.strip())
    return _e(url.strip()) if parts.scheme.lower() in ("http", "https") and parts.netloc else None


def _nodata(message: str) -> str:
    return f'<p class="nodata">No data. {_e(message)}</p>'
