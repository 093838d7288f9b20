"""Who said what: our claims stage against a plain baseline on PolNeAR, in the same run.

    .venv/bin/python benchmarks/claims.py [--shared ../shared] [--split dev] [--limit N] [--offset N]
                                          [--errors N]
    .venv/bin/python benchmarks/claims.py --folds    # 5 folds of train, then dev once
    .venv/bin/python benchmarks/claims.py --fit      # fit the speaker weights on all of train, write them

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

Folds (--folds): train is split into 5 fixed folds by article (a hash of the article id). For each fold,
the speaker and antecedent weights are fitted on the other four and the fold is scored with them; the
rules' prior table (speakers.PRIOR) and the baseline are scored beside them. Then the table fitted on all
of train scores dev once. --fit writes that table into pipelines/data/lexicon.yaml (deterministic: the
same code and data give the same table). The fit is a conditional logit over each quote's candidates
and a "no speaker" option (numpy, L2-regularised, Adam from zero); a candidate is correct when
the scoring above would credit it. The antecedent weights are fitted on a masked-name task: a gold
Source naming a person or organisation whose name the article used before is read as "he"/"she", "they"
or "the <group noun>", and the entity it names is the right antecedent ("none" where the entity stage
did not give that entity an earlier mention). docs/speakers.md reports the weights.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import importlib.util
import os
import platform
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pipelines import claims, entities, lexicon, speakers  # noqa: E402
from pipelines.settings import DEFAULT_MODEL, REPO_ROOT  # noqa: E402

SHARED = REPO_ROOT.parent / "shared"
QUOTE_START = ("\u201c", '"', "\u2018", "'")
BASELINE_CUES = {"say", "said", "says", "told", "tell", "tells", "added", "add", "adds", "asked", "ask", "wrote",
                 "explained", "noted", "argued", "stated", "declared", "insisted", "warned", "claimed", "replied",
                 "announced", "recalled", "continued", "according"}
FOLDS = 5
# The fit: enough L2 that a feature seen a handful of times stays near zero; Adam's steps and rate.
L2, STEPS, RATE = 1e-3, 500, 0.05


def polnear_dir(shared: Path) -> Path:
    return shared / "eval" / "quotes_polnear"


def load(shared: Path, split: str, limit: int | None, offset: int = 0) -> list[tuple[str, str, list[dict]]]:
    folder = polnear_dir(shared)
    spec = importlib.util.spec_from_file_location("polnear_loader", folder / "polnear_loader.py")
    loader = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(loader)
    docs = list(loader.iter_split(split))[offset:]
    return docs[:limit] if limit else docs


def fold_of(article_id: str) -> int:
    """The article's fold, fixed by its id (never by the order of the files)."""
    return int(hashlib.sha256(article_id.encode()).hexdigest(), 16) % FOLDS


def is_direct(attr: dict) -> bool:
    return any(s[2].lstrip().startswith(QUOTE_START) for s in attr["content"])


def overlap(a: tuple[int, int], b: tuple[int, int]) -> int:
    return max(0, min(a[1], b[1]) - max(a[0], b[0]))


def head(words: str | None) -> str | None:
    toks = re.findall(r"[\w.-]+", re.sub(r"['’]s?\b", "", words or ""))
    return toks[-1].lower().strip(".") if toks else None


def gold_words(spans: list) -> set[str]:
    return {w.lower().strip(".") for _, _, s in spans for w in re.findall(r"[\w.-]+", re.sub(r"['’]s?\b", "", s))}


def credited(words: str | None, entity_spans: list[tuple[int, int]], attr: dict) -> bool:
    """Whether a speaker (words, and the spans of its entity's mentions) names the attribution's Source."""
    return head(words) in gold_words(attr["source"]) or any(
        overlap(m, (a, b)) for m in entity_spans for a, b, _ in attr["source"])


