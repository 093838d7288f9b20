"""`newsmon db export` and `newsmon db import`: every table as Parquet plus a manifest, to carry a
database across DuckDB versions (a file written by DuckDB 2.0 does not open in 1.4: README, Upgrading).

Export reads the file with nothing but DuckDB's built-in Parquet writer and no extension, so the same
code runs under the DuckDB that wrote the file. Import builds a fresh database beside the target and
renames it over the target only once every table is loaded and counted.
"""

from __future__ import annotations

import json
import os
import re
from datetime import UTC
from pathlib import Path

from pipelines import lake, store
from pipelines.lake import Lake

MANIFEST = "manifest.json"
FORMAT = "newsmon-export"
FORMAT_VERSION = 1


# Tables whose rows a fresh database gets from its migrations, not from loads.
SEEDED = {"schema_version", "load_clock"}


class TransferError(Exception):
    """An export or import refused, with a reason the user can act on."""


def code_schema_version() -> int:
    """The highest migration this code has (the NNN of sql/migrations/NNN_*.sql)."""
    return max(_code_migrations())


def export_database(db_path: Path | Lake, directory: Path, as_of: str | None = None) -> dict:
    """Write every table of the database's main schema to DIR/<table>.parquet, then DIR/manifest.json.

    One read-only transaction covers every table, so the export is one consistent state. Views and
    macros are not exported (`migrate` recreates them); derived tables (the marts) are copied as they
    are. The manifest is written last: a folder without one is an export that did not finish.

    Args:
        db_path: the DuckDB file to export (opened read-only; the pipeline must not be writing it, or
            export the snapshot it publishes instead), or a lake (read while loads go on).
        directory: a folder that does not exist yet or is empty.
        as_of: for a lake, the snapshot to export (an id, or a time: the last snapshot committed by
            then; the current one when None). A DuckDB file keeps no history: its current state is
            exported, and the manifest says so.

    Returns:
        The manifest: format, duckdb_version, schema_version (the highest migration applied), migrations
        (the schema_version rows), tables (name, file, rows, columns with their types) and as_of (backend,
        snapshot id and time for a lake, what was asked, and a note saying what was exported).
    """
    directory = Path(directory)
    if not isinstance(db_path, Lake):
        db_path = Path(db_path)
        if not db_path.exists():
            raise TransferError(f"{db_path}: no database to export")
    if directory.exists() and (not directory.is_dir() or any(directory.iterdir())):
        raise TransferError(f"{directory}: exists and is not an empty folder; export into a new one")
    import duckdb

    if isinstance(db_path, Lake):
        con, state = _open_lake_at(db_path, as_of)
    else:
        con = _open_read_only(db_path)
        state = {"backend": "duckdb", "snapshot": None, "snapshot_time": None, "requested": as_of,
                 "note": "The DuckDB file keeps no history: this is its current state"
                         + (f", not its state as of {as_of}." if as_of else ".")}
    try:
        con.begin()
        names = _table_names(con)
        if "schema_version" not in names:
            raise TransferError(f"{db_path}: not a Newsmon database (it has no schema_version table)")
        migrations = [{"version": v, "name": n, "applied_at": a.isoformat(sep=" ") if a else None}
                      for v, n, a in con.execute(
                          "select version, name, applied_at from schema_version order by version").fetchall()]
        directory.mkdir(parents=True, exist_ok=True)
        tables, used = [], set()
        for name in (n for n in names if n != "schema_version"):
            file = _file_name(name, used)
            con.execute(f"copy {_ident(name)} to $path (format parquet, compression zstd)",
                        {"path": str(directory / file)})
            rows = con.execute(f"select count(*) from {_ident(name)}").fetchone()[0]
            columns = [{"name": c, "type": t} for c, t in con.execute(
                "select column_name, data_type from duckdb_columns() where database_name = current_database() "
                "and schema_name = 'main' and table_name = $t order by column_index", {"t": name}).fetchall()]
            tables.append({"name": name, "file": file, "rows": rows, "columns": columns})
        con.commit()
    finally:
        con.close()
    manifest = {"format": FORMAT, "format_version": FORMAT_VERSION, "duckdb_version": duckdb.__version__,
                "schema_version": max((m["version"] for m in migrations), default=0),
                "migrations": migrations, "tables": tables, "as_of": state}
    tmp = directory / (MANIFEST + ".tmp")
    tmp.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, directory / MANIFEST)
    return manifest


