"""A run's staging folder, data/staging/<run_id>/: what each stage hands the next, as Parquet rows (one file
per stage output, or one per batch of a mapped task), and each stage's counts and failures as JSON. The
DAG's XCom carries only the run reference ({"run_id", "dir", ...}); everything else is read from here."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict
from pathlib import Path

from pipelines.models import LogRecord

STAGES = ("discover", "fetch", "extract", "dedupe", "analyse", "check", "load", "deliver")


def part_name(name: str, part: int | None) -> str:
    return f"{name}.parquet" if part is None else f"{name}.part-{part:04d}.parquet"


def files(run: dict, name: str) -> list[Path]:
    """A stage's output: its one file, or its batches' files in batch order."""
    folder = Path(run["dir"])
    whole = folder / f"{name}.parquet"
    return [whole] if whole.exists() else sorted(folder.glob(f"{name}.part-*.parquet"))


def batch(rows: list, part: int | None, size: int) -> list:
    """Batch `part` of the rows (`size` each, as the DAG's mapped tasks split them); all of them for None."""
    return rows if part is None else rows[part * size:(part + 1) * size]


def write_rows(run: dict, name: str, rows: list[dict], part: int | None = None) -> None:
    import pandas as pd

    path = Path(run["dir"]) / part_name(name, part)
    pd.DataFrame(rows).to_parquet(path, index=False) if rows else path.unlink(missing_ok=True)


def read_all(run: dict, name: str) -> list[dict]:
    out = []
    for f in files(run, name):
        out += read_rows(run, f.name[: -len(".parquet")])
    return out


def read_rows(run: dict, name: str, part: int | None = None) -> list[dict]:
    import pandas as pd

    path = Path(run["dir"]) / part_name(name, part)
    if not path.exists():
        return []
    df = pd.read_parquet(path)
    df = df.astype(object).where(df.notna(), None)
    rows = df.to_dict("records")
    for r in rows:
        for k, v in r.items():
            if hasattr(v, "to_pydatetime"):
                r[k] = v.to_pydatetime()
            elif hasattr(v, "tolist"):
                r[k] = v.tolist()
    return rows


def finish_stage(run: dict, stage: str, counts: dict, logs: Iterable[LogRecord] = (),
                  part: int | None = None) -> dict:
    """Record a stage's (or one batch's) counts and failures, each in its own file: mapped tasks run at
    the same time and must not write one file together."""
    folder = Path(run["dir"])
    suffix = "" if part is None else f".part-{part:04d}"
    write_json(folder / f"log_{stage}{suffix}.json", [asdict(x) for x in logs])
    write_json(folder / f"counts_{stage}{suffix}.json", counts)
    return run_counts(run)


def logs(run: dict) -> list[dict]:
    return [x for f in sorted(Path(run["dir"]).glob("log_*.json")) for x in read_json(f, [])]


def stage_counts(folder: Path, stage: str) -> dict | None:
    """One stage's counts, its batches added up; None while the stage has not finished any batch."""
    files = sorted(folder.glob(f"counts_{stage}*.json"))
    if not files:
        return None
    out: dict = {}
    for f in files:
        for k, v in read_json(f, {}).items():
            out[k] = out.get(k, 0) + v if isinstance(v, int | float) and k in out else v
    return out


def run_counts(run: dict) -> dict:
    """The run's counts so far: every stage's, batches added up."""
    out: dict = {}
    for stage in STAGES:
        out.update(stage_counts(Path(run["dir"]), stage) or {})
    return out


def write_json(path: Path, obj) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(obj, default=str, indent=1), encoding="utf-8")
    tmp.replace(path)

def read_json(path: Path, default=None):
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else default


def frames(run: dict) -> dict:
    """The run's staged tables as DataFrames with the columns the load writes (the check and load stages)."""
    import pandas as pd

    columns = {
        "articles": ["article_id", "url", "source", "title", "published_at", "date_origin", "language", "text",
                     "word_count", "author", "site_name", "content_hash", "minhash", "duplicate_of", "raw_sha256",
                     "fetched_at", "run_id"],
        "entities": ["entity_id", "name", "type", "country_code", "latitude", "longitude", "geonames_id",
                     "precision"],
        "mentions": ["mention_id", "article_id", "entity_id", "surface", "form", "start_char", "end_char",
                     "sentence_index", "label", "type"],
        "claims": ["claim_id", "article_id", "kind", "speaker_entity_id", "speaker", "cue", "text", "start_char",
                   "end_char"],
        "claim_entities": ["claim_id", "article_id", "entity_id", "role"],
    }
    out = {}
    for table, cols in columns.items():
        paths = files(run, table)
        df = pd.concat([pd.read_parquet(f) for f in paths], ignore_index=True) if paths else pd.DataFrame()
        out[table] = df.reindex(columns=cols)
    # Two batches can find the same entity; it is one row.
    out["entities"] = out["entities"].drop_duplicates("entity_id", ignore_index=True)
    out["mentions_load"] = out["mentions"].drop(columns=["type"])
    return out


def first_per_article(rows: Iterable[dict]) -> list[dict]:
    """The first row of each article_id, in order."""
    first: dict[str, dict] = {}
    for r in rows:
        first.setdefault(r["article_id"], r)
    return list(first.values())
