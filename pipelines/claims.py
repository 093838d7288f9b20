"""Claims: who said what, about whom, with what numbers.

Direct quotes (in any mark style, over several paragraphs, partial quotes inside a sentence), reported
statements ("X said (that) ...", "according to X, ..."), and quantities ("up to 200 troops a day"), each
with the speaker as written and, where it resolves, the speaker's entity. Attribution is by patterns
first; where they cannot decide, the dependency parse of the few sentences that quote or report
(never the whole article) gives the subject of the cue verb.
"""

from __future__ import annotations

import bisect
import dataclasses
import functools
import re

from pipelines.entities import Mention, without_long_tokens
from pipelines.models import stable_id

# The languages whose speech verbs, quote conventions and number words the rules know; an article in
# another language gets entities (with NEWSMON_NLP_LANGUAGES) but no claims.
LANGUAGES = frozenset({"en"})
CUE_WORDS = (
    "said says say told tells added adds explained explains emphasised emphasized emphasises emphasizes "
    "replied replies admitted admits proclaimed proclaims asked asks wrote writes noted notes stated states "
    "insisted insists argued argues warned warns claimed claims declared declares recalled recalls continued "
    "concluded announced announces acknowledged acknowledges conceded concedes confirmed confirms stressed "
    "stresses urged urges vowed vows promised promises predicted predicts remarked remarks responded responds "
    "recounted joked jokes laughed shouted whispered posted tweeted tweets adding saying demanded demands "
    "charged charges countered counters cautioned complained complains contended contends observed boasted "
    "boasts quipped mused testified suggested suggests reiterated reiterates asserted asserts maintained "
    "maintains alleged alleges lamented lamented told telling explaining asking noting warning arguing "
    "insisting claiming stressing reported reports added announced agreed agrees disputed denied denies "
    "yelled screamed told barked snapped retorted chanted sang sings interjected interjecting exclaimed exclaims "
    "pleaded thundered fumed scoffed mocked commented comments offered explains recalls reads read texted emailed "
    "wondered wonders pressed quoted"
).split()
CUE_SET = frozenset(CUE_WORDS)
CUES = "|".join(sorted(set(CUE_WORDS), key=len, reverse=True))
OPEN = "“\"‘'«„‚”"
CLOSE = "”\"’'»“"
# A double mark closes a double one and a single a single, whatever their shapes (copy mixes “…" and
# „…“), so a quote within a quote ('“… ‘oh so much’ hate …”') does not end the outer one.
DOUBLE = "“\"«„”»"
DASHES = "―—–"
PRONOUNS = {"he", "she"}
REPORTERS = {"i", "we"}
NAME = r"(?:[A-Z][\w'’.-]*(?:\s+(?:de|van|von|bin|al|da|di|del|la|le)?\s*[A-Z][\w'’.-]*){0,4})"
# Starts at a word's start ("Republican" does not hold "an"); a description's second word is no
# preposition ("his list by").
WHO_WORDS = (rf"(?<![\w'’-])(?:he|she|they|I|we|(?:the|a|an|another|one|two|several|some|many|his|her|their|its"
             rf"|other)\s+[a-z]+(?:\s+(?!(?:by|as|in|on|at|of|to|for|with|from|and|or)\b)[a-z]+)?|{NAME})\b")
WHO = rf"(?P<who>{WHO_WORDS})"
AFTER = [
    re.compile(rf"^\s*[,.!?]?\s*{WHO}\s+(?:(?:also|then|later)\s+)?(?P<cue>{CUES})\b"),
    re.compile(rf"^\s*[,.!?]?\s*(?P<cue>{CUES})\s+{WHO}"),
    # '"…" ― Carla Sanchez': a reader's or a caption's attribution by a dash.
    re.compile(rf"^\s*[,.]?\s*[{DASHES}]+\s*{WHO}\s*[.,]?\s*$"),
]
BEFORE = re.compile(
    rf"{WHO}(?:,[^,]{{1,80}},)?\s+(?:(?:also|then|later|had|[a-z]+ly)\s+)?(?P<cue>{CUES})"
    rf"(?:\s+(?:me|us|him|her|them|reporters|journalists|the\s+\w+))?(?:\s+(?:that|in\s+a\s+statement))?"
    rf"(?:\s*[:,]?|\s[^.:;“”\"]{{1,60}}:)\s*$"
)
CUE_RE = re.compile(rf"\b(?:{CUES})\b")
SAID_SENTENCE = re.compile(rf"{WHO}\s+(?:(?:also|then|later)\s+)?(?P<cue>{CUES})\s*\.\s*$")
DASH_LINE = re.compile(rf"\s*\n\s*[-{DASHES}]+\s*{WHO}\s*\.?[ \t]*(?:\n|$)")
# 'described as “hell” by President Volodymyr Zelensky': a partial quote owned by the passive's agent.
LABELLED = re.compile(r"\b(?:described|called|dubbed|labell?ed|branded|termed|hailed|denounced|condemned|praised)"
                      r"(?:\s+\w+){0,4}?\s+(?:as\s+)?[(\[]?$")
