"""Polite, robust fetching of article pages through run.fetch_stage, against real HTTP servers on loopback:
every failure ends as a fetch_log record with its reason, and the rest of the run is still fetched."""

from __future__ import annotations

import gzip
import socket
import threading
import time
import zlib
from datetime import datetime
from email.utils import formatdate
from urllib.parse import urlsplit

import duckdb
import pytest

from pipelines import fetch, run, runs, staging
from tests.conftest import fetch_urls, page

ARTICLE = page("Harbour reopens", [
    "The harbour of Valmora reopened on Tuesday after a week of repairs to the northern breakwater.",
    "Port officials said ferries to the islands would run on the summer timetable from Friday onwards.",
])
FRENCH = page("Le café de la gare", [
    "Le café de la gare était fermé à Zürich; les élèves ont déjà mangé la crème brûlée à côté du théâtre.",
    "Après la fête, le maître d’hôtel a expliqué que la brasserie rouvrirait dès vendredi à midi précis.",
])


def test_every_failure_is_logged_with_its_reason_and_the_other_pages_are_fetched(settings, servers):
    site = servers()
    ok = site.html("/ok.html", ARTICLE)
    zipped = site.html("/gz.html", gzip.compress(ARTICLE.encode()), **{"Content-Encoding": "gzip"})
    raw = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    deflated = site.html("/deflate.html", zlib.compress(ARTICLE.encode()), **{"Content-Encoding": "deflate"})
    raw_deflated = site.html("/raw-deflate.html", raw.compress(ARTICLE.encode()) + raw.flush(),
                             **{"Content-Encoding": "deflate"})
    gone = site.html("/gone.html", "gone", status=410)
    error = site.html("/error.html", "oops", status=500)
    site.routes["/loop-a"] = (302, {"Location": "/loop-b"}, b"")
    site.routes["/loop-b"] = (302, {"Location": site.url + "/loop-a"}, b"")
    for i in range(8):
        site.routes[f"/hop-{i}"] = (301, {"Location": f"/hop-{i + 1}"}, b"")
    image = site.html("/photo.png", b"\x89PNG\r\n\x1a\n" + b"\0" * 100, "image/png")
    pdf = site.html("/report", b"%PDF-1.4", "application/pdf")
    huge = site.html("/huge.html", "x" * 60_000)
    unsized = site.html("/unsized.html", "x" * 60_000, **{"X-Test": "no-length"})
    bomb = site.html("/bomb.html", gzip.compress(b"<p>" + b"0" * 5_000_000), **{"Content-Encoding": "gzip"})

    def slow(_req):
        time.sleep(1.0)
        return 200, {"Content-Type": "text/html"}, ARTICLE.encode()

    site.routes["/slow.html"] = slow
    urls = [ok, zipped, deflated, raw_deflated, gone, site.url + "/missing.html", error, site.url + "/loop-a",
            site.url + "/hop-0", image, pdf, huge, unsized, bomb, site.url + "/slow.html",
            "http://127.0.0.1:9/closed.html"]
    s, ref, fetched, logs, _ = fetch_urls(settings, urls, max_bytes=50_000, fetch_timeout=0.3, fetch_attempts=2)

    assert set(fetched) == {ok, zipped, deflated, raw_deflated}
    assert {fetch.load_raw(s.raw, r["raw_sha256"]) for r in fetched.values()} == {ARTICLE.encode()}
    expected = {
        gone: ("HTTP 410 Gone", 410, 1),
        site.url + "/missing.html": ("HTTP 404 Not Found", 404, 1),
        error: ("HTTP 500 Internal Server Error (after 2 attempts)", 500, 2),
        site.url + "/loop-a": (f"redirect loop: {site.url}/loop-a was already visited", 302, 2),
        site.url + "/hop-0": ("too many redirects (more than 5)", 301, 6),
        image: ("binary content refused (content type 'image/png')", 200, 1),
        pdf: ("binary content refused (content type 'application/pdf')", 200, 1),
        huge: ("body larger than 50000 bytes (Content-Length 60000)", 200, 1),
        unsized: ("body larger than 50000 bytes", 200, 1),
        bomb: ("gzip body inflates past 50000 bytes", 200, 1),
        site.url + "/slow.html": ("timed out after 0.3 s (after 2 attempts)", None, 2),
    }
    for url, (reason, status, attempts) in expected.items():
        assert (logs[url]["reason"], logs[url]["http_status"], logs[url]["attempts"]) == (reason, status, attempts)
    closed = logs["http://127.0.0.1:9/closed.html"]
    assert closed["reason"].startswith("robots.txt could not be read (connection failed")
    assert all(r["stage"] == "fetch" and r["source"] == "wire" for r in logs.values())
    assert site.count("/error.html") == 2 and site.count("/robots.txt") == 1


