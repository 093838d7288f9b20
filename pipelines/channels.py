"""Alert delivery: a JSONL file, email over SMTP, a Slack-compatible webhook, a JSON webhook signed with HMAC.

Every alert is delivered once. A channel that fails keeps its alerts (status `failed`, with the reason)
and they are retried with backoff on later runs. Receivers can drop repeats by alert id (the webhook
header X-Newsmon-Alert-Ids, the email Message-ID), and the JSONL channel does so itself. Secrets (SMTP
credentials, webhook URLs and keys) come from environment variables or an Airflow connection and never
appear in errors or logs.
"""

from __future__ import annotations

import hashlib
import hmac
import html
import json
import re
import smtplib
import ssl
import urllib.error
import urllib.request
from collections.abc import Mapping
from datetime import datetime
from email.message import EmailMessage
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from pipelines import store
from pipelines.alerts import Channel, Watchlist

DEFAULT_SMTP_ENV = "NEWSMON_SMTP_URL"
AIRFLOW_SMTP_ENV = "AIRFLOW_CONN_NEWSMON_SMTP"


class DeliveryError(Exception):
    """A channel refused or could not take a message; the text is safe to store (no secrets)."""


def deliver(con, watchlist: Watchlist, alerts_file: Path, now: datetime | None,
            smtp_uri: str | None = None, *, env: Mapping[str, str]) -> dict:
    """Send every alert that is due: pending ones, and failed ones whose retry time has come.

    Args:
        con: a read-write DuckDB connection.
        watchlist: the channels' configuration.
        alerts_file: the default JSONL file.
        now: the run's logical time (never the wall clock): retry times are computed from it, and daily
            digests go out when it is at a day boundary (a daily run, or the midnight run of an hourly one).
        smtp_uri: SMTP settings from an Airflow connection, when the caller has one.
        env: where secrets are read from (Settings.environ: the environment as read once).

    Returns:
        Counts of alerts sent and failed by this call.
    """
    digest_due = now is None or (now.hour, now.minute) == (0, 0)
    rows = _claim(con, now, digest_due)
    groups: list[tuple[str, list[dict]]] = []
    digests: dict[str, list[dict]] = {}
    for row in rows:
        if row["mode"] == "digest":
            if digest_due:
                digests.setdefault(row["channel"], []).append(row)
        else:
            groups.append((row["channel"], [row]))
    groups += sorted(digests.items())
    sent = failed = 0
    for channel_name, items in groups:
        ids = [r["alert_id"] for r in items]
        try:
            channel = watchlist.channels.get(channel_name)
            if channel is None:
                raise DeliveryError(f"channel {channel_name!r} is no longer in the watchlist")
            _send(channel, items, alerts_file, smtp_uri, env)
        except (DeliveryError, OSError, smtplib.SMTPException) as exc:
            failed += len(ids)
            _mark_failed(con, ids, _safe(exc), now)
        else:
            sent += len(ids)
            con.execute("update alerts set status = 'sent', attempts = attempts + 1, error = null, "
                        "delivered_at = $now where alert_id in (select unnest($ids::varchar[]))",
                        {"now": now, "ids": ids})
    return {"sent": sent, "failed": failed}


# Claims of a delivery that conflicted with another process's (on a lake) before one is given up.
CLAIM_ATTEMPTS = 6


def _claim(con, now: datetime | None, digest_due: bool) -> list[dict]:
    """The alerts due now, claimed for this call in one transaction (status 'sending', next_attempt_at the
    claim's logical time) before anything is sent. Two deliveries at once (two workers on a lake) rewrite
    the same rows, so the later commit conflicts; it claims again and finds them taken: an alert goes out
    once. A claim whose delivery died (the process killed between claim and send) is due again at a
    later logical time, so nothing is lost."""
    import duckdb

    attempt = 1
    while True:
        con.begin()
        try:
            rows = [r for r in _due(con, now) if r["mode"] != "digest" or digest_due]
            if rows:
                con.execute("update alerts set status = 'sending', next_attempt_at = $now "
                            "where alert_id in (select unnest($ids::varchar[]))",
                            {"now": now, "ids": [r["alert_id"] for r in rows]})
            con.commit()
            return rows
        except Exception as exc:
            store.rollback(con)
            retry = isinstance(exc, duckdb.TransactionException) and "conflict" in str(exc).lower()
            if not retry or attempt == CLAIM_ATTEMPTS:
                raise
        attempt += 1


