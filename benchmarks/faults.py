"""SIGKILL at random moments of a daily run: the database is always the state before the run or the state
after its load, never a mix, and the next run completes the date to exactly the state of an undisturbed run.

    .venv/bin/python benchmarks/faults.py [--trials 20] [--seed 1]

Serves the demo corpus on loopback, loads 2026-11-23 with `newsmon ingest`-style stages, then, for each
trial, starts the run of 2026-11-24 in a child process (every stage: discover to deliver), kills it with
SIGKILL after a random delay (every other trial within the last fifth of the time an undisturbed run
takes, where the load and the alerts' delivery are), checks what the database holds, and runs the date
again to the end. Prints the outcomes: where the kill landed, and whether every check held.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipelines import demo  # noqa: E402

BEFORE, DAY = datetime(2026, 11, 23), datetime(2026, 11, 24)
# What a run loads (content and marts); runs, dq_results, alerts and fetch_log also carry delivery state
# that the deliver stage updates after the load.
CONTENT = ("articles", "mentions", "claims", "entities", "entity_daily", "entity_forms", "fetched")
EVERYTHING = CONTENT + ("fetch_log", "dq_results", "alerts", "runs")
CHILD = """
import sys
from datetime import datetime, timedelta
from pipelines import run, runs
from pipelines.settings import Settings
day = datetime.fromisoformat(sys.argv[1])
s = Settings.from_env()
print("started", flush=True)
run.run_all(s, runs.new_run(s, "daily", day, day + timedelta(days=1)), logical_date=day)
"""


def daily(env: dict, day: datetime) -> float:
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", CHILD, day.isoformat()], env=env, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - t0


def dump(db: Path, tables=EVERYTHING) -> dict:
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    try:
        out = {}
        for t in tables:
            cols = "* exclude (started_at, finished_at)" if t == "runs" else "*"
            out[t] = con.execute(f"select {cols} from {t} order by all").fetchall()
        # Alerts are checked in the file channel: each alert id once, whatever the kills.
        return out
    finally:
        con.close()


def alert_lines(path: Path) -> list[str]:
    return [json.loads(line)["alert_id"] for line in path.read_text().splitlines()] if path.exists() else []


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trials", type=int, default=20)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory() as tmp, demo.DemoServer() as url:
        tmp = Path(tmp)
        base = tmp / "base"
        env = dict(os.environ, NEWSMON_DATA_DIR=str(base), NEWSMON_SOURCES=str(tmp / "sources.yaml"),
                   NEWSMON_WATCHLIST=str(ROOT / "demo" / "watchlist.yaml"), PYTHONPATH=str(ROOT),
                   NEWSMON_HOST_DELAY="0")
        demo.write_sources(tmp / "sources.yaml", url)
        daily(env, BEFORE)
        before = dump(base / "newsmon.duckdb")
        reference = tmp / "reference"
        shutil.copytree(base, reference)
        took = daily(dict(env, NEWSMON_DATA_DIR=str(reference)), DAY)
        after = dump(reference / "newsmon.duckdb")
        after_alerts = sorted(alert_lines(reference / "alerts.jsonl"))
        print(f"an undisturbed run of {DAY:%Y-%m-%d} takes {took:.1f} s; it loads "
              f"{len(after['articles']) - len(before['articles'])} articles and "
              f"{len(after_alerts) - len(alert_lines(base / 'alerts.jsonl'))} alerts")

        outcomes: Counter = Counter()
        bad = []
        for i in range(args.trials):
            data = tmp / f"trial-{i}"
            shutil.copytree(base, data)
            trial_env = dict(env, NEWSMON_DATA_DIR=str(data))
            proc = subprocess.Popen([sys.executable, "-c", CHILD, DAY.isoformat()], env=trial_env,
                                    stdout=subprocess.PIPE, text=True)
            proc.stdout.readline()  # imports done: the run itself starts now
            # Half the kills anywhere in the run, half in its last fifth, where the load and the delivery
            # of alerts happen (a uniform draw alone would seldom land there).
            delay = rng.uniform(0, took) if i % 2 == 0 else rng.uniform(0.8 * took, 1.05 * took)
            time.sleep(delay)
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            state = dump(data / "newsmon.duckdb", CONTENT)
            if all(state[t] == before[t] for t in CONTENT):
                landed = "before the load committed"
            elif all(state[t] == after[t] for t in CONTENT):
                landed = "after the load committed"
            else:
                landed = "MIXED STATE"
                mixed = [t for t in CONTENT if state[t] not in (before[t], after[t])]
                bad.append((i, delay, f"mixed state after the kill: {', '.join(mixed)}"))
            daily(trial_env, DAY)
            final = dump(data / "newsmon.duckdb")
            lines = alert_lines(data / "alerts.jsonl")
            if final != after:
                differ = [t for t in EVERYTHING if final[t] != after[t]]
                bad.append((i, delay, f"the next run did not reach the undisturbed state: {', '.join(differ)}"))
            if sorted(lines) != after_alerts:
                bad.append((i, delay, f"alerts file differs ({len(lines)} lines, {len(set(lines))} distinct)"))
            outcomes[landed] += 1
            shutil.rmtree(data)
            print(f"trial {i + 1:2}: killed after {delay:5.2f} s, {landed}; the rerun "
                  f"{'completed the date' if final == after else 'DIFFERS'}", flush=True)

    print(f"\n{args.trials} runs killed with SIGKILL at a random moment:")
    for landed, n in sorted(outcomes.items()):
        print(f"  {n:3}  {landed}")
    print(f"  {len(bad):3}  checks failed" + "".join(f"\n       trial {i + 1} at {d:.2f} s: {why}"
                                                    for i, d, why in bad))
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
