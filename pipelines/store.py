"""DuckDB: versioned migrations, views, and the one-transaction load of a run."""

from __future__ import annotations

import json
import os
import random
import shutil
import time
from pathlib import Path

from pipelines import lake, searchindex
from pipelines.lake import Lake
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


def load_extensions(con, names: tuple[str, ...] = EXTENSIONS) -> None:
    """Load extensions (by default those the schema's macros use) from the installed wheels, by path: so
    it works on any connection, ours or one opened without offline_config()."""
    for name in names:
        path = next(extension_directory().glob(f"v*/*/{name}.duckdb_extension"), None)
        if path is None:
            wheel = "postgres" if name == "postgres_scanner" else name
            raise RuntimeError(f"the DuckDB extension {name} is not installed: it comes from the duckdb-ext-{wheel} "
                               f"wheel in requirements.lock (`make venv`)")
        con.execute(f"load '{path}'")


def connect(path: Path | Lake, read_only: bool = False, wait_seconds: float = 30.0):
    """Open the database (migrated, views current): a DuckDB file, or a lake (pipelines/lake.py). DuckDB
    allows one writing process per file: while another holds it we wait up to wait_seconds, then fail
    with a message naming the file. A lake takes many writers and readers at once."""
    import duckdb

    if isinstance(path, Lake):
        return _connect_lake(path, read_only, wait_seconds)
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


def _connect_lake(target: Lake, read_only: bool, wait_seconds: float):
    """A connection of its own (in memory) with the lake attached as its current database; migrated when
    writing, its macros defined for this connection either way. Two workers starting together may both
    migrate: the one whose commit conflicts tries again, then finds the work done."""
    import duckdb

    con = duckdb.connect(config=offline_config())
    load_extensions(con)
    lake.attach(con, target, read_only)
    if read_only:
        _create_macros(con)
        return con
    deadline = time.monotonic() + wait_seconds
    while True:
        try:
            migrate(con)
            return con
        except duckdb.TransactionException:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def exists(path: Path | Lake) -> bool:
    """Whether the database has been created (a lake: whether its catalog answers and holds the schema)."""
    if not isinstance(path, Lake):
        return path.exists()
    import duckdb

    con = duckdb.connect(config=offline_config())
    try:
        lake.attach(con, path, read_only=True)
        return bool(con.execute("select count(*) from duckdb_tables() where database_name = $db "
                                "and table_name = 'schema_version'", {"db": lake.ALIAS}).fetchone()[0])
    except lake.LakeError:
        return False
    finally:
        con.close()


def migrate(con, upto: int | None = None) -> list[str]:
    """Apply sql/migrations/NNN_*.sql not yet recorded in schema_version, each in its own transaction,
    then (re)create the macros of sql/macros/ and every view in sql/views/, and index for search the runs
    the index does not hold (searchindex.repair). Returns the migrations applied.

    With `upto`, only the migrations numbered up to it are applied and the macros and views are left alone (they may
    read later columns): `newsmon db import` loads an older export at its own version, then migrates the
    rest, so later migrations' backfills run on the imported rows."""
    in_lake = lake.is_lake(con)
    ddl = lake.for_lake if in_lake else str
    con.execute(ddl("create table if not exists schema_version (version integer primary key, name varchar, "
                    "applied_at timestamp default current_timestamp)"))
    done = {row[0] for row in con.execute("select version from schema_version").fetchall()}
    applied = []
    for path in sorted((SQL_DIR / "migrations").glob("*.sql")):
        version = int(path.name.split("_", 1)[0])
        if version in done or (upto is not None and version > upto):
            continue
        con.begin()
        try:
            con.execute(ddl(path.read_text(encoding="utf-8")))
            con.execute("insert into schema_version (version, name, applied_at) values (?, ?, current_timestamp)",
                        [version, path.stem])
            con.commit()
        except Exception:
            rollback(con)
            raise
        applied.append(path.stem)
    if upto is None:
        _create_macros(con)
        _create_views(con, sorted((SQL_DIR / "views").glob("*.sql")))
        con.begin()
        try:
            searchindex.repair(con)
            con.commit()
        except Exception:
            rollback(con)
            raise
    return applied