def _due(con, now: datetime | None) -> list[dict]:
    return store.records(con, """
        select al.*, a.title, a.url, a.source, a.published_at, e.name as entity
        from alerts al
        left join articles a on a.article_id = al.article_id
        left join entities e on e.entity_id = al.entity_id
        where (al.status in ('pending', 'failed')
               and (al.next_attempt_at is null or $now is null or al.next_attempt_at <= $now))
           or (al.status = 'sending' and al.next_attempt_at < $now)
        order by al.created_at, al.rule_id, al.alert_id""", {"now": now})


def _mark_failed(con, ids: list[str], reason: str, now: datetime | None) -> None:
    # Backoff doubles with each failed attempt (1 h, 2 h, 4 h ... capped at a day), counted from the
    # run's logical time, so a daily pipeline retries at its next run.
    con.execute("""
        update alerts set status = 'failed', attempts = attempts + 1, error = $reason,
            next_attempt_at = case when $now is null then null
                else $now + least(to_hours(cast(pow(2, attempts) as bigint)), interval 24 hour) end
        where alert_id in (select unnest($ids::varchar[]))""", {"reason": reason, "now": now, "ids": ids})


def _send(channel: Channel, items: list[dict], alerts_file: Path, smtp_uri: str | None, env) -> None:
    if channel.type == "file":
        _send_file(Path(channel.options.get("path") or alerts_file), items)
    elif channel.type == "email":
        _send_email(channel, items, smtp_uri or env.get(channel.options.get("smtp_env") or DEFAULT_SMTP_ENV)
                    or env.get(AIRFLOW_SMTP_ENV))
    elif channel.type == "slack":
        url = env.get(channel.options["url_env"])
        if not url:
            raise DeliveryError(f"slack webhook URL not set (environment variable {channel.options['url_env']})")
        # The top-level text is the notification fallback and is read as mrkdwn too: escaped like the blocks.
        _post(url, {"text": _slack_escape(_title(items)), "blocks": [_slack_block(i) for i in items]}, items)
    else:
        url = channel.options.get("url") or env.get(channel.options.get("url_env", ""))
        if not url:
            raise DeliveryError(f"webhook URL not set (environment variable {channel.options.get('url_env')})")
        secret = env.get(channel.options["secret_env"]) if channel.options.get("secret_env") else None
        if channel.options.get("secret_env") and not secret:
            raise DeliveryError(f"webhook secret not set (environment variable {channel.options['secret_env']})")
        _post(url, {"alerts": [record(i) for i in items]}, items, secret)


def notify_operator(events_file: Path, event: dict, env: Mapping[str, str]) -> None:
    """Tell the operator that something failed: a line in the events file, always, and a POST to the
    webhook named by NEWSMON_OPERATOR_WEBHOOK_URL when it is set. Never raises: a notification that fails
    must not hide the failure it reports."""
    # An error message can quote a URL with its credentials (an SMTP URL, a webhook token): masked here,
    # since the events file and the webhook are read by more people than the secrets are.
    line = redact(json.dumps(event, default=str, ensure_ascii=False))
    event = json.loads(line)
    try:
        events_file.parent.mkdir(parents=True, exist_ok=True)
        with events_file.open("a", encoding="utf-8") as out:
            out.write(line + "\n")
    except OSError:
        pass
    url = env.get("NEWSMON_OPERATOR_WEBHOOK_URL")
    if url:
        try:
            _post(url, {"text": _slack_escape(f"newsmon: {event.get('summary')}"), "event": event}, [])
        except DeliveryError:
            pass


