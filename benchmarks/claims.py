"""Who said what: our claims stage against a plain baseline on PolNeAR's dev split, in the same run.

    .venv/bin/python benchmarks/claims.py [--shared ../shared] [--split dev] [--limit N] [--offset N]
                                          [--errors N]

Data: ../shared/eval/quotes_polnear (US political news, BRAT gold, first annotator per article). Ours is
the pipeline's path: the entity stage (entities.load_model + from_doc) gives the mentions and
claims.extract gets them, as `run.analyse` does. The baseline pairs quote marks in each paragraph and
takes as speaker the nearest subject (nsubj) of a speech verb in the quote's sentence, else the
nearest one before it, from the full spaCy pipeline.

Scoring, for both:
  - gold direct quotes: attributions with a content span that starts with a quotation mark;
  - recall: share of gold direct quotes that a predicted quote overlaps (any character in common);
  - precision: share of predicted quotes that overlap the content of some gold attribution (direct,
    indirect or mixed: a quoted fragment of a reported statement is a quote, not a false positive);
  - speaker accuracy: over the found gold direct quotes that have a gold Source span, the share whose
    best-overlapping predicted quote names that source. It does when the predicted speaker words'
    head (their last word, possessive dropped, lowercased) is a word of the gold Source span, or when
    the predicted speaker entity has a mention overlapping the gold Source span. PolNeAR does not
    resolve pronouns, so "he" matches "he" (our resolved entity is not credited for it);
  - statements (ours only): share of predicted statements overlapping some gold content;
  - throughput: claims stage alone, articles/s (mentions precomputed; ours includes its parse of the
    selected sentences, the baseline its full parse).
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import platform
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pipelines import claims, entities  # noqa: E402
from pipelines.settings import DEFAULT_MODEL, REPO_ROOT  # noqa: E402

SHARED = REPO_ROOT.parent / "shared"
QUOTE_START = ("\u201c", '"', "\u2018", "'")
BASELINE_CUES = {"say", "said", "says", "told", "tell", "tells", "added", "add", "adds", "asked", "ask", "wrote",
                 "explained", "noted", "argued", "stated", "declared", "insisted", "warned", "claimed", "replied",
                 "announced", "recalled", "continued", "according"}


def polnear_dir(shared: Path) -> Path:
    return shared / "eval" / "quotes_polnear"


def load(shared: Path, split: str, limit: int | None, offset: int = 0) -> list[tuple[str, str, list[dict]]]:
    folder = polnear_dir(shared)
    spec = importlib.util.spec_from_file_location("polnear_loader", folder / "polnear_loader.py")
    loader = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(loader)
    docs = list(loader.iter_split(split))[offset:]
    return docs[:limit] if limit else docs


def is_direct(attr: dict) -> bool:
    return any(s[2].lstrip().startswith(QUOTE_START) for s in attr["content"])


def overlap(a: tuple[int, int], b: tuple[int, int]) -> int:
    return max(0, min(a[1], b[1]) - max(a[0], b[0]))


def head(words: str | None) -> str | None:
    toks = re.findall(r"[\w.-]+", re.sub(r"['’]s?\b", "", words or ""))
    return toks[-1].lower().strip(".") if toks else None


def gold_words(spans: list) -> set[str]:
    return {w.lower().strip(".") for _, _, s in spans for w in re.findall(r"[\w.-]+", re.sub(r"['’]s?\b", "", s))}


class Score:
    def __init__(self, name: str):
        self.name = name
        self.pred = self.pred_ok = self.gold = self.found = 0
        self.with_source = self.speaker_ok = 0
        self.statements = self.statements_ok = 0
        self.seconds = 0.0
        self.articles = 0
        self.misses: list[str] = []

    def add(self, text: str, attrs: list[dict], quotes: list[dict], statements: list[dict] = ()) -> None:
        """quotes/statements: dicts with start, end, speaker (words), speaker_spans (char spans of the
        speaker entity's mentions; may be empty)."""
        contents = [(a, b) for attr in attrs for a, b, _ in attr["content"]]
        self.pred += len(quotes)
        for q in quotes:
            ok = any(overlap((q["start"], q["end"]), c) for c in contents)
            self.pred_ok += ok
            if not ok:
                self.misses.append(f"FP  {text[q['start']:q['end']][:90]!r}")
        self.statements += len(statements)
        self.statements_ok += sum(any(overlap((s["start"], s["end"]), c) for c in contents) for s in statements)
        for attr in filter(is_direct, attrs):
            self.gold += 1
            best, best_len = None, 0
            for q in quotes:
                n = sum(overlap((q["start"], q["end"]), (a, b)) for a, b, _ in attr["content"])
                if n > best_len:
                    best, best_len = q, n
            if best is None:
                self.misses.append(f"FN  {attr['content'][0][2][:90]!r}")
                continue
            self.found += 1
            if not attr["source"]:
                continue
            self.with_source += 1
            ok = head(best["speaker"]) in gold_words(attr["source"]) or any(
                overlap(m, (a, b)) for m in best["speaker_spans"] for a, b, _ in attr["source"])
            self.speaker_ok += ok
            if not ok:
                self.misses.append(f"SPK got {best['speaker']!r} want {attr['source'][0][2]!r} "
                                   f"for {text[best['start']:best['end']][:60]!r}")

    def row(self) -> str:
        p = self.pred_ok / self.pred if self.pred else 0.0
        r = self.found / self.gold if self.gold else 0.0
        sa = self.speaker_ok / self.with_source if self.with_source else 0.0
        st = f"{self.statements_ok / self.statements:.3f} of {self.statements}" if self.statements else "-"
        return (f"| {self.name} | {self.gold} | {self.pred} | {p:.3f} | {r:.3f} | {sa:.3f} ({self.speaker_ok}/"
                f"{self.with_source}) | {st} | {self.articles / self.seconds:.1f} |")


def ours(docs, score: Score) -> None:
    nlp = entities.load_model(DEFAULT_MODEL)
    prepared = []
    for art, text, attrs in docs:
        mentions, _ = entities.from_doc(art, text, nlp(entities.normalise(text)))
        prepared.append((art, text, attrs, mentions))
    claims.extract("warm-up", "He said: “the parser loads once per process.”", [])
    for art, text, attrs, mentions in prepared:
        t = time.perf_counter()
        found = claims.extract(art, text, mentions)
        score.seconds += time.perf_counter() - t
        score.articles += 1
        spans = {}
        for m in mentions:
            spans.setdefault(m.entity_id, []).append((m.start_char, m.end_char))
        as_dicts = [{"start": c.start_char, "end": c.end_char, "speaker": c.speaker,
                     "speaker_spans": spans.get(c.speaker_entity_id, [])} for c in found]
        kinds = [c.kind for c in found]
        score.add(text, attrs, [d for d, k in zip(as_dicts, kinds, strict=True) if k == "quote"],
                  [d for d, k in zip(as_dicts, kinds, strict=True) if k == "statement"])


def baseline_quotes(text: str) -> list[tuple[int, int]]:
    """Paired marks within a paragraph: a straight quote closes a straight one, a curly a curly."""
    out = []
    for m in re.finditer(r"\u201c([^\u201d\n]+)\u201d|\"([^\"\n]+)\"", text):
        g = 1 if m.group(1) is not None else 2
        out.append((m.start(g), m.end(g)))
    return out


def baseline(docs, score: Score) -> None:
    import spacy

    nlp = spacy.load(DEFAULT_MODEL)
    for _art, text, attrs in docs:
        t = time.perf_counter()
        doc = nlp(text)
        subjects = [(tok.idx, tok) for tok in doc if tok.dep_ in ("nsubj", "nsubjpass")
                    and tok.head.lower_ in BASELINE_CUES]
        quotes = []
        for start, end in baseline_quotes(text):
            sent = doc.char_span(start, end, alignment_mode="expand")
            bounds = (sent.sent.start_char, sent.sent.end_char) if sent is not None else (start, end)
            inside = [tok for i, tok in subjects if bounds[0] <= i < bounds[1]]
            before = [tok for i, tok in subjects if i < start]
            who = inside[0] if inside else (before[-1] if before else None)
            quotes.append({"start": start, "end": end, "speaker": who.text if who is not None else None,
                           "speaker_spans": []})
        score.seconds += time.perf_counter() - t
        score.articles += 1
        score.add(text, attrs, quotes)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shared", type=Path, default=SHARED, help="the workplace's shared folder (../shared)")
    ap.add_argument("--split", default="dev")
    ap.add_argument("--limit", type=int, help="only the first N articles")
    ap.add_argument("--offset", type=int, default=0, help="skip the first N articles")
    ap.add_argument("--errors", type=int, default=0, help="print up to N of our misses")
    args = ap.parse_args()
    if not (polnear_dir(args.shared) / "polnear_loader.py").exists():
        sys.exit(f"{polnear_dir(args.shared)} is not present: this benchmark needs PolNeAR from the shared "
                 "evaluation data (pass --shared PATH)")
    docs = load(args.shared, args.split, args.limit, args.offset)
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores; python {platform.python_version()}; "
          f"PolNeAR {args.split}: {len(docs)} articles")
    ours_score, base_score = Score("newsmon claims.extract"), Score("baseline: marks + nearest speech-verb subject")
    ours(docs, ours_score)
    baseline(docs, base_score)
    print("\n| system | gold direct quotes | predicted | precision | recall | speaker accuracy | statements "
          "overlapping gold | articles/s |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    print(ours_score.row())
    print(base_score.row())
    for line in ours_score.misses[: args.errors]:
        print(line)


if __name__ == "__main__":
    main()
