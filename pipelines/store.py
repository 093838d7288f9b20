"""DuckDB: versioned migrations, views, and the one-transaction load of a run."""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

from pipelines import searchindex
from pipelines.settings import REPO_ROOT

# A checkout has sql/ beside pipelines/; an installed wheel carries the same files as pipelines/sql.
SQL_DIR = (Path(__file__).parent / "sql") if (Path(__file__).parent / "sql").is_dir() else REPO_ROOT / "sql"
FETCHED_COLUMNS = ["url", "source", "local", "feed_title", "feed_published", "raw_sha256", "kind", "charset",
                   "http_status", "fetched_at", "language", "summary_sha256"]


# Nothing is fetched at run time: the extensions come from the locked duckdb-ext-* wheels, and DuckDB may
# neither install nor auto-load one (it would download it from its repository).
EXTENSIONS = ("fts",)
OFFLINE = {"autoinstall_known_extensions": False, "autoload_known_extensions": False,
           "allow_community_extensions": False}


class DatabaseBusy(RuntimeError):
    """Another process holds the DuckDB file."""


class DatabaseVersionError(RuntimeError):
    """The file was written by a DuckDB this one cannot read (2.0 files do not open in 1.4)."""


def extension_directory() -> Path:
    """Where the duckdb-ext-* wheels put their signed files: <site-packages>/duckdb_ext/extensions, laid
    out as DuckDB's own extension directory (v1.4.4/linux_amd64/fts.duckdb_extension), so `LOAD fts`
    finds them by name."""
    import duckdb_ext

    return Path(next(iter(duckdb_ext.__path__))) / "extensions"


def offline_config() -> dict:
    """The connection settings every Newsmon connection uses (README, Stack: DuckDB 1.4 LTS)."""
    return {**OFFLINE, "extension_directory": str(extension_directory())}


def load_extensions(con) -> None:
    """Load the extensions the schema's macros use, from the installed wheels, by path: so it works on
    any connection, ours or one opened without offline_config()."""
    for name in EXTENSIONS:
        path = next(extension_directory().glob(f"v*/*/{name}.duckdb_extension"), None)
        if path is None:
            raise RuntimeError(f"the DuckDB extension {name} is not installed: it comes from the duckdb-ext-{name} "
                               f"wheel in requirements.lock (`make venv`)")
        con.execute(f"load '{path}'")


def connect(path: Path, read_only: bool = False, wait_seconds: float = 30.0):
    """Open the database (migrated, views current). DuckDB allows one writing process: while another
    holds the file we wait up to wait_seconds, then fail with a message naming the file."""
    import duckdb

    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + wait_seconds
    while True:
        try:
            con = duckdb.connect(str(path), read_only=read_only, config=offline_config())
            break
        except duckdb.IOException as exc:
            if "created with an newer version" in str(exc) or "version number" in str(exc):
                raise DatabaseVersionError(
                    f"{path}: written by a newer DuckDB than {duckdb.__version__}, which cannot read it. Carry "
                    f"the data across: `newsmon db export DIR` under that DuckDB, then `newsmon db import DIR` "
                    f"(README, Upgrading)") from exc
            if "lock" not in str(exc).lower() or time.monotonic() > deadline:
                raise DatabaseBusy(f"{path}: database is in use by another process ({exc})") from exc
            time.sleep(0.5)
    load_extensions(con)
    if not read_only:
        migrate(con)
    return con


