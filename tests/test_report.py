"""The daily digest: content and escaping on a real DuckDB file, then a real headless Chromium render."""

from __future__ import annotations

import base64
import datetime
import gzip
import importlib.metadata
import json
import os
import re
import signal
import struct
import subprocess
import time
from pathlib import Path

import pytest

from pipelines import basemap, store
from pipelines.report import build_report
from tests.conftest import debian_tool

DAY = datetime.date(2026, 11, 24)
CHROMIUM = Path("/usr/bin/chromium")
ARTICLE_URLS = {"https://news.example/a1", "https://news.example/a2", "https://news.example/a3"}


def _article(con, aid, day, title, dup=None, url=None, run="r1"):
    con.execute("""insert into articles (article_id, url, source, title, published_at, language, text, word_count,
                                         content_hash, duplicate_of, fetched_at, run_id)
                   values ($id, $url, 'wire', $title, $pub, 'en', 'Some text.', 2, $id, $dup, $pub, $run)""",
                {"id": aid, "url": url or f"https://news.example/{aid}", "title": title,
                 "pub": datetime.datetime.combine(day, datetime.time(9)), "dup": dup, "run": run})


def _entity(con, eid, name, etype, cc=None, lat=None, lon=None):
    con.execute("""insert into entities (entity_id, name, type, aliases, country_code, latitude, longitude)
                   values ($id, $name, $type, []::varchar[], $cc, $lat, $lon)""",
                {"id": eid, "name": name, "type": etype, "cc": cc, "lat": lat, "lon": lon})


def _mention(con, aid, eid, n=0):
    con.execute("""insert into mentions values ($mid, $aid, $eid, 'x', 'x', $n, $n + 1, 0, 'PERSON')""",
                {"mid": f"{aid}-{eid}-{n}", "aid": aid, "eid": eid, "n": n})


def _quote(con, cid, aid, speaker, text):
    con.execute("""insert into claims (claim_id, article_id, kind, speaker_entity_id, speaker, cue, text,
                                       start_char, end_char)
                   values ($cid, $aid, 'quote', $spk, 'she', 'said', $text, 0, 4)""",
                {"cid": cid, "aid": aid, "spk": speaker, "text": text})


@pytest.fixture
def db(tmp_path):
    """A small Newsmon database: three stories and one syndicated copy on DAY, older and out-of-window
    articles, quotes with and without a resolved speaker, and one run with a failed check."""
    con = store.connect(tmp_path / "n.duckdb")
    old = DAY - datetime.timedelta(days=4)
    _article(con, "a1", DAY, "<script>alert(1)</script> Ministers meet")
    _article(con, "a2", DAY, "Port reopens")
    _article(con, "a3", DAY, "Shipping news")
    _article(con, "a3copy", DAY, "Shipping news (syndicated)", dup="a3", url="https://mirror.example/a3")
    _article(con, "a0", old, "Earlier story")
    _article(con, "a_far", DAY - datetime.timedelta(days=30), "Long ago")
    for row in [("alice", "Alice Grant", "PERSON"), ("bob", "Bob Stone", "PERSON"), ("acme", "Acme Corp", "ORG"),
                ("kyiv", "Kyiv", "LOCATION", "UA", 50.45, 30.52), ("ocean", "Indian Ocean", "LOCATION"),
                ("nairobi", "Nairobi", "LOCATION", "KE", -1.28, 36.82),
                ("lisbon", "Lisbon", "LOCATION", "PT", 38.72, -9.15)]:
        _entity(con, *row)
    # Alice: 2 stories on DAY. Bob: 1 story with 2 mentions, plus its syndicated copy; counting the copy
    # would give him 2 stories and 4 mentions and put him ahead of Alice.
    for aid, eid, n in [("a1", "alice", 0), ("a2", "alice", 0), ("a0", "alice", 0), ("a1", "acme", 0),
                        ("a3", "bob", 0), ("a3", "bob", 1), ("a3copy", "bob", 0), ("a3copy", "bob", 1),
                        ("a1", "kyiv", 0), ("a2", "kyiv", 0), ("a0", "nairobi", 0), ("a2", "ocean", 0),
                        ("a_far", "lisbon", 0)]:
        _mention(con, aid, eid, n)
    _quote(con, "q1", "a1", "alice", "We will <b>not</b> back down")
    _quote(con, "q2", "a2", None, "Nobody knows who said this")
    _quote(con, "q3", "a3", "bob", "Cargo is moving again")
    _quote(con, "q3copy", "a3copy", "bob", "Cargo is moving again")
    con.execute("""insert into runs (run_id, kind, window_start, window_end, status, counts)
                   values ('r1', 'daily', $s, $e, 'success', '{}'), ('r0', 'daily', $o, $s, 'success', '{}')""",
                {"s": datetime.datetime(2026, 11, 24), "e": datetime.datetime(2026, 11, 25),
                 "o": datetime.datetime(2026, 11, 23)})
    con.execute("""insert into dq_results values
                   ('r1', 'articles', 'expect_column_values_to_be_unique:article_id', 'critical', true, '0 of 4', null),
                   ('r1', 'claims', 'expect_column_values_to_be_in_set:kind', 'critical', true, '0 of 4', null),
                   ('r1', 'articles', 'expect_column_values_to_not_be_null:title', 'warning', false,
                    '1 of 4 unexpected', null),
                   ('r0', 'run', 'completeness:other_day', 'warning', false, 'not today', null)""")
    con.close()
    return tmp_path / "n.duckdb"