def notify_task_failure(context) -> None:
    """Airflow's on_failure_callback: the operator hears about every failed task (the events file under
    the data folder and the operator webhook). Takes Airflow's context by duck typing: no Airflow import."""
    from pipelines.settings import Settings

    ti = context["ti"]
    event = {"dag_id": ti.dag_id, "task_id": ti.task_id, "map_index": ti.map_index, "run_id": ti.run_id,
             "try_number": ti.try_number, "logical_date": context.get("logical_date"),
             "error": repr(context.get("exception"))[:1000]}
    event["summary"] = f"{ti.dag_id}.{ti.task_id} failed in {ti.run_id}: {event['error'][:200]}"
    s = Settings.from_env()
    notify_operator(s.data_dir / "operator-events.jsonl", event, s.environ)


def record(item: dict) -> dict:
    """The JSON form of one alert, as written to files and webhooks."""
    keys = ("alert_id", "rule_id", "kind", "mode", "channel", "created_at", "entity", "matched", "snippet",
            "title", "url", "source", "published_at", "story_id", "claim_id")
    out = {k: item.get(k) for k in keys}
    out["reason"] = json.loads(item["reason"]) if item.get("reason") else None
    return json.loads(json.dumps(out, default=str))


def _send_file(path: Path, items: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    present = set()
    if path.exists():
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                present.add(json.loads(line)["alert_id"])
            except (ValueError, KeyError):
                continue
    with path.open("a", encoding="utf-8") as out:
        for item in items:
            if item["alert_id"] not in present:  # written before a crash kept it from being marked sent
                out.write(json.dumps(record(item), ensure_ascii=False) + "\n")


def _send_email(channel: Channel, items: list[dict], uri: str | None) -> None:
    if not uri:
        raise DeliveryError(f"SMTP not configured (set {channel.options.get('smtp_env') or DEFAULT_SMTP_ENV} "
                            f"or the Airflow connection newsmon_smtp)")
    parts = urlsplit(uri)
    query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    msg = EmailMessage()
    prefix = channel.options.get("subject_prefix", "[newsmon]")
    # A line break in a name or a surface would make EmailMessage raise (header injection refused), and
    # that ValueError would stop every other channel's delivery: a subject is one line.
    msg["Subject"] = " ".join(f"{prefix} {_title(items)}".split())
    msg["From"] = channel.options.get("from") or query.get("from") or "newsmon@localhost"
    to = channel.options["to"]
    msg["To"] = ", ".join(to if isinstance(to, list) else [to])
    # A stable Message-ID lets mail systems drop a repeat of the same alert or digest.
    ids = "|".join(i["alert_id"] for i in items)
    msg["Message-ID"] = f"<{hashlib.sha256(ids.encode()).hexdigest()[:32]}@newsmon>"
    msg.set_content(_text(items))
    msg.add_alternative(_html(items), subtype="html")
    try:
        port = parts.port or (465 if parts.scheme == "smtps" else 25)
    except ValueError:  # urllib's message quotes the port only; ours says which setting to fix
        raise DeliveryError("SMTP URL has an invalid port") from None
    host = parts.hostname or "localhost"
    try:
        if parts.scheme == "smtps":
            server = smtplib.SMTP_SSL(host, port, timeout=20, context=ssl.create_default_context())
        else:
            server = smtplib.SMTP(host, port, timeout=20)
        with server:
            if query.get("starttls", "").lower() in ("1", "true", "yes"):
                server.starttls(context=ssl.create_default_context())
            if parts.username:
                server.login(unquote(parts.username), unquote(parts.password or ""))
            server.send_message(msg)
    except (OSError, smtplib.SMTPException) as exc:
        raise DeliveryError(f"SMTP delivery to {host}:{port} failed: {type(exc).__name__}: {_safe(exc)}") from None


def _post(url: str, payload: dict, items: list[dict], secret: str | None = None) -> None:
    body = json.dumps(payload, ensure_ascii=False, default=str).encode("utf-8")
    headers = {"Content-Type": "application/json", "User-Agent": "newsmon-alerts/0.1",
               "X-Newsmon-Alert-Ids": ",".join(i["alert_id"] for i in items)}
    if secret:
        headers["X-Newsmon-Signature"] = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=15) as resp:
            resp.read()
    except urllib.error.HTTPError as exc:
        raise DeliveryError(f"webhook answered HTTP {exc.code}") from None
    except (urllib.error.URLError, OSError) as exc:
        # The URL itself may carry a token (Slack): say what failed, not where.
        reason = getattr(exc, "reason", exc)
        raise DeliveryError(f"webhook unreachable: {type(reason).__name__}") from None


