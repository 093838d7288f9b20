"""Claims: who said what, about whom, with what numbers.

Direct quotes (in any mark style, over several paragraphs, partial quotes inside a sentence), reported
statements ('X said (that) …', 'according to X, …', '…, which X said had …'), and quantities ('up to 200
troops a day'), each with the speaker as written and, where it resolves, the speaker's entity. Finding
the quotes and the statements is here; choosing a quote's speaker among its candidates, and the entity
a speaker stands for, is `pipelines/speakers.py`; the English words both read are `pipelines/lexicon.py`.
"""

from __future__ import annotations

import bisect
import dataclasses
import functools
import re

from pipelines import lexicon, speakers
from pipelines.entities import Mention, without_long_tokens
from pipelines.models import stable_id
from pipelines.speakers import Candidate, Decision, Option, Site, Speaker

# The languages whose speech verbs, quote conventions and number words the rules know; an article in
# another language gets entities (with NEWSMON_NLP_LANGUAGES) but no claims.
LANGUAGES = frozenset({"en"})
# The opening marks a quote span follows (kept here for callers of quote_spans).
OPEN = lexicon.OPEN
MAX_SENTENCE = 600
# Characters parsed per article: several times what a long news story needs (about 2,000), and a
# bound on what a pathological text (thousands of tiny quotes) can cost.
PARSE_BUDGET = 20_000


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


@dataclasses.dataclass(frozen=True)
class Reported:
    """A sentence of reported speech as read: its content's span, the speaker words and their offset,
    and the cue."""

    start: int
    end: int
    who_at: int
    who: str
    cue: str


@dataclasses.dataclass(frozen=True)
class Traced:
    """An article's claims, and the speaker rankings that chose their speakers (for the benchmark's fit)."""

    claims: list[Claim]
    decisions: list[Decision]


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
    return traced(article_id, text, mentions, model).claims


def traced(article_id: str, text: str, mentions: list[Mention], model: str | None = None,
           table: dict[str, dict[str, float]] | None = None) -> Traced:
    """`extract`, with the speaker rankings it made, under a given weight table.

    Args:
        article_id: the article's id.
        text: the stored article text.
        mentions: the article's entity mentions.
        model: the spaCy package of the parser (as for `extract`).
        table: the speaker and antecedent weights (default: `speakers.weights()`).

    Returns:
        The claims (as `extract` returns them) and one Decision per quote whose speaker was ranked.
    """
    table = table or speakers.weights()
    index = speakers.Mentions(mentions, text)
    breaks = [m.start() for m in re.finditer("\n", text)]
    sites = _sites(text, breaks)
    own = [speakers.proposals(text, s) for s in sites]
    parser = _parser(model)
    budget = PARSE_BUDGET
    windows = []
    for i, site in enumerate(sites):
        if not own[i] and not _title(text[site.start:site.end]) and budget > 0:
            windows.append((i, _window(text, site)))
            budget -= len(windows[-1][1].text)
    found, unsettled = [], []
    for a, b in _reporting_sentences(text, sites, breaks):
        settled = _statement_by_pattern(text, a, b)
        if settled:
            found.append(settled)
        elif budget > 0:
            unsettled.append((a, b))
            budget -= b - a
    if parser:
        texts = [w.text for _, w in windows] + [text[a:b] for a, b in unsettled]
        docs = parser.pipe((without_long_tokens(t) for t in texts), batch_size=64)
        for (i, win), doc in zip(windows, docs, strict=False):
            own[i] = speakers.parsed(doc, win, text)
        for (a, _), doc in zip(unsettled, docs, strict=True):
            found += _statements_in_parse(text, a, doc)
    quotes, decisions = _quotes(article_id, text, sites, own, index, table)
    reported = _statements(article_id, text, sorted(found, key=lambda r: (r.start, r.end)), quotes, index, table)
    claims = quotes + reported
    claims += _quantities(article_id, text, claims)
    return Traced(_once(claims), decisions)