def migrate(con, upto: int | None = None) -> list[str]:
    """Apply sql/migrations/NNN_*.sql not yet recorded in schema_version, each in its own transaction,
    then (re)create the macros of sql/macros/ and every view in sql/views/, and index for search the runs
    the index does not hold (searchindex.repair). Returns the migrations applied.

    With `upto`, only the migrations numbered up to it are applied and the macros and views are left alone (they may
    read later columns): `newsmon db import` loads an older export at its own version, then migrates the
    rest, so later migrations' backfills run on the imported rows."""
    con.execute("create table if not exists schema_version (version integer primary key, name varchar, "
                "applied_at timestamp default current_timestamp)")
    done = {row[0] for row in con.execute("select version from schema_version").fetchall()}
    applied = []
    for path in sorted((SQL_DIR / "migrations").glob("*.sql")):
        version = int(path.name.split("_", 1)[0])
        if version in done or (upto is not None and version > upto):
            continue
        con.begin()
        try:
            con.execute(path.read_text(encoding="utf-8"))
            con.execute("insert into schema_version (version, name) values (?, ?)", [version, path.stem])
            con.commit()
        except Exception:
            con.rollback()
            raise
        applied.append(path.stem)
    if upto is None:
        load_extensions(con)  # the macros use fts's stemmer
        for path in sorted((SQL_DIR / "macros").glob("*.sql")):
            con.execute(path.read_text(encoding="utf-8"))
        _create_views(con, sorted((SQL_DIR / "views").glob("*.sql")))
        con.begin()
        try:
            searchindex.repair(con)
            con.commit()
        except Exception:
            con.rollback()
            raise
    return applied


def _create_views(con, paths: list[Path]) -> None:
    """Create each view; one that reads a view not made yet is retried after the others."""
    import duckdb

    pending = list(paths)
    while pending:
        failed = []
        for path in pending:
            try:
                con.execute(f"create or replace view {path.stem} as\n{path.read_text(encoding='utf-8')}")
            except duckdb.CatalogException:
                failed.append(path)
        if len(failed) == len(pending):  # no progress: report the first real error
            con.execute(f"create or replace view {failed[0].stem} as\n{failed[0].read_text(encoding='utf-8')}")
        pending = failed


def load_run(con, run: dict, frames: dict, dq_rows: list[dict], log_rows: list[dict], alert_rows_fn=None,
             content: bool = True, feed_state: list[dict] | None = None,
             fetched: list[dict] | None = None) -> dict:
    """Write one run in a single transaction: its articles (and their mentions and claims) replace the
    rows the same run wrote before and any older copy of the same articles; entities are recomputed
    from their mentions; dq_results and fetch_log for the run are replaced; new alerts are added.

    A failure anywhere rolls the whole run back: the database stays as it was.

    Args:
        con: a read-write connection.
        run: the runs row (run_id, kind, logical_date, window_start, window_end, started_at, status, counts).
        frames: DataFrames for articles, entities, mentions, claims (and claim_entities, their links).
        dq_rows, log_rows: dq_results and fetch_log rows for the run.
        alert_rows_fn: called with the connection inside the transaction after the content is written,
            with the run's own rows registered as run_articles, run_mentions and run_claims; returns the
            alert rows to add (existing alert ids are kept as they are).
        content: False for a quarantined batch: the content tables keep what they had.
        feed_state: what the run's feeds and sitemaps answered (written even for a quarantined batch: it
            is an HTTP cache, and a 304 re-reads the body it stands for). A row older than the stored one
            (a backfill) leaves the stored one as it is.
        fetched: every item the run fetched (the fetch stage's rows), replacing the run's earlier ones:
            with the stored bytes, what `reprocess` rebuilds the run from. Written for a quarantined batch too.

    Returns:
        Counts of what was written.
    """
    import pandas as pd

    run_id = run["run_id"]
    frames = {name: _typed(df) for name, df in frames.items()}
    articles = frames["articles"]
    entities = frames["entities"]
    con.begin()
    try:
        if content:
            _replace_content(con, run_id, frames)
        con.execute("delete from dq_results where run_id = $run", {"run": run_id})
        if dq_rows:
            con.register("batch_dq", pd.DataFrame(dq_rows))
            con.execute("insert into dq_results by name select * from batch_dq")
        con.execute("delete from fetch_log where run_id = $run", {"run": run_id})
        if log_rows:
            con.register("batch_log", pd.DataFrame(log_rows))
            con.execute("insert into fetch_log by name select * from batch_log")
        if fetched is not None:
            con.execute("delete from fetched where run_id = $run", {"run": run_id})
            if fetched:
                con.register("batch_fetched", pd.DataFrame(fetched).reindex(columns=FETCHED_COLUMNS))
                con.execute("insert into fetched by name select $run as run_id, * from batch_fetched",
                            {"run": run_id})
        if feed_state:
            con.register("batch_feed_state", pd.DataFrame(feed_state))
            con.execute("""
                insert into feed_state by name select * from batch_feed_state
                on conflict (url) do update set
                    source = excluded.source, etag = excluded.etag, last_modified = excluded.last_modified,
                    body_sha256 = excluded.body_sha256, status = excluded.status, checked_at = excluded.checked_at
                where excluded.checked_at >= feed_state.checked_at""")
        alerts = []
        if content and alert_rows_fn is not None:
            con.register("run_articles", articles.reindex(
                columns=["article_id", "title", "url", "text", "duplicate_of"]))
            con.register("run_mentions", frames["mentions"])
            con.register("run_claims", frames["claims"])
            alerts = alert_rows_fn(con)
        if alerts:
            # An alert id already present (a rerun, a backfill) keeps its row and its delivery status.
            con.register("batch_alerts", pd.DataFrame(alerts))
            con.execute("insert into alerts by name select * from batch_alerts on conflict do nothing")
        row = dict(run, counts=json.dumps(run.get("counts") or {}, sort_keys=True))
        con.execute("delete from runs where run_id = $run", {"run": run_id})
        con.register("batch_run", pd.DataFrame([row]))
        con.execute("insert into runs by name select * from batch_run")
        con.commit()
    except Exception:
        con.rollback()
        raise
    return {"articles": len(articles), "entities": len(entities), "alerts": len(alerts)}


