"""What was fetched: the answer and its failure, local files, content-addressed storage of the bytes,
and the charset to decode a page with. Requests over HTTP are `pipelines.client`'s."""

from __future__ import annotations

import codecs
import gzip
import hashlib
import re
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

if TYPE_CHECKING:
    from pipelines.objects import Folder

TEXT_SUFFIXES = {".html": "html", ".htm": "html", ".txt": "txt", ".json": "json"}
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)


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
    # Left out of repr: a failure's message or traceback shows the response, not a megabyte of HTML.
    body: bytes = field(repr=False)
    date: str | None = None
    # The validators for the next conditional GET (feeds and sitemaps).
    etag: str | None = None
    last_modified: str | None = None
    # The body was cut at a cap instead of refused (robots.txt, of which only the first 500 KiB count).
    truncated: bool = False


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


def store_raw(raw: Folder, body: bytes) -> str:
    """Keep the fetched bytes, gzip-compressed under their SHA-256, so any date can be rebuilt without
    refetching; storing the same bytes twice is a no-op."""
    digest = hashlib.sha256(body).hexdigest()
    if not raw.exists(raw_name(digest)):
        raw.write_bytes(raw_name(digest), gzip.compress(body, mtime=0))
    return digest


def load_raw(raw: Folder, digest: str) -> bytes:
    data = raw.read_bytes(raw_name(digest))
    if data is None:
        raise FileNotFoundError(f"{raw.url}/{raw_name(digest)}: the stored page is missing")
    return gzip.decompress(data)


def raw_name(digest: str) -> str:
    """Where a page's bytes are kept in the raw folder: <sha[:2]>/<sha>.gz."""
    return f"{digest[:2]}/{digest}.gz"


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


def gunzip(body: bytes, max_bytes: int) -> bytes:
    """Decompress a gzip body (a .xml.gz sitemap), refusing one that inflates past max_bytes (a gzip bomb)."""
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        out = inflater.decompress(body, max_bytes + 1)
    except zlib.error as exc:
        raise FetchError(f"not valid gzip: {exc}") from exc
    if len(out) > max_bytes or inflater.unconsumed_tail:
        raise FetchError(f"gzip body inflates past {max_bytes} bytes")
    return out
