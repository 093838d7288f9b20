"""Speakers: who said a quote, chosen as a ranking over candidates, and which entity a speaker is.

A quote's candidates come from patterns around it (`proposals`: the cue verb's subject after or before
it, a passive's agent, 'X agreed.' just before, a dash line, 'X said:' ending the paragraph before), from
the parse of its sentence where no pattern reads one (`parsed`: the parse is the stage's cost), and from
context (`context`: the paragraph's previous speaker, the quote paragraphs around it, the subject of the
sentence before, the paragraph's persons and organisations, the last speaker). Named features score
each against "no speaker" with the weights of lexicon.yaml. The words chosen then resolve to an entity
(`resolve`): a name to its mention; a pronoun, group or description by a second ranking over the
persons and organisations before it (`antecedents`: number, gender, head noun, recency, salience).
"""

from __future__ import annotations

import bisect
import dataclasses
import functools
import math
import re
from typing import Protocol

from pipelines import lexicon
from pipelines.entities import Mention

# How far (characters) a pronoun or description refers back: about a page of news copy; and how many of a
# paragraph's names are candidates (more would only add names that never speak).
REACH, PARAGRAPH_NAMES = 2500, 3
INHERITED = frozenset({"same_paragraph_speaker", "quote_paragraph_before", "quote_paragraph_after", "last_speaker"})
PATTERN_KINDS = frozenset({"after", "introduction", "agent", "sentence_before", "dash_line", "colon_paragraph"})
PARSE_KINDS = frozenset({"parse_cue_subject", "parse_beside", "parse_according", "parse_verb_subject"})
# The order of the score table in docs and in the fit: speaker features, then antecedent features.
SPEAKER_FEATURES = (
    *sorted(PATTERN_KINDS), *sorted(PARSE_KINDS), *sorted(INHERITED), "neighbour_subject", "paragraph_name",
    "cue", "neutral_cue", "distance", "pronoun", "description", "group", "name", "reporter", "function_word", "person",
    "organisation", "unresolved", "long_words", "alone_context", "null",
)
ANTECEDENT_FEATURES = ("agree_number", "agree_gender", "head_noun", "last_speaker", "earlier_speaker", "recency",
                       "same_paragraph", "salience", "null")
PRIOR = lexicon.PRIOR_WEIGHTS


def weights() -> dict[str, dict[str, float]]:
    """The score table in use: the fitted one of lexicon.yaml, else its prior (the rules' order)."""
    return lexicon.WEIGHTS or PRIOR


@dataclasses.dataclass(frozen=True)
class Site:
    """Where a quote is: its marks and words, its paragraph, where the previous quote ended (`floor`: no
    speaker is read across it), and whether it is its whole paragraph (`alone`)."""

    open_at: int
    start: int
    end: int
    close_end: int
    para_start: int
    para_end: int
    floor: int = 0
    alone: bool = False


@dataclasses.dataclass(frozen=True)
class Candidate:
    """A possible speaker: its words and offset, its cue, the generators that proposed it (`kinds`, each
    a feature) and, when inherited from an earlier speaker or a mention, its entity."""

    words: str
    at: int
    cue: str | None
    kinds: frozenset[str]
    entity: str | None = None


@dataclasses.dataclass(frozen=True)
class Speaker:
    """The speaker chosen for a quote or statement, with where the claim ends (`until`)."""

    words: str | None
    entity: str | None
    cue: str | None
    at: int | None
    until: int


@dataclasses.dataclass(frozen=True)
class Option:
    """A candidate speaker as ranked: the entity its words resolve to, and its features."""

    candidate: Candidate
    entity: str | None
    features: dict[str, float]


@dataclasses.dataclass(frozen=True)
class Antecedent:
    """An entity a pronoun, group or description may stand for, with its antecedent features."""

    entity: str
    features: dict[str, float]


