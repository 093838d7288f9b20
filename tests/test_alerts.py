"""Alerts: rules evaluated on a real DuckDB file, delivered to a real SMTP server and HTTP receivers."""

import json
from datetime import datetime

import pandas as pd
import pytest

from pipelines import alerts, channels, search, store
from pipelines.models import entity_id, stable_id

DAY = datetime(2026, 11, 24)
NOW = datetime(2026, 11, 25)  # the run's logical time: the end of its daily window


# ---------------------------------------------------------------- a small loaded database


def article(aid, text, day=DAY, duplicate_of=None, run="r1"):
    return {"article_id": aid, "url": f"https://news.example/{aid}", "source": "wire", "title": f"Story {aid}",
            "published_at": day.replace(hour=9), "language": "en", "text": text, "word_count": len(text.split()),
            "content_hash": stable_id(text), "duplicate_of": duplicate_of, "fetched_at": NOW, "run_id": run}


ENTS = {
    "Volodymyr Zelensky": ("PERSON", None, None, None),
    "Kyiv": ("LOCATION", "UA", 50.45, 30.52),
    "Rotterdam": ("LOCATION", "NL", 51.92, 4.48),
    "Marta Kellerman": ("PERSON", None, None, None),
}


def eid(name):
    return entity_id(ENTS[name][0], name.lower())


def mention(aid, text, surface, form=None, nth=0):
    start = -1
    for _ in range(nth + 1):
        start = text.index(surface, start + 1)
    form = form or surface
    return {"mention_id": stable_id(aid, start), "article_id": aid, "entity_id": eid(form), "surface": surface,
            "form": form, "start_char": start, "end_char": start + len(surface), "sentence_index": 0,
            "label": "X"}


def load(con, run, arts, ments, claims=(), watchlist=None):
    entities = pd.DataFrame([{"entity_id": eid(n), "name": n, "type": t, "country_code": c, "latitude": la,
                              "longitude": lo, "geonames_id": None, "precision": None}
                             for n, (t, c, la, lo) in ENTS.items() if any(m["form"] == n for m in ments)])
    frames = {"articles": pd.DataFrame(arts), "entities": entities, "mentions": pd.DataFrame(ments),
              "claims": pd.DataFrame(list(claims), columns=["claim_id", "article_id", "kind", "speaker_entity_id",
                                                            "speaker", "cue", "text", "start_char", "end_char"])}
    store.load_run(con, {"run_id": run, "kind": "daily", "status": "success", "counts": {}}, frames, [], [],
                   lambda c: alerts.evaluate(c, watchlist or alerts.Watchlist(), run, NOW, DAY))


T1 = "Zelenskyy said “new sanctions will follow” in Kiev on Monday, and Kellerman agreed."
T3 = "In Rotterdam, <script>alert(1)</script> protesters & dockers met Marta Kellerman."


@pytest.fixture
def db(database):
    """A database on each backend (a DuckDB file, a lake): the rules and channels behave alike."""
    con = store.connect(database)
    yield con
    con.close()


def loaded(db, watchlist):
    m1 = [mention("a1", T1, "Zelenskyy", "Volodymyr Zelensky"), mention("a1", T1, "Kiev", "Kyiv"),
          mention("a1", T1, "Kellerman", "Marta Kellerman")]
    m2 = [dict(m, mention_id=m["mention_id"] + "d", article_id="a2") for m in m1]
    m3 = [mention("a3", T3, "Rotterdam"), mention("a3", T3, "Marta Kellerman")]
    start = T1.index("new sanctions")
    quote = {"claim_id": "c1", "article_id": "a1", "kind": "quote", "speaker_entity_id": eid("Volodymyr Zelensky"),
             "speaker": "Zelenskyy", "cue": "said", "text": "new sanctions will follow", "start_char": start,
             "end_char": start + len("new sanctions will follow")}
    load(db, "r1", [article("a1", T1), article("a2", T1, duplicate_of="a1"), article("a3", T3)], m1 + m2 + m3,
         [quote], watchlist)
    return db.execute("select rule_id, story_id, matched, reason from alerts order by rule_id, story_id").fetchall()


def watch(tmp_path, text):
    p = tmp_path / "watchlist.yaml"
    p.write_text(text)
    return alerts.load_watchlist(p)


# ---------------------------------------------------------------- rules


