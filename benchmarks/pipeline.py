"""End-to-end throughput of the pipeline on real news pages, beside a naive baseline and the NER ceiling.

    .venv/bin/python benchmarks/pipeline.py [--nlp-languages en|*] [--repeat 1] [--limit N]

Pages: every distinct HTML page in ../shared/fixtures (newspaper, newspaper4k, Media Cloud) and
../shared/eval/extraction_trafilatura (trafilatura's evaluation set), stored as if fetched. The pipeline
runs from stored HTML through extract, clean, dedupe, entities, geocoding, claims, the quality checks
and the DuckDB load, with the project's own stage functions, and prints articles/s end to end and per
stage, and peak memory. In the same run:
  - naive baseline, per page: trafilatura.extract, the full spaCy pipeline nlp(text), and row-by-row
    inserts of the article and its entities into DuckDB;
  - NER ceiling: nlp.pipe over the same texts the pipeline gives to NER, with only the components NER
    needs, on all cores;
  - NER alone in our worker layout: the same model over the same texts in the analyse stage's chunks and
    worker processes, with nothing sent back (nlp.pipe's ceiling ships every Doc to the main process).
Every process runs with one BLAS thread, as our workers do.
--nlp-languages '*' runs entities on every page whatever its language, so all three measure the same
work; the default (en) is what the product does. --repeat N loads the corpus N times under new URLs
(a longer run, to see whether memory stays flat).
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import glob
import gzip
import hashlib
import os
import platform
import resource
import sys
import tempfile
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

# Imported before anything loads numpy: the package sets one BLAS thread per process, so the NER
# ceiling's workers (forked from this process) and the naive baseline run as our workers do, and the
# comparison is of the pipelines, not of a thread setting.
from pipelines import fetch, run, runs, staging  # noqa: E402
from pipelines import workers as processes  # noqa: E402
from pipelines.models import run_id  # noqa: E402
from pipelines.settings import REPO_ROOT, Settings  # noqa: E402
from pipelines.stages import analyse as analyse_stage  # noqa: E402

SHARED = REPO_ROOT.parent / "shared"
SOURCES = [
    "fixtures/html_newspaper_fulltext_2015/html/*.gz",
    "fixtures/html_newspaper4k_head/html/*.gz",
    "fixtures/html_mediacloud_story_indexer/*.html",
    "eval/extraction_trafilatura/html/*.gz",
]


def pages(limit: int | None) -> list[bytes]:
    seen, out = set(), []
    for pattern in SOURCES:
        for p in sorted(glob.glob(str(SHARED / pattern))):
            body = gzip.open(p).read() if p.endswith(".gz") else Path(p).read_bytes()
            digest = hashlib.sha256(body).hexdigest()
            if digest not in seen:
                seen.add(digest)
                out.append(body)
    return out[:limit] if limit else out


class TreeMemory:
    """Samples the proportional set size (PSS) of this process and all its descendants together: the
    workers run beside the main process, and PSS splits pages they share, so the sum is what the machine
    must hold."""

    def __init__(self, every: float = 0.2):
        import threading

        self.peak = 0.0
        self.every = every
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()

    def _run(self):
        while not self._stop.wait(self.every):
            self.peak = max(self.peak, _tree_rss_mb(os.getpid()))


def _tree_rss_mb(pid: int) -> float:
    total, todo = 0.0, [pid]
    while todo:
        p = todo.pop()
        try:
            with open(f"/proc/{p}/smaps_rollup") as f:
                total += next(int(x.split()[1]) for x in f if x.startswith("Pss:")) / 1024
            with open(f"/proc/{p}/task/{p}/children") as f:
                todo += [int(c) for c in f.read().split()]
        except (OSError, StopIteration):
            continue
    return total


def rss_mb() -> tuple[float, float]:
    """Peak resident memory of this process and of its largest finished child (worker processes), MB."""
    return (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)


def ours(s: Settings, bodies: list[bytes], repeat: int) -> dict:
    """The pipeline's own stages on the pages, stored as if fetched, run as `newsmon run` runs them
    (run.run_all); returns per-stage seconds."""
    stages = ("extract", "dedupe", "analyse", "check", "load")
    took = dict.fromkeys(stages, 0.0)
    counts: dict = {}
    rss_trace = []

    def timed(name: str, stage_counts: dict) -> None:
        took[name] += stage_counts["seconds"]

    for r in range(repeat):
        ref = runs.new_run(s, "ingest", scope=f"bench-{r}")
        rows = [{"url": f"https://bench{r}.example/{i}", "source": f"bench{i % 50}", "local": False,
                 "feed_title": None, "feed_published": None, "raw_sha256": fetch.store_raw(s.raw, b),
                 "kind": "html", "http_status": 200, "fetched_at": "2026-11-25T00:00:00"}
                for i, b in enumerate(bodies)]
        staging.write_rows(s, ref, "fetched", rows)
        counts = run.run_all(s, ref, progress=timed, stages=stages)
        rss_trace.append(round(rss_mb()[0]))
    return {"seconds": took, "counts": counts, "rss_trace": rss_trace}


def naive(bodies: list[bytes], model: str, db: Path) -> tuple[float, int]:
    import duckdb
    import spacy
    import trafilatura

    nlp = spacy.load(model)
    con = duckdb.connect(str(db))
    con.execute("create table articles (id integer, text varchar)")
    con.execute("create table entities (article integer, text varchar, label varchar)")
    t = time.perf_counter()
    n = 0
    for i, body in enumerate(bodies):
        text = trafilatura.extract(body)
        if not text:
            continue
        n += 1
        doc = nlp(text)
        con.execute("insert into articles values (?, ?)", [i, text])
        for ent in doc.ents:
            con.execute("insert into entities values (?, ?, ?)", [i, ent.text, ent.label_])
    took = time.perf_counter() - t
    con.close()
    return took, n


def yardstick(bodies: list[bytes], n: int = 200) -> float:
    """CPU ms a page of plain trafilatura.extract in this process: the machine's speed, so runs made on
    different days (or machines) can be compared."""
    import trafilatura

    trafilatura.extract(bodies[0])
    t = time.process_time()
    for body in bodies[:n]:
        trafilatura.extract(body)
    return (time.process_time() - t) / len(bodies[:n]) * 1000


def ceiling(texts: list[str], model: str, workers: int) -> float:
    from pipelines.entities import ner_only

    nlp = ner_only(model)
    t = time.perf_counter()
    for _ in nlp.pipe(texts, batch_size=32, n_process=workers):
        pass
    return time.perf_counter() - t


def bare_ner(texts: list[str], model: str, workers: int) -> float:
    """NER alone laid out as our analyse stage lays out its work (chunks of texts to spawned worker
    processes that load the model once), with nothing sent back: what the ceiling would be without
    nlp.pipe's cost of shipping every Doc back to the main process."""
    size = analyse_stage.ANALYSE_CHUNK
    chunks = [(model, texts[i:i + size]) for i in range(0, len(texts), size)]
    t = time.perf_counter()
    processes.parallel(_ner_chunk, chunks, workers, minimum=1, chunksize=1)
    return time.perf_counter() - t