def test_retry_after_is_honoured_in_seconds_and_as_a_date(settings, servers):
    # The page that asks for an hour stops its whole host (the next test): it is on a host of its own,
    # or the retries here would race it to that host.
    site, other = servers(), servers()

    def busy_then_ok(status, retry_after):
        def route(req):
            if site.count(urlsplit(req.path).path) == 1:
                now = time.time()
                headers = {"Retry-After": retry_after(now), "Date": formatdate(now, usegmt=True)}
                return status, {"Content-Type": "text/plain", **headers}, b""
            return 200, {"Content-Type": "text/html"}, ARTICLE.encode()
        return route

    site.routes["/busy.html"] = busy_then_ok(429, lambda now: "1")
    site.routes["/down.html"] = busy_then_ok(503, lambda now: formatdate(now + 1, usegmt=True))
    other.routes["/patience.html"] = (429, {"Content-Type": "text/plain", "Retry-After": "3600"}, b"")
    urls = [site.url + "/busy.html", site.url + "/down.html", other.url + "/patience.html"]
    _, _, fetched, logs, elapsed = fetch_urls(settings, urls)

    assert set(fetched) == set(urls[:2])
    for path in ("/busy.html", "/down.html"):
        first, second = site.times(path)
        assert second - first >= 0.95
    assert logs[urls[2]]["reason"] == ("HTTP 429 Too Many Requests: Retry-After 3600 s is beyond the 60 s "
                                       "we wait; not retried")
    assert logs[urls[2]]["http_status"] == 429 and other.count("/patience.html") == 1
    assert elapsed < 3


def test_a_retry_after_beyond_the_cap_stops_requests_to_that_host_only(settings, servers):
    site, other = servers(), servers()
    site.routes["/patience.html"] = (429, {"Content-Type": "text/plain", "Retry-After": "3600"}, b"")
    later = [site.html(f"/later-{i}.html", ARTICLE) for i in range(3)]
    fine = other.html("/fine.html", ARTICLE)
    _, _, fetched, logs, elapsed = fetch_urls(settings, [site.url + "/patience.html", *later, fine],
                                              host_connections=1)

    assert set(fetched) == {fine} and elapsed < 2
    for url in later:
        assert logs[url]["reason"] == (f"not requested: {site.url} asked for a pause of 3600 s (Retry-After), "
                                       "beyond the 60 s we wait")
        assert logs[url]["attempts"] is None
    assert [p for p, _ in site.hits] == ["/robots.txt", "/patience.html"]


def test_robots_txt_is_read_once_per_host_and_obeyed_even_for_local_sources(settings, servers):
    site, broken = servers(), servers()
    # Our group (by product token) is the one that applies, and its longest rule wins over Disallow.
    site.html("/robots.txt", "User-agent: *\nDisallow: /\n\nUser-agent: newsmon\nDisallow: /private/\n"
                             "Allow: /private/open.html\n", "text/plain")
    public = [site.html(f"/news/{i}.html", ARTICLE) for i in range(8)]
    private = site.html("/private/secret.html", ARTICLE)
    opened = site.html("/private/open.html", ARTICLE)
    broken.html("/robots.txt", "unavailable", "text/plain", status=503)
    elsewhere = [broken.html(f"/news/{i}.html", ARTICLE) for i in range(3)]
    _, _, fetched, logs, _ = fetch_urls(settings, [*public, private, opened, *elsewhere], local=True)

    assert set(fetched) == {*public, opened}
    assert (logs[private]["reason"], logs[private]["http_status"]) == ("disallowed by robots.txt", None)
    assert site.count("/robots.txt") == 1 and site.count("/private/secret.html") == 0
    for url in elsewhere:
        assert logs[url]["reason"] == ("robots.txt could not be read (HTTP 503 Service Unavailable (after 3 "
                                       "attempts)); the host is treated as disallowing everything for this run")
    # robots.txt is retried like any request (3 attempts), then the host is left alone for the run.
    assert [p for p, _ in broken.hits] == ["/robots.txt"] * 3