def read_manifest(directory: Path) -> dict:
    """Read and check an export's manifest: its format, that this code's migrations cover its schema
    version (and name them alike), and that every table file it lists is in the folder.

    Args:
        directory: the folder `export_database` wrote.

    Returns:
        The manifest, as `export_database` returned it.
    """
    directory = Path(directory)
    path = directory / MANIFEST
    if not path.is_file():
        raise TransferError(f"{directory}: no {MANIFEST} (not an export, or one that did not finish)")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise TransferError(f"{path}: not valid JSON ({exc})") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise TransferError(f"{path}: not a Newsmon export manifest")
    if not isinstance(manifest.get("format_version"), int) or manifest["format_version"] > FORMAT_VERSION:
        raise TransferError(f"{path}: export format {manifest.get('format_version')!r} is newer than this "
                            f"Newsmon reads ({FORMAT_VERSION}): upgrade Newsmon")
    version, ours = manifest.get("schema_version"), code_schema_version()
    if not isinstance(version, int):
        raise TransferError(f"{path}: schema_version missing")
    if version > ours:
        raise TransferError(f"{directory}: exported at schema version {version}, newer than this Newsmon's "
                            f"migrations ({ours}): upgrade Newsmon before importing")
    known = _code_migrations()
    for m in manifest.get("migrations", []):
        if m.get("version") in known and m.get("name") != known[m["version"]]:
            raise TransferError(f"{path}: migration {m['version']} is {m.get('name')!r} there and "
                                f"{known[m['version']]!r} here: not the same schema")
    tables = manifest.get("tables")
    if not isinstance(tables, list):
        raise TransferError(f"{path}: tables missing")
    seen = set()
    for t in tables:
        name, file = t.get("name"), t.get("file")
        # Files are read from this folder only: a manifest cannot point elsewhere.
        if not isinstance(name, str) or not isinstance(file, str) or Path(file).name != file or file in ("", ".", ".."):
            raise TransferError(f"{path}: bad table entry {t!r}")
        if not isinstance(t.get("rows"), int) or name in seen:
            raise TransferError(f"{path}: bad table entry {t!r}")
        if not (directory / file).is_file():
            raise TransferError(f"{directory / file}: missing (the manifest lists it for table {name})")
        seen.add(name)
    return manifest


def import_database(db_path: Path | Lake, directory: Path, replace: bool = False) -> dict:
    """Build a fresh database from an export and put it at db_path.

    The new database is migrated up to the export's schema version, every table is loaded in one
    transaction (columns by name: a column the export lacks gets its default, a table it lacks stays
    empty; a table this schema lacks is created as the Parquet gives it), each count is checked against
    the manifest, and the later migrations then run on the loaded rows (their backfills included). It is
    built in a file beside the target and renamed over it at the end, so a failure leaves the target as
    it was. The read-only snapshot (`store.snapshot_path`) is published again from the new file.

    Into a lake (a new catalog database: a lake holding rows is refused, --replace or not), the same
    steps run in the lake itself; a failure while loading leaves it migrated and empty.

    Args:
        db_path: the database to create, or the lake to fill.
        directory: the folder `export_database` wrote.
        replace: overwrite a db_path that already holds rows (or that this DuckDB cannot read). Without
            it such a target is refused and left untouched.

    Returns:
        duckdb_version and schema_version of the export, tables ((name, rows) loaded), created (tables
        not in this schema), migrated (migrations applied after the load) and snapshot (its path).
    """
    import duckdb

    if isinstance(db_path, Lake):
        return _import_into_lake(db_path, Path(directory))
    db_path, directory = Path(db_path), Path(directory)
    manifest = read_manifest(directory)
    if db_path.exists():
        held = _rows_held(db_path)
        if held and not replace:
            raise TransferError(f"{db_path} already holds {held}: import into a new file (--db FILE), move it "
                                "away, or pass --replace to overwrite it")
    db_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = db_path.with_name(db_path.name + ".import")
    _remove(tmp)
    try:
        con = duckdb.connect(str(tmp), config=store.offline_config())
        try:
            store.load_extensions(con)
            store.migrate(con, upto=manifest["schema_version"])
            loaded, created = _load_tables(con, directory, manifest["tables"])
            migrated = store.migrate(con)
            con.execute("checkpoint")
        finally:
            con.close()
    except BaseException:
        _remove(tmp)
        raise
    # A WAL left beside the old file would be replayed into the new one.
    _remove(db_path, only_wal=True)
    os.replace(tmp, db_path)
    con = store.connect(db_path)
    try:
        snapshot = store.publish_snapshot(con, db_path)
    finally:
        con.close()
    return {"duckdb_version": manifest.get("duckdb_version"), "schema_version": manifest["schema_version"],
            "tables": loaded, "created": created, "migrated": migrated, "snapshot": snapshot}


def _import_into_lake(target: Lake, directory: Path) -> dict:
    import duckdb

    manifest = read_manifest(directory)
    con = duckdb.connect(config=store.offline_config())
    try:
        store.load_extensions(con)
        try:
            lake.attach(con, target)
        except lake.LakeError as exc:
            raise TransferError(str(exc)) from exc
        held = _rows_in(con)
        if held:
            raise TransferError(f"{target} already holds {held} rows: import into a lake with a new, empty catalog "
                                "database")
        store.migrate(con, upto=manifest["schema_version"])
        loaded, created = _load_tables(con, directory, manifest["tables"])
        migrated = store.migrate(con)
    finally:
        con.close()
    return {"duckdb_version": manifest.get("duckdb_version"), "schema_version": manifest["schema_version"],
            "tables": loaded, "created": created, "migrated": migrated, "snapshot": None}


