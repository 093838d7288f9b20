"""newsmon_daily run by Airflow (dag.test, SQLite metadata) against the demo corpus served on loopback."""

import json
import socket

import duckdb
import pytest

from pipelines import cli
from pipelines.settings import REPO_ROOT

pytestmark = pytest.mark.slow
TABLES = ("articles", "entities", "mentions", "claims", "alerts", "fetch_log", "dq_results")
DEMO_PAGES = len(list((REPO_ROOT / "demo" / "site" / "articles").rglob("*.html")))


def snapshot(db):
    con = duckdb.connect(str(db), read_only=True)
    try:
        tables = {t: sorted(map(repr, con.execute(f"select * from {t}").fetchall())) for t in TABLES}
        tables["runs"] = con.execute("select run_id, kind, logical_date, window_start, window_end, status, counts "
                                     "from runs").fetchall()
        return tables
    finally:
        con.close()


def test_demo_run_fills_every_table_and_a_rerun_changes_nothing(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("NEWSMON_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("NEWSMON_BATCH_SIZE", "10")  # 26 feed entries: three mapped batches per heavy stage
    monkeypatch.delenv("NEWSMON_DB", raising=False)
    db = tmp_path / "data" / "newsmon.duckdb"
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = str(sock.getsockname()[1])
    assert cli.main(["demo", "--date", "2026-11-24", "--port", port]) == 0
    out = capsys.readouterr().out
    assert "Top actors on 2026-11-24" in out and "Amina Wanjiru" in out and "duplicates 1" in out

    con = duckdb.connect(str(db), read_only=True)
    q = lambda sql: con.execute(sql).fetchall()  # noqa: E731
    assert q("select count(*) from articles")[0][0] == DEMO_PAGES
    (dup_title,), = q("select title from articles where duplicate_of is not null")
    first = q("select a.source, b.url from articles a join articles b on a.duplicate_of = b.article_id")
    assert "harbour-ledger" in first[0][1] and dup_title
    assert q("select count(*) from articles where published_at is null or date_origin <> 'page'")[0][0] == 0
    boilerplate = "select count(*) from articles where text like '%uses cookies%' or text like '%Related stories%'"
    assert q(boilerplate)[0][0] == 0
    # Kiev and Kyiv, in two articles, are one entity; surnames are linked to full names.
    assert q("select aliases from entities where name = 'Kyiv'")[0][0] == ["Kiev"]
    assert q("select count(*) from entities where name in ('Kellerman', 'Okafor', 'Wanjiru')")[0][0] == 0
    assert q("select type from entities where name = 'Marta Kellerman'") == [("PERSON",)]
    assert q("select country_code from entities where type = 'LOCATION' and name = 'Mombasa'") == [("KE",)]
    assert q("""select count(*) from mentions m join articles a using (article_id)
                where substr(a.text, m.start_char + 1, m.end_char - m.start_char) <> m.surface""")[0][0] == 0
    speakers = dict(q("""select e.name, count(*) from claims c join entities e on e.entity_id = c.speaker_entity_id
                         where kind = 'quote' group by 1"""))
    assert speakers.get("Tomas Okafor", 0) >= 5 and speakers.get("Marta Kellerman", 0) >= 3
    assert q("select count(*) from claims where kind = 'quantity'")[0][0] >= 10
    reasons = sorted(r[0] for r in q("select stage from fetch_log"))
    assert reasons == ["discover", "fetch", "fetch"]  # offline feed, 404 page, PDF link
    assert q("select count(*) from dq_results where severity = 'critical' and not success")[0][0] == 0
    assert q("select count(*) from dq_results")[0][0] >= 20
    (status, counts), = q("select status, counts from runs")
    counts = json.loads(counts)
    assert status == "success" and counts["duplicates"] == 1 and counts["fetch_failed"] == 2
    assert counts["fetched"] == DEMO_PAGES and counts["extracted"] == DEMO_PAGES  # summed over the batches
    staged = sorted(p.name for p in (tmp_path / "data" / "staging").glob("*/fetched.part-*.parquet"))
    assert len(staged) == 3
    alerts = q("select rule_id, status from alerts")
    assert alerts and {s for _, s in alerts} == {"sent"}
    assert {"amina-wanjiru", "mombasa", "braxton-shipping"} <= {r for r, _ in alerts}
    # The syndicated copy does not alert again.
    assert q("""select count(*) from alerts al join articles a using (article_id)
                where a.duplicate_of is not null""")[0][0] == 0
    con.close()
    lines = (tmp_path / "data" / "alerts.jsonl").read_text().splitlines()
    assert len(lines) == len(alerts)

    assert cli.main(["dq", "--date", "2026-11-24"]) == 0
    dq = capsys.readouterr().out
    assert "LOADED" in dq and "0 critical failure(s)" in dq and "demo-wire" in dq and "Data Docs:" in dq

    before = snapshot(db)
    assert cli.main(["demo", "--date", "2026-11-24", "--port", port]) == 0
    assert snapshot(db) == before
    assert (tmp_path / "data" / "alerts.jsonl").read_text().splitlines() == lines


def test_a_failing_task_fails_the_run_and_notifies_the_operator(tmp_path, monkeypatch, capsys):
    sources = tmp_path / "sources.yaml"
    sources.write_text("sources:\n  - {name: broken, kind: gopher}\n")  # invalid: discover raises
    monkeypatch.setenv("NEWSMON_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("NEWSMON_SOURCES", str(sources))
    monkeypatch.setenv("NEWSMON_TASK_RETRIES", "0")
    monkeypatch.delenv("NEWSMON_DB", raising=False)
    assert cli.main(["run", "--date", "2026-11-24"]) == 2
    assert "the DAG run failed" in capsys.readouterr().err
    (event,) = [json.loads(x) for x in (tmp_path / "data" / "operator-events.jsonl").read_text().splitlines()]
    assert event["task_id"] == "discover" and "kind" in event["error"] and event["dag_id"] == "newsmon_daily"