@dataclasses.dataclass(frozen=True)
class Decision:
    """One ranking, kept for the benchmark's fit: the quote, its options, the one chosen (None: nobody)."""

    start: int
    end: int
    options: tuple[Option, ...]
    chosen: int | None


def score(feats: dict[str, float], table: dict[str, float]) -> float:
    """The linear score of one candidate's features under one section of the weight table."""
    return sum(table.get(name, 0.0) * value for name, value in feats.items())


def choose(options: list[Option] | list[Antecedent], table: dict[str, float], allow_null: bool = True) -> int | None:
    """The index of the best-scoring option, or None when the "no speaker" option scores higher."""
    best, best_score = None, table.get("null", 0.0) if allow_null else -math.inf
    for i, option in enumerate(options):
        s = score(option.features, table)
        if s > best_score:
            best, best_score = i, s
    return best


def features(c: Candidate, site: Site, entity_type: str | None) -> dict[str, float]:
    """The named features of one candidate for one quote (the keys of the speaker weights)."""
    feats = dict.fromkeys(c.kinds, 1.0)
    if c.cue:
        feats["cue"] = 1.0
        if c.cue in lexicon.NEUTRAL_CUES:
            feats["neutral_cue"] = 1.0
    feats[lexicon.shape(c.words)] = 1.0
    feats[{"PERSON": "person", "ORG": "organisation"}.get(entity_type or "", "unresolved")] = 1.0
    gap = min(abs(c.at - site.open_at), abs(c.at - site.close_end))
    feats["distance"] = min(1.0, math.log1p(gap) / math.log1p(2000))
    if len(c.words.split()) > 6:
        feats["long_words"] = 1.0
    if site.alone and c.kinds & (INHERITED | {"neighbour_subject", "paragraph_name"}):
        feats["alone_context"] = 1.0
    return feats


def _candidate(m: re.Match, base: int, kind: str, cue: str | None = None) -> Candidate:
    cue = cue or (m.groupdict().get("cue") or "").lower() or None
    return Candidate(m["who"], base + m.start("who"), cue, frozenset({kind}))


def proposals(text: str, site: Site) -> tuple[Candidate, ...]:
    """The speakers that patterns read around one quote: after it, introducing it in its sentence (not
    reaching back into the previous quote), the agent of a passive ('described as "hell" by X'), the
    sentence just before ('Bystrom agreed. "…"'), a dash line under it ('- Sanders.'), or a previous
    paragraph ending 'X said:'."""
    out = []
    close_at = site.close_end
    after = text[close_at:min(site.para_end, close_at + 160)]
    start = max(lexicon.sentence_start(text, site.para_start, site.open_at), site.floor)
    before = text[start:site.open_at]
    labelled = lexicon.LABELLED.search(before[-80:])
    m = lexicon.BY_AGENT.match(after)
    if labelled and m:
        out.append(_candidate(m, close_at, "agent", labelled[0].split()[0].lower()))
    m = next((m for p in lexicon.AFTER if (m := p.match(after))), None)
    if m:
        out.append(_candidate(m, close_at, "after"))
    m = next((m for p in lexicon.INTRODUCED if (m := p.search(before))), None)
    if m:
        out.append(_candidate(m, start, "introduction"))
    rest = text[close_at:lexicon.sentence_end(text, close_at, site.para_end)]
    if not before.strip() and start > site.para_start and not lexicon.CUE_RE.search(rest):
        prev_start = lexicon.sentence_start(text, site.para_start, start - 1)
        m = lexicon.SAID_SENTENCE.search(text, prev_start, start)
        if m:
            out.append(_candidate(m, 0, "sentence_before"))
    if site.open_at <= site.para_start and site.close_end >= site.para_end - 1:
        m = lexicon.DASH_LINE.match(text, site.para_end)
        if m:
            out.append(_candidate(m, 0, "dash_line"))
    if site.open_at <= site.para_start and site.floor < site.para_start:
        prev_end = site.para_start - 1
        while prev_end > 0 and text[prev_end - 1].isspace():
            prev_end -= 1
        if prev_end > 0 and text[prev_end - 1] == ":":
            prev_start = lexicon.sentence_start(text, text.rfind("\n", 0, prev_end) + 1, prev_end)
            m = next((m for p in lexicon.INTRODUCED if (m := p.search(text[prev_start:prev_end]))), None)
            if m:
                out.append(_candidate(m, prev_start, "colon_paragraph"))
    return tuple(out)


