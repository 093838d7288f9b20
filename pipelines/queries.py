"""What the pipeline and the CLI read from the database: every query outside the load itself (which is
store.py's), each a function of an open connection with its parameters bound, never formatted in."""

from __future__ import annotations

from pipelines import store
from pipelines.models import FeedState

# ---------------------------------------------------------------- what the stages read


def articles_per_source_day(con, lo, hi, exclude_run: str) -> list[tuple]:
    """(source, day, articles) for the days in [lo, hi), of runs other than `exclude_run` (first copies and
    duplicates alike: volume is about the source, not the story)."""
    return con.execute("""
        select source, cast(published_at as date) as day, count(*)
        from articles
        where published_at >= $lo and published_at < $hi and run_id <> $run
        group by all""", {"lo": lo, "hi": hi, "run": exclude_run}).fetchall()


def shares_without_entities(con, lo, hi, exclude_run: str) -> list[float]:
    """Per day in [lo, hi) that has articles (of runs other than `exclude_run`), the share of them with no
    mention: the history the data-quality check on entity coverage compares a batch with."""
    rows = con.execute("""
        select cast(a.published_at as date) as day,
               avg(case when m.article_id is null then 1.0 else 0.0 end) as share
        from articles as a
        left join (select distinct article_id from mentions) as m using (article_id)
        where a.published_at >= $lo and a.published_at < $hi and a.run_id <> $run
        group by all order by day""", {"lo": lo, "hi": hi, "run": exclude_run}).fetchall()
    return [float(share) for _, share in rows]


def feed_states(con) -> dict[str, FeedState]:
    """What each feed and sitemap URL answered last; nothing for a database from before migration 004
    (a read-only connection does not migrate)."""
    import duckdb

    try:
        rows = con.execute("select url, source, etag, last_modified, body_sha256, status, checked_at "
                           "from feed_state").fetchall()
    except duckdb.CatalogException:
        return {}
    return {r[0]: FeedState(*r) for r in rows}


def stored_elsewhere(con, ids: list[str], urls: list[str], exclude_run: str) -> set[str]:
    """Which of these article ids and URLs another run stored: as an article, or as fetched bytes that did
    not make one. A database from before migration 008 has no `fetched`: articles only."""
    import duckdb

    articles = ("select article_id from articles where article_id in (select unnest($ids::varchar[])) "
                "and run_id <> $run")
    try:
        rows = con.execute(articles + """ union all
            select url from fetched where url in (select unnest($urls::varchar[])) and run_id <> $run""",
                           {"ids": ids, "urls": urls, "run": exclude_run}).fetchall()
    except duckdb.CatalogException:
        rows = con.execute(articles, {"ids": ids, "run": exclude_run}).fetchall()
    return {r[0] for r in rows}


def fingerprints_since(con, since, exclude_ids: list[str], exclude_run: str) -> list[dict]:
    """The dedupe fingerprints of articles published since `since` (or undated) of other runs, apart from
    the given ids: what a new batch is compared with."""
    return store.records(con, """
        select article_id, published_at, content_hash, minhash, duplicate_of from articles
        where run_id <> $run and (published_at is null or published_at >= $since)
          and article_id not in (select unnest($ids::varchar[]))""",
                         {"run": exclude_run, "since": since, "ids": exclude_ids})


def alert_states(con, run_id: str) -> tuple[int, int]:
    """(sent, not yet sent) of the run's own alerts: the same on a rerun, unlike what one delivery sent."""
    return con.execute("select count(*) filter (where status = 'sent'), count(*) filter (where status <> 'sent') "
                       "from alerts where run_id = $r", {"r": run_id}).fetchone()


def runs_starting(con, lo, hi) -> list[dict]:
    """The runs whose window starts in [lo, hi), each with its fetched rows and its discovery, fetch and
    robots.txt log: what a reprocess rebuilds them from."""
    runs = store.records(con, """
        select run_id, kind, logical_date, window_start, window_end, counts from runs
        where window_start >= $lo and window_start < $hi order by window_start, run_id""", {"lo": lo, "hi": hi})
    for r in runs:
        r["fetched"] = store.records(con, f"""
            select {", ".join(store.FETCHED_COLUMNS)} from fetched where run_id = $run order by url""",
                                     {"run": r["run_id"]})
        r["logs"] = store.records(con, """
            select source, url, stage, reason, http_status, attempts from fetch_log
            where run_id = $run and stage in ('discover', 'fetch', 'robots') order by all""", {"run": r["run_id"]})
    return runs