def _typed(df):
    """The frame with its all-null object and float columns (every such column of an empty frame, as
    staging's Parquet gives it back) as strings. DuckDB 1.4 takes such a column for a number, and a join
    of an empty `run_mentions` with the run's articles then fails to cast their ids to it; a null string
    casts to any column type."""
    untyped = [c for c in df.columns if df[c].dtype in (object, "float64") and df[c].isna().all()]
    return df.astype({c: "string" for c in untyped}) if untyped else df


def _replace_content(con, run_id: str, frames: dict) -> None:
    """Replace the run's articles and their mentions and claims, and bring entity_forms, entity_daily
    and entities up to date by deltas: the new rows are added and the replaced rows subtracted, so a
    daily load reads its own rows and the few that it replaces, never the whole history."""
    con.execute("create or replace temp table delta_mentions (sign integer, article_id varchar, day date, "
                "counted boolean, entity_id varchar, form varchar, surface varchar)")
    # What the run loaded before (a rerun) goes first; rows of a run sit together, so this is cheap.
    _drop_articles(con, [r[0] for r in con.execute(
        "select article_id from articles where run_id = $run", {"run": run_id}).fetchall()])
    articles = frames["articles"]
    if len(articles):
        con.register("batch_rows", articles)
        new = {r[0] for r in con.execute(
            "insert into articles by name select * from batch_rows on conflict do nothing returning article_id"
        ).fetchall()}
        con.unregister("batch_rows")
        # Stored by another run (a reprocess, a re-ingest): replace that copy with this one.
        moved = [a for a in articles["article_id"] if a not in new]
        if moved:
            _drop_articles(con, moved)
            con.register("batch_rows", articles[articles["article_id"].isin(moved)])
            con.execute("insert into articles by name select * from batch_rows")
            con.unregister("batch_rows")
    for table in ("mentions", "claims", "claim_entities"):
        df = frames.get(table)
        if df is not None and len(df):
            con.register("batch_rows", df)
            con.execute(f"insert into {table} by name select * from batch_rows")
            con.unregister("batch_rows")
    if len(frames["mentions"]):
        con.register("batch_mentions", frames["mentions"][["article_id", "entity_id", "form", "surface"]])
        con.register("batch_articles", articles.reindex(columns=["article_id", "published_at", "duplicate_of"]))
        con.execute("""
            insert into delta_mentions
            select 1, m.article_id, cast(a.published_at as date),
                   a.duplicate_of is null and a.published_at is not null, m.entity_id, m.form, m.surface
            from batch_mentions as m
            inner join batch_articles as a on a.article_id = m.article_id""")
    _apply_deltas(con)
    _write_entities(con, frames["entities"])
    con.execute("drop table delta_mentions")
    searchindex.repair(con, (run_id,))