def test_each_redirect_hop_obeys_the_robots_txt_of_its_own_host(settings, servers):
    wire, paper = servers(), servers()
    paper.html("/robots.txt", "User-agent: *\nDisallow: /premium/\n", "text/plain")
    paper.html("/premium/story.html", ARTICLE)
    free = paper.html("/free/story.html", ARTICLE)
    wire.routes["/r/1"] = (302, {"Location": paper.url + "/premium/story.html"}, b"")
    wire.routes["/r/2"] = (302, {"Location": free}, b"")
    _, _, fetched, logs, _ = fetch_urls(settings, [wire.url + "/r/1", wire.url + "/r/2"])

    assert set(fetched) == {wire.url + "/r/2"}
    assert (logs[wire.url + "/r/1"]["reason"], logs[wire.url + "/r/1"]["attempts"]) == ("disallowed by robots.txt", 1)
    assert paper.count("/robots.txt") == 1 and paper.count("/premium/story.html") == 0


def test_one_host_is_spaced_and_capped_while_hosts_are_fetched_in_parallel(settings, servers):
    a, b = servers(), servers()
    urls = [srv.html(f"/p{i}.html", ARTICLE) for srv in (a, b) for i in range(4)]
    _, _, fetched, _, elapsed = fetch_urls(settings, urls, host_delay=0.4)

    assert len(fetched) == 8
    for srv in (a, b):
        times = srv.times()  # robots.txt, then the four pages
        assert len(times) == 5
        assert min(y - x for x, y in zip(times, times[1:], strict=False)) >= 0.3  # less arrival jitter
    # One host after the other would take 8 x 0.4 s; side by side, about half of that.
    assert max(a.times()[0], b.times()[0]) < min(a.times()[-1], b.times()[-1])
    assert elapsed < 2.6


def test_open_requests_per_host_are_capped(settings, servers):
    a, b = servers(), servers()
    for srv in (a, b):
        def slow(_req):
            time.sleep(0.3)
            return 200, {"Content-Type": "text/html"}, ARTICLE.encode()
        for i in range(6):
            srv.routes[f"/p{i}.html"] = slow
    urls = [srv.url + f"/p{i}.html" for i in range(6) for srv in (a, b)]
    _, _, fetched, _, elapsed = fetch_urls(settings, urls, host_delay=0, host_connections=2)

    assert len(fetched) == 12 and a.max_open == 2 and b.max_open == 2
    assert elapsed < 1.8  # 3 rounds of 0.3 s on each host at once; one by one would be 3.6 s


def test_robots_crawl_delay_is_honoured_up_to_the_cap(settings, servers):
    site = servers()
    site.html("/robots.txt", "User-agent: *\nCrawl-delay: 5\n", "text/plain")
    urls = [site.html(f"/p{i}.html", ARTICLE) for i in range(3)]
    _, _, fetched, _, elapsed = fetch_urls(settings, urls, host_delay=0, max_crawl_delay=0.3)

    assert len(fetched) == 3
    times = site.times()
    assert min(y - x for x, y in zip(times, times[1:], strict=False)) >= 0.25
    assert elapsed < 2


def test_wrong_or_missing_charsets_come_out_as_the_right_text(settings, servers):
    site = servers()
    latin1 = FRENCH.encode("cp1252")
    undeclared = site.html("/undeclared.html", latin1.replace(b'<meta charset="utf-8">', b""), "text/html")
    mislabelled = site.html("/mislabelled.html", latin1, "text/html; charset=utf-8")
    utf8_as_latin1 = site.html("/utf8.html", FRENCH.replace('charset="utf-8"', 'charset="iso-8859-1"'),
                               "text/html; charset=iso-8859-1")
    s, ref, fetched, logs, _ = fetch_urls(settings, [undeclared, mislabelled, utf8_as_latin1])

    assert logs == {}
    assert {u: r["charset"] for u, r in fetched.items()} == {undeclared: "cp1252", mislabelled: "cp1252",
                                                             utf8_as_latin1: "utf-8"}
    run.extract_stage(s, ref)
    texts = {r["url"]: r["text"] for r in staging.read_rows(s, ref, "articles")}
    for url in (undeclared, mislabelled, utf8_as_latin1):
        assert "était fermé à Zürich" in texts[url] and "maître d’hôtel" in texts[url]