def context(text: str, site: Site, mentions: Mentions, previous: Speaker | None, last: Speaker | None,
            paragraph_before: Speaker | None, paragraph_after: Candidate | None) -> tuple[Candidate, ...]:
    """The candidates that come from around the quote rather than its own sentence: the previous speaker
    in the paragraph (a quote split by its attribution), for a quote that is its whole paragraph the
    speakers of the quote paragraphs around it, the subject that opens the sentence before, the persons
    and organisations of the paragraph, and the last speaker."""
    out = []

    def inherit(s: Speaker | None, kind: str) -> None:
        if s is not None and s.words:
            out.append(Candidate(s.words, s.at if s.at is not None else site.open_at, s.cue, frozenset({kind}),
                                 s.entity))

    if previous is not None and previous.until >= site.para_start:
        inherit(previous, "same_paragraph_speaker")
    elif last is not None and site.open_at - last.until < REACH:
        inherit(last, "last_speaker")
    if site.alone:
        inherit(paragraph_before, "quote_paragraph_before")
        if paragraph_after is not None:
            out.append(dataclasses.replace(paragraph_after, kinds=frozenset({"quote_paragraph_after"})))
    start = max(lexicon.sentence_start(text, site.para_start, site.open_at), site.floor)
    if start > site.para_start or site.alone and site.para_start > 1:
        prev_start = lexicon.sentence_start(text, text.rfind("\n", 0, start - 1) + 1, start - 1)
        m = lexicon.NEIGHBOUR_SUBJECT.match(text, prev_start, start)
        if m and m["who"].lower() not in lexicon.REPORTERS:
            cue = lexicon.CUE_RE.search(text, prev_start, start)
            out.append(Candidate(m["who"], m.start("who"), cue[0] if cue else None, frozenset({"neighbour_subject"})))
    for m in mentions.named_in(site.para_start, site.para_end, site.open_at, site.close_end)[:PARAGRAPH_NAMES]:
        out.append(Candidate(m.surface, m.start_char, None, frozenset({"paragraph_name"}), m.entity_id))
    return tuple(out)


def merged(candidates) -> list[Candidate]:
    """Candidates with the same words at the same place are one, with the kinds of all; each one's
    words are trimmed to the speaker ('one Democrat, who added that …' is 'one Democrat')."""
    by_place: dict[tuple[int, str], Candidate] = {}
    for c in candidates:
        words = lexicon.TRAILING.sub("", c.words)
        c = c if words == c.words or not words else dataclasses.replace(c, words=words)
        key = (c.at, c.words)
        kept = by_place.get(key)
        by_place[key] = c if kept is None else dataclasses.replace(
            kept, kinds=kept.kinds | c.kinds, cue=kept.cue or c.cue, entity=kept.entity or c.entity)
    return list(by_place.values())


