"""Data-quality gate: Great Expectations suites on each table batch before it is loaded, plus run- and
source-level checks (volume against the trailing 14 days, completeness of every stage).

A failed critical check stops the load of the batch (it goes to quarantine); a failed warning is
recorded and the batch loads. A check that cannot run counts as failed, never as passed.
"""

from __future__ import annotations

import json
import logging
import statistics
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from pipelines.models import CLAIM_KINDS, ENTITY_TYPES

CRITICAL, WARNING = "critical", "warning"
# Completeness floors: the share of a batch's articles that should have each.
COMPLETENESS = {"with_date": 0.8, "with_entities": 0.8, "with_claims": 0.3}
VOLUME_DAYS = 14
FLOOD_FACTOR = 3.0


@dataclass(frozen=True)
class CheckResult:
    table_name: str
    check_name: str
    severity: str
    success: bool
    observed: str
    details: str


@dataclass(frozen=True)
class Window:
    """What the article checks need of the run: its window and grace period (None for ingest)."""

    start: datetime | None = None
    end: datetime | None = None
    grace_days: float = 1.0

    @property
    def earliest(self) -> datetime | None:
        """The earliest publication time that still belongs to the run: its start minus the grace period
        (late feed entries); None for an ingest, which has no window. The one place this is computed."""
        return self.start - timedelta(days=self.grace_days) if self.start else None


def check_subject(check_name: str) -> str:
    """What a check is about: the column, source or figure after the kind in its name ("volume:Reuters",
    "completeness:dated"). The names are made here, so they are read back here."""
    return check_name.split(":", 1)[1] if ":" in check_name else check_name


def _gx():
    # GX logs its setup at INFO once Airflow has configured logging, and resets its logger on import:
    # quiet it before and after the import.
    logging.getLogger("great_expectations").setLevel(logging.WARNING)
    import great_expectations as gx

    for name in [n for n in logging.root.manager.loggerDict if n.startswith("great_expectations")]:
        logging.getLogger(name).setLevel(logging.WARNING)
    return gx


def preload() -> None:
    """Import GX (3 s of CPU with compiled bytecode, 6 s without) on a background thread, so the check
    stage of a run made in one process (`newsmon run`, `ingest`, `reprocess`) finds it loaded: the import
    overlaps fetching, which waits on the network, or the parallel stages, which leave this process idle."""
    import threading

    threading.Thread(target=_gx, name="newsmon-gx-import", daemon=True).start()


def suites(window: Window) -> dict[str, list]:
    """table -> [(severity, expectation)]: the rules every batch is held to. Foreign keys are checked
    on derived `unresolved_*` columns (the id when it does not resolve): an in-set expectation over
    thousands of ids makes GX serialise the whole set for every batch."""
    e = _gx().expectations
    latest = (window.end or datetime(2100, 1, 1)) + timedelta(days=1)
    earliest = window.earliest or datetime(1900, 1, 1)
    return {
        "articles": [
            (CRITICAL, e.ExpectColumnValuesToNotBeNull(column="article_id")),
            (CRITICAL, e.ExpectColumnValuesToBeUnique(column="article_id")),
            (CRITICAL, e.ExpectColumnValuesToNotBeNull(column="url")),
            (CRITICAL, e.ExpectColumnValuesToNotBeNull(column="text")),
            (CRITICAL, e.ExpectColumnValuesToBeBetween(column="word_count", min_value=1)),
            # No floor: a one-line brief is an article (only an HTML page must hold extract.MIN_WORDS).
            (WARNING, e.ExpectColumnValuesToBeBetween(column="word_count", max_value=50_000)),
            (CRITICAL, e.ExpectColumnValuesToNotBeNull(column="language")),
            (CRITICAL, e.ExpectColumnValuesToBeBetween(column="published_at", min_value=earliest, max_value=latest)),
            (WARNING, e.ExpectColumnValuesToNotBeNull(column="title", mostly=0.9)),
        ],
        "entities": [
            (CRITICAL, e.ExpectColumnValuesToNotBeNull(column="entity_id")),
            (CRITICAL, e.ExpectColumnValuesToBeUnique(column="entity_id")),
            (CRITICAL, e.ExpectColumnValuesToBeInSet(column="type", value_set=list(ENTITY_TYPES))),
            (CRITICAL, e.ExpectColumnValuesToBeBetween(column="latitude", min_value=-90, max_value=90)),
            (CRITICAL, e.ExpectColumnValuesToBeBetween(column="longitude", min_value=-180, max_value=180)),
            (CRITICAL, e.ExpectColumnValuesToBeInSet(column="coordinates_paired", value_set=[True])),
        ],
        "mentions": [
            (CRITICAL, e.ExpectColumnValuesToNotBeNull(column="mention_id")),
            (CRITICAL, e.ExpectColumnValuesToBeUnique(column="mention_id")),
            (CRITICAL, e.ExpectColumnValuesToBeNull(column="unresolved_article_id")),
            (CRITICAL, e.ExpectColumnValuesToBeNull(column="unresolved_entity_id")),
            (CRITICAL, e.ExpectColumnPairValuesAToBeGreaterThanB(column_A="end_char", column_B="start_char")),
            (CRITICAL, e.ExpectColumnValuesToBeInSet(column="offsets_match_surface", value_set=[True])),
        ],
        "claims": [
            (CRITICAL, e.ExpectColumnValuesToNotBeNull(column="claim_id")),
            (CRITICAL, e.ExpectColumnValuesToBeUnique(column="claim_id")),
            (CRITICAL, e.ExpectColumnValuesToBeInSet(column="kind", value_set=list(CLAIM_KINDS))),
            (CRITICAL, e.ExpectColumnValuesToBeNull(column="unresolved_article_id")),
            (CRITICAL, e.ExpectColumnValuesToBeNull(column="unresolved_speaker_entity_id")),
            (CRITICAL, e.ExpectColumnValuesToBeInSet(column="offsets_match_text", value_set=[True])),
        ],
    }