def test_charset_of_prefers_valid_utf8_then_a_declaration_then_a_guess():
    russian = "<p>Москва — столица России, крупнейший город страны и её политический центр.</p>"
    assert fetch.charset_of(russian.encode("cp1251")) == "cp1251"
    assert fetch.charset_of("<p>café</p>".encode(), "text/html; charset=iso-8859-1") == "utf-8"
    assert fetch.charset_of("<p>naïve</p>".encode("iso-8859-15"), "text/html; charset=latin-1") == "cp1252"
    meta = '<meta http-equiv="Content-Type" content="text/html; charset=koi8-r"><p>Привет, мир</p>'
    assert fetch.charset_of(meta.encode("koi8-r")) == "koi8-r"


def test_a_redirect_from_a_public_address_to_a_private_one_is_refused(settings, servers, internet):
    # A public address is routed to our loopback server, so the refused hops are decided by the real
    # client and its guard without anything leaving the machine.
    site = servers()
    public = "http://93.184.215.14"
    internet.route(("93.184.215.14", 80), site.url)
    targets = {"/to-metadata": "http://169.254.169.254/latest/meta-data/", "/to-intranet": "http://10.0.0.1/admin",
               "/to-loopback": site.url + "/secret", "/to-file": "file:///etc/passwd"}
    for path, target in targets.items():
        site.routes[path] = (302, {"Location": target}, b"")
    site.routes["/story.html"] = (200, {"Content-Type": "text/html"}, ARTICLE.encode())
    urls = [public + p for p in (*targets, "/story.html")]
    _, _, fetched, logs, _ = fetch_urls(settings, urls, local=False)

    assert set(fetched) == {public + "/story.html"}
    for path, target in targets.items():
        host = urlsplit(target).hostname
        expected = ("unsupported URL scheme 'file'" if path == "/to-file" else
                    f"refused: {host} resolves to non-public address {host} (mark the source local to allow it)")
        assert logs[public + path]["reason"] == expected
    assert site.count("/secret") == 0 and site.count("/robots.txt") == 1


@pytest.mark.parametrize("keep_alive", [True, False], ids=["one-connection", "connection-per-request"])
def test_a_name_that_rebinds_to_loopback_after_its_check_reaches_nothing_private(settings, servers, internet,
                                                                                keep_alive):
    # DNS rebinding: the first lookup answers a public address, every later one loopback. The address
    # checked is the address connected to, so no later lookup can slip the intranet in.
    news, intranet = servers(), servers()
    internet.dns["news.example"] = [["93.184.215.14"], ["127.0.0.1"]]
    internet.route(("93.184.215.14", 80), news.url)
    internet.route(("127.0.0.1", 80), intranet.url)  # where a second, unchecked lookup would land
    news.html("/story.html", ARTICLE)
    intranet.html("/story.html", "<p>internal</p>")
    _, _, fetched, logs, _ = fetch_urls(settings, ["http://news.example/story.html"], local=False,
                                        keep_alive=keep_alive)

    assert intranet.hits == [], logs
    if keep_alive:  # robots.txt and the page over one connection: one lookup, the public answer
        assert list(fetched) == ["http://news.example/story.html"], logs
        assert internet.lookups == ["news.example"]
        assert [p for p, _ in news.hits] == ["/robots.txt", "/story.html"]
    else:  # the page's own connection looks up again, sees loopback, and is refused
        assert logs["http://news.example/story.html"]["reason"] == (
            "refused: news.example resolves to non-public address 127.0.0.1 (mark the source local to allow it)")
        assert internet.lookups == ["news.example"] * 2 and [p for p, _ in news.hits] == ["/robots.txt"]


