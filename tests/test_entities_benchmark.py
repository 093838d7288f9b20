"""The entities benchmark on a slice of the shared evaluation sets, with its own scoring: its NER path
through the real `newsmon ingest` (three documents of CoNLL and of the Danish set), and our geocoder
against the plain gazetteer (benchmarks/entities.py runs the whole sets)."""

import pytest

from benchmarks import entities as bench
from benchmarks import ner_sets
from tests.conftest import SHARED

GEO = SHARED / bench.GEO_DIR
SLICE = ("conll", "da")
LIMIT = 3


@pytest.fixture(scope="module")
def ner_results():
    absent = [why for k in SLICE if (why := ner_sets.missing(SHARED, ner_sets.SETS[k]))]
    if absent:
        pytest.skip("; ".join(absent))
    return {r.spec.key: r for r in bench.run_ner(SHARED, list(SLICE), limit=LIMIT, quiet=True)}


@pytest.mark.slow
@pytest.mark.parametrize("key", SLICE)
def test_ner_goes_through_the_cli_and_every_document_is_accounted_for(ner_results, key):
    r = ner_results[key]
    got, g = r.got, r.gates
    assert got.returncode == 0, got.stderr_tail
    assert got.status == "success" and got.seconds > 0
    assert g.written == len(r.docs) == LIMIT
    assert g.written == g.loaded + g.refused + g.quarantined + g.unaccounted
    assert g.unaccounted == 0 and got.unmapped == 0
    # What the tables hold agrees with the run's own counts.
    assert got.counts["discovered"] == g.written
    assert got.counts["extracted"] == g.loaded
    assert got.counts.get("extract_failed", 0) == g.refused == sum(g.reasons.values())
    assert got.counts["duplicates"] == g.duplicates
    assert got.counts["mentions"] == sum(len(m) for m in got.mentions.values())
    assert sum(g.languages.values()) == g.loaded and sum(g.zero_mentions.values()) <= g.loaded
    assert got.offset_mismatches == 0


@pytest.mark.slow
@pytest.mark.parametrize("key", SLICE)
def test_ours_and_plain_are_scored_on_the_same_documents_and_gold(ner_results, key):
    r = ner_results[key]
    gold = sum(len(d.gold_pairs) for d in r.docs)
    assert gold > 10
    for level in ner_sets.LEVELS:
        ours, plain = r.score("ours", level), r.score("plain", level)
        assert ours.docs == plain.docs == len(r.docs)
        # The same gold on both sides: tp + fn is the gold count (distinct pairs at doc level).
        assert sum(ours.tp.values()) + sum(ours.fn.values()) == sum(plain.tp.values()) + sum(plain.fn.values())
        for s in (ours, plain):
            for t in (*ner_sets.TYPES, None):
                assert all(0.0 <= x <= 1.0 for x in s.prf(t))
    mention = r.score("ours", "mention")
    assert sum(mention.tp.values()) + sum(mention.fn.values()) == gold
    scored = sum(m["type"] in ner_sets.OURS for ms in r.got.mentions.values() for m in ms)
    assert sum(mention.tp.values()) + sum(mention.fp.values()) == scored
    assert r.score("plain", "doc").prf()[2] > 0  # the plain model reads every document, gates or not
    if key == "conll":
        assert r.score("ours", "doc").prf()[2] > 0.3, r.score("ours", "doc").prf()
    rows = bench.summary_rows(list(ner_results.values()))
    assert [row[:2] for row in rows] == [("conll", "tuned on"), ("da", "tuning half"), ("da", "report half"),
                                         ("da", "whole set")]
    assert all(0.0 <= x <= 1.0 for row in rows for x in row[3:])


def test_surfaces_match_as_sets_per_document_and_as_multisets():
    gold = [("PER", "Bill Clinton"), ("PER", "Clinton"), ("PER", "Clinton"), ("LOC", "U.S.")]
    pred = [("PER", "bill  clinton"), ("PER", "Clinton 's"), ("PER", "Clinton’s"), ("PER", "Clinton"),
            ("ORG", "U.S.")]
    c = ner_sets.compare(gold, pred)
    assert c["doc"] == {"PER": (2, 0, 0), "ORG": (0, 1, 0), "LOC": (0, 0, 1)}
    assert c["mention"] == {"PER": (3, 1, 0), "ORG": (0, 1, 0), "LOC": (0, 0, 1)}
    # A document lost at a gate has no predictions: all its gold is missed.
    assert ner_sets.compare(gold, [])["mention"]["PER"] == (0, 0, 3)
    s = ner_sets.Score()
    s.add(c["mention"])
    assert s.prf() == pytest.approx((3 / 5, 3 / 4, 2 * (3 / 5) * (3 / 4) / (3 / 5 + 3 / 4)))
    assert round(bench.haversine_km((48.8566, 2.3522), (51.5074, -0.1278))) == 344


@pytest.mark.skipif(not GEO.exists(), reason=f"{GEO} is not present (LGL and GeoVirus, shared evaluation data)")
@pytest.mark.parametrize("name", ["lgl", "geovirus"])
def test_our_geocoder_beats_the_plain_gazetteer_on_a_slice(name):
    scores = bench.score_geo(bench.load_geo(SHARED, name, limit=60))
    ours, plain = scores["ours"], scores["plain"]
    assert ours.total > 300
    assert ours.within / ours.total >= max(plain.within / plain.total, 0.7)


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
