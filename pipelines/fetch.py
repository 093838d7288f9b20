"""Fetching: our own HTTP client (a clear User-Agent, timeouts, a size cap, no private addresses unless
the source is marked local), local files, and content-addressed storage of what was fetched.

Article pages go through `Client`, which is polite as well: robots.txt, a delay and a connection cap
per host, retries with backoff that honour Retry-After, and gzip with a cap against compression bombs."""

from __future__ import annotations

import codecs
import gzip
import hashlib
import http.client
import ipaddress
import os
import re
import socket
import threading
import time
import urllib.error
import urllib.request
import urllib.robotparser
import zlib
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from email.utils import parsedate_to_datetime
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

TEXT_SUFFIXES = {".html": "html", ".htm": "html", ".txt": "txt", ".json": "json"}


class FetchError(Exception):
    """A URL or file that could not be fetched; `reason` is what fetch_log records."""

    def __init__(self, reason: str, http_status: int | None = None, *, retryable: bool = False,
                 retry_after: float | None = None, attempts: int = 0):
        super().__init__(reason)
        self.reason = reason
        self.http_status = http_status
        self.retryable = retryable
        self.retry_after = retry_after
        self.attempts = attempts


@dataclass(frozen=True)
class Response:
    url: str
    status: int
    content_type: str
    body: bytes
    date: str | None = None
    # The validators for the next conditional GET (feeds and sitemaps).
    etag: str | None = None
    last_modified: str | None = None


def get(url: str, *, user_agent: str, timeout: float, max_bytes: int, allow_private: bool = False,
        headers: dict[str, str] | None = None) -> Response:
    """GET a URL, refusing private, loopback and link-local targets (each redirect is checked again)
    unless allow_private is set for a source marked local. `headers` are sent as well; when they make
    the request conditional, a 304 comes back as a Response with status 304 and no body.

    Raises:
        FetchError: with the reason and the HTTP status when there was one.
    """
    _check_target(url, allow_private)
    opener = urllib.request.build_opener(_CheckedRedirects(allow_private))
    request = urllib.request.Request(url, headers={"User-Agent": user_agent, "Accept-Encoding": "identity",
                                                   **(headers or {})})
    try:
        with opener.open(request, timeout=timeout) as resp:
            body = resp.read(max_bytes + 1)
            if len(body) > max_bytes:
                raise FetchError(f"body larger than {max_bytes} bytes", resp.status)
            return Response(resp.geturl(), resp.status, resp.headers.get("Content-Type", ""), body,
                            resp.headers.get("Date"), resp.headers.get("ETag"), resp.headers.get("Last-Modified"))
    except urllib.error.HTTPError as exc:
        if exc.code == 304 and headers:
            return Response(url, 304, "", b"", exc.headers.get("Date"), exc.headers.get("ETag"),
                            exc.headers.get("Last-Modified"))
        raise FetchError(f"HTTP {exc.code} {exc.reason}", exc.code) from exc
    except urllib.error.URLError as exc:
        reason = exc.reason
        if isinstance(reason, FetchError):
            raise reason from exc
        raise FetchError(f"connection failed: {reason}") from exc
    except TimeoutError as exc:
        raise FetchError(f"timed out after {timeout:g} s") from exc
    except OSError as exc:
        raise FetchError(f"connection failed: {exc}") from exc


def read_file(url: str, max_bytes: int) -> bytes:
    """The bytes of a file:// URL (or a path)."""
    path = file_path(url)
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise FetchError(f"file larger than {max_bytes} bytes")
        return path.read_bytes()
    except OSError as exc:
        raise FetchError(f"cannot read file: {exc.strerror or exc}") from exc


def file_path(url: str) -> Path:
    return Path(unquote(urlsplit(url).path)) if url.startswith("file://") else Path(url)


def kind_of(url: str, content_type: str = "") -> str | None:
    """'html', 'txt' or 'json' for what we can extract from; None for anything else (PDF, images)."""
    ct = content_type.split(";")[0].strip().lower()
    if ct in ("text/html", "application/xhtml+xml"):
        return "html"
    if ct == "application/json":
        return "json"
    if ct == "text/plain":
        return "txt"
    if ct:
        return None
    return TEXT_SUFFIXES.get(Path(urlsplit(url).path).suffix.lower())


