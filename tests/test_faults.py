"""Faults: a load killed with SIGKILL, a backfill with a failing day, the same date run three times, an
alert channel down for two runs. Real HTTP servers on loopback, real DuckDB files, the real stages."""

import json
import os
import random
import signal
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from pipelines import run, runs
from pipelines.models import run_id
from tests.conftest import page

FIRST = datetime(2026, 11, 10)
WORDS = ("harbour council river bridge tariff grain vessel union strike court ruling mayor budget school "
         "hospital storm flood rail station airport minister pension farmer market energy price wage "
         "museum festival bishop police border customs village election ballot senate coalition reform "
         "factory export import drought wildfire vaccine clinic teacher student library tunnel highway").split()
# Columns that say when a run happened on the wall clock, not what it loaded.
WALL_CLOCK = {"runs": ("started_at", "finished_at")}
TABLES = ("articles", "mentions", "claims", "entities", "entity_daily", "entity_forms", "fetched", "fetch_log",
          "dq_results", "alerts", "runs")


def story(rng: random.Random, day: datetime, n: int) -> str:
    paragraphs = [" ".join(rng.choice(WORDS) for _ in range(45)).capitalize() + "." for _ in range(3)]
    return page(f"Story {n} of {day:%d %B}", paragraphs, published=f"{day:%Y-%m-%d}T12:00:00Z")


@pytest.fixture
def newsroom(site, settings):
    """A feed listing two stories a day for a week, each published at noon on its day."""
    rng = random.Random(11)
    items = []
    for d in range(7):
        day = FIRST + timedelta(days=d)
        for n in range(2):
            url = site.add(f"/{day:%Y-%m-%d}/{n}.html", story(rng, day, n))
            items.append(f"<item><title>Story {n}</title><link>{url}</link>"
                         f"<pubDate>{day:%a, %d %b %Y} 12:00:00 GMT</pubDate></item>")
    site.add("/feed.xml", f"<rss version='2.0'><channel><title>wire</title>{''.join(items)}</channel></rss>",
             "application/rss+xml")
    settings.sources_path.write_text(f"sources:\n  - {{name: wire, kind: rss, url: '{site.url}/feed.xml', "
                                     "local: true}\n")
    return site


def daily(settings, day: datetime) -> dict:
    ref = runs.new_run(settings, "daily", day, day + timedelta(days=1))
    return run.run_all(settings, ref, logical_date=day)


def dump(settings) -> dict:
    con = duckdb.connect(str(settings.db_path), read_only=True)
    try:
        out = {}
        for table in TABLES:
            skip = WALL_CLOCK.get(table)
            cols = f"* exclude ({', '.join(skip)})" if skip else "*"
            out[table] = con.execute(f"select {cols} from {table} order by all").fetchall()
        return out
    finally:
        con.close()


def test_a_backfill_with_a_failing_day_completes_the_others_and_the_day_reruns_cleanly(newsroom, settings):
    feed = newsroom.routes["/feed.xml"]
    for d in range(7):
        day = FIRST + timedelta(days=d)
        if d == 3:
            newsroom.add("/feed.xml", "upstream error", "text/plain", status=500)
        counts = daily(settings, day)
        if d == 3:
            assert counts["discover_failed"] == 1 and counts["fetched"] == 0
            newsroom.routes["/feed.xml"] = feed
        elif d == 4:
            assert counts["fetched"] >= 2
    con = duckdb.connect(str(settings.db_path), read_only=True)
    assert con.execute("select count(*), count(distinct url) from articles").fetchone() == (14, 14)
    assert con.execute("select count(*) from runs where status = 'success'").fetchone()[0] == 7
    failed_day = run_id("daily", FIRST + timedelta(days=3), FIRST + timedelta(days=4))
    assert con.execute("select stage, http_status from fetch_log where run_id = $r",
                       {"r": failed_day}).fetchall() == [("discover", 500)]
    con.close()
    before = dump(settings)

    counts = daily(settings, FIRST + timedelta(days=3))  # the source is back
    assert counts["discover_failed"] == 0
    after = dump(settings)
    con = duckdb.connect(str(settings.db_path), read_only=True)
    assert con.execute("select count(*) from fetch_log where run_id = $r", {"r": failed_day}).fetchone()[0] == 0
    assert con.execute("select count(*), count(distinct url) from articles").fetchone() == (14, 14)
    con.close()
    # Only the failed day's own rows changed: its log is gone and its counts say what it found now.
    assert {t for t in TABLES if before[t] != after[t]} <= {"fetch_log", "runs", "dq_results"}


