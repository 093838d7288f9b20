from datetime import datetime

import pandas as pd

from pipelines import quality
from tests.test_store import frames


def batch(**changes):
    f = frames()
    f["mentions"]["type"] = "LOCATION"
    for table, (column, value) in changes.items():
        f[table][column] = value
    return f


def failed(results):
    return {(r.table_name, r.check_name.split(":")[0], r.severity) for r in results if not r.success}


def test_a_clean_batch_passes_every_critical_check():
    results = quality.check(batch(), datetime(2026, 11, 25))
    assert results and quality.blocking(results) == []


def test_each_critical_check_blocks_a_crafted_bad_batch():
    cases = {
        "mentions": ("surface", "Kiev"),  # text[start:end] is "Kyiv"
        "entities": ("type", "PLANET"),
        "articles": ("published_at", pd.Timestamp("2030-01-01")),  # in the future
    }
    for table, change in cases.items():
        results = quality.check(batch(**{table: change}), datetime(2026, 11, 25))
        blocking = quality.blocking(results)
        assert blocking and {r.table_name for r in blocking} == {table}, table


def test_dangling_foreign_keys_and_bad_coordinates_block():
    f = batch()
    f["mentions"]["entity_id"] = "missing"
    f["entities"]["latitude"] = 123.0
    names = {(r.table_name, r.check_name) for r in quality.blocking(quality.check(f, None))}
    assert ("mentions", "expect_column_values_to_be_in_set:entity_id") in names
    assert ("entities", "expect_column_values_to_be_between:latitude") in names


def test_warnings_are_recorded_but_do_not_block():
    results = quality.check(batch(articles=("title", None)), datetime(2026, 11, 25))
    assert ("articles", "expect_column_values_to_not_be_null", "warning") in failed(results)
    assert quality.blocking(results) == []
