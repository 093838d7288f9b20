"""The NER sets of benchmarks/entities.py measured through the user's path: every document is written as a
`.txt` file, `newsmon ingest` loads the folder in a child process with a fresh data folder, and what the
database then holds is scored beside the plain spaCy model run on the same file texts.

Kept apart from benchmarks/entities.py so that tests/test_entities_benchmark.py can run one set on a few
documents. Nothing here imports the pipeline's stages: the product is reached only through its CLI and
read back only through its tables (sql/migrations, README "Data dictionary").
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

TYPES = ("PER", "ORG", "LOC")
# Our entity types (entities.type) and the plain model's labels, as the scored types.
OURS = {"PERSON": "PER", "ORG": "ORG", "LOCATION": "LOC"}
PLAIN = {"PERSON": "PER", "ORG": "ORG", "GPE": "LOC", "LOC": "LOC", "FAC": "LOC"}
LEVELS = {"doc": "doc-level, set of distinct (type, surface) pairs per document",
          "mention": "mention-level, multiset of (type, surface) pairs per document (no offsets: the stored "
                     "text is cleaned, so positions in the file are not available)"}
# plain: the plain small model the issue names (en_core_web_sm); plain_md: the plain model our English NER
# starts from (en_core_web_md), to show what our layers add beyond the bigger model.
WHO = ("ours", "plain", "plain_md")
# runs.counts keys that say something was passed over.
SKIP_KEY = re.compile(r"skip|without|no_entities")
# runs.counts keys about how articles got their language.
LANGUAGE_KEY = re.compile(r"^language_")
NEWSMON = Path(sys.executable).with_name("newsmon")
# What `newsmon ingest` prints on stderr after each stage when stderr is not a terminal.
STAGE_LINE = re.compile(r": (\w+) done in ([\d.]+) s ")


@dataclass(frozen=True)
class SetSpec:
    key: str
    label: str
    folder: Path  # under the shared folder
    file: str  # under folder
    kind: str  # 'conll' or 'uner'
    role: str  # 'tuned on', 'held out', or 'halves' (tuning half: even index, report half: odd)


SETS = {s.key: s for s in (
    SetSpec("conll", "CoNLL-2003 English dev, Reuters 1996", Path("eval/ner_conllpp_dev"), "data/conllpp_dev.txt",
            "conll", "tuned on"),
    SetSpec("ewt-dev", "Universal NER English Web Treebank dev", Path("eval/ner_uner_ewt"),
            "data/en_ewt-ud-dev.iob2", "uner", "tuned on"),
    SetSpec("ewt-test", "Universal NER English Web Treebank test", Path("eval/ner_uner_ewt"),
            "data/en_ewt-ud-test.iob2", "uner", "held out"),
    SetSpec("da", "Universal NER Danish DDT test", Path("eval/ner_uner_multilingual"), "data/da_ddt-ud-test.iob2",
            "uner", "halves"),
    SetSpec("pt", "Universal NER Portuguese Bosque test", Path("eval/ner_uner_multilingual"),
            "data/pt_bosque-ud-test.iob2", "uner", "halves"),
    SetSpec("sv", "Universal NER Swedish Talbanken test", Path("eval/ner_uner_multilingual"),
            "data/sv_talbanken-ud-test.iob2", "uner", "halves"),
)}


def missing(shared: Path, spec: SetSpec) -> str | None:
    """Why the set cannot be run (None when it can)."""
    path = shared / spec.folder / spec.file
    return None if path.exists() else f"{path} is not present (shared evaluation data)"


# ---------------------------------------------------------------- documents


@dataclass
class Document:
    index: int
    name: str  # the file's name
    lines: list[str]  # one sentence a line, tokens joined by single spaces
    gold: list[list[tuple[str, str]]]  # per line: (type, surface) of each gold entity, PER / ORG / LOC only

    @property
    def text(self) -> str:
        """The file's content, exactly as written (the plain model reads this too)."""
        return "\n".join(self.lines) + "\n"

    @property
    def gold_pairs(self) -> list[tuple[str, str]]:
        return [g for line in self.gold for g in line]