def store_raw(raw_dir: Path, body: bytes) -> str:
    """Keep the fetched bytes, gzip-compressed under their SHA-256, so any date can be rebuilt without
    refetching; storing the same bytes twice is a no-op."""
    digest = hashlib.sha256(body).hexdigest()
    path = raw_path(raw_dir, digest)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        # One temporary name per thread: two threads often store the same bytes (one page, two URLs).
        tmp = path.with_suffix(f".{os.getpid()}-{threading.get_ident()}.tmp")
        tmp.write_bytes(gzip.compress(body, mtime=0))
        tmp.replace(path)
    return digest


def load_raw(raw_dir: Path, digest: str) -> bytes:
    return gzip.decompress(raw_path(raw_dir, digest).read_bytes())


def raw_path(raw_dir: Path, digest: str) -> Path:
    return raw_dir / digest[:2] / f"{digest}.gz"


# ---------------------------------------------------------------- polite fetching of article pages


RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
MAX_REDIRECTS = 5
# Google reads the first 500 KiB of a robots.txt; more is almost always a misconfigured server.
ROBOTS_MAX_BYTES = 500 * 1024
BINARY_TYPES = ("image/", "audio/", "video/", "font/", "application/pdf", "application/octet-stream",
                "application/zip", "application/gzip", "application/x-gzip", "application/msword",
                "application/vnd.")
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)


@dataclass
class _Host:
    """What the client knows of one host (scheme://host:port): when it may be asked again, how many
    requests are open, and its robots.txt rules (None until read; a string is why everything is refused)."""

    delay: float
    next_at: float = 0.0
    in_flight: int = 0
    pending: set[int] = field(default_factory=set)
    robots: urllib.robotparser.RobotFileParser | str | None = None
    robots_lock: threading.Lock = field(default_factory=threading.Lock)
    stopped: str | None = None  # why no more requests go to the host in this run


@dataclass(frozen=True)
class _Redirect:
    status: int
    location: str


