"""Fetching: our own HTTP client (a clear User-Agent, timeouts, a size cap, no private addresses unless
the source is marked local), local files, and content-addressed storage of what was fetched."""

from __future__ import annotations

import gzip
import hashlib
import ipaddress
import socket
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

TEXT_SUFFIXES = {".html": "html", ".htm": "html", ".txt": "txt", ".json": "json"}


class FetchError(Exception):
    """A URL or file that could not be fetched; `reason` is what fetch_log records."""

    def __init__(self, reason: str, http_status: int | None = None):
        super().__init__(reason)
        self.reason = reason
        self.http_status = http_status


@dataclass(frozen=True)
class Response:
    url: str
    status: int
    content_type: str
    body: bytes
    date: str | None = None


def get(url: str, *, user_agent: str, timeout: float, max_bytes: int, allow_private: bool = False) -> Response:
    """GET a URL, refusing private, loopback and link-local targets (each redirect is checked again)
    unless allow_private is set for a source marked local.

    Raises:
        FetchError: with the reason and the HTTP status when there was one.
    """
    _check_target(url, allow_private)
    opener = urllib.request.build_opener(_CheckedRedirects(allow_private))
    request = urllib.request.Request(url, headers={"User-Agent": user_agent, "Accept-Encoding": "identity"})
    try:
        with opener.open(request, timeout=timeout) as resp:
            body = resp.read(max_bytes + 1)
            if len(body) > max_bytes:
                raise FetchError(f"body larger than {max_bytes} bytes", resp.status)
            return Response(resp.geturl(), resp.status, resp.headers.get("Content-Type", ""), body,
                            resp.headers.get("Date"))
    except urllib.error.HTTPError as exc:
        raise FetchError(f"HTTP {exc.code} {exc.reason}", exc.code) from exc
    except urllib.error.URLError as exc:
        reason = exc.reason
        if isinstance(reason, FetchError):
            raise reason from exc
        raise FetchError(f"connection failed: {reason}") from exc
    except TimeoutError as exc:
        raise FetchError(f"timed out after {timeout:g} s") from exc
    except (ConnectionError, OSError) as exc:
        if isinstance(exc, FetchError):
            raise
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
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(gzip.compress(body, mtime=0))
        tmp.replace(path)
    return digest


def load_raw(raw_dir: Path, digest: str) -> bytes:
    return gzip.decompress(raw_path(raw_dir, digest).read_bytes())


def raw_path(raw_dir: Path, digest: str) -> Path:
    return raw_dir / digest[:2] / f"{digest}.gz"


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