def _drop_articles(con, article_ids: list[str]) -> None:
    """Delete articles with their mentions, claims and claim links; the mentions removed become negative deltas."""
    if not article_ids:
        return
    params = {"ids": article_ids}
    con.execute("""
        insert into delta_mentions
        select -1, m.article_id, cast(a.published_at as date),
               a.duplicate_of is null and a.published_at is not null, m.entity_id, m.form, m.surface
        from mentions as m
        inner join articles as a on a.article_id = m.article_id
        where m.article_id in (select unnest($ids::varchar[]))""", params)
    for table in ("mentions", "claim_entities", "claims", "articles"):
        con.execute(f"delete from {table} where article_id in (select unnest($ids::varchar[]))", params)


def _apply_deltas(con) -> None:
    con.execute("""
        insert into entity_forms
        select entity_id, form, regexp_replace(surface, '\\s+', ' ', 'g') as surface, sum(sign) as mentions
        from delta_mentions
        group by all
        having sum(sign) <> 0
        on conflict do update set mentions = mentions + excluded.mentions""")
    # An article adds one story per entity it names, however often it names it.
    con.execute("""
        insert into entity_daily
        select day, entity_id, sum(sign) as mentions, sum(sign) filter (where first_of_article) as stories
        from (
            select *, row_number() over (partition by sign, article_id, entity_id) = 1 as first_of_article
            from delta_mentions
            where counted
        )
        group by all
        having sum(sign) <> 0 or sum(sign) filter (where first_of_article) <> 0
        on conflict do update set mentions = mentions + excluded.mentions, stories = stories + excluded.stories""")
    if con.execute("select count(*) from delta_mentions where sign < 0").fetchone()[0]:
        # Only a replacement can bring a count to zero.
        con.execute("delete from entity_forms where mentions <= 0")
        con.execute("delete from entity_daily where mentions <= 0")


def refresh_entity_daily(con, days: list) -> None:
    """Recount the entity_daily mart for these publication days from the articles and mentions (loads
    keep it current by deltas; this is the reference they are tested against)."""
    if not days:
        return
    params = {"days": days}
    con.execute("delete from entity_daily where day in (select unnest($days::date[]))", params)
    con.execute("""
        insert into entity_daily
        select cast(a.published_at as date) as day, m.entity_id, count(*), count(distinct m.article_id)
        from articles as a
        inner join mentions as m on m.article_id = a.article_id
        where a.duplicate_of is null and cast(a.published_at as date) in (select unnest($days::date[]))
        group by all
        -- Rows of a day together, as daily loads append them: day filters then skip the other days.
        order by day""", params)