def _module(path: Path, name: str):
    """The evaluation set's own loader, from the shared folder (the data is never copied here)."""
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def load(shared: Path, spec: SetSpec, limit: int | None = None) -> list[Document]:
    """The set's documents as the set's loader groups them: CoNLL by -DOCSTART-, UNER by `documents()`."""
    folder = shared / spec.folder
    if spec.kind == "conll":
        mod = _module(folder / "conll_loader.py", "conll_loader")
        raw = (([[t for t, _ in s] for s in doc], [mod.spans(s) for s in doc])
               for doc in mod.iter_docs(str(folder / spec.file)))
    else:
        mod = _module(folder / "uner_loader.py", "uner_loader")
        raw = (([[t for t, _ in toks] for _, toks in sents], [mod.entities(toks) for _, toks in sents])
               for _, sents in mod.documents(str(folder / spec.file)))
    docs = []
    for i, (sents, spans) in enumerate(raw):
        if limit is not None and i >= limit:
            break
        gold = [[(t, " ".join(toks[s:e])) for s, e, t in sp if t in TYPES] for toks, sp in zip(sents, spans,
                                                                                                 strict=True)]
        docs.append(Document(i, f"{spec.key}-{i:04d}.txt", [" ".join(toks) for toks in sents], gold))
    return docs


def surface_key(surface: str) -> str:
    """What two surfaces must share to match: case folded, whitespace collapsed, a possessive 's / ’s
    and a leading "the" stripped (ours strips both, the plain model and some gold spans keep them: "the
    Peak District" and "Peak District" name one place). Applied alike to gold, ours and plain."""
    s = " ".join(unicodedata.normalize("NFC", surface).split()).casefold()
    return re.sub(r"^the\s+", "", re.sub(r"\s*['’]s$", "", s))


# ---------------------------------------------------------------- the user's path


@dataclass
class Ingest:
    """One `newsmon ingest` of a set's folder and what its database holds afterwards."""

    returncode: int = 0
    seconds: float = 0.0
    stderr_tail: list[str] = field(default_factory=list)
    stage_seconds: dict[str, float] = field(default_factory=dict)  # from the CLI's plain progress lines
    status: str | None = None  # runs.status
    counts: dict = field(default_factory=dict)  # runs.counts
    # by document index: the article row (text, language, word_count, duplicate_of) and its mentions
    articles: dict[int, dict] = field(default_factory=dict)
    mentions: dict[int, list[dict]] = field(default_factory=dict)
    refused: list[dict] = field(default_factory=list)  # fetch_log rows (stage, url, reason, doc)
    failed_checks: list[tuple] = field(default_factory=list)  # failed critical dq_results
    unmapped: int = 0  # articles whose URL is none of the written files
    offset_mismatches: int = 0  # mentions where text[start_char:end_char] != surface