class Mentions:
    """An article's mentions, indexed so that each lookup reads a few of them, not all (an article
    with thousands of quotes and names stays linear)."""

    def __init__(self, mentions: list[Mention], text: str = ""):
        self.text = text
        self.all = sorted(mentions, key=lambda m: m.start_char)
        self.starts = [m.start_char for m in self.all]
        self.widest = max((m.end_char - m.start_char for m in self.all), default=0)
        self.named = [m for m in self.all if m.type in ("PERSON", "ORG")]
        self.named_ends = [m.end_char for m in self.named]
        self.types = {m.entity_id: m.type for m in self.all}
        self.surnames: dict[str, str] = {}
        for m in self.all:
            if m.type == "PERSON" and m.form.split():
                self.surnames.setdefault(m.form.split()[-1], m.entity_id)

    def overlapping(self, start: int, end: int) -> list[Mention]:
        """The mentions that share a character with [start, end)."""
        lo = bisect.bisect_left(self.starts, start - self.widest)
        hi = bisect.bisect_left(self.starts, end)
        return [m for m in self.all[lo:hi] if m.start_char < end and start < m.end_char]

    def before(self, at: int, limit: int = 50) -> list[Mention]:
        """The persons and organisations named before `at`, latest first (a speaker refers back nearby)."""
        i = bisect.bisect_right(self.named_ends, at)
        return self.named[max(0, i - limit):i][::-1]

    def named_in(self, para_start: int, para_end: int, skip_from: int, skip_to: int) -> list[Mention]:
        """The persons and organisations of a paragraph outside [skip_from, skip_to), nearest first."""
        lo = bisect.bisect_left(self.named_ends, para_start)
        hi = bisect.bisect_left(self.named_ends, para_end + 1)
        inside = [m for m in self.named[lo:min(hi, lo + 40)] if m.end_char <= skip_from or m.start_char >= skip_to]
        return sorted(inside, key=lambda m: min(abs(m.end_char - skip_from), abs(m.start_char - skip_to)))

    @functools.cached_property
    def genders(self) -> dict[str, str]:
        """Each person's gender where the words around its mentions say it ('Mr. Ryan', 'Clinton said she')."""
        counts: dict[str, dict[str, int]] = {}
        for m in self.all:
            if m.type != "PERSON":
                continue
            title = re.findall(r"[a-z]+", self.text[max(0, m.start_char - 6):m.start_char].lower())[-1:]
            after = re.split(r"[.!?\n]", self.text[m.end_char:m.end_char + 80], maxsplit=1)[0].lower()
            found = [lexicon.GENDER_TITLES.get(w) for w in title] + [
                lexicon.GENDER_PRONOUNS.get(w) for w in re.findall(r"[a-z]+", after)]
            for gender in filter(None, found):
                tally = counts.setdefault(m.entity_id, {})
                tally[gender] = tally.get(gender, 0) + 1
        return {e: g for e, t in counts.items() for g in t if 2 * t[g] > sum(t.values())}


def entity_at(words: str, at: int, index: Mentions) -> str | None:
    """A person named in the speaker words, else an organisation ('an aide to the Kremlin'), else a
    place that is the whole speaker ('Russia said'), else a person of the article with that surname."""
    inside = index.overlapping(at, at + len(words))
    for etype in ("PERSON", "ORG"):
        for m in inside:
            if m.type == etype:
                return m.entity_id
    for m in inside:
        if m.type == "LOCATION" and len(m.surface) >= len(words.strip()) - 4:
            return m.entity_id
    last = words.split()[-1].strip("'’.,") if words.split() else ""
    return index.surnames.get(last) if last[:1].isupper() else None


