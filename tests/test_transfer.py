"""`newsmon db export` / `newsmon db import`: a database carried through Parquet, row for row, on real
DuckDB files; refusals change nothing; and, where DuckDB 2.0.1 is installed beside the project, a file
that 2.0.1 wrote reaches 1.4.4 through the same two commands."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from pipelines import cli, store, transfer
from pipelines.settings import REPO_ROOT

DEMO = REPO_ROOT / "demo"
SCRATCH = 'Scratch "notes"'  # an analyst's own table, with a name that needs quoting
# DuckDB 2.0.1, installed apart from the project from the hash-pinned tests/duckdb2.lock into a cache
# folder (not in the lock: the project runs on 1.4); only this test puts it first on a child's path.
DUCK2 = Path(os.environ.get("NEWSMON_TEST_DUCKDB2", Path.home() / ".cache" / "newsmon" / "duckdb-2.0.1"))
# The schema the releases on DuckDB 2.0.1 wrote: the migrations up to 009.
SCHEMA_ON_DUCKDB2 = 9


def contents(db: Path, tables: set[str] | None = None) -> dict[str, tuple[list, list[str]]]:
    """Every table of the main schema but schema_version: its columns with their types and its rows,
    sorted (an import need not keep the physical order)."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        names = [r[0] for r in con.execute(
            "select table_name from duckdb_tables() where schema_name = 'main' and table_name <> 'schema_version'"
        ).fetchall()]
        out = {}
        for name in names if tables is None else sorted(tables):
            ident = '"' + name.replace('"', '""') + '"'
            cols = con.execute("select column_name, data_type from duckdb_columns() where schema_name = 'main' "
                               "and table_name = $t order by column_index", {"t": name}).fetchall()
            out[name] = (cols, sorted(map(repr, con.execute(f"select * from {ident}").fetchall())))
        return out
    finally:
        con.close()


def digest(*paths: Path) -> list[str | None]:
    return [hashlib.sha256(p.read_bytes()).hexdigest() if p.exists() else None for p in paths]


@pytest.fixture(scope="module")
def source(tmp_path_factory) -> Path:
    """A database the pipeline wrote: the demo corpus ingested with the demo watchlist (articles,
    entities, mentions, claims, marts, checks, alerts), a file that fails (a fetch_log row), a feed_state
    row, and an analyst's scratch table."""
    tmp = tmp_path_factory.mktemp("source")
    inbox = tmp / "inbox"
    inbox.mkdir()
    (inbox / "empty.txt").write_text("")
    db = tmp / "n.duckdb"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("NEWSMON_DATA_DIR", str(tmp / "data"))
        mp.setenv("NEWSMON_WATCHLIST", str(DEMO / "watchlist.yaml"))
        mp.setenv("NEWSMON_HOST_DELAY", "0")
        mp.delenv("NEWSMON_DB", raising=False)
        assert cli.main(["ingest", str(DEMO / "site" / "articles"), str(inbox), "--db", str(db)]) == 0
    con = store.connect(db)
    try:
        con.execute("insert into feed_state values ('https://x.test/feed.xml', 'x', '\"e1\"', "
                    "'Tue, 24 Nov 2026 09:00:00 GMT', 'ab12', 200, timestamp '2026-11-24 10:00:00')")
        con.execute(f"create table {transfer._ident(SCRATCH)} as select 42 as \"odd col\", [1.5, 2.5] as xs")
    finally:
        con.close()
    return db