def _report(db_path: Path, out: Path) -> str:
    con = store.connect(db_path, read_only=True)
    try:
        return build_report(con, DAY, out).read_text(encoding="utf-8")
    finally:
        con.close()


def test_report_shows_each_section_with_database_text_escaped(db, tmp_path):
    page = _report(db, tmp_path / "report.html")

    assert "&lt;script&gt;alert(1)&lt;/script&gt; Ministers meet" in page
    assert "<script" not in page.lower()
    assert "We will &lt;b&gt;not&lt;/b&gt; back down" in page and "<b>not</b>" not in page
    assert page.count("<svg") == 2  # the chart and the map
    # Header: 3 stories, 4 articles (with the syndicated copy), 5 entities mentioned on DAY.
    assert re.search(r"<b>3</b>stories", page) and re.search(r"<b>4</b>articles", page)
    assert re.search(r"<b>5</b>entities", page)
    # The copy is not a second story: Alice (2 stories) leads, Bob has 1, and his quote is listed once.
    assert page.index("Alice Grant (person)") < page.index("Bob Stone (person)") < page.index("Places mentioned")
    assert "Alice Grant (person), 24 Nov: 2 stories" in page
    assert "Alice Grant (person), 20 Nov: 1 story" in page
    assert "Bob Stone (person), 24 Nov: 1 story" in page
    assert page.count("Cargo is moving again") == 1
    assert "Nobody knows" not in page  # no resolved speaker
    assert re.search(r"<b>Alice Grant</b>, in <cite><a href=\"https://news.example/a1\"", page)
    # Map: places with coordinates in the 14 days; not those without, nor those mentioned long before.
    assert "<title>Kyiv (UA): 2 stories</title>" in page and "<title>Nairobi (KE): 1 story</title>" in page
    assert "Indian Ocean" not in page and "Lisbon" not in page
    # Data quality: the day's run only.
    assert "2 checks passed, 1 failed" in page and "expect_column_values_to_not_be_null:title" in page
    assert "other_day" not in page
    # Nothing external: any src=, href= or url( that points at the web is one of the article links.
    refs = re.findall(r"""(?:\b(?:src|href)\s*=\s*["']?|url\(\s*["']?)([^"'\s>)]*)""", page, re.I)
    assert refs and {r for r in refs if re.match(r"(?i)(https?:)?//", r)} <= ARTICLE_URLS
    assert not re.search(r"(?i)\bsrc\s*=|@import|url\(", page)


