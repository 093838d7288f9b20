"""DuckDB fetches nothing at run time: every extension Newsmon uses loads from the locked duckdb-ext-*
wheels, and a feature that would need another one fails instead of downloading it (README, Stack).

DuckDB's extension repository is pointed at a loopback server that records every request. A control
shows that DuckDB left to its defaults does ask that server for an extension; our connections never do."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import duckdb
import pytest

from pipelines import store, transfer


class Repository:
    """A loopback 'extension repository' that answers 404 to everything and records what was asked."""

    def __init__(self):
        self.requests: list[str] = []
        seen = self.requests

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802
                seen.append(f"{self.command} {self.path}")
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()

            do_HEAD = do_GET  # noqa: N815

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"


@pytest.fixture
def repository(monkeypatch):
    repo = Repository()
    offline = store.offline_config
    # Every connection store.connect opens asks this server, were it to install anything.
    monkeypatch.setattr(store, "offline_config", lambda: {
        **offline(), "custom_extension_repository": repo.url, "autoinstall_extension_repository": repo.url})
    yield repo
    repo.httpd.shutdown()
    repo.httpd.server_close()


def test_the_control_duckdb_left_to_its_defaults_downloads_extensions_from_the_repository(repository, tmp_path):
    con = duckdb.connect(config={"autoinstall_known_extensions": True, "autoload_known_extensions": True,
                                 "extension_directory": str(tmp_path / "ext"),
                                 "autoinstall_extension_repository": repository.url})
    with pytest.raises(duckdb.Error, match="fts"):
        con.execute("select stem('running', 'english')")
    assert repository.requests and "fts.duckdb_extension" in repository.requests[0]


def test_our_connections_use_fts_parquet_and_json_without_a_request(repository, tmp_path):
    db = tmp_path / "n.duckdb"
    con = store.connect(db)
    try:
        assert con.execute("select current_setting('custom_extension_repository')").fetchone()[0] == repository.url
        assert con.execute("select stem('running', 'english'), stem('ceasefires', 'english')").fetchone() == (
            "run", "ceasefir")
        con.execute("create table docs as select * from (values (1, 'Ceasefire talks resume in Geneva'), "
                    "(2, 'Port strike ends as dockworkers return')) as t(id, body)")
        con.execute("pragma create_fts_index('docs', 'id', 'body')")
        assert con.execute("select id from (select id, fts_main_docs.match_bm25(id, 'ceasefires') as score "
                           "from docs) where score is not null").fetchall() == [(1,)]
        out = tmp_path / "docs.parquet"
        con.execute("copy docs to $p (format parquet)", {"p": str(out)})
        assert con.execute("select count(*) from read_parquet($p)", {"p": str(out)}).fetchone()[0] == 2
        assert con.execute("""select json_extract_string('{"a": {"b": "x"}}', '$.a.b')""").fetchone()[0] == "x"
        # An extension we do not ship is an error, not a download.
        for sql in ("select * from read_xlsx('x.xlsx')", f"select * from read_csv('{repository.url}/x.csv')"):
            with pytest.raises(duckdb.Error, match="extension"):
                con.execute(sql)
        loaded = dict(con.execute("select extension_name, install_path from duckdb_extensions() "
                                  "where loaded and install_path not like '(BUILT-IN)'").fetchall())
    finally:
        con.close()
    assert set(loaded) == set(store.EXTENSIONS)
    folder = store.extension_directory() / f"v{duckdb.__version__}"
    assert loaded["fts"].startswith(str(folder)) and loaded["fts"].endswith("fts.duckdb_extension")
    assert "site-packages" in loaded["fts"] and "duckdb_ext" in loaded["fts"]
    assert repository.requests == []


@pytest.mark.parametrize("read_only", [False, True])
def test_our_connections_neither_install_nor_autoload_extensions(tmp_path, read_only):
    db = tmp_path / "n.duckdb"
    store.connect(db).close()
    con = store.connect(db, read_only=read_only)
    try:
        settings = dict(con.execute("select name, value from duckdb_settings() where name in "
                                    "('autoinstall_known_extensions', 'autoload_known_extensions', "
                                    "'allow_community_extensions', 'allow_unsigned_extensions')").fetchall())
        assert con.execute("select current_setting('autoinstall_known_extensions'), "
                           "current_setting('autoload_known_extensions')").fetchone() == (False, False)
    finally:
        con.close()
    assert settings == dict.fromkeys(settings, "false") and len(settings) == 4


def test_the_export_connection_is_offline_too(tmp_path):
    db = tmp_path / "n.duckdb"
    store.connect(db).close()
    con = transfer._open_read_only(db)
    try:
        assert con.execute("select current_setting('autoinstall_known_extensions'), "
                           "current_setting('autoload_known_extensions')").fetchone() == (False, False)
    finally:
        con.close()