def user_env(data_dir: Path, nlp_languages: str | None = None) -> dict[str, str]:
    """The environment of a user who has set nothing: every NEWSMON_* variable of ours removed, then a
    fresh data folder and database, and an empty sources file and watchlist (so the repository's config/
    files are not read). NEWSMON_NLP_LANGUAGES only when asked for."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSMON_")}
    config = data_dir.parent / "config"
    config.mkdir(parents=True, exist_ok=True)
    (config / "sources.yaml").write_text("sources: []\n", encoding="utf-8")
    (config / "watchlist.yaml").write_text("rules: []\n", encoding="utf-8")
    env.update({"NEWSMON_DATA_DIR": str(data_dir), "NEWSMON_DB": str(data_dir / "newsmon.duckdb"),
                "NEWSMON_SOURCES": str(config / "sources.yaml"), "NEWSMON_WATCHLIST": str(config / "watchlist.yaml")})
    if nlp_languages is not None:
        env["NEWSMON_NLP_LANGUAGES"] = nlp_languages
    return env


def ingest(docs: list[Document], workdir: Path, nlp_languages: str | None = None,
           newsmon: Path = NEWSMON) -> Ingest:
    """Write each document as one UTF-8 .txt file in a fresh folder, run `newsmon ingest FOLDER` as a user
    would (a child process, its own start-up and model loading included in the wall time), then read the
    database read-only."""
    inputs, data_dir = workdir / "input", workdir / "data"
    for d in (inputs, data_dir):
        shutil.rmtree(d, ignore_errors=True)
        d.mkdir(parents=True)
    for d in docs:
        (inputs / d.name).write_text(d.text, encoding="utf-8")
    env = user_env(data_dir, nlp_languages)
    t = time.perf_counter()
    proc = subprocess.run([str(newsmon), "ingest", str(inputs)], env=env, cwd=workdir, capture_output=True,
                          text=True)
    out = Ingest(returncode=proc.returncode, seconds=time.perf_counter() - t,
                 stderr_tail=proc.stderr.strip().splitlines()[-8:],
                 stage_seconds={m[1]: float(m[2]) for m in STAGE_LINE.finditer(proc.stderr)})
    db = data_dir / "newsmon.duckdb"
    if db.exists():
        read_back(out, db, {d.name: d.index for d in docs})
    return out


def _doc_of(url: str, by_name: dict[str, int]) -> int | None:
    path = Path(unquote(urlsplit(url).path)) if url.startswith("file://") else Path(url)
    return by_name.get(path.name)


def read_back(out: Ingest, db: Path, by_name: dict[str, int]) -> None:
    """Per document: its article, its mentions with our entity type; and the run's refusals and counts."""
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    try:
        run = con.execute("select status, counts from runs order by started_at desc limit 1").fetchone()
        if run:
            out.status, out.counts = run[0], json.loads(run[1] or "{}")
        ids = {}
        for aid, url, text, lang, words, dup in con.execute(
                "select article_id, url, text, language, word_count, duplicate_of from articles").fetchall():
            i = _doc_of(url, by_name)
            if i is None:
                out.unmapped += 1
                continue
            ids[aid] = i
            out.articles[i] = {"text": text, "language": lang, "word_count": words, "duplicate_of": dup}
            out.mentions[i] = []
        for aid, surface, etype, start, end, label in con.execute("""
                select m.article_id, m.surface, e.type, m.start_char, m.end_char, m.label
                from mentions as m left join entities as e using (entity_id)
                order by m.article_id, m.start_char""").fetchall():
            i = ids.get(aid)
            if i is None:
                continue
            out.mentions[i].append({"surface": surface, "type": etype, "start_char": start, "end_char": end,
                                    "label": label})
            out.offset_mismatches += out.articles[i]["text"][start:end] != surface
        for stage, url, reason in con.execute("select stage, url, reason from fetch_log order by all").fetchall():
            out.refused.append({"stage": stage, "url": url, "reason": reason, "doc": _doc_of(url, by_name)})
        out.failed_checks = con.execute("""
            select table_name, check_name, observed from dq_results
            where not success and severity = 'critical' order by all""").fetchall()
    finally:
        con.close()


@dataclass
class Gates:
    """Where the documents went. written = loaded + refused + quarantined + unaccounted."""

    written: int
    loaded: int
    refused: int  # documents with a fetch_log row and no article
    quarantined: int  # loaded nowhere because a critical check held the batch back
    unaccounted: int  # neither an article nor a fetch_log row
    reasons: Counter  # (stage, reason with numbers as #) -> documents
    reason_examples: dict  # the same key -> one file name
    duplicates: int
    languages: Counter  # language of each loaded article
    zero_mentions: Counter  # language of each loaded article without one mention
    zero_with_gold: int  # of those, the articles whose document has gold entities
    skip_counts: dict  # runs.counts keys about skipping
    language_counts: dict  # runs.counts keys about how the language was settled
    lines_lost: int  # file lines not found (after whitespace and NFC) among the stored paragraphs
    lines_total: int
    gold_on_lost_lines: int
    docs_with_lost_lines: int
    lost_examples: list[str]
    lost_kinds: Counter  # (kind, 'lines' | 'gold') -> count, kinds as in LOST_KINDS


