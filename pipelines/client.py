"""The one HTTP client for feeds, sitemaps, robots.txt and article pages, on urllib3's connection pools.

Per host (scheme, name and port: robots.txt and rate limits belong to an authority) it reads robots.txt
once, waits at least `host_delay` seconds between the starts of two requests (longer if robots.txt asks,
up to `max_crawl_delay`), keeps at most `per_host` requests open and reuses their connections. 429,
5xx, timeouts and dropped connections are retried up to `attempts` times in all, after Retry-After or an
exponential backoff; the wait pauses the whole host, since an overloaded server is overloaded for every
page. Redirects are followed one hop at a time, each hop checked, rate-limited and robots-checked as a
request of its own. Bodies are capped both as sent and as inflated (a small gzip can inflate to
gigabytes), and a whole exchange has a deadline, so a server that trickles a byte a second is cut off.

Only public addresses are connected to unless the source is marked local (`pipelines.guard`). Proxies
from the environment are not used: through a proxy that check would be the proxy's."""

from __future__ import annotations

import socket
import threading
import time
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from http.client import RemoteDisconnected
from urllib.parse import urljoin, urlsplit

import urllib3
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import (
    ConnectTimeoutError,
    LocationParseError,
    NewConnectionError,
    ProtocolError,
    ReadTimeoutError,
    SSLError,
)

from pipelines import robots
from pipelines.fetch import FetchError, Response, kind_of
from pipelines.guard import Guarded, NotConnected
from pipelines.hosts import Hosts, authority
from pipelines.settings import Settings

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
MAX_REDIRECTS = 5
# A redirect or error body up to this size is read to keep its connection; a larger one closes it.
DRAIN_BYTES = 64 * 1024
BINARY_TYPES = ("image/", "audio/", "video/", "font/", "application/pdf", "application/octet-stream",
                "application/zip", "application/gzip", "application/x-gzip", "application/msword",
                "application/vnd.")
PAGE_ACCEPT = "text/html,application/xhtml+xml,text/plain;q=0.9,*/*;q=0.1"
_local = threading.local()


class _Watched:
    """urllib3 connection mixin: the exchange's deadline learns which connection to cut."""

    def request(self, *args, **kwargs):
        deadline = getattr(_local, "deadline", None)
        if deadline is not None:
            deadline.conn = self
        return super().request(*args, **kwargs)