# ---------------------------------------------------------------- what the daily digest reads

# First copies with their publication day: a syndicated story counts once.
STORIES = """select article_id, cast(published_at as date) as day
             from articles where duplicate_of is null"""


def day_totals(con, day) -> tuple[int, int, int]:
    """(stories, articles with syndicated copies, distinct entities mentioned) published on `day`."""
    stories, articles = con.execute("""
        select count(*) filter (where duplicate_of is null), count(*)
        from articles where cast(published_at as date) = $day""", {"day": day}).fetchone()
    entities = con.execute("""
        select count(distinct m.entity_id)
        from mentions as m join articles as a using (article_id)
        where cast(a.published_at as date) = $day""", {"day": day}).fetchone()[0]
    return stories, articles, entities


def top_actors_of_day(con, day, limit: int = 5) -> list[tuple]:
    """(entity_id, name, type, stories) of the people and organisations in the most stories on `day`."""
    return con.execute(f"""
        with stories as ({STORIES})
        select e.entity_id, e.name, e.type, count(distinct m.article_id) as n
        from mentions as m
        join stories as s using (article_id)
        join entities as e using (entity_id)
        where s.day = $day and e.type in ('PERSON', 'ORG')
        group by all
        order by n desc, count(*) desc, e.name
        limit $n""", {"day": day, "n": limit}).fetchall()


def stories_per_entity_day(con, entity_ids: list[str], first, day) -> dict[tuple, int]:
    """(entity_id, day) -> stories, over first..day."""
    return dict(((eid, d), n) for eid, d, n in con.execute(f"""
        with stories as ({STORIES})
        select m.entity_id, s.day, count(distinct m.article_id)
        from mentions as m join stories as s using (article_id)
        where s.day between $first and $day and m.entity_id in (select unnest($ids::varchar[]))
        group by all""", {"first": first, "day": day, "ids": entity_ids}).fetchall())


def mapped_places(con, first, day) -> list[tuple]:
    """(name, country_code, latitude, longitude, stories) of the places with a point named over first..day."""
    return con.execute(f"""
        with stories as ({STORIES})
        select e.name, e.country_code, e.latitude, e.longitude, count(distinct m.article_id) as n
        from mentions as m
        join stories as s using (article_id)
        join entities as e using (entity_id)
        where s.day between $first and $day and e.type = 'LOCATION'
          and e.latitude is not null and e.longitude is not null
        group by all
        order by n desc, e.name""", {"first": first, "day": day}).fetchall()


def top_quotes_of_day(con, day) -> list[tuple]:
    """(speaker, text, url, title, source) of the day's top quotes: the most covered speakers first, at
    most two quotes each so one voice cannot fill the list."""
    return con.execute(f"""
        with stories as ({STORIES}),
        prominence as (
            select m.entity_id, count(distinct m.article_id) as n
            from mentions as m join stories as s using (article_id)
            where s.day = $day
            group by all
        )
        select e.name, c.text, a.url, a.title, a.source
        from claims as c
        join articles as a using (article_id)
        join entities as e on e.entity_id = c.speaker_entity_id
        left join prominence as p on p.entity_id = e.entity_id
        where c.kind = 'quote' and a.duplicate_of is null and cast(a.published_at as date) = $day
        qualify row_number() over (partition by e.entity_id order by a.published_at, a.article_id, c.start_char) <= 2
        order by coalesce(p.n, 0) desc, e.name, a.published_at, a.article_id, c.start_char
        limit 10""", {"day": day}).fetchall()


# ---------------------------------------------------------------- what the CLI reads

# An entity named by its canonical name or any alias, case-insensitively.
_NAMED = ("(select entity_id from entities where lower(name) = lower({p}) "
          "or list_contains(list_transform(aliases, lambda x: lower(x)), lower({p})))")


def latest_story_day(con):
    """The last day any story naming an entity was published on, None for an empty database."""
    return con.execute("select max(day) from entity_daily").fetchone()[0]