BY_AGENT = re.compile(rf"^[\s,]*by\s+{WHO}")
# Introductions that end right before the quote: 'Kellerman said:', 'Stated Stone:', 'Carl Bialik:'.
INTRODUCED = [
    BEFORE,
    re.compile(rf"(?P<cue>(?i:{CUES}))\s+{WHO}\s*:\s*$"),
    re.compile(rf"(?<![\w'’-])(?!(?:Update|Note|Watch|Read|Related|Editor|Photo|Video|Source|Correction|Transcript"
               rf"|Q|A)\b)(?P<who>{NAME})(?:\s*\([^()\n]{{1,30}}\))?\s*:\s*$"),
]
# Words that put what follows in someone's mouth ('chanting "Lock Her Up"', 'a sign reading "…"'), unlike
# 'told "Meet the Press"' or 'his book, "…"'.
SAID_BEFORE = re.compile(r"(?:\b(?:(?:chant|cry|cries|shout|roar)s?\s+of|say|says|saying|said|chant\w*|shout\w*"
                         r"|yell\w*|cr(?:y|ies|ied)|read|reads|reading|declar\w*|tweet\w*)\s*[,:]?|:)\s*$", re.I)
# What comes before a name rather than words said: 'on "Meet the Press"', 'ABC's "This Week"', 'a play called'.
NAME_BEFORE = re.compile(r"(?:\b(?:on|of|in|at|to|for|from|with|about|called|titled|named|entitled|the|his|her|their"
                         r"|its)|\w['’]s?)\s*$", re.I)
SMALL_WORDS = {"a", "an", "and", "the", "of", "in", "on", "at", "to", "for", "or", "with", "is", "by",
               "de", "la", "del"}  # 'Los Hijos de Trump'
TITLES = re.compile(r"^(?:the|a|an)\s+", re.I)
# What the parser gets around a quote instead of the quote itself: a short clause reads like one.
STAND_IN = "This is it"
MAX_WINDOW = 400
MAX_SENTENCE = 600
# Characters parsed per article: several times what a long news story needs (about 2,000), and a
# bound on what a pathological text (thousands of tiny quotes) can cost.
PARSE_BUDGET = 20_000
# A counted noun is not a function word or a verb: "48, says", "one of dozens" are not quantities.
UNIT_WORD = r"(?!(?:of|the|a|an|and|or|in|on|to|for|by|is|was|says|has|seems|goes|makes|takes)\b)[a-z]"
NUMBER_WORDS = (
    r"one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|forty|fifty|hundred"
    r"|dozens|hundreds|thousands|millions|billions"
)
QUANTITY = re.compile(
    rf"(?<![\w.,])(?P<claim>(?:(?:up to|more than|over|about|nearly|almost|at least|around|roughly|some|fewer than"
    rf"|less than|as many as|at most)\s+)?(?:[$€£]\s?)?(?P<num>\d+(?:[,.]\d+)*|(?:{NUMBER_WORDS})\b)"
    rf"(?:\s+(?:million|billion|thousand|hundred))?\s*"
    rf"(?P<unit>%|percent|per cent|(?:{UNIT_WORD}[a-z-]+\s+){{0,2}}?{UNIT_WORD}[a-z-]+s)"
    rf"(?:\s+(?:a|per|each)\s+(?:day|week|month|year|hour))?)\b",
    re.I,
)
NOT_UNITS = re.compile(r"^(years?|months?|weeks?|days?|hours?|minutes?|times|ago|of|in|and|the)$", re.I)
# Cue words that start a search for reported speech: verbs only in practice (not "claims", "states",
# "remarks", which are more often nouns), lowercase (so not "United States").
TRIGGERS = (r"said|says|say|told|tells|telling|added|adding|explained|asked|wrote|noted|stated|insisted|argued"
            r"|argues|warned|warning|claimed|claiming|declared|announced|acknowledged|conceded|confirmed|stressed"
            r"|urged|vowed|promised|predicted|responded|tweeted|reported|admitted|saying|according to")
REPORTING = re.compile(rf"\b(?:{TRIGGERS}|According to)\b")
SENTENCE_END = re.compile(r"[.!?][”\"’')\]]*\s+(?=[“\"‘'(\[]?[A-Z0-9])")
# A period after these ends an abbreviation or an initial, not a sentence ("Leonard E. Burman").
ABBREVIATION = re.compile(r"(?:^|[\s(])(?:[A-Z]|Mr|Mrs|Ms|Dr|Sen|Rep|Gov|Gen|Lt|Col|Capt|Sgt|St|Jr|Sr|Prof|Rev"
                          r"|U\.S|U\.K|U\.N|No|Inc|Co|Corp|Ltd|vs|Jan|Feb|Aug|Sept|Oct|Nov|Dec)$")
# Reported speech the patterns settle without a parse; the rest of the reporting sentences are parsed.
CLAUSE_CUES = (r"said|says|added|adds|explained|warned|argued|insisted|claimed|noted|stated|announced|acknowledged"
               r"|admitted|confirmed|stressed|predicted|declared|told\s+(?!that\b)[\w'’]+(?:\s+[\w'’]+)?")
