"""A real Airflow deployment on this machine, without Docker: PostgreSQL metadata (a database of its own),
Redis as the Celery broker, and the api-server, scheduler, dag-processor and Celery worker as processes.
Used by the integration test and by benchmarks/workers.py."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

from pipelines.settings import REPO_ROOT

PG = ("127.0.0.1", 5432)
REDIS = ("127.0.0.1", 6379)


def reachable(address: tuple[str, int]) -> bool:
    try:
        with socket.create_connection(address, timeout=1):
            return True
    except OSError:
        return False


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Platform:
    """`with Platform(tmp, env) as p:` starts everything, `p.api(...)` calls the REST API; on exit every
    process group is stopped and the metadata database dropped."""

    def __init__(self, workdir: Path, newsmon_env: dict[str, str], worker_concurrency: int = 2, workers: int = 1,
                 writers: int = 1):
        """workers: Celery workers (processes of their own, as on separate machines); writers: the slots
        of the pool newsmon_duckdb that the loads share (1 for a DuckDB file, more on a lake)."""
        self.workdir = workdir
        self.workers, self.writers = workers, writers
        self.db = f"newsmon_it_{uuid.uuid4().hex[:8]}"
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        pg = f"postgresql+psycopg2://postgres@{PG[0]}:{PG[1]}/{self.db}"
        self.env = dict(os.environ) | newsmon_env | {
            "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
            "AIRFLOW_HOME": str(workdir / "airflow"),
            "AIRFLOW__CORE__DAGS_FOLDER": str(REPO_ROOT / "dags"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
            "AIRFLOW__CORE__PARALLELISM": "8",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": pg,
            "AIRFLOW__CELERY__BROKER_URL": f"redis://{REDIS[0]}:{REDIS[1]}/{7}",
            "AIRFLOW__CELERY__RESULT_BACKEND": f"db+postgresql+psycopg2://postgres@{PG[0]}:{PG[1]}/{self.db}",
            "AIRFLOW__CELERY__WORKER_CONCURRENCY": str(worker_concurrency),
            "AIRFLOW__API__HOST": "127.0.0.1",
            "AIRFLOW__API__PORT": str(self.port),
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{self.url}/execution/",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "admin:admin",
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
            "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "1",
            "PYTHONPATH": str(REPO_ROOT),
        }
        self.procs: list[subprocess.Popen] = []
        self.token: str | None = None

    def __enter__(self) -> Platform:
        (self.workdir / "airflow").mkdir(parents=True, exist_ok=True)
        self._psql(f"create database {self.db}")
        try:
            self._redis_flush()
            self.airflow("db", "migrate")
            self.airflow("pools", "set", "newsmon_duckdb", str(self.writers), "Newsmon writers")
            workers = [(f"worker{i}" if i else "worker", ["celery", "worker", "--celery-hostname", f"w{i}@%h"])
                       for i in range(self.workers)]
            for name, args in (("api-server", ["api-server"]), ("scheduler", ["scheduler"]),
                               ("dag-processor", ["dag-processor"]), *workers):
                log = (self.workdir / f"{name}.log").open("w")
                self.procs.append(subprocess.Popen(["airflow", *args], env=self.env, cwd=REPO_ROOT,
                                                   stdout=log, stderr=subprocess.STDOUT, start_new_session=True))
            self._wait(lambda: self._get_json("/api/v2/monitor/health", auth=False), 120, "the api-server")
            self.token = self._token()
            self._wait(lambda: self.api("GET", "/api/v2/dags/newsmon_daily"), 180, "newsmon_daily to be parsed")
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc) -> None:
        for p in self.procs:
            try:
                os.killpg(p.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        for p in self.procs:
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()
        self.procs.clear()
        self._psql(f"drop database if exists {self.db} with (force)")

    def airflow(self, *args: str) -> str:
        out = subprocess.run(["airflow", *args], env=self.env, cwd=REPO_ROOT, capture_output=True, text=True,
                             timeout=300)
        if out.returncode:
            raise RuntimeError(f"airflow {' '.join(args)} failed: {out.stdout[-2000:]}{out.stderr[-2000:]}")
        return out.stdout

    def api(self, method: str, path: str, body: dict | None = None):
        """The REST API's JSON answer, or None for a 404."""
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.url + path, data=data, method=method,
                                     headers={"Content-Type": "application/json",
                                              "Authorization": f"Bearer {self.token}"})
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                return json.loads(resp.read() or b"null")
        except urllib.error.HTTPError as exc:
            if exc.code == 404:
                return None
            raise RuntimeError(f"{method} {path}: HTTP {exc.code}: {exc.read()[:500]!r}") from None

    def wait_run(self, dag_id: str, run_id: str, timeout: float = 600) -> str:
        """Wait for a DAG run to finish; return its state."""
        def done():
            run = self.api("GET", f"/api/v2/dags/{dag_id}/dagRuns/{urllib.request.quote(run_id)}")
            return run["state"] if run and run["state"] in ("success", "failed") else None
        return self._wait(done, timeout, f"{dag_id} {run_id}")

    def tasks_per_worker(self) -> list[int]:
        """How many tasks each Celery worker received (its log says so for each)."""
        logs = sorted(self.workdir.glob("worker*.log"))
        return [p.read_text(errors="replace").count("Task execute_workload[") for p in logs]

    def task_instances(self, dag_id: str, run_id: str) -> list[dict]:
        path = f"/api/v2/dags/{dag_id}/dagRuns/{urllib.request.quote(run_id)}/taskInstances?limit=1000"
        return self.api("GET", path)["task_instances"]

    def runs(self, dag_id: str) -> list[dict]:
        return self.api("GET", f"/api/v2/dags/{dag_id}/dagRuns?limit=100&order_by=logical_date")["dag_runs"]

    def settle(self, dag_ids: tuple[str, ...], quiet: float = 15, timeout: float = 600) -> None:
        """Wait until no run of these DAGs has been queued or running for `quiet` seconds. A finished load
        wakes the asset-scheduled alerts DAG a scheduler loop later, and that run writes to the DuckDB file,
        where DuckDB allows no reader beside a writer."""
        last_busy = time.monotonic()

        def quiet_enough():
            nonlocal last_busy
            if any(r["state"] in ("queued", "running") for d in dag_ids for r in self.runs(d)):
                last_busy = time.monotonic()
            return time.monotonic() - last_busy >= quiet
        self._wait(quiet_enough, timeout, f"no run of {', '.join(dag_ids)} for {quiet:g} s")

    def log_tail(self) -> str:
        return "\n".join(f"--- {p.name}\n" + p.read_text(errors="replace")[-3000:]
                         for p in sorted(self.workdir.glob("*.log")))

    def _token(self) -> str:
        req = urllib.request.Request(self.url + "/auth/token", method="POST",
                                     data=json.dumps({"username": "admin", "password": self._password()}).encode(),
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=30) as resp:
            return json.loads(resp.read())["access_token"]

    def _password(self) -> str:
        path = self.workdir / "airflow" / "simple_auth_manager_passwords.json.generated"
        self._wait(path.exists, 60, "the generated admin password")
        return json.loads(path.read_text())["admin"]

    def _get_json(self, path: str, auth: bool = True):
        try:
            with urllib.request.urlopen(self.url + path, timeout=5) as resp:
                return json.loads(resp.read())
        except (urllib.error.URLError, OSError):
            return None

    def _wait(self, probe, timeout: float, what: str):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                value = probe()
            except RuntimeError:
                value = None
            if value:
                return value
            if any(p.poll() is not None for p in self.procs):
                raise RuntimeError(f"an Airflow process exited while waiting for {what}\n{self.log_tail()}")
            time.sleep(1)
        raise TimeoutError(f"timed out after {timeout:g} s waiting for {what}\n{self.log_tail()}")

    def _psql(self, sql: str) -> None:
        import psycopg2

        con = psycopg2.connect(host=PG[0], port=PG[1], user="postgres", dbname="postgres")
        con.autocommit = True
        try:
            con.cursor().execute(sql)
        finally:
            con.close()

    def _redis_flush(self) -> None:
        with socket.create_connection(REDIS, timeout=5) as s:  # database 7 is this test's own broker
            s.sendall(b"SELECT 7\r\nFLUSHDB\r\n")
            s.recv(100)
