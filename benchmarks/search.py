"""How fast search answers on a large synthetic database, what its index costs, and whether the indexing a
daily load adds grows with the database.

    nice .venv/bin/python benchmarks/search.py [--articles 1000000] [--span 365] [--repeat 21] [--days 5]
                                               [--skip-fts] [--memory-limit 8GB] [--keep DIR]

Builds a synthetic database (the project's real schema and search macros, through store.connect) in a
temporary folder: N articles over 365 days (--span) in daily runs (run_id 'day-YYYY-MM-DD'), 5% syndicated copies,
500 sources, 90% English. Texts are 150-250 words drawn from a Zipf-like distribution over 30,000 words
(the commonest are real English words, stopwords among them; the rest made up), titles 6-10 words, with a
few topics planted at known rates so that queries have a realistic selectivity. All of it is generated in
SQL (a hash of the article number and the word's position stands for a random draw), so it is the same on
every run. Then:

1. the index: built run by run (searchindex.repair on each day's run, a transaction each, as the loads
   build it), then rebuilt whole in one transaction (as store.migrate does for a database without one,
   under --memory-limit), then compacted (rewritten in word order, as the deliver stage does weekly); the
   times, and its size on disk;
2. query latency (p50, p95 of --repeat runs after one warm-up) of the queries `newsmon search` runs, over
   the whole database, and of the 90-day attention, with the number of matching articles beside the
   number a plain scan of the text finds: measured last, with the daily runs of 3. appended unsorted
   after the compacted index, as they stand until the next compaction;
3. the indexing a daily load adds (1,000 new articles, a new run: searchindex.repair on that run in its
   own transaction) and the whole store.load_run of such a day, into a database of N/10 and of N articles;
4. for the record, DuckDB's own fts extension building its index over the N/10 database's articles: it
   has no incremental update, so every load would rebuild it whole.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import duckdb  # noqa: E402

from pipelines import searchindex, store  # noqa: E402

UNTIL = "2025-11-26"  # the end of the data (--span days before it): attention reads the last 90 days
VOCABULARY = 30_000
DAILY = 1000

# The commonest words, in rank order (Zipf: rank r is drawn with probability about 1 / r). Stopwords are
# in the texts as in real ones, where they are about half the words; search drops them.
COMMON = (
    "the of and to a in that is for on said was with he it as at by from his be have has are an not but "
    "they this who will were had their been after more its would about which also we one new than other "
    "she when her all there people up into two out year over government police first could last some "
    "years three say told them percent state"
).split()
# Made-up words: two or three consonant-vowel syllables, from consonants that cannot spell a planted
# word (no c, g or z: "gaza" would be a syllable pair), and no consonant cluster ("port", "strike").
CONSONANTS = "bdfhklmnprstv"

# Planted topics: (name, words as written, which articles have it: the rates). A topic is written 1-3 times in the body,
# and in the title of 30% of its articles. Ceasefire and truce go with gaza more often than not, as in
# the news, so "ceasefire gaza" finds more than the product of their rates.
TOPICS = [
    ("gaza", "Gaza", "h_gaza < 0.015"),
    ("ceasefire", "ceasefire", "case when h_gaza < 0.015 then h_ceasefire < 0.4 else h_ceasefire < 0.014 end"),
    ("truce", "truce", "case when h_gaza < 0.015 then h_truce < 0.15 else h_truce < 0.003 end"),
    ("football", "football", "h_football < 0.03"),
    ("port_strike", "port strike", "h_port_strike < 0.005"),
    # The phrase's words apart, so that the phrase check has work (strike first: topics planted at one
    # place are written in this order, and "port strike" must come from the phrase alone).
    ("strike", "strike", "h_strike < 0.015"),
    ("port", "port", "h_port < 0.01"),
    ("bird_flu", "bird flu", "h_bird_flu < 0.002"),
]

QUERIES = ["ceasefire gaza", '"port strike"', "(ceasefire OR truce) AND gaza NOT football", "strik* NOT football"]
# The same questions asked of the raw text (lower-cased title and text), for the expected counts.
EXPECTED = {
    "ceasefire gaza": "contains(doc, 'ceasefire') and contains(doc, 'gaza')",
    '"port strike"': r"regexp_matches(doc, 'port[^a-z0-9]+strike')",
    "(ceasefire OR truce) AND gaza NOT football":
        "(contains(doc, 'ceasefire') or contains(doc, 'truce')) and contains(doc, 'gaza') "
        "and not contains(doc, 'football')",
    # a word starting so (Snowball only takes suffixes off, so its stem starts so too)
    "strik* NOT football": r"regexp_matches(doc, '(^|[^a-z0-9])strik') and not contains(doc, 'football')",
}
SEARCH = "select article_id, score from search($q) order by score desc limit 20"
ATTENTION = (f"select * from search_attention($q, timestamp '{UNTIL}' - interval 90 days, timestamp '{UNTIL}', "
             "per := 'day')")

GOAL_QUERY = 0.200
GOAL_ATTENTION = 1.0
GOAL_RATIO = 1.20


def create_generator(con) -> None:
    """Temporary macros that write an article from its number (and, for a syndicated copy, the number of
    the article it copies): the same number always gives the same words."""
    con.execute("create temp table if not exists bench_numbers (i bigint)")
    syllables = "".join(c + v for c in CONSONANTS for v in "aeiou")
    s, c = len(syllables) // 2, len(COMMON)
    # Words are cut out of constant strings: a list literal would be copied for every word.
    con.execute(f"""
        create or replace temp macro bench_u(seed, salt) as (hash(seed, salt) % 1000000007) / 1000000007.0;
        create or replace temp macro bench_syllable(x) as substr('{syllables}', 2 * x + 1, 2);
        -- rank r of a Zipf-like draw from a hash: exp(u ln V) is log-uniform, so P(r) ~ 1 / r
        create or replace temp macro bench_rank(h) as
            cast(floor(exp((h % 1000000007) / 1000000007.0 * ln({VOCABULARY}))) as integer) - 1;
        create or replace temp macro bench_word(r) as case
            when r < {c} then rtrim(substr('{"".join(w.ljust(12) for w in COMMON)}', 12 * r + 1, 12))
            else bench_syllable((r - {c}) % {s}) || bench_syllable(((r - {c}) // {s}) % {s})
                 || case when r - {c} >= {s * s}
                         then bench_syllable(((r - {c}) // {s * s} * 17 + r - {c}) % {s}) else '' end
        end;
        -- a word of the text, from its hash, with a full stop after one in 16 and a comma after another
        create or replace temp macro bench_written(h) as
            bench_word(bench_rank(h)) || case h >> 60 when 0 then '.' when 1 then ',' else '' end;
    """)
    draws = ",\n".join(f"bench_u(seed, '{name}') as h_{name}" for name, _, _ in TOPICS)
    flags = ",\n".join(f"{rule} as has_{name}" for name, _, rule in TOPICS)
    times = ",\n".join(f"1 + hash(seed, '{name}-times') % 3 as times_{name}" for name, _, _ in TOPICS)
    # A topic is written at 1-3 places, one in each third of the body (a place in each third, drawn per
    # article, takes the article's topics there); deciding per article rather than per word keeps the
    # generator fast.
    planted = ",\n".join(
        "list_filter([" + ", ".join(f"case when has_{name} and times_{name} >= {j} then '{words}' end"
                                    for name, words, _ in TOPICS) + f"], x -> x is not null) as planted_{j}"
        for j in (1, 2, 3))
    in_title = " || ".join(
        f"case when has_{name} and bench_u(seed, '{name}-title') < 0.3 then '{words} ' else '' end"
        for name, words, _ in TOPICS)
    # The article: seed is the article it is written from (itself, or the original of a copy); i is its
    # own number, for what a copy does not share (source, time of day).
    con.execute(f"""
        create or replace temp macro bench_articles(first_i, last_i, first_day, days, copies) as table
        with
        numbered as (
            select i, case when copies and i % 20 = 0 and i > 0 then i - 1 end as original,
                   coalesce(original, i) as seed,
                   first_day + cast((i - first_i) * days // (last_i - first_i) as integer) as day
            from bench_numbers
            where i >= first_i and i < last_i
        ),
        drawn as (
            select *, cast(150 + hash(seed, 'length') % 101 as bigint) as n,
                   cast(6 + hash(seed, 'title-length') % 5 as bigint) as title_n,
                   {draws},
                   {times}
            from numbered
        ),
        planned as (
            select *, {flags} from drawn
        ),
        placed as (
            select *, {planted},
                   cast(hash(seed, 'cut-1') % (n // 3) as bigint) as cut_1,
                   cast(n // 3 + hash(seed, 'cut-2') % (n // 3) as bigint) as cut_2,
                   cast(2 * (n // 3) + hash(seed, 'cut-3') % (n // 3) as bigint) as cut_3,
                   list_transform(range(n), k -> bench_written(hash(seed, k))) as body
            from planned
        ),
        written as (
            select *,
                array_to_string(body[1:cut_1] || planted_1 || body[cut_1 + 1:cut_2] || planted_2
                                || body[cut_2 + 1:cut_3] || planted_3 || body[cut_3 + 1:], ' ') || '.' as text,
                {in_title} || array_to_string(list_transform(range(title_n),
                    k -> bench_word(bench_rank(hash(seed, -1 - k)))), ' ') as raw_title
            from placed
        )
        select
            printf('a%015d', i) as article_id,
            'https://site' || (i * 7919 % 500) || '.example/' || i as url,
            'site' || cast(floor(pow(bench_u(i, 'source'), 2) * 500) as integer) || '.example' as source,
            upper(raw_title[1]) || raw_title[2:] as title,
            cast(day as timestamp) + to_minutes(cast(hash(seed, 'minute') % 1380 + i % 60 as bigint))
                as published_at,
            'page' as date_origin,
            case when bench_u(seed, 'lang') < 0.90 then 'en' when bench_u(seed, 'lang') < 0.94 then 'fr'
                 when bench_u(seed, 'lang') < 0.97 then 'es' else 'de' end as language,
            text,
            len(string_split(text, ' ')) as word_count,
            null as author, null as site_name, md5(text) as content_hash, null as minhash,
            case when original is not null then printf('a%015d', original) end as duplicate_of,
            null as raw_sha256,
            cast(day as timestamp) + interval 1 day as fetched_at,
            'day-' || strftime(day, '%Y-%m-%d') as run_id
        from written
    """)


def build(path: Path, articles: int, days: int, memory_limit: str) -> dict:
    """The database of N articles over the days before UNTIL (a run per day), indexed for search run by run, as the
    daily loads index it; then the whole index rebuilt in one transaction, as store.migrate does for a
    database that had none. Returns figures."""
    con = store.connect(path)
    # DuckDB's default (80% of the RAM) lets the process grow until the kernel kills it, beside another job.
    con.execute(f"set memory_limit = '{memory_limit}'")
    create_generator(con)
    # The numbers come from a table, not range(), so that DuckDB writes the articles on every core.
    con.execute(f"create or replace temp table bench_numbers as select i from range({articles}) t(i)")
    t0 = time.perf_counter()
    con.execute(f"""
        insert into articles by name
        select * from bench_articles(0, {articles}, date '{UNTIL}' - {days}, {days}, true)
        order by article_id""")
    built = time.perf_counter() - t0
    con.execute("checkpoint")
    before = used_bytes(con), path.stat().st_size
    runs = [r[0] for r in con.execute("select distinct run_id from articles order by run_id").fetchall()]
    # Every run is marked as indexed, so that searchindex.repair(con, (run,)) indexes that run alone (it
    # also indexes any run whose count differs), as in a daily load.
    con.execute("insert into search_runs select run_id, count(*), false from articles group by run_id")
    per_run = []
    for run in runs:
        t0 = time.perf_counter()
        con.begin()
        searchindex.repair(con, (run,))
        con.commit()
        per_run.append(time.perf_counter() - t0)
    con.execute("checkpoint")
    after = used_bytes(con), path.stat().st_size
    rows, entries, terms = con.execute(
        "select count(*), sum(len(article_ids)), count(distinct term) from search_postings").fetchone()
    # The whole index in one transaction: what store.migrate does on the first connection after the search
    # migration, and what a repair of every run would do.
    t0 = time.perf_counter()
    con.begin()
    try:
        con.execute("delete from search_postings")
        con.execute("delete from search_runs")
        searchindex.repair(con)
        con.commit()
        whole, failure = time.perf_counter() - t0, None
    except duckdb.Error as exc:
        whole, failure = time.perf_counter() - t0, f"{type(exc).__name__}: {str(exc).splitlines()[0]}"
        con.rollback()
    # The weekly compaction (the deliver stage's, searchindex.compact): the index rewritten in word order.
    t0 = time.perf_counter()
    searchindex.compact(con)
    compacted = time.perf_counter() - t0
    con.execute("checkpoint")
    con.close()
    return {"built": built, "indexed": sum(per_run), "runs": len(runs), "per_run": statistics.median(per_run),
            "slowest": max(per_run), "whole": whole, "compact": compacted, "failure": failure, "rows": rows,
            "entries": entries, "terms": terms, "used": after[0] - before[0], "file": after[1] - before[1],
            "articles_used": before[0], "articles_file": before[1]}


def used_bytes(con) -> int:
    """Bytes of the blocks in use (pragma database_size), which unlike the file's size leaves out free ones."""
    used, block = con.execute("select used_blocks, block_size from pragma_database_size()").fetchone()
    return used * block


def timed(con, sql: str, params: dict, repeat: int) -> tuple[float, float, list]:
    """p50 and p95 of `repeat` runs after one warm-up, and the last run's rows."""
    rows = con.execute(sql, params).fetchall()
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        rows = con.execute(sql, params).fetchall()
        times.append(time.perf_counter() - t)
    times.sort()
    return statistics.median(times), times[min(len(times) - 1, round(0.95 * (len(times) - 1)))], rows


def queries(path: Path, repeat: int, appended: int) -> None:
    con = store.connect(path, read_only=True)
    print(f"\nqueries over all {con.execute('select count(*) from articles').fetchone()[0]:,} articles, the index "
          f"compacted and {appended} runs appended since (p50 and p95 of {repeat} runs after a warm-up; expected: a "
          "scan of the lower-cased title and text)")
    print(f"{'query':53} {'matches':>8} {'expected':>8} {'p50 s':>7} {'p95 s':>7}  goal")
    scan = ", ".join(f"count(*) filter (where {cond})" for cond in EXPECTED.values())
    counts = con.execute(f"select {scan} from (select lower(concat_ws(' ', title, text)) as doc from articles)")
    expected = dict(zip(EXPECTED, counts.fetchone(), strict=True))
    for q in QUERIES:
        p50, p95, _ = timed(con, SEARCH, {"q": q}, repeat)
        matches = con.execute("select count(*) from search($q)", {"q": q}).fetchone()[0]
        verdict = "ok" if p50 < GOAL_QUERY else "OVER"
        print(f"search: {q:45} {matches:8,} {expected[q]:8,} {p50:7.3f} {p95:7.3f}  "
              f"p50 < {GOAL_QUERY:.3f} s: {verdict}")
    print(f"\n90-day attention, per day (search_attention, until {UNTIL})")
    print(f"{'query':53} {'stories':>8} {'days':>8} {'p50 s':>7} {'p95 s':>7}  goal")
    for q in QUERIES:
        p50, p95, rows = timed(con, ATTENTION, {"q": q}, repeat)
        stories = sum(r[1] for r in rows)
        verdict = "ok" if p50 < GOAL_ATTENTION else "OVER"
        print(f"attention: {q:42} {stories:8,} {len(rows):8,} {p50:7.3f} {p95:7.3f}  "
              f"p50 < {GOAL_ATTENTION:.1f} s: {verdict}")
    con.close()


def daily(path: Path, day: int, base: int) -> tuple[float, float]:
    """One day's 1,000 new articles twice over, as two new runs: the first inserted, then indexed by
    searchindex.repair in a transaction of its own (the indexing a load adds); the second loaded whole
    by store.load_run (articles only: this database has no mentions or claims). Returns both times."""
    con = store.connect(path)
    create_generator(con)
    times = []
    for k, how in enumerate(("index", "load")):
        first = base + 2 * k * DAILY
        con.execute(f"create or replace temp table bench_numbers as select i from range({first}, {first + DAILY}) t(i)")
        arts = con.execute(f"select * from bench_articles({first}, {first + DAILY}, date '{UNTIL}' + {day}, 1, "
                           "false)").df()
        run_id = f"{arts['run_id'][0]}-{how}"
        arts["run_id"] = run_id
        if how == "index":
            con.register("day_rows", arts)
            con.execute("insert into articles by name select * from day_rows")
            con.unregister("day_rows")
            t0 = time.perf_counter()
            con.begin()
            searchindex.repair(con, (run_id,))
            con.commit()
        else:
            empty = {t: con.execute(f"select * from {t} limit 0").df()
                     for t in ("entities", "mentions", "claims", "claim_entities")}
            t0 = time.perf_counter()
            store.load_run(con, {"run_id": run_id, "kind": "daily", "status": "success", "counts": {}},
                           {"articles": arts, **empty}, [], [])
        times.append(time.perf_counter() - t0)
        found = con.execute("select count(*) from search('gaza', in_run := $run)", {"run": run_id}).fetchone()[0]
        if not found:
            raise SystemExit(f"{path.name}: the new run {run_id} is not searchable")
    con.close()
    return times[0], times[1]


def fts(path: Path) -> tuple[int, float]:
    """DuckDB's fts extension indexing every article of the database, as it would after each load."""
    con = store.connect(path)
    n = con.execute("select count(*) from articles").fetchone()[0]
    t0 = time.perf_counter()
    con.execute("pragma create_fts_index('articles', 'article_id', 'title', 'text')")
    took = time.perf_counter() - t0
    con.execute("pragma drop_fts_index('articles')")
    con.close()
    return n, took


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--articles", type=int, default=1_000_000)
    ap.add_argument("--span", type=int, default=365, help="days the articles cover, a run each (default 365)")
    ap.add_argument("--repeat", type=int, default=21)
    ap.add_argument("--days", type=int, default=5)
    ap.add_argument("--skip-fts", action="store_true", help="leave out the fts extension's index build")
    ap.add_argument("--memory-limit", default="8GB", help="DuckDB's memory_limit while building (default 8GB)")
    ap.add_argument("--keep", metavar="DIR", help="build the databases in DIR and leave them there (for EXPLAIN "
                    "ANALYZE afterwards) instead of in a temporary folder")
    args = ap.parse_args()
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"python {platform.python_version()}, duckdb {duckdb.__version__}")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(args.keep or tmp)
        folder.mkdir(parents=True, exist_ok=True)
        small, big = folder / "small.duckdb", folder / "big.duckdb"
        for path in (small, big):
            path.unlink(missing_ok=True)
            path.with_name(path.name + ".wal").unlink(missing_ok=True)
        sizes = ((small, args.articles // 10), (big, args.articles))
        built = {path: build(path, n, args.span, args.memory_limit) for path, n in sizes}
        print(f"\n{'database':>18} {'build s':>8} {'runs':>5} {'index s':>8} {'per run':>8} {'slowest':>8} "
              f"{'whole s':>8} {'compact s':>9} {'postings rows':>14} {'entries':>12} {'terms':>7}")
        for path, n in sizes:
            b = built[path]
            whole = f"{b['whole']:8.1f}" if b["failure"] is None else f"{'failed':>8}"
            print(f"{n:>9,} articles {b['built']:8.1f} {b['runs']:5} {b['indexed']:8.1f} {b['per_run']:8.3f} "
                  f"{b['slowest']:8.3f} {whole} {b['compact']:9.1f} {b['rows']:14,} {b['entries']:12,} {b['terms']:7,}")
        print("build: generating and inserting the articles. index: searchindex.repair run by run, a transaction "
              "each, as the daily loads index (per run: the median, and the slowest). whole: searchindex.repair "
              "over every run in one transaction, as store.migrate does for a database without an index "
              f"(memory_limit {args.memory_limit}). compact: searchindex.compact, the rewrite in word order that the "
              "deliver stage does once 7 runs were indexed since the last. entries: the (article, field, term) "
              "pairs in the lists")
        for path, n in sizes:
            if built[path]["failure"]:
                print(f"  whole index at {n:,} articles failed after {built[path]['whole']:.1f} s: "
                      f"{built[path]['failure']}")
        print(f"\n{'on disk':>18} {'articles MB':>12} {'index MB':>9} {'file MB':>8} {'file +MB':>9}")
        for path, n in sizes:
            b = built[path]
            print(f"{n:>9,} articles {b['articles_used'] / 1e6:12.0f} {b['used'] / 1e6:9.0f} "
                  f"{b['articles_file'] / 1e6:8.0f} {b['file'] / 1e6:9.0f}")
        print("MB of used blocks (pragma database_size), after a checkpoint: the articles alone, then what the "
              "run-by-run index added; file MB: the file's size with the articles alone, and what it grew by")

        built_fts = None if args.skip_fts else fts(small)
        # Alternating the two databases day by day spreads the machine's drift over both.
        times: dict[Path, list] = {path: [] for path, _ in sizes}
        for day in range(args.days):
            for path, _ in sizes:
                times[path].append(daily(path, day, 10 * args.articles + 4 * DAILY * day))
        print(f"\ndaily indexing: {DAILY:,} new articles as a new run (median of {args.days} days); "
              "index s: searchindex.repair on the run, in its own transaction; load s: the whole store.load_run "
              "of such a day (articles only)")
        print(f"{'into a database of':>26} {'index s':>8} {'load s':>8}")
        med = {}
        for path, n in sizes:
            med[path] = [statistics.median(t[i] for t in times[path]) for i in (0, 1)]
            print(f"{n:>17,} articles {med[path][0]:8.3f} {med[path][1]:8.3f}")
        ratio = med[big][0] / med[small][0]
        print(f"{'ratio, N to N/10':>26} {ratio:8.2f} {med[big][1] / med[small][1]:8.2f}  goal for index s: "
              f"within 20% ({'ok' if ratio <= GOAL_RATIO else 'OVER'})")
        # Queries last: the daily runs above sit unsorted after the compacted index, as they would until the
        # next compaction.
        queries(big, args.repeat, 2 * args.days)
        if built_fts:
            n, took = built_fts
            print(f"fts extension, pragma create_fts_index over all {n:,} articles: {took:.1f} s, on every load "
                  f"(it has no incremental update), against {med[small][0]:.3f} s for ours")


if __name__ == "__main__":
    main()
