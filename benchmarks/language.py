"""Language identification on texts of known language: the old stopword rule, py3langid, ours, and lingua.

    .venv/bin/python benchmarks/language.py [--shared ../shared] [--limit N] [--no-sweep]
    PYTHONPATH=/tmp/lingua .venv/bin/python benchmarks/language.py   # with lingua from a throwaway target dir

Text sets, all read from ../shared/eval (a set whose folder is absent is skipped with the reason printed):
  - ner_uner_multilingual: Danish, Portuguese, Swedish (UD test sets). `doc` is the loader's document (runs of
    10 consecutive sentences, one a line); `short` is each sentence alone.
  - ner_uner_ewt: English web text (EWT dev + test), the same two forms.
  - ner_conllpp_dev: English Reuters news of 1996, sports results tables and lists included; `doc` is one
    article (tokens joined by spaces, one sentence a line), `short` each sentence (a table row, a dateline).
  - extraction_trafilatura: 990 web pages, text by `trafilatura.extract` with its defaults. evaldata.json has
    no language field, so the label is the page's own `<html lang>` primary subtag, kept only where nothing
    contradicts it: no `content-language`, `og:locale` or `dc.language` meta naming another language, and the
    host's country TLD (when it has one in `COUNTRY`) admits that language; on a generic TLD (.com, .org...)
    a meta declaration must confirm it. Blog platforms and CMSs put `lang="en"` on German pages, which this
    removes (704 of 990 pages kept). Some noise remains (about 1%: an English post on a German blog); it
    lowers every method alike.

Each set is split by document index: even is the tuning half, odd the report half (a sentence goes with its
document). Thresholds in pipelines/language.py were chosen from the sweep below, which reads the tuning half
only; the tables print both halves.

Methods, on the same texts in the same run:
  - stopwords: `pipelines.extract.detect_language` (the rule being replaced); `und` counts as unsure.
  - py3langid: `py3langid.classify(text)` on the whole text, all labels, never unsure.
  - identify: `pipelines.language.identify(text)`, no declared language, default `en`.
  - +right prior: declared = the true language (a source configured correctly).
  - +wrong prior: declared = `en`, or `de` for English texts (a source configured wrongly).
  - lingua: lingua-language-detector, all languages, high accuracy, models preloaded; None counts as unsure.
    It is not in our lock; when it cannot be imported it is skipped with a note.
A cell is accuracy % and, in brackets, the share returned as und / not identified (for identify: the share
whose origin is not `identified`, i.e. given by the prior or the default). ms is per text, one process.
"""

from __future__ import annotations

import argparse
import gzip
import importlib.util
import json
import logging
import re
import sys
import time
import urllib.parse
import warnings
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import py3langid  # noqa: E402

from pipelines import extract, language  # noqa: E402
from pipelines.settings import REPO_ROOT  # noqa: E402