class Client:
    """An HTTP client for article pages that any number of threads share.

    Per host (scheme, name and port: robots.txt and rate limits belong to an authority) it reads
    robots.txt once, waits at least `host_delay` seconds between the starts of two requests (longer if
    robots.txt asks with Crawl-delay, up to `max_crawl_delay`) and keeps at most `per_host` requests
    open. 429, 5xx, timeouts and dropped connections are retried up to `attempts` times in all, after
    Retry-After or an exponential backoff from `backoff` seconds; the wait pauses the whole host, since
    an overloaded server is overloaded for every page. A Retry-After beyond `max_retry_after` ends the
    attempts with that reason.

    robots.txt follows RFC 9309 as Google applies it: a 4xx answer (no robots.txt) allows everything;
    a 429, a 5xx or an unreachable server disallows the whole host for this run (the client lives for
    one fetch stage), because a server that cannot serve robots.txt cannot say what it forbids.
    """

    def __init__(self, *, user_agent: str, timeout: float, max_bytes: int, host_delay: float = 1.0,
                 max_crawl_delay: float = 30.0, per_host: int = 2, attempts: int = 3, backoff: float = 1.0,
                 max_retry_after: float = 60.0):
        self.user_agent = user_agent
        self.timeout = timeout
        self.max_bytes = max_bytes
        self.host_delay = host_delay
        self.max_crawl_delay = max_crawl_delay
        self.per_host = max(1, per_host)
        self.attempts = max(1, attempts)
        self.backoff = backoff
        self.max_retry_after = max_retry_after
        self._hosts: dict[str, _Host] = {}
        self._cond = threading.Condition()

    def get(self, url: str, *, allow_private: bool = False) -> Response:
        """GET an article page, following redirects one hop at a time: each hop is checked against
        private addresses (unless allow_private), robots.txt and its host's rate limit.

        Raises:
            FetchError: with the reason, the HTTP status when there was one, and the attempts made.
        """
        seen, made = {url}, 0
        try:
            for _ in range(MAX_REDIRECTS + 1):
                _check_target(url, allow_private)
                key = _authority(url)
                self._obey_robots(url, key, allow_private)
                answer, n = self._attempt(url, key, page=True)
                made += n
                if isinstance(answer, Response):
                    return answer
                target = urljoin(url, answer.location)
                if target in seen:
                    raise FetchError(f"redirect loop: {target} was already visited", answer.status)
                seen.add(target)
                url = target
            raise FetchError(f"too many redirects (more than {MAX_REDIRECTS})", answer.status)
        except FetchError as exc:
            exc.attempts += made  # every request made for the page, over all hops
            raise
        except ValueError as exc:  # urlsplit on a port that is not a number, and the like
            raise FetchError(f"invalid URL: {exc}", attempts=made) from exc

    def check_robots(self, url: str, *, allow_private: bool = False) -> None:
        """Raise FetchError when robots.txt forbids the URL (or cannot be read): for requests this client
        does not make itself, such as the conditional GET of a feed or sitemap."""
        _check_target(url, allow_private)
        self._obey_robots(url, _authority(url), allow_private)

    def map(self, fn: Callable, items: Sequence, url_of: Callable[[object], str], workers: int) -> list:
        """fn(item) for every item on `workers` threads; the results in the items' order.

        An item is handed to a thread only when its host can take a request: a host with thousands of
        pages or a slow one holds at most `per_host` threads, and the others serve other hosts. Items
        whose URL is not http(s) (local files) are not limited.
        """
        queues: dict[str, deque[int]] = {}
        for i, item in enumerate(items):
            queues.setdefault(_authority(url_of(item)), deque()).append(i)
        results: list = [None] * len(items)

        def take() -> tuple[int, str] | None:
            me = threading.get_ident()
            with self._cond:
                while True:
                    for key in [k for k, q in queues.items() if not q]:
                        del queues[key]
                    if not queues:
                        return None
                    now, soonest = time.monotonic(), None
                    for key, queue in queues.items():
                        if not key:
                            return queue.popleft(), key
                        host = self._host(key)
                        if host.pending or host.in_flight >= self.per_host:
                            continue
                        if host.next_at <= now:
                            # Until this thread's request starts, the host's next turn is not yet taken.
                            host.pending.add(me)
                            return queue.popleft(), key
                        soonest = host.next_at if soonest is None else min(soonest, host.next_at)
                    self._cond.wait(None if soonest is None else soonest - now)

        def work() -> None:
            while (job := take()) is not None:
                i, key = job
                try:
                    results[i] = fn(items[i])
                finally:
                    if key:
                        with self._cond:
                            self._host(key).pending.discard(threading.get_ident())
                            self._cond.notify_all()

        with ThreadPoolExecutor(max(1, workers)) as pool:
            for f in [pool.submit(work) for _ in range(max(1, min(workers, len(items))))]:
                f.result()
        return results

    # ------------------------------------------------------------ hosts and turns

    def _host(self, key: str) -> _Host:
        host = self._hosts.get(key)
        if host is None:
            host = self._hosts[key] = _Host(delay=self.host_delay)
        return host

    def _acquire(self, key: str) -> None:
        with self._cond:
            host = self._host(key)
            host.pending.discard(threading.get_ident())
            while True:
                now = time.monotonic()
                if host.in_flight < self.per_host and now >= host.next_at:
                    host.in_flight += 1
                    host.next_at = now + host.delay
                    self._cond.notify_all()  # the scheduler may wait on this host's next turn
                    return
                self._cond.wait(None if host.in_flight >= self.per_host else host.next_at - now)

    def _release(self, key: str, pause: float = 0.0) -> None:
        with self._cond:
            host = self._host(key)
            host.in_flight -= 1
            if pause:
                host.next_at = max(host.next_at, time.monotonic() + pause)
            self._cond.notify_all()

    def _attempt(self, url: str, key: str, page: bool) -> tuple[Response | _Redirect, int]:
        """The answer to one hop, retried as needed, and the number of requests it took."""
        for attempt in range(1, self.attempts + 1):
            with self._cond:
                stopped = self._host(key).stopped
            if stopped:
                raise FetchError(stopped, attempts=attempt - 1)
            self._acquire(key)
            pause = 0.0
            try:
                return _exchange(url, user_agent=self.user_agent, timeout=self.timeout,
                                 max_bytes=self.max_bytes, page=page), attempt
            except FetchError as exc:
                exc.attempts = attempt
                if not exc.retryable:
                    raise
                if attempt == self.attempts:
                    exc.reason += f" (after {attempt} attempts)"
                    raise
                wait = exc.retry_after if exc.retry_after is not None else self.backoff * 2 ** (attempt - 1)
                if wait > self.max_retry_after:
                    # The server asked the whole host to be left alone longer than a run waits: its
                    # other pages are not requested either.
                    self._host(key).stopped = (f"not requested: {key} asked for a pause of {wait:g} s "
                                               f"(Retry-After), beyond the {self.max_retry_after:g} s we wait")
                    raise FetchError(f"{exc.reason}: Retry-After {wait:g} s is beyond the "
                                     f"{self.max_retry_after:g} s we wait; not retried", exc.http_status,
                                     attempts=attempt) from exc
                pause = wait
            finally:
                self._release(key, pause)
        raise AssertionError("unreachable")

    # ------------------------------------------------------------ robots.txt

    def _obey_robots(self, url: str, key: str, allow_private: bool) -> None:
        with self._cond:
            host = self._host(key)
        with host.robots_lock:
            if host.robots is None:
                host.robots = self._read_robots(key, allow_private)
                asked = None if isinstance(host.robots, str) else host.robots.crawl_delay(self.user_agent)
                with self._cond:
                    if asked is not None:
                        host.delay = min(max(self.host_delay, float(asked)), self.max_crawl_delay)
                    # The robots.txt request took no turn but counts towards the host's delay.
                    host.next_at = max(host.next_at, time.monotonic() + host.delay)
        rules = host.robots
        if isinstance(rules, str):
            raise FetchError(rules)
        if not rules.can_fetch(self.user_agent, url):
            raise FetchError("disallowed by robots.txt")

    def _read_robots(self, key: str, allow_private: bool) -> urllib.robotparser.RobotFileParser | str:
        """The host's rules. The request takes no turn, so a thread never holds a turn on one host
        while it waits for another host's robots.txt (after a redirect), which could deadlock."""
        rules = urllib.robotparser.RobotFileParser()
        url = key + "/robots.txt"
        try:
            for _ in range(MAX_REDIRECTS + 1):
                _check_target(url, allow_private)
                answer = _exchange(url, user_agent=self.user_agent, timeout=self.timeout,
                                   max_bytes=min(self.max_bytes, ROBOTS_MAX_BYTES), page=False)
                if isinstance(answer, Response):
                    rules.parse(answer.body.decode("utf-8", "replace").splitlines())
                    _longest_match_first(rules)
                    return rules
                url = urljoin(url, answer.location)
            rules.allow_all = True  # RFC 9309: more than five redirects is as if there were no file
            return rules
        except FetchError as exc:
            status = exc.http_status
            if status is None or status == 429 or status >= 500:
                return (f"robots.txt could not be read ({exc.reason}); the host is treated as disallowing "
                        "everything for this run")
            rules.allow_all = True  # 4xx: the site has no robots.txt (and a too-large one is a 200)
            return rules


