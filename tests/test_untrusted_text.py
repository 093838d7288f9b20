"""Article text is untrusted: a title, a text, a speaker's name or a URL crafted as markup must reach the
email body, Slack, the digest and the terminal as text, never as markup; SQL is built from parameters;
secrets in URLs never reach an error, the events file or the operator's webhook."""

from __future__ import annotations

import ast
import json
import re
from datetime import datetime
from html.parser import HTMLParser
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest

from pipelines import alerts, channels, cli, report, store
from pipelines.models import entity_id, stable_id
from pipelines.settings import REPO_ROOT

DAY = datetime(2026, 11, 24)
NOW = datetime(2026, 11, 25)

SCRIPT = "<script>alert(1)</script>"
ATTR = '"><img src=x onerror=alert(2)>'
RICH = "[bold red]RED[/bold red] [link=https://evil.example]click[/link]"
SLACK = "<!channel> <@U024BE7LH> <https://evil.example|login here>"
TERMINAL = "\x1b]0;pwned\x07\x1b[2J"
HOSTILE = f"{SCRIPT} {ATTR} {RICH} {SLACK} & {TERMINAL}"
SPEAKER = f"Eve {ATTR} [bold]Mallory[/bold] <!here>"
PLACE = f"Kyiv {SCRIPT}"
TITLE_1 = f"Port talks {HOSTILE}"
TITLE_2 = f'Second story "{ATTR}'
URL_JS = "javascript:alert(3)"
URL_ODD = 'https://news.example/a?q="><script>alert(4)</script>&x=1>|<!channel>'
TEXT = (f"In {PLACE}, {SPEAKER} said “we will not back down {HOSTILE}” on Monday, "
        f"and {SPEAKER} added that talks with the port would resume.")


def _load(path: Path, watchlist: alerts.Watchlist | None = None) -> None:
    """A database whose every text field an attacker controls: titles, URLs, article text, entity names,
    a quote, a fetch_log reason."""
    con = store.connect(path)
    person, place = entity_id("PERSON", "eve"), entity_id("LOCATION", "kyiv")
    arts, ments, quotes = [], [], []
    for aid, title, url in (("x1", TITLE_1, URL_JS), ("x2", TITLE_2, URL_ODD)):
        arts.append({"article_id": aid, "url": url, "source": f"wire {SCRIPT}", "title": title,
                     "published_at": DAY.replace(hour=9), "language": "en", "text": TEXT,
                     "word_count": len(TEXT.split()), "content_hash": stable_id(aid, TEXT), "duplicate_of": None,
                     "fetched_at": NOW, "run_id": "r1"})
        for eid, surface in ((person, SPEAKER), (place, PLACE)):
            start = -1
            while (start := TEXT.find(surface, start + 1)) >= 0:
                ments.append({"mention_id": stable_id(aid, eid, start), "article_id": aid, "entity_id": eid,
                              "surface": surface, "form": surface, "start_char": start,
                              "end_char": start + len(surface), "sentence_index": 0, "label": "X"})
        q = TEXT.index("we will")
        end = TEXT.index("”", q)
        quotes.append({"claim_id": stable_id(aid, "q"), "article_id": aid, "kind": "quote",
                       "speaker_entity_id": person, "speaker": SPEAKER, "cue": "said", "text": TEXT[q:end],
                       "start_char": q, "end_char": end})
    entities = pd.DataFrame([
        {"entity_id": person, "name": SPEAKER, "type": "PERSON", "country_code": None, "latitude": None,
         "longitude": None, "geonames_id": None, "precision": None},
        {"entity_id": place, "name": PLACE, "type": "LOCATION", "country_code": f"U{SCRIPT}", "latitude": 50.45,
         "longitude": 30.52, "geonames_id": None, "precision": None}])
    frames = {"articles": pd.DataFrame(arts), "entities": entities, "mentions": pd.DataFrame(ments),
              "claims": pd.DataFrame(quotes)}
    logs = [{"run_id": "r1", "source": "wire", "url": f"https://news.example/bad{TERMINAL}", "stage": "fetch",
             "reason": f"HTTP 404 {RICH}", "http_status": 404}]
    run = {"run_id": "r1", "kind": "daily", "status": "success", "counts": {}, "window_start": DAY,
           "window_end": NOW, "logical_date": DAY, "started_at": NOW}
    store.load_run(con, run, frames, [], logs,
                   lambda c: alerts.evaluate(c, watchlist or alerts.Watchlist(), "r1", NOW, DAY))
    con.close()