def test_watchlist_validation_names_the_rule_and_field(tmp_path):
    wl = watch(tmp_path, "rules:\n  - {id: k, name: Kyiv, aliases: [Kiev], type: LOCATION}\n")
    assert wl.rules[0].names == ("Kyiv", "Kiev") and wl.rules[0].channels == ("file",)
    assert alerts.load_watchlist(tmp_path / "absent.yaml").rules == ()
    for text, msg in {"rules:\n  - {name: x}\n": "'id'", "rules:\n  - {id: a}\n": "needs 'name'",
                      "rules:\n  - {id: a, name: x, type: CITY}\n": "type",
                      "rules:\n  - {id: a, name: x, channels: [pager]}\n": "pager",
                      "rules:\n  - {id: a, name: x, kind: rumour}\n": "kind",
                      "rules:\n  - {id: a, name: x, mode: hourly}\n": "mode",
                      "rules:\n  - {id: a, place: {near: [1]}}\n": "near",
                      "rules:\n  - {id: a, keywords: [x], quoted: true}\n": "quoted",
                      "channels: {m: {type: email}}\nrules: []\n": "needs 'to'",
                      "channels: {s: {type: slack, url: 'https://hooks.example/T0/SECRET'}}\nrules: []\n": "url",
                      "rules:\n  - {id: a, name: x}\n  - {id: a, name: y}\n": "duplicate"}.items():
        with pytest.raises(alerts.WatchlistError, match=msg) as err:
            watch(tmp_path, text)
        assert "watchlist.yaml" in str(err.value)


def test_mention_rules_match_aliases_places_keywords_and_combinations(tmp_path, db):
    wl = watch(tmp_path, """
rules:
  - {id: zelensky, name: Volodymyr Zelensky, aliases: [Zelenskyy], type: PERSON}
  - {id: ua, place: {country: UA}}
  - {id: near-rotterdam, place: {near: [51.9, 4.5], km: 30}}
  - {id: kellerman-in-rotterdam, name: Marta Kellerman, place: {name: Rotterdam}}
  - {id: protest, keywords: [protesters]}
  - {id: quoted, kind: claim, name: Volodymyr Zelensky}
  - {id: about-sanctions, name: Volodymyr Zelensky, about: [sanctions]}
  - {id: about-nato, name: Volodymyr Zelensky, about: [NATO]}
""")
    rows = loaded(db, wl)
    fired = {(r, s) for r, s, _, _ in rows}
    assert fired == {("zelensky", "a1"), ("ua", "a1"), ("near-rotterdam", "a3"), ("kellerman-in-rotterdam", "a3"),
                     ("protest", "a3"), ("quoted", "a1"), ("about-sanctions", "a1")}
    # Never for the syndicated copy a2; and each alert says why, with the alias that matched.
    reason = json.loads(next(r[3] for r in rows if r[0] == "zelensky"))
    assert reason["why"] == "Volodymyr Zelensky mentioned as “Zelenskyy”" and reason["matched"] == "Zelenskyy"
    snippet = db.execute("select snippet from alerts where rule_id = 'quoted'").fetchone()[0]
    assert "«new sanctions will follow»" in snippet


def test_rerunning_the_same_content_creates_no_new_alert(tmp_path, db):
    wl = watch(tmp_path, "rules:\n  - {id: k, name: Kyiv, type: LOCATION}\n")
    first = loaded(db, wl)
    db.execute("update alerts set status = 'sent'")
    assert loaded(db, wl) == first
    assert db.execute("select distinct status from alerts").fetchall() == [("sent",)]


def test_first_appearance_and_spikes(tmp_path, db):
    wl = watch(tmp_path, """
rules:
  - {id: new-person, kind: first_seen, type: PERSON}
  - {id: rising, kind: spike, type: PERSON, spike: {min_count: 3, ratio: 3}}
""")
    history = [article(f"h{d}", f"Marta Kellerman spoke on day {d}.", day=datetime(2026, 11, d), run=f"old{d}")
               for d in (12, 18)]
    load(db, "old", history, [mention(a["article_id"], a["text"], "Marta Kellerman") for a in history])
    today = [article(f"t{i}", f"Kellerman met Volodymyr Zelensky, story {i}.") for i in range(4)]
    ments = [m for a in today for m in (mention(a["article_id"], a["text"], "Kellerman", "Marta Kellerman"),
                                        mention(a["article_id"], a["text"], "Volodymyr Zelensky"))]
    load(db, "r1", today, ments, watchlist=wl)
    rows = db.execute("select rule_id, entity_id, reason from alerts order by rule_id, entity_id").fetchall()
    first = [r for r in rows if r[0] == "new-person"]
    assert [r[1] for r in first] == [eid("Volodymyr Zelensky")]  # Kellerman was seen before
    spikes = {r[1]: json.loads(r[2]) for r in rows if r[0] == "rising"}
    assert set(spikes) == {eid("Marta Kellerman"), eid("Volodymyr Zelensky")}
    kellerman = spikes[eid("Marta Kellerman")]["spike"]
    assert kellerman["count"] == 4 and kellerman["daily"].count(1) == 2 and "14-day mean" in \
        spikes[eid("Marta Kellerman")]["why"]