@functools.cache
def _parser(model: str | None):
    """A pipeline with only the dependency parser (and the tok2vec it listens to), loaded once per
    process; None if the package has no parser."""
    import spacy

    from pipelines.settings import PARSER_MODEL

    try:
        nlp = spacy.load(model or PARSER_MODEL, exclude=["ner", "tagger", "attribute_ruler", "lemmatizer",
                                                          "senter", "morphologizer", "entity_ruler"])
    except OSError:
        return None
    return nlp if "parser" in nlp.pipe_names else None



def _once(claims: list[Claim]) -> list[Claim]:
    """The same words twice (a repeated paragraph, a headline quoting the story) are one claim: the
    first attributed copy, else the first."""
    best: dict[tuple[str, str], Claim] = {}
    for c in sorted(claims, key=lambda c: (c.start_char, c.kind)):
        key = (c.kind, re.sub(r"\W+", " ", c.text.lower()).strip())
        kept = best.get(key)
        if kept is None or (kept.speaker is None and c.speaker is not None):
            best[key] = c
    return sorted(best.values(), key=lambda c: (c.start_char, c.kind))


# What the parser gets around a quote instead of the quote itself: a short clause reads like one.
STAND_IN = "This is it"


@dataclasses.dataclass(frozen=True)
class Window:
    """A quote's sentence as the parser reads it: the words before the quote, a short stand-in clause
    for the quote (so a quote of thousands of characters costs nothing), and the words after it."""

    text: str
    left_from: int
    left_len: int
    stand_len: int
    right_from: int

    def to_text(self, i: int) -> int | None:
        """The article offset of window offset `i` (None inside the stand-in)."""
        if i < self.left_len:
            return self.left_from + i
        if i < self.left_len + self.stand_len:
            return None
        return self.right_from + i - self.left_len - self.stand_len


def _window(text: str, site: Site) -> Window:
    """The parser's window for one quote: its sentence, not reaching back into the previous quote."""
    left_from = max(lexicon.sentence_start(text, site.para_start, site.open_at), site.floor)
    right_to = lexicon.sentence_end(text, site.close_end, site.para_end)
    left, stand = text[left_from:site.start], STAND_IN + (text[site.end - 1] if text[site.end - 1] in ",.?!" else "")
    return Window(left + stand + text[site.end:right_to], left_from, len(left), len(stand), site.end)


def _sites(text: str, breaks: list[int]) -> list[Site]:
    """Each quote's place: its marks, its paragraph, and where the quote before it ended."""
    out, floor = [], 0
    for m in lexicon.marks(text):
        para_start, para_end = _paragraph(breaks, len(text), m.start, m.end)
        alone = not text[para_start:m.open_at].strip() and not text[m.close_end:para_end].strip()
        out.append(Site(m.open_at, m.start, m.end, m.close_end, para_start, para_end, floor, alone))
        floor = m.close_end
    return out


def links(claims: list[Claim], mentions: list[Mention]) -> list[dict]:
    """The claim_entities rows of one article: each claim's resolved speaker (role 'speaker') and each
    entity mentioned inside its span (role 'mentioned'; the speaker is not also 'mentioned')."""
    rows = []
    index = speakers.Mentions(mentions)
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
    return [(m.start, m.end) for m in lexicon.marks(text)]


def _title(content: str) -> bool:
    """A name in quotes ("Morning Joe", "Fox and Friends"), not words someone said."""
    words = re.findall(r"[^\W\d_][\w'’-]*", content)
    return len(words) >= 2 and all(w[0].isupper() or w in lexicon.SMALL_WORDS for w in words)


