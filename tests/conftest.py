"""Shared fixtures: settings in a temporary data folder, real HTTP servers on 127.0.0.1, and a database on
each storage backend (a DuckDB file; a DuckLake lake on the local PostgreSQL)."""

from __future__ import annotations

import email
import ipaddress
import os
import shutil
import socket
import subprocess
import threading
import time
import uuid
from email import policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from pipelines import guard, staging
from pipelines.lake import Lake
from pipelines.settings import REPO_ROOT, Settings

SHARED = REPO_ROOT.parent / "shared"
SEED = SHARED / "seeds" / "000_6ef03a1e55de8844.txt"


@pytest.fixture(scope="module")
def nlp():
    """The English entity pipeline, as the analyse stage loads it (a module may define its own)."""
    from pipelines import entities
    from pipelines.settings import DEFAULT_MODEL

    return entities.load_model(DEFAULT_MODEL)


def claims_of(nlp, text: str) -> list[tuple]:
    """(kind, text, speaker words, speaker entity's name) of each claim of `text`, its offsets checked."""
    from pipelines import claims, entities

    mentions, ents = entities.from_doc("a1", text, nlp(entities.normalise(text)))
    names = {e.entity_id: e.name for e in ents}
    out = claims.extract("a1", text, mentions)
    for c in out:
        assert text[c.start_char:c.end_char] == c.text
    return [(c.kind, c.text, c.speaker, names.get(c.speaker_entity_id)) for c in out]


def needs_shared(path: Path):
    """Skip (with the reason) where the workplace's shared data is absent, as in a user's clone."""
    return pytest.mark.skipif(not path.exists(), reason=f"{path} is not present (shared evaluation data)")


def debian_tool(binary: Path, package: str) -> Path:
    """A tool from Debian's packages: installed with apt-get when missing and we are root (as in CI),
    else the calling test is skipped with the reason."""
    if not binary.exists():
        if os.geteuid() != 0 or not shutil.which("apt-get"):
            pytest.skip(f"{binary} is missing and cannot be installed here (needs root and apt-get)")
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        try:
            subprocess.run(f"apt-get update && apt-get install -y --no-install-recommends {package}", shell=True,
                           env=env, capture_output=True, timeout=900, check=True)
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
            output = getattr(exc, "stderr", b"") or b""
            pytest.skip(f"{binary} is missing and `apt-get install {package}` failed: "
                        f"{output.decode(errors='replace')[-300:] or exc}")
        if not binary.exists():
            pytest.skip(f"apt-get installed {package} but {binary} is still missing")
    return binary


@pytest.fixture(autouse=True)
def no_politeness_delay(monkeypatch):
    """Test servers are ours on loopback: no delay between requests to one host, unless a test sets one
    (child processes, such as the CLI's, inherit this)."""
    monkeypatch.setenv("NEWSMON_HOST_DELAY", "0")
    monkeypatch.setenv("NEWSMON_RETRY_BACKOFF", "0.05")


# The machine's PostgreSQL (trust auth); each lake a test makes gets a database of its own, dropped after.
PG = "host=127.0.0.1 port=5432 user=postgres"


def new_lake(tmp_path: Path) -> Lake:
    """A fresh lake: a new catalog database on the local PostgreSQL, data in a folder of the test's. Skips
    the test, saying why, where no PostgreSQL answers."""
    import psycopg2

    name = f"newsmon_test_{uuid.uuid4().hex[:12]}"
    try:
        admin = psycopg2.connect(f"{PG} dbname=postgres connect_timeout=3")
    except psycopg2.OperationalError as exc:
        pytest.skip(f"the ducklake backend needs PostgreSQL on 127.0.0.1:5432: {str(exc).strip()}")
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f"create database {name}")
    admin.close()
    return Lake(f"{PG} dbname={name}", str(tmp_path / "lake"))


def drop_lake(lake: Lake) -> None:
    import psycopg2

    name = lake.catalog.rsplit("dbname=", 1)[1]
    admin = psycopg2.connect(f"{PG} dbname=postgres")
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f"drop database if exists {name} with (force)")
    admin.close()


@pytest.fixture(params=["duckdb", "ducklake"])
def database(request, tmp_path: Path):
    """Where a test's database lives, once per backend: a DuckDB file, then a lake."""
    if request.param == "duckdb":
        yield tmp_path / "n.duckdb"
        return
    lake = new_lake(tmp_path)
    yield lake
    drop_lake(lake)