def gates(docs: list[Document], got: Ingest) -> Gates:
    by_index = {d.index: d for d in docs}
    loaded = set(got.articles)
    logged = {r["doc"] for r in got.refused if r["doc"] is not None}
    refused = logged - loaded
    quarantined = set() if got.status != "quarantined" else {d.index for d in docs} - loaded - refused
    reasons, examples = Counter(), {}
    for r in got.refused:
        if r["doc"] in refused:
            key = (r["stage"], re.sub(r"\d+", "#", r["reason"]))
            reasons[key] += 1
            examples.setdefault(key, by_index[r["doc"]].name)
    languages = Counter(a["language"] for a in got.articles.values())
    zero = Counter(got.articles[i]["language"] for i in loaded if not got.mentions.get(i))
    zero_with_gold = sum(1 for i in loaded if not got.mentions.get(i) and by_index[i].gold_pairs)
    lost = total = gold_lost = docs_lost = 0
    lost_examples, lost_kinds = [], Counter()
    for d in docs:
        if d.index not in loaded:
            continue
        kept = Counter(_line_key(p) for p in got.articles[d.index]["text"].split("\n") if p.strip())
        hit = False
        for k, (line, gold) in enumerate(zip(d.lines, d.gold, strict=True)):
            total += 1
            key = _line_key(line)
            if kept[key] > 0:
                kept[key] -= 1
                continue
            lost += 1
            gold_lost += len(gold)
            hit = True
            kind = lost_kind(line, d.lines[:k])
            lost_kinds[kind, "lines"] += 1
            lost_kinds[kind, "gold"] += len(gold)
            if len(lost_examples) < 4 and (gold or kind != LOST_KINDS[0]):
                lost_examples.append(f"{d.name}: {line[:60]!r} ({kind})")
        docs_lost += hit
    return Gates(
        written=len(docs), loaded=len(loaded), refused=len(refused), quarantined=len(quarantined),
        unaccounted=len(docs) - len(loaded) - len(refused) - len(quarantined), reasons=reasons,
        reason_examples=examples, duplicates=sum(a["duplicate_of"] is not None for a in got.articles.values()),
        languages=languages, zero_mentions=zero, zero_with_gold=zero_with_gold,
        skip_counts={k: v for k, v in sorted(got.counts.items()) if SKIP_KEY.search(k)},
        language_counts={k: v for k, v in sorted(got.counts.items()) if LANGUAGE_KEY.search(k)},
        lines_lost=lost, lines_total=total, gold_on_lost_lines=gold_lost, docs_with_lost_lines=docs_lost,
        lost_examples=lost_examples, lost_kinds=lost_kinds)


LOST_KINDS = ("repeats an earlier line", "first line", "other")


def lost_kind(line: str, before: list[str]) -> str:
    """What a line missing from the stored text was, judged from the file alone: a repeat of an earlier line
    of the document with case, punctuation and spacing aside (the reader keeps one copy of a repeated
    paragraph), the first line (where a site banner would be), or something else (a notice, a tagline, a
    line run into another, a rewrite)."""
    fold = _fold(line)
    if any(_fold(b) == fold for b in before):
        return LOST_KINDS[0]
    return LOST_KINDS[1] if not before else LOST_KINDS[2]


def _fold(s: str) -> str:
    return " ".join(re.sub(r"[\W_]+", " ", unicodedata.normalize("NFKD", s).casefold()).split())


def _line_key(s: str) -> str:
    return " ".join(unicodedata.normalize("NFC", s).split())


# ---------------------------------------------------------------- the plain baseline


def plain_pairs(nlp, docs: list[Document]) -> tuple[list[list[tuple[str, str]]], float]:
    """The plain model over every document's file text, no gate: (type, surface) of each mapped entity, and
    the seconds `nlp.pipe` took (the model already loaded)."""
    t = time.perf_counter()
    out = [[(PLAIN[e.label_], e.text) for e in sdoc.ents if e.label_ in PLAIN]
           for sdoc in nlp.pipe(d.text for d in docs)]
    return out, time.perf_counter() - t


