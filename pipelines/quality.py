"""Data-quality gate: Great Expectations suites on each table batch before it is loaded.

A failed critical check stops the load of the batch (it goes to quarantine); a failed warning is
recorded and the batch loads. A check that cannot run counts as failed, never as passed.
"""

from __future__ import annotations

import functools
import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from pipelines.models import CLAIM_KINDS, ENTITY_TYPES

CRITICAL, WARNING = "critical", "warning"


@dataclass(frozen=True)
class CheckResult:
    table_name: str
    check_name: str
    severity: str
    success: bool
    observed: str
    details: str


@functools.cache
def _context():
    # GX logs its configuration at import when Airflow has configured logging first; keep it quiet.
    logging.getLogger("great_expectations").setLevel(logging.WARNING)
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    ctx = gx.get_context(mode="ephemeral")
    ctx.variables.progress_bars = ProgressBarsConfig(globally=False)
    return ctx


def suites(window_end: datetime | None, article_ids: list[str], entity_ids: list[str]):
    """(table, severity, expectation) triples: the rules every batch is held to."""
    import great_expectations as gx

    e = gx.expectations
    latest = (window_end or datetime(2100, 1, 1)) + timedelta(days=1)
    rules = {
        "articles": [
            (CRITICAL, e.ExpectColumnValuesToNotBeNull(column="article_id")),
            (CRITICAL, e.ExpectColumnValuesToBeUnique(column="article_id")),
            (CRITICAL, e.ExpectColumnValuesToNotBeNull(column="url")),
            (CRITICAL, e.ExpectColumnValuesToNotBeNull(column="text")),
            (CRITICAL, e.ExpectColumnValuesToBeBetween(column="word_count", min_value=1)),
            (WARNING, e.ExpectColumnValuesToBeBetween(column="word_count", min_value=20, max_value=50_000)),
            (CRITICAL, e.ExpectColumnValuesToNotBeNull(column="language")),
            (CRITICAL, e.ExpectColumnValuesToBeBetween(column="published_at", max_value=latest)),
            (WARNING, e.ExpectColumnValuesToNotBeNull(column="published_at", mostly=0.8)),
            (WARNING, e.ExpectColumnValuesToNotBeNull(column="title", mostly=0.9)),
        ],
        "entities": [
            (CRITICAL, e.ExpectColumnValuesToBeUnique(column="entity_id")),
            (CRITICAL, e.ExpectColumnValuesToBeInSet(column="type", value_set=list(ENTITY_TYPES))),
            (CRITICAL, e.ExpectColumnValuesToBeBetween(column="latitude", min_value=-90, max_value=90)),
            (CRITICAL, e.ExpectColumnValuesToBeBetween(column="longitude", min_value=-180, max_value=180)),
        ],
        "mentions": [
            (CRITICAL, e.ExpectColumnValuesToBeUnique(column="mention_id")),
            (CRITICAL, e.ExpectColumnValuesToBeInSet(column="article_id", value_set=article_ids)),
            (CRITICAL, e.ExpectColumnValuesToBeInSet(column="entity_id", value_set=entity_ids)),
            (CRITICAL, e.ExpectColumnPairValuesAToBeGreaterThanB(column_A="end_char", column_B="start_char")),
            (CRITICAL, e.ExpectColumnValuesToBeInSet(column="offsets_match_surface", value_set=[True])),
        ],
        "claims": [
            (CRITICAL, e.ExpectColumnValuesToBeUnique(column="claim_id")),
            (CRITICAL, e.ExpectColumnValuesToBeInSet(column="kind", value_set=list(CLAIM_KINDS))),
            (CRITICAL, e.ExpectColumnValuesToBeInSet(column="article_id", value_set=article_ids)),
            (CRITICAL, e.ExpectColumnValuesToBeInSet(column="speaker_entity_id", value_set=entity_ids)),
            (CRITICAL, e.ExpectColumnValuesToBeInSet(column="offsets_match_text", value_set=[True])),
        ],
    }
    return rules


def check(frames: dict, window_end: datetime | None) -> list[CheckResult]:
    """Validate the batch's DataFrames (articles, entities, mentions, claims).

    Args:
        frames: table name -> DataFrame, as the load stage will write them.
        window_end: the end of the run's window; publication dates after it (plus a day) are in the future.

    Returns:
        One result per expectation and table.
    """
    import great_expectations as gx

    articles = frames["articles"]
    texts = dict(zip(articles["article_id"], articles["text"], strict=True))
    views = dict(frames)
    views["mentions"] = _with_offset_check(frames["mentions"], texts, "surface", "offsets_match_surface")
    views["claims"] = _with_offset_check(frames["claims"], texts, "text", "offsets_match_text")
    rules = suites(window_end, list(articles["article_id"]), list(frames["entities"]["entity_id"]))
    ctx = _context()
    results: list[CheckResult] = []
    for table, expectations in rules.items():
        df = views[table]
        if df.empty:  # nothing to hold to the rules; GX reports an empty column as a failure
            results.append(CheckResult(table, "rows", WARNING, True, "0 rows", "{}"))
            continue
        name = f"newsmon_{table}"
        source = ctx.data_sources.add_or_update_pandas(name)
        asset = source.add_dataframe_asset(table)
        batch = asset.add_batch_definition_whole_dataframe("batch").get_batch(batch_parameters={"dataframe": df})
        suite = gx.ExpectationSuite(name=name)
        for level, exp in expectations:
            exp.meta = {"severity": level}
            suite.add_expectation(exp)
        try:
            outcome = batch.validate(suite)
        except Exception as exc:  # a suite that fails to run is a failure, never a pass
            results.append(CheckResult(table, "suite_run", CRITICAL, False, "error", repr(exc)[:500]))
            continue
        for res in outcome.results:
            cfg = res.expectation_config
            level = (cfg.meta or {}).get("severity", CRITICAL)
            column = cfg.kwargs.get("column") or f"{cfg.kwargs.get('column_A')}>{cfg.kwargs.get('column_B')}"
            raised = bool(res.exception_info and res.exception_info.get("raised_exception"))
            info = res.result or {}
            observed = f"{info.get('unexpected_count', 0)} of {info.get('element_count', len(df))} unexpected"
            details = {"sample": [str(v) for v in (info.get("partial_unexpected_list") or [])[:5]]}
            if raised:
                details["error"] = res.exception_info.get("exception_message")
            results.append(CheckResult(table, f"{cfg.type}:{column}", level, bool(res.success) and not raised,
                                       observed, json.dumps(details)))
    return results


def blocking(results: list[CheckResult]) -> list[CheckResult]:
    """The failed critical checks: any of them stops the batch's load."""
    return [r for r in results if r.severity == CRITICAL and not r.success]


def _with_offset_check(df, texts: dict, column: str, flag: str):
    out = df.copy()
    out[flag] = [
        isinstance(texts.get(a), str) and 0 <= s < e <= len(texts[a]) and texts[a][s:e] == v
        for a, s, e, v in zip(out["article_id"], out["start_char"], out["end_char"], out[column], strict=True)
    ]
    return out
