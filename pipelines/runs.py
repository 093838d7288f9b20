"""A run's reference: its id, the window it covers, its staging folder and its logical time. A run is the
small dict (run_id, kind, window, staging dir) that XCom carries between the DAG's tasks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from pipelines import quality, staging
from pipelines.models import run_id
from pipelines.settings import Settings


def window_for(logical_date: datetime, interval_start: datetime | None, interval_end: datetime | None):
    """The window a run covers: it starts at the logical date and lasts as long as the data interval.

    A scheduled or backfill run's logical date is its interval start, so this is its interval; a manual
    run (`dag.test`, `newsmon run --date D`) covers D and the period after it, like the scheduled run of D.
    """
    length = (interval_end - interval_start) if interval_start and interval_end else timedelta(days=1)
    if length <= timedelta(0):
        length = timedelta(days=1)
    start = naive_utc(logical_date)
    return start, start + length


def new_run(s: Settings, kind: str, start: datetime | None = None, end: datetime | None = None,
            scope: str = "") -> dict:
    """Create the run reference and an empty staging folder for it (a rerun starts clean)."""
    return open_run(s, run_id(kind, start, end, scope), kind, start, end)


def open_run(s: Settings, rid: str, kind: str, start: datetime | None, end: datetime | None) -> dict:
    folder = s.staging / rid
    folder.clear()
    folder.make()
    run = {"run_id": rid, "kind": kind, "dir": folder.url,
           "window_start": start.isoformat() if start else None, "window_end": end.isoformat() if end else None,
           # Operational only (started_at): when it ran, never what it covers.
           "started_at": datetime.now(UTC).replace(tzinfo=None).isoformat(timespec="seconds")}
    staging.write_json(folder, "run.json", run)
    return run


def window(s: Settings, run: dict) -> quality.Window:
    if not run["window_start"]:
        return quality.Window(grace_days=s.grace_days)
    return quality.Window(as_datetime(run["window_start"]), as_datetime(run["window_end"]), s.grace_days)


def run_time(s: Settings, run: dict) -> datetime | None:
    """The run's logical time: its window's end; for an ingest, when its newest input was obtained."""
    if run["window_end"]:
        return as_datetime(run["window_end"])
    import pandas as pd

    folder = staging.folder(s, run)
    stamps = [folder.read_parquet(f, columns=["fetched_at"])["fetched_at"].max()
              for f in staging.files(s, run, "articles")]
    stamps = [t for t in stamps if pd.notna(t)]
    return max(stamps).to_pydatetime() if stamps else None


def as_datetime(value) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))


def naive_utc(dt: datetime | None) -> datetime | None:
    if dt is None:
        return None
    return dt.astimezone(UTC).replace(tzinfo=None) if dt.tzinfo else dt