class S3Server:
    """moto in server mode on a loopback port (from .venv-s3, `make venv`): a real S3 API over HTTP that
    DuckDB's httpfs talks to, as to MinIO or AWS. Only what the tests need of a client: make a bucket,
    list what is in it."""

    def __init__(self, tmp_path: Path):
        binary = REPO_ROOT / ".venv-s3" / "bin" / "moto_server"
        if not binary.exists():
            pytest.skip(f"{binary} is missing: `make venv` installs the S3 test server from tools/s3-server.lock")
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self.log = open(tmp_path / "moto.log", "w")  # noqa: SIM115 (closed in stop)
        self.proc = subprocess.Popen([str(binary), "-H", "127.0.0.1", "-p", str(self.port)],
                                     stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or self.proc.poll() is not None:
                    self.stop()
                    raise RuntimeError(f"moto did not start: {(tmp_path / 'moto.log').read_text()}") from None
                time.sleep(0.2)
        self.url = f"http://127.0.0.1:{self.port}"

    def make_bucket(self, name: str) -> None:
        import urllib.request

        urllib.request.urlopen(urllib.request.Request(f"{self.url}/{name}", method="PUT"), timeout=10).close()

    def keys(self, bucket: str) -> list[str]:
        import re
        import urllib.request

        with urllib.request.urlopen(f"{self.url}/{bucket}?list-type=2&max-keys=1000", timeout=10) as resp:
            return re.findall(r"<Key>([^<]+)</Key>", resp.read().decode())

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)
        self.log.close()


@pytest.fixture
def s3(tmp_path: Path):
    server = S3Server(tmp_path)
    yield server
    server.stop()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    data = tmp_path / "data"
    return Settings.from_env({
        "NEWSMON_DATA_DIR": str(data),
        "NEWSMON_SOURCES": str(tmp_path / "sources.yaml"),
        "NEWSMON_WATCHLIST": str(tmp_path / "watchlist.yaml"),
        "NEWSMON_HOST_DELAY": "0",
        "NEWSMON_RETRY_BACKOFF": "0.05",
    })


class Site:
    """A loopback HTTP server whose routes a test sets (path -> status, content type, body); it records
    each request's path and headers, answers conditional GETs for routes served with an ETag or a
    Last-Modified, and a route can wait on a barrier (to prove requests overlap)."""

    def __init__(self, ctype: str = "text/html; charset=utf-8"):
        self.ctype = ctype
        routes, seen = self.routes, self.seen = {}, []

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802
                seen.append((self.path, dict(self.headers)))
                status, ctype, body, etag, modified, barrier = routes.get(
                    self.path, (404, "text/plain", b"not found", None, None, None))
                if barrier is not None:
                    barrier.wait()
                if (etag and self.headers.get("If-None-Match") == etag) or (
                        modified and self.headers.get("If-Modified-Since") == modified):
                    self.send_response(304)
                    self.end_headers()
                    return
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                if etag:
                    self.send_header("ETag", etag)
                if modified:
                    self.send_header("Last-Modified", modified)
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def add(self, path: str, body: bytes | str, ctype: str | None = None, status: int = 200,
            etag: str | None = None, modified: str | None = None, barrier=None) -> str:
        self.routes[path] = (status, ctype or self.ctype, body.encode() if isinstance(body, str) else body,
                             etag, modified, barrier)
        return self.url + path

    def paths(self) -> list[str]:
        return [p for p, _ in self.seen]

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def site():
    s = Site()
    yield s
    s.close()


def page(title: str, paragraphs: list[str], published: str = "2026-11-24T09:00:00Z", site_name: str = "Test Gazette"):
    """An article page shaped like a real news site's: header, cookie notice, story, footer."""
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{title} | {site_name}</title>
<meta property="og:title" content="{title}"><meta property="og:site_name" content="{site_name}">
<meta property="article:published_time" content="{published}"></head><body>
<header><div class="brand">{site_name}</div><nav><a href="/">Home</a> <a href="/world">World</a></nav></header>
<div class="cookie">This website uses cookies to improve your experience. Accept Read More</div>
<main><article><h1>{title}</h1><p class="byline">By Staff Reporter</p>{body}</article></main>
<footer>Copyright 2026 {site_name}. All rights reserved.</footer></body></html>"""


# ---------------------------------------------------------------- alert receivers


class Inbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's interface
        self.messages.append(email.message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"


@pytest.fixture
def smtp():
    inbox = Inbox()
    with socket.socket() as sock:  # aiosmtpd checks readiness by connecting, so it needs a real port
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    from aiosmtpd.controller import Controller

    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    inbox.uri = f"smtp://127.0.0.1:{port}"
    yield inbox
    controller.stop()


class Receiver:
    """An HTTP endpoint that records POSTs; `fail` answers 500 that many times first."""

    def __init__(self):
        self.posts, self.fail = [], 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if outer.fail:
                    outer.fail -= 1
                    self.send_response(500)
                else:
                    outer.posts.append((dict(self.headers), body))
                    self.send_response(200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/hook/T000/SECRET-TOKEN"

    close = Site.close


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


class FakeInternet(guard.Network):
    """The internet's content, faked for the HTTP client: DNS answers (per name, a list of addresses for
    each lookup in turn, the last one repeated) and public addresses routed to loopback servers. The
    client's guard is the real one and decides on the addresses given here."""

    def __init__(self):
        self.dns: dict[str, list[list[str]]] = {}
        self.routes: dict[tuple[str, int], tuple[str, int]] = {}
        self.lookups: list[str] = []

    def route(self, address: tuple[str, int], server_url: str) -> None:
        host, port = server_url.split("//")[1].split(":")
        self.routes[address] = (host, int(port))

    def resolve(self, host: str, port: int) -> list[tuple[int, tuple]]:
        self.lookups.append(host)
        try:
            answers = [str(ipaddress.ip_address(host))]
        except ValueError:
            queue = self.dns.get(host)
            if not queue:
                raise socket.gaierror(socket.EAI_NONAME, "Name or service not known") from None
            answers = queue.pop(0) if len(queue) > 1 else queue[0]
        return [(socket.AF_INET, (ip, port)) for ip in answers]

    def connect(self, family: int, address: tuple, timeout: float | None) -> socket.socket:
        return super().connect(family, self.routes.get(address, address), timeout)


