"""The language of an article: py3langid where it is sure, else the source's declared language, else a default.

The stopword count this replaces (`pipelines.extract.detect_language`) knew eight European languages and said
`und` on anything short, tabular or not in its lists. Here a trained identifier (py3langid, 140 labels, the
language model shipped in its wheel) decides when its normalised probability says it is sure; where it is not
(a sentence, a table of numbers, a results list, a dateline, mixed scripts, too few letters) the language the
source declares wins, and without one the configured default. The result is always an ISO 639-1 code.

    identify("Der Hafen ist seit Montag geschlossen.", declared="en")  # -> language 'de', origin 'identified'
    identify("Bayern Munich 3 Hamburg 1", declared="sv")               # -> language 'sv', origin 'declared'

The figures quoted below are from `benchmarks/language.py`: macro accuracy over its 13 text sets (Danish,
Portuguese, Swedish, English web and Reuters text as documents and as single sentences, and web pages), on
the tuning half (even document index); the report half is printed beside it and was not used to choose.

The module is pure: no settings, no environment; the caller passes the declared language and the default.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass

from py3langid.langid import MODEL_FILE, LanguageIdentifier

# Only this much of a text is read. On the tuning half's documents accuracy is the same with a sample of 500
# to 8,000 characters (macro 98.9 % without a declared language, 99.2 % with the right one) while the time
# grows with it, so 1,000 keeps a margin for an opening byline or caption. The prefix bounds the search for
# prose lines past a leading table, and so the cost of a 1 MB text, to a few milliseconds.
PREFIX_CHARS = 20_000
SAMPLE_CHARS = 1_000
# A line counts as prose when at least this share of its non-space characters are letters (vowel signs
# included: Indic scripts write with them), it has this many letters and at most this share of its
# whitespace tokens hold a digit. Counted in letters, not words, so that Chinese or Thai (no spaces) is prose
# too. Tables, scores, datelines and bylines fail it and are left out of the sample while any prose line
# remains, so a results table under a two-line intro is identified on the intro; a text with no prose line
# at all is not identified.
PROSE_LETTER_SHARE = 0.7
PROSE_MIN_LETTERS = 12
PROSE_MAX_DIGIT_TOKENS = 0.25
# Scripts whose letters mix within one language's ordinary writing count as one.
SCRIPT_GROUPS = {"HIRAGANA": "CJK", "KATAKANA": "CJK", "HANGUL": "CJK", "IDEOGRAPHIC": "CJK"}

# py3langid labels that are not ISO 639-1 but belong to a macrolanguage that has a code. Other three-letter
# labels (Nigerian Pidgin, Ancient Greek...) and `zxx` (no linguistic content) mean "not identified".
MACROLANGUAGE = {"ary": "ar", "arz": "ar", "uzs": "uz", "yue": "zh", "wuu": "zh", "sdh": "ku", "gug": "gn",
                 "fuv": "ff", "kik": "ki"}

# ISO 639-1 as it stands (183 codes): a declared language outside it is no declaration, so that whatever a
# source's config holds, the result is a real code. Withdrawn codes still found in old configs are renamed,
# and Bokmål is given py3langid's code for it so that the two agree rather than contradict each other.
ISO_639_1 = frozenset("""
    aa ab ae af ak am an ar as av ay az ba be bg bi bm bn bo br bs ca ce ch co cr cs cu cv cy da de dv dz ee el
    en eo es et eu fa ff fi fj fo fr fy ga gd gl gn gu gv ha he hi ho hr ht hu hy hz ia id ie ig ii ik io is it
    iu ja jv ka kg ki kj kk kl km kn ko kr ks ku kv kw ky la lb lg li ln lo lt lu lv mg mh mi mk ml mn mr ms mt
    my na nb nd ne ng nl nn no nr nv ny oc oj om or os pa pi pl ps pt qu rm rn ro ru rw sa sc sd se sg si sk sl
    sm sn so sq sr ss st su sv sw ta te tg th ti tk tl tn to tr ts tt tw ty ug uk ur uz ve vi vo wa wo xh yi yo
    za zh zu""".split())
RENAMED = {"iw": "he", "in": "id", "ji": "yi", "jw": "jv", "mo": "ro", "nb": "no"}


@dataclass(frozen=True)
class Thresholds:
    """When the identifier is believed; the defaults are set from the sweep `benchmarks/language.py` prints.

    Attributes:
        min_letters: below this many letters in the sample nothing is identified.
        sure: the probability at which an identification is taken when no language is declared (or it agrees).
        override: the probability an identification needs to beat a declared language that disagrees.
        min_script_share: below this share of the letters in one script the text is mixed, and unsure.
        need_prose: whether a text without a line of prose is left unidentified.
    """

    # 0 and 10 score the same (97.90 without a declared language); 20 costs 0.7 points on short sentences.
    # The prose rule's 12 letters a line mostly subsumes it; it stays as the floor when need_prose is off.
    min_letters: int = 10
    # Without a declaration a foreign sentence left unidentified gets the default, always wrong: 0.9 gives
    # 93.64, 0.5 97.46, 0.3 97.90, 0.2 97.95. Below 0.3 the gain is within noise and English table rows and
    # short lines start to be taken for other languages (Reuters sentences 99.4 % right at 0.3, 98.5 at 0.2).
    sure: float = 0.3
    # With the right language declared, accuracy is 99.15 at 0.5 (Danish sentences taken for Norwegian),
    # 99.47 at 0.6 and 99.48 from 0.7 up; with a wrong one it falls from 89.72 at 0.7 to 75.65 at 0.99. 0.7 is
    # the lowest value at which a correct declaration is no longer overridden on the tuning half.
    override: float = 0.7
    # Not tuned: no text set mixes scripts. A Russian text quoting English names stays well above it.
    min_script_share: float = 0.8
    # Costs 0.2 points without a declaration and 0.1 with a wrong one on these sets, which label a results
    # table by its article's language; kept because such a table reads as German at 0.81, above `override`,
    # and would overrule the source (tests/test_language.py).
    need_prose: bool = True


THRESHOLDS = Thresholds()
# The labels py3langid chooses among: "iso" keeps its ISO 639-1 labels and those in MACROLANGUAGE (123 of
# 140), None keeps all, or a tuple names them. Dropping the labels we could not return anyway (Nigerian
# Pidgin, Ancient Greek, zxx...) stops them taking short English or German texts; a shortlist of European
# languages did a little better on these sets, which hold only its languages, but would force every other
# language into one of them. Measured in the benchmark's "label set" table.
LABELS: str | tuple[str, ...] | None = "iso"


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
        prose: whether the sample has a line of prose (else it is a table, a list, a dateline...).
    """

    language: str | None
    confidence: float
    letters: int
    script_share: float
    prose: bool