def _create_macros(con) -> None:
    """The macros of sql/macros/: kept in a DuckDB file, so its readers have them; a lake keeps none, so
    each connection to it makes them for itself."""
    load_extensions(con)  # the macros use fts's stemmer
    con.execute(macros_sql(for_lake=lake.is_lake(con)))


def macros_sql(for_lake: bool = False) -> str:
    """The macros of sql/macros/ in order, as one script (for a lake: temporary ones, and loading the fts
    extension they use first, as a duckdb CLI session needs)."""
    script = "\n".join(p.read_text(encoding="utf-8") for p in sorted((SQL_DIR / "macros").glob("*.sql")))
    return "load fts;\n" + lake.for_lake(script) if for_lake else script


def _create_views(con, paths: list[Path]) -> None:
    """Create each view; one that reads a view not made yet is retried after the others. In a lake a view
    already as its file says is left alone: each creation is a commit, a snapshot of the lake, and every
    writing connection would otherwise make a dozen, and conflict with another worker's."""
    import duckdb

    in_lake = lake.is_lake(con)
    pending = [p for p in paths if not (in_lake and _view_is_current(con, p))]
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


def _view_is_current(con, path: Path) -> bool:
    """Whether the view exists with the definition its file gives (compared as DuckDB renders both: a
    temporary view of the file's query, which the lake never sees)."""
    import duckdb

    held = con.execute("select sql from duckdb_views() where database_name = current_database() "
                       "and view_name = $v", {"v": path.stem}).fetchone()
    if held is None:
        return False
    try:
        con.execute(f"create or replace temp view newsmon_view_probe as\n{path.read_text(encoding='utf-8')}")
    except duckdb.CatalogException:
        return False
    wanted = con.execute("select sql from duckdb_views() where view_name = 'newsmon_view_probe' "
                         "and temporary").fetchone()[0]
    con.execute("drop view newsmon_view_probe")
    return wanted.replace("CREATE TEMP VIEW newsmon_view_probe", f"CREATE VIEW {path.stem}", 1) == held[0]


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
        Counts of what was written, with the attempts it took and the seconds it waited for the lake's
        writer lock.

    On a lake the loads of several processes commit one after another: each holds the lake's writer lock
    (lake.writer_lock) for its transaction. Another writer may still commit first and conflict with this
    one: the transaction is rolled back and done again, up to LOAD_ATTEMPTS times, on the lake as the
    other left it. Done again, a load of the same run finds its own rows and changes nothing.
    """
    import duckdb

    frames = {name: _typed(df) for name, df in frames.items()}
    attempt = 1
    with lake.writer_lock(con) as waited:
        while True:
            try:
                return {**_write_run(con, run, frames, dq_rows, log_rows, alert_rows_fn, content, feed_state,
                                     fetched), "attempts": attempt, "lock_wait": round(waited, 3)}
            except duckdb.TransactionException as exc:
                if "conflict" not in str(exc).lower() or attempt == LOAD_ATTEMPTS:
                    raise
            # Apart, so that two loads that conflicted do not meet again at the same moment.
            time.sleep(random.uniform(0.1, 0.5) * 2 ** (attempt - 1))
            attempt += 1


# Tries of a load whose commit conflicts with another writer's. Loads and `db optimize` wait for each
# other at the lake's writer lock; a conflict then comes from a writer that does not take it (another
# tool, or a load whose lock connection was cut while DuckLake's own went on).
LOAD_ATTEMPTS = 6


def _write_run(con, run, frames, dq_rows, log_rows, alert_rows_fn, content, feed_state, fetched) -> dict:
    """load_run's one transaction."""
    import pandas as pd

    run_id = run["run_id"]
    articles = frames["articles"]
    entities = frames["entities"]
    con.begin()
    try:
        con.execute("update load_clock set loads = loads + 1")  # overlapping loads conflict (migration 013)
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
            # Replaced by delete and insert, here and below, not ON CONFLICT: a lake has no keys to conflict on.
            con.register("batch_feed_state", pd.DataFrame(feed_state))
            con.execute("""
                create or replace temp table newer_feed_state as
                select b.* from batch_feed_state as b
                left join feed_state as f using (url)
                where f.url is null or b.checked_at >= f.checked_at""")
            con.execute("delete from feed_state where url in (select url from newer_feed_state)")
            con.execute("insert into feed_state by name select * from newer_feed_state")
            con.execute("drop table newer_feed_state")
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
            con.execute("insert into alerts by name select * from batch_alerts "
                        "where alert_id not in (select alert_id from alerts)")
        row = dict(run, counts=json.dumps(run.get("counts") or {}, sort_keys=True))
        con.execute("delete from runs where run_id = $run", {"run": run_id})
        con.register("batch_run", pd.DataFrame([row]))
        con.execute("insert into runs by name select * from batch_run")
        con.commit()
    except Exception:
        rollback(con)
        raise
    return {"articles": len(articles), "entities": len(entities), "alerts": len(alerts)}


