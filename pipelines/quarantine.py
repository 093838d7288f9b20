"""Quarantine: the batches a critical data-quality check held back, listed and retried."""

from __future__ import annotations

import shutil

from pipelines import runs, staging
from pipelines.settings import Settings
from pipelines.stages.check import check
from pipelines.stages.deliver import deliver
from pipelines.stages.load import load


def quarantined(s: Settings) -> list[dict]:
    """Batches held back by a critical check, newest first: run id, window and the failed checks."""
    folder = s.data_dir / "quarantine"
    out = []
    for d in sorted(folder.glob("*/reason.json"), key=lambda p: p.stat().st_mtime, reverse=True):
        run = staging.read_json(d.parent / "run.json", {})
        out.append({"run_id": d.parent.name, "kind": run.get("kind"), "window_start": run.get("window_start"),
                    "failed": staging.read_json(d), "path": str(d.parent)})
    return out


def retry_quarantined(s: Settings, rid: str) -> dict:
    """Check and load a quarantined batch again (after the cause was fixed: a suite, the code, the data);
    a batch that now passes loads and leaves quarantine, one that still fails stays there."""
    src = s.data_dir / "quarantine" / rid
    if not (src / "reason.json").exists():
        raise FileNotFoundError(f"no quarantined batch {rid!r} under {src.parent}")
    dst = s.staging_dir / rid
    shutil.rmtree(dst, ignore_errors=True)
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns("reason.json"))
    run = dict(staging.read_json(dst / "run.json"), dir=str(dst))
    staging.write_json(dst / "run.json", run)
    check(s, run)
    counts = load(s, run, runs.as_datetime(run["window_start"]) if run["window_start"] else None)
    counts = deliver(s, run)
    if not counts.get("quarantined"):
        shutil.rmtree(src)
    return counts