def _named(text: str, site: Site, content: str, own: tuple[Candidate, ...]) -> bool:
    """A show, book, slogan or nickname in quotes ('told "Meet the Press"', 'on ABC's "This Week," Rubio
    said', 'Gov. C.L. "Butch" Otter'), not words someone said."""
    before = text[max(0, site.open_at - 30):site.open_at]
    after = text[site.close_end:site.close_end + 2]
    if (len(content.split()) <= 2 and content[:1].isupper() and content[-1].isalnum()
            and re.search(r"[A-Z][\w.]* $", before) and re.match(r" [A-Z]", after)):
        return True  # a nickname between a first name and a surname
    if not _title(content) or lexicon.SAID_BEFORE.search(before):
        return False
    if any(c.kinds & speakers.PATTERN_KINDS for c in own) and before.rstrip().endswith((",", ":")):
        return False  # 'Brandt told the crowd, "Fair Pay Now"': introduced by a pattern
    return bool(lexicon.NAME_BEFORE.search(before)) or not _followed(own)


def _followed(own: tuple[Candidate, ...]) -> bool:
    """Whether the words right after the quote name its speaker ('"…," she said')."""
    return any("after" in c.kinds for c in own)


def _heading(text: str, site: Site, own: tuple[Candidate, ...]) -> bool:
    """A short paragraph that opens with a quote in single marks and has no speech verb: a headline or a
    section heading ('‘We are in shock’: a town mourns'), where copy uses single marks; the story quotes
    it again. ('Mayor: ‘We will rebuild’' names its speaker and stays a quote.)"""
    if text[site.open_at] not in "'‘" or site.open_at != site.para_start or _followed(own):
        return False
    para = text[site.para_start:site.para_end]
    return len(para.split()) <= 15 and not lexicon.CUE_RE.search(para.replace(text[site.start:site.end], " "))


def _paragraph(breaks: list[int], n: int, start: int, end: int) -> tuple[int, int]:
    """The paragraph around [start, end), from the text's newline offsets."""
    i = bisect.bisect_left(breaks, start)
    j = bisect.bisect_left(breaks, end)
    return (breaks[i - 1] + 1 if i else 0), (breaks[j] if j < len(breaks) else n)


def _options(candidates, site: Site, index: speakers.Mentions, last: Speaker | None, spoken: dict[str, int],
             table: dict[str, dict[str, float]]) -> list[Option]:
    """Each candidate with its entity (resolved here unless inherited) and its features."""
    out = []
    for c in speakers.merged(candidates):
        entity = c.entity or speakers.resolve(c.words, c.at, site.start, index, last, spoken, table["antecedent"])
        out.append(Option(c, entity, speakers.features(c, site, index.types.get(entity))))
    return out


def _short(content: str, local: Candidate | None, continuing: bool) -> bool:
    """Too short to be words said: one word needs a pattern with a cue ('"Outrageous," she said'; the
    parse's nearest cue is too loose for a scare quote: 'its "supermax" prison, officials said'); under
    four words needs a speaker with a cue or a full sentence, unless it continues its paragraph's
    speaker ('he will pay for it through "tax reform"' is a scare quote)."""
    words = len(content.split())
    if words < 2:
        return not (local is not None and local.cue and local.kinds & speakers.PATTERN_KINDS)
    if words < 4 and not continuing:
        return local is None or local.cue is None and content[-1:] not in (".", "!", "?")
    return False