def rollback(con) -> None:
    """Roll back the open transaction, if any: a commit that failed (a lake's conflict) has ended it, and
    an error here would hide the one that matters."""
    import duckdb

    try:
        con.rollback()
    except duckdb.TransactionException:
        pass


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
        # Stored by another run (a reprocess, a re-ingest): replace that copy with this one.
        _drop_articles(con, [r[0] for r in con.execute(
            "select article_id from articles where article_id in (select unnest($ids::varchar[]))",
            {"ids": list(articles["article_id"])}).fetchall()])
        con.register("batch_rows", articles)
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
    """Add the deltas to the marts: each touched row is read, summed with its delta, deleted and written
    back (a row whose count comes to zero is not), so the marts read only the rows the load touches."""
    con.execute("""
        create or replace temp table delta_forms as
        select entity_id, form, regexp_replace(surface, '\\s+', ' ', 'g') as surface, sum(sign) as mentions
        from delta_mentions
        group by all
        having sum(sign) <> 0""")
    # An article adds one story per entity it names, however often it names it.
    con.execute("""
        create or replace temp table delta_daily as
        select day, entity_id, sum(sign) as mentions, sum(sign) filter (where first_of_article) as stories
        from (
            select *, row_number() over (partition by sign, article_id, entity_id) = 1 as first_of_article
            from delta_mentions
            where counted
        )
        group by all
        having sum(sign) <> 0 or sum(sign) filter (where first_of_article) <> 0""")
    con.execute("""
        create or replace temp table merged_forms as
        select entity_id, form, surface, sum(mentions) as mentions
        from (
            select * from delta_forms
            union all
            select f.* from entity_forms as f semi join delta_forms as d using (entity_id, form, surface)
        )
        group by all""")
    con.execute("""
        create or replace temp table merged_daily as
        select day, entity_id, sum(mentions) as mentions, sum(stories) as stories
        from (
            select * from delta_daily
            union all
            select e.* from entity_daily as e semi join delta_daily as d using (day, entity_id)
            where e.day in (select day from delta_daily)
        )
        group by all""")
    con.execute("delete from entity_forms where (entity_id, form, surface) in "
                "(select (entity_id, form, surface) from merged_forms)")
    con.execute("delete from entity_daily where day in (select day from merged_daily) and "
                "(day, entity_id) in (select (day, entity_id) from merged_daily)")
    # Only a replacement can bring a count to zero; such a row is not written back.
    con.execute("insert into entity_forms by name select * from merged_forms where mentions > 0")
    con.execute("insert into entity_daily by name select * from merged_daily where mentions > 0 "
                "order by day, entity_id")
    for table in ("delta_forms", "delta_daily", "merged_forms", "merged_daily"):
        con.execute(f"drop table {table}")


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


def publish_snapshot(con, db_path: Path | Lake) -> Path | None:
    """Copy the database, as committed, to a new file and rename it over the published snapshot.

    DuckDB lets one process hold a file for writing and then no other may open it, not even to read.
    Analysts therefore read the snapshot, which is replaced atomically after each run. A lake needs none. A reader that
    has the old snapshot open keeps a consistent view until it reconnects.

    The copy is of the file's bytes after a checkpoint (everything committed is in the file and the WAL
    is empty; this connection holds the write lock, so nothing changes meanwhile): a sequential copy at
    disk speed, where a logical COPY FROM DATABASE rebuilds every table and index.
    """
    if isinstance(db_path, Lake):
        return None  # readers attach the lake itself and see its last committed snapshot
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