def _watchlist(tmp_path: Path) -> alerts.Watchlist:
    p = tmp_path / "watchlist.yaml"
    p.write_text("""
channels:
  mail: {type: email, to: [desk@example.org]}
  slack: {type: slack, url_env: TEST_SLACK_URL}
  hook: {type: webhook, url_env: TEST_HOOK_URL}
rules:
  - {id: people, type: PERSON, channels: [mail, slack, hook]}
  - {id: digest, type: LOCATION, mode: digest, channels: [mail, slack]}
""")
    return alerts.load_watchlist(p)


class Markup(HTMLParser):
    """The elements, attributes and text a browser would see."""

    def __init__(self, page: str):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.text: list[str] = []
        self.feed(page)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_startendtag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)


def assert_inert(page: str, allowed: set[str]) -> Markup:
    """Only our own elements; no event handler; links only to the web; the hostile text shown as text."""
    m = Markup(page)
    assert {t for t, _ in m.tags} <= allowed, {t for t, _ in m.tags} - allowed
    for tag, attrs in m.tags:
        assert not any(a.lower().startswith("on") for a in attrs), (tag, attrs)
        if "href" in attrs:
            assert re.match(r"https?://", attrs["href"]), attrs
    assert not re.search(r"<\s*(script|img|iframe|svg\s+onload)\b", page.replace("<svg viewBox", ""), re.I)
    return m


# ---------------------------------------------------------------- channels


def test_email_html_shows_article_text_literally(tmp_path, smtp):
    wl = _watchlist(tmp_path)
    _load(tmp_path / "n.duckdb", wl)
    con = store.connect(tmp_path / "n.duckdb")
    try:
        channels.deliver(con, wl, tmp_path / "a.jsonl", NOW, env={"NEWSMON_SMTP_URL": smtp.uri})
        mail = con.execute("select distinct status from alerts where channel = 'mail'").fetchall()
    finally:
        con.close()
    assert mail == [("sent",)] and len(smtp.messages) >= 3  # single alerts and the digest
    for msg in smtp.messages:
        page = msg.get_body(("html",)).get_content()
        shown = "".join(assert_inert(page, {"html", "body", "ul", "li", "p", "b", "a", "blockquote", "mark"}).text)
        assert "alert(1)</script>" in shown  # escaped, so displayed, not dropped
        assert "\n" not in msg["Subject"] and "\r" not in msg["Subject"]
    texts = " ".join(m.get_body(("html",)).get_content() for m in smtp.messages)
    assert "javascript:" not in re.findall(r'href="([^"]*)"', texts) and "href=\"https://news.example/a?q=" in texts


def test_email_subject_with_a_line_break_is_one_line_not_an_injected_header(tmp_path, smtp):
    # A surface with a carriage return (a JSON article's text keeps them) made EmailMessage raise
    # ValueError, which escaped deliver() and stopped every other channel.
    wl = _watchlist(tmp_path)
    _load(tmp_path / "n.duckdb", wl)
    con = store.connect(tmp_path / "n.duckdb")
    try:
        con.execute("update alerts set reason = $r", {"r": json.dumps({"why": "Eve\r\nBcc: victim@example.org"})})
        channels.deliver(con, wl, tmp_path / "a.jsonl", NOW, env={"NEWSMON_SMTP_URL": smtp.uri})
        mail = con.execute("select distinct status from alerts where channel = 'mail'").fetchall()
    finally:
        con.close()
    assert mail == [("sent",)] and smtp.messages
    for msg in smtp.messages:
        assert msg["Bcc"] is None and "\n" not in msg["Subject"]


def test_slack_messages_escape_control_characters_and_cannot_mention_or_link(tmp_path, receiver):
    wl = _watchlist(tmp_path)
    _load(tmp_path / "n.duckdb", wl)
    env = {"TEST_SLACK_URL": receiver.url, "TEST_HOOK_URL": receiver.url}
    con = store.connect(tmp_path / "n.duckdb")
    try:
        channels.deliver(con, wl, tmp_path / "a.jsonl", NOW, env=env)
        assert con.execute("select distinct status from alerts where channel = 'slack'").fetchall() == [("sent",)]
    finally:
        con.close()
    slack = [json.loads(b) for _, b in receiver.posts if "blocks" in json.loads(b)]
    assert len(slack) >= 3
    for payload in slack:
        for text in [payload["text"]] + [b["text"]["text"] for b in payload["blocks"]]:
            # Slack reads <...> as a link, a mention or a command: the only ones left are our article links,
            # whole (no '>' or '|' from the URL inside them).
            for inner in re.findall(r"<([^<>]*)>", text):
                assert re.match(r"https?://[^|<>]+\|[^|<>]*$", inner), inner
            assert "<!" not in text and "<@" not in text and "<script" not in text
    blob = json.dumps(slack)
    assert "&lt;!channel&gt;" in blob and "&lt;!here&gt;" in blob
    assert "%7C&lt;!channel&gt;" in blob  # the URL's own '|<!channel>' stays inside the link target
    assert "javascript:" not in "".join(re.findall(r"<([^|>]*)\|", blob))


