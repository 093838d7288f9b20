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


def f1(score):
    p, r = score.pred_ok / score.pred, score.found / score.gold
    return 2 * p * r / (p + r)


def test_direct_quotes_are_found_and_precise(scores):
    ours, base = scores
    assert ours.gold >= 50
    assert ours.found / ours.gold >= 0.93 and ours.pred_ok / ours.pred >= 0.93
    # The baseline keeps every pair of marks; ours drops titles, headings and scare quotes, of which
    # PolNeAR counts a few as quotes (a memo's title, a chant): a quote or two fewer, far fewer false ones.
    assert ours.pred_ok / ours.pred > base.pred_ok / base.pred and f1(ours) > f1(base)


def test_speakers_beat_the_nearest_subject_baseline(scores):
    ours, base = scores
    assert ours.speaker_ok / ours.with_source >= 0.85
    assert ours.speaker_ok / ours.with_source > base.speaker_ok / base.with_source
