"""The language of an article: py3langid where it is sure, else the source's declared language, else a default.

The stopword count this replaces (`pipelines.extract.detect_language`) knew eight European languages and said
`und` on anything short, tabular or not in its lists. Here a trained identifier (py3langid, 140 labels, the
language model shipped in its wheel) decides when its normalised probability says it is sure; where it is not
(a sentence, a table of numbers, a results list, a dateline, mixed scripts, too few letters) the language the
source declares wins, and without one the configured default. The result is always an ISO 639-1 code.

    >>> identify("Der Hafen ist seit Montag geschlossen und die Arbeiter sind nach Hause gegangen.")
    Identified(language='de', confidence=..., origin='identified')

The figures behind every constant below come from `benchmarks/language.py`, chosen on the tuning half of its
text sets (even document index) and reported on the other half.

The module is pure: no settings, no environment; the caller passes the declared language and the default.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass

from py3langid.langid import MODEL_FILE, LanguageIdentifier

# Only this much of a text is looked at. Language is settled long before: on the tuning sets accuracy is
# flat from 2,000 characters up, and py3langid walks the sample byte by byte in Python (about 0.1 ms per
# 1,000 characters), so this bounds the cost of a 1 MB text to a few milliseconds.
PREFIX_CHARS = 20_000
SAMPLE_CHARS = 4_000
# A line counts as prose when at least this share of its non-space characters are letters and it has at
# least this many words. Tables, scores, datelines and bylines fail it and are left out of the sample while
# any prose line remains, so a results table under a two-line intro is identified on the intro.
PROSE_LETTER_SHARE = 0.7
PROSE_MIN_WORDS = 4
# Scripts whose letters mix within one language's ordinary writing count as one.
SCRIPT_GROUPS = {"HIRAGANA": "CJK", "KATAKANA": "CJK", "HANGUL": "CJK", "IDEOGRAPHIC": "CJK"}

# py3langid labels that are not ISO 639-1 but belong to a macrolanguage that has a code. Other three-letter
# labels (Nigerian Pidgin, Ancient Greek...) and `zxx` (no linguistic content) mean "not identified".
MACROLANGUAGE = {"ary": "ar", "arz": "ar", "uzs": "uz", "yue": "zh", "wuu": "zh", "sdh": "ku", "gug": "gn",
                 "fuv": "ff", "kik": "ki"}


@dataclass(frozen=True)
class Thresholds:
    """When the identifier is believed; see `benchmarks/language.py` for the sweep that set the defaults.

    Attributes:
        min_letters: below this many letters in the sample nothing is identified.
        sure: the probability at which an identification is taken when no language is declared (or it agrees).
        override: the probability an identification needs to beat a declared language that disagrees.
        min_script_share: below this share of the letters in one script the text is mixed, and unsure.
    """

    min_letters: int = 40
    sure: float = 0.9
    override: float = 0.99
    min_script_share: float = 0.8


THRESHOLDS = Thresholds()
# None keeps py3langid's whole label set; see the benchmark's "language set" table for why.
LANGUAGES: tuple[str, ...] | None = None


@dataclass(frozen=True)
class Identified:
    """The language given to a text, and where it came from.

    Attributes:
        language: ISO 639-1 code; never `und`.
        confidence: the identifier's normalised probability for `language`, 0.0 when it was not identified.
        origin: `identified` (the identifier decided), `declared` (the source's language) or `default`.
    """

    language: str
    confidence: float
    origin: str  # 'identified' | 'declared' | 'default'


@dataclass(frozen=True)
class Evidence:
    """What the identifier says about a text, before any prior is applied.

    Attributes:
        language: the best label as ISO 639-1, or None when that label has no code (or is `zxx`).
        confidence: its normalised probability (0.0 when the identifier was not run).
        letters: letters in the sample.
        script_share: the share of those letters in the most common script (1.0 when there are none).
    """

    language: str | None
    confidence: float
    letters: int
    script_share: float


@functools.cache
def _identifier(languages: tuple[str, ...] | None) -> LanguageIdentifier:
    # Loading the model takes about 0.7 s: once per process (per language set), and only when first needed.
    ident = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    if languages is not None:
        ident.set_languages(list(languages))
    return ident


@functools.lru_cache(maxsize=4096)
def _script(ch: str) -> str:
    name = unicodedata.name(ch, "")
    head = name.split(" ", 1)[0]
    if head == "CJK":
        return "CJK"
    return SCRIPT_GROUPS.get(head, head)


def _is_prose(line: str) -> bool:
    chars = sum(not c.isspace() for c in line)
    if not chars:
        return False
    letters = sum(c.isalpha() for c in line)
    return letters / chars >= PROSE_LETTER_SHARE and len(re.findall(r"[^\W\d_]{2,}", line)) >= PROSE_MIN_WORDS


def sample(text: str) -> str:
    """The part of `text` the identifier reads: prose lines from its opening, at most SAMPLE_CHARS long.

    Args:
        text: any text, of any length.

    Returns:
        Up to SAMPLE_CHARS characters: the prose lines of the first PREFIX_CHARS characters, or that prefix
        itself when it has no prose line. An all-capitals line is lowered, because the model learned
        n-grams from ordinary case and capitals headlines read as another language.
    """
    head = text[:PREFIX_CHARS]
    lines = [ln.strip() for ln in head.splitlines()]
    prose = [ln for ln in lines if _is_prose(ln)]
    chosen = prose or [ln for ln in lines if ln]
    out, size = [], 0
    for ln in chosen:
        if ln.isupper():
            ln = ln.lower()
        out.append(ln)
        size += len(ln) + 1
        if size >= SAMPLE_CHARS:
            break
    return "\n".join(out)[:SAMPLE_CHARS]


def analyse(text: str, languages: tuple[str, ...] | None = LANGUAGES) -> Evidence:
    """Run the identifier on a bounded sample of `text`.

    Args:
        text: the article text.
        languages: py3langid labels to choose among; None for all of them.

    Returns:
        The identifier's best label and probability, with the letter count and script share of the sample.
    """
    s = sample(text)
    letters = [c for c in s if c.isalpha()]
    if not letters:
        return Evidence(None, 0.0, 0, 1.0)
    scripts: dict[str, int] = {}
    for c in letters:
        k = _script(c)
        scripts[k] = scripts.get(k, 0) + 1
    share = max(scripts.values()) / len(letters)
    label, prob = _identifier(languages).classify(s)
    code = MACROLANGUAGE.get(label, label)
    return Evidence(code if len(code) == 2 else None, float(prob), len(letters), share)


def decide(ev: Evidence, declared: str | None = None, default: str = "en",
           thresholds: Thresholds = THRESHOLDS) -> Identified:
    """Combine the identifier's evidence with the declared language and the default.

    Args:
        ev: from `analyse`.
        declared: the source's language (ISO 639-1, a tag such as `pt-BR` is cut to its language), or None.
        default: the language used when nothing is identified and nothing is declared.
        thresholds: when the identifier is believed.

    Returns:
        The language, its probability when identified, and its origin.

    Raises:
        ValueError: when `default` is not a two-letter code.
    """
    fallback_lang = _code(default)
    if fallback_lang is None:
        raise ValueError(f"default language must be an ISO 639-1 code, not {default!r}")
    prior = _code(declared)
    fallback = Identified(prior, 0.0, "declared") if prior else Identified(fallback_lang, 0.0, "default")
    t = thresholds
    if ev.language is None or ev.letters < t.min_letters or ev.script_share < t.min_script_share:
        return fallback
    if prior and ev.language != prior:
        needed = t.override
    else:
        needed = t.sure
    if ev.confidence < needed:
        return fallback
    return Identified(ev.language, ev.confidence, "identified")


def identify(text: str, declared: str | None = None, default: str = "en") -> Identified:
    """The language of `text`: identified when the identifier is sure, else declared, else the default.

    Args:
        text: the article text (any length: only a bounded sample is read).
        declared: the language the source declares, or None.
        default: the language to give when nothing is identified and nothing is declared.

    Returns:
        An `Identified` whose language is an ISO 639-1 code, never `und`.
    """
    return decide(analyse(text), declared, default)


def _code(tag: str | None) -> str | None:
    # Accept what configs and <html lang> hold ("EN", "pt-BR", "de_CH"); anything else is no declaration.
    if not tag:
        return None
    head = re.split(r"[-_]", tag.strip().lower(), maxsplit=1)[0]
    return head if re.fullmatch(r"[a-z]{2}", head) else None
