"""Search: how much the news said about a topic, when and where, and which stories said it best.

The query language, the matching and the attention counts are SQL macros (sql/macros/), so that this
module, the watchlist's keyword rules, the digest and an analyst's duckdb CLI run the one parser. This
module turns their rows into what the CLI and the digest show, and marks the match in a snippet.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime

from pipelines import store

PERIODS = ("day", "week", "source", "country", "language")
GUILLEMETS = str.maketrans("«»", "‹›")
WORD = re.compile(r"[^\W_]+")


class QueryError(ValueError):
    """A query that does not parse: the message names the position, as `position N: what is wrong`."""


@dataclass(frozen=True)
class Leaf:
    """One word, phrase or prefix of a query, as the index holds it (folded and stemmed)."""

    kind: str
    words: tuple[str, ...]
    prefix: str | None


def check(con, query: str) -> None:
    """Raise QueryError if the query does not parse."""
    message = con.execute("select search_error($q)", {"q": query}).fetchone()[0]
    if message:
        raise QueryError(message)


def leaves(con, query: str) -> list[Leaf]:
    """The query's words, phrases and prefixes (field conditions left out): what a snippet highlights."""
    check(con, query)
    plan = con.execute("select search_plan($q).leaves", {"q": query}).fetchone()[0]
    return [Leaf(p["kind"], tuple(p["words"] or ()), p["value"] if p["kind"] == "prefix" else None)
            for p in plan if p["kind"] in ("words", "prefix")]


def attention(con, query: str, since: datetime, until: datetime, per: str = "day") -> list[dict]:
    """Per period in [since, until): stories matching, all stories, and the share (a syndicated story
    counted once). Periods with stories but no match are included, with 0."""
    check(con, query)
    return store.records(con, "select * from search_attention($q, $since, $until, per := $per)",
                         {"q": query, "since": since, "until": until, "per": per})


def top_sources(con, query: str, since: datetime, until: datetime, limit: int = 10) -> list[dict]:
    """The sources with the most matching stories in [since, until)."""
    check(con, query)
    return store.records(con, """
        select a.source, count(distinct coalesce(a.duplicate_of, a.article_id)) as stories
        from search($q, since := $since, until := $until) as s
        inner join articles as a using (article_id)
        group by a.source
        order by stories desc, a.source
        limit $limit""", {"q": query, "since": since, "until": until, "limit": limit})


def best_stories(con, query: str, since: datetime, until: datetime, limit: int = 10) -> list[dict]:
    """The best-ranked matching stories (one row per story: its best-scoring copy), with a snippet
    around the first match, marked «»."""
    marks = leaves(con, query)
    rows = store.records(con, """
        select a.article_id, coalesce(a.duplicate_of, a.article_id) as story_id, a.published_at, a.source,
               a.title, a.url, a.text, round(s.score, 3) as score
        from search($q, since := $since, until := $until) as s
        inner join articles as a using (article_id)
        qualify row_number() over (partition by coalesce(a.duplicate_of, a.article_id)
                                   order by s.score desc, a.article_id) = 1
        order by s.score desc, a.published_at desc, a.article_id
        limit $limit""", {"q": query, "since": since, "until": until, "limit": limit})
    stems = _stems(con, {w for r in rows for w in _folded_words(r["text"])})
    for row in rows:
        row["snippet"] = snippet_of_match(row.pop("text"), marks, stems)
    return rows


def check_query(query: str) -> None:
    """Raise QueryError if the query does not parse, without a database (the watchlist's check)."""
    check(_parser(), query)


@functools.cache
def _parser():
    import duckdb

    con = duckdb.connect(config=store.offline_config())
    store.migrate(con)
    return con


def matches_in_run(con, query: str, run_id: str, texts: dict[str, dict]) -> dict[str, tuple[int, int]]:
    """The run's articles that match the query, each with (start, end) of its first matching word in the
    text ((0, 0) where only a field condition matched). `texts` holds the run's stories by article id."""
    ids = [r[0] for r in con.execute("select article_id from search($q, in_run := $run)",
                                     {"q": query, "run": run_id}).fetchall() if r[0] in texts]
    marks = leaves(con, query)
    stems = _stems(con, {w for a in ids for w in _folded_words(texts[a]["text"])})
    return {a: first_match(texts[a]["text"], marks, stems) or (0, 0) for a in ids}


def first_match(text: str, marks: list[Leaf], stems: dict[str, str]) -> tuple[int, int] | None:
    """Where the first word of the text that a leaf matches stands (a phrase: its first word).
    `stems` maps each folded word of the text to its stem (as search_words makes it)."""
    singles = {leaf.words[0] for leaf in marks if leaf.words}
    prefixes = tuple(leaf.prefix for leaf in marks if leaf.prefix)
    for m in WORD.finditer(text):
        stem = stems.get(_fold(m.group()), "")
        if stem in singles or (prefixes and stem.startswith(prefixes)):
            return m.start(), m.end()
    return None


def snippet_of_match(text: str, marks: list[Leaf], stems: dict[str, str], width: int = 100) -> str:
    """The words around the first match of a leaf in the text, marked «»; the text's start if none."""
    found = first_match(text, marks, stems)
    if found:
        return snippet(text, *found, width)
    return text[: 2 * width].replace("\n", " ") + ("…" if len(text) > 2 * width else "")


def snippet(text: str, start: int, end: int, width: int = 120) -> str:
    """The words around a match, the match marked with «» (escaped per channel when rendered). The
    text's own guillemets (French, German, Russian quotes) become ‹›, so the only «» are the markers."""
    lo, hi = max(0, start - width), min(len(text), end + width)

    def plain(t: str) -> str:
        return t.translate(GUILLEMETS)

    return (("…" if lo else "") + plain(text[lo:start]) + "«" + plain(text[start:end]) + "»" + plain(text[end:hi])
            + ("…" if hi < len(text) else "")).replace("\n", " ")


def _fold(word: str) -> str:
    # strip_accents in DuckDB drops combining marks after decomposition; the same here, so the snippet's
    # words meet the index's.
    return "".join(c for c in unicodedata.normalize("NFD", word.lower()) if not unicodedata.combining(c))


def _folded_words(text: str) -> set[str]:
    return {_fold(m.group()) for m in WORD.finditer(text or "")}


def _stems(con, words: set[str]) -> dict[str, str]:
    if not words:
        return {}
    rows = con.execute("select w, stem(w, 'english') from (select unnest($w::varchar[]) as w)",
                       {"w": sorted(words)}).fetchall()
    return dict(rows)
