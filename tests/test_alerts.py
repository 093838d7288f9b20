import json

import pandas as pd
import pytest

from pipelines import alerts, store


def write(tmp_path, text):
    p = tmp_path / "watchlist.yaml"
    p.write_text(text)
    return p


def test_watchlist_validation_names_the_rule_and_field(tmp_path):
    rules = alerts.load_watchlist(write(tmp_path, "rules:\n  - {id: k, name: Kyiv, aliases: [Kiev], type: LOCATION}\n"))
    assert rules[0].names == ("Kyiv", "Kiev") and rules[0].channels == ("file",)
    assert alerts.load_watchlist(tmp_path / "absent.yaml") == []
    for text, msg in {"rules:\n  - {name: x}\n": "'id'", "rules:\n  - {id: a}\n": "needs 'name'",
                      "rules:\n  - {id: a, name: x, type: CITY}\n": "type",
                      "rules:\n  - {id: a, name: x, channels: [pager]}\n": "pager",
                      "rules:\n  - {id: a, name: x}\n  - {id: a, name: y}\n": "duplicate"}.items():
        with pytest.raises(alerts.WatchlistError, match=msg):
            alerts.load_watchlist(write(tmp_path, text))


def test_one_alert_per_rule_and_story_delivered_once(tmp_path):
    rules = alerts.load_watchlist(write(tmp_path, "rules:\n  - {id: k, name: Kyiv, aliases: [Kiev]}\n"
                                                  "  - {id: s, keywords: [sanctions]}\n"))
    arts = pd.DataFrame([
        {"article_id": "a1", "text": "Kiev and Kyiv. New sanctions.", "duplicate_of": None},
        {"article_id": "a2", "text": "Kiev again, syndicated.", "duplicate_of": "a1"},
    ])
    ments = pd.DataFrame([
        {"mention_id": "m1", "article_id": "a1", "entity_id": "e1", "surface": "Kiev", "form": "Kyiv",
         "start_char": 0, "end_char": 4, "type": "LOCATION"},
        {"mention_id": "m2", "article_id": "a1", "entity_id": "e1", "surface": "Kyiv", "form": "Kyiv",
         "start_char": 9, "end_char": 13, "type": "LOCATION"},
        {"mention_id": "m3", "article_id": "a2", "entity_id": "e1", "surface": "Kiev", "form": "Kyiv",
         "start_char": 0, "end_char": 4, "type": "LOCATION"},
    ])
    rows = alerts.match(rules, arts, ments, pd.Timestamp("2026-11-25"), "r1")
    assert sorted((r["rule_id"], r["article_id"], r["mention_id"]) for r in rows) == [("k", "a1", "m1"),
                                                                                    ("s", "a1", None)]
    assert rows[0]["snippet"].startswith("«Kiev»")
    con = store.connect(tmp_path / "n.duckdb")
    con.register("r", pd.DataFrame(rows))
    con.execute("insert into alerts by name select * from r")
    out = tmp_path / "alerts.jsonl"
    assert alerts.deliver_pending(con, out) == {"sent": 2, "failed": 0}
    assert alerts.deliver_pending(con, out) == {"sent": 0, "failed": 0}
    lines = [json.loads(x) for x in out.read_text().splitlines()]
    assert sorted(x["rule_id"] for x in lines) == ["k", "s"]
    # A crash after writing but before marking sent: the retry does not write the line again.
    con.execute("update alerts set status = 'pending'")
    assert alerts.deliver_pending(con, out)["sent"] == 2
    assert len(out.read_text().splitlines()) == 2
    assert {r[0] for r in con.execute("select status from alerts").fetchall()} == {"sent"}


def test_an_unwritable_channel_keeps_alerts_for_the_next_run(tmp_path):
    con = store.connect(tmp_path / "n.duckdb")
    con.execute("insert into alerts (alert_id, rule_id, article_id, created_at, channel, status, run_id) "
                "values ('x', 'k', 'a1', '2026-11-25', 'file', 'pending', 'r1')")
    blocked = tmp_path / "is-a-dir"
    blocked.mkdir()
    assert alerts.deliver_pending(con, blocked)["failed"] == 1
    assert con.execute("select status, attempts from alerts").fetchone() == ("failed", 1)
    assert alerts.deliver_pending(con, tmp_path / "ok.jsonl")["sent"] == 1
