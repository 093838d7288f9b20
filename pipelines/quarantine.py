"""Quarantine: the batches a critical data-quality check held back, listed and retried."""

from __future__ import annotations

from pipelines import runs, staging
from pipelines.settings import Settings
from pipelines.stages.check import check
from pipelines.stages.deliver import deliver
from pipelines.stages.load import load


def quarantined(s: Settings) -> list[dict]:
    """Batches held back by a critical check, newest first (by the run's start): run id, window and the
    failed checks."""
    out = []
    for rid in _batches(s):
        folder = s.quarantine / rid
        run = staging.read_json(folder, "run.json", {})
        out.append({"run_id": rid, "kind": run.get("kind"), "window_start": run.get("window_start"),
                    "failed": staging.read_json(folder, "reason.json"), "path": folder.url,
                    "started_at": run.get("started_at") or ""})
    out.sort(key=lambda b: b["started_at"], reverse=True)
    return [{k: v for k, v in b.items() if k != "started_at"} for b in out]


def _batches(s: Settings) -> list[str]:
    """The run ids in quarantine: its subfolders that hold a reason.json."""
    return [rid for rid in s.quarantine.folders() if (s.quarantine / rid).exists("reason.json")]


def retry_quarantined(s: Settings, rid: str) -> dict:
    """Check and load a quarantined batch again (after the cause was fixed: a suite, the code, the data);
    a batch that now passes loads and leaves quarantine, one that still fails stays there."""
    src = s.quarantine / rid
    if not src.exists("reason.json"):
        raise FileNotFoundError(f"no quarantined batch {rid!r} under {s.quarantine.url}")
    dst = s.staging / rid
    src.copy_to(dst, skip=("reason.json",))
    run = dict(staging.read_json(dst, "run.json"), dir=dst.url)
    staging.write_json(dst, "run.json", run)
    check(s, run)
    counts = load(s, run, runs.as_datetime(run["window_start"]) if run["window_start"] else None)
    counts = deliver(s, run)
    if not counts.get("quarantined"):
        src.clear()
    return counts
