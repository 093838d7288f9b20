"""The lake when its parts fail: the catalog unreachable in the middle of a load, the object store
answering 500 or slowly, a worker killed during its commit, the data path's disk full. In every case no
committed row is lost or doubled, and the load, done again, leaves what one load leaves."""

from __future__ import annotations

import http.client
import multiprocessing
import os
import resource
import signal
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import duckdb
import pytest

from pipelines import lake, store
from tests.conftest import drop_lake, new_lake
from tests.test_lake import day_run

TABLES = ("articles", "mentions", "entities", "entity_daily", "entity_forms", "search_postings", "runs",
          "load_clock")


def state(target) -> dict:
    con = store.connect(target, read_only=True)
    try:
        return {t: con.execute(f"select {_compared(t)} from {t} order by all").fetchall() for t in TABLES}
    finally:
        con.close()


def _compared(table: str) -> str:
    # runs carries wall-clock times; load_clock counts the commits, which retries add to
    return {"runs": "* exclude (started_at, finished_at)", "load_clock": "count(*)"}.get(table, "*")


def assert_both_runs_whole(target) -> None:
    after = state(target)
    assert {r[0] for r in after["runs"]} == {"r1", "r2"} and len(after["articles"]) == 12


def run_row(run_id: str) -> dict:
    return {"run_id": run_id, "kind": "daily", "status": "success", "counts": {}}


def load(con, run_id: str, seed: int, **kw) -> dict:
    return store.load_run(con, run_row(run_id), day_run(run_id, 6, seed), [], [], **kw)


class TcpProxy:
    """A loopback TCP relay to a real server (PostgreSQL here) that a test can cut: every open connection
    is closed and new ones are refused, as when the network to the catalog goes down; then mended."""

    def __init__(self, port: int):
        self.target = port
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.open: list[socket.socket] = []
        self.up = True
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                client, _ = self.sock.accept()
            except OSError:
                return
            if not self.up:
                client.close()
                continue
            server = socket.create_connection(("127.0.0.1", self.target))
            self.open += [client, server]
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(a, b):
        try:
            while data := a.recv(65536):
                b.sendall(data)
        except OSError:
            pass
        finally:
            for s in (a, b):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def cut(self):
        self.up = False
        for s in self.open:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self.open.clear()

    def mend(self):
        self.up = True

    def close(self):
        self.cut()
        self.sock.close()


def test_the_catalog_lost_in_the_middle_of_a_load_leaves_nothing_half_written(tmp_path):
    direct = new_lake(tmp_path)
    proxy = TcpProxy(5432)
    via = lake.Lake(direct.catalog.replace("port=5432", f"port={proxy.port}"), direct.data)
    try:
        con = store.connect(via)
        load(con, "r1", 1)
        before = state(direct)

        def cut_the_catalog(_con):
            proxy.cut()  # the load has written its rows in the transaction, not committed them
            return []

        with pytest.raises(duckdb.Error):
            load(con, "r2", 2, alert_rows_fn=cut_the_catalog)
        assert state(direct) == before  # nothing of r2, r1 whole
        proxy.mend()
        # The task's retry: a new process, a new connection; the load then goes through whole.
        con = store.connect(via)
        load(con, "r2", 2)
        con.close()
        assert_both_runs_whole(direct)
    finally:
        proxy.close()
        drop_lake(direct)


class FlakyS3(ThreadingHTTPServer):
    """An HTTP relay in front of the S3 server that can answer 500 to everything, or answer slowly."""

    daemon_threads = True

    def __init__(self, upstream_port: int):
        self.upstream, self.mode, self.delay, self.failed = upstream_port, "pass", 0.0, 0
        super().__init__(("127.0.0.1", 0), self._Handler)
        threading.Thread(target=self.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server_address[1]}"

    class _Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def _relay(self):
            srv = self.server
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if srv.mode == "fail":
                srv.failed += 1
                msg = b"<Error><Code>InternalError</Code></Error>"
                self.send_response(500)
                self.send_header("Content-Length", str(len(msg)))
                self.end_headers()
                self.wfile.write(msg)
                return
            time.sleep(srv.delay)
            up = http.client.HTTPConnection("127.0.0.1", srv.upstream, timeout=60)
            up.request(self.command, self.path, body=body or None,
                       headers={k: v for k, v in self.headers.items() if k.lower() != "connection"})
            resp = up.getresponse()
            data = resp.read()
            self.send_response(resp.status)
            for k, v in resp.getheaders():
                if k.lower() not in ("content-length", "connection", "transfer-encoding"):
                    self.send_header(k, v)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)
            up.close()

        do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _relay