def test_only_web_urls_become_links(tmp_path):
    con = store.connect(tmp_path / "n.duckdb")
    for aid, url in [("j", "javascript:alert(1)"), ("f", "file:///etc/passwd"), ("q", 'https://x.example/"><i>')]:
        _article(con, aid, DAY, f"title {aid}", url=url)
        _entity(con, f"speaker {aid}", f"Speaker {aid}", "PERSON")
        _quote(con, f"c{aid}", aid, f"speaker {aid}", f"quote {aid}")
    page = build_report(con, DAY, tmp_path).read_text(encoding="utf-8")
    con.close()
    assert page.count("<blockquote>") == 3
    assert "javascript:" not in page and "file:///" not in page
    assert '<a href="https://x.example/&quot;&gt;&lt;i&gt;"' in page and "<i>" not in page


def test_an_empty_database_still_gives_a_report(tmp_path):
    store.connect(tmp_path / "n.duckdb").close()
    out = tmp_path / "out" / "empty.html"
    page = _report(tmp_path / "n.duckdb", out)
    assert out.exists() and "Newsmon daily digest: Tuesday 24 November 2026" in page
    assert re.search(r"<b>0</b>stories", page)
    assert page.count("No data.") == 5 and "<svg" not in page
    assert "The watchlist has no rule with a query or keywords." in page


def _subpaths(d: str) -> list[list[tuple[int, int]]]:
    """The rings of a country path as basemap writes them (absolute M, relative l steps, z), in grid units."""
    rings = []
    for start, steps in re.findall(r"M(-?\d+ -?\d+)(?:l([-\d ]*))?z", d):
        x, y = map(int, start.split())
        ring = [(x, y)]
        numbers = [int(n) for n in re.findall(r"-?\d+", steps)]
        for dx, dy in zip(numbers[::2], numbers[1::2], strict=True):
            x, y = x + dx, y + dy
            ring.append((x, y))
        rings.append(ring)
    assert "".join(f"M{r[0][0]} {r[0][1]}" for r in rings) == "".join(re.findall(r"M-?\d+ -?\d+", d))
    return rings


def test_map_draws_natural_earth_countries_beneath_the_places(db, tmp_path):
    svg = re.findall(r"<svg.*?</svg>", _report(db, tmp_path / "report.html"), re.S)[1]
    ne = importlib.metadata.distribution(basemap.DISTRIBUTION)
    polygons, metadata = (json.loads(gzip.decompress(ne.locate_file(f).read_bytes()))
                          for f in (basemap.POLYGONS, basemap.METADATA))
    names = {v["name"]: k for k, v in metadata.items()}

    land = re.search(r'<g class="land" transform="scale\(0.5\)"[^>]*>(.*?)</g>', svg, re.S)
    paths = re.findall(r'<path d="([^"]+)"/>', land.group(1))
    # Every country of the package's file is drawn, once, in the file's order; none is empty.
    assert len(paths) == len(polygons) == 258 and all(_subpaths(d) for d in paths)
    assert svg.index('<g class="land"') < svg.index("<circle")  # the places are drawn on top
    assert "http" not in svg.lower()

    def drawn_box(country: str) -> tuple[float, float, float, float]:
        points = [p for ring in _subpaths(paths[list(polygons).index(names[country])]) for p in ring]
        xs, ys = [x / basemap.GRID for x, _ in points], [y / basemap.GRID for _, y in points]
        return min(xs), min(ys), max(xs), max(ys)

    def circle(title: str) -> tuple[float, float]:
        cx, cy = re.search(rf'<circle cx="([\d.]+)" cy="([\d.]+)"[^>]*><title>{re.escape(title)}', svg).groups()
        return float(cx), float(cy)

    # Kenya as drawn matches Natural Earth's own coordinates, projected here independently, within a
    # pixel; and the circle for Nairobi (KE) lies inside Kenya's box, Kyiv's inside Ukraine's, not swapped.
    kenya = polygons[names["Kenya"]]
    lats, lons = zip(*(p for ring in kenya.get("exteriors") or [kenya["exterior"]] for p in ring), strict=True)
    expected = ((min(lons) + 180) * 2.5, (90 - max(lats)) * 2.5, (max(lons) + 180) * 2.5, (90 - min(lats)) * 2.5)
    assert all(abs(a - b) <= 1 for a, b in zip(drawn_box("Kenya"), expected, strict=True))
    for place, country, other in [("Nairobi (KE)", "Kenya", "Ukraine"), ("Kyiv (UA)", "Ukraine", "Kenya")]:
        cx, cy = circle(place)
        x0, y0, x1, y1 = drawn_box(country)
        assert x0 < cx < x1 and y0 < cy < y1, (place, country)
        x0, y0, x1, y1 = drawn_box(other)
        assert not (x0 < cx < x1 and y0 < cy < y1), (place, other)
    # Read and thinned once per process: a second digest reuses the same outlines.
    assert basemap.countries(900, 450) is basemap.countries(900, 450)