def _longest_match_first(rules: urllib.robotparser.RobotFileParser) -> None:
    """urllib.robotparser applies the first rule that matches; RFC 9309 and Google apply the longest,
    Allow winning a tie. Sorting each group's rules makes the first match the longest one, so
    `Disallow: /` followed by `Allow: /news/` allows /news/ as every major crawler does."""
    for entry in [*rules.entries, rules.default_entry]:
        if entry is not None:
            entry.rulelines.sort(key=lambda r: (-len(r.path), not r.allowance))


def _authority(url: str) -> str:
    """scheme://host:port of an http(s) URL, '' for anything else (local files)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return ""
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        return ""  # Client.get refuses it with the reason
    return f"{parts.scheme}://{parts.hostname.lower()}:{port}"


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """Redirects come back as answers, so that each hop is checked and rate-limited as a request."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


def _exchange(url: str, *, user_agent: str, timeout: float, max_bytes: int, page: bool) -> Response | _Redirect:
    """One request, no redirect followed. Failures raise FetchError, marked retryable when another
    attempt may succeed (429, 5xx, timeouts, dropped connections)."""
    headers = {"User-Agent": user_agent, "Accept-Encoding": "gzip, deflate",
               "Accept": "text/html,application/xhtml+xml,text/plain;q=0.9,*/*;q=0.1"}
    opener = urllib.request.build_opener(_NoRedirects())
    try:
        with opener.open(urllib.request.Request(url, headers=headers), timeout=timeout) as resp:
            ctype = resp.headers.get("Content-Type", "")
            if page:
                _check_page_type(resp.geturl(), ctype, resp.status)
            body = _read_body(resp, max_bytes, timeout)
            return Response(url, resp.status, ctype, body, resp.headers.get("Date"))
    except urllib.error.HTTPError as exc:
        with exc:
            location = exc.headers.get("Location")
            if exc.code in REDIRECT_STATUSES and location:
                return _Redirect(exc.code, location)
            raise FetchError(f"HTTP {exc.code} {exc.reason}", exc.code, retryable=exc.code in RETRY_STATUSES,
                             retry_after=_retry_after(exc.headers)) from None
    except urllib.error.URLError as exc:
        if isinstance(exc.reason, TimeoutError):
            raise FetchError(f"timed out after {timeout:g} s", retryable=True) from exc
        if isinstance(exc.reason, socket.gaierror):
            host = urlsplit(url).hostname
            raise FetchError(f"cannot resolve host {host}: {exc.reason.strerror}") from exc
        raise FetchError(f"connection failed: {exc.reason}", retryable=True) from exc
    except TimeoutError as exc:
        raise FetchError(f"timed out after {timeout:g} s", retryable=True) from exc
    except http.client.InvalidURL as exc:
        raise FetchError(f"invalid URL: {exc}") from exc
    except (http.client.HTTPException, OSError) as exc:
        raise FetchError(f"connection failed: {exc!r}", retryable=True) from exc


