"""How fast the analysts' views answer on a large synthetic database, and whether a daily load slows down
as the database grows.

    .venv/bin/python benchmarks/queries.py [--articles 1000000] [--mentions-per-article 10] [--repeat 7]

Builds a synthetic database (the project's real schema and views) in a temporary folder: N articles over
365 days (5% syndicated copies), 10 mentions each over 50,000 entities with a long-tailed popularity, one
quote per article. Prints, for each view, the median time of a typical analyst query on it; then the time
of a daily incremental load (1,000 new articles with their mentions and claims, in one transaction) into
a database of N/10 and of N articles.
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

from pipelines import alerts, store  # noqa: E402

DAY = "date '2026-11-24'"
QUERIES = {
    "actor_daily": f"select name, stories from actor_daily where day = {DAY} order by stories desc limit 20",
    "place_daily": f"select name, latitude, longitude, stories from place_daily where day = {DAY} "
                   "order by stories desc limit 50",
    "cooccurrence_daily": f"select actor, place, stories from cooccurrence_daily where day = {DAY} "
                          "order by stories desc limit 20",
    "rising_entities": f"select name, stories, ratio from rising_entities where day = {DAY} and stories >= 2 "
                       "order by ratio desc limit 20",
    "first_seen_entities": f"select name, type from first_seen_entities where day = {DAY}",
    "top_speakers": "select name, quotes, latest_quote from top_speakers order by quotes desc limit 20",
    "quotes": "select published_at, text, url from quotes where speaker_entity_id = 'e000000000000042' "
              "order by published_at desc limit 20",
    "claim_entities": "select count(*) from claim_entities where entity_id = 'e000000000000042'",
    "said_about": "select text, url from said_about where speaker_entity_id = 'e000000000000042' "
                  "and about_entity_id = 'e000000000000007' limit 20",
    "stories": "select title, articles from stories where articles > 1 order by first_published_at desc limit 20",
}


def build(path: Path, articles: int, per_article: int, offset: int = 0, run: str = "bench") -> None:
    """Fill the database with synthetic rows (ids are deterministic strings, as the pipeline's are)."""
    con = store.connect(path)
    con.execute("""
        insert or ignore into entities
        select printf('e%015d', i), 'Entity ' || i,
               case when i % 3 = 0 then 'PERSON' when i % 3 = 1 then 'ORG' else 'LOCATION' end,
               []::varchar[], case when i % 3 = 2 then 'XX' end,
               case when i % 3 = 2 then (i % 180) - 90.0 end, case when i % 3 = 2 then (i % 360) - 180.0 end,
               null, null
        from range(50000) t(i)""")
    con.execute(f"""
        insert into articles
        select printf('a%015d', i), 'https://news.example/' || i, 'source' || (i % 500), 'Story ' || i,
               timestamp '2026-11-24 23:00' - to_minutes(cast(((i * 7919) % 525600) as bigint)), 'page', 'en',
               'Entity ' || (i % 997) || ' said something about Entity ' || (i % 991) || '. ' ||
               repeat('word ', 40), 45, null, null, md5(i::varchar), null,
               case when i % 20 = 0 and i > 0 then printf('a%015d', i - 1) end, null,
               timestamp '2026-11-25', '{run}'
        from range({offset}, {offset + articles}) t(i)""")
    con.execute(f"""
        insert into mentions
        select printf('m%015d', i), printf('a%015d', {offset} + i // {per_article}), printf('e%015d', e),
               'Entity ' || e, 'Entity ' || e, 0, 6, 0, 'X'
        from (select i, cast(floor(pow(random(), 3) * 50000) as bigint) as e
              from range({articles * per_article}) t(i))""")
    con.execute(f"""
        insert into claims
        select printf('c%015d', i), printf('a%015d', i), 'quote',
               printf('e%015d', cast(floor(pow(random(), 3) * 50000) as bigint)), 'Entity', 'said',
               'something about Entity', 0, 22
        from range({offset}, {offset + articles}) t(i)""")
    # claim_entities is written by the pipeline with its claims: here, the rows it would write.
    con.execute(f"""
        insert or ignore into claim_entities
        select claim_id, article_id, speaker_entity_id, 'speaker' from claims
        where claim_id >= printf('c%015d', {offset}) and claim_id < printf('c%015d', {offset + articles})
        union
        select c.claim_id, c.article_id, m.entity_id, 'mentioned'
        from claims as c
        inner join mentions as m
            on m.article_id = c.article_id and m.start_char >= c.start_char and m.end_char <= c.end_char
        where c.claim_id >= printf('c%015d', {offset}) and c.claim_id < printf('c%015d', {offset + articles})
          and m.entity_id is distinct from c.speaker_entity_id""")
    days = [r[0] for r in con.execute("select distinct cast(published_at as date) from articles").fetchall()]
    # The marts the pipeline's loads keep current.
    store.refresh_entity_daily(con, days)
    con.execute("""insert into entity_forms select entity_id, form, surface, count(*) from mentions group by all
                   on conflict do update set mentions = excluded.mentions""")
    con.close()


WATCHLIST = """
rules:
  - {id: watched-actor, name: Entity 42}
  - {id: watched-place, type: ORG, place: {near: [10, 20], km: 500}}
  - {id: watched-topic, keywords: [said something]}
  - {id: newcomer, kind: first_seen, type: PERSON}
  - {id: rising, kind: spike, type: ORG}
"""


def daily_load(path: Path, base: int, run: str) -> tuple[float, float]:
    """One day's batch of 1,000 new articles, loaded the way the pipeline loads a run: with the entities
    its mentions name (names and aliases are refreshed) and a watchlist of every rule kind evaluated in
    the transaction; then the same run loaded again (a rerun of the date, which replaces its rows).
    Returns both times."""
    con = store.connect(path)
    frames = day_batch(con, base, run)
    times = [load_day(con, frames, run, path.with_name("watchlist.yaml"))["seconds"] for _ in range(2)]
    con.close()
    return times[0], times[1]


def day_batch(con, base: int, run: str, n: int = 1000) -> dict:
    """A day's n new articles (ids from `base` on, run `run`) with their mentions, claims, claim links and
    the entities they name: copies of the first n synthetic articles' rows under new ids, all published on
    the new day, so a load touches that day's trend rows only."""
    import pandas as pd

    def renumber(col, offset):
        return "n" + (col.str[1:].astype(int) + offset).astype(str).str.zfill(15)

    first = f"printf('a%015d', {n})"
    arts = con.execute(f"select * from articles where article_id < {first}").df()
    arts["article_id"] = [f"n{base + i:015d}" for i in range(n)]
    arts["run_id"] = run
    arts["published_at"] = pd.Timestamp("2026-11-25") + pd.to_timedelta(range(n), unit="min")
    arts["duplicate_of"] = None
    ments = con.execute(f"select * from mentions where article_id < {first}").df()
    ments["mention_id"] = renumber(ments["mention_id"], 10 * base)
    ments["article_id"] = renumber(ments["article_id"], base)
    claims = con.execute(f"select * from claims where article_id < {first}").df()
    links = con.execute(f"select * from claim_entities where article_id < {first}").df()
    for df in (claims, links):
        df["claim_id"] = renumber(df["claim_id"], base)
        df["article_id"] = renumber(df["article_id"], base)
    ents = con.execute("select * exclude (aliases) from entities where entity_id in "
                       "(select unnest($ids::varchar[]))", {"ids": sorted(set(ments["entity_id"]))}).df()
    return {"articles": arts, "entities": ents, "mentions": ments, "claims": claims, "claim_entities": links}


def load_day(con, frames: dict, run: str, watchlist_path: Path) -> dict:
    """store.load_run of a day's batch with the watchlist of every rule kind: what it returns, with the
    seconds it took."""
    import pandas as pd

    watchlist_path.write_text(WATCHLIST, encoding="utf-8")
    watchlist = alerts.load_watchlist(watchlist_path)
    day = pd.Timestamp("2026-11-25").to_pydatetime()
    t0 = time.perf_counter()
    out = store.load_run(con, {"run_id": run, "kind": "daily", "status": "success", "counts": {}}, frames, [], [],
                         lambda c: alerts.evaluate(c, watchlist, run, day, day))
    return {**out, "seconds": time.perf_counter() - t0}


def snapshot(path: Path) -> float:
    """Publishing the analysts' read-only copy after a load (store.publish_snapshot)."""
    con = store.connect(path)
    t0 = time.perf_counter()
    store.publish_snapshot(con, path)
    took = time.perf_counter() - t0
    con.close()
    store.snapshot_path(path).unlink()
    return took


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--articles", type=int, default=1_000_000)
    ap.add_argument("--mentions-per-article", type=int, default=10)
    ap.add_argument("--repeat", type=int, default=7)
    args = ap.parse_args()
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"python {platform.python_version()}, duckdb {__import__('duckdb').__version__}")
    with tempfile.TemporaryDirectory() as tmp:
        big = Path(tmp) / "big.duckdb"
        t0 = time.perf_counter()
        build(big, args.articles, args.mentions_per_article)
        print(f"built {args.articles:,} articles, {args.articles * args.mentions_per_article:,} mentions, "
              f"{args.articles:,} claims in {time.perf_counter() - t0:.1f} s "
              f"({big.stat().st_size / 1e9:.2f} GB)")
        con = store.connect(big, read_only=True)
        print(f"\n{'view':22} {'median s':>9} {'max s':>7}  rows")
        slow = []
        for view, sql in QUERIES.items():
            times, rows = [], 0
            for _ in range(args.repeat):
                t = time.perf_counter()
                rows = len(con.execute(sql).fetchall())
                times.append(time.perf_counter() - t)
            med = statistics.median(times)
            slow += [view] if med >= 1 else []
            print(f"{view:22} {med:9.3f} {max(times):7.3f}  {rows}")
        con.close()
        print(f"\nviews at or over 1 s: {', '.join(slow) or 'none'}")

        small = Path(tmp) / "small.duckdb"
        build(small, args.articles // 10, args.mentions_per_article)
        print(f"\n{'into a database of':22} {'daily load s':>12} {'rerun s':>8} {'snapshot s':>10}  (median of "
              f"{args.repeat} days of 1,000 articles; the rerun replaces the same day)")
        sizes = ((small, args.articles // 10), (big, args.articles))
        # Alternating the two databases day by day spreads the machine's drift over both.
        loads: dict[Path, list] = {path: [] for path, _ in sizes}
        for i in range(args.repeat):
            for path, _ in sizes:
                loads[path].append(daily_load(path, 10 * args.articles + 1000 * i, f"day-{i}"))
        for path, size in sizes:
            first = statistics.median(t for t, _ in loads[path])
            again = statistics.median(t for _, t in loads[path])
            print(f"{size:>13,} articles {first:12.3f} {again:8.3f} {snapshot(path):10.2f}")


if __name__ == "__main__":
    main()