@pytest.fixture(scope="module")
def exported(source, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("export") / "dump"
    manifest = transfer.export_database(source, out)
    assert (out / transfer.MANIFEST).exists()
    assert manifest["schema_version"] == transfer.code_schema_version()
    assert manifest["duckdb_version"] == duckdb.__version__
    return out


def test_every_table_comes_back_row_for_row(source, exported, tmp_path, capsys):
    before = contents(source)
    for table in ("articles", "entities", "mentions", "claims", "claim_entities", "entity_daily", "entity_forms",
                  "dq_results", "alerts", "runs", "fetch_log", "feed_state", "fetched", SCRATCH):
        assert before[table][1], f"the source database has no {table} rows: the test would prove nothing"
    manifest = json.loads((exported / transfer.MANIFEST).read_text())
    assert {t["name"]: t["rows"] for t in manifest["tables"]} == {t: len(rows) for t, (_, rows) in before.items()}
    target = tmp_path / "new" / "n.duckdb"
    assert cli.main(["db", "import", str(exported), "--db", str(target)]) == 0
    out = capsys.readouterr().out
    assert f"into {target}" in out and "Scratch" in out and "articles" in out
    assert contents(target) == before
    con = store.connect(target, read_only=True)
    try:  # the views and macros came from the migrations, and read the imported rows
        assert con.execute("select max(version) from schema_version").fetchone()[0] == transfer.code_schema_version()
        assert con.execute("select count(*) from stories").fetchone()[0] == con.execute(
            "select count(*) from articles where duplicate_of is null").fetchone()[0]
        assert con.execute("select sum(stories) from actor_daily").fetchone()[0] == con.execute("""
            select count(distinct (a.article_id, m.entity_id))
            from articles as a join mentions as m using (article_id) join entities as e using (entity_id)
            where a.duplicate_of is null and a.published_at is not null and e.type in ('PERSON', 'ORG')
            """).fetchone()[0]
        assert con.execute("select count(*) from search('strike')").fetchone()[0] == con.execute(
            "select count(*) from articles where regexp_matches(lower(title || ' ' || text), '\\bstrik')").fetchone()[0]
    finally:
        con.close()
    # The snapshot readers use was published from the imported file.
    assert contents(store.snapshot_path(target)) == before
    assert not list(target.parent.glob("*.import*"))


def test_import_into_a_database_that_holds_data_is_refused_and_changes_nothing(source, exported, tmp_path, capsys):
    target = tmp_path / "n.duckdb"
    shutil.copyfile(source, target)
    con = store.connect(target)
    store.publish_snapshot(con, target)
    con.close()
    files = (target, store.snapshot_path(target), target.with_name(target.name + ".wal"))
    before = digest(*files)
    capsys.readouterr()
    assert cli.main(["db", "import", str(exported), "--db", str(target)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("newsmon: error:") and "already holds" in err and "--replace" in err
    assert len(err.strip().splitlines()) == 1
    assert digest(*files) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(p.name for p in files if p.exists())
    # --replace overwrites it; an empty, migrated database may be imported into without it.
    assert cli.main(["db", "import", str(exported), "--db", str(target), "--replace"]) == 0
    assert contents(target) == contents(source)
    empty = tmp_path / "empty.duckdb"
    store.connect(empty).close()
    assert cli.main(["db", "import", str(exported), "--db", str(empty)]) == 0
    assert contents(empty) == contents(source)


def edited_copy(exported: Path, dest: Path, edit) -> Path:
    shutil.copytree(exported, dest)
    manifest = json.loads((dest / transfer.MANIFEST).read_text())
    edit(manifest)
    (dest / transfer.MANIFEST).write_text(json.dumps(manifest))
    return dest


def test_an_export_from_a_newer_schema_is_refused(exported, tmp_path, capsys):
    newer = transfer.code_schema_version() + 1

    def bump(m):
        m["schema_version"] = newer
        m["migrations"].append({"version": newer, "name": f"{newer:03d}_future", "applied_at": None})

    dump = edited_copy(exported, tmp_path / "dump", bump)
    target = tmp_path / "n.duckdb"
    with pytest.raises(transfer.TransferError, match=f"schema version {newer}, newer than"):
        transfer.import_database(target, dump)
    capsys.readouterr()
    assert cli.main(["db", "import", str(dump), "--db", str(target)]) == 2
    assert "upgrade Newsmon" in capsys.readouterr().err
    assert not target.exists() and sorted(p.name for p in tmp_path.iterdir()) == ["dump"]


def test_row_counts_are_checked_against_the_manifest(exported, tmp_path):
    def inflate(m):
        next(t for t in m["tables"] if t["name"] == "mentions")["rows"] += 1

    dump = edited_copy(exported, tmp_path / "dump", inflate)
    target = tmp_path / "n.duckdb"
    with pytest.raises(transfer.TransferError, match="mentions: loaded .* rows, the manifest says"):
        transfer.import_database(target, dump)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dump"]


def test_a_missing_table_stays_empty_and_a_missing_column_gets_its_default(source, exported, tmp_path):
    def drop_feed_state(m):
        m["tables"] = [t for t in m["tables"] if t["name"] != "feed_state"]

    dump = edited_copy(exported, tmp_path / "dump", drop_feed_state)
    con = duckdb.connect()
    alerts = str(dump / "alerts.parquet")
    con.execute("copy (select * exclude (kind, attempts) from read_parquet($p)) to $q (format parquet)",
                {"p": alerts, "q": alerts + ".new"})
    con.close()
    os.replace(alerts + ".new", alerts)
    target = tmp_path / "n.duckdb"
    done = transfer.import_database(target, dump)
    assert "feed_state" not in dict(done["tables"])
    got, want = contents(target), contents(source)
    assert got["feed_state"][1] == [] and got["articles"] == want["articles"]
    con = duckdb.connect(str(target), read_only=True)
    assert con.execute("select distinct kind, attempts from alerts").fetchall() == [("mention", 0)]
    assert con.execute("select count(*) from alerts").fetchone()[0] == len(want["alerts"][1])
    con.close()


def test_an_older_export_is_loaded_at_its_version_and_the_later_migrations_backfill_it(tmp_path):
    old = tmp_path / "old.duckdb"
    con = duckdb.connect(str(old), config=store.offline_config())
    store.migrate(con, upto=7)  # before `fetched` (008), which is backfilled from the articles
    con.execute("""insert into articles (article_id, url, source, title, text, word_count, content_hash,
                   raw_sha256, fetched_at, run_id)
                   values ('a1', 'https://x.test/a1', 'x', 'Port strike ends', 'Dockworkers returned.', 2,
                           'h1', 'ff00', timestamp '2026-11-24 10:00:00', 'r1')""")
    con.close()
    manifest = transfer.export_database(old, tmp_path / "dump")
    assert manifest["schema_version"] == 7 and "fetched" not in {t["name"] for t in manifest["tables"]}
    target = tmp_path / "n.duckdb"
    done = transfer.import_database(target, tmp_path / "dump")
    assert "008_fetched" in done["migrated"]
    con = duckdb.connect(str(target), read_only=True)
    assert con.execute("select run_id, url, raw_sha256 from fetched").fetchall() == [
        ("r1", "https://x.test/a1", "ff00")]
    assert con.execute("select max(version) from schema_version").fetchone()[0] == transfer.code_schema_version()
    con.close()


def test_export_refuses_a_folder_that_is_not_empty_and_a_missing_database(source, tmp_path):
    (tmp_path / "dump").mkdir()
    (tmp_path / "dump" / "other.txt").write_text("x")
    with pytest.raises(transfer.TransferError, match="not an empty folder"):
        transfer.export_database(source, tmp_path / "dump")
    with pytest.raises(transfer.TransferError, match="no database"):
        transfer.export_database(tmp_path / "none.duckdb", tmp_path / "dump2")
    assert not (tmp_path / "dump2").exists()


@pytest.fixture(scope="module")
def duckdb2() -> Path:
    """DuckDB 2.0.1 in DUCK2, installed once per machine from the registry with its hashes checked."""
    if not (DUCK2 / "duckdb").is_dir():
        uv = shutil.which("uv") or next((str(p) for p in [REPO_ROOT / ".uv" / "bin" / "uv"] if p.exists()), None)
        if uv is None:
            pytest.skip("no uv to install DuckDB 2.0.1: `make venv` bootstraps one into .uv/")
        subprocess.run([uv, "pip", "install", "--quiet", "--require-hashes", "--no-deps", "--python", sys.executable,
                        "--target", str(DUCK2), "-r", str(REPO_ROOT / "tests" / "duckdb2.lock")], check=True)
    return DUCK2


def test_a_file_written_by_duckdb_2_reaches_1_4_through_export_and_import(duckdb2, source, exported, tmp_path,
                                                                           capsys):
    env = dict(os.environ, PYTHONPATH=str(duckdb2), NEWSMON_DATA_DIR=str(tmp_path / "data"))
    env.pop("NEWSMON_DB", None)
    old = tmp_path / "old.duckdb"
    # DuckDB 2.0.1 writes the database at the schema its releases had, with the source's rows.
    build = f"""
import duckdb, json, sys
from pathlib import Path
from pipelines import store
assert duckdb.__version__.startswith("2."), duckdb.__version__
con = duckdb.connect({str(old)!r}, config=dict(store.OFFLINE))
store.migrate(con, upto={SCHEMA_ON_DUCKDB2})
have = {{r[0] for r in con.execute("select table_name from duckdb_tables() where schema_name = 'main'").fetchall()}}
dump = Path({str(exported)!r})
for t in json.loads((dump / "manifest.json").read_text())["tables"]:
    if t["name"] in have:
        con.execute(f'insert into "{{t["name"]}}" by name select * from read_parquet($p)',
                    {{"p": str(dump / t["file"])}})
con.close()
"""
    subprocess.run([sys.executable, "-c", build], env=env, cwd=REPO_ROOT, check=True, capture_output=True)
    with pytest.raises(store.DatabaseVersionError, match="newsmon db export DIR"):
        store.connect(old)
    before = digest(old)
    # 1.4 can neither export it nor import over it (without --replace), and says why.
    assert cli.main(["db", "export", str(tmp_path / "no"), "--db", str(old)]) == 2
    assert "under the DuckDB that wrote it" in capsys.readouterr().err
    assert cli.main(["db", "import", str(exported), "--db", str(old)]) == 2
    assert "written by another DuckDB version" in capsys.readouterr().err
    assert digest(old) == before
    # README, Upgrading: the export runs under 2.0.1, the import under 1.4.
    dump2 = tmp_path / "dump2"
    out = subprocess.run([sys.executable, "-m", "pipelines.cli", "db", "export", str(dump2), "--db", str(old)],
                         env=env, cwd=REPO_ROOT, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    manifest = json.loads((dump2 / transfer.MANIFEST).read_text())
    assert manifest["duckdb_version"].startswith("2.") and manifest["schema_version"] == SCHEMA_ON_DUCKDB2
    target = tmp_path / "new.duckdb"
    assert cli.main(["db", "import", str(dump2), "--db", str(target)]) == 0
    carried = {t["name"] for t in manifest["tables"]}
    assert carried and SCRATCH not in carried
    assert contents(target, carried) == contents(source, carried)
    assert cli.main(["db", "import", str(dump2), "--db", str(old), "--replace"]) == 0
    assert contents(old, carried) == contents(source, carried)
    store.connect(old).close()