class _Deadline:
    """A whole exchange's time limit: when it passes, the connection's socket is shut down, which ends
    whatever read is waiting on it (a trickling server resets every per-read timeout)."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self.expired = False
        self.conn = None
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True

    def __enter__(self) -> _Deadline:
        _local.deadline = self
        self._timer.start()
        return self

    def __exit__(self, *exc) -> None:
        self._timer.cancel()
        _local.deadline = None

    def _expire(self) -> None:
        self.expired = True
        sock = getattr(self.conn, "sock", None)
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


@dataclass(frozen=True)
class _Redirect:
    status: int
    location: str


class Client:
    """The HTTP client any number of threads share for one stage; `close()` drops its connections.

    Raises FetchError from every request, with the reason fetch_log records, the HTTP status when
    there was one, and the attempts made."""

    def __init__(self, *, user_agent: str, timeout: float, max_bytes: int, host_delay: float = 1.0,
                 max_crawl_delay: float = 30.0, per_host: int = 2, attempts: int = 3, backoff: float = 1.0,
                 max_retry_after: float = 60.0, keep_alive: bool = True):
        self.user_agent = user_agent
        self.timeout = timeout
        self.max_bytes = max_bytes
        self.host_delay = host_delay
        self.max_crawl_delay = max_crawl_delay
        self.per_host = max(1, per_host)
        self.attempts = max(1, attempts)
        self.backoff = backoff
        self.max_retry_after = max_retry_after
        self.keep_alive = keep_alive
        self.hosts = Hosts(delay=host_delay, per_host=self.per_host)
        self._notes: dict[str, str] = {}
        self._notes_lock = threading.Lock()
        self._pools = {private: self._pool_manager(private) for private in (False, True)}

    @classmethod
    def from_settings(cls, s: Settings) -> Client:
        return cls(user_agent=s.user_agent, timeout=s.fetch_timeout, max_bytes=s.max_bytes, host_delay=s.host_delay,
                   max_crawl_delay=s.max_crawl_delay, per_host=s.host_connections, attempts=s.fetch_attempts,
                   backoff=s.retry_backoff, max_retry_after=s.max_retry_after, keep_alive=s.keep_alive)

    def _pool_manager(self, allow_private: bool) -> urllib3.PoolManager:
        conns = {scheme: type(f"Guarded{base.__name__}", (_Watched, Guarded, base), {"allow_private": allow_private})
                 for scheme, base in (("http", HTTPConnection), ("https", HTTPSConnection))}
        pools = {scheme: type(f"Guarded{base.__name__}", (base,), {"ConnectionCls": conns[scheme]})
                 for scheme, base in (("http", HTTPConnectionPool), ("https", HTTPSConnectionPool))}
        manager = urllib3.PoolManager(num_pools=1000, maxsize=self.per_host, block=False, retries=False,
                                      timeout=urllib3.Timeout(connect=self.timeout, read=self.timeout))
        manager.pool_classes_by_scheme = pools
        return manager

    def close(self) -> None:
        for manager in self._pools.values():
            manager.clear()

    # ------------------------------------------------------------ requests

    def get(self, url: str, *, allow_private: bool = False, page: bool = True, etag: str | None = None,
            last_modified: str | None = None) -> Response:
        """GET a page (`page`: only what can be an article is downloaded) or a feed or sitemap
        (conditionally when etag or last_modified are given; a 304 comes back as a Response with
        status 304, no body, and the validators it was asked with unless it sent new ones)."""
        headers = {"Accept": PAGE_ACCEPT} if page else {}
        headers |= {k: v for k, v in (("If-None-Match", etag), ("If-Modified-Since", last_modified)) if v}
        seen, made = {url}, 0
        try:
            for _ in range(MAX_REDIRECTS + 1):
                key = _check_target(url)
                self._obey_robots(url, key, allow_private)
                answer, n = self._attempt(url, key, allow_private=allow_private, page=page, headers=headers)
                made += n
                if isinstance(answer, Response):
                    if answer.status == 304:
                        return Response(answer.url, 304, "", b"", answer.date, answer.etag or etag,
                                        answer.last_modified or last_modified)
                    return answer
                target = urljoin(url, answer.location)
                if target in seen:
                    raise FetchError(f"redirect loop: {target} was already visited", answer.status)
                seen.add(target)
                url = target
            raise FetchError(f"too many redirects (more than {MAX_REDIRECTS})", answer.status)
        except FetchError as exc:
            exc.attempts += made  # every request made for the item, over all hops
            raise
        except ValueError as exc:  # a port that is not a number, and the like
            raise FetchError(f"invalid URL: {exc}", attempts=made) from exc

    def sitemaps(self, site: str, *, allow_private: bool = False) -> list[str]:
        """The Sitemap: lines of the site's robots.txt."""
        key = _check_target(site)
        return list(self._robots(key, allow_private).sitemaps)

    def notes(self) -> list[tuple[str, str]]:
        """(robots.txt URL, what was odd about it) for each host this client read one of."""
        with self._notes_lock:
            return sorted(self._notes.items())

    def map(self, fn: Callable, items: Sequence, url_of: Callable[[object], str], workers: int) -> list:
        """fn(item) for every item on `workers` threads, each handed out when its host can take a request
        (hosts.Hosts.map); the results in the items' order."""
        return self.hosts.map(fn, items, url_of, workers)

    def _attempt(self, url: str, key: str, **how) -> tuple[Response | _Redirect, int]:
        """The answer to one hop, retried as needed, and the number of requests it took."""
        for attempt in range(1, self.attempts + 1):
            stopped = self.hosts.stopped(key)
            if stopped:
                raise FetchError(stopped, attempts=attempt - 1)
            self.hosts.acquire(key)
            pause, again = 0.0, False
            try:
                return self._exchange(url, **how), attempt
            except FetchError as exc:
                exc.attempts = attempt
                if not exc.retryable:
                    raise
                if attempt == self.attempts:
                    if attempt > 1:
                        exc.reason += f" (after {attempt} attempts)"
                    raise
                wait = exc.retry_after if exc.retry_after is not None else self.backoff * 2 ** (attempt - 1)
                if wait > self.max_retry_after:
                    # The server asked the whole host to be left alone longer than a run waits: its
                    # other pages are not requested either.
                    self.hosts.stop(key, f"not requested: {key} asked for a pause of {wait:g} s (Retry-After), "
                                         f"beyond the {self.max_retry_after:g} s we wait")
                    raise FetchError(f"{exc.reason}: Retry-After {wait:g} s is beyond the "
                                     f"{self.max_retry_after:g} s we wait; not retried", exc.http_status,
                                     attempts=attempt) from exc
                pause, again = wait, True
            finally:
                self.hosts.release(key, pause, retry=again)
        raise AssertionError("unreachable")

    # ------------------------------------------------------------ one exchange

    def _exchange(self, url: str, *, allow_private: bool, page: bool, headers: dict[str, str],
                  cap: int | None = None, truncate: bool = False) -> Response | _Redirect:
        """One request, no redirect followed. Failures raise FetchError, marked retryable when another
        attempt may succeed (429, 5xx, timeouts, dropped connections)."""
        cap = self.max_bytes if cap is None else cap
        sent = {"User-Agent": self.user_agent, "Accept-Encoding": "gzip, deflate", **headers}
        if not self.keep_alive:
            sent["Connection"] = "close"
        resp = None
        with _Deadline(3 * self.timeout) as deadline:
            try:
                resp = self._send(self._pools[allow_private], url, sent)
                answer = self._answer(url, resp, page, cap, truncate, deadline)
                if isinstance(answer, Response) and not answer.truncated:
                    if not self.keep_alive:
                        resp.close()  # closed here, not left for the server's FIN to race the next request
                    resp.release_conn()  # read to its end: the connection can serve the next request
                    resp = None
                return answer
            except FetchError:
                raise
            except NewConnectionError as exc:  # a subclass of ConnectTimeoutError, but a refusal or a reset
                raise FetchError(f"connection failed: {_cause(exc)}", retryable=True) from exc
            except (ConnectTimeoutError, ReadTimeoutError, TimeoutError) as exc:
                raise FetchError(f"timed out after {self.timeout:g} s", retryable=True) from exc
            except SSLError as exc:
                raise FetchError(f"TLS failed: {exc}") from exc
            except (LocationParseError, ValueError) as exc:
                raise FetchError(f"invalid URL: {exc}") from exc
            except (ProtocolError, urllib3.exceptions.HTTPError, OSError) as exc:
                if deadline.expired:
                    raise FetchError(f"not complete after {deadline.seconds:g} s", retryable=True) from exc
                raise FetchError(f"connection failed: {_cause(exc)}", retryable=True) from exc
            finally:
                if resp is not None:
                    _discard(resp)

    @staticmethod
    def _send(pool: urllib3.PoolManager, url: str, headers: dict[str, str]):
        """The response's status and headers. A kept-alive connection that the server closed while it
        sat in the pool fails before any answer: that request is sent once more on a new connection,
        within the same attempt, as browsers do."""
        for fresh in (False, True):
            try:
                return pool.urlopen("GET", url, headers=headers, redirect=False, retries=False,
                                    preload_content=False, decode_content=False, assert_same_host=False)
            except ProtocolError as exc:
                if fresh or not isinstance(_root(exc), RemoteDisconnected | ConnectionResetError | BrokenPipeError):
                    raise
        raise AssertionError("unreachable")

    def _answer(self, url: str, resp, page: bool, cap: int, truncate: bool,
                deadline: _Deadline) -> Response | _Redirect:
        status, h = resp.status, resp.headers
        location = h.get("Location")
        if status in REDIRECT_STATUSES and location:
            return _Redirect(status, location)
        if status == 304:
            return Response(url, 304, "", b"", h.get("Date"), h.get("ETag"), h.get("Last-Modified"))
        if status >= 400:
            raise FetchError(f"HTTP {status} {resp.reason or ''}".rstrip(), status,
                             retryable=status in RETRY_STATUSES, retry_after=retry_after(h))
        ctype = h.get("Content-Type", "")
        if page:
            _check_page_type(url, ctype, status)
        body, cut = read_body(resp, cap, truncate, deadline)
        return Response(url, status, ctype, body, h.get("Date"), h.get("ETag"), h.get("Last-Modified"),
                        truncated=cut)

    # ------------------------------------------------------------ robots.txt

    def _obey_robots(self, url: str, key: str, allow_private: bool) -> None:
        rules = self._robots(key, allow_private)
        if rules.refused:
            raise FetchError(rules.refused)
        if not rules.allows(url, self.user_agent):
            raise FetchError("disallowed by robots.txt")

    def _robots(self, key: str, allow_private: bool) -> robots.Rules:
        host = self.hosts.get(key)
        with host.rules_lock:
            if host.rules is None:
                rules = self._read_robots(key, allow_private)
                asked = rules.delay(self.user_agent)
                # The robots.txt request counts towards the delay the file itself asks for.
                self.hosts.space(key, None if asked is None else min(max(self.host_delay, asked),
                                                                      self.max_crawl_delay))
                if rules.note:
                    with self._notes_lock:
                        self._notes[key + "/robots.txt"] = rules.note
                host.rules = rules
        return host.rules

    def _read_robots(self, key: str, allow_private: bool) -> robots.Rules:
        """The host's rules, read through the host's own turns and retries like any request."""
        url = key + "/robots.txt"
        try:
            for _ in range(robots.MAX_REDIRECTS + 1):
                answer, _ = self._attempt(url, _check_target(url), allow_private=allow_private, page=False,
                                          headers={}, cap=min(self.max_bytes, robots.MAX_BYTES), truncate=True)
                if isinstance(answer, Response):
                    return robots.parse(answer.body, truncated=answer.truncated)
                url = urljoin(url, answer.location)
            return robots.too_many_redirects()
        except NotConnected:
            raise
        except FetchError as exc:
            return robots.unavailable(exc.http_status, exc.reason)
        except ValueError as exc:
            return robots.unavailable(None, f"invalid redirect: {exc}")


