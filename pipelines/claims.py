"""Claims: direct quotes attributed to a speaker entity, and quantitative claims ("up to 200 troops a day")."""

from __future__ import annotations

import re
from dataclasses import dataclass

from pipelines.entities import Mention
from pipelines.models import stable_id

CUES = (
    r"said|says|say|told|tells|added|adds|explained|explains|emphasi[sz]ed|emphasi[sz]es|replied|replies"
    r"|admitted|admits|proclaimed|proclaims|asked|asks|wrote|writes|noted|notes|stated|states|insisted"
    r"|insists|argued|argues|warned|warns|claimed|claims|declared|declares|recalled|continued|concluded"
    r"|announced|announces|acknowledged|conceded|confirmed|stressed|stresses|urged|urges|vowed|promised"
    r"|predicted|remarked|responded|recounted|joked|laughed|shouted|whispered|posted|tweeted|adding|saying"
)
OPEN = "“\"‘'«„‚"
CLOSE = "”\"’'»“"
PRONOUNS = {"he", "she"}
NAME = r"(?:[A-Z][\w'’.-]*(?:\s+(?:de|van|von|bin|al|da|di|del|la|le)?\s*[A-Z][\w'’.-]*){0,3})"
WHO = rf"(?P<who>(?:he|she|they|I|we|(?:the|a|an)\s+[a-z]+(?:\s+[a-z]+)?|{NAME})\b)"
AFTER = [
    re.compile(rf"^\s*[,.!?]?\s*{WHO}\s+(?:(?:also|then|later)\s+)?(?P<cue>{CUES})\b"),
    re.compile(rf"^\s*[,.!?]?\s*(?P<cue>{CUES})\s+{WHO}"),
]
BEFORE = re.compile(
    rf"{WHO}(?:,[^,]{{1,80}},)?\s+(?:(?:also|then|later|had)\s+)?(?P<cue>{CUES})"
    rf"(?:\s+(?:me|us|him|her|them|reporters|journalists|the\s+\w+))?(?:\s+(?:that|in\s+a\s+statement))?"
    rf"\s*[:,]?\s*$"
)
# A counted noun is not a function word or a verb: "48, says", "one of dozens" are not quantities.
UNIT_WORD = r"(?!(?:of|the|a|an|and|or|in|on|to|for|by|is|was|says|has|seems|goes|makes|takes)\b)[a-z]"
NOT_SUBJECTS = {"Their", "His", "Her", "Its", "Our", "My", "The", "This", "That", "These", "Those", "But", "And",
                "Yet", "So", "When", "After", "Before", "If", "It", "There", "In", "On", "At", "As"}
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


@dataclass(frozen=True)
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


def extract(article_id: str, text: str, mentions: list[Mention]) -> list[Claim]:
    """Quotes with their speakers and quantities in one article.

    Args:
        article_id: the article's id.
        text: the stored article text (claims' offsets index into it).
        mentions: the article's entity mentions, in text order.

    Returns:
        Claims in text order; a paragraph repeated in the article yields its claims once.
    """
    quotes = _quotes(article_id, text, mentions)
    claims = quotes + _quantities(article_id, text, quotes)
    seen, unique = set(), []
    for c in sorted(claims, key=lambda c: (c.start_char, c.kind)):
        key = (c.kind, re.sub(r"\W+", " ", c.text.lower()).strip())
        if key not in seen:
            seen.add(key)
            unique.append(c)
    return unique


