"""One doc as the name rules read it (pipelines/names.py): its tokens' texts, which of them are
capitalised, which are shouted (a headline in capitals) or at a place that explains a capital (a
sentence's first word), and which words the article writes in lower case, each computed once per doc;
and `Run`, a stretch of tokens that may be a name, with its label.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from spacy.attrs import IDX, LENGTH, SENT_START, SPACY
from spacy.tokens import Doc

from pipelines.nameplaces import is_place_name, place_evidence
from pipelines.nametokenizer import TEXT_KEY
from pipelines.namewords import NOUN_CAPITALISING, Words, name_key

# A word of the language at least this common (wordfreq zipf: 3 = once per million words) is taken for a
# common word when capitalisation is explained by its position (sentence start, headline, German noun).
# Names are common in wordfreq too (its lists are lower-cased: "hansen" is 4.9 in Danish), so this is
# applied only where the capital is no evidence, and given names and places override it.
COMMON_ZIPF = 3.0
COMMON_WORD_ZIPF = 4.5
FIRST_NAME_ALONE_ZIPF = 5.0
# A name has at most this many words (a longer capitalised run is a title, a headline or a list).
MAX_WORDS = 8
CURRENCY = set("$€£¥₩₹")
# "PSD", "NATO", "ONGs", and the Swedish genitive of an acronym "FN:s".
ACRONYM = re.compile(r"^[A-ZÀ-ÖØ-Þ][A-ZÀ-ÖØ-Þ0-9&]{1,5}(?:s|:s)?$")


LETTER = re.compile(r"[^\W\d_]")


def _word(text: str) -> bool:
    return LETTER.search(text) is not None


@dataclass
class Run:
    start: int  # token indexes, end exclusive
    end: int
    label: str | None = None
    strong: bool = False  # typed by evidence (a place, an organisation word, a title...), not by default
    pending: bool = False  # kept only if the article's other names give it a type


class Text:
    """One doc's tokens and what the rules ask of them, computed once (a pass over the tokens each)."""

    def __init__(self, doc: Doc, w: Words):
        self.w = w
        # One array call, not a Token object per token and attribute (most of the time otherwise).
        rows = doc.to_array([IDX, LENGTH, SPACY, SENT_START]).tolist()
        text = doc.user_data.pop(TEXT_KEY, None)
        if text is None or len(text) != (rows[-1][0] + rows[-1][1] + rows[-1][2] if rows else 0):
            text = doc.text
        self.text = text
        self.texts = texts = [text[i:i + n] for i, n, _, _ in rows]
        self.n = len(texts)
        self.spaced = [bool(sp) for _, _, sp, _ in rows]
        self.sent_start = [ss == 1 for _, _, _, ss in rows]
        self.cap = [is_capitalised(t) for t in texts]
        self.shouted = _shouted_tokens(doc, text, texts, self.cap)
        self.initial = _initial_positions(texts, self.sent_start)
        self.lower_seen = {t.casefold() for t in texts if t[:1].islower()}
        # Words the article writes capitalised away from a sentence's start are names in it (not in German,
        # where every noun is).
        self.proper_seen = set() if w.lang in NOUN_CAPITALISING else {
            t for i, t in enumerate(texts) if self.cap[i] and not self.initial[i] and not self.shouted[i]}

    def lower_word(self, t: str) -> bool:
        """Whether a word is also a common lower-case word (of this article, or very common in the
        language: names are in wordfreq's lower-cased lists too, so its threshold is higher here)."""
        low = t.casefold()
        return low in self.lower_seen or self.w.zipf(low) >= COMMON_WORD_ZIPF

    def common(self, i: int, more: bool) -> bool:
        """Whether token i, whose capital its position explains, is a common word and not a name: a stop
        word, a month or day, or a common word of the language (or one the article also writes in lower
        case); not if the article writes it capitalised elsewhere, nor a given name before another
        capitalised word, nor a known place, nor (unless shouted) an acronym."""
        t, w = self.texts[i], self.w
        low = t.casefold()
        if low in w.stop or name_key(t) in w.calendar:
            return True
        if t in self.proper_seen and low not in self.lower_seen:
            return False
        zipf = w.zipf(low)
        if w.first_name(t) and (more or zipf < FIRST_NAME_ALONE_ZIPF) or not self.shouted[i] and is_acronym(t):
            return False
        # A known place, unless it is a foreign town named like a very common word ("Medan" is "while" in
        # Swedish and a city in Indonesia).
        if is_place_name(t, w, strong=True) and (zipf < COMMON_WORD_ZIPF or place_evidence(t, w.lang) == 3):
            return False
        return low in self.lower_seen or zipf >= COMMON_ZIPF


def is_capitalised(t: str) -> bool:
    # "São", "McCain", "D'Alema", "ØRESUND", "J."; not "iPhone", digits or currencies ("US$", "R$").
    # A letter and digits ("P1", "A4") is a code, not a name.
    if not t[:1].isupper():
        return False
    if t.isalpha():
        return True
    return (_word(t) and not any(c in CURRENCY for c in t)
            and (not any(c.isdigit() for c in t) or sum(c.isalpha() for c in t) >= 2))


def is_acronym(t: str) -> bool:
    """"PSD", "SAS", "NATO", "ONGs": two to six capitals (digits and & allowed)."""
    return bool(ACRONYM.match(t)) and sum(c.isupper() for c in t) >= 2


def _shouted_tokens(doc: Doc, text: str, texts: list[str], cap: list[bool]) -> list[bool]:
    """Tokens whose capitals say nothing: on a line with no lower-case letter (a headline or dateline in
    capitals), in a stretch of three or more words in capitals (a headline inside a line), or a word in
    capitals too long for an acronym ("ROCKMUSIK i Danmark", a typographic lead-in)."""
    n = len(texts)
    out = [False] * n
    upper = [cap[i] and texts[i].isupper() and sum(c.isalpha() for c in texts[i]) >= 2 for i in range(n)]
    for i in range(n):
        if upper[i] and sum(c.isalpha() for c in texts[i]) > 6:
            out[i] = True
    i = 0
    while i < n:
        if not upper[i]:
            i += 1
            continue
        j = i
        while j < n and (upper[j] or not _word(texts[j]) and j + 1 < n and upper[j + 1]):
            j += 1
        if sum(upper[i:j]) >= 3:
            for k in range(i, j):
                out[k] = True
        i = j
    if not any(c.isupper() for c in text):
        return out
    line_start = 0
    for line in text.split("\n"):
        line_end = line_start + len(line)
        if sum(c.isupper() for c in line) >= 4 and not any(c.islower() for c in line):
            span = doc.char_span(line_start, line_end, alignment_mode="expand")
            if span is not None:
                for k in range(span.start, span.end):
                    out[k] = True
        line_start = line_end + 1
    return out


# After these, the next word starts a clause or a quotation and its capital is explained by position.
OPENERS = {":", "\"", "«", "»", "„", "“", "”", "—", "–", "-", "•", "*", "...", "…", "'", "‘"}


def _initial_positions(texts: list[str], sent_start: list[bool]) -> list[bool]:
    """Where a capital letter is explained by position: a sentence's or line's first word (after any
    quotes, dashes, bullets or numbers), or the first word after a colon or an opening quote."""
    out = [False] * len(texts)
    first = True
    for i, t in enumerate(texts):
        if sent_start[i]:
            first = True
        if t.isspace():
            first = first or "\n" in t
            continue
        if not _word(t):
            first = first or t in OPENERS
            continue
        out[i] = first
        first = False
    return out