# ---------------------------------------------------------------- delivery


CHANNELS = """
channels:
  mail: {type: email, to: [desk@example.org], from: newsmon@example.org}
  slack: {type: slack, url_env: TEST_SLACK_URL}
  hook: {type: webhook, url_env: TEST_HOOK_URL, secret_env: TEST_HOOK_SECRET}
"""


def test_each_channel_delivers_once_with_escaped_explained_content(tmp_path, db, smtp, receiver):
    wl = watch(tmp_path, CHANNELS + """
rules:
  - {id: kellerman, name: Marta Kellerman, type: PERSON, channels: [file, mail, slack, hook]}
""")
    loaded(db, wl)
    env = {"NEWSMON_SMTP_URL": smtp.uri, "TEST_SLACK_URL": receiver.url, "TEST_HOOK_URL": receiver.url,
           "TEST_HOOK_SECRET": "s3cret"}
    out = tmp_path / "alerts.jsonl"
    assert channels.deliver(db, wl, out, NOW, env=env) == {"sent": 8, "failed": 0}  # 2 stories x 4 channels
    assert channels.deliver(db, wl, out, NOW, env=env) == {"sent": 0, "failed": 0}
    assert len(out.read_text().splitlines()) == 2 and len(smtp.messages) == 2 and len(receiver.posts) == 4

    msg = next(m for m in smtp.messages if "Rotterdam" in m.get_body(("plain",)).get_content())
    html_part = msg.get_body(("html",)).get_content()
    assert "<script>" not in html_part and "&lt;script&gt;" in html_part and "<mark>Marta Kellerman</mark>" in html_part
    assert 'href="https://news.example/a3"' in html_part and msg["Subject"].startswith("[newsmon] kellerman:")
    assert msg["Message-ID"].endswith("@newsmon>")

    slack = [json.loads(b) for h, b in receiver.posts if "blocks" in json.loads(b)]
    hooks = [(h, b) for h, b in receiver.posts if "alerts" in json.loads(b)]
    assert len(slack) == 2 and "&lt;script&gt;" in json.dumps(slack)
    for headers, body in hooks:
        assert channels.verify_signature("s3cret", body, headers["X-Newsmon-Signature"])
        assert headers["X-Newsmon-Alert-Ids"] == json.loads(body)["alerts"][0]["alert_id"]
    assert not channels.verify_signature("wrong", hooks[0][1], hooks[0][0]["X-Newsmon-Signature"])
    statuses = db.execute("select distinct status, attempts from alerts").fetchall()
    assert statuses == [("sent", 1)]


def test_a_failing_channel_keeps_alerts_and_retries_with_backoff_without_leaking_secrets(tmp_path, db, receiver):
    wl = watch(tmp_path, CHANNELS + "rules:\n  - {id: kyiv, name: Kyiv, channels: [slack]}\n")
    loaded(db, wl)
    env = {"TEST_SLACK_URL": receiver.url}
    receiver.fail = 1
    assert channels.deliver(db, wl, tmp_path / "a.jsonl", NOW, env=env) == {"sent": 0, "failed": 1}
    status, error, retry = db.execute("select status, error, next_attempt_at from alerts").fetchone()
    assert status == "failed" and "HTTP 500" in error and retry == datetime(2026, 11, 25, 1)
    assert "SECRET-TOKEN" not in error
    # Not due yet at the same logical time; the next run delivers it, once.
    assert channels.deliver(db, wl, tmp_path / "a.jsonl", NOW, env=env) == {"sent": 0, "failed": 0}
    assert channels.deliver(db, wl, tmp_path / "a.jsonl", datetime(2026, 11, 26), env=env)["sent"] == 1
    assert channels.deliver(db, wl, tmp_path / "a.jsonl", datetime(2026, 11, 27), env=env)["sent"] == 0
    assert len(receiver.posts) == 1
    # An unreachable endpoint: the reason names the failure, never the URL with its token.
    receiver.httpd.shutdown()
    receiver.httpd.server_close()
    db.execute("update alerts set status = 'pending', next_attempt_at = null")
    channels.deliver(db, wl, tmp_path / "a.jsonl", NOW, env=env)
    error = db.execute("select error from alerts").fetchone()[0]
    assert "unreachable" in error and "SECRET" not in error and "127.0.0.1" not in error