def _quotes(article_id: str, text: str, sites: list[Site], own: list[tuple[Candidate, ...]],
            index: speakers.Mentions, table: dict[str, dict[str, float]]) -> tuple[list[Claim], list[Decision]]:
    """The quotes kept, in order, each with the speaker its ranking chose. The speaker of a dropped short
    quote still carries on to the next quote of its paragraph ('Gore called her "sincere" and said "…"'),
    and the speakers chosen so far are the context of the next ranking."""
    claims: list[Claim] = []
    decisions: list[Decision] = []
    previous = last = before = None  # the last quote's speaker, the last named one, the last kept quote's
    before_site: Site | None = None
    spoken: dict[str, int] = {}
    for i, site in enumerate(sites):
        content = text[site.start:site.end].strip()
        if _named(text, site, content, own[i]) or _heading(text, site, own[i]):
            continue
        options = _options(own[i], site, index, last, spoken, table)
        pick = speakers.choose(options, table["speaker"], allow_null=False)
        local = options[pick].candidate if pick is not None else None
        continuing = local is None and previous is not None and bool(previous.words) and (
            previous.until >= site.para_start)
        if _short(content, local, continuing):
            if local is not None:
                previous = _speaker(options[pick], site)
                last = previous if previous.entity or previous.words.lower() not in lexicon.REPORTERS else last
            continue
        adjacent = before_site is not None and not text[before_site.para_end:site.para_start].strip()
        after = _next_speaker(text, sites, own, i, index, last, spoken, table) if site.alone else None
        around = speakers.context(text, site, index, previous, last, before if adjacent else None, after)
        options = _options(own[i] + around, site, index, last, spoken, table)
        pick = speakers.choose(options, table["speaker"])
        decisions.append(Decision(site.start, site.end, tuple(options), pick))
        speaker = _speaker(options[pick], site) if pick is not None else Speaker(None, None, None, None, site.end)
        claims.append(Claim(
            claim_id=stable_id("claim", article_id, "quote", site.start, site.end), article_id=article_id,
            kind="quote", speaker_entity_id=speaker.entity, speaker=speaker.words, cue=speaker.cue,
            text=text[site.start:site.end], start_char=site.start, end_char=site.end,
        ))
        previous, before, before_site = speaker, speaker, site
        if speaker.words and (speaker.entity or speaker.words.lower() not in lexicon.REPORTERS):
            last = speaker
            if speaker.entity:
                spoken[speaker.entity] = spoken.get(speaker.entity, 0) + 1
    return claims, decisions


def _speaker(o: Option, site: Site) -> Speaker:
    return Speaker(o.candidate.words, o.entity, o.candidate.cue, o.candidate.at, site.end)


def _next_speaker(text: str, sites: list[Site], own: list[tuple[Candidate, ...]], i: int,
                  index: speakers.Mentions, last: Speaker | None, spoken: dict[str, int],
                  table: dict[str, dict[str, float]]) -> Candidate | None:
    """The speaker the next quote's own sentence names, if that quote opens the paragraph right after."""
    if i + 1 >= len(sites):
        return None
    nxt = sites[i + 1]
    if nxt.open_at != nxt.para_start or text[sites[i].para_end:nxt.para_start].strip():
        return None
    options = _options(own[i + 1], nxt, index, last, spoken, table)
    pick = speakers.choose(options, table["speaker"], allow_null=False)
    if pick is None:
        return None
    return dataclasses.replace(options[pick].candidate, entity=options[pick].entity)


def _reporting_sentences(text: str, sites: list[Site], breaks: list[int]) -> list[tuple[int, int]]:
    """Sentences with a cue verb or 'according to' outside quotes, and not mostly quoted (those are a
    quote's attribution). Bounded in length, so text without sentence breaks stays cheap."""
    spans = [(q.start, q.end) for q in sites]
    out, done = [], 0
    for m in lexicon.REPORTING.finditer(text):
        if m.start() < done or _covered(spans, m.start(), m.start() + 1):
            continue
        para_start, para_end = _paragraph(breaks, len(text), m.start(), m.end())
        a = lexicon.sentence_start(text, para_start, m.start())
        b = lexicon.sentence_end(text, m.end(), para_end)
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


def _statement_by_pattern(text: str, a: int, b: int) -> Reported | None:
    """A sentence of reported speech in one of the common shapes, or None for the parser to read."""
    sentence = text[a:b]
    for pattern in lexicon.STATEMENT_PATTERNS:
        m = pattern.match(sentence)
        if m and len(m["content"].split()) >= 3:
            return Reported(a + m.start("content"), a + m.end("content"), a + m.start("who"), m["who"],
                            m["cue"].lower())
    m = lexicon.RELATIVE_STATEMENT.search(sentence)
    if m and len(m["content"].split()) >= 3:
        end = a + m.end("content")
        if m["comma"] and len(sentence[:m.start()].split()) <= 8 and "," in m["content"]:
            end = a + m.start("content") + m["content"].index(",")  # 'The Legion, which X said had …, fights'
        return Reported(a + m.start("content"), end, a + m.start("who"), m["who"], m["cue"].lower())
    return None


