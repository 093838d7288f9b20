"""Hostile pages, files, feeds and sitemaps (the small set of benchmarks/fuzz.py): each gives a result or
a reason that fetch_log records, never an exception escaping into the stage. The full set, with times
and memory, is `.venv/bin/python benchmarks/fuzz.py`."""

from __future__ import annotations

import pytest

from benchmarks import fuzz
from pipelines import fetch
from pipelines.client import Client


def cases():
    for kind in fuzz.KINDS:
        if kind == "fetch-huge":
            continue  # the size cap has its own test below
        for label, body in fuzz.inputs(kind, small=True):
            yield pytest.param(kind, body, id=f"{kind}: {label}")


@pytest.fixture(scope="module")
def harness(tmp_path_factory):
    return fuzz.Harness(tmp_path_factory.mktemp("fuzz"))


@pytest.mark.parametrize(("kind", "body"), cases())
def test_hostile_input_gives_a_result_or_a_reason(harness, kind, body):
    outcome, detail = harness.run(fuzz.KINDS[kind], body)
    assert outcome in ("result", "reason"), detail
    assert detail  # a reason is never empty: it is what fetch_log records


@pytest.mark.parametrize("with_length", [True, False], ids=["Content-Length", "streamed"])
def test_a_50_mb_body_is_refused_by_the_size_cap(with_length):
    url = fuzz.serve_once(50 * fuzz.MB, with_length)
    with pytest.raises(fetch.FetchError, match="larger than 10000000 bytes"):
        Client(user_agent="newsmon-test", timeout=30, max_bytes=10_000_000, host_delay=0).get(url, allow_private=True)