SHARED = REPO_ROOT.parent / "shared"
# Languages a host's country TLD admits as a page's declared language (see the module docstring).
COUNTRY = {
    "de": {"de"}, "at": {"de"}, "ch": {"de", "fr", "it", "rm"}, "li": {"de"}, "lu": {"de", "fr", "lb"},
    "fr": {"fr"}, "be": {"fr", "nl", "de"}, "es": {"es", "ca", "gl", "eu"}, "mx": {"es"}, "ar": {"es"},
    "cl": {"es"}, "co": {"es"}, "pe": {"es"}, "ve": {"es"}, "bo": {"es"}, "py": {"es"}, "uy": {"es"},
    "ec": {"es"}, "sv": {"es"}, "ni": {"es"}, "gt": {"es"}, "cu": {"es"}, "br": {"pt"}, "pt": {"pt"},
    "it": {"it"}, "pl": {"pl"}, "fi": {"fi", "sv"}, "hu": {"hu"}, "no": {"no", "nb", "nn"}, "uk": {"en"},
    "ie": {"en"}, "us": {"en"}, "au": {"en"}, "nz": {"en"}, "ca": {"en", "fr"}, "nl": {"nl"}, "cz": {"cs"},
    "ua": {"uk"}, "ru": {"ru"}, "kr": {"ko"}, "jp": {"ja"}, "se": {"sv"}, "dk": {"da"},
}
HTML_LANG = re.compile(rb"<html\b[^>]*?\blang\s*=\s*[\"']?\s*([A-Za-z]{2,3})\b", re.I)
META_LANG = [re.compile(p, re.I) for p in (
    rb"<meta\b[^>]*?http-equiv\s*=\s*[\"']content-language[\"'][^>]*?content\s*=\s*[\"']\s*([A-Za-z]{2,3})",
    rb"<meta\b[^>]*?content\s*=\s*[\"']\s*([A-Za-z]{2,3})[^\"']*[\"'][^>]*?http-equiv\s*=\s*[\"']content-language",
    rb"<meta\b[^>]*?property\s*=\s*[\"']og:locale[\"'][^>]*?content\s*=\s*[\"']\s*([A-Za-z]{2,3})",
    rb"<meta\b[^>]*?content\s*=\s*[\"']\s*([A-Za-z]{2,3})[^\"']*[\"'][^>]*?property\s*=\s*[\"']og:locale",
    rb"<meta\b[^>]*?name\s*=\s*[\"']dc\.language[\"'][^>]*?content\s*=\s*[\"']\s*([A-Za-z]{2,3})",
)]
# A restricted label set compared with py3langid's whole set (140 labels) and its ISO 639-1 part.
EUROPE_MAJOR = ("en de fr es it pt nl sv da no nn fi pl cs sk hu ro bg ru uk el tr ar he zh ja ko hr sr sl "
                "et lv lt ca gl eu is ga cy lb").split()


@dataclass(frozen=True)
class Item:
    set: str  # e.g. "uner-da short"
    gold: str
    text: str
    doc: int  # document index, for the split

    @property
    def half(self) -> str:
        return "tuning" if self.doc % 2 == 0 else "report"