ADVERBS = (r"(?:also|later|then|has|had|have|now|again|previously|recently|once|repeatedly|often|publicly|on"
           r"|yesterday|today|this|last|week|Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)")
OPENERS = r"(?:(?:But|And|Yet|So|Still|Meanwhile|Now|Later|However,)\s+)?"
STATEMENT_PATTERNS = [
    re.compile(rf"^{OPENERS}{WHO}(?:\s+\([^()]{{1,30}}\))?(?:\s+{ADVERBS})*\s+"
               rf"(?P<cue>{CLAUSE_CUES})(?:(?:\s+(?:on|in|at|during|last|this)(?:\s+[\w'’]+){{1,4}}?)?\s+that\b|)"
               rf"\s+(?P<content>[^\n]+?)\s*[.!?]?$"),
    re.compile(rf"^(?P<content>[^\n]{{12,}}?),\s+{WHO}\s+(?:also\s+)?(?P<cue>{CUES})(?:\s+[\w'’.-]+){{0,6}}?"
               rf"\s*[.!?]?$"),
    re.compile(rf"^(?P<content>[^\n]{{12,}}?),\s+(?P<cue>{CUES})\s+{WHO}(?:\s+[\w'’.-]+){{0,6}}?\s*[.!?]?$"),
    re.compile(r"^(?P<cue>According to)\s+(?P<who>[^,\n]{2,80}?),\s+(?P<content>[^\n]+?)\s*[.!?]?$"),
    re.compile(r"^(?P<content>[^\n]{12,}?),\s+(?P<cue>according to)\s+(?P<who>[^,\n]{2,80}?)\s*[.!?]?$"),
]
SUBJECT_DEPS = ("nsubj", "nsubjpass")
# Right-hand parts of a subject that are not the speaker's name: ", who ...", ", the union leader,".
CUT_DEPS = {"relcl", "appos", "acl", "punct", "cc", "conj", "advcl", "parataxis"}


@dataclasses.dataclass(frozen=True)
class Claim:
    claim_id: str
    article_id: str
    kind: str
    speaker_entity_id: str | None
    speaker: str | None
    cue: str | None
    text: str
    start_char: int
    end_char: int


@dataclasses.dataclass
class _Quote:
    open_at: int
    start: int
    end: int
    close_end: int
    para_start: int
    para_end: int
    who: str | None = None
    cue: str | None = None
    who_at: int | None = None
    decided: bool = False
    floor: int = 0
    followed: bool = False  # attributed by the words right after it ('"…," she said')
    parsed: bool = False  # attributed by the parse, not by a pattern


def extract(article_id: str, text: str, mentions: list[Mention], model: str | None = None) -> list[Claim]:
    """Quotes and reported statements with their speakers, and quantities, in one article.

    Args:
        article_id: the article's id.
        text: the stored article text (claims' offsets index into it).
        mentions: the article's entity mentions, in text order.
        model: the spaCy package whose parser reads the sentences the patterns cannot attribute
            (default: the project's model); with no parser available, those stay unattributed.

    Returns:
        Claims in text order; a paragraph repeated in the article yields its claims once.
    """
    index = _Mentions(mentions)
    breaks = [m.start() for m in re.finditer("\n", text)]
    found = [_Quote(o, s, e, c, *_paragraph(breaks, len(text), s, e)) for o, s, e, c in _marked(text)]
    for i, q in enumerate(found):
        _attribute(text, q, found[i - 1].close_end if i else 0)
    parser = _parser(model)
    budget = PARSE_BUDGET
    undecided, windows = [], []
    for q in found:
        if not q.decided and not _title(text[q.start:q.end]) and budget > 0:
            windows.append(_window(text, q))
            undecided.append(q)
            budget -= len(windows[-1][0])
    candidates, unsettled = [], []
    for a, b in _reporting_sentences(text, found, breaks):
        settled = _statement_by_pattern(text, a, b)
        if settled:
            candidates.append(settled)
        elif budget > 0:
            unsettled.append((a, b))
            budget -= b - a
    if parser:
        texts = [w[0] for w in windows] + [text[a:b] for a, b in unsettled]
        docs = parser.pipe((without_long_tokens(t) for t in texts), batch_size=64)
        for q, (_, mapping), doc in zip(undecided, windows, docs, strict=False):
            who = _speaker_in_parse(doc, mapping, text)
            if who:
                q.who_at, q.who, q.cue = who
                q.decided = q.parsed = True
        for (a, _), doc in zip(unsettled, docs, strict=True):
            candidates += _statements_in_parse(text, a, doc)
    quotes = _quotes(article_id, text, found, index)
    reported = _statements(article_id, text, sorted(candidates), quotes, index)
    claims = quotes + reported
    claims += _quantities(article_id, text, claims)
    # The same words twice (a repeated paragraph, a headline quoting the story) are one claim: the
    # first attributed copy, else the first.
    best: dict[tuple[str, str], Claim] = {}
    for c in sorted(claims, key=lambda c: (c.start_char, c.kind)):
        key = (c.kind, re.sub(r"\W+", " ", c.text.lower()).strip())
        kept = best.get(key)
        if kept is None or (kept.speaker is None and c.speaker is not None):
            best[key] = c
    return sorted(best.values(), key=lambda c: (c.start_char, c.kind))


