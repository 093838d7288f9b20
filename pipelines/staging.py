"""A run's staging folder, data/staging/<run_id>/ or under NEWSMON_DATA_URL (pipelines/objects.py): what each
stage hands the next, as Parquet rows (one file per stage output, or one per batch of a mapped task), and
each stage's counts and failures as JSON. The DAG's XCom carries only the run reference ({"run_id",
"dir", ...}); everything else is read from here."""

from __future__ import annotations

import fnmatch
import io
import json
from collections.abc import Iterable
from dataclasses import asdict

from pipelines.models import LogRecord
from pipelines.objects import Folder
from pipelines.settings import Settings

STAGES = ("discover", "fetch", "extract", "dedupe", "analyse", "check", "load", "deliver")


def part_name(name: str, part: int | None) -> str:
    return f"{name}.parquet" if part is None else f"{name}.part-{part:04d}.parquet"


def folder(s: Settings, run: dict) -> Folder:
    """The run's staging folder (run["dir"]: a local path, or an s3:// URL with NEWSMON_DATA_URL)."""
    return Folder(run["dir"], s.s3)


def files(s: Settings, run: dict, name: str) -> list[str]:
    """A stage's output: the name of its one file, or of its batches' files in batch order."""
    run_folder = folder(s, run)
    whole = f"{name}.parquet"
    return [whole] if run_folder.exists(whole) else run_folder.names(f"{name}.part-*.parquet")


def batch(rows: list, part: int | None, size: int) -> list:
    """Batch `part` of the rows (`size` each, as the DAG's mapped tasks split them); all of them for None."""
    return rows if part is None else rows[part * size:(part + 1) * size]


def write_rows(s: Settings, run: dict, name: str, rows: list[dict], part: int | None = None) -> None:
    import pandas as pd

    run_folder, file = folder(s, run), part_name(name, part)
    run_folder.write_parquet(file, pd.DataFrame(rows)) if rows else run_folder.delete(file)


def read_all(s: Settings, run: dict, name: str) -> list[dict]:
    out = []
    for f in files(s, run, name):
        out += read_rows(s, run, f[: -len(".parquet")])
    return out


def read_rows(s: Settings, run: dict, name: str, part: int | None = None) -> list[dict]:
    import pandas as pd

    data = folder(s, run).read_bytes(part_name(name, part))  # None where there is no such file
    if data is None:
        return []
    df = pd.read_parquet(io.BytesIO(data))
    df = df.astype(object).where(df.notna(), None)
    rows = df.to_dict("records")
    for r in rows:
        for k, v in r.items():
            if hasattr(v, "to_pydatetime"):
                r[k] = v.to_pydatetime()
            elif hasattr(v, "tolist"):
                r[k] = v.tolist()
    return rows


def finish_stage(s: Settings, run: dict, stage: str, counts: dict, logs: Iterable[LogRecord] = (),
                  part: int | None = None) -> dict:
    """Record a stage's (or one batch's) counts and failures, each in its own file: mapped tasks run at
    the same time and must not write one file together."""
    run_folder = folder(s, run)
    suffix = "" if part is None else f".part-{part:04d}"
    write_json(run_folder, f"log_{stage}{suffix}.json", [asdict(x) for x in logs])
    write_json(run_folder, f"counts_{stage}{suffix}.json", counts)
    return run_counts(s, run)


def logs(s: Settings, run: dict) -> list[dict]:
    run_folder = folder(s, run)
    return [x for f in run_folder.names("log_*.json") for x in read_json(run_folder, f, [])]


def stage_counts(run_folder: Folder, stage: str, listed: list[str] | None = None) -> dict | None:
    """One stage's counts, its batches added up; None while the stage has not finished any batch.
    listed: the folder's counts files, where the caller has listed them already."""
    pattern = f"counts_{stage}*.json"
    names = run_folder.names(pattern) if listed is None else fnmatch.filter(listed, pattern)
    if not names:
        return None
    out: dict = {}
    for f in names:
        for k, v in read_json(run_folder, f, {}).items():
            out[k] = out.get(k, 0) + v if isinstance(v, int | float) and k in out else v
    return out


def run_counts(s: Settings, run: dict) -> dict:
    """The run's counts so far: every stage's, batches added up."""
    run_folder = folder(s, run)
    listed = run_folder.names("counts_*.json")  # one listing, not one per stage (each a request on S3)
    out: dict = {}
    for stage in STAGES:
        out.update(stage_counts(run_folder, stage, listed) or {})
    return out


def write_json(where: Folder, name: str, obj) -> None:
    where.write_bytes(name, json.dumps(obj, default=str, indent=1).encode("utf-8"))


def read_json(where: Folder, name: str, default=None):
    data = where.read_bytes(name)
    return json.loads(data.decode("utf-8")) if data is not None else default


def frames(s: Settings, run: dict) -> dict:
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
    run_folder = folder(s, run)
    for table, cols in columns.items():
        names = files(s, run, table)
        df = pd.concat([run_folder.read_parquet(f) for f in names], ignore_index=True) if names else pd.DataFrame()
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
