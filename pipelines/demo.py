"""The bundled demo: a local HTTP server on 127.0.0.1 that serves the fictional corpus in demo/site/
as news sites do (an RSS feed plus article pages), and the sources file that points at it."""

from __future__ import annotations

import html
import re
import threading
from email.utils import format_datetime
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from dateutil import parser as dateparser

from pipelines.settings import REPO_ROOT

SITE = REPO_ROOT / "demo" / "site"
# Entries every feed has in the wild: a link that is gone and a link to a document that is not a page.
BROKEN_ENTRIES = [("/articles/removed-story.html", "A story that was taken down"),
                  ("/files/annual-report.pdf", "Annual report (PDF)")]


def feed_xml(site: Path, base_url: str) -> str:
    """An RSS 2.0 feed of every article page under site/articles/, newest first."""
    items = []
    for page in sorted((site / "articles").rglob("*.html")):
        head = page.read_text(encoding="utf-8")[:20_000]
        title = _meta(head, "og:title") or page.stem
        published = _meta(head, "article:published_time")
        when = dateparser.parse(published) if published else None
        items.append((when, page.relative_to(site).as_posix(), title, _meta(head, "description") or ""))
    items.sort(key=lambda i: (i[0] is None, i[0]), reverse=True)
    entries = [
        f"<item><title>{html.escape(t)}</title><link>{base_url}/{path}</link>"
        f"<guid>{base_url}/{path}</guid><description>{html.escape(d)}</description>"
        + (f"<pubDate>{format_datetime(w)}</pubDate>" if w else "") + "</item>"
        for w, path, t, d in items
    ]
    latest = next((w for w, *_ in items if w), None)
    entries += [
        f"<item><title>{html.escape(t)}</title><link>{base_url}{path}</link>"
        + (f"<pubDate>{format_datetime(latest)}</pubDate>" if latest else "") + "</item>"
        for path, t in BROKEN_ENTRIES
    ]
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0"><channel>'
            "<title>Newsmon demo wire</title><link>" + base_url + "</link>"
            "<description>Fictional outlets for the Newsmon demo</description>"
            + "".join(entries) + "</channel></rss>\n")


def _meta(head: str, name: str) -> str | None:
    m = re.search(rf"<meta[^>]+(?:property|name)=\"{re.escape(name)}\"[^>]*>", head)
    c = re.search(r"content=\"([^\"]*)\"", m[0]) if m else None
    return html.unescape(c[1]) if c else None


class _Handler(SimpleHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 - the http.server interface
        if self.path.split("?")[0] == "/feed.xml":
            host = self.headers.get("Host") or f"127.0.0.1:{self.server.server_address[1]}"
            self._send(200, "application/rss+xml; charset=utf-8", feed_xml(Path(self.directory), f"http://{host}"))
        elif self.path.endswith(".pdf"):
            self._send(200, "application/pdf", "%PDF-1.4\n% demo\n")
        else:
            super().do_GET()

    def _send(self, status: int, ctype: str, body: str):
        data = body.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):  # the demo's requests are in fetch_log; keep the terminal for the summary
        pass


class DemoServer:
    """`with DemoServer() as url:` serves demo/site on 127.0.0.1 (a free port) in a background thread."""

    def __init__(self, site: Path = SITE, port: int = 0):
        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), partial(_Handler, directory=str(site)))

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def __enter__(self) -> str:
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        return self.url

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


def write_sources(path: Path, base_url: str) -> Path:
    """The demo's sources: the local wire feed (marked local, so loopback is allowed), and a feed whose
    server does not answer, to show a failing source being logged while the run goes on."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        "sources:\n"
        f"  - {{name: demo-wire, kind: rss, url: '{base_url}/feed.xml', local: true, language: en}}\n"
        "  - {name: demo-offline, kind: rss, url: 'http://127.0.0.1:9/feed.xml', local: true, language: en}\n",
        encoding="utf-8",
    )
    return path