def ours_pairs(docs: list[Document], got: Ingest) -> list[list[tuple[str, str]]]:
    """Our stored mentions of each document as (type, surface); a document lost at a gate has none."""
    return [[(OURS[m["type"]], m["surface"]) for m in got.mentions.get(d.index, []) if m["type"] in OURS]
            for d in docs]


# ---------------------------------------------------------------- scoring


def compare(gold: list[tuple[str, str]], pred: list[tuple[str, str]]) -> dict[str, dict[str, tuple[int, int, int]]]:
    """(tp, fp, fn) per type at both levels, surfaces compared by `surface_key`: doc-level over the sets of
    distinct pairs, mention-level over the multisets (tp = the smaller of the two counts of each pair)."""
    g = Counter((t, surface_key(s)) for t, s in gold)
    p = Counter((t, surface_key(s)) for t, s in pred)
    out = {}
    for level, (gc, pc) in {"doc": (Counter(set(g)), Counter(set(p))), "mention": (g, p)}.items():
        tp = gc & pc
        out[level] = {t: (_of(tp, t), _of(pc, t) - _of(tp, t), _of(gc, t) - _of(tp, t)) for t in TYPES}
    return out


def _of(c: Counter, etype: str) -> int:
    return sum(n for (t, _), n in c.items() if t == etype)


@dataclass
class Score:
    tp: Counter = field(default_factory=Counter)
    fp: Counter = field(default_factory=Counter)
    fn: Counter = field(default_factory=Counter)
    docs: int = 0

    def add(self, counts: dict[str, tuple[int, int, int]]) -> None:
        self.docs += 1
        for t, (tp, fp, fn) in counts.items():
            self.tp[t] += tp
            self.fp[t] += fp
            self.fn[t] += fn

    def prf(self, etype: str | None = None) -> tuple[float, float, float]:
        keys = [etype] if etype else TYPES
        tp, fp, fn = (sum(c[k] for k in keys) for c in (self.tp, self.fp, self.fn))
        p = tp / (tp + fp) if tp + fp else 0.0
        r = tp / (tp + fn) if tp + fn else 0.0
        return p, r, (2 * p * r / (p + r) if p + r else 0.0)


@dataclass
class SetResult:
    spec: SetSpec
    docs: list[Document]
    got: Ingest
    gates: Gates
    plain_seconds: float
    # per document index, every written document: {who: {level: {type: (tp, fp, fn)}}}
    per_doc: dict[int, dict[str, dict]]

    def score(self, who: str, level: str, indices=None) -> Score:
        s = Score()
        for i in self.per_doc if indices is None else indices:
            s.add(self.per_doc[i][who][level])
        return s

    def halves(self) -> dict[str, list[int]]:
        """Rows of the summary: the whole set, and for the sets split in halves their tuning (even index) and
        report (odd index) halves."""
        every = [d.index for d in self.docs]
        if self.spec.role != "halves":
            return {self.spec.role: every}
        return {"tuning half": every[0::2], "report half": every[1::2], "whole set": every}


def run_set(shared: Path, spec: SetSpec, plains: dict, limit: int | None = None, nlp_languages: str | None = None,
            workdir: Path | None = None) -> SetResult:
    """One set: its documents through `newsmon ingest` (ours) and through each plain model (`plains`:
    {who: nlp}, "plain" first), scored on the same documents."""
    docs = load(shared, spec, limit)
    with tempfile.TemporaryDirectory(prefix=f"newsmon-ner-{spec.key}-", dir=workdir) as tmp:
        got = ingest(docs, Path(tmp), nlp_languages)
    ours = ours_pairs(docs, got)
    preds, seconds = {}, 0.0
    for who, nlp in plains.items():
        preds[who], took = plain_pairs(nlp, docs)
        seconds = seconds or took
    per_doc = {d.index: {"ours": compare(d.gold_pairs, ours[k]),
                         **{who: compare(d.gold_pairs, p[k]) for who, p in preds.items()}}
               for k, d in enumerate(docs)}
    return SetResult(spec, docs, got, gates(docs, got), seconds, per_doc)