def links(claims: list[Claim], mentions: list[Mention]) -> list[dict]:
    """The claim_entities rows of one article: each claim's resolved speaker (role 'speaker') and each
    entity mentioned inside its span (role 'mentioned'; the speaker is not also 'mentioned')."""
    rows = []
    index = _Mentions(mentions)
    for c in claims:
        if c.speaker_entity_id:
            rows.append({"claim_id": c.claim_id, "article_id": c.article_id, "entity_id": c.speaker_entity_id,
                         "role": "speaker"})
        named = dict.fromkeys(m.entity_id for m in index.overlapping(c.start_char, c.end_char)
                              if c.start_char <= m.start_char and m.end_char <= c.end_char)
        rows += [{"claim_id": c.claim_id, "article_id": c.article_id, "entity_id": e, "role": "mentioned"}
                 for e in named if e != c.speaker_entity_id]
    return rows


def quote_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each quoted passage's content, outer marks excluded. Any opening mark may close
    with any closing mark (news copy mixes them; two apostrophes are one mark). A quote left open at the
    end of its paragraph goes on if the next paragraph reopens with a mark (the convention for a quote
    over several paragraphs); otherwise it ends with its paragraph."""
    return [(start, end) for _, start, end, _ in _marked(text)]


def _marked(text: str) -> list[tuple[int, int, int, int]]:
    """(opening mark, content start, content end, end of the closing mark) of each quote."""
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
                spans.append((i, first, end, after))
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


def _title(content: str) -> bool:
    """A name in quotes ("Morning Joe", "Fox and Friends"), not words someone said."""
    words = re.findall(r"[^\W\d_][\w'’-]*", content)
    return len(words) >= 2 and all(w[0].isupper() or w in SMALL_WORDS for w in words)


def _named(text: str, q: _Quote, content: str) -> bool:
    """A show, book, slogan or nickname in quotes ('told "Meet the Press"', 'on ABC's "This Week," Rubio
    said', 'Gov. C.L. "Butch" Otter'), not words someone said."""
    before = text[max(0, q.open_at - 30):q.open_at]
    after = text[q.close_end:q.close_end + 2]
    if (len(content.split()) <= 2 and content[:1].isupper() and content[-1].isalnum()
            and re.search(r"[A-Z][\w.]* $", before) and re.match(r" [A-Z]", after)):
        return True  # a nickname between a first name and a surname
    if not _title(content) or SAID_BEFORE.search(before):
        return False
    if q.decided and not q.parsed and before.rstrip().endswith((",", ":")):
        return False  # 'Brandt told the crowd, "Fair Pay Now"': introduced by a pattern
    return bool(NAME_BEFORE.search(before)) or not q.followed


def _heading(text: str, q: _Quote) -> bool:
    """A short paragraph that opens with a quote in single marks and has no speech verb: a headline or a
    section heading ('‘We are in shock’: a town mourns'), where copy uses single marks; the story quotes
    it again. ('Mayor: ‘We will rebuild’' names its speaker and stays a quote.)"""
    if text[q.open_at] not in "'‘" or q.open_at != q.para_start or q.followed:
        return False
    para = text[q.para_start:q.para_end]
    return len(para.split()) <= 15 and not CUE_RE.search(para.replace(text[q.start:q.end], " "))


def _paragraph(breaks: list[int], n: int, start: int, end: int) -> tuple[int, int]:
    """The paragraph around [start, end), from the text's newline offsets."""
    i = bisect.bisect_left(breaks, start)
    j = bisect.bisect_left(breaks, end)
    return (breaks[i - 1] + 1 if i else 0), (breaks[j] if j < len(breaks) else n)


def _attribute(text: str, q: _Quote, floor: int) -> None:
    """Speaker words, cue and their offset from the patterns: after the quote, before it in its sentence
    (not reaching back into the previous quote, which ends at `floor`), the agent of a passive
    ('described as "hell" by X'), or a previous paragraph ending 'X said:'."""
    q.floor = floor
    close_at = q.close_end
    after = text[close_at:min(q.para_end, close_at + 160)]
    sentence_start = max(_sentence_start(text, q.para_start, q.open_at), floor)
    before = text[sentence_start:q.open_at]
    labelled = LABELLED.search(before[-80:])
    m = BY_AGENT.match(after)
    if labelled and m:
        q.who, q.cue, q.who_at, q.decided = m["who"], labelled[0].split()[0].lower(), close_at + m.start("who"), True
        return
    for pattern in AFTER:
        m = pattern.match(after)
        if m:
            cue = m.groupdict().get("cue")
            q.who, q.cue, q.who_at, q.decided = m["who"], cue.lower() if cue else None, close_at + m.start("who"), True
            q.followed = True
            return
    for pattern in INTRODUCED:
        m = pattern.search(before)
        if m:
            cue = m.groupdict().get("cue")
            q.who, q.cue, q.who_at = m["who"], cue.lower() if cue else None, sentence_start + m.start("who")
            q.decided = True
            return
    rest = text[close_at:_sentence_end(text, close_at, q.para_end)]
    if not before.strip() and sentence_start > q.para_start and not CUE_RE.search(rest):
        # 'Bystrom agreed. "…"': the sentence just before names the speaker and the cue, and ends; the
        # quote's own sentence has no cue of its own.
        prev_start = _sentence_start(text, q.para_start, sentence_start - 1)
        m = SAID_SENTENCE.search(text, prev_start, sentence_start)
        if m:
            q.who, q.cue, q.who_at, q.decided = m["who"], m["cue"].lower(), m.start("who"), True
            return
    if q.open_at <= q.para_start and q.close_end >= q.para_end - 1:
        # '"…"\n\n- Sanders.': a fact check's or a letter page's attribution, the next paragraph alone.
        m = DASH_LINE.match(text, q.para_end)
        if m:
            q.who, q.cue, q.who_at, q.decided = m["who"], None, m.start("who"), True
            return
    if q.open_at <= q.para_start and floor < q.para_start:
        # "Caddell continued:\n\n“…”": the introduction is the previous paragraph.
        prev_end = q.para_start - 1
        while prev_end > 0 and text[prev_end - 1].isspace():
            prev_end -= 1
        if prev_end > 0 and text[prev_end - 1] == ":":
            prev_start = _sentence_start(text, text.rfind("\n", 0, prev_end) + 1, prev_end)
            for pattern in INTRODUCED:
                m = pattern.search(text[prev_start:prev_end])
                if m:
                    cue = m.groupdict().get("cue")
                    q.who, q.cue, q.who_at = m["who"], cue.lower() if cue else None, prev_start + m.start("who")
                    q.decided = True
                    return


def _sentence_start(text: str, para_start: int, at: int) -> int:
    """Where the sentence holding `at` starts, looking back at most MAX_WINDOW characters."""
    lo = max(para_start, at - MAX_WINDOW)
    last = lo
    # Past `at`, so the lookahead sees the mark or capital that starts the sentence at `at`.
    for m in SENTENCE_END.finditer(text, lo, min(len(text), at + 3)):
        if m.end() <= at and not ABBREVIATION.search(text, max(lo, m.start() - 5), m.start()):
            last = m.end()
    return last


def _sentence_end(text: str, at: int, para_end: int) -> int:
    hi = min(para_end, at + MAX_WINDOW)
    for m in SENTENCE_END.finditer(text, at, hi):
        if not ABBREVIATION.search(text, max(at, m.start() - 5), m.start()):
            return m.start() + 1
    return hi


@functools.cache
def _parser(model: str | None):
    """A pipeline with only the dependency parser (and the tok2vec it listens to), loaded once per
    process; None if the package has no parser."""
    import spacy

    from pipelines.settings import DEFAULT_MODEL

    try:
        nlp = spacy.load(model or DEFAULT_MODEL, exclude=["ner", "tagger", "attribute_ruler", "lemmatizer",
                                                          "senter", "morphologizer", "entity_ruler"])
    except OSError:
        return None
    return nlp if "parser" in nlp.pipe_names else None


def _window(text: str, q: _Quote) -> tuple[str, tuple[int, int, int, int]]:
    """The quote's sentence for the parser, with the quoted words replaced by a short clause: the
    parser reads the attribution, not a quote that may run to thousands of characters. Returns the
    string and (left_from, left_len, stand_len, right_from) to map offsets back."""
    left_from = max(_sentence_start(text, q.para_start, q.open_at), q.floor)
    right_to = _sentence_end(text, q.close_end, q.para_end)
    tail = text[q.end - 1] if text[q.end - 1] in ",.?!" else ""
    left, stand, right = text[left_from:q.start], STAND_IN + tail, text[q.end:right_to]
    return left + stand + right, (left_from, len(left), len(stand), q.end)


def _to_text(i: int, mapping: tuple[int, int, int, int]) -> int | None:
    left_from, left_len, stand_len, right_from = mapping
    if i < left_len:
        return left_from + i
    if i < left_len + stand_len:
        return None
    return right_from + i - left_len - stand_len


def _speaker_in_parse(doc, mapping, text: str) -> tuple[int, str, str | None] | None:
    """(offset, words, cue) of the quote's speaker in its parsed window: the subject of the nearest cue
    verb ('according to X': X), else the subject of the verb whose clause holds the quote."""
    inside = [t for t in doc if _to_text(t.idx, mapping) is None]
    if not inside:
        return None
    anchor = inside[0].i
    cues = [t for t in doc if _to_text(t.idx, mapping) is not None and t.lower_ in CUE_SET]
    for cue in sorted(cues, key=lambda t: abs(t.i - anchor)):
        subject = _subject(cue)
        if subject is not None and _to_text(subject.idx, mapping) is not None:
            return _span(subject, mapping, text) + (cue.lower_,)
        # A parse that gave the cue no subject: the words between the quote and the cue ('”, Ramos, 58,
        # told AFP'), or those before a cue that introduces it ('…, Jake Sullivan, said: “').
        words = _beside(doc, cue, inside, mapping)
        if words is not None:
            return _span_of(words, mapping, text) + (cue.lower_,)
    for t in doc:
        if t.lower_ == "according" and _to_text(t.idx, mapping) is not None:
            obj = next((g for c in t.children if c.lower_ == "to" for g in c.children if g.dep_ == "pobj"), None)
            if obj is not None and _to_text(obj.idx, mapping) is not None:
                return _span(obj, mapping, text) + ("according to",)
    verb = inside[0]
    while verb.dep_ != "ROOT" and verb.head is not verb:
        verb = verb.head
        subject = next((c for c in verb.children if c.dep_ in SUBJECT_DEPS), None)
        if subject is not None and _to_text(subject.idx, mapping) is not None and subject.lower_ not in ("it", "this"):
            return _span(subject, mapping, text) + (None,)
    return None


def _beside(doc, cue, inside, mapping):
    """The tokens naming who speaks, read from their place next to the quote and the cue alone."""
    if cue.i > inside[-1].i:
        toks = [t for t in doc[inside[-1].i + 1:cue.i] if _to_text(t.idx, mapping) is not None]
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


def _span_of(tokens, mapping, text: str) -> tuple[int, str]:
    start = _to_text(tokens[0].idx, mapping)
    end = _to_text(tokens[-1].idx, mapping) + len(tokens[-1].text)
    return start, " ".join(text[start:end].split())


def _subject(verb):
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


def _span(token, mapping, text: str) -> tuple[int, str]:
    """The subject's words as written: its subtree without what follows a comma, a relative clause
    or an apposition ('Grotskov, who ...' is 'Grotskov')."""
    left = token.left_edge
    right = token
    for child in token.rights:
        if child.dep_ in CUT_DEPS:
            break
        right = child.right_edge
    while left.i < token.i and left.is_punct:
        left = left.nbor()
    start = _to_text(left.idx, mapping)
    end = _to_text(right.idx, mapping)
    if start is None or end is None or end < start:
        start, end = _to_text(token.idx, mapping), _to_text(token.idx, mapping)
    end += len(right.text) if right is not token or end != start else len(token.text)
    return start, " ".join(text[start:end].split())


def _quotes(article_id: str, text: str, found: list[_Quote], mentions: _Mentions) -> list[Claim]:
    claims: list[Claim] = []
    kept: list[_Quote] = []
    last_speaker: tuple[str | None, str | None, int] | None = None
    # The last quote's (speaker, entity, cue, end), kept or dropped as too short: 'Gore called her
    # "sincere" and said "…"' hands its speaker on to the quote after it in the paragraph.
    previous: tuple[str | None, str | None, str | None, int] | None = None

    def attributed(q: _Quote) -> tuple[str, str | None]:
        nonlocal last_speaker
        entity = _resolve(text, q.who, q.who_at, q.start, mentions, last_speaker)
        if entity or q.who.lower() not in REPORTERS:
            last_speaker = (q.who, entity, q.start)
        return q.who, entity

    for q in found:
        start, end = q.start, q.end
        content = text[start:end].strip()
        if _named(text, q, content) or _heading(text, q):
            continue
        words = len(content.split())
        if words < 2 and not (q.decided and q.cue and not q.parsed):
            # one word said only if a pattern names its speaker and cue ('"Outrageous," she said'); the
            # parse's nearest cue is too loose for a scare quote ('its "supermax" prison, officials said')
            if q.who is not None:
                previous = (*attributed(q), q.cue, end)
            continue
        if q.who is None and previous and previous[0] and previous[3] >= q.para_start:
            # '"…," he said. "…"': a quote split by its attribution continues the same speaker.
            claims.append(_quote(article_id, text, start, end, *previous[:3]))
            kept.append(q)
            continue
        if words < 4 and (q.who is None or q.cue is None and content[-1:] not in (".", "!", "?")):
            # a scare quote that no one is said to have said, or one whose only speaker is the subject of
            # the sentence's verb, with no speech cue ('he will pay for it through "tax reform"')
            if q.who is not None:
                previous = (*attributed(q), q.cue, end)
            continue
        speaker, entity = attributed(q) if q.who is not None else (None, None)
        claims.append(_quote(article_id, text, start, end, speaker, entity, q.cue))
        kept.append(q)
        previous = (speaker, entity, q.cue, end)
    return _runs_of_quote_paragraphs(text, kept, claims)


def _runs_of_quote_paragraphs(text: str, found: list[_Quote], claims: list[Claim]) -> list[Claim]:
    """Quote paragraphs in a row are one speaker's: an unattributed quote that is its whole paragraph
    takes the speaker of the quote paragraph just before it, else of the one just after."""
    out = list(claims)
    for k, (q, c) in enumerate(zip(found, claims, strict=True)):
        if c.speaker is not None or text[q.para_start:q.open_at].strip() or text[q.close_end:q.para_end].strip():
            continue
        before = claims[k - 1] if k and not text[found[k - 1].para_end:q.para_start].strip() else None
        after = (claims[k + 1] if k + 1 < len(claims) and found[k + 1].open_at == found[k + 1].para_start
                 and not text[q.para_end:found[k + 1].para_start].strip() else None)
        source = before if before is not None and before.speaker else after
        if source is not None and source.speaker:
            out[k] = dataclasses.replace(c, speaker=source.speaker, speaker_entity_id=source.speaker_entity_id,
                                         cue=source.cue)
    return out


def _resolve(text: str, who: str, at: int | None, start: int, mentions: _Mentions,
             last_speaker) -> str | None:
    """The entity the speaker words stand for: a pronoun is the last speaker (or the last person named);
    a name is the person (else the organisation) it overlaps, or the person with that surname; a
    description ('the minister') is the last person the article introduced with that word."""
    low = who.lower()
    if low in REPORTERS:
        return None  # the reporter asking or describing, never the interviewee
    if low in PRONOUNS:
        if last_speaker and last_speaker[1] and start - last_speaker[2] < 2500:
            return last_speaker[1]
        return _recent_person(mentions, start)
    if at is None:
        return None
    entity = _entity_at(who, at, mentions)
    if entity is None and TITLES.match(who):
        entity = _described(text, who, at, mentions)
    return entity


def _quote(article_id, text, start, end, speaker, entity, cue) -> Claim:
    return Claim(
        claim_id=stable_id("claim", article_id, "quote", start, end),
        article_id=article_id, kind="quote", speaker_entity_id=entity, speaker=speaker, cue=cue,
        text=text[start:end], start_char=start, end_char=end,
    )


class _Mentions:
    """An article's mentions, indexed so that each lookup reads a few of them, not all (an article
    with thousands of quotes and names stays linear)."""

    def __init__(self, mentions: list[Mention]):
        self.all = sorted(mentions, key=lambda m: m.start_char)
        self.starts = [m.start_char for m in self.all]
        self.widest = max((m.end_char - m.start_char for m in self.all), default=0)
        self.people = [m for m in self.all if m.type == "PERSON"]
        self.people_ends = [m.end_char for m in self.people]
        self.surnames: dict[str, str] = {}
        for m in self.people:
            if m.form.split():
                self.surnames.setdefault(m.form.split()[-1], m.entity_id)

    def overlapping(self, start: int, end: int) -> list[Mention]:
        lo = bisect.bisect_left(self.starts, start - self.widest)
        hi = bisect.bisect_left(self.starts, end)
        return [m for m in self.all[lo:hi] if m.start_char < end and start < m.end_char]

    def people_before(self, at: int) -> list[Mention]:
        """The people named before `at`, latest first (at most 50: a description refers back nearby)."""
        i = bisect.bisect_right(self.people_ends, at)
        return self.people[max(0, i - 50):i][::-1]


def _entity_at(who: str, at: int, index: _Mentions) -> str | None:
    """A person named in the speaker words, else an organisation ('an aide to the Kremlin'), else a
    place that is the whole speaker ('Russia said'), else a person of the article with that surname."""
    inside = index.overlapping(at, at + len(who))
    for etype in ("PERSON", "ORG"):
        for m in inside:
            if m.type == etype:
                return m.entity_id
    for m in inside:
        if m.type == "LOCATION" and len(m.surface) >= len(who.strip()) - 4:
            return m.entity_id
    last = who.split()[-1].strip("'’.,") if who.split() else ""
    return index.surnames.get(last) if last[:1].isupper() else None


def _described(text: str, who: str, at: int, index: _Mentions) -> str | None:
    """'The minister' is the latest person before it whose introduction carries that word ('Energy
    minister Ines Duarte', 'Tomas Okafor, the union leader')."""
    noun = who.split()[-1].lower()
    if len(noun) < 3:
        return None
    for m in index.people_before(at):
        around = text[max(0, m.start_char - 40):m.start_char] + " " + text[m.end_char:m.end_char + 40]
        if re.search(rf"\b{re.escape(noun)}\b", around, re.I):
            return m.entity_id
    return None


def _recent_person(index: _Mentions, before: int) -> str | None:
    people = index.people_before(before)
    return people[0].entity_id if people else None


def _reporting_sentences(text: str, quotes: list[_Quote], breaks: list[int]) -> list[tuple[int, int]]:
    """Sentences with a cue verb or 'according to' outside quotes, and not mostly quoted (those are a
    quote's attribution). Bounded in length, so text without sentence breaks stays cheap."""
    spans = [(q.start, q.end) for q in quotes]
    out, done = [], 0
    for m in REPORTING.finditer(text):
        if m.start() < done or _covered(spans, m.start(), m.start() + 1):
            continue
        para_start, para_end = _paragraph(breaks, len(text), m.start(), m.end())
        a = _sentence_start(text, para_start, m.start())
        b = _sentence_end(text, m.end(), para_end)
        done = b  # the cue words after this one in the same sentence read the same sentence
        if b - a <= MAX_SENTENCE and _covered(spans, a, b) <= (b - a) / 2:
            out.append((a, b))
    return out


def _covered(spans: list[tuple[int, int]], start: int, end: int) -> int:
    """Characters of [start, end) inside the sorted, disjoint spans."""
    i = max(0, bisect.bisect_right(spans, (start, start)) - 1)
    total = 0
    while i < len(spans) and spans[i][0] < end:
        total += max(0, min(end, spans[i][1]) - max(start, spans[i][0]))
        i += 1
    return total


def _statement_by_pattern(text: str, a: int, b: int) -> tuple | None:
    """(content start, content end, speaker offset, speaker words, cue) of a sentence of reported speech
    in one of the common shapes, or None for the parser to read."""
    sentence = text[a:b]
    for pattern in STATEMENT_PATTERNS:
        m = pattern.match(sentence)
        if m and len(m["content"].split()) >= 3:
            return (a + m.start("content"), a + m.end("content"), a + m.start("who"), m["who"], m["cue"].lower())
    return None


def _statements_in_parse(text: str, offset: int, doc) -> list[tuple]:
    out = []
    for cue in doc:
        found = _reported(cue)
        if found is not None:
            who_tok, (c_start, c_end) = found
            who_at, words = _span(who_tok, (offset, 10**9, 0, 0), text)
            cue_words = "according to" if cue.lower_ == "according" else cue.lower_
            out.append((offset + c_start, offset + c_end, who_at, words, cue_words))
    return out


def _statements(article_id: str, text: str, candidates: list[tuple], quotes: list[Claim],
                mentions: _Mentions) -> list[Claim]:
    """Claims of reported speech from (content start, content end, speaker offset, speaker words, cue).
    A clause that is mostly a direct quote is the quote's attribution, not a second claim."""
    out = []
    last_speaker = None
    spans = [(q.start_char, q.end_char) for q in quotes]
    for start, end, w_start, words, cue in candidates:
        while end > start and (text[end - 1] in ".,;:”\"’'" or text[end - 1].isspace()):
            end -= 1
        while start < end and (text[start] in ",;:" or text[start].isspace()):
            start += 1
        if len(text[start:end].split()) < 3:
            continue
        if _covered(spans, start, end) > (end - start) / 2:
            continue
        entity = _resolve(text, words, w_start, start, mentions, last_speaker)
        if entity or words.lower() not in REPORTERS:
            last_speaker = (words, entity, start)
        out.append(Claim(
            claim_id=stable_id("claim", article_id, "statement", start, end),
            article_id=article_id, kind="statement", speaker_entity_id=entity, speaker=words, cue=cue,
            text=text[start:end], start_char=start, end_char=end,
        ))
    return out


def _reported(cue):
    """(speaker token, (start, end) of the content in the doc) for a cue verb with a clause, or for
    'according to X'; None otherwise."""
    doc = cue.doc
    if cue.lower_ == "according":
        to = next((c for c in cue.children if c.lower_ == "to"), None)
        who = next((g for g in to.children if g.dep_ == "pobj"), None) if to is not None else None
        if who is None:
            return None
        phrase = (cue.left_edge.idx, to.right_edge.idx + len(to.right_edge.text))
        sent = cue.sent
        before = (sent.start_char, phrase[0])
        after = (phrase[1], sent.end_char)
        return who, after if after[1] - after[0] >= before[1] - before[0] else before
    if cue.lower_ not in CUE_SET:
        return None
    clause = next((c for c in cue.children if c.dep_ in ("ccomp", "parataxis")), None)
    subject = _subject(cue)
    if clause is None or subject is None or subject.i in range(clause.left_edge.i, clause.right_edge.i + 1):
        return None
    first = clause.left_edge
    if first.dep_ == "mark" and first.lower_ in ("that", "whether", "if"):
        first = first.nbor() if first.i + 1 < len(doc) else first
    last = clause.right_edge
    return subject, (first.idx, last.idx + len(last.text))


def _quantities(article_id: str, text: str, claims: list[Claim]) -> list[Claim]:
    out = []
    claims = sorted(claims, key=lambda c: c.start_char)
    starts = [c.start_char for c in claims]
    for m in QUANTITY.finditer(text):
        unit = m["unit"].split()[-1] if m["unit"] else ""
        if NOT_UNITS.match(unit) or re.fullmatch(r"(19|20)\d\d", m["num"]):
            continue
        start, end = m.start("claim"), m.end("claim")
        # Quotes are disjoint and a statement holds at most a few: the nearest starts suffice.
        i = bisect.bisect_right(starts, start)
        holders = [c for c in claims[max(0, i - 8):i] if end <= c.end_char][::-1]
        # A quote is the speaker's own words; a statement around it is the reporter's summary.
        inside = next((c for c in holders if c.kind == "quote"), holders[0] if holders else None)
        out.append(Claim(
            claim_id=stable_id("claim", article_id, "quantity", start, end),
            article_id=article_id, kind="quantity",
            speaker_entity_id=inside.speaker_entity_id if inside else None,
            speaker=inside.speaker if inside else None, cue=inside.cue if inside else None,
            text=text[start:end], start_char=start, end_char=end,
        ))
    return out
