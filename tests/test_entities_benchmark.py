"""Our entity stage against the plain spaCy model, and our geocoder against the plain gazetteer, on a
slice of the shared evaluation sets with the benchmark's own scoring (benchmarks/entities.py runs the
whole sets, about two minutes on two cores)."""

import pytest

from benchmarks import entities as bench
from tests.conftest import SHARED

NER = SHARED / bench.NER_DIR
GEO = SHARED / bench.GEO_DIR


@pytest.mark.skipif(not NER.exists(), reason=f"{NER} is not present (CoNLL-2003 dev, shared evaluation data)")
def test_our_entities_beat_the_plain_model_on_a_slice():
    docs = bench.load_ner(SHARED, limit=40)
    scores = bench.score_ner(docs)
    assert sum(len(d.gold) for d in docs) > 500
    assert scores["ours"].prf()[2] >= scores["plain"].prf()[2] + 0.03, (scores["ours"].prf(), scores["plain"].prf())


@pytest.mark.skipif(not GEO.exists(), reason=f"{GEO} is not present (LGL and GeoVirus, shared evaluation data)")
@pytest.mark.parametrize("name", ["lgl", "geovirus"])
def test_our_geocoder_beats_the_plain_gazetteer_on_a_slice(name):
    scores = bench.score_geo(bench.load_geo(SHARED, name, limit=60))
    ours, plain = scores["ours"], scores["plain"]
    assert ours.total > 300
    assert ours.within / ours.total >= max(plain.within / plain.total, 0.7)


def test_scoring_counts_exact_spans_and_distances():
    s = bench.NerScore()
    s.add(gold={(0, 2, "PER"), (3, 4, "LOC")}, pred={(0, 2, "PER"), (3, 4, "ORG")})
    assert (s.tp["PER"], s.fp["ORG"], s.fn["LOC"]) == (1, 1, 1)
    assert s.prf() == (0.5, 0.5, 0.5)
    assert round(bench.haversine_km((48.8566, 2.3522), (51.5074, -0.1278))) == 344


def test_toponym_scoring_counts_exact_and_overlapping_spans():
    s = bench.SpanScore()
    # Exact hit; a prediction one character short; one prediction over two gold spans; a false alarm;
    # two predictions inside one gold span; a missed toponym.
    s.add(gold={(0, 5), (10, 20), (30, 35), (37, 42), (60, 75), (80, 84)},
          pred={(0, 5), (10, 19), (30, 42), (50, 55), (60, 66), (68, 75)})
    assert (s.exact["tp"], s.exact["fp"], s.exact["fn"]) == (1, 5, 5)
    assert (s.overlap["tp"], s.overlap["fp"], s.overlap["fn"]) == (4, 2, 2)
    assert s.prf("overlap") == pytest.approx((4 / 6, 4 / 6, 4 / 6))
    s.add(gold=set(), pred={(3, 9)})  # an article without toponyms: its predictions are false alarms
    assert s.docs == 2 and s.prf("exact")[0] == pytest.approx(1 / 7)
    assert bench.overlap_matches({(0, 4)}, {(4, 8)}) == 0  # end-exclusive: touching is not overlapping
