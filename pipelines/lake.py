"""The DuckLake backend (NEWSMON_STORAGE=ducklake): the same tables in a lake whose catalog is a PostgreSQL
database and whose data files are Parquet in a folder or under s3://. Several processes on several
machines write to it (each commit is a snapshot; loads take turns at the writer lock, and a conflicting
commit is retried by store.load_run), and analysts attach it read-only from anywhere, seeing the last
committed snapshot."""

from __future__ import annotations

import re
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from urllib.parse import urlsplit

# DuckLake 1.4.4 refuses PRIMARY KEY and UNIQUE constraints, defaults other than literals, and macros
# stored in the lake (`Not implemented Error`, tried on the migrations). The loads never rely on the
# constraints (store.load_run replaces rows by delete and insert), so the lake gets the same tables
# without them, and every connection defines the macros for itself as temporary ones.
_TABLE_KEY = re.compile(r",\s*(primary\s+key|unique)\s*\([^)]*\)", re.IGNORECASE)
_COLUMN_KEY = re.compile(r"\s+(primary\s+key|unique)\b(?=\s*[,)\n])", re.IGNORECASE)
_DEFAULT = re.compile(r"\s+default\s+(current_timestamp|now\(\)|nextval\([^)]*\))", re.IGNORECASE)
# A boolean default is taken only as a string ('false'), which DuckLake casts.
_BOOLEAN_DEFAULT = re.compile(r"\bdefault\s+(true|false)\b", re.IGNORECASE)
_MACRO = re.compile(r"\bcreate\s+or\s+replace\s+macro\b", re.IGNORECASE)
_PASSWORD = re.compile(r"(password\s*=\s*)(\S+)", re.IGNORECASE)
# The name the lake is attached under in every connection (and in the ATTACH line analysts use).
ALIAS = "lake"
# The PostgreSQL advisory lock the loads take on the lake's catalog database ('newsmon' in ASCII); such
# locks are per database, so lakes sharing a server do not wait for each other.
WRITER_LOCK = 0x6E6577736D6F6E
# How long a writer waits for that lock: longer than any one load takes, so it only ends a wait behind a
# writer that hangs.
WRITER_WAIT_SECONDS = 3600.0


class LakeError(RuntimeError):
    """The lake's catalog cannot be reached or is not set up; the message names the setting."""


@dataclass(frozen=True)
class S3:
    """An S3 endpoint and its credentials (NEWSMON_S3_*). endpoint: empty for AWS itself, else the URL of
    an S3-compatible server (http://minio:9000), addressed by path."""

    endpoint: str = ""
    region: str = "us-east-1"
    key_id: str = ""
    secret: str = field(default="", repr=False)

    def secret_sql(self, name: str = "newsmon_s3") -> str:
        """A DuckDB secret for httpfs (temporary: it lives with the connection, never in a file)."""
        options = {"TYPE": "s3", "KEY_ID": self.key_id, "SECRET": self.secret, "REGION": self.region}
        if self.endpoint:
            url = urlsplit(self.endpoint)
            options |= {"ENDPOINT": url.netloc or url.path, "URL_STYLE": "path",
                        "USE_SSL": "true" if url.scheme == "https" else "false"}
        body = ", ".join(f"{k} {v}" if k == "USE_SSL" else f"{k} '{_quote(v)}'" for k, v in options.items())
        return f"CREATE OR REPLACE TEMPORARY SECRET {name} ({body})"


@dataclass(frozen=True)
class Lake:
    """Where a lake lives: catalog, a libpq connection string to a PostgreSQL database of its own (never
    Airflow's); data, the folder or s3://bucket/prefix/ its Parquet files go to (with s3, the endpoint
    and credentials for it)."""

    catalog: str
    data: str
    s3: S3 | None = None

    def __str__(self) -> str:
        """For messages and logs: the catalog with its password masked."""
        catalog = _PASSWORD.sub(r"\1***", self.catalog)
        return f"ducklake:postgres:{catalog} (data {self.data})"

    def attach_sql(self, read_only: bool = False, snapshot: int | None = None) -> str:
        """The ATTACH statement, as an analyst would type it in the duckdb CLI (at a snapshot: read-only,
        the tables as that commit left them)."""
        data = self.data if self.data.endswith("/") else self.data + "/"
        options = [f"DATA_PATH '{_quote(data)}'"] + (["READ_ONLY"] if read_only or snapshot is not None else [])
        if snapshot is not None:
            options.append(f"SNAPSHOT_VERSION {int(snapshot)}")
        return f"ATTACH 'ducklake:postgres:{_quote(self.catalog)}' AS {ALIAS} ({', '.join(options)})"


def for_lake(sql: str) -> str:
    """A migration's or macro file's SQL as DuckLake takes it: without key constraints and non-literal
    defaults, and with its macros temporary (kept by the connection, not the lake)."""
    sql = _TABLE_KEY.sub("", sql)
    sql = _COLUMN_KEY.sub("", sql)
    sql = _DEFAULT.sub("", sql)
    sql = _BOOLEAN_DEFAULT.sub(lambda m: f"default '{m.group(1).lower()}'", sql)
    return _MACRO.sub("create or replace temp macro", sql)


def is_lake(con) -> bool:
    """Whether the connection's current database is a lake."""
    return bool(con.execute("select type = 'ducklake' from duckdb_databases() "
                            "where database_name = current_database()").fetchone()[0])


