"""The search index's writes: the loads index their runs in their own transaction (repair), and the
deliver stage compacts it about weekly (compact). The matching itself is SQL (sql/macros/), read by
pipelines/search.py."""

from __future__ import annotations


def repair(con, runs: tuple[str, ...] = ()) -> list[str]:
    """Index for search these runs, and every run whose indexed article count differs from what it holds
    now: runs from before the index existed, and runs that lost articles to a rerun or a reprocess. Call
    inside the load's transaction, so the index changes exactly when the articles do.

    Returns:
        The runs indexed again.
    """
    held = dict(con.execute("""
        select coalesce(a.run_id, s.run_id), coalesce(a.n, 0)
        from (select run_id, count(*) as n from articles group by run_id) as a
        full join search_runs as s using (run_id)
        where a.n is distinct from s.articles""").fetchall())
    for run in runs:
        held.setdefault(run, 0)
    stale = sorted(held)
    if stale:
        params = {"runs": stale}
        for table in ("search_postings", "search_runs"):
            con.execute(f"delete from {table} where run_id in (select unnest($runs::varchar[]))", params)
        for batch in _batches(stale, held, SEARCH_BATCH):
            con.execute("create or replace temp table search_batch as select * from search_index_rows($runs)",
                        {"runs": batch})
            con.execute("insert into search_postings by name select * from search_batch")
            con.execute("""insert into search_terms
                           select distinct field, term, term_key from search_batch
                           where term_key not in (select term_key from search_terms)""")
            con.execute("drop table search_batch")
        con.execute("""insert into search_runs
                       select run_id, count(*), false from articles
                       where run_id in (select unnest($runs::varchar[])) group by run_id""", params)
    return stale


# Runs indexed since the last compaction before the deliver stage compacts the index (about weekly for
# daily runs): each load appends its run's rows, which a query for a word must then scan whole.
COMPACT_AFTER_RUNS = 7


def needs_compaction(con) -> bool:
    """Whether COMPACT_AFTER_RUNS or more runs were indexed since the index was last compacted."""
    return con.execute("select count(*) from search_runs where not compacted").fetchone()[0] >= COMPACT_AFTER_RUNS


def compact(con) -> int:
    """Rewrite the search index in key order (term_key, run: search_key of field and word) in one
    transaction, so a word's rows sit together and a query reads a few row groups instead of every run's
    rows (README, Performance: search).
    It costs a sort of the whole index, so it runs about weekly, apart from the load.

    Returns:
        The index rows rewritten.
    """
    con.begin()
    try:
        con.execute("create or replace temp table search_sorted as select * from search_postings")
        con.execute("delete from search_postings")
        n = con.execute("insert into search_postings select * from search_sorted "
                        "order by term_key, run_id").fetchone()[0]
        con.execute("update search_runs set compacted = true where not compacted")
        con.execute("drop table search_sorted")
        con.commit()
    except Exception:
        con.rollback()
        raise
    return n


# Articles indexed per statement: a database indexed whole at once (after an upgrade) would otherwise
# hold every word of every article in memory together.
SEARCH_BATCH = 20_000


def _batches(runs: list[str], sizes: dict[str, int], most: int) -> list[list[str]]:
    """The runs in consecutive groups of at most `most` articles (a larger run is a group of its own)."""
    out: list[list[str]] = [[]]
    total = 0
    for run in runs:
        n = sizes.get(run, 0)
        if out[-1] and total + n > most:
            out.append([])
            total = 0
        out[-1].append(run)
        total += n
    return [b for b in out if b]