def antecedents(words: str, at: int | None, start: int, index: Mentions, last: Speaker | None,
                spoken: dict[str, int]) -> list[Antecedent]:
    """The entities a pronoun, group or description can stand for, each with its antecedent features: the
    persons and organisations named in the REACH before it, and the last speaker. A description's
    candidates are only those introduced with its head noun ('Energy minister Ines Duarte')."""
    kind = lexicon.shape(words)
    until = min(start, at) if at is not None else start  # a description is not its own introduction
    low = words.lower().strip()
    agree = lexicon.PRONOUNS.get(low, {})
    group = kind == "group" or agree.get("number") == "plural" or agree.get("gender") == "neuter"
    noun = lexicon.head_noun(words) if kind in ("group", "description") else ""
    latest: dict[str, Mention] = {}
    counts: dict[str, int] = {}
    described: set[str] = set()  # entities introduced with the head noun at some mention
    text = index.text
    for m in index.before(start):
        if start - m.end_char > REACH:
            break
        latest.setdefault(m.entity_id, m)
        counts[m.entity_id] = counts.get(m.entity_id, 0) + 1
        if len(noun) >= 3 and m.entity_id not in described and re.search(rf"\b{re.escape(noun)}\b", _introduction(
                text, m, until), re.I):
            described.add(m.entity_id)
    out = []
    for entity, m in latest.items():
        etype = index.types.get(entity)
        has_noun = entity in described
        if kind == "description" and not has_noun:
            continue
        feats = {"agree_number": 1.0 if (etype == "ORG") == group else -1.0,
                 "recency": 1.0 - min(1.0, math.log1p(max(0, start - m.end_char)) / math.log1p(REACH)),
                 "salience": min(1.0, counts[entity] / 5)}
        gender = index.genders.get(entity)
        if agree.get("gender") in ("male", "female") and gender:
            feats["agree_gender"] = 1.0 if gender == agree["gender"] else -1.0
        if has_noun:
            feats["head_noun"] = 1.0
        if last is not None and last.entity == entity:
            feats["last_speaker"] = 1.0
        if entity in spoken:
            feats["earlier_speaker"] = 1.0
        if "\n" not in text[m.end_char:start]:
            feats["same_paragraph"] = 1.0
        out.append(Antecedent(entity, feats))
    return out


def _introduction(text: str, m: Mention, until: int) -> str:
    """A mention's name with the words around it in its sentence ('Energy minister Ines Duarte', 'Okafor,
    the union leader,', 'the Ministry of Defence'), never reaching `until` (the words being resolved)."""
    before = text[max(0, m.start_char - 40):m.start_char]
    after = text[m.end_char:min(m.end_char + 40, until)]
    return before[before.rfind(". ") + 1:] + m.surface + after.split(". ")[0]


def resolve(words: str | None, at: int | None, start: int, index: Mentions, last: Speaker | None,
            spoken: dict[str, int], table: dict[str, float] | None = None) -> str | None:
    """The entity the speaker words stand for, or None (the reporter; a description no one was
    introduced with; a group where no organisation fits).

    Args:
        words: the speaker words as written.
        at: their offset in the text (None for words not in the text).
        start: where the claim starts (antecedents are looked for before it).
        index: the article's mentions.
        last: the last speaker chosen before.
        spoken: how often each entity has been a speaker so far.
        table: the antecedent weights (default: the table in use).

    Returns:
        An entity id or None.
    """
    if not words:
        return None
    kind = lexicon.shape(words)
    if kind == "reporter":
        return None
    if at is not None and kind != "pronoun":
        entity = entity_at(words, at, index)
        if entity is not None or kind == "name":
            return entity
    table = weights()["antecedent"] if table is None else table
    options = antecedents(words, at, start, index, last, spoken)
    pick = choose(options, table)
    return options[pick].entity if pick is not None else None


SUBJECT_DEPS = ("nsubj", "nsubjpass")
# Right-hand parts of a subject that are not the speaker's name: ", who ...", ", the union leader,".
CUT_DEPS = {"relcl", "appos", "acl", "punct", "cc", "conj", "advcl", "parataxis"}


class Offsets(Protocol):
    """Maps a parsed window's offsets to the article's (None where the window stands in for a quote)."""

    def to_text(self, i: int) -> int | None: ...