def quote_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each quoted passage's content, marks excluded. Any opening mark may close with
    any closing mark (news copy mixes them); a quote left open runs to the end of its paragraph."""
    spans = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c in OPEN and _opens(text, i):
            j = i + 1
            while j < n and not (text[j] in CLOSE and _closes(text, j)) and text[j] != "\n":
                j += 1
            end = j
            if end > i + 1:
                spans.append((i + 1, end))
            i = j + 1
        else:
            i += 1
    return spans


def _opens(text: str, i: int) -> bool:
    before = text[i - 1] if i > 0 else " "
    after = text[i + 1] if i + 1 < len(text) else " "
    if text[i] in "'’" and before.isalnum():
        return False  # an apostrophe: it's, Putin's
    return (before.isspace() or before in "([—–-:,") and not after.isspace()


def _closes(text: str, j: int) -> bool:
    before = text[j - 1] if j > 0 else " "
    after = text[j + 1] if j + 1 < len(text) else " "
    if text[j] in "'’" and after.isalnum():
        return False
    if text[j] in "'’" and before.isalpha() and not (after.isspace() or after in ".,;:!?)—–-"):
        return False
    return not before.isspace()


def _quotes(article_id: str, text: str, mentions: list[Mention]) -> list[Claim]:
    claims: list[Claim] = []
    last_speaker: tuple[str | None, str | None, int] | None = None
    for start, end in quote_spans(text):
        content = text[start:end].strip()
        if len(content.split()) < 2:
            continue
        para_start = text.rfind("\n", 0, start) + 1
        para_end = text.find("\n", end)
        para_end = len(text) if para_end < 0 else para_end
        who, cue, who_at = _attribution(text, start - 1, end + 1, para_start, para_end)
        previous = claims[-1] if claims else None
        if who is None and previous and previous.speaker and previous.start_char >= para_start:
            # '"…," he said. "…"': a quote split by its attribution continues the same speaker.
            claims.append(_quote(article_id, text, start, end, previous.speaker, previous.speaker_entity_id,
                                 previous.cue))
            continue
        if len(content.split()) < 4 and cue is None:
            continue  # a scare quote or a single word ("cancer"), not a statement
        speaker, entity = who, None
        if who and who.lower() in PRONOUNS:
            if last_speaker and last_speaker[1] and start - last_speaker[2] < 2500:
                entity = last_speaker[1]
            else:
                entity = _recent_person(mentions, start)
        elif who and who_at is not None:
            entity = _entity_at(who, who_at, mentions)
        if who and who.lower() in ("i", "we"):
            entity = None  # the reporter asking or describing, never the interviewee
        if entity or (who and who.lower() not in ("i", "we")):
            last_speaker = (speaker, entity, start)
        claims.append(_quote(article_id, text, start, end, speaker, entity, cue))
    return claims


def _quote(article_id, text, start, end, speaker, entity, cue) -> Claim:
    return Claim(
        claim_id=stable_id("claim", article_id, "quote", start, end),
        article_id=article_id, kind="quote", speaker_entity_id=entity, speaker=speaker, cue=cue,
        text=text[start:end], start_char=start, end_char=end,
    )


def _attribution(text, open_at, close_at, para_start, para_end):
    """(speaker words, cue verb, offset of the words) from the text after the quote, then before it."""
    after = text[close_at:min(para_end, close_at + 120)]
    for pattern in AFTER:
        m = pattern.match(after)
        if m:
            return m["who"], m["cue"].lower(), close_at + m.start("who")
    sentence_start = max(text.rfind(". ", para_start, open_at) + 2, para_start)
    before = text[sentence_start:open_at]
    m = BEFORE.search(before)
    if m:
        return m["who"], m["cue"].lower(), sentence_start + m.start("who")
    # "Grotskov, who was granted ..., said he is proud ..., adding: “..." - the sentence's subject speaks.
    cue = re.search(rf"\b({CUES})\b", before)
    subject = re.match(WHO, before)
    if (cue and subject and subject["who"][0].isupper() and subject.end() <= cue.start()
            and subject["who"].split()[0] not in NOT_SUBJECTS):
        return subject["who"], cue[1].lower(), sentence_start
    return None, None, None


def _entity_at(who: str, at: int, mentions: list[Mention]) -> str | None:
    for m in mentions:
        if m.start_char < at + len(who) and at < m.end_char:
            return m.entity_id
    last = who.split()[-1].strip("'’.,")
    for m in mentions:
        if m.type == "PERSON" and m.form.split()[-1] == last:
            return m.entity_id
    return None


def _recent_person(mentions: list[Mention], before: int) -> str | None:
    people = [m for m in mentions if m.type == "PERSON" and m.end_char <= before]
    return people[-1].entity_id if people else None


def _quantities(article_id: str, text: str, quotes: list[Claim]) -> list[Claim]:
    out = []
    for m in QUANTITY.finditer(text):
        unit = m["unit"].split()[-1] if m["unit"] else ""
        if NOT_UNITS.match(unit) or re.fullmatch(r"(19|20)\d\d", m["num"]):
            continue
        start, end = m.start("claim"), m.end("claim")
        inside = next((q for q in quotes if q.start_char <= start and end <= q.end_char), None)
        out.append(Claim(
            claim_id=stable_id("claim", article_id, "quantity", start, end),
            article_id=article_id, kind="quantity",
            speaker_entity_id=inside.speaker_entity_id if inside else None,
            speaker=inside.speaker if inside else None, cue=inside.cue if inside else None,
            text=text[start:end], start_char=start, end_char=end,
        ))
    return out