def best_match(quotes: list[dict], attr: dict) -> dict | None:
    """The predicted quote that overlaps the gold attribution's content most."""
    best, best_len = None, 0
    for q in quotes:
        n = sum(overlap((q["start"], q["end"]), (a, b)) for a, b, _ in attr["content"])
        if n > best_len:
            best, best_len = q, n
    return best


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
            best = best_match(quotes, attr)
            if best is None:
                self.misses.append(f"FN  {attr['content'][0][2][:90]!r}")
                continue
            self.found += 1
            if not attr["source"]:
                continue
            self.with_source += 1
            ok = credited(best["speaker"], best["speaker_spans"], attr)
            self.speaker_ok += ok
            if not ok:
                self.misses.append(f"SPK got {best['speaker']!r} want {attr['source'][0][2]!r} "
                                   f"for {text[best['start']:best['end']][:60]!r}")

    @property
    def accuracy(self) -> float:
        return self.speaker_ok / self.with_source if self.with_source else 0.0

    @property
    def precision(self) -> float:
        return self.pred_ok / self.pred if self.pred else 0.0

    @property
    def recall(self) -> float:
        return self.found / self.gold if self.gold else 0.0

    def row(self, label: str = "") -> str:
        p, r, sa = self.precision, self.recall, self.accuracy
        st = f"{self.statements_ok / self.statements:.3f} of {self.statements}" if self.statements else "-"
        return (f"| {label}{self.name} | {self.gold} | {self.pred} | {p:.3f} | {r:.3f} | {sa:.3f} ({self.speaker_ok}/"
                f"{self.with_source}) | {st} | {self.articles / max(self.seconds, 1e-9):.1f} |")


@dataclasses.dataclass(frozen=True)
class Article:
    """A PolNeAR article with its gold attributions and the mentions our entity stage gives it."""

    article_id: str
    text: str
    attrs: list[dict]
    mentions: list
    spans: dict[str, list[tuple[int, int]]]


def prepare(docs) -> list[Article]:
    """Each article with its mentions (the entity stage, as `run.analyse` runs it)."""
    nlp = entities.load_model(DEFAULT_MODEL)
    out = []
    for art, text, attrs in docs:
        mentions, _ = entities.from_doc(art, text, nlp(entities.normalise(text)))
        spans: dict[str, list[tuple[int, int]]] = {}
        for m in mentions:
            spans.setdefault(m.entity_id, []).append((m.start_char, m.end_char))
        out.append(Article(art, text, attrs, mentions, spans))
    return out


def run_ours(articles: list[Article], score: Score, table: dict | None = None) -> list[claims.Traced]:
    """Our claims stage on each article under a weight table, scored; returns what it traced."""
    claims.extract("warm-up", "He said: “the parser loads once per process.”", [])
    out = []
    for a in articles:
        t = time.perf_counter()
        traced = claims.traced(a.article_id, a.text, a.mentions, table=table)
        score.seconds += time.perf_counter() - t
        score.articles += 1
        as_dicts = [({"start": c.start_char, "end": c.end_char, "speaker": c.speaker,
                      "speaker_spans": a.spans.get(c.speaker_entity_id, [])}, c.kind) for c in traced.claims]
        score.add(a.text, a.attrs, [d for d, k in as_dicts if k == "quote"],
                  [d for d, k in as_dicts if k == "statement"])
        out.append(traced)
    return out


def ours(docs, score: Score, table: dict | None = None) -> None:
    run_ours(prepare(docs), score, table)


def speaker_examples(articles: list[Article], traces: list[claims.Traced]) -> list[tuple[list, list]]:
    """(features per option, correct per option) of each ranking that chose a gold direct quote's
    speaker; the last option is "no speaker", correct when the gold quote has no Source."""
    out = []
    for a, traced in zip(articles, traces, strict=True):
        quotes = [{"start": d.start, "end": d.end, "decision": d} for d in traced.decisions]
        for attr in filter(is_direct, a.attrs):
            best = best_match(quotes, attr)
            if best is None:
                continue
            options = best["decision"].options
            if not attr["source"]:
                out.append(([o.features for o in options] + [{"null": 1.0}], [False] * len(options) + [True]))
                continue
            right = [credited(o.candidate.words, a.spans.get(o.entity, []), attr) for o in options]
            if any(right):
                out.append(([o.features for o in options] + [{"null": 1.0}], right + [False]))
    return out