def test_the_same_date_three_times_gives_identical_tables(newsroom, settings):
    day = FIRST + timedelta(days=2)
    daily(settings, day)
    first = dump(settings)
    assert len(first["articles"]) == 4  # its two stories and, within the grace day, the day before's
    for _ in range(2):
        daily(settings, day)
        assert dump(settings) == first


KILLER = """
import json, sys, time
from pipelines import alerts, run
from pipelines.settings import Settings

def stall(*args, **kwargs):
    # Inside the load's transaction, after the content rows are written: the worst moment to die.
    print("in-transaction", flush=True)
    time.sleep(600)

alerts.evaluate = stall
run.load(Settings.from_env(), json.loads(sys.argv[1]))
"""


def test_a_load_killed_with_sigkill_leaves_the_previous_tables_and_the_next_run_completes(newsroom, settings,
                                                                                         tmp_path):
    daily(settings, FIRST)
    before = dump(settings)
    day = FIRST + timedelta(days=1)
    ref = runs.new_run(settings, "daily", day, day + timedelta(days=1))
    run.run_all(settings, ref, logical_date=day, stages=("discover", "fetch", "extract", "dedupe", "analyse",
                                                        "check"))
    env = dict(os.environ, NEWSMON_DATA_DIR=str(settings.data_dir), NEWSMON_SOURCES=str(settings.sources_path),
               NEWSMON_WATCHLIST=str(tmp_path / "watchlist.yaml"), PYTHONPATH=str(Path(__file__).parents[1]))
    proc = subprocess.Popen([sys.executable, "-c", KILLER, json.dumps(ref)], env=env, stdout=subprocess.PIPE,
                            text=True)
    try:
        assert proc.stdout.readline().strip() == "in-transaction"
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
    finally:
        proc.kill()
    assert proc.returncode == -signal.SIGKILL
    assert dump(settings) == before  # nothing of the killed load, nothing lost of the day before

    counts = daily(settings, day)  # the next run of the date completes it
    assert counts["kept"] >= 2
    after = dump(settings)
    assert len(after["articles"]) == len(before["articles"]) + counts["kept"]
    assert {r[0] for r in before["articles"]} < {r[0] for r in after["articles"]}


def test_an_alert_channel_down_for_two_runs_delivers_everything_once_when_it_is_back(newsroom, settings,
                                                                                    receiver):
    receiver.fail = 10**6  # down
    settings.watchlist_path.write_text(
        f"channels:\n  desk: {{type: webhook, url: '{receiver.url}'}}\n"
        "rules:\n  - {id: harbour, keywords: [harbour], channels: [desk]}\n")
    for d in range(2):
        daily(settings, FIRST + timedelta(days=d))
    con = duckdb.connect(str(settings.db_path), read_only=True)
    waiting = con.execute("select alert_id, status, attempts from alerts order by 1").fetchall()
    con.close()
    assert waiting and all(status == "failed" for _, status, _ in waiting)
    assert max(attempts for *_, attempts in waiting) == 2  # the first day's were retried by the second
    receiver.fail = 0  # back
    for d in range(2, 4):
        daily(settings, FIRST + timedelta(days=d))
    con = duckdb.connect(str(settings.db_path), read_only=True)
    every = [r[0] for r in con.execute("select alert_id from alerts order by 1").fetchall()]
    assert con.execute("select distinct status from alerts").fetchall() == [("sent",)]
    con.close()
    delivered = [a for headers, _ in receiver.posts for a in headers["X-Newsmon-Alert-Ids"].split(",")]
    assert sorted(delivered) == every  # each alert exactly once, the missed ones included
    assert {a for a, *_ in waiting} < set(every)