@pytest.fixture
def internet(monkeypatch) -> FakeInternet:
    fake = FakeInternet()
    monkeypatch.setattr(guard, "NETWORK", fake)
    return fake


class Server:
    """A loopback server: path -> (status, headers, body) or a function of the request returning one.
    It records when each request arrived and the most requests it had open at once."""

    def __init__(self):
        self.routes: dict = {}
        self.hits: list[tuple[str, float]] = []
        self.open = self.max_open = 0
        lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as real servers answer

            def do_GET(self):  # noqa: N802
                path = urlsplit(self.path).path
                with lock:
                    server.hits.append((path, time.monotonic()))
                    server.open += 1
                    server.max_open = max(server.max_open, server.open)
                try:
                    route = server.routes.get(path, (404, {"Content-Type": "text/plain"}, b"not found"))
                    status, headers, body = route(self) if callable(route) else route
                finally:
                    # Closed before the response goes out: a client that has it may send its next request
                    # before this thread got back here, and that request would be counted one too many.
                    with lock:
                        server.open -= 1
                try:
                    self.send_response(status)
                    for k, v in headers.items():
                        self.send_header(k, v)
                    if "Content-Length" not in headers and "no-length" not in headers.get("X-Test", ""):
                        self.send_header("Content-Length", str(len(body)))
                    elif "Content-Length" not in headers:  # the body ends when the connection does
                        self.send_header("Connection", "close")
                        self.close_connection = True
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up on purpose (a size cap)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def html(self, path: str, body: str | bytes, ctype: str = "text/html; charset=utf-8", status: int = 200,
             **headers) -> str:
        data = body.encode() if isinstance(body, str) else body
        self.routes[path] = (status, {"Content-Type": ctype, **headers}, data)
        return self.url + path

    def times(self, path: str | None = None) -> list[float]:
        return [t for p, t in self.hits if path is None or p == path]

    def count(self, path: str) -> int:
        return len(self.times(path))


@pytest.fixture
def servers():
    made: list[Server] = []

    def make() -> Server:
        made.append(Server())
        return made[-1]

    yield make
    for s in made:
        s.httpd.shutdown()
        s.httpd.server_close()


def fetch_urls(settings, urls, local=True, **overrides):
    """run.fetch_stage over the URLs (as an ingest's candidates); the fetched rows and the failures by URL
    (robots_notes(ref) has the stage's notes on robots.txt files)."""
    import dataclasses
    import json
    from dataclasses import asdict

    from pipelines import run, runs
    from pipelines.models import Candidate

    s = dataclasses.replace(settings, **overrides)
    ref = runs.new_run(s, "ingest", scope=repr(urls))
    staging.write_rows(s, ref, "candidates", [asdict(Candidate(u, "wire", local=local)) for u in urls])
    t0 = time.monotonic()
    counts = run.fetch_stage(s, ref)
    elapsed = time.monotonic() - t0
    fetched = {r["url"]: r for r in staging.read_rows(s, ref, "fetched")}
    logged = json.loads((Path(ref["dir"]) / "log_fetch.json").read_text())
    logs = {r["url"]: r for r in logged if r["stage"] == "fetch"}
    assert counts["fetched"] == len(fetched) and counts["fetch_failed"] == len(logs)
    assert counts["robots_notes"] == len(logged) - len(logs)
    assert len(fetched) + len(logs) == len(urls)
    return s, ref, fetched, logs, elapsed


def robots_notes(ref: dict) -> dict[str, str]:
    """The fetch stage's fetch_log rows about robots.txt files: URL -> note."""
    import json

    logged = json.loads((Path(ref["dir"]) / "log_fetch.json").read_text())
    return {r["url"]: r["reason"] for r in logged if r["stage"] == "robots"}