def test_digest_groups_a_days_alerts_into_one_message(tmp_path, db, smtp):
    wl = watch(tmp_path, CHANNELS + """
rules:
  - {id: people, type: PERSON, mode: digest, channels: [mail]}
  - {id: places, type: LOCATION, mode: digest, channels: [mail]}
""")
    loaded(db, wl)
    env = {"NEWSMON_SMTP_URL": smtp.uri}
    # An hourly run in the middle of the day holds the digest back; the run that closes the day sends it.
    assert channels.deliver(db, wl, tmp_path / "a.jsonl", datetime(2026, 11, 24, 13), env=env)["sent"] == 0
    assert channels.deliver(db, wl, tmp_path / "a.jsonl", NOW, env=env) == {"sent": 4, "failed": 0}
    (msg,) = smtp.messages
    assert msg["Subject"] == "[newsmon] digest: 4 alerts (people, places)"
    assert msg.get_body(("plain",)).get_content().count("Rule ") == 4


def test_the_example_watchlist_is_valid():
    from pipelines.settings import REPO_ROOT

    wl = alerts.load_watchlist(REPO_ROOT / "config" / "watchlist.example.yaml")
    assert {r.kind for r in wl.rules} == set(alerts.KINDS) and {c.type for c in wl.channels.values()} == set(
        alerts.CHANNEL_TYPES)


def test_a_snippet_marks_only_the_match_even_in_text_quoted_with_guillemets():
    text = "Il a dit « non » à Paris hier, « jamais »."
    snip = search.snippet(text, text.index("Paris"), text.index("Paris") + 5)
    assert snip.count("«") == 1 and snip.count("»") == 1 and "«Paris»" in snip and "‹ non ›" in snip


def _deliver_at(target, wl_path, out, start):
    """A worker process: wait for the common start, then deliver what is due; what it sent."""
    import time

    con = store.connect(target)
    wl = alerts.load_watchlist(wl_path)
    time.sleep(max(0.0, start - time.time()))
    counts = channels.deliver(con, wl, out, NOW, env={})
    con.close()
    return counts["sent"]


def test_two_deliveries_at_once_on_a_lake_send_each_alert_once(tmp_path):
    # Two workers delivering the same due alerts (two alert tasks on a lake with two writer slots): the
    # claim makes one of them find the alerts taken.
    import multiprocessing
    import time

    from tests.conftest import drop_lake, new_lake

    target = new_lake(tmp_path)
    try:
        wl_path = tmp_path / "watchlist.yaml"
        wl_path.write_text(CHANNELS + """
rules:
  - {id: kellerman, name: Marta Kellerman, type: PERSON, channels: [file]}
  - {id: kyiv, name: Kyiv, channels: [file]}
""")
        con = store.connect(target)
        loaded(con, alerts.load_watchlist(wl_path))
        due = con.execute("select count(*) from alerts where status = 'pending'").fetchone()[0]
        con.close()
        out = tmp_path / "alerts.jsonl"
        ctx = multiprocessing.get_context("spawn")
        with ctx.Pool(2) as pool:
            sent = pool.starmap(_deliver_at, [(target, wl_path, out, time.time() + 5)] * 2)
        lines = [json.loads(x)["alert_id"] for x in out.read_text().splitlines()]
        assert sorted(lines) == sorted(set(lines)) and len(lines) == due == sum(sent) > 1, (sent, due)
    finally:
        drop_lake(target)


def test_a_claim_whose_delivery_died_is_sent_at_the_next_run(tmp_path, db):
    wl = watch(tmp_path, CHANNELS + """
rules:
  - {id: kellerman, name: Marta Kellerman, type: PERSON, channels: [file]}
""")
    loaded(db, wl)
    # A delivery claimed them at NOW and its process died before sending.
    db.execute("update alerts set status = 'sending', next_attempt_at = $now", {"now": NOW})
    out = tmp_path / "alerts.jsonl"
    assert channels.deliver(db, wl, out, NOW, env={})["sent"] == 0  # the same run: still claimed
    assert channels.deliver(db, wl, out, datetime(2026, 11, 26), env={})["sent"] == 2
    assert db.execute("select distinct status from alerts").fetchall() == [("sent",)]