def antecedent_examples(articles: list[Article]) -> list[tuple[list, list]]:
    """The masked-name task: each gold Source that names a person or organisation whose name the
    article used before (where a writer could have put a pronoun) is read as "he"/"she" (by the gender
    the article's words give the person; by the parity of its offset where they give none), "they" or
    "the <group noun>". The entity it names is the right antecedent; where that entity is not among the
    candidates (the entity stage missed or split its earlier mentions), "no antecedent" is right."""
    out = []
    for a in articles:
        index = speakers.Mentions(a.mentions, a.text)
        last, spoken = None, {}
        for attr in sorted((x for x in a.attrs if x["source"]), key=lambda x: x["source"][0][0]):
            start, end, surface = attr["source"][0]
            named = [m for m in index.overlapping(start, end) if m.type in ("PERSON", "ORG")]
            if not named:
                continue
            entity, etype = named[0].entity_id, named[0].type
            name = head(named[0].surface) or ""
            if len(name) > 2 and re.search(rf"\b{re.escape(name)}\b", a.text[max(0, start - speakers.REACH):start],
                                           re.I):
                if etype == "PERSON":
                    words = {"male": "he", "female": "she"}.get(index.genders.get(entity) or "", "she" if start % 2
                                                                else "he")
                else:
                    noun = next((w for w in re.findall(r"[a-z]+", surface.lower()) if w in lexicon.GROUP_NOUNS),
                                None)
                    words = f"the {noun}" if noun else "they"
                options = speakers.antecedents(words, start, start, index, last, spoken)
                right = [o.entity == entity for o in options]
                out.append(([o.features for o in options] + [{"null": 1.0}], right + [not any(right)]))
            last = speakers.Speaker(surface, entity, None, start, end)
            spoken[entity] = spoken.get(entity, 0) + 1
    return out


def fit(examples: list[tuple[list, list]], names: tuple[str, ...]) -> dict[str, float]:
    """Weights maximising the likelihood that each ranking picks one of its correct options (a
    conditional logit), with L2; deterministic (full-batch gradient ascent from zero)."""
    import numpy as np

    if not examples:
        return {}
    width = max(len(f) for f, _ in examples)
    col = {n: i for i, n in enumerate(names)}
    x = np.zeros((len(examples), width, len(names)))
    valid = np.zeros((len(examples), width), dtype=bool)
    right = np.zeros((len(examples), width), dtype=bool)
    for i, (feats, ok) in enumerate(examples):
        for j, (f, good) in enumerate(zip(feats, ok, strict=True)):
            valid[i, j], right[i, j] = True, good
            for name, value in f.items():
                if name in col:
                    x[i, j, col[name]] = value
    w, m, v = np.zeros(len(names)), np.zeros(len(names)), np.zeros(len(names))
    for step in range(1, STEPS + 1):  # Adam: the scales of the features differ
        s = np.where(valid, x @ w, -np.inf)
        p = np.exp(s - s.max(axis=1, keepdims=True))
        p /= p.sum(axis=1, keepdims=True)
        q = np.where(right, p, 0.0)
        q /= q.sum(axis=1, keepdims=True)
        grad = np.einsum("nk,nkd->d", q - p, x) / len(examples) - L2 * w
        m = 0.9 * m + 0.1 * grad
        v = 0.999 * v + 0.001 * grad**2
        w += RATE * (m / (1 - 0.9**step)) / (np.sqrt(v / (1 - 0.999**step)) + 1e-8)
    return {n: round(float(v), 2) for n, v in zip(names, w, strict=True) if round(float(v), 2) != 0.0}


def fit_table(articles: list[Article], traces: list[claims.Traced]) -> dict[str, dict[str, float]]:
    """The speaker and antecedent weights fitted on these articles (with their prior-table traces)."""
    return {"speaker": fit(speaker_examples(articles, traces), speakers.SPEAKER_FEATURES),
            "antecedent": fit(antecedent_examples(articles), speakers.ANTECEDENT_FEATURES)}


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


def baseline_scores(articles: list[Article], names: list[str]) -> dict[str, Score]:
    """The baseline on each article, scored per group (`names[i]` is article i's group)."""
    scores = {n: Score("baseline: marks + nearest speech-verb subject") for n in dict.fromkeys(names)}
    for a, name in zip(articles, names, strict=True):
        baseline([(a.article_id, a.text, a.attrs)], scores[name])
    return scores