def parsed(doc, win: Offsets, text: str) -> tuple[Candidate, ...]:
    """The speakers a parse of the quote's window proposes: the subjects of the cue verbs nearest the
    quote (or, where the parse gave a cue no subject, the words beside it), 'according to X', and the
    subject of the verb whose clause holds the quote."""
    inside = [t for t in doc if win.to_text(t.idx) is None]
    if not inside:
        return ()
    anchor = inside[0].i
    out = []
    cues = [t for t in doc if win.to_text(t.idx) is not None and t.lower_ in lexicon.CUE_WORDS]
    for cue in sorted(cues, key=lambda t: abs(t.i - anchor))[:2]:
        subject = subject_of(cue)
        if subject is not None and win.to_text(subject.idx) is not None:
            at, words = span_words(subject, win, text)
            out.append(Candidate(words, at, cue.lower_, frozenset({"parse_cue_subject"})))
            continue
        toks = _beside(doc, cue, inside, win)
        if toks is not None:
            start = win.to_text(toks[0].idx)
            end = win.to_text(toks[-1].idx) + len(toks[-1].text)
            out.append(Candidate(" ".join(text[start:end].split()), start, cue.lower_, frozenset({"parse_beside"})))
    for t in doc:
        if t.lower_ == "according" and win.to_text(t.idx) is not None:
            obj = next((g for c in t.children if c.lower_ == "to" for g in c.children if g.dep_ == "pobj"), None)
            if obj is not None and win.to_text(obj.idx) is not None:
                at, words = span_words(obj, win, text)
                out.append(Candidate(words, at, "according to", frozenset({"parse_according"})))
                break
    verb = inside[0]
    while verb.dep_ != "ROOT" and verb.head is not verb:
        verb = verb.head
        subject = next((c for c in verb.children if c.dep_ in SUBJECT_DEPS), None)
        if subject is not None and win.to_text(subject.idx) is not None and subject.lower_ not in ("it", "this"):
            at, words = span_words(subject, win, text)
            out.append(Candidate(words, at, None, frozenset({"parse_verb_subject"})))
            break
    return tuple(out)


def _beside(doc, cue, inside, win: Offsets):
    """The tokens naming who speaks, read from their place next to the quote and the cue alone ('”,
    Ramos, 58, told AFP'; '…, Jake Sullivan, said: “')."""
    if cue.i > inside[-1].i:
        toks = [t for t in doc[inside[-1].i + 1:cue.i] if win.to_text(t.idx) is not None]
        while toks and toks[0].is_punct:
            toks = toks[1:]
        if "," in [t.text for t in toks]:
            toks = toks[:[t.text for t in toks].index(",")]
    elif cue.i < inside[0].i and all(t.is_punct for t in doc[cue.i + 1:inside[0].i]):
        toks = []
        for t in reversed(doc[max(0, cue.i - 8):cue.i]):
            if t.is_punct and toks:
                break
            if not t.is_punct:
                toks.insert(0, t)
    else:
        return None
    if not toks or len(toks) > 6 or not (toks[0].text[0].isupper() or toks[0].lower_ in ("the", "a", "an")):
        return None
    return toks


def subject_of(verb):
    """The subject of a cue verb: its own, the agent of a passive, or, for 'adding' / 'before asking'
    and a verb in a relative clause, that of the clause it hangs on."""
    for _ in range(5):
        subject = next((c for c in verb.children if c.dep_ in SUBJECT_DEPS), None)
        if subject is None:
            agent = next((c for c in verb.children if c.dep_ == "agent"), None)
            subject = next((c for c in agent.children if c.dep_ == "pobj"), None) if agent is not None else None
        if subject is not None:
            if subject.lower_ in ("who", "that", "which") and verb.dep_ == "relcl":
                return verb.head
            return subject
        if verb.dep_ in ("conj", "advcl", "xcomp", "pcomp", "prep") and verb.head is not verb:
            verb = verb.head
        else:
            return None
    return None


def span_words(token, win: Offsets, text: str) -> tuple[int, str]:
    """(offset, words as written) of a subject: its subtree without what follows a comma, a relative
    clause or an apposition ('Grotskov, who ...' is 'Grotskov'), never wider than its window."""
    left, right = token.left_edge, token
    for child in token.rights:
        if child.dep_ in CUT_DEPS:
            break
        right = child.right_edge
    while left.i < token.i and left.is_punct:
        left = left.nbor()
    start, end = win.to_text(left.idx), win.to_text(right.idx)
    if start is None or end is None or end < start:
        start = end = win.to_text(token.idx)
        right = token
    end += len(right.text)
    return start, " ".join(text[start:end].split())