def _check_page_type(url: str, content_type: str, status: int) -> None:
    """Refuse what is not an article page before its body is downloaded."""
    ctype = content_type.split(";")[0].strip().lower()
    if ctype.startswith(BINARY_TYPES):
        raise FetchError(f"binary content refused (content type {ctype!r})", status)
    if kind_of(url, content_type) is None and ctype:
        raise FetchError(f"not an article page (content type {content_type!r})", status)


def _read_body(resp, max_bytes: int, timeout: float) -> bytes:
    """The body, decompressed; at most max_bytes both as sent and as decompressed (a small gzip can
    inflate to gigabytes). A server that trickles bytes gets three timeouts for the whole body."""
    status = resp.status
    length = resp.headers.get("Content-Length")
    if length and length.strip().isdigit() and int(length) > max_bytes:
        raise FetchError(f"body larger than {max_bytes} bytes (Content-Length {int(length)})", status)
    encoding = (resp.headers.get("Content-Encoding") or "identity").strip().lower()
    if encoding in ("gzip", "x-gzip"):
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    elif encoding == "deflate":
        inflater = None  # zlib-wrapped or raw: decided on the first bytes
    elif encoding == "identity":
        inflater = False
    else:
        raise FetchError(f"unsupported Content-Encoding {encoding!r}", status)
    deadline = time.monotonic() + 3 * timeout
    sent, out = 0, bytearray()
    while chunk := resp.read(64 * 1024):
        sent += len(chunk)
        if sent > max_bytes:
            raise FetchError(f"body larger than {max_bytes} bytes", status)
        if time.monotonic() > deadline:
            raise FetchError(f"body not complete after {3 * timeout:g} s", status, retryable=True)
        if inflater is False:
            out += chunk
            continue
        if inflater is None:
            inflater = zlib.decompressobj(zlib.MAX_WBITS if chunk[0] & 0x0F == 8 else -zlib.MAX_WBITS)
        try:
            out += inflater.decompress(chunk, max_bytes + 1 - len(out))
        except zlib.error as exc:
            raise FetchError(f"invalid {encoding} body: {exc}", status) from exc
        if len(out) > max_bytes:
            raise FetchError(f"{encoding} body inflates past {max_bytes} bytes", status)
    if inflater and not inflater.eof:
        raise FetchError(f"incomplete {encoding} body", status, retryable=True)
    return bytes(out)


def _retry_after(headers) -> float | None:
    """Retry-After in seconds: a number, or an HTTP date measured against the server's own Date."""
    value = (headers.get("Retry-After") or "").strip()
    if not value:
        return None
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
        said = headers.get("Date")
        # The wall clock only measures a wait here; it never reaches stored data.
        now = parsedate_to_datetime(said).timestamp() if said else time.time()
        return max(0.0, when.timestamp() - now)
    except (TypeError, ValueError, IndexError):
        return None


