"""Lexicon: the English words and marks of speech, speakers and quantities, and the patterns they make.

The words live in `pipelines/data/lexicon.yaml`; this module reads them once and builds the patterns
that the claims stage (`pipelines/claims.py`) and the speaker ranking (`pipelines/speakers.py`) match.
One table of speech verbs generates every pattern that needs one, so a verb is added in one place. How
copy marks a quote and where a sentence ends (after an abbreviation or not) are conventions of the
language too, so they are here.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import yaml

PATH = Path(__file__).resolve().parent / "data" / "lexicon.yaml"
_DATA = yaml.safe_load(PATH.read_text(encoding="utf-8"))
_ROLES = ("cue", "trigger", "clause", "clause_object", "introduces", "label")


def _forms(role: str) -> list[str]:
    """The forms of every verb in the cue table that plays `role`, in table order."""
    out = []
    for row in _DATA["cues"].values():
        forms = row.get(role)
        out += row.get("cue", []) if forms == "*" else forms or []
    return list(dict.fromkeys(out))


def _alternation(words) -> str:
    """A regex alternation that tries the longest word first ('said' before 'sa…' prefixes)."""
    return "|".join(re.escape(w).replace(r"\ ", r"\s+") for w in sorted(set(words), key=len, reverse=True))


CUE_WORDS = frozenset(_forms("cue"))
NEUTRAL_CUES = frozenset(w for row in _DATA["cues"].values() if row.get("neutral") for w in row.get("cue", []))
ACCORDING_TO = _DATA["according_to"]
PRONOUNS: dict[str, dict[str, str]] = _DATA["pronouns"]
REPORTERS = frozenset(_DATA["reporters"])
GENDER_TITLES = {word: gender for gender, words in _DATA["gender_titles"].items() for word in words}
GENDER_PRONOUNS = {word: gender for gender, words in _DATA["gender_pronouns"].items() for word in words}
GROUP_NOUNS = frozenset(_DATA["group_nouns"])
SMALL_WORDS = frozenset(_DATA["small_words"])
NOT_NAMES = frozenset(w.lower() for w in _DATA["not_names"])
WEIGHTS: dict[str, dict[str, float]] = _DATA.get("weights") or {}
PRIOR_WEIGHTS: dict[str, dict[str, float]] = _DATA["prior_weights"]

CUES = _alternation(CUE_WORDS)
_TRIGGERS = _alternation([*_forms("trigger"), ACCORDING_TO])
_CLAUSE = _alternation(_forms("clause"))
_CLAUSE_OBJECT = _alternation(_forms("clause_object"))
_INTRODUCES = _alternation(_forms("introduces"))
_LABELS = _alternation(_forms("label"))
_OUTCRY = _alternation(_DATA["outcry_nouns"])

NAME = (rf"(?:[A-Z][\w'’.-]*(?:\s+(?:{_alternation(_DATA['name_particles'])})?\s*[A-Z][\w'’.-]*){{0,4}})")
_SPEAKING_PRONOUNS = [p for p, agree in PRONOUNS.items() if agree.get("gender") != "neuter"]
# A determiner opens a description in any case ('A presidential adviser said' opens its sentence).
_DETERMINERS = "|".join(f"[{d[0].upper()}{d[0]}]{re.escape(d[1:])}" for d in
                        sorted(_DATA["determiners"], key=len, reverse=True))
_SECOND = rf"(?:\s+(?!(?:{_alternation(_DATA['not_second'])})\b)[a-z]+)?"
# Starts at a word's start ("Republican" does not hold "an"); a description's second word is no
# preposition ("his list by"); a name's possessive opens one too ("Ukraine's defense ministry").
WHO_WORDS = (rf"(?<![\w'’-])(?:{'|'.join(_SPEAKING_PRONOUNS)}|I|we|(?:{_DETERMINERS})\s+[a-z]+{_SECOND}"
             rf"|{NAME}(?<=['’]s)\s+[a-z]+{_SECOND}|{NAME})\b")
WHO = rf"(?P<who>{WHO_WORDS})"
DASHES = "―—–"

# A quote's attribution right after it: '"…," she said', '"…," said X', '"…" ― Carla Sanchez'.
AFTER = [
    re.compile(rf"^\s*[,.!?]?\s*{WHO}\s+(?:(?:also|then|later)\s+)?(?P<cue>{CUES})\b"),
    re.compile(rf"^\s*[,.!?]?\s*(?P<cue>{CUES})\s+{WHO}"),
    re.compile(rf"^\s*[,.]?\s*[{DASHES}]+\s*{WHO}\s*[.,]?\s*$"),
]
_BEFORE = re.compile(
    rf"{WHO}(?:,[^,]{{1,80}},)?\s+(?:(?:also|then|later|had|[a-z]+ly)\s+)?(?P<cue>{CUES})"
    rf"(?:\s+(?:me|us|him|her|them|reporters|journalists|the\s+\w+))?(?:\s+(?:that|in\s+a\s+statement))?"
    rf"(?:\s*[:,]?|\s[^.:;“”\"]{{1,60}}:)\s*$"
)
# Introductions that end right before the quote: 'Kellerman said:', 'Stated Stone:', 'Carl Bialik:'.
INTRODUCED = [
    _BEFORE,
    re.compile(rf"(?P<cue>(?i:{CUES}))\s+{WHO}\s*:\s*$"),
    re.compile(rf"(?<![\w'’-])(?!(?:{'|'.join(_DATA['not_speakers'])})\b)(?P<who>{NAME})"
               rf"(?:\s*\([^()\n]{{1,30}}\))?\s*:\s*$"),
]
CUE_RE = re.compile(rf"\b(?:{CUES})\b")
SAID_SENTENCE = re.compile(rf"{WHO}\s+(?:(?:also|then|later)\s+)?(?P<cue>{CUES})\s*\.\s*$")
DASH_LINE = re.compile(rf"\s*\n\s*[-{DASHES}]+\s*{WHO}\s*\.?[ \t]*(?:\n|$)")
LABELLED = re.compile(rf"\b(?:{_LABELS})(?:\s+\w+){{0,4}}?\s+(?:as\s+)?[(\[]?$")
BY_AGENT = re.compile(rf"^[\s,]*by\s+{WHO}")
SAID_BEFORE = re.compile(rf"(?:\b(?:(?:{_OUTCRY})\s+of|{_INTRODUCES})\s*[,:]?|:)\s*$", re.I)
NAME_BEFORE = re.compile(rf"(?:\b(?:{_alternation(_DATA['name_before'])})|\w['’]s?)\s*$", re.I)
TITLES = re.compile(r"^(?:the|a|an)\s+", re.I)

REPORTING = re.compile(rf"\b(?:{_TRIGGERS}|According to)\b")
_CLAUSE_CUES = rf"{_CLAUSE}|(?:{_CLAUSE_OBJECT})\s+(?!that\b)[\w'’]+(?:\s+[\w'’]+)?"
_ADVERBS = rf"(?:{_alternation(_DATA['adverbs'])})"
_OPENERS = rf"(?:(?:{_alternation(_DATA['openers'])})\s+)?"
# When the report was made, between the cue and what was said: 'said in April', 'said in a statement'.
_WHEN = (rf"\s+(?:(?:on|in|at|during|last|this|earlier|late|early)\s+)?(?:(?:a|an|the|its|his|her|their)\s+)?"
         rf"(?:{_alternation(_DATA['when_words'])})\b")
# Reported speech in the common shapes, settled without a parse: 'X said (that) …', '…, X said',
# '…, said X', 'According to X, …', '…, according to X'.
STATEMENT_PATTERNS = [
    re.compile(rf"^{_OPENERS}{WHO}(?:\s+\([^()]{{1,30}}\))?(?:\s+{_ADVERBS})*\s+"
               rf"(?P<cue>{_CLAUSE_CUES})(?:(?:\s+(?:on|in|at|during|last|this)(?:\s+[\w'’]+){{1,4}}?)?\s+that\b|)"
               rf"\s+(?P<content>[^\n]+?)\s*[.!?]?$"),
    re.compile(rf"^(?P<content>[^\n]{{12,}}?),\s+{WHO}\s+(?:also\s+)?(?P<cue>{CUES})(?:\s+[\w'’.-]+){{0,6}}?"
               rf"\s*[.!?]?$"),
    re.compile(rf"^(?P<content>[^\n]{{12,}}?),\s+(?P<cue>{CUES})\s+{WHO}(?:\s+[\w'’.-]+){{0,6}}?\s*[.!?]?$"),
    re.compile(r"^(?P<cue>According to)\s+(?P<who>[^,\n]{2,80}?),\s+(?P<content>[^\n]+?)\s*[.!?]?$"),
    re.compile(r"^(?P<content>[^\n]{12,}?),\s+(?P<cue>according to)\s+(?P<who>[^,\n]{2,80}?)\s*[.!?]?$"),
]
# A relative clause of reported speech inside a sentence: '…, which Ukraine's defense ministry said in April
# had been established with more than 100 recruits.'
RELATIVE_STATEMENT = re.compile(
    rf"(?P<comma>,\s*)?\b(?:which|who|that)\s+{WHO}\s+(?P<cue>{_CLAUSE_CUES})(?:{_WHEN})?(?:\s+that\b)?"
    rf"\s+(?P<content>[^\n]+?)\s*[.!?]?$")

# The subject that opens a sentence ('Clinton was defiant.'), and what a speaker span carries past the
# speaker: a relative clause, a trailing adverb ('The star then').
NEIGHBOUR_SUBJECT = re.compile(rf"{_OPENERS}{WHO}\s+[a-z]")
TRAILING = re.compile(r",\s*(?:who|which|whose|where)\b.*|\s+(?:then|also|later|that|who|which)$", re.S)

_NUMBER_WORDS = _alternation(_DATA["number_words"])
_UNIT_WORD = rf"(?!(?:{_alternation(_DATA['not_counted'])})\b)[a-z]"
QUANTITY = re.compile(
    rf"(?<![\w.,])(?P<claim>(?:(?:{_alternation(_DATA['approximators'])})\s+)?(?:[$€£]\s?)?"
    rf"(?P<num>\d+(?:[,.]\d+)*|(?:{_NUMBER_WORDS})\b)"
    rf"(?:\s+(?:million|billion|thousand|hundred))?\s*"
    rf"(?P<unit>%|percent|per cent|(?:{_UNIT_WORD}[a-z-]+\s+){{0,2}}?{_UNIT_WORD}[a-z-]+s)"
    rf"(?:\s+(?:a|per|each)\s+(?:day|week|month|year|hour))?)\b",
    re.I,
)
NOT_UNITS = re.compile(rf"^(?:{_alternation(_DATA['not_units'])})$", re.I)

SENTENCE_END = re.compile(r"[.!?][”\"’')\]]*\s+(?=[“\"‘'(\[]?[A-Z0-9])")
ABBREVIATION = re.compile(rf"(?:^|[\s(])(?:[A-Z]|{_alternation(_DATA['abbreviations'])})$")


def head_noun(words: str) -> str:
    """The last word, lowercased, possessive and punctuation dropped ('the ministry's' is 'ministry')."""
    toks = re.findall(r"[\w-]+", re.sub(r"['’]s?\b", "", words))
    return toks[-1].lower() if toks else ""


def shape(words: str) -> str:
    """What kind of words name a speaker: reporter ('I'), pronoun, function word ('When'), group ('the
    ministry', 'officials'), description ('the minister') or name."""
    low = words.lower().strip()
    if low in REPORTERS:
        return "reporter"
    if low in PRONOUNS:
        return "pronoun"
    if not low or low.split()[0] in NOT_NAMES:
        return "function_word"
    # 'Officials said' opens its sentence with a capital and is still a group.
    described = TITLES.match(words) or words[:1].islower() or low in GROUP_NOUNS
    if head_noun(words) in GROUP_NOUNS and described:
        return "group"
    return "description" if described else "name"


# How copy marks quoted words.
OPEN = "“\"‘'«„‚”"
CLOSE = "”\"’'»“"
# A double mark closes a double one and a single a single, whatever their shapes (copy mixes “…" and
# „…“), so a quote within a quote ('“… ‘oh so much’ hate …”') does not end the outer one.
DOUBLE = "“\"«„”»"


@dataclasses.dataclass(frozen=True)
class Mark:
    """A quote's marks: the opening mark, the quoted words [start, end), the end of the closing mark."""

    open_at: int
    start: int
    end: int
    close_end: int


def marks(text: str) -> list[Mark]:
    """The marks of each quoted passage, in order. Any opening mark may close with any closing mark of
    its weight; a quote left open at a paragraph's end goes on where the next paragraph reopens with a
    mark (a quote over several paragraphs), else ends with its paragraph.

    Args:
        text: the article text.

    Returns:
        One Mark per quote, never overlapping.
    """
    spans = []
    i, n = 0, len(text)
    while i < n:
        if text[i] in OPEN and _opens(text, i):
            double = text[i] in DOUBLE or text.startswith("''", i)
            first = i + 2 if text.startswith("''", i) else i + 1
            while first < n and text[first] in OPEN and text[first] not in "'’":
                first += 1  # '"“You don’t win …”': two opening marks are one
            j = first
            while True:
                while j < n and text[j] != "\n" and not (
                        text[j] in CLOSE and (text[j] in DOUBLE or text.startswith("''", j)) == double
                        and _closes(text, j)):
                    j += 1
                if j < n and text[j] == "\n":
                    k = j
                    while k < n and text[k].isspace():
                        k += 1
                    if (k < n and text[k] in OPEN and _opens(text, k) and j > first
                            and (text[k] in DOUBLE or text.startswith("''", k)) == double):
                        j = k + 1
                        continue
                break
            end = j
            while end > first and text[end - 1].isspace():
                end -= 1
            after = j + 2 if text.startswith("''", j) else min(j + 1, n) if j < n and text[j] != "\n" else j
            if end > first:
                spans.append(Mark(i, first, end, after))
            i = max(after, i + 1)
        else:
            i += 1
    return spans


def _opens(text: str, i: int) -> bool:
    before = text[i - 1] if i > 0 else "\n"
    after = text[i + 1] if i + 1 < len(text) else " "
    if text[i] in "'’" and before.isalnum():
        return False  # an apostrophe: it's, Putin's
    if text[i] == "”":
        return before == "\n" and not after.isspace()  # a paragraph opened with the wrong mark
    return (before.isspace() or before in "([—–-:,") and not after.isspace()


def _closes(text: str, j: int) -> bool:
    before = text[j - 1] if j > 0 else " "
    after = text[j + 1] if j + 1 < len(text) else " "
    if text[j] in "'’" and after.isalnum():
        return False
    if text[j] in "'’" and before.isalpha() and not (after.isspace() or after in ".,;:!?)—–-"):
        return False
    if text[j] in "”»" and (after.isspace() or after in ".,;:!?)"):
        return True  # 'view Ted Cruz today, ” Bozell adds': only a close looks like this
    if text[j] in DOUBLE and before == " " and j > 1 and text[j - 2] in "'’" and (after.isspace() or after in ".,;:"):
        return True  # '"… she said, 'Well done,' " said Russell': a quote's closing quote within it, spaced off
    return not before.isspace()


# How far a sentence is looked for around a point: a text without sentence breaks stays cheap.
MAX_WINDOW = 400


def sentence_start(text: str, para_start: int, at: int) -> int:
    """Where the sentence holding `at` starts, looking back at most MAX_WINDOW characters.

    Args:
        text: the article text.
        para_start: the start of the paragraph holding `at` (a sentence never starts before it).
        at: an offset in the sentence.

    Returns:
        The sentence's first offset.
    """
    lo = max(para_start, at - MAX_WINDOW)
    last = lo
    # Past `at`, so the lookahead sees the mark or capital that starts the sentence at `at`.
    for m in SENTENCE_END.finditer(text, lo, min(len(text), at + 3)):
        if m.end() <= at and not ABBREVIATION.search(text, max(lo, m.start() - 5), m.start()):
            last = m.end()
    return last


def sentence_end(text: str, at: int, para_end: int) -> int:
    """Where the sentence holding `at` ends (just after its final mark), at most MAX_WINDOW on.

    Args:
        text: the article text.
        at: an offset in the sentence.
        para_end: the end of its paragraph (a sentence never runs past it).

    Returns:
        The offset just after the sentence.
    """
    hi = min(para_end, at + MAX_WINDOW)
    for m in SENTENCE_END.finditer(text, at, hi):
        if not ABBREVIATION.search(text, max(at, m.start() - 5), m.start()):
            return m.start() + 1
    return hi