def _load_module(path: Path, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def uner_items(folder: Path, prefix: str, tag: str, gold: str) -> Iterator[Item]:
    loader = _load_module(folder / "uner_loader.py", f"uner_loader_{tag}")
    for path in sorted((folder / "data").glob(f"{prefix}*.iob2")):
        for n, (_, sents) in enumerate(loader.documents(str(path))):
            texts = [t for t, _ in sents if t]
            yield Item(f"uner-{tag} doc", gold, "\n".join(texts), n)
            for t in texts:
                yield Item(f"uner-{tag} short", gold, t, n)


def conll_items(folder: Path) -> Iterator[Item]:
    loader = _load_module(folder / "conll_loader.py", "conll_loader")
    for n, doc in enumerate(loader.iter_docs(str(folder / "data" / "conllpp_dev.txt"))):
        lines = [" ".join(tok for tok, _ in sent) for sent in doc]
        yield Item("conll-en doc", "en", "\n".join(lines), n)
        for ln in lines:
            yield Item("conll-en short", "en", ln, n)


def page_label(url: str, html: bytes) -> str | None:
    """The page's declared language where nothing contradicts it (see the module docstring), else None."""
    m = HTML_LANG.search(html[:100_000])
    if not m:
        return None
    declared = m.group(1).decode().lower()
    metas = {mm.group(1).decode().lower() for p in META_LANG for mm in p.finditer(html[:200_000])}
    if metas and metas != {declared}:
        return None
    host = urllib.parse.urlsplit(url.replace("hard::", "http://")).hostname or ""
    tld = host.rsplit(".", 1)[-1]
    if tld in COUNTRY:
        return declared if declared in COUNTRY[tld] else None
    return declared if metas else None


def trafilatura_items(folder: Path) -> Iterator[Item]:
    import trafilatura

    logging.getLogger("trafilatura").setLevel(logging.CRITICAL)
    logging.getLogger("htmldate").setLevel(logging.CRITICAL)
    ev = json.loads((folder / "evaldata.json").read_text(encoding="utf-8"))
    for n, (url, item) in enumerate(ev.items()):
        html = gzip.open(folder / "html" / f"{item['file']}.gz", "rb").read()
        gold = page_label(url, html)
        if gold is None:
            continue
        text = trafilatura.extract(html) or ""
        if text.strip():
            yield Item(f"trafilatura-{gold if gold in ('de', 'en') else 'other'} doc", gold, text, n)


def load(shared: Path, limit: int | None) -> list[Item]:
    ev = shared / "eval"
    sources: list[tuple[str, Path, Callable[[], Iterator[Item]]]] = [
        *[(f"uner {lg}", ev / "ner_uner_multilingual",
           lambda lg=lg: uner_items(ev / "ner_uner_multilingual", lg, lg, lg)) for lg in ("da", "pt", "sv")],
        ("uner ewt", ev / "ner_uner_ewt", lambda: uner_items(ev / "ner_uner_ewt", "en_ewt", "ewt", "en")),
        ("conll++ dev", ev / "ner_conllpp_dev", lambda: conll_items(ev / "ner_conllpp_dev")),
        ("trafilatura", ev / "extraction_trafilatura", lambda: trafilatura_items(ev / "extraction_trafilatura")),
    ]
    items: list[Item] = []
    for name, folder, make in sources:
        if not folder.is_dir():
            print(f"skipped {name}: {folder} is not present")
            continue
        got = list(make())
        if limit:
            per: dict[str, int] = defaultdict(int)
            got = [it for it in got if (per.__setitem__(it.set, per[it.set] + 1) or per[it.set]) <= limit]
        items.extend(got)
    return items


def wrong_prior(gold: str) -> str:
    return "de" if gold == "en" else "en"


def lingua_method() -> tuple[Callable[[str], str] | None, str]:
    try:
        from lingua import LanguageDetectorBuilder
    except ImportError:
        return None, ("lingua: skipped, not importable (it is not in our lock; install it in a throwaway place, "
                      "e.g. pip install --target /tmp/lingua lingua-language-detector, and run with "
                      "PYTHONPATH=/tmp/lingua)")
    t = time.perf_counter()
    det = LanguageDetectorBuilder.from_all_languages().with_preloaded_language_models().build()
    note = f"lingua: all languages, high accuracy, models preloaded in {time.perf_counter() - t:.1f} s"

    def run(text: str) -> str:
        lang = det.detect_language_of(text)
        return lang.iso_code_639_1.name.lower() if lang is not None else "und"

    return run, note


def methods(lingua: Callable[[str], str] | None) -> dict[str, Callable[[Item], tuple[str, bool]]]:
    """name -> f(item) giving (language, unsure)."""
    def stopwords(it: Item) -> tuple[str, bool]:
        lang = extract.detect_language(it.text)
        return lang, lang == "und"

    def raw(it: Item) -> tuple[str, bool]:
        return py3langid.classify(it.text)[0], False

    def ours(declared: Callable[[Item], str | None]) -> Callable[[Item], tuple[str, bool]]:
        def run(it: Item) -> tuple[str, bool]:
            r = language.identify(it.text, declared(it))
            return r.language, r.origin != "identified"
        return run

    out = {"stopwords": stopwords, "py3langid": raw, "identify": ours(lambda it: None),
           "+right prior": ours(lambda it: it.gold), "+wrong prior": ours(lambda it: wrong_prior(it.gold))}
    if lingua is not None:
        out["lingua"] = lambda it: (lambda lang: (lang, lang == "und"))(lingua(it.text))
    return out


@dataclass
class Cell:
    n: int = 0
    right: int = 0
    unsure: int = 0
    seconds: float = 0.0

    def add(self, ok: bool, unsure: bool, seconds: float) -> None:
        self.n += 1
        self.right += ok
        self.unsure += unsure
        self.seconds += seconds

    def text(self) -> str:
        return f"{100 * self.right / self.n:5.1f} ({100 * self.unsure / self.n:4.1f})" if self.n else "-"


def evaluate(items: list[Item], meths: dict[str, Callable[[Item], tuple[str, bool]]]):
    cells: dict[tuple[str, str, str], Cell] = defaultdict(Cell)  # (half, row, method)
    for it in items:
        kind = it.set.rsplit(" ", 1)[1]
        for name, f in meths.items():
            t = time.perf_counter()
            lang, unsure = f(it)
            dt = time.perf_counter() - t
            ok = lang == it.gold
            for row in (it.set, f"ALL {kind}", "ALL", f"lang {it.gold} {kind}"):
                cells[(it.half, row, name)].add(ok, unsure, dt)
    return cells


def print_tables(cells, names: list[str], items: list[Item]) -> None:
    rows_sets = list(dict.fromkeys(it.set for it in items))
    langs = sorted({k[1] for k in cells if k[1].startswith("lang ")})
    width = max(14, *(len(r) for r in rows_sets + langs)) + 1
    for half in ("tuning", "report"):
        print(f"\n== {half} half: accuracy % (unsure %) ==")
        print("".join(["set".ljust(width), "n".rjust(6), *(n.rjust(14) for n in names)]))
        for group in (rows_sets, langs, ["ALL short", "ALL doc", "ALL"]):
            for row in group:
                c0 = cells.get((half, row, names[0]))
                if not c0 or not c0.n:
                    continue
                print("".join([row.ljust(width), str(c0.n).rjust(6),
                               *(cells[(half, row, n)].text().rjust(14) for n in names)]))
            print()
        print("ms per text".ljust(width) + "".rjust(6), end="")
        print("".join(f"{1000 * cells[(half, 'ALL', n)].seconds / cells[(half, 'ALL', n)].n:14.2f}" for n in names))
        for kind in ("short", "doc"):
            c = [cells[(half, f"ALL {kind}", n)] for n in names]
            print(f"  ms, {kind}".ljust(width) + "".rjust(6)
                  + "".join(f"{1000 * x.seconds / x.n:14.2f}" if x.n else "-".rjust(14) for x in c))


def macro(rows: dict[str, list[bool]]) -> float:
    return 100 * sum(sum(v) / len(v) for v in rows.values()) / len(rows)


def sweep(items: list[Item]) -> None:
    """Threshold and label-set choice, on the tuning half only: macro accuracy over the sets (each set weighs
    the same, so the 281 German pages or the 1,800 EWT sentences do not decide alone). Each table varies one
    or two settings and keeps the others as pipelines/language.py sets them."""
    tune = [it for it in items if it.half == "tuning"]
    print(f"\n== sweep on the tuning half ({len(tune)} texts): macro accuracy % over {len({i.set for i in tune})}"
          " sets ==")
    base = language.THRESHOLDS
    evs = [language.analyse(it.text) for it in tune]

    def no_prior(it: Item) -> None:
        return None

    def right(it: Item) -> str:
        return it.gold

    def wrong(it: Item) -> str:
        return wrong_prior(it.gold)

    def score(th: language.Thresholds, declared: Callable[[Item], str | None], ev_list=evs) -> float:
        rows: dict[str, list[bool]] = defaultdict(list)
        for it, ev in zip(tune, ev_list, strict=True):
            rows[it.set].append(language.decide(ev, declared(it), "en", th).language == it.gold)
        return macro(rows)

    def grid(title: str, head: str, cols: tuple, rows: list[tuple[str, Callable[[object], float]]]) -> None:
        print(title)
        print(head.ljust(14) + "".join(f"{c:>8}" for c in cols))
        for label, f in rows:
            print(f"{label:<14}" + "".join(f"{f(c):8.2f}" for c in cols))

    sures = (0.1, 0.2, 0.3, 0.4, 0.5, 0.7, 0.9)
    grid("no declared language, default en: sure (columns) by min_letters (rows)", "min_letters", sures,
         [(str(ml), lambda s, ml=ml: score(replace(base, min_letters=ml, sure=s), no_prior)) for ml in (0, 10, 20, 40)])
    overrides = (0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99)
    grid("declared language: override (columns); right = the true language declared, wrong = en (de for English)",
         "declared", overrides,
         [(name, lambda o, d=d: score(replace(base, override=o), d))
          for name, d in (("right", right), ("wrong", wrong))])
    grid("need_prose (columns: 0 off, 1 on)", "declared", (0, 1),
         [(name, lambda p, d=d: score(replace(base, need_prose=bool(p)), d))
          for name, d in (("none", no_prior), ("right", right), ("wrong", wrong))])
    grid("min_script_share (no set here mixes scripts: a guard, not tuned)", "declared", (0.0, 0.5, 0.8, 0.95),
         [("none", lambda m: score(replace(base, min_script_share=m), no_prior))])

    docs = [i for i, it in enumerate(tune) if it.set.endswith(" doc")]
    print("sample size (documents only; columns: declared none / right / wrong, then ms per document)")
    print("SAMPLE_CHARS".ljust(14) + "".join(f"{c:>8}" for c in ("none", "right", "wrong", "ms")))
    kept = language.SAMPLE_CHARS
    try:
        for n in (250, 500, 1000, 2000, 4000, 8000):
            language.SAMPLE_CHARS = n
            t = time.perf_counter()
            sub = [language.analyse(tune[i].text) for i in docs]
            ms = 1000 * (time.perf_counter() - t) / len(docs)
            cells = []
            for d in (no_prior, right, wrong):
                rows: dict[str, list[bool]] = defaultdict(list)
                for i, ev in zip(docs, sub, strict=True):
                    rows[tune[i].set].append(language.decide(ev, d(tune[i])).language == tune[i].gold)
                cells.append(macro(rows))
            print(f"{n:<14}" + "".join(f"{c:8.2f}" for c in cells) + f"{ms:8.2f}")
    finally:
        language.SAMPLE_CHARS = kept

    print("label set (py3langid set_languages): top-1 of the sample, then identify by declared language")
    print("labels".ljust(22) + "n".rjust(5) + "top-1".rjust(8) + "none".rjust(8) + "right".rjust(8) + "wrong".rjust(8)
          + "ms".rjust(7))
    for name, labels in (("all", None), ("iso (ours)", "iso"), ("Europe + major", tuple(sorted(EUROPE_MAJOR)))):
        ident = language._identifier(labels)  # loaded outside the timing
        t = time.perf_counter()
        sub = [language.analyse(it.text, labels) for it in tune]
        ms = 1000 * (time.perf_counter() - t) / len(tune)
        top: dict[str, list[bool]] = defaultdict(list)
        for it, ev in zip(tune, sub, strict=True):
            top[it.set].append(ev.language == it.gold)
        print(f"{name:<22}{len(ident.labels):5d}{macro(top):8.2f}" + "".join(
            f"{score(base, d, sub):8.2f}" for d in (no_prior, right, wrong)) + f"{ms:7.2f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shared", type=Path, default=SHARED, help=f"the shared data folder (default {SHARED})")
    ap.add_argument("--limit", type=int, help="the first N texts of each set only, for a quick run")
    ap.add_argument("--no-sweep", action="store_true", help="skip the threshold sweep on the tuning half")
    args = ap.parse_args()
    warnings.filterwarnings("ignore")
    if not (args.shared / "eval").is_dir():
        sys.exit(f"{args.shared / 'eval'} is not present: pass --shared PATH")
    t = time.perf_counter()
    items = load(args.shared, args.limit)
    if not items:
        sys.exit("no text set found")
    print(f"texts: {len(items)} in {len({i.set for i in items})} sets, loaded in {time.perf_counter() - t:.0f} s "
          f"(tuning {sum(i.half == 'tuning' for i in items)}, report {sum(i.half == 'report' for i in items)})")
    t = time.perf_counter()
    language.identify("warm up the model")
    py3langid.classify("warm up the model")
    print(f"py3langid {py3langid.__version__}: model loaded in {time.perf_counter() - t:.1f} s (twice: ours + raw)")
    print(f"thresholds: {language.THRESHOLDS}; labels: {language.LABELS}; "
          f"sample: {language.SAMPLE_CHARS} chars of prose from the first {language.PREFIX_CHARS}")
    lingua, note = lingua_method()
    print(note)
    meths = methods(lingua)
    cells = evaluate(items, meths)
    print_tables(cells, list(meths), items)
    if not args.no_sweep:
        sweep(items)


if __name__ == "__main__":
    main()