def charset_of(body: bytes, content_type: str = "") -> str:
    """The encoding to decode an HTML or text page with.

    Valid UTF-8 wins over any declaration: a UTF-8 page labelled Latin-1 is the commonest mislabel,
    and non-ASCII text in another encoding is almost never valid UTF-8 by chance. Otherwise the
    Content-Type header's charset, then a <meta> one, if the body decodes with it; otherwise a guess.
    Latin-1 is read as windows-1252, as browsers do (its 0x80-0x9F are the curly quotes pages mean).
    """
    try:
        body.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        pass
    declared = re.search(r"charset\s*=\s*[\"']?([\w.:-]+)", content_type, re.I)
    meta = _META_CHARSET.search(body[:4096])
    for name in (declared[1] if declared else None, meta[1].decode("ascii") if meta else None):
        codec = _codec(name)
        if codec and codec != "utf-8":
            try:
                body.decode(codec)
                return codec
            except UnicodeDecodeError:
                pass
    return _guess_charset(body)


def _codec(name: str | None) -> str | None:
    if not name:
        return None
    try:
        codec = codecs.lookup(name).name
    except LookupError:
        return None
    return "cp1252" if codec in ("latin-1", "iso8859-1", "ascii") else codec


def _guess_charset(body: bytes) -> str:
    """charset_normalizer's guess, but windows-1252 when it is among the plausible ones: on a short
    Western European page the detector's first pick is often a Baltic or Central European code page
    that turns é into ė."""
    from charset_normalizer import from_bytes

    matches = list(from_bytes(body))
    if not matches:
        return "cp1252"
    best = matches[0]
    plausible = {c for m in matches if m.chaos <= best.chaos + 0.05 for c in m.could_be_from_charset}
    return "cp1252" if "cp1252" in plausible else best.encoding


def _check_target(url: str, allow_private: bool) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise FetchError(f"unsupported URL scheme {parts.scheme!r}")
    if not parts.hostname:
        raise FetchError("URL has no host")
    if allow_private:
        return
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or 80, proto=socket.IPPROTO_TCP)
    except socket.gaierror as exc:
        raise FetchError(f"cannot resolve host {parts.hostname}: {exc.strerror}") from exc
    for info in infos:
        ip = ipaddress.ip_address(info[4][0])
        if ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_reserved or ip.is_multicast:
            raise FetchError(f"refused: {parts.hostname} resolves to non-public address {ip} "
                             "(mark the source local to allow it)")


class _CheckedRedirects(urllib.request.HTTPRedirectHandler):
    max_redirections = 5

    def __init__(self, allow_private: bool):
        self.allow_private = allow_private

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        _check_target(newurl, self.allow_private)
        return super().redirect_request(req, fp, code, msg, headers, newurl)


# ---------------------------------------------------------------- conditional GET for feeds and sitemaps


def get_feed(url: str, *, user_agent: str, timeout: float, max_bytes: int, allow_private: bool = False,
             etag: str | None = None, last_modified: str | None = None) -> Response:
    """get() a feed or sitemap, conditionally when the last answer had validators (If-None-Match,
    If-Modified-Since). A 304 keeps the validators it was asked with unless it sent new ones."""
    conditional = {k: v for k, v in (("If-None-Match", etag), ("If-Modified-Since", last_modified)) if v}
    resp = get(url, user_agent=user_agent, timeout=timeout, max_bytes=max_bytes, allow_private=allow_private,
               headers=conditional)
    if resp.status == 304:
        return replace(resp, etag=resp.etag or etag, last_modified=resp.last_modified or last_modified)
    return resp


def gunzip(body: bytes, max_bytes: int) -> bytes:
    """Decompress a gzip body (a .xml.gz sitemap), refusing one that inflates past max_bytes (a gzip bomb)."""
    import zlib

    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        out = inflater.decompress(body, max_bytes + 1)
    except zlib.error as exc:
        raise FetchError(f"not valid gzip: {exc}") from exc
    if len(out) > max_bytes or inflater.unconsumed_tail:
        raise FetchError(f"gzip body inflates past {max_bytes} bytes")
    return out