def _load_tables(con, directory: Path, tables: list[dict]) -> tuple[list[tuple[str, int]], list[str]]:
    existing = set(_table_names(con))
    loaded, created = [], []
    con.begin()
    try:
        for t in tables:
            name, params = t["name"], {"path": str(directory / t["file"])}
            if name == "schema_version":
                continue  # migrate wrote this database's own
            if name in existing:
                ours = {r[0] for r in con.execute(
                    "select column_name from duckdb_columns() where database_name = current_database() "
                    "and schema_name = 'main' and table_name = $t", {"t": name}).fetchall()}
                theirs = [d[0] for d in con.execute("select * from read_parquet($path) limit 0", params).description]
                unknown = [c for c in theirs if c not in ours]
                if unknown:
                    raise TransferError(f"{name}: the export has columns this schema lacks: {', '.join(unknown)}")
                cols = ", ".join(_ident(c) for c in theirs)
                # The export's rows replace any a migration seeded (load_clock's first row).
                con.execute(f"delete from {_ident(name)}")
                con.execute(f"insert into {_ident(name)} ({cols}) select {cols} from read_parquet($path)", params)
            else:
                con.execute(f"create table {_ident(name)} as select * from read_parquet($path)", params)
                created.append(name)
            rows = con.execute(f"select count(*) from {_ident(name)}").fetchone()[0]
            if rows != t["rows"]:
                raise TransferError(f"{name}: loaded {rows} rows, the manifest says {t['rows']}")
            loaded.append((name, rows))
        con.commit()
    except BaseException:
        con.rollback()
        raise
    return loaded, created


def _rows_held(path: Path) -> str:
    """What the target holds, described ('' when it is a database with no rows). Opening it also makes
    sure no other process holds it (store.DatabaseBusy), since a file renamed over an open one would
    leave that process writing to a deleted file."""
    try:
        con = store.connect(path, read_only=True)
    except store.DatabaseVersionError:
        return "a database written by another DuckDB version"
    try:
        rows = _rows_in(con)
    finally:
        con.close()
    return f"{rows} rows" if rows else ""


def _open_lake_at(target: Lake, as_of: str | None):
    """A read-only connection to the lake as it stood at the snapshot as_of names, and what it is."""
    import duckdb

    probe = duckdb.connect(config=store.offline_config())
    try:
        lake.attach(probe, target, read_only=True)
        snapshot_id, at = lake.resolve_snapshot(probe, as_of)
    except lake.LakeError as exc:
        raise TransferError(str(exc)) from exc
    finally:
        probe.close()
    con = duckdb.connect(config=store.offline_config())
    lake.attach(con, target, read_only=True, snapshot=snapshot_id)
    when = at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    return con, {"backend": "ducklake", "snapshot": snapshot_id, "snapshot_time": when, "requested": as_of,
                 "note": f"Lake snapshot {snapshot_id}, committed {when}: re-export it with --as-of {snapshot_id}."}


def _open_read_only(path: Path):
    """A read-only connection with no extension: what export needs, under any DuckDB version."""
    import duckdb

    try:
        return duckdb.connect(str(path), read_only=True, config=dict(store.OFFLINE))
    except duckdb.IOException as exc:
        if "newer version" in str(exc) or "version number" in str(exc):
            raise store.DatabaseVersionError(
                f"{path}: written by a newer DuckDB than {duckdb.__version__}, which cannot read it: export it "
                f"under the DuckDB that wrote it (README, Upgrading)") from exc
        if "lock" in str(exc).lower():
            raise store.DatabaseBusy(f"{path}: database is in use by another process; stop the pipeline, or "
                                     f"export its snapshot (--db {store.snapshot_path(path)})") from exc
        raise


def _rows_in(con) -> int:
    """The rows the database holds, less those its migrations seeded."""
    return sum(con.execute(f"select count(*) from {_ident(n)}").fetchone()[0]
               for n in _table_names(con) if n not in SEEDED)


def _table_names(con) -> list[str]:
    return [r[0] for r in con.execute(
        "select table_name from duckdb_tables() where database_name = current_database() "
        "and schema_name = 'main' and not temporary order by table_name").fetchall()]


def _code_migrations() -> dict[int, str]:
    return {int(p.name.split("_", 1)[0]): p.stem for p in (store.SQL_DIR / "migrations").glob("*.sql")}


def _ident(name: str) -> str:
    """A quoted SQL identifier (table and column names come from the database or a manifest)."""
    return '"' + name.replace('"', '""') + '"'


def _file_name(table: str, used: set[str]) -> str:
    stem = re.sub(r"[^A-Za-z0-9_]", "_", table) or "table"
    name, n = f"{stem}.parquet", 1
    while name.lower() in used:
        n += 1
        name = f"{stem}_{n}.parquet"
    used.add(name.lower())
    return name


def _remove(path: Path, only_wal: bool = False) -> None:
    for p in ([] if only_wal else [path]) + [path.with_name(path.name + ".wal")]:
        p.unlink(missing_ok=True)