def _write_entities(con, batch) -> None:
    """Bring the entities the load touched up to date: the batch's new ones and those whose type or place
    changed (a new gazetteer), and those whose mentions changed. An entity's name is its most frequent
    full form; its aliases are the other names its mentions used; an entity no mention points at any more
    is removed. Derived from entity_forms (the mentions' counts), so the result does not depend on the
    order runs were loaded in.

    Each changed row is deleted and inserted once, in this one place: DuckDB 1.4 reported a duplicate key
    when a large batch of rows the transaction had inserted was then updated or deleted and inserted
    again (an ingest of 1,165 pages failed so), and rewriting the thousands of unchanged rows would cost
    more than the rest of the load."""
    con.register("batch_entities", batch.reindex(columns=["entity_id", "type", "country_code", "latitude",
                                                           "longitude", "geonames_id", "precision"]))
    con.execute("""
        create or replace temp table touched as
        select entity_id from delta_mentions union select entity_id from batch_entities""")
    con.execute("""
        create or replace temp table changed as
        with forms as (
            select entity_id, form, sum(mentions) as n
            from entity_forms
            where entity_id in (select entity_id from touched)
            group by entity_id, form
        ),
        best as (
            select entity_id, first(form order by n desc, length(form) desc, form) as name
            from forms
            group by entity_id
        ),
        variants as (
            select entity_id, list_sort(list(distinct surface)) as names
            from entity_forms
            where entity_id in (select entity_id from touched)
            group by entity_id
        ),
        -- The batch's type and place where it has the entity, else what is stored.
        attributes as (
            select * from batch_entities
            union all
            select entity_id, type, country_code, latitude, longitude, geonames_id, precision
            from entities
            where entity_id in (select entity_id from touched)
              and entity_id not in (select entity_id from batch_entities)
        ),
        wanted as (
            select a.entity_id, best.name, a.type,
                   list_filter(variants.names, lambda x: x <> best.name) as aliases,
                   a.country_code, a.latitude, a.longitude, a.geonames_id, a.precision
            from attributes as a
            inner join best using (entity_id)
            inner join variants using (entity_id)
        )
        select w.*
        from wanted as w
        left join entities as e using (entity_id)
        where e.entity_id is null
           or (e.name, e.type, e.aliases, e.country_code, e.latitude, e.longitude, e.geonames_id, e.precision)
              is distinct from (w.name, w.type, w.aliases, w.country_code, w.latitude, w.longitude,
                                w.geonames_id, w.precision)""")
    con.execute("""
        delete from entities
        where entity_id in (select entity_id from changed)
           or (entity_id in (select entity_id from touched)
               and entity_id not in (select entity_id from entity_forms
                                     where entity_id in (select entity_id from touched)))""")
    con.execute("insert into entities by name select * from changed")
    con.unregister("batch_entities")
    con.execute("drop table touched")
    con.execute("drop table changed")


def finish_run(con, run_id: str, counts: dict, finished_at) -> None:
    """A run's final counts and when it finished (wall clock: operational only)."""
    con.execute("update runs set counts = $c, finished_at = $f where run_id = $r",
                {"c": json.dumps(counts, sort_keys=True), "r": run_id, "f": finished_at})


def snapshot_path(db_path: Path) -> Path:
    """Where the read-only copy of a database is published: newsmon.duckdb -> newsmon.read.duckdb."""
    return db_path.with_name(db_path.stem + ".read" + db_path.suffix)


def publish_snapshot(con, db_path: Path) -> Path:
    """Copy the database, as committed, to a new file and rename it over the published snapshot.

    DuckDB lets one process hold a file for writing and then no other may open it, not even to read.
    Analysts therefore read the snapshot, which is replaced atomically after each run. A reader that
    has the old snapshot open keeps a consistent view until it reconnects.

    The copy is of the file's bytes after a checkpoint (everything committed is in the file and the WAL
    is empty; this connection holds the write lock, so nothing changes meanwhile): a sequential copy at
    disk speed, where a logical COPY FROM DATABASE rebuilds every table and index.
    """
    target = snapshot_path(db_path)
    tmp = target.with_name(target.name + ".tmp")
    con.execute("checkpoint")
    shutil.copyfile(db_path, tmp)
    os.replace(tmp, target)
    return target


def records(con, sql: str, params: dict | None = None) -> list[dict]:
    """Run one query and return its rows as dicts keyed by column name."""
    cur = con.execute(sql, params or {})
    cols = [d[0] for d in cur.description]
    return [dict(zip(cols, row, strict=True)) for row in cur.fetchall()]


def query(con, sql: str, params: dict | None = None):
    """Run one statement and return (column names, rows)."""
    cur = con.execute(sql, params or {})
    if cur.description is None:
        return [], []
    return [d[0] for d in cur.description], cur.fetchall()