def folds(train: list[Article], dev: list[Article]) -> dict[str, dict[str, float]]:
    """Prints each fold scored with weights fitted on the other four, beside the prior table and the
    baseline; then the mean and minimum, and dev once with the table fitted on all of train."""
    prior_scores = [Score("newsmon, prior table (rules' order)") for _ in range(FOLDS)]
    groups = [fold_of(a.article_id) for a in train]
    traces = []
    for a, f in zip(train, groups, strict=True):
        traces += run_ours([a], prior_scores[f], speakers.PRIOR)
    base = baseline_scores(train, groups)
    fitted = []
    print(HEADER)
    for f in range(FOLDS):
        rest = [i for i, g in enumerate(groups) if g != f]
        table = fit_table([train[i] for i in rest], [traces[i] for i in rest])
        fitted.append(Score("newsmon, weights fitted on the other 4 folds"))
        run_ours([a for a, g in zip(train, groups, strict=True) if g == f], fitted[-1], table)
        for s in (fitted[-1], prior_scores[f], base[f]):
            print(s.row(f"fold {f} ({s.articles} articles): "))
    print()
    for rows in (fitted, prior_scores, [base[f] for f in range(FOLDS)]):
        acc, p, r = [s.accuracy for s in rows], [s.precision for s in rows], [s.recall for s in rows]
        print(f"{rows[0].name}: speaker accuracy mean {sum(acc) / FOLDS:.3f} min {min(acc):.3f}; precision mean "
              f"{sum(p) / FOLDS:.3f} min {min(p):.3f}; recall mean {sum(r) / FOLDS:.3f} min {min(r):.3f}")
    table = fit_table(train, traces)
    print(f"\ntable fitted on all of train {'equals' if table == lexicon.WEIGHTS else 'differs from'} the one "
          f"in {lexicon.PATH.name}\n")
    print(HEADER)
    for s, t in ((Score("newsmon, weights fitted on train"), table), (Score("newsmon, prior table"), speakers.PRIOR)):
        run_ours(dev, s, t)
        print(s.row("dev: "))
    print(baseline_scores(dev, ["dev"] * len(dev))["dev"].row("dev: "))
    return table


def write_weights(table: dict[str, dict[str, float]]) -> None:
    """Replaces the weights at the end of lexicon.yaml (everything after its WEIGHTS line)."""
    import yaml

    text = lexicon.PATH.read_text(encoding="utf-8")
    marker = text.index("# WEIGHTS")
    marker = text.index("\n", marker) + 1
    order = {"speaker": speakers.SPEAKER_FEATURES, "antecedent": speakers.ANTECEDENT_FEATURES}
    ordered = {part: {n: table[part][n] for n in order[part] if n in table[part]} for part in order}
    body = yaml.safe_dump({"weights": ordered}, sort_keys=False, default_flow_style=False)
    lexicon.PATH.write_text(text[:marker] + body, encoding="utf-8")


HEADER = ("| system | gold direct quotes | predicted | precision | recall | speaker accuracy | statements "
          "overlapping gold | articles/s |\n| --- | --- | --- | --- | --- | --- | --- | --- |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shared", type=Path, default=SHARED, help="the workplace's shared folder (../shared)")
    ap.add_argument("--split", default="dev")
    ap.add_argument("--limit", type=int, help="only the first N articles")
    ap.add_argument("--offset", type=int, default=0, help="skip the first N articles")
    ap.add_argument("--errors", type=int, default=0, help="print up to N of our misses")
    ap.add_argument("--folds", action="store_true", help="5 folds of train (fit on 4, score the 5th), then dev")
    ap.add_argument("--fit", action="store_true", help="fit the weights on all of train and write lexicon.yaml")
    args = ap.parse_args()
    if not (polnear_dir(args.shared) / "polnear_loader.py").exists():
        sys.exit(f"{polnear_dir(args.shared)} is not present: this benchmark needs PolNeAR from the shared "
                 "evaluation data (pass --shared PATH)")
    machine = f"machine: {platform.machine()}, {os.cpu_count()} cores; python {platform.python_version()}"
    if args.folds or args.fit:
        train = prepare(load(args.shared, "train", args.limit, args.offset))
        print(f"{machine}; PolNeAR train: {len(train)} articles in {FOLDS} folds")
        if args.fit:
            traces = run_ours(train, Score("prior"), speakers.PRIOR)
            table = fit_table(train, traces)
            write_weights(table)
            print(f"wrote the weights fitted on train into {lexicon.PATH}")
            return
        folds(train, prepare(load(args.shared, "dev", None)))
        return
    docs = load(args.shared, args.split, args.limit, args.offset)
    print(f"{machine}; PolNeAR {args.split}: {len(docs)} articles")
    ours_score, base_score = Score("newsmon claims.extract"), Score("baseline: marks + nearest speech-verb subject")
    ours(docs, ours_score)
    baseline(docs, base_score)
    print("\n" + HEADER)
    print(ours_score.row())
    print(base_score.row())
    for line in ours_score.misses[: args.errors]:
        print(line)


if __name__ == "__main__":
    main()
