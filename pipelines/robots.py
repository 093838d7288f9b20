"""robots.txt: a host's rules as RFC 9309 has them, read by Protego (the parser Scrapy maintains).

Protego implements what urllib.robotparser does not: `*` and `$` in paths, the longest match deciding
with Allow winning a tie, percent-encoding and the user-agent's product token. This module only decides
what a body, or its absence, means for a host: the HTTP side is `pipelines.client`."""

from __future__ import annotations

import codecs
from dataclasses import dataclass, field

from protego import Protego

# Google reads the first 500 KiB of a robots.txt and ignores the rest (RFC 9309 asks for at least that).
MAX_BYTES = 500 * 1024
# RFC 9309 2.3.1.2: at least five redirects are followed; past them the file counts as unavailable (4xx).
MAX_REDIRECTS = 5


@dataclass(frozen=True)
class Rules:
    """What one host allows. `refused` says why nothing may be fetched (a robots.txt that could not be
    read); `note` is an oddity worth a fetch_log row (truncated, decoded from UTF-16, redirected too often)."""

    parser: Protego | None = None
    refused: str | None = None
    note: str | None = None
    sitemaps: tuple[str, ...] = field(default=())

    def allows(self, url: str, user_agent: str) -> bool:
        if self.refused:
            return False
        return self.parser is None or self.parser.can_fetch(url, user_agent)

    def delay(self, user_agent: str) -> float | None:
        """The seconds between requests the host asks of us: Crawl-delay, or Request-rate's n/seconds."""
        if self.parser is None:
            return None
        asked = [float(d) for d in [self.parser.crawl_delay(user_agent)] if d is not None]
        rate = self.parser.request_rate(user_agent)
        if rate and rate.requests:
            asked.append(rate.seconds / rate.requests)
        return max(asked) if asked else None


ALLOW_ALL = Rules()


def parse(body: bytes, *, truncated: bool = False) -> Rules:
    """The rules of a robots.txt body (a 2xx answer)."""
    text, encoding = _decode(body)
    notes = []
    if truncated:
        notes.append(f"robots.txt larger than {MAX_BYTES} bytes: the first {MAX_BYTES} were read")
    if encoding != "utf-8":
        notes.append(f"robots.txt is {encoding}, not UTF-8: decoded from its byte order mark")
    parser = Protego.parse(text)
    return Rules(parser, note="; ".join(notes) or None, sitemaps=tuple(parser.sitemaps))


def unavailable(status: int | None, reason: str) -> Rules:
    """The rules when robots.txt did not come back: RFC 9309 2.3.1.3-4. A 4xx means there is none and
    everything is allowed; a 429, a 5xx or no answer means the host cannot say what it forbids, so
    nothing is fetched from it in this run."""
    if status is not None and 400 <= status < 500 and status != 429:
        return ALLOW_ALL
    return Rules(refused=f"robots.txt could not be read ({reason}); the host is treated as disallowing "
                         "everything for this run")


def too_many_redirects() -> Rules:
    return Rules(note=f"robots.txt redirected more than {MAX_REDIRECTS} times: treated as absent (RFC 9309), "
                      "everything allowed")


def _decode(body: bytes) -> tuple[str, str]:
    """RFC 9309 asks for UTF-8; a byte order mark is the only other encoding a server tells us about."""
    for bom, name in ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"),
                      (codecs.BOM_UTF16_BE, "utf-16-be")):
        if body.startswith(bom):
            return body[len(bom):].decode(name, "replace"), "utf-8" if name == "utf-8" else "UTF-16"
    return body.decode("utf-8", "replace"), "utf-8"