def test_fetch_log_rows_carry_the_runs_logical_time_and_attempts(settings, servers):
    site = servers()
    site.html("/error.html", "oops", status=503)
    start, end = datetime(2026, 11, 24), datetime(2026, 11, 25)
    daily = runs.new_run(settings, "daily", start, end, scope="fetch-log-time")
    ingest = runs.new_run(settings, "ingest", scope="fetch-log-time")
    for ref in (daily, ingest):
        run.discover(settings, ref, [site.url + "/missing.html", site.url + "/error.html"])
        run.fetch_stage(settings, ref)
        staging.write_json(staging.folder(settings, ref), "dq.json", [])
        run.load(settings, ref, start if ref is daily else None)
    con = duckdb.connect(str(settings.db_path), read_only=True)
    rows = con.execute("select run_id, regexp_extract(url, '[^/]+$'), http_status, attempts, logged_at "
                       "from fetch_log order by all").fetchall()
    con.close()
    started = None  # an ingest has no logical time (runs.started_at says when it ran)
    assert sorted(rows, key=str) == sorted([
        (daily["run_id"], "error.html", 503, 3, end), (daily["run_id"], "missing.html", 404, 1, end),
        (ingest["run_id"], "error.html", 503, 3, started), (ingest["run_id"], "missing.html", 404, 1, started),
    ], key=str)


class Trickle:
    """A loopback server that answers robots.txt at once and then, for every page, sends its status line
    and one byte a second: of its headers (phase 'headers') or of a 100 kB body (phase 'body')."""

    def __init__(self, phase: str):
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.phase = phase
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn):
        with conn:
            try:
                while request := conn.recv(65536):
                    if request.startswith(b"GET /robots.txt "):
                        conn.sendall(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
                        continue
                    if self.phase == "headers":
                        conn.sendall(b"HTTP/1.1 200 OK\r\nX-Slow: ")
                    else:
                        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 100000\r\n\r\n")
                    for _ in range(60):
                        time.sleep(1)
                        conn.sendall(b"a")
            except OSError:
                pass  # the client hung up, as it should


@pytest.mark.parametrize("phase", ["headers", "body"])
def test_a_server_that_sends_a_byte_a_second_is_cut_off_at_the_deadline(settings, phase):
    slow = Trickle(phase)
    url = slow.url + "/story.html"
    _, _, fetched, logs, elapsed = fetch_urls(settings, [url], fetch_timeout=1.5, fetch_attempts=1)
    slow.sock.close()

    assert fetched == {}
    assert logs[url]["reason"] == "not complete after 4.5 s"  # three timeouts for the whole exchange
    assert elapsed < 10


def test_connections_are_reused_per_host(settings, servers):
    hosts = [servers() for _ in range(3)]
    urls = [h.html(f"/p{i}.html", ARTICLE) for h in hosts for i in range(5)]
    seen: list[tuple[str, int]] = []
    for h in hosts:
        handler = h.httpd.RequestHandlerClass
        original = handler.setup

        def setup(self, original=original):  # once per TCP connection the server accepts
            seen.append(self.client_address)
            original(self)

        handler.setup = setup
    _, _, fetched, _, _ = fetch_urls(settings, urls, host_connections=1)

    assert len(fetched) == 15
    # robots.txt and five pages per host over one connection each (host_connections=1).
    assert len(seen) == 3 and all(h.count("/robots.txt") == 1 for h in hosts)


def test_a_kept_alive_connection_the_server_dropped_is_replaced_within_the_attempt(settings):
    # Each connection answers one request, then closes when the next one arrives: what a server whose
    # keep-alive timeout ends just as a pooled connection is reused looks like to the client.
    sock = socket.create_server(("127.0.0.1", 0))
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    connections = []

    def serve():
        while True:
            try:
                conn, _ = sock.accept()
            except OSError:
                return
            connections.append(conn)
            request = conn.recv(65536)
            body = b"" if request.startswith(b"GET /robots.txt ") else ARTICLE.encode()
            status = b"404 Not Found" if not body else b"200 OK"
            conn.sendall(b"HTTP/1.1 " + status + b"\r\nContent-Type: text/html\r\nContent-Length: "
                         + str(len(body)).encode() + b"\r\n\r\n" + body)
            conn.recv(65536)  # the next request on this connection is never answered
            conn.close()

    threading.Thread(target=serve, daemon=True).start()
    # One attempt: the resend is not a retry, so it needs none to spare.
    _, _, fetched, logs, _ = fetch_urls(settings, [url + "/story.html"], host_connections=1, fetch_attempts=1)
    sock.close()

    assert list(fetched) == [url + "/story.html"] and logs == {}
    assert len(connections) == 2  # robots.txt on the first, the page resent on a second