def read_body(resp, cap: int, truncate: bool, deadline: _Deadline) -> tuple[bytes, bool]:
    """The body, inflated, and whether it was cut at `cap`. At most `cap` bytes both as sent and as
    inflated; past it the body is refused, or with `truncate` cut there (robots.txt)."""
    status = resp.status
    length = resp.headers.get("Content-Length")
    if not truncate and length and length.strip().isdigit() and int(length) > cap:
        raise FetchError(f"body larger than {cap} bytes (Content-Length {int(length)})", status)
    encoding = (resp.headers.get("Content-Encoding") or "identity").strip().lower()
    if encoding in ("gzip", "x-gzip"):
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    elif encoding == "deflate":
        inflater = None  # zlib-wrapped or raw: decided on the first bytes
    elif encoding == "identity":
        inflater = False
    else:
        raise FetchError(f"unsupported Content-Encoding {encoding!r}", status)
    sent, out = 0, bytearray()
    while chunk := resp.read1(64 * 1024, decode_content=False):
        sent += len(chunk)
        if inflater is False:
            out += chunk
        else:
            if inflater is None:
                inflater = zlib.decompressobj(zlib.MAX_WBITS if chunk[0] & 0x0F == 8 else -zlib.MAX_WBITS)
            try:
                out += inflater.decompress(chunk, cap + 1 - len(out))
            except zlib.error as exc:
                raise FetchError(f"invalid {encoding} body: {exc}", status) from exc
        if truncate and (sent > cap or len(out) > cap):
            return bytes(out[:cap]), True
        if sent > cap:
            raise FetchError(f"body larger than {cap} bytes", status)
        if len(out) > cap:
            raise FetchError(f"{encoding} body inflates past {cap} bytes", status)
    if deadline.expired:
        raise FetchError(f"not complete after {deadline.seconds:g} s", status, retryable=True)
    if inflater and not inflater.eof:
        raise FetchError(f"incomplete {encoding} body", status, retryable=True)
    return bytes(out), False