def test_webhook_json_carries_the_text_unaltered(tmp_path, receiver):
    # JSON escaping is the receiver's business: the webhook must deliver exactly what the article said.
    wl = _watchlist(tmp_path)
    _load(tmp_path / "n.duckdb", wl)
    con = store.connect(tmp_path / "n.duckdb")
    try:
        channels.deliver(con, wl, tmp_path / "a.jsonl", NOW, env={"TEST_SLACK_URL": receiver.url,
                                                                   "TEST_HOOK_URL": receiver.url})
    finally:
        con.close()
    hooks = [a for _, b in receiver.posts for a in json.loads(b).get("alerts", [])]
    assert hooks and {a["title"] for a in hooks} <= {TITLE_1, TITLE_2} and all(a["entity"] == SPEAKER for a in hooks)


# ---------------------------------------------------------------- digest and terminal


def test_digest_html_shows_every_database_text_literally(tmp_path):
    _load(tmp_path / "n.duckdb")
    con = store.connect(tmp_path / "n.duckdb", read_only=True)
    try:
        page = report.build_report(con, DAY.date(), tmp_path / "digest.html").read_text(encoding="utf-8")
    finally:
        con.close()
    allowed = {"html", "head", "meta", "title", "style", "body", "header", "h1", "h2", "h3", "p", "div", "b",
               "section", "svg", "line", "text", "polyline", "circle", "rect", "blockquote", "footer", "cite",
               "a", "span", "table", "tr", "th", "td", "g", "path", "code"}
    m = assert_inert(page, allowed)
    shown = "".join(m.text)
    assert SPEAKER in shown and "we will not back down" in shown and PLACE in shown
    assert "default-src 'none'" in page  # the CSP: defence in depth should anything slip through


def _cli(tmp_path, capsys, *argv) -> str:
    code = cli.main([*argv, "--db", str(tmp_path / "n.duckdb")])
    out = capsys.readouterr().out
    assert code == 0, out
    return out


def test_terminal_output_prints_rich_markup_and_escapes_literally(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("NEWSMON_DATA_DIR", str(tmp_path / "data"))
    _load(tmp_path / "n.duckdb")
    trends = _cli(tmp_path, capsys, "trends", "--live", "--date", "2026-11-24")
    quotes = _cli(tmp_path, capsys, "quotes", "--live", "--speaker", SPEAKER)
    for out in (trends, quotes):
        assert "[bold]Mallory[/bold]" in out  # printed, not interpreted as rich markup
        assert "\x1b" not in out and "\x07" not in out
    assert "[bold red]RED[/bold red] [link=https://evil.example]click[/link]" in quotes  # the quote as written


def test_run_summary_prints_fetch_failures_without_terminal_escapes(tmp_path, capsys):
    _load(tmp_path / "n.duckdb")
    settings = SimpleNamespace(db_path=tmp_path / "n.duckdb", database=tmp_path / "n.duckdb")
    cli._print_summary(settings, "r1", {})
    out = capsys.readouterr().out
    assert "\x1b" not in out and "bad\\x1b]0;pwned\\x07" in out and "[bold red]RED[/bold red]" in out


# ---------------------------------------------------------------- SQL from parameters only

SQL = re.compile(r"\b(select\s|insert\s+into|update\s+\w+\s+set|delete\s+from|create\s+(or\s+replace\s+)?"
                 r"(table|view)|where\s)", re.I)
# Every value spliced into SQL text in pipelines/, and why it is safe. Anything else fails the test below:
# values go in as $parameters.
SPLICED = {
    ("queries.py", "STORIES"): "a constant CTE defined in queries.py",
    ("queries.py", "', '.join(store.FETCHED_COLUMNS)"): "a constant column list in store.py",
    ("queries.py", "_NAMED.format(p='$speaker')"): "the parameter name $speaker into a constant subquery",
    ("queries.py", "_NAMED.format(p='$about')"): "the parameter name $about into a constant subquery",
    ("store.py", "table"): "loop variables over fixed tuples of table names",
    ("searchindex.py", "table"): "as store.py's: a loop over the two search tables' names",
    ("store.py", "path.stem"): "view names: the file names of sql/views/*.sql in the repository",
    ("store.py", "path.read_text(encoding='utf-8')"): "view bodies: sql/views/*.sql in the repository",
    ("store.py", "failed[0].stem"): "as path.stem",
    ("store.py", "failed[0].read_text(encoding='utf-8')"): "as path.read_text",
    ("transfer.py", "_ident(name)"): "a table name (the catalog's or a manifest's) quoted as an identifier",
    ("transfer.py", "_ident(n)"): "as _ident(name)",
    ("transfer.py", "cols"): "column names, each quoted as an identifier by _ident",
    ("lake.py", "ALIAS"): "the constant name the lake is attached under ('lake')",
    ("lake.py", "snapshots"): "a constant: the table function ducklake_snapshots('lake')",
}


def spliced_sql(root: Path) -> set[tuple[str, str]]:
    """(file, expression) for each value formatted into a string that reads as SQL."""
    found = set()
    for path in sorted(root.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.JoinedStr):
                const = "".join(v.value for v in node.values if isinstance(v, ast.Constant))
                if SQL.search(const):
                    found |= {(path.name, ast.unparse(v.value)) for v in node.values
                              if isinstance(v, ast.FormattedValue)}
            elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod) and (
                    isinstance(node.right, (ast.Tuple, ast.Dict))
                    or isinstance(node.left, ast.Constant) and isinstance(node.left.value, str)):
                found.add((path.name, ast.unparse(node)))  # %-formatting: SQL or not, it is listed
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "format":
                found.add((path.name, ast.unparse(node)))  # str.format: likewise
    return found