def attach(con, lake: Lake, read_only: bool = False, snapshot: int | None = None) -> None:
    """Attach the lake to a connection and make it the current database. The extensions come from the
    locked wheels (store.load_extensions); httpfs only for data on s3://."""
    import duckdb

    from pipelines import store

    on_s3 = lake.data.startswith("s3://")
    store.load_extensions(con, ("postgres_scanner", "ducklake") + (("httpfs",) if on_s3 else ()))
    if on_s3:
        con.execute((lake.s3 or S3()).secret_sql())
    try:
        con.execute(lake.attach_sql(read_only, snapshot))
    except duckdb.Error as exc:
        said = _PASSWORD.sub(r"\1***", str(exc).splitlines()[0])  # DuckDB's message repeats the catalog string
        raise LakeError(f"{lake}: cannot attach the lake ({said}); check NEWSMON_LAKE_CATALOG (its PostgreSQL "
                        "database must exist) and NEWSMON_LAKE_DATA") from None
    con.execute(f"use {ALIAS}")


def snapshot(con) -> int:
    """The lake's current snapshot id (at an attached snapshot, that one)."""
    return con.execute(f"select id from ducklake_current_snapshot('{ALIAS}')").fetchone()[0]


def resolve_snapshot(con, as_of: str | None) -> tuple[int, object]:
    """The snapshot id and commit time that `as_of` names: a snapshot id, or a time (UTC; the last
    snapshot committed by then), or None for the current one."""
    import duckdb

    snapshots = f"ducklake_snapshots('{ALIAS}')"
    if as_of is None or as_of.strip().isdigit():
        wanted = snapshot(con) if as_of is None else int(as_of)
        row = con.execute(f"select snapshot_id, snapshot_time from {snapshots} where snapshot_id = $s",
                          {"s": wanted}).fetchone()
        if row is None:
            raise LakeError(f"no snapshot {wanted} in the lake (the current one is {snapshot(con)})")
        return row
    try:
        row = con.execute(f"select snapshot_id, snapshot_time from {snapshots} "
                          "where snapshot_time <= cast($t as timestamp) at time zone 'UTC' "
                          "order by snapshot_id desc limit 1", {"t": as_of}).fetchone()
    except duckdb.ConversionException as exc:
        raise LakeError(f"--as-of {as_of!r}: neither a snapshot id nor a time (YYYY-MM-DD[ HH:MM[:SS]])") from exc
    if row is None:
        raise LakeError(f"--as-of {as_of}: the lake has no snapshot that old")
    return row


def _quote(s: str) -> str:
    return s.replace("'", "''")


def maintain(con, expire_days: int | None = None) -> dict:
    """The lake's upkeep (`newsmon db optimize`): merge the small Parquet files each load adds; with
    expire_days, forget the snapshots older than that (time travel then reaches back that far) and delete
    the files only they used. Returns the snapshot and file counts before and after."""
    def counts() -> tuple[int, int]:
        snaps = con.execute(f"select count(*) from ducklake_snapshots('{ALIAS}')").fetchone()[0]
        files = sum(con.execute(f"select count(*) from ducklake_list_files('{ALIAS}', $t)", {"t": t}).fetchone()[0]
                    for (t,) in con.execute("select table_name from duckdb_tables() where database_name = $d",
                                            {"d": ALIAS}).fetchall())
        return snaps, files

    before = counts()
    with writer_lock(con):  # a merge that overlaps a load's deletes would make one of them conflict
        con.execute(f"call ducklake_merge_adjacent_files('{ALIAS}')")
        if expire_days is not None:
            older = {"days": int(expire_days)}
            con.execute(f"call ducklake_expire_snapshots('{ALIAS}', older_than => now() - to_days($days))", older)
            con.execute(f"call ducklake_cleanup_old_files('{ALIAS}', older_than => now() - to_days($days))", older)
    after = counts()
    return {"snapshots": before[0], "snapshots_after": after[0], "files": before[1], "files_after": after[1]}


def catalog_of(con) -> str | None:
    """The libpq string of the lake attached to this connection, or None on a DuckDB file."""
    row = con.execute("select path from duckdb_databases() where database_name = $name and type = 'postgres'",
                      {"name": f"__ducklake_metadata_{ALIAS}"}).fetchone()
    return row[0] if row else None


@contextmanager
def writer_lock(con, wait_seconds: float = WRITER_WAIT_SECONDS):
    """Hold the lake's writer lock for the block (nothing on a DuckDB file, where the file lock does it).

    Loads take it so that they commit one after another. Without it two loads that overlap still come
    out right (they conflict on load_clock, and the later one is rolled back and done again), but the
    later one's work is thrown away: two loads at once into one lake gave 0.72x the throughput of one
    (benchmarks/lake.py). It is a session lock of the catalog's PostgreSQL, so a writer that dies, or
    whose connection drops, lets go of it. The DuckLake transaction must begin after it is held: it
    then reads what the previous holder committed."""
    catalog = catalog_of(con)
    if catalog is None:
        yield 0.0
        return
    import psycopg2

    began = time.monotonic()
    try:
        pg = psycopg2.connect(catalog, connect_timeout=10, application_name="newsmon writer lock")
    except psycopg2.OperationalError as exc:
        said = _PASSWORD.sub(r"\1***", str(exc).strip().splitlines()[0])
        raise LakeError(f"cannot reach the lake's catalog for its writer lock ({said})") from None
    try:
        pg.autocommit = True
        with pg.cursor() as cur:
            cur.execute("set statement_timeout = %s", (int(wait_seconds * 1000),))
            try:
                cur.execute("select pg_advisory_lock(%s)", (WRITER_LOCK,))
            except psycopg2.errors.QueryCanceled:
                raise LakeError(f"another writer has held the lake's writer lock for over {wait_seconds:g} s "
                                "(pg_locks on the catalog database names it)") from None
            cur.execute("set statement_timeout = 0")
        yield time.monotonic() - began
    finally:
        pg.close()  # ends the session, and with it the lock, whatever happened in the block