def _discard(resp) -> None:
    """Give a connection whose answer was not read back to its pool: a small rest is read so the
    connection can be reused, a large or unknown one closes it."""
    length = resp.headers.get("Content-Length", "")
    try:
        if length.strip().isdigit() and int(length) <= DRAIN_BYTES and not resp.closed:
            resp.drain_conn()
        else:
            resp.close()
    except Exception:  # a connection that fails while being drained is closed like any other
        resp.close()
    resp.release_conn()


def _root(exc: BaseException) -> BaseException:
    """The error a urllib3 error wraps (ProtocolError('Connection aborted.', RemoteDisconnected(...)))."""
    while isinstance(exc, urllib3.exceptions.HTTPError) and exc.args and isinstance(exc.args[-1], BaseException):
        exc = exc.args[-1]
    return exc


def _cause(exc: BaseException) -> str:
    """The innermost reason of a urllib3 error ('Connection refused', not its wrapper's repr)."""
    exc = _root(exc)
    text = str(exc)
    if isinstance(exc, NewConnectionError):
        text = text.split(": ", 1)[-1]
    return text or exc.__class__.__name__


def _check_page_type(url: str, content_type: str, status: int) -> None:
    """Refuse what is not an article page before its body is downloaded."""
    ctype = content_type.split(";")[0].strip().lower()
    if ctype.startswith(BINARY_TYPES):
        raise FetchError(f"binary content refused (content type {ctype!r})", status)
    if kind_of(url, content_type) is None and ctype:
        raise FetchError(f"not an article page (content type {content_type!r})", status)


def retry_after(headers) -> float | None:
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


def _check_target(url: str) -> str:
    """The URL's authority; a scheme other than http(s), or no host, is refused before any request."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise FetchError(f"unsupported URL scheme {parts.scheme!r}")
    if not parts.hostname:
        raise FetchError("URL has no host")
    parts.port  # noqa: B018 - raises ValueError on a port that is not a number
    return authority(url)
