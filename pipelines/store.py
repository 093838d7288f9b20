"""DuckDB: versioned migrations, views, and the one-transaction load of a run."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from pipelines.settings import REPO_ROOT

SQL_DIR = REPO_ROOT / "sql"
CONTENT_TABLES = ("articles", "mentions", "claims")


class DatabaseBusy(RuntimeError):
    """Another process holds the DuckDB file."""


def connect(path: Path, read_only: bool = False, wait_seconds: float = 30.0):
    """Open the database (migrated, views current). DuckDB allows one writing process: while another
    holds the file we wait up to wait_seconds, then fail with a message naming the file."""
    import duckdb

    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + wait_seconds
    while True:
        try:
            con = duckdb.connect(str(path), read_only=read_only)
            break
        except duckdb.IOException as exc:
            if "lock" not in str(exc).lower() or time.monotonic() > deadline:
                raise DatabaseBusy(f"{path}: database is in use by another process ({exc})") from exc
            time.sleep(0.5)
    if not read_only:
        migrate(con)
    return con


def migrate(con) -> list[str]:
    """Apply sql/migrations/NNN_*.sql not yet recorded in schema_version, each in its own transaction,
    then (re)create every view in sql/views/. Returns the migrations applied."""
    con.execute("create table if not exists schema_version (version integer primary key, name varchar, "
                "applied_at timestamp default current_timestamp)")
    done = {row[0] for row in con.execute("select version from schema_version").fetchall()}
    applied = []
    for path in sorted((SQL_DIR / "migrations").glob("*.sql")):
        version = int(path.name.split("_", 1)[0])
        if version in done:
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
    _create_views(con, sorted((SQL_DIR / "views").glob("*.sql")))
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
             content: bool = True) -> dict:
    """Write one run in a single transaction: its articles (and their mentions and claims) replace the
    rows the same run wrote before and any older copy of the same articles; entities are recomputed
    from their mentions; dq_results and fetch_log for the run are replaced; new alerts are added.

    A failure anywhere rolls the whole run back: the database stays as it was.

    Args:
        con: a read-write connection.
        run: the runs row (run_id, kind, logical_date, window_start, window_end, started_at, status, counts).
        frames: DataFrames for articles, entities, mentions, claims.
        dq_rows, log_rows: dq_results and fetch_log rows for the run.
        alert_rows_fn: called with the connection inside the transaction after the content is written;
            returns the alert rows to add (existing alert ids are kept as they are).
        content: False for a quarantined batch: the content tables keep what they had.

    Returns:
        Counts of what was written.
    """
    import pandas as pd

    run_id = run["run_id"]
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
        alerts = alert_rows_fn(con) if content and alert_rows_fn is not None else []
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


def _replace_content(con, run_id: str, frames: dict) -> None:
    con.register("batch_articles", frames["articles"][["article_id", "published_at"]])
    stale = "select article_id from articles where run_id = $run union select article_id from batch_articles"
    touched = {r[0] for r in con.execute(
        f"select distinct entity_id from mentions where article_id in ({stale})", {"run": run_id}).fetchall()}
    days = [r[0] for r in con.execute(f"""
        select distinct cast(published_at as date) from articles where article_id in ({stale})
        union select distinct cast(published_at as date) from batch_articles""", {"run": run_id}).fetchall()
        if r[0] is not None]
    for table in ("mentions", "claims", "articles"):
        con.execute(f"delete from {table} where article_id in ({stale})", {"run": run_id})
    for table in CONTENT_TABLES:
        df = frames[table]
        if len(df):
            con.register("batch_rows", df)
            con.execute(f"insert into {table} by name select * from batch_rows")
            con.unregister("batch_rows")
    entities = frames["entities"]
    touched |= set(entities["entity_id"])
    if len(entities):
        con.register("batch_entities", entities)
        con.execute("""
            insert or replace into entities by name
            select entity_id, name, type, []::varchar[] as aliases, country_code, latitude, longitude,
                   geonames_id, precision
            from batch_entities""")
    _refresh_entities(con, sorted(touched))
    refresh_entity_daily(con, days)


def refresh_entity_daily(con, days: list) -> None:
    """Recount the entity_daily mart for the publication days this load touched."""
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
        group by all""", params)


def _refresh_entities(con, entity_ids: list[str]) -> None:
    """An entity's name is its most frequent full form; its aliases are the other names its mentions
    used; an entity no mention points at any more is removed. Derived from mentions, so the result
    does not depend on the order runs were loaded in."""
    if not entity_ids:
        return
    con.execute("create or replace temp table touched as select unnest($ids::varchar[]) as entity_id",
                {"ids": entity_ids})
    con.execute("""
        delete from entities
        where entity_id in (select entity_id from touched)
          and entity_id not in (select entity_id from mentions)""")
    con.execute("""
        with forms as (
            select m.entity_id, m.form, count(*) as n
            from mentions as m
            where m.entity_id in (select entity_id from touched)
            group by m.entity_id, m.form
        ),
        best as (
            select entity_id, first(form order by n desc, length(form) desc, form) as name
            from forms
            group by entity_id
        ),
        variants as (
            select m.entity_id, list_sort(list(distinct regexp_replace(m.surface, '\\s+', ' ', 'g'))) as names
            from mentions as m
            where m.entity_id in (select entity_id from touched)
            group by m.entity_id
        )
        update entities
        set name = best.name,
            aliases = list_filter(variants.names, lambda x: x <> best.name)
        from best, variants
        where entities.entity_id = best.entity_id and variants.entity_id = best.entity_id""")
    con.execute("drop table touched")


def snapshot_path(db_path: Path) -> Path:
    """Where the read-only copy of a database is published: newsmon.duckdb -> newsmon.read.duckdb."""
    return db_path.with_name(db_path.stem + ".read" + db_path.suffix)


def publish_snapshot(con, db_path: Path) -> Path:
    """Copy the database, as committed, to a new file and rename it over the published snapshot.

    DuckDB lets one process hold a file for writing and then no other may open it, not even to read.
    Analysts therefore read the snapshot, which is replaced atomically after each run. A reader that
    has the old snapshot open keeps a consistent view until it reconnects.
    """
    target = snapshot_path(db_path)
    tmp = target.with_name(target.name + ".tmp")
    tmp.unlink(missing_ok=True)
    source = con.execute("select current_database()").fetchone()[0]
    con.execute(f"attach '{_sql_string(str(tmp))}' as newsmon_snapshot")
    try:
        con.execute(f'copy from database "{source}" to newsmon_snapshot')
    finally:
        con.execute("detach newsmon_snapshot")
    os.replace(tmp, target)
    return target


def _sql_string(value: str) -> str:
    return value.replace("'", "''")


def query(con, sql: str, params: dict | None = None):
    """Run one statement and return (column names, rows)."""
    cur = con.execute(sql, params or {})
    if cur.description is None:
        return [], []
    return [d[0] for d in cur.description], cur.fetchall()
