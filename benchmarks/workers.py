"""Does adding Celery workers speed up the heavy stages? The same DAG run on the same pages with a worker
concurrency of 1 and of 2, on the real platform (PostgreSQL metadata, Redis broker, scheduler, Celery).

    .venv/bin/python benchmarks/workers.py [--limit 600] [--batch-size 50]

Pages: the real pages of ../shared/ (as in benchmarks/pipeline.py), written to a folder that a `folder`
source reads. For each concurrency the script starts a fresh platform and data folder, unpauses
newsmon_daily through the REST API (the scheduler then runs the latest day) and reads the task instances'
times: the span of the mapped stages (first fetch start to last analyse end) and of the whole run.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.pipeline import pages  # noqa: E402
from tests.integration.platform import PG, REDIS, Platform, reachable  # noqa: E402


def one(bodies: list[bytes], concurrency: int, batch_size: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        inbox = tmp / "inbox"
        inbox.mkdir()
        for i, body in enumerate(bodies):
            (inbox / f"page{i:05d}.html").write_bytes(body)
        (tmp / "sources.yaml").write_text(f"sources:\n  - {{name: pages, kind: folder, path: {inbox}}}\n")
        env = {"NEWSMON_DATA_DIR": str(tmp / "data"), "NEWSMON_SOURCES": str(tmp / "sources.yaml"),
               "NEWSMON_WATCHLIST": str(tmp / "none.yaml"), "NEWSMON_BATCH_SIZE": str(batch_size)}
        with Platform(tmp, env, worker_concurrency=concurrency) as af:
            # The run measured is the one the scheduler makes when the DAG is unpaused (the latest day: catchup
            # is off), as in a deployment. A run triggered beside it for another date would compete for the
            # same undated folder pages: whichever ran first took them all and the other stored none.
            af.api("PATCH", "/api/v2/dags/newsmon_daily", {"is_paused": False})
            run = af._wait(lambda: next((r for r in af.runs("newsmon_daily") if r["run_type"] == "scheduled"), None),
                           300, "the scheduled run")
            state = af.wait_run("newsmon_daily", run["dag_run_id"], timeout=3600)
            tis = af.api("GET", f"/api/v2/dags/newsmon_daily/dagRuns/{run['dag_run_id']}/taskInstances?limit=1000")
    spans: dict[str, list[datetime]] = {}
    for ti in tis["task_instances"]:
        if ti["start_date"] and ti["end_date"]:
            spans.setdefault(ti["task_id"], []).append(datetime.fromisoformat(ti["start_date"]))
            spans[ti["task_id"]].append(datetime.fromisoformat(ti["end_date"]))

    def span(*tasks):
        times = [t for task in tasks for t in spans.get(task, [])]
        return (max(times) - min(times)).total_seconds()

    return {"state": state, "mapped": sum(1 for ti in tis["task_instances"] if ti["map_index"] >= 0),
            "heavy": span("fetch", "extract", "dedupe", "analyse"), "run": span(*spans)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--limit", type=int, default=600)
    ap.add_argument("--batch-size", type=int, default=50)
    args = ap.parse_args()
    if not (reachable(PG) and reachable(REDIS)):
        sys.exit("PostgreSQL and Redis must answer on 127.0.0.1 (5432, 6379)")
    bodies = pages(args.limit)
    print(f"{len(bodies)} pages, batches of {args.batch_size}")
    results = {c: one(bodies, c, args.batch_size) for c in (1, 2)}
    for c, r in results.items():
        print(f"worker concurrency {c}: run {r['state']}, {r['mapped']} mapped task instances; "
              f"fetch..analyse {r['heavy']:.1f} s, whole run {r['run']:.1f} s")
    print(f"speed-up of the heavy stages with 2: {results[1]['heavy'] / results[2]['heavy']:.2f}x")


if __name__ == "__main__":
    main()
