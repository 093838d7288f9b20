"""Extraction quality of our extractor beside plain trafilatura, on trafilatura's own evaluation set.

    .venv/bin/python benchmarks/extraction.py [--shared ../shared] [--limit N] [--json OUT] [--worse]

Pages: ../shared/eval/extraction_trafilatura (990 annotated pages, multilingual, not news only; see its
README). For each page, `with` snippets must appear in the extracted main text and `without` snippets
(navigation, footers, comments...) must not. Scoring as trafilatura's evaluation does it (tests/eval_common.py
upstream): whitespace-normalised substring test; with-snippets found are true positives, missing ones false
negatives; without-snippets found are false positives, absent ones true negatives; a page with no output (an
exception, or for us a page the pipeline rejects) misses all its with-snippets. Precision, recall, accuracy
and F1 are summed over the corpus.

In the same run, on the same pages, with the same scoring:
  - newsmon: `pipelines.extract.from_html` on the HTML bytes, i.e. what the pipeline's extract stage keeps
    (trafilatura with our options, metadata, then our cleanup); pages it rejects count as empty;
  - plain trafilatura: `trafilatura.extract(html)` with default options.
pages/s is one process, one page at a time, the two extractors alternating which goes first on each page.
--worse lists the pages where ours scores lower than plain trafilatura, with the snippets concerned.

Caveat: this is trafilatura's own development corpus, so both figures are optimistic; it is a regression
check for our options and cleanup, not an unbiased evaluation.
"""

from __future__ import annotations

import argparse
import gzip
import json
import logging
import os
import platform
import re
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pipelines import extract  # noqa: E402
from pipelines.settings import REPO_ROOT  # noqa: E402

SHARED = REPO_ROOT.parent / "shared"
EVAL = Path("eval/extraction_trafilatura")


@dataclass
class Case:
    url: str
    file: str
    must: list[str]
    must_not: list[str]
    html: bytes


@dataclass
class Score:
    """Summed confusion counts of one extractor and its time."""

    pages: int = 0
    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0
    empty: int = 0
    seconds: float = 0.0
    per_page: list[tuple[int, int, int, int]] = field(default_factory=list, repr=False)

    def add(self, counts: tuple[int, int, int, int], empty: bool, seconds: float) -> None:
        tp, fp, fn, tn = counts
        self.pages += 1
        self.tp += tp
        self.fp += fp
        self.fn += fn
        self.tn += tn
        self.empty += empty
        self.seconds += seconds
        self.per_page.append(counts)

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        denom = 2 * self.tp + self.fp + self.fn
        return 2 * self.tp / denom if denom else 0.0

    @property
    def accuracy(self) -> float:
        total = self.tp + self.fp + self.fn + self.tn
        return (self.tp + self.tn) / total if total else 0.0

    @property
    def pages_per_s(self) -> float:
        return self.pages / self.seconds if self.seconds else 0.0

    def figures(self) -> dict:
        out = {k: v for k, v in asdict(self).items() if k != "per_page"}
        out.update(precision=self.precision, recall=self.recall, f1=self.f1, accuracy=self.accuracy,
                   pages_per_s=self.pages_per_s)
        return out


def norm(text: str) -> str:
    """Whitespace-normalised, as upstream, so line breaks and paragraph joins don't cost recall."""
    return re.sub(r"\s+", " ", text).strip()


def count(case: Case, text: str | None) -> tuple[int, int, int, int]:
    """(tp, fp, fn, tn) of one page; no output misses every with-snippet and contains no without-snippet."""
    out = norm(text) if isinstance(text, str) else ""
    tp = sum(norm(s) in out for s in case.must) if out else 0
    fp = sum(norm(s) in out for s in case.must_not) if out else 0
    return tp, fp, len(case.must) - tp, len(case.must_not) - fp


def eval_dir(shared: Path) -> Path:
    return shared / EVAL


def load_cases(shared: Path, limit: int | None = None, pick: Callable[[int, str], bool] | None = None) -> list[Case]:
    """The annotated pages in evaldata.json order: those `pick(index, file name)` accepts when given, and
    the first `limit` of them when given."""
    root = eval_dir(shared)
    items = json.loads((root / "evaldata.json").read_text(encoding="utf-8"))
    cases = []
    for i, (url, item) in enumerate(items.items()):
        if limit is not None and len(cases) >= limit:
            break
        if pick is not None and not pick(i, item["file"]):
            continue
        with gzip.open(root / "html" / f"{item['file']}.gz", "rb") as f:
            cases.append(Case(url, item["file"], item["with"], item["without"], f.read()))
    return cases


def newsmon(case: Case) -> str | None:
    """What the pipeline keeps of the page: the cleaned main text, or nothing when it rejects the page."""
    try:
        return extract.from_html(case.html, case.url).text
    except extract.ExtractionError:
        return None


def plain(case: Case) -> str | None:
    import trafilatura

    return trafilatura.extract(case.html)


EXTRACTORS: dict[str, Callable[[Case], str | None]] = {"newsmon": newsmon, "plain trafilatura": plain}