# ---------------------------------------------------------------- headless Chromium over the DevTools protocol


@pytest.fixture(scope="module")
def chromium():
    return debian_tool(CHROMIUM, "chromium")


class DevTools:
    """A minimal DevTools protocol client over one websocket (flattened sessions); every wait is bounded."""

    def __init__(self, ws_url: str):
        from websockets.sync.client import connect

        self.ws = connect(ws_url, max_size=None, open_timeout=10, proxy=None)
        self.next_id = 0
        self.events: list[dict] = []

    def send(self, method: str, params: dict | None = None, session: str | None = None, timeout: float = 15):
        self.next_id += 1
        msg = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        self.ws.send(json.dumps(msg))
        reply = self._until(lambda m: m.get("id") == msg["id"], timeout, f"the reply to {method}")
        if "error" in reply:
            raise RuntimeError(f"{method}: {reply['error']}")
        return reply["result"]

    def wait_for(self, method: str, session: str, timeout: float = 15) -> dict:
        for event in self.events:
            if event.get("method") == method and event.get("sessionId") == session:
                return event
        return self._until(lambda m: m.get("method") == method and m.get("sessionId") == session, timeout, method)

    def drain(self, seconds: float) -> None:
        """Collect whatever arrives for a short while (late requests, late console errors)."""
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            try:
                self.events.append(json.loads(self.ws.recv(timeout=left)))
            except TimeoutError:
                return

    def _until(self, match, timeout: float, what: str) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"no {what} from Chromium within {timeout} s")
            try:
                msg = json.loads(self.ws.recv(timeout=left))
            except TimeoutError:
                continue
            if match(msg):
                if "method" in msg:
                    self.events.append(msg)
                return msg
            self.events.append(msg)