def latest_article_day(con):
    return con.execute("select max(cast(published_at as date)) from articles").fetchone()[0]


def top_entities(con, lo, hi, types: list[str], limit: int) -> list[tuple]:
    """(entity_id, name, type, stories, mentions) of the most covered entities of the days lo..hi."""
    return con.execute("""
        select d.entity_id, e.name, e.type, sum(d.stories) as stories, sum(d.mentions) as mentions
        from entity_daily as d
        inner join entities as e using (entity_id)
        where d.day between $lo and $hi and e.type in (select unnest($types::varchar[]))
        group by all order by stories desc, mentions desc, name limit $n""",
                       {"lo": lo, "hi": hi, "types": types, "n": limit}).fetchall()


def daily_stories(con, entity_ids: list[str], lo, hi) -> dict[str, dict]:
    """entity_id -> {day: stories} over lo..hi, for sparklines."""
    out: dict[str, dict] = {}
    for eid, day, n in con.execute("""
            select entity_id, day, stories from entity_daily
            where day between $lo and $hi and entity_id in (select unnest($ids::varchar[]))""",
                                   {"lo": lo, "hi": hi, "ids": entity_ids}).fetchall():
        out.setdefault(eid, {})[day] = n
    return out


def rising(con, day, types: list[str], limit: int) -> list[tuple]:
    """(name, type, stories, baseline_mean, ratio, z_score) of the entities rising on `day`."""
    return con.execute("""
        select name, type, stories, baseline_mean, ratio, z_score from rising_entities
        where day = $day and type in (select unnest($types::varchar[])) and stories >= 2
        order by ratio desc, z_score desc, name limit $n""", {"day": day, "types": types, "n": limit}).fetchall()


def quotes_of(con, speaker: str | None, about: str | None, limit: int) -> list[tuple]:
    """(day, speaker, text, source, url) of the latest quotes by `speaker` and/or naming `about` (each a
    name or alias; None: any)."""
    return con.execute(f"""
        select cast(q.published_at as date) as day, coalesce(q.speaker_name, q.speaker_as_written) as speaker,
               q.text, q.source, q.url
        from quotes as q
        where ($speaker is null or q.speaker_entity_id in {_NAMED.format(p="$speaker")})
          and ($about is null or q.claim_id in (select claim_id from claim_entities where role = 'mentioned'
                                                and entity_id in {_NAMED.format(p="$about")}))
        order by q.published_at desc nulls last, q.claim_id limit $n""",
                       {"speaker": speaker, "about": about, "n": limit}).fetchall()


def runs_of_day(con, day) -> list[tuple]:
    """(run_id, kind, status, counts JSON) of the runs whose window (or start, for an ingest) is on `day`."""
    return con.execute("""select run_id, kind, status, counts from runs
                          where cast(coalesce(window_start, started_at) as date) = $d order by run_id""",
                       {"d": day}).fetchall()


def checks_of_run(con, run_id: str) -> list[tuple]:
    """(table_name, check_name, severity, success, observed) of a run, failures first."""
    return con.execute("""select table_name, check_name, severity, success, observed from dq_results
                          where run_id = $r order by success, severity, table_name, check_name""",
                       {"r": run_id}).fetchall()


def fetch_log_of_run(con, run_id: str) -> list[tuple]:
    return con.execute("select stage, url, reason from fetch_log where run_id = $r order by 1, 2",
                       {"r": run_id}).fetchall()


def top_named(con, types: list[str], run_id: str | None = None, day=None, limit: int = 5):
    """(columns, rows) of the entities of these types most named in first copies: of a day's articles,
    or else of a run's."""
    return store.query(con, """
        select e.name, e.type, count(*) as mentions, count(distinct m.article_id) as articles
        from mentions as m
        join articles as a using (article_id)
        join entities as e using (entity_id)
        where (case when $day is null then a.run_id = $r else cast(a.published_at as date) = $day end)
          and a.duplicate_of is null and e.type in (select unnest($types::varchar[]))
        group by all order by articles desc, mentions desc, e.name limit $n""",
                 {"day": day, "r": run_id, "types": types, "n": limit})