def _statements_in_parse(text: str, offset: int, doc) -> list[Reported]:
    out = []
    win = Window(doc.text, offset, 10**9, 0, 0)
    for cue in doc:
        found = _reported(cue)
        if found is not None:
            who_tok, (c_start, c_end) = found
            who_at, words = speakers.span_words(who_tok, win, text)
            cue_words = lexicon.ACCORDING_TO if cue.lower_ == "according" else cue.lower_
            out.append(Reported(offset + c_start, offset + c_end, who_at, words, cue_words))
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
    if cue.lower_ not in lexicon.CUE_WORDS:
        return None
    clause = next((c for c in cue.children if c.dep_ in ("ccomp", "parataxis")), None)
    subject = speakers.subject_of(cue)
    if clause is None or subject is None or subject.i in range(clause.left_edge.i, clause.right_edge.i + 1):
        return None
    first = clause.left_edge
    if first.dep_ == "mark" and first.lower_ in ("that", "whether", "if"):
        first = first.nbor() if first.i + 1 < len(doc) else first
    last = clause.right_edge
    if clause.i > cue.i:
        # The content runs on to the sentence's end ('…, begged to take revenge': a second ccomp; 'for up to
        # 40 ships a day' hung on the cue), but stops where a clause of the reporter's own starts: one
        # coordinated with the cue or hanging on it ('…, adding: "…"'), or a quote.
        stop = min((c.left_edge.i for c in cue.rights if c.i > clause.i and c.dep_ in ("cc", "conj", "advcl")),
                   default=cue.sent.end)
        tail = list(doc[clause.right_edge.i + 1:min(stop, cue.sent.end)])
        tail = tail[:next((k for k, t in enumerate(tail) if t.is_quote or t.text in (":", ";")), len(tail))]
        while tail and (tail[-1].is_punct or tail[-1].is_space or tail[-1].dep_ == "cc"):
            tail.pop()
        last = tail[-1] if tail else last
    return subject, (first.idx, last.idx + len(last.text))


def _statements(article_id: str, text: str, found: list[Reported], quotes: list[Claim], index: speakers.Mentions,
                table: dict[str, dict[str, float]]) -> list[Claim]:
    """Claims of reported speech. A clause that is mostly a direct quote is the quote's attribution, not
    a second claim."""
    out = []
    last: Speaker | None = None
    spoken: dict[str, int] = {}
    spans = [(q.start_char, q.end_char) for q in quotes]
    for r in found:
        start, end = r.start, r.end
        while end > start and (text[end - 1] in ".,;:”\"’'" or text[end - 1].isspace()):
            end -= 1
        while start < end and (text[start] in ",;:" or text[start].isspace()):
            start += 1
        if len(text[start:end].split()) < 3 or _covered(spans, start, end) > (end - start) / 2:
            continue
        entity = speakers.resolve(r.who, r.who_at, start, index, last, spoken, table["antecedent"])
        if entity or r.who.lower() not in lexicon.REPORTERS:
            last = Speaker(r.who, entity, r.cue, r.who_at, end)
        out.append(Claim(
            claim_id=stable_id("claim", article_id, "statement", start, end),
            article_id=article_id, kind="statement", speaker_entity_id=entity, speaker=r.who, cue=r.cue,
            text=text[start:end], start_char=start, end_char=end,
        ))
    return out


def _quantities(article_id: str, text: str, claims: list[Claim]) -> list[Claim]:
    out = []
    claims = sorted(claims, key=lambda c: c.start_char)
    starts = [c.start_char for c in claims]
    for m in lexicon.QUANTITY.finditer(text):
        unit = m["unit"].split()[-1] if m["unit"] else ""
        if lexicon.NOT_UNITS.match(unit) or re.fullmatch(r"(19|20)\d\d", m["num"]):
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
