"""Entity memory: the names Newsmon already knows (the shipped alias table, the watchlist, the corpus's
own entities), found in every later article even where the model misses them.

A spaCy component (`newsmon_memory`) matches them case-sensitively with a PhraseMatcher and adds them to
the document's entities with the type the name is known by. The names come from a JSON file named by
its content's digest, so a worker loads a given memory once and a changed memory is a new file.

The rule that guards against names that are also common words ("Will", "Apple", "May", "Hope"): a
one-word name that the same article also uses in lower case ("apple", "will") is a word of that
article's vocabulary there, and memory does not tag it; the model still can. `is_word_here` is that rule.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
from dataclasses import asdict, dataclass
from pathlib import Path

# The model labels each type is given as (the three pipeline kinds read PERSON, ORG and GPE alike).
LABEL = {"PERSON": "PERSON", "ORG": "ORG", "LOCATION": "GPE"}
TYPE_OF = {"PERSON": "PERSON", "PER": "PERSON", "ORG": "ORG", "GPE": "LOCATION", "LOC": "LOCATION"}
# A name of the corpus becomes memory once it was named this often: a one-off tagging error stays one.
MIN_MENTIONS = 3
# The most names a memory holds (the most mentioned first): matching stays fast and memory bounded.
MAX_NAMES = 50_000
MAX_NAME_CHARS = 80
WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class Name:
    text: str
    type: str  # PERSON, ORG or LOCATION
    origin: str  # shipped, watchlist or corpus


def usable(text: str) -> bool:
    """A name memory can hold: a capital letter, two characters at least (two only as an acronym: "UN"),
    not longer than a name is, one line."""
    text = text.strip()
    if not (2 <= len(text) <= MAX_NAME_CHARS) or "\n" in text or not any(c.isupper() for c in text):
        return False
    return len(text) > 2 or text.isupper()


def merge(*groups: list[Name]) -> list[Name]:
    """One name, one type: the first group that names it wins (shipped, then watchlist, then corpus), so
    the corpus cannot retype what the alias table or the user said."""
    out: dict[str, Name] = {}
    for group in groups:
        for n in group:
            if usable(n.text):
                out.setdefault(n.text.strip(), Name(n.text.strip(), n.type, n.origin))
    return sorted(out.values(), key=lambda n: n.text)


def from_store(con, replaced: list[str] = (), run_id: str | None = None, limit: int = MAX_NAMES) -> list[Name]:
    """The corpus's names (each full form an entity's mentions resolved to) named at least MIN_MENTIONS
    times, each with its entity's type, from the `entity_forms` counts (no scan of the history).

    The mentions of the articles a run replaces (`replaced`, and those stored under `run_id`) do not
    count: a run's memory is what the rest of the corpus knew, so a rerun sees the memory the first run
    saw and changes nothing, instead of finding its own names a second time."""
    rows = con.execute("""
        with own as (
            select m.entity_id, m.form, count(*) as n
            from mentions as m
            where m.article_id in (select unnest($ids::varchar[]))
               or m.article_id in (select article_id from articles where run_id = $run)
            group by all
        ), forms as (
            select entity_id, form, sum(mentions) as n from entity_forms group by all
        )
        select f.form, e.type, f.n - coalesce(o.n, 0) as n
        from forms as f
        join entities as e using (entity_id)
        left join own as o using (entity_id, form)
        where f.n - coalesce(o.n, 0) >= $min
        order by n desc, f.form, e.type""", {"min": MIN_MENTIONS, "ids": list(replaced), "run": run_id}).fetchall()
    seen, out = set(), []
    for name, etype, _ in rows:
        if name not in seen and usable(name):
            seen.add(name)
            out.append(Name(name, etype, "corpus"))
        if len(out) >= limit:
            break
    return out


def write(names: list[Name], folder: Path) -> Path:
    """The memory file for these names (named by their digest; written once)."""
    body = json.dumps([asdict(n) for n in names], ensure_ascii=False, sort_keys=True).encode("utf-8")
    path = folder / f"memory-{hashlib.sha256(body).hexdigest()[:16]}.json"
    if not path.exists():
        folder.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(body)
        tmp.replace(path)
    return path


@functools.cache
def read(path: str) -> tuple[Name, ...]:
    return tuple(Name(**n) for n in json.loads(Path(path).read_text(encoding="utf-8")))


def is_word_here(name: str, lowered_words: frozenset[str]) -> bool:
    """The common-word guard: a one-word name whose lower-case form the article itself uses as a word
    ("Apple" in a recipe that says "apples", "Will" beside "will")."""
    if " " in name or not name[:1].isupper() or name.isupper():
        return False
    low = name.lower()
    return low in lowered_words or low + "s" in lowered_words or low + "es" in lowered_words


def lowered(text: str) -> frozenset[str]:
    """The words the text writes in lower case (the vocabulary `is_word_here` checks against)."""
    return frozenset(w for w in WORD.findall(text) if w.islower())


def add_component(nlp, names_path: str | None, extra: tuple[tuple[str, str], ...] = (),
                  before: str | None = None) -> None:
    """Add the memory matcher to a pipeline: the names of the file at `names_path` and `extra`
    (type, name) pairs (the shipped table and the watchlist)."""
    config = {"names_path": names_path or "", "extra": [list(e) for e in extra]}
    if before and before in nlp.pipe_names:
        nlp.add_pipe("newsmon_memory", before=before, config=config)
    else:
        nlp.add_pipe("newsmon_memory", config=config)


def _factory():
    from spacy.language import Language
    from spacy.matcher import PhraseMatcher
    from spacy.tokens import Span
    from spacy.util import filter_spans

    class MemoryMatcher:
        """Known names as entities: over what earlier components found (they know less than memory),
        before a statistical NER (which then predicts around them)."""

        def __init__(self, nlp, names_path: str, extra: list):
            self.matcher = PhraseMatcher(nlp.vocab, attr="ORTH")
            names = list(read(names_path)) if names_path else []
            names = merge([Name(t, TYPE_OF.get(ty, ty), "given") for ty, t in extra], names)
            by_type: dict[str, list[str]] = {}
            for n in names:
                by_type.setdefault(LABEL[n.type], []).append(n.text)
            for label, texts in by_type.items():
                self.matcher.add(label, [nlp.make_doc(t) for t in texts])

        def __call__(self, doc):
            matches = self.matcher(doc)
            if not matches:
                return doc
            words = lowered(doc.text)
            keep = [Span(doc, s, e, label=label) for label, s, e in matches
                    if not is_word_here(doc[s:e].text, words)]
            keep = filter_spans(keep)
            taken = {i for sp in keep for i in range(sp.start, sp.end)}
            others = [e for e in doc.ents if not any(i in taken for i in range(e.start, e.end))]
            doc.set_ents(filter_spans(keep + others), default="unmodified")
            return doc

    @Language.factory("newsmon_memory", default_config={"names_path": "", "extra": []})
    def make(nlp, name, names_path: str, extra: list):
        return MemoryMatcher(nlp, names_path, extra)


def register() -> None:
    """Register the spaCy factory (once per process; importing spaCy is left to the caller's need)."""
    from spacy.language import Language

    if not Language.has_factory("newsmon_memory"):
        _factory()