def check(frames: dict, window: Window = Window(), docs_dir: Path | None = None,
          run_name: str = "newsmon", run_time: datetime | None = None) -> list[CheckResult]:
    """Validate the batch's DataFrames (articles, entities, mentions, claims) with Great Expectations.

    Args:
        frames: table name -> DataFrame, as the load stage will write them.
        window: the run's window; publication dates must fall between its start minus the grace period
            and its end plus a day (a later date is in the future).
        docs_dir: where to build the GX Data Docs site (HTML) for this batch; none when None.
        run_name, run_time: how the validation is named in the Data Docs.

    Returns:
        One result per expectation and table.
    """
    gx = _gx()
    from great_expectations.core.run_identifier import RunIdentifier
    from great_expectations.data_context.types.base import ProgressBarsConfig

    articles = frames["articles"]
    texts = dict(zip(articles["article_id"], articles["text"], strict=True))
    views = _derived(frames, texts)
    rules = suites(window)
    ctx = gx.get_context(mode="ephemeral")  # fresh per batch: no state leaks between runs
    ctx.variables.progress_bars = ProgressBarsConfig(globally=False)
    actions = []
    if docs_dir is not None:
        ctx.add_data_docs_site("newsmon", {
            "class_name": "SiteBuilder",
            "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(docs_dir)},
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
        })
        actions = [gx.checkpoint.UpdateDataDocsAction(name="data_docs", site_names=["newsmon"])]
    results: list[CheckResult] = []
    for table, expectations in rules.items():
        df = views[table]
        if df.empty:  # nothing to hold to the rules; GX reports an empty column as a failure
            results.append(CheckResult(table, "rows", WARNING, True, "0 rows", "{}"))
            continue
        try:
            asset = ctx.data_sources.add_pandas(f"newsmon_{table}").add_dataframe_asset(table)
            suite = ctx.suites.add(gx.ExpectationSuite(name=f"newsmon_{table}"))
            for level, exp in expectations:
                exp.meta = {"severity": level}
                suite.add_expectation(exp)
            definition = ctx.validation_definitions.add(gx.ValidationDefinition(
                name=f"newsmon_{table}", data=asset.add_batch_definition_whole_dataframe("batch"), suite=suite))
            checkpoint = ctx.checkpoints.add(gx.Checkpoint(name=f"newsmon_{table}", actions=actions,
                                                           validation_definitions=[definition]))
            outcome = checkpoint.run(batch_parameters={"dataframe": df},
                                     run_id=RunIdentifier(run_name=run_name, run_time=run_time))
            (validation,) = outcome.run_results.values()
        except Exception as exc:  # a suite that fails to run is a failure, never a pass
            results.append(CheckResult(table, "suite_run", CRITICAL, False, "error", repr(exc)[:500]))
            continue
        results += [_result(table, res, len(df)) for res in validation.results]
    return results


def completeness(frames: dict) -> list[CheckResult]:
    """Warnings on how complete each stage is: the share of articles with a date, with entities and
    (English ones) with claims."""
    articles = frames["articles"]
    if articles.empty:
        return []
    english = articles[articles["language"] == "en"]
    shares = {
        "with_date": articles["published_at"].notna().mean(),
        "with_entities": articles["article_id"].isin(frames["mentions"]["article_id"]).mean(),
        "with_claims": english["article_id"].isin(frames["claims"]["article_id"]).mean() if len(english) else 1,
    }
    return [CheckResult("run", f"completeness:{k}", WARNING, float(v) >= COMPLETENESS[k],
                        f"{float(v):.0%} of articles (floor {COMPLETENESS[k]:.0%})", "{}")
            for k, v in shares.items()]