def _ner_chunk(args) -> int:
    model, texts = args
    return sum(1 for _ in _ner_model(model).pipe(texts, batch_size=4))


@functools.cache
def _ner_model(model: str):
    from pipelines.entities import ner_only

    return ner_only(model)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--nlp-languages", default="en")
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--limit", type=int)
    ap.add_argument("--skip-naive", action="store_true")
    args = ap.parse_args()
    warnings.filterwarnings("ignore")
    if not (SHARED / "eval").exists():
        sys.exit(f"{SHARED} is not present: the benchmark needs the shared fixtures and evaluation pages")
    bodies = pages(args.limit)
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores; python {platform.python_version()}; "
          f"yardstick: plain trafilatura.extract takes {yardstick(bodies):.1f} ms of CPU a page (first 200 pages)")
    with tempfile.TemporaryDirectory() as tmp:
        s = dataclasses.replace(Settings.from_env({"NEWSMON_DATA_DIR": tmp}), nlp_languages=args.nlp_languages,
                                watchlist_path=Path(tmp) / "none.yaml")
        with TreeMemory() as memory:
            result = ours(s, bodies, args.repeat)

        last = s.staging / run_id("ingest", None, None, f"bench-{args.repeat - 1}")
        arts = last.read_parquet("articles.parquet")
        wanted = {x.strip() for x in args.nlp_languages.split(",")}
        nlp_texts = [t for t, lang in zip(arts["text"], arts["language"], strict=True)
                     if "*" in wanted or lang in wanted]
        n_pages = len(bodies) * args.repeat
        n_articles = len(arts) * args.repeat
        total = sum(result["seconds"].values())
        words = sum(len(t.split()) for t in arts["text"]) / max(len(arts), 1)
        print(f"pages: {n_pages:,} ({len(bodies):,} distinct x {args.repeat}); articles extracted: {n_articles:,}, "
              f"mean {words:.0f} words; given to NER ({args.nlp_languages}): {len(nlp_texts) * args.repeat:,}")
        print("\nours, per stage:")
        for name, secs in result["seconds"].items():
            print(f"  {name:8} {secs:7.1f} s  {n_pages / secs:8.1f} pages/s")
        print(f"  end to end {total:.1f} s: {n_pages / total:.1f} pages/s, {n_articles / total:.1f} articles/s")
        me, child = rss_mb()
        print(f"  peak memory: {memory.peak:.0f} MB PSS for the main process and its workers together; peak RSS "
              f"{me:.0f} MB main, {child:.0f} MB largest worker; main RSS after each pass: {result['rss_trace']}")
        ner = ceiling(nlp_texts, s.spacy_model, s.workers)
        ner_rate = len(nlp_texts) / ner
        nlp_rate = len(nlp_texts) * args.repeat / result["seconds"]["analyse"]
        print(f"\nNER ceiling (nlp.pipe, NER components only, {s.workers} processes): {ner:.1f} s for "
              f"{len(nlp_texts):,} texts = {ner_rate:.1f} texts/s")
        print(f"  our analyse stage: {nlp_rate:.1f} texts/s ({nlp_rate / ner_rate:.0%} of the ceiling)")
        if len(nlp_texts) == len(arts):
            print(f"  our end to end: {n_articles / total:.1f} articles/s ({n_articles / total / ner_rate:.0%} "
                  "of the ceiling)")
        bare = len(nlp_texts) / bare_ner(nlp_texts, s.spacy_model, s.workers)
        print(f"NER alone in our worker layout (no Docs sent back): {bare:.1f} texts/s; our analyse stage "
              f"{nlp_rate / bare:.0%} of it" + (f", our end to end {n_articles / total / bare:.0%}"
                                               if len(nlp_texts) == len(arts) else ""))
        if not args.skip_naive:
            took, n = naive(bodies, s.spacy_model, Path(tmp) / "naive.duckdb")
            print(f"\nnaive baseline (extract, full nlp(text), row-by-row inserts): {took:.1f} s for {len(bodies):,} "
                  f"pages = {len(bodies) / took:.1f} pages/s, {n / took:.1f} articles/s")
            print(f"  ours / naive: {(n_pages / total) / (len(bodies) / took):.1f}x (pages/s)")


if __name__ == "__main__":
    main()
