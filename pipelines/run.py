"""The stages in order: the DAG calls them one task each, the CLI calls run_all(). Each stage lives in
pipelines/stages/; a run's reference (id, window, staging folder) in pipelines/runs.py."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable
from datetime import datetime

from pipelines import quality, queries, runs, staging, store
from pipelines.models import LogRecord
from pipelines.settings import Settings
from pipelines.stages.analyse import analyse
from pipelines.stages.check import check
from pipelines.stages.dedupe import dedupe_stage
from pipelines.stages.deliver import deliver
from pipelines.stages.discover import discover
from pipelines.stages.extract import extract_stage
from pipelines.stages.fetch import fetch_stage
from pipelines.stages.load import load
from pipelines.staging import STAGES


def run_all(s: Settings, run: dict, inputs: list[str] | None = None, logical_date: datetime | None = None,
            progress: Callable[[str, dict], None] | None = None, stages: Iterable[str] = STAGES) -> dict:
    """The stages in order (every one by default), in this process (the CLI's `ingest` and `reprocess`;
    the DAG runs the same functions as tasks)."""
    steps = {
        "discover": lambda: discover(s, run, inputs), "fetch": lambda: fetch_stage(s, run),
        "extract": lambda: extract_stage(s, run), "dedupe": lambda: dedupe_stage(s, run),
        "analyse": lambda: analyse(s, run), "check": lambda: check(s, run),
        "load": lambda: load(s, run, logical_date), "deliver": lambda: deliver(s, run),
    }
    stages = list(stages)
    if "check" in stages:
        quality.preload()
    counts: dict = {}
    for name, step in ((n, steps[n]) for n in stages):
        t0 = time.monotonic()
        counts = step()
        if progress:
            progress(name, dict(counts, seconds=round(time.monotonic() - t0, 2)))
    return counts


def reprocess(s: Settings, start: datetime, end: datetime,
              progress: Callable[[str, dict], None] | None = None) -> list[dict]:
    """Rebuild every run whose window starts in [start, end) from what it fetched (the `fetched` table and
    the bytes under data/raw/), without refetching: extract, dedupe, analyse, check, load and deliver
    again, replacing those runs' rows. For a better extractor, model, gazetteer or suite.

    Each run keeps its id, window and logical date, its discovery and fetch counts and failures, so the
    result is what the run would load today from the same pages; a second reprocess changes nothing.
    Returns each run's counts.
    """
    con = store.connect(s.database, read_only=True)
    try:
        stored = queries.runs_starting(con, runs.naive_utc(start), runs.naive_utc(end))
    finally:
        con.close()
    out = []
    for r in stored:
        run = runs.open_run(s, r["run_id"], r["kind"], r["window_start"], r["window_end"])
        before = json.loads(r["counts"] or "{}")
        for stage, keys in (("discover", ("discovered", "discover_failed", "not_modified", "outside_window",
                                          "already_stored")), ("fetch", ("fetched", "fetch_failed", "robots_notes"))):
            # Notes on robots.txt files travel with the fetch stage, where they were written.
            kept = (stage, "robots") if stage == "fetch" else (stage,)
            logs = [LogRecord(**x) for x in r["logs"] if x["stage"] in kept]
            staging.finish_stage(s, run, stage, {k: before[k] for k in keys if k in before}, logs)
        staging.write_rows(s, run, "fetched", r["fetched"])
        counts = run_all(s, run, logical_date=r["logical_date"], progress=progress,
                         stages=("extract", "dedupe", "analyse", "check", "load", "deliver"))
        out.append({"run_id": r["run_id"], "window_start": r["window_start"], **counts})
    return out