def test_sql_is_built_from_parameters_except_listed_internal_identifiers():
    found = spliced_sql(REPO_ROOT / "pipelines")
    assert found <= set(SPLICED), f"SQL text built from values not in SPLICED: {sorted(found - set(SPLICED))}"


def test_the_sql_scan_catches_what_it_is_meant_to(tmp_path):
    (tmp_path / "bad.py").write_text(
        'con.execute(f"select * from t where name = \'{name}\'")\n'
        'con.execute("delete from t where id = %s" % ident)\n'
        'con.execute("select * from {}".format(table))\n')
    assert spliced_sql(tmp_path) == {("bad.py", "name"), ("bad.py", "'delete from t where id = %s' % ident"),
                                     ("bad.py", "'select * from {}'.format(table)")}


# ---------------------------------------------------------------- secrets


@pytest.mark.parametrize("uri", ["smtp://newsmon:secretpw@127.0.0.1:1/",
                                 "smtps://newsmon:secretpw@127.0.0.1:1/?starttls=1",
                                 "smtp://newsmon:secretpw@127.0.0.1:notaport/"])
def test_failed_smtp_delivery_records_no_password(tmp_path, uri):
    wl = _watchlist(tmp_path)
    _load(tmp_path / "n.duckdb", wl)
    con = store.connect(tmp_path / "n.duckdb")
    try:
        result = channels.deliver(con, wl, tmp_path / "a.jsonl", NOW, env={"NEWSMON_SMTP_URL": uri})
        errors = [e for (e,) in con.execute("select error from alerts where channel = 'mail'").fetchall()]
    finally:
        con.close()
    assert result["failed"] >= 3 and all(errors)
    assert not any("secretpw" in e or "newsmon:" in e for e in errors), errors


def test_failed_webhook_with_credentials_in_its_url_records_no_secret(tmp_path):
    wl = _watchlist(tmp_path)
    _load(tmp_path / "n.duckdb", wl)
    con = store.connect(tmp_path / "n.duckdb")
    env = {"TEST_SLACK_URL": "http://bot:secretpw@127.0.0.1:1/services/T0/B0/XOXB-TOKEN",
           "TEST_HOOK_URL": "http://bot:secretpw@127.0.0.1:1/hook?token=XOXB-TOKEN"}
    try:
        channels.deliver(con, wl, tmp_path / "a.jsonl", NOW, env=env)
        errors = [e for (e,) in con.execute("select error from alerts where channel <> 'mail'").fetchall()]
    finally:
        con.close()
    assert errors and all(errors)
    assert not any("secretpw" in e or "XOXB" in e or "127.0.0.1" in e for e in errors), errors


def test_operator_notification_masks_credentials(tmp_path, monkeypatch, receiver):
    monkeypatch.setenv("NEWSMON_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("NEWSMON_OPERATOR_WEBHOOK_URL", receiver.url)
    ti = SimpleNamespace(dag_id="newsmon_alerts", task_id="deliver", map_index=-1, run_id="scheduled__x",
                         try_number=1)
    exc = RuntimeError("cannot reach smtp://mailer:secretpw@mail.example:587/?starttls=1: "
                       f"connection refused {SLACK}")
    channels.notify_task_failure({"ti": ti, "exception": exc, "logical_date": DAY})
    events = (tmp_path / "data" / "operator-events.jsonl").read_text(encoding="utf-8")
    ((_, posted),) = receiver.posts
    for text in (events, posted.decode()):
        assert "secretpw" not in text and "mailer" not in text and "smtp://***@mail.example:587" in text
    payload = json.loads(posted)
    assert "<!channel>" not in payload["text"] and "&lt;!channel&gt;" in payload["text"]
