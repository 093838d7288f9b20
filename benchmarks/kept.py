"""Pieces we wrote beside the kept library that covers them, on the same inputs: MinHash/LSH against
datasketch, and the time of day of a page's publication against htmldate's.

    .uv/bin/uv pip install --target /tmp/datasketch --no-deps datasketch==2.0.0   # not a dependency
    PYTHONPATH=/tmp/datasketch .venv/bin/python benchmarks/kept.py [--limit 400]

Texts: the main text trafilatura extracts from the pages of benchmarks/pipeline.py. For each text a copy
is made with a known share of its words replaced (0, 5, 10, 20, 40 and 60%: a syndicated copy with a new
headline and a few edits, down to a different story), deterministically. Printed, for ours
(pipelines.dedupe: numpy, 64 permutations, word 5-shingles, 16 bands) and datasketch (MinHash and
MinHashLSH, 64 permutations, threshold 0.6) over the same shingles:
  - signatures per second;
  - the mean absolute error of the Jaccard estimate against the exact Jaccard of the shingle sets;
  - at the 0.6 threshold, precision and recall of "is a copy" against the exact Jaccard;
  - the time to find every copy's first copy among all texts (ours: dedupe.find_duplicates; datasketch:
    insert and query its LSH, then the same 0.6 check).
Dates, on the same pages: trafilatura gives the day (htmldate inside it, outputformat %Y-%m-%d); ours adds
the time from article:published_time / datePublished / pubdate meta tags (extract._page_time) and parses
it with dateutil. Beside it, htmldate.find_date asked for a timestamp (outputformat with %H:%M:%S, no
extensive search, original date): pages with a time of day from each, agreement to the minute where both
have one, and milliseconds per page.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.pipeline import pages as news_pages  # noqa: E402
from pipelines import dedupe  # noqa: E402

EDITS = (0.0, 0.05, 0.10, 0.20, 0.40, 0.60)


def texts(limit: int) -> list[str]:
    import trafilatura

    out = []
    for body in news_pages(None):
        text = trafilatura.extract(body.decode("utf-8", "replace"))
        if text and len(text.split()) >= 150:
            out.append(text)
        if len(out) >= limit:
            break
    return out


def edited(text: str, share: float, rng: random.Random) -> str:
    words = text.split()
    for i in rng.sample(range(len(words)), int(len(words) * share)):
        words[i] = f"w{rng.randrange(10**9)}"
    return " ".join(words)


def shingles(text: str) -> set[str]:
    words = dedupe._words(text)
    return {" ".join(words[i:i + dedupe.SHINGLE]) for i in range(max(1, len(words) - dedupe.SHINGLE + 1))}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--limit", type=int, default=400)
    args = ap.parse_args()
    try:
        from datasketch import MinHash, MinHashLSH
    except ImportError:
        sys.exit("datasketch is not installed: see the docstring for the one-off install")

    base = texts(args.limit)
    if not base:
        sys.exit("no pages: ../shared/fixtures and ../shared/eval are absent")
    rng = random.Random(20261204)
    pairs = [(t, edited(t, rng.choice(EDITS), rng)) for t in base]
    corpus = [t for pair in pairs for t in pair]
    sets = [shingles(t) for t in corpus]
    print(f"{len(base)} texts (median {sorted(len(t.split()) for t in base)[len(base) // 2]} words), "
          f"{len(corpus)} with their edited copies")

    started = time.perf_counter()
    ours = [dedupe.minhash(t) for t in corpus]
    ours_s = time.perf_counter() - started
    started = time.perf_counter()
    theirs = []
    for s in sets:
        m = MinHash(num_perm=dedupe.PERMUTATIONS, seed=1)
        m.update_batch([x.encode() for x in s])
        theirs.append(m)
    theirs_s = time.perf_counter() - started
    # Ours shingles inside minhash(); datasketch is timed from ready shingles, which flatters it slightly.
    print(f"signatures/s: ours {len(corpus) / ours_s:,.0f}, datasketch {len(corpus) / theirs_s:,.0f} "
          "(datasketch timed from ready shingles)")

    truth, est_ours, est_theirs = [], [], []
    for i in range(0, len(corpus), 2):
        a, b = sets[i], sets[i + 1]
        truth.append(len(a & b) / len(a | b))
        est_ours.append(dedupe.similarity(ours[i], ours[i + 1]))
        est_theirs.append(theirs[i].jaccard(theirs[i + 1]))
    for name, est in (("ours", est_ours), ("datasketch", est_theirs)):
        mae = sum(abs(e - t) for e, t in zip(est, truth, strict=True)) / len(truth)
        tp = sum(e >= dedupe.THRESHOLD and t >= dedupe.THRESHOLD for e, t in zip(est, truth, strict=True))
        fp = sum(e >= dedupe.THRESHOLD > t for e, t in zip(est, truth, strict=True))
        fn = sum(t >= dedupe.THRESHOLD > e for e, t in zip(est, truth, strict=True))
        print(f"{name:<11} Jaccard MAE {mae:.3f}   copies at {dedupe.THRESHOLD}: precision "
              f"{tp / max(1, tp + fp):.3f} recall {tp / max(1, tp + fn):.3f} ({tp + fn} true copies)")

    rows = [{"article_id": f"a{i:05d}", "published_at": None, "content_hash": dedupe.content_hash(t),
             "minhash": ours[i]} for i, t in enumerate(corpus)]
    started = time.perf_counter()
    found_ours = dedupe.find_duplicates(rows, [])
    ours_find = time.perf_counter() - started
    started = time.perf_counter()
    lsh = MinHashLSH(threshold=dedupe.THRESHOLD, num_perm=dedupe.PERMUTATIONS)
    found_theirs = {}
    for i, m in enumerate(theirs):
        near = [int(k[1:]) for k in lsh.query(m) if theirs[int(k[1:])].jaccard(m) >= dedupe.THRESHOLD]
        if near:
            found_theirs[f"a{i:05d}"] = f"a{min(near):05d}"
        else:
            lsh.insert(f"a{i:05d}", m)
    theirs_find = time.perf_counter() - started
    print(f"find every copy among {len(corpus)}: ours {ours_find:.2f} s ({len(found_ours)} copies), "
          f"datasketch {theirs_find:.2f} s ({len(found_theirs)} copies)")
    dates(args.limit)


def dates(limit: int) -> None:
    from dateutil import parser as dateparser
    from htmldate import find_date

    from pipelines import extract

    bodies = news_pages(None)[:limit]
    ours, theirs, t_ours, t_theirs = [], [], 0.0, 0.0
    for body in bodies:
        html = body.decode("utf-8", "replace")
        started = time.perf_counter()
        raw = extract._page_time(html)
        try:
            # Compared as the page writes it: htmldate's output carries no zone (ours is then made UTC).
            ours.append(dateparser.parse(raw).replace(tzinfo=None) if raw else None)
        except (ValueError, OverflowError):
            ours.append(None)
        t_ours += time.perf_counter() - started
        started = time.perf_counter()
        found = find_date(html, extensive_search=False, original_date=True, outputformat="%Y-%m-%dT%H:%M:%S")
        t_theirs += time.perf_counter() - started
        theirs.append(dateparser.parse(found) if found else None)
    with_time = [(o, h) for o, h in zip(ours, theirs, strict=True)]
    o_time = sum(o is not None and (o.hour, o.minute) != (0, 0) for o, _ in with_time)
    h_time = sum(h is not None and (h.hour, h.minute) != (0, 0) for _, h in with_time)
    both = [(o, h) for o, h in with_time if o and h and (h.hour, h.minute) != (0, 0)]
    agree = sum(abs((o - h.replace(tzinfo=None)).total_seconds()) < 60 for o, h in both)
    print(f"dates on {len(bodies)} pages: a time of day from ours {o_time}, from htmldate {h_time}; "
          f"where both have one ({len(both)}), the same minute {agree}; "
          f"ms per page: ours {1000 * t_ours / len(bodies):.2f}, htmldate {1000 * t_theirs / len(bodies):.2f} "
          "(ours runs beside trafilatura's own date search, which gives the day)")


if __name__ == "__main__":
    main()