@functools.cache
def _identifier(labels: str | tuple[str, ...] | None) -> LanguageIdentifier:
    # Loading the model takes about 0.7 s: once per process (per label set), and only when first needed.
    ident = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    if labels == "iso":
        ident.set_languages([lab for lab in ident.labels if len(lab) == 2 or lab in MACROLANGUAGE])
    elif labels is not None:
        ident.set_languages(list(labels))
    return ident


@functools.lru_cache(maxsize=4096)
def _script(ch: str) -> str:
    name = unicodedata.name(ch, "")
    head = name.split(" ", 1)[0]
    if head == "CJK":
        return "CJK"
    return SCRIPT_GROUPS.get(head, head)


def _is_prose(line: str) -> bool:
    tokens = line.split()
    chars = sum(map(len, tokens))
    letters = sum(map(str.isalpha, line))
    if letters < PROSE_LETTER_SHARE * chars:
        # Vowel signs are marks, not letters: only count them when the letters alone fall short (speed).
        letters += sum(unicodedata.category(c).startswith("M") for c in line)
    digits = sum(any(c.isdigit() for c in t) for t in tokens)
    return (letters >= PROSE_MIN_LETTERS and letters >= PROSE_LETTER_SHARE * chars
            and digits <= PROSE_MAX_DIGIT_TOKENS * len(tokens))


def sample(text: str) -> tuple[str, bool]:
    """The part of `text` the identifier reads: prose lines from its opening, at most SAMPLE_CHARS long.

    Args:
        text: any text, of any length.

    Returns:
        The sample and whether it is prose. The sample is the first prose lines of the first PREFIX_CHARS
        characters, or that prefix itself when it has no prose line, cut to SAMPLE_CHARS. An all-capitals line
        is lowered: the model learned its n-grams from ordinary case, and a capitals headline reads as noise.
    """
    prose: list[str] = []
    other: list[str] = []
    size = other_size = 0
    for ln in text[:PREFIX_CHARS].splitlines():
        ln = ln.strip()
        if not ln:
            continue
        ln = ln.lower() if ln.isupper() else ln
        if _is_prose(ln):
            prose.append(ln)
            size += len(ln) + 1
            if size >= SAMPLE_CHARS:
                break
        elif not prose and other_size < SAMPLE_CHARS:
            other.append(ln)
            other_size += len(ln) + 1
    return "\n".join(prose or other)[:SAMPLE_CHARS], bool(prose)


def analyse(text: str, labels: str | tuple[str, ...] | None = LABELS) -> Evidence:
    """Run the identifier on a bounded sample of `text`.

    Args:
        text: the article text.
        labels: the py3langid labels to choose among, as for LABELS.

    Returns:
        The identifier's best label and probability, with what the sample says about its own reliability.
    """
    s, prose = sample(text)
    letters = [c for c in s if c.isalpha()]
    if not letters:
        return Evidence(None, 0.0, 0, 1.0, prose)
    scripts: dict[str, int] = {}
    for c in letters:
        k = _script(c)
        scripts[k] = scripts.get(k, 0) + 1
    share = max(scripts.values()) / len(letters)
    label, prob = _identifier(labels).classify(s)
    code = MACROLANGUAGE.get(label, label)
    return Evidence(code if code in ISO_639_1 else None, float(prob), len(letters), share, prose)


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
        ValueError: when `default` is not an ISO 639-1 code.
    """
    fallback_lang = _code(default)
    if fallback_lang is None:
        raise ValueError(f"default language must be an ISO 639-1 code, not {default!r}")
    prior = _code(declared)
    fallback = Identified(prior, 0.0, "declared") if prior else Identified(fallback_lang, 0.0, "default")
    t = thresholds
    if (ev.language is None or ev.letters < t.min_letters or ev.script_share < t.min_script_share
            or (t.need_prose and not ev.prose)):
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
    head = RENAMED.get(head, head)
    return head if head in ISO_639_1 else None
