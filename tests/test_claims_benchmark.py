"""Our claims stage against the plain baseline on a slice of PolNeAR's dev split, with the benchmark's
own scoring (benchmarks/claims.py runs the whole split)."""

import pytest

from benchmarks import claims as bench
from tests.conftest import SHARED

pytestmark = pytest.mark.skipif(not (bench.polnear_dir(SHARED) / "polnear_loader.py").exists(),
                                reason=f"{bench.polnear_dir(SHARED)} is not present (PolNeAR, shared evaluation data)")


@pytest.fixture(scope="module")
def scores():
    docs = bench.load(SHARED, "dev", 15)
    ours, base = bench.Score("ours"), bench.Score("baseline")
    bench.ours(docs, ours)
    bench.baseline(docs, base)
    return ours, base


def test_direct_quotes_are_found_and_precise(scores):
    ours, base = scores
    assert ours.gold >= 50
    assert ours.found / ours.gold >= 0.93 and ours.found >= base.found
    assert ours.pred_ok / ours.pred >= 0.93


def test_speakers_beat_the_nearest_subject_baseline(scores):
    ours, base = scores
    assert ours.speaker_ok / ours.with_source >= 0.85
    assert ours.speaker_ok / ours.with_source > base.speaker_ok / base.with_source
