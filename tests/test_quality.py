import subprocess
import sys
from datetime import datetime

import pandas as pd
import pytest

from pipelines import quality
from pipelines.settings import REPO_ROOT
from tests.test_store import frames

WINDOW = quality.Window(datetime(2026, 11, 24), datetime(2026, 11, 25), grace_days=1)


def batch():
    f = frames()
    f["mentions"]["type"] = "LOCATION"
    f["articles"]["published_at"] = pd.Timestamp("2026-11-24 08:00")
    f["articles"]["word_count"] = 25
    f["claims"] = pd.DataFrame([{"claim_id": "c1", "article_id": "a1", "kind": "quote", "speaker_entity_id": None,
                                 "speaker": None, "cue": None, "text": "Kyiv", "start_char": 0, "end_char": 4}])
    return f


def set_value(table, column, value, row=0):
    def change(f):
        f[table].loc[row, column] = value
    return change


def duplicate_row(table):
    def change(f):
        f[table] = pd.concat([f[table], f[table]], ignore_index=True)
    return change


# Every critical check, each with a batch crafted to break only it.
CRITICAL_CASES = {
    "articles.article_id null": set_value("articles", "article_id", None),
    "articles.article_id unique": duplicate_row("articles"),
    "articles.url null": set_value("articles", "url", None),
    "articles.text null": set_value("articles", "text", None),
    "articles.word_count zero": set_value("articles", "word_count", 0),
    "articles.language null": set_value("articles", "language", None),
    "articles.published_at future": set_value("articles", "published_at", pd.Timestamp("2026-12-30")),
    "articles.published_at before window and grace": set_value("articles", "published_at", pd.Timestamp("2026-11-01")),
    "entities.entity_id null": set_value("entities", "entity_id", None),
    "entities.entity_id unique": duplicate_row("entities"),
    "entities.type allowed": set_value("entities", "type", "PLANET"),
    "entities.latitude range": set_value("entities", "latitude", 123.0),
    "entities.longitude range": set_value("entities", "longitude", -200.0),
    "entities.coordinates both or neither": set_value("entities", "longitude", None),
    "mentions.mention_id null": set_value("mentions", "mention_id", None),
    "mentions.mention_id unique": duplicate_row("mentions"),
    "mentions.article_id resolves": set_value("mentions", "article_id", "nope"),
    "mentions.entity_id resolves": set_value("mentions", "entity_id", "nope"),
    "mentions.end after start": set_value("mentions", "end_char", 0),
    "mentions.surface equals text slice": set_value("mentions", "surface", "Kiev"),
    "claims.claim_id null": set_value("claims", "claim_id", None),
    "claims.claim_id unique": duplicate_row("claims"),
    "claims.kind allowed": set_value("claims", "kind", "rumour"),
    "claims.article_id resolves": set_value("claims", "article_id", "nope"),
    "claims.speaker entity exists": set_value("claims", "speaker_entity_id", "nope"),
    "claims.text equals text slice": set_value("claims", "text", "Paris"),
}


def test_a_clean_batch_passes_every_check():
    results = quality.check(batch(), WINDOW)
    assert len(results) == sum(len(v) for v in quality.suites(WINDOW).values())
    assert [r for r in results if not r.success] == []


@pytest.mark.parametrize("case", sorted(CRITICAL_CASES))
def test_each_critical_check_blocks_its_crafted_bad_batch(case):
    f = batch()
    CRITICAL_CASES[case](f)
    blocking = quality.blocking(quality.check(f, WINDOW))
    # A broken key can also break the references to it; the table broken here must be among the failures.
    assert case.split(".")[0] in {r.table_name for r in blocking}, case


def test_warnings_are_recorded_but_do_not_block():
    f = batch()
    f["articles"]["title"] = None
    results = quality.check(f, WINDOW)
    assert [(r.table_name, r.check_name, r.severity) for r in results if not r.success] == [
        ("articles", "expect_column_values_to_not_be_null:title", "warning")]
    assert quality.blocking(results) == []


def test_a_check_that_cannot_run_fails():
    f = batch()
    f["articles"] = f["articles"].drop(columns=["language"])
    failed = [r for r in quality.check(f, WINDOW) if not r.success]
    assert any(r.check_name.endswith(":language") and r.severity == "critical" for r in failed)


def test_data_docs_are_built_for_the_batch(tmp_path):
    quality.check(batch(), WINDOW, docs_dir=tmp_path / "docs", run_name="r1", run_time=WINDOW.end)
    pages = {p.relative_to(tmp_path / "docs").parts[0] for p in (tmp_path / "docs").rglob("*.html")}
    assert (tmp_path / "docs" / "index.html").exists() and "validations" in pages


def test_source_volume_flags_silence_and_floods():
    history = {"steady": [3] * 14, "quiet": [4] * 14, "new": [0] * 14}
    results = {r.check_name: r for r in quality.volume({"steady": 4, "new": 2, "flood": 1, "quiet": 0},
                                                       history | {"flood": [1] * 14}, ["steady", "quiet", "new"])}
    assert results["volume:steady"].success and results["volume:new"].success
    assert not results["volume:quiet"].success and "silent" in results["volume:quiet"].observed
    assert results["volume:flood"].success  # 1 vs a median of 1
    flood = quality.volume({"x": 40}, {"x": [2] * 14}, ["x"])[0]
    assert not flood.success and "flood" in flood.observed


def test_completeness_reports_each_stage_share():
    f = batch()
    results = {r.check_name: r for r in quality.completeness(f)}
    assert all(r.success for r in results.values())
    f["claims"] = f["claims"].iloc[0:0]
    assert not {r.check_name: r for r in quality.completeness(f)}["completeness:with_claims"].success


def test_gx_is_quiet_even_after_airflow_configured_logging():
    code = ("import airflow.sdk, sys; sys.path.insert(0, '.'); from tests.test_quality import batch, WINDOW; "
            "from pipelines import quality; quality.check(batch(), WINDOW)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO_ROOT, timeout=300)
    assert out.returncode == 0, out.stderr[-1000:]
    noisy = [ln for ln in (out.stdout + out.stderr).splitlines() if "great_expectations" in ln.lower()]
    assert noisy == []


def test_a_rise_in_articles_without_entities_over_the_14_day_median_is_flagged():
    import pandas as pd

    frames = {"articles": pd.DataFrame({"article_id": list("abcd")}), "mentions": pd.DataFrame({"article_id": ["a"]})}
    (risen,) = quality.without_entities(frames, [0.1, 0.2, 0.0])
    assert (risen.check_name, risen.severity, risen.success) == ("without_entities:share", quality.WARNING, False)
    assert risen.observed == "75% of 4 articles without entities vs median 10% over 3 days (risen)"
    (usual,) = quality.without_entities(frames, [0.7, 0.8, 0.5])
    assert usual.success and usual.observed.endswith("(normal)")
    (first,) = quality.without_entities(frames, [])
    assert first.success and first.observed == "75% of 4 articles without entities (no history)"
    assert quality.without_entities({"articles": frames["articles"].iloc[0:0], "mentions": frames["mentions"]},
                                    [0.1]) == []