def without_entities(frames: dict, history: list[float]) -> list[CheckResult]:
    """A warning when the share of the batch's articles that got no entity rises above its median over
    the previous VOLUME_DAYS days (`history`, one share per day that had articles): a gate or a model
    that starts losing articles shows here before an analyst misses them."""
    articles = frames["articles"]
    if articles.empty:
        return []
    share = float((~articles["article_id"].isin(frames["mentions"]["article_id"])).mean())
    if not history:
        ok, median, state = True, None, "no history"
    else:
        median = statistics.median(history)
        # A share one article away from the median is noise in a small batch, not a rise.
        ok = share <= median + 1 / len(articles)
        state = "normal" if ok else "risen"
    observed = f"{share:.0%} of {len(articles)} articles without entities"
    observed += f" vs median {median:.0%} over {len(history)} days ({state})" if median is not None else f" ({state})"
    return [CheckResult("run", "without_entities:share", WARNING, ok, observed, json.dumps({"history": history}))]


def volume(batch: dict[str, int], history: dict[str, list[int]], sources: list[str]) -> list[CheckResult]:
    """Warnings on each source's article count against the median of its previous VOLUME_DAYS days:
    a source that used to publish and now has nothing is silent; one far above its median floods.

    Args:
        batch: articles per source in this run.
        history: per source, its article counts for each of the previous days (zeros included).
        sources: every enabled source, so one with no articles at all is still checked.
    """
    out = []
    for source in sorted(set(sources) | set(batch)):
        days = history.get(source, [])
        median = statistics.median(days) if days else 0
        n = batch.get(source, 0)
        if not days or not any(days):
            state, ok = "no history", True
        elif n == 0 and median >= 1:
            state, ok = "silent", False
        elif n > FLOOD_FACTOR * median + 5:
            state, ok = "flood", False
        else:
            state, ok = "normal", True
        out.append(CheckResult("source", f"volume:{source}", WARNING, ok,
                               f"{n} articles vs median {median:g} over {len(days)} days ({state})",
                               json.dumps({"history": days})))
    return out


def blocking(results: list[CheckResult]) -> list[CheckResult]:
    """The failed critical checks: any of them stops the batch's load."""
    return [r for r in results if r.severity == CRITICAL and not r.success]


def _result(table: str, res, rows: int) -> CheckResult:
    cfg = res.expectation_config
    level = (cfg.meta or {}).get("severity", CRITICAL)
    column = cfg.kwargs.get("column") or f"{cfg.kwargs.get('column_A')}>{cfg.kwargs.get('column_B')}"
    raised = bool(res.exception_info and res.exception_info.get("raised_exception"))
    info = res.result or {}
    observed = f"{info.get('unexpected_count', 0)} of {info.get('element_count', rows)} unexpected"
    details = {"sample": [str(v) for v in (info.get("partial_unexpected_list") or [])[:5]]}
    if raised:
        details["error"] = res.exception_info.get("exception_message")
    return CheckResult(table, f"{cfg.type}:{column}", level, bool(res.success) and not raised, observed,
                       json.dumps(details))


def _derived(frames: dict, texts: dict) -> dict:
    """Columns GX cannot compute itself: offsets checked against the article text, paired coordinates."""
    views = dict(frames)
    entity_ids = set(frames["entities"]["entity_id"])
    views["mentions"] = _unresolved(_offset_flag(frames["mentions"], texts, "surface", "offsets_match_surface"),
                                    {"article_id": set(texts), "entity_id": entity_ids})
    views["claims"] = _unresolved(_offset_flag(frames["claims"], texts, "text", "offsets_match_text"),
                                  {"article_id": set(texts), "speaker_entity_id": entity_ids})
    ents = frames["entities"].copy()
    ents["coordinates_paired"] = ents["latitude"].isna() == ents["longitude"].isna()
    views["entities"] = ents
    return views


def _unresolved(df, keys: dict[str, set]):
    for column, valid in keys.items():
        df[f"unresolved_{column}"] = [v if v is not None and v == v and v not in valid else None for v in df[column]]
    return df


def _offset_flag(df, texts: dict, column: str, flag: str):
    out = df.copy()
    out[flag] = [
        isinstance(texts.get(a), str) and 0 <= s < e <= len(texts[a]) and texts[a][s:e] == v
        for a, s, e, v in zip(out["article_id"], out["start_char"], out["end_char"], out[column], strict=True)
    ]
    return out