@pytest.fixture(scope="module")
def browser(chromium, tmp_path_factory):
    profile = tmp_path_factory.mktemp("chromium-profile")
    proc = subprocess.Popen(
        [str(chromium), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage", "--window-size=1100,900", f"--user-data-dir={profile}",
         "--remote-debugging-port=0", "about:blank"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        port_file = profile / "DevToolsActivePort"
        deadline = time.monotonic() + 30
        while not (port_file.exists() and len(port_file.read_text().split()) >= 2):
            if proc.poll() is not None:
                pytest.fail(f"chromium exited with status {proc.returncode} before opening DevTools")
            if time.monotonic() > deadline:
                pytest.fail("chromium did not write DevToolsActivePort within 30 s")
            time.sleep(0.1)
        port, path = port_file.read_text().split()[:2]
        client = DevTools(f"ws://127.0.0.1:{port}{path}")
        yield client
        client.ws.close()
    finally:
        # Chromium's helpers (zygote, renderers, GPU) share its process group: end them all, not only the parent.
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait(timeout=10)


def _render(cdp: DevTools, page: Path, screenshot: Path) -> list[str]:
    """Load the page in a fresh tab; return every problem seen (requests, exceptions, console errors)."""
    target = cdp.send("Target.createTarget", {"url": "about:blank"})["targetId"]
    session = cdp.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
    for domain in ("Network", "Runtime", "Log", "Page"):
        cdp.send(f"{domain}.enable", session=session)
    url = page.resolve().as_uri()
    cdp.send("Page.navigate", {"url": url}, session=session)
    cdp.wait_for("Page.loadEventFired", session, timeout=20)
    cdp.drain(1.0)
    metrics = cdp.send("Page.getLayoutMetrics", session=session)["cssContentSize"]
    shot = cdp.send("Page.captureScreenshot", {
        "format": "png", "captureBeyondViewport": True,
        "clip": {"x": 0, "y": 0, "width": metrics["width"], "height": metrics["height"], "scale": 1}},
        session=session, timeout=30)
    screenshot.write_bytes(base64.b64decode(shot["data"]))
    cdp.send("Target.closeTarget", {"targetId": target})

    problems = []
    for event in (e for e in cdp.events if e.get("sessionId") == session):
        method, params = event.get("method"), event.get("params", {})
        if method == "Network.requestWillBeSent" and params["request"]["url"] != url:
            problems.append(f"request: {params['request']['url']}")
        elif method == "Runtime.exceptionThrown":
            problems.append(f"exception: {params['exceptionDetails'].get('text')}")
        elif method == "Runtime.consoleAPICalled" and params.get("type") == "error":
            problems.append(f"console error: {params.get('args')}")
        elif method == "Log.entryAdded" and params["entry"].get("level") == "error":
            problems.append(f"log error: {params['entry'].get('text')} {params['entry'].get('url', '')}")
    assert any(e.get("method") == "Network.requestWillBeSent" and e.get("sessionId") == session
               for e in cdp.events), "the Network domain saw no request at all: the check would prove nothing"
    return problems


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


@pytest.mark.parametrize("empty", [False, True], ids=["sample", "empty"])
def test_report_renders_in_chromium_without_errors_or_requests(browser, db, tmp_path, empty):
    if empty:
        db = tmp_path / "empty.duckdb"
        store.connect(db).close()
    page = tmp_path / "report.html"
    _report(db, page)
    shot = tmp_path / "report.png"

    assert _render(browser, page, shot) == []
    width, height = _png_size(shot.read_bytes())
    assert width >= 800 and height >= (500 if empty else 1200)
    assert shot.stat().st_size > (15_000 if empty else 60_000)


def test_the_browser_check_catches_requests_and_errors(browser, tmp_path):
    """A control: the render check must fail a page that fetches something or whose script breaks."""
    bad = tmp_path / "bad.html"
    bad.write_text('<!doctype html><img src="http://127.0.0.1:9/x.png">'
                   '<script>console.error("boom"); missing()</script>', encoding="utf-8")
    problems = _render(browser, bad, tmp_path / "bad.png")
    assert any(p.startswith("request: http://127.0.0.1:9/x.png") for p in problems)
    assert any(p.startswith("console error") for p in problems)
    assert any(p.startswith("exception") for p in problems)


def test_topics_chart_the_stories_each_watched_query_matched_per_day(db, tmp_path):
    # The fixture wrote its articles behind the loads' back: opening the file for writing indexes them.
    store.connect(db).close()
    con = store.connect(db, read_only=True)
    try:
        page = build_report(con, DAY, tmp_path / "t.html", topics=(("harbour", "port OR shipping"),
                                                                    ("nothing", "zeppelin"))).read_text()
    finally:
        con.close()
    section = page.split("<h2>Topics</h2>", 1)[1].split("</section>", 1)[0]
    assert "harbour: port OR shipping" in section and "nothing: zeppelin" in section
    # Per day, a syndicated copy once: on DAY a2 and a3 (a3copy is a3's copy), nothing on the days before.
    lines = re.findall(r'<polyline[^>]*points="([^"]+)"', section)
    assert len(lines) == 2
    ys = [[float(p.split(",")[1]) for p in line.split()] for line in lines]
    assert ys[0][-1] < ys[0][0] and len(set(ys[0][:-1])) == 1  # rises on the last day only
    assert len(set(ys[1])) == 1                                 # the query that matches nothing stays flat