def test_the_object_store_answering_500_or_slowly(tmp_path, s3):
    s3.make_bucket("newsmon")
    flaky = FlakyS3(s3.port)
    catalog = new_lake(tmp_path)
    target = lake.Lake(catalog.catalog, "s3://newsmon/lake/", lake.S3(flaky.url, "us-east-1", "k", "s"))
    try:
        con = store.connect(target)
        load(con, "r1", 1)
        before = state(target)
        flaky.mode = "fail"
        with pytest.raises(duckdb.Error, match="500"):
            load(con, "r2", 2)
        assert flaky.failed > 0
        flaky.mode = "pass"
        assert state(target) == before  # the catalog never named r2's files
        flaky.delay = 0.3  # slow, not down: the load takes longer and goes through
        t0 = time.monotonic()
        load(con, "r2", 2)
        assert time.monotonic() - t0 > 0.3
        con.close()
        assert_both_runs_whole(target)
    finally:
        flaky.shutdown()
        drop_lake(catalog)


def _load_forever(target: lake.Lake, ready) -> None:
    """A worker that loads run after run (each run's articles its own), until it is killed."""
    con = store.connect(target)
    ready.set()
    k = 0
    while True:
        load(con, f"w{k % 5}", k % 5)
        k += 1


def test_a_worker_killed_during_its_commits_leaves_whole_runs(tmp_path):
    target = new_lake(tmp_path)
    store.connect(target).close()
    ctx = multiprocessing.get_context("spawn")
    try:
        for trial in range(4):
            ready = ctx.Event()
            worker = ctx.Process(target=_load_forever, args=(target, ready))
            worker.start()
            assert ready.wait(60)
            time.sleep(1.0 + 0.7 * trial)  # several loads in, at different points of one
            os.kill(worker.pid, signal.SIGKILL)
            worker.join()
            con = store.connect(target, read_only=True)
            held = dict(con.execute("select run_id, count(*) from articles group by run_id").fetchall())
            runs = {r[0] for r in con.execute("select run_id from runs").fetchall()}
            con.close()
            assert set(held) == runs and all(n == 6 for n in held.values()), (trial, held, runs)
        # Done again after the kills, each run leaves what one load of it leaves.
        con = store.connect(target)
        for k in range(5):
            load(con, f"w{k}", k)
        con.close()
        once = new_lake(tmp_path / "once")
        try:
            con = store.connect(once)
            for k in range(5):
                load(con, f"w{k}", k)
            con.close()
            got, want = state(target), state(once)
            assert {t: got[t] for t in TABLES if t != "runs"} == {t: want[t] for t in TABLES if t != "runs"}
        finally:
            drop_lake(once)
    finally:
        drop_lake(target)


def _load_with_a_full_disk(target: lake.Lake, limit: int, out) -> None:
    """Load r2 while the process may write no file larger than `limit` bytes (its data path's disk full:
    writes fail with EFBIG instead of the kernel's SIGXFSZ)."""
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    con = store.connect(target)
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    try:
        load(con, "r2", 2)
        out.put("loaded")
    except Exception as exc:  # what the task would log
        out.put(f"{type(exc).__name__}: {exc}")


def test_the_data_paths_disk_full_fails_the_load_cleanly(tmp_path):
    target = new_lake(tmp_path)
    try:
        con = store.connect(target)
        load(con, "r1", 1)
        con.close()
        before = state(target)
        ctx = multiprocessing.get_context("spawn")
        out = ctx.Queue()
        worker = ctx.Process(target=_load_with_a_full_disk, args=(target, 200, out))
        worker.start()
        worker.join(120)
        said = out.get(timeout=5)
        assert said != "loaded" and ("File too large" in said or "space" in said.lower()), said
        assert state(target) == before
        con = store.connect(target)  # space again: the retry goes through
        load(con, "r2", 2)
        con.close()
        assert len(state(target)["articles"]) == 12
    finally:
        drop_lake(target)