def run(cases: list[Case], keep_text: bool = False) -> tuple[dict[str, Score], list[dict[str, str | None]]]:
    """Score every extractor on every page, alternating which goes first so neither gains from warm caches.
    An exception counts as no output, as upstream does; returns the scores and, with keep_text, the texts."""
    import trafilatura  # noqa: F401  (imported before the clock starts)

    scores = {name: Score() for name in EXTRACTORS}
    texts: list[dict[str, str | None]] = []
    names = list(EXTRACTORS)
    for i, case in enumerate(cases):
        order = names if i % 2 == 0 else names[::-1]
        page: dict[str, str | None] = {}
        for name in order:
            t = time.perf_counter()
            try:
                text = EXTRACTORS[name](case)
            except Exception:  # noqa: BLE001  (a crash is a full miss, as in the upstream evaluation)
                text = None
            took = time.perf_counter() - t
            scores[name].add(count(case, text), not text, took)
            page[name] = text
        if keep_text:
            texts.append(page)
    return scores, texts


def worse_pages(cases: list[Case], scores: dict[str, Score], texts: list[dict[str, str | None]]) -> list[dict]:
    """Pages where newsmon's (tp - fp) is below plain trafilatura's, with the snippets that differ."""
    out = []
    ours, base = scores["newsmon"], scores["plain trafilatura"]
    for case, a, b, page in zip(cases, ours.per_page, base.per_page, texts, strict=True):
        if a[0] - a[1] >= b[0] - b[1]:
            continue
        o, p = norm(page["newsmon"] or ""), norm(page["plain trafilatura"] or "")
        out.append({
            "url": case.url, "file": case.file, "newsmon": a, "plain": b, "newsmon_empty": not o,
            "lost": [s for s in case.must if norm(s) in p and norm(s) not in o],
            "added_boilerplate": [s for s in case.must_not if norm(s) in o and norm(s) not in p],
        })
    return out


def print_table(scores: dict[str, Score]) -> None:
    cols = ["pages", "precision", "recall", "F1", "accuracy", "pages/s", "no output"]
    rows = [[name, f"{s.pages}", f"{s.precision:.3f}", f"{s.recall:.3f}", f"{s.f1:.3f}", f"{s.accuracy:.3f}",
             f"{s.pages_per_s:.1f}", f"{s.empty}"] for name, s in scores.items()]
    try:
        from rich.console import Console
        from rich.table import Table
    except ImportError:
        widths = [max(len(r[0]) for r in rows)] + [max(len(c), 7) for c in cols]
        print("  ".join(h.rjust(w) for h, w in zip(["extractor", *cols], widths, strict=True)))
        for r in rows:
            print("  ".join(v.rjust(w) for v, w in zip(r, widths, strict=True)))
        return
    table = Table(title="Extraction quality, trafilatura evaluation set")
    table.add_column("extractor")
    for c in cols:
        table.add_column(c, justify="right")
    for r in rows:
        table.add_row(*r)
    Console(width=110).print(table)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shared", type=Path, default=SHARED, help=f"the shared data folder (default {SHARED})")
    ap.add_argument("--limit", type=int, help="the first N pages only, for a quick run")
    ap.add_argument("--json", type=Path, metavar="OUT", help="write the figures to this JSON file")
    ap.add_argument("--worse", action="store_true", help="list the pages where ours scores below plain")
    args = ap.parse_args()
    root = eval_dir(args.shared)
    if not (root / "evaldata.json").exists():
        sys.exit(f"{root} is not present: the benchmark needs trafilatura's evaluation set in the shared folder "
                 "(pass --shared PATH)")
    warnings.filterwarnings("ignore")
    logging.getLogger("trafilatura").setLevel(logging.CRITICAL)
    logging.getLogger("htmldate").setLevel(logging.CRITICAL)
    import trafilatura

    cases = load_cases(args.shared, args.limit)
    machine = f"{platform.machine()}, {os.cpu_count()} cores; python {platform.python_version()}; " \
              f"trafilatura {trafilatura.__version__}"
    print(f"machine: {machine}")
    print(f"pages: {len(cases)} from {root}; snippets: {sum(len(c.must) for c in cases)} with, "
          f"{sum(len(c.must_not) for c in cases)} without")
    scores, texts = run(cases, keep_text=args.worse)
    print_table(scores)
    ours, base = scores["newsmon"], scores["plain trafilatura"]
    print(f"F1 newsmon - plain trafilatura: {ours.f1 - base.f1:+.4f}")
    if args.worse:
        for w in worse_pages(cases, scores, texts):
            print(f"\n{w['url']} ({w['file']}): newsmon tp,fp,fn,tn={w['newsmon']} plain={w['plain']}"
                  f"{' (newsmon: no output)' if w['newsmon_empty'] else ''}")
            for s in w["lost"]:
                print(f"  lost:        {s[:100]!r}")
            for s in w["added_boilerplate"]:
                print(f"  boilerplate: {s[:100]!r}")
    if args.json:
        args.json.write_text(json.dumps({
            "dataset": str(root), "pages": len(cases), "machine": machine,
            "extractors": {name: s.figures() for name, s in scores.items()},
        }, indent=2) + "\n", encoding="utf-8")
        print(f"figures written to {args.json}")


if __name__ == "__main__":
    main()