def verify_signature(secret: str, body: bytes, header: str) -> bool:
    """For receivers: check X-Newsmon-Signature against the raw request body."""
    expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, header or "")


def _title(items: list[dict]) -> str:
    if len(items) == 1:
        return f"{items[0]['rule_id']}: {_why(items[0])}"
    return f"digest: {len(items)} alerts ({', '.join(sorted({i['rule_id'] for i in items}))})"


def _why(item: dict) -> str:
    return json.loads(item["reason"])["why"] if item.get("reason") else str(item.get("matched"))


def _text(items: list[dict]) -> str:
    blocks = []
    for i in items:
        blocks.append(f"Rule {i['rule_id']} ({i['kind']}): {_why(i)}\n"
                      f"{i.get('title') or '(untitled)'} — {i.get('source')}, {i.get('published_at') or 'undated'}\n"
                      f"{i.get('url')}\n\n    {i['snippet']}\n")
    return "\n".join(blocks)


def _html(items: list[dict]) -> str:
    # Article text is untrusted: everything is escaped, and only the «» match markers become <mark>.
    rows = []
    for i in items:
        snip = html.escape(i["snippet"]).replace("«", "<mark>").replace("»", "</mark>")
        url = html.escape(i.get("url") or "", quote=True)
        link = f'<a href="{url}">{html.escape(i.get("title") or "(untitled)")}</a>' if url.startswith("http") \
            else html.escape(i.get("title") or "(untitled)")
        rows.append(f"<li><p><b>{html.escape(i['rule_id'])}</b>: {html.escape(_why(i))}</p>"
                    f"<p>{link} — {html.escape(str(i.get('source')))}</p><blockquote>{snip}</blockquote></li>")
    return f"<html><body><ul>{''.join(rows)}</ul></body></html>"


def _slack_escape(s: object) -> str:
    """Slack's control characters (https://api.slack.com/reference/surfaces/formatting#escaping): with them
    escaped, text from an article cannot open a link or a mention such as <!channel>."""
    return str(s).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _slack_block(item: dict) -> dict:
    esc = _slack_escape
    snip = esc(item["snippet"]).replace("«", "*").replace("»", "*")
    title = esc(item.get("title") or "(untitled)")
    # The URL is article data too: a '>' would close the link and let the rest be read as markup, a '|'
    # would start the label early.
    url = esc(item.get("url") or "").replace("|", "%7C")
    link = f"<{url}|{title}>" if url.startswith(("http://", "https://")) else title
    return {"type": "section", "text": {"type": "mrkdwn",
                                        "text": f"*{esc(item['rule_id'])}*: {esc(_why(item))}\n{link}\n>{snip}"}}


def redact(text: str) -> str:
    """The text with the user and password of every URL in it masked (smtp://user:pw@host -> smtp://***@host)."""
    return _CREDENTIALS.sub(r"\1***@", text)


_CREDENTIALS = re.compile(r"([a-zA-Z][a-zA-Z0-9+.-]*://)[^/\s@\"']+@")


def _safe(exc: BaseException) -> str:
    text = str(exc)
    return text if isinstance(exc, DeliveryError) else text.split("://")[0][:300]
