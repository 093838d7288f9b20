"""Running the newsmon_daily DAG for one logical date with Airflow's dag.test(), in a child process (what
`newsmon run` and `newsmon demo` do), with the stage progress read from the run's staging folder."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import datetime

from pipelines import runs, staging, terminal
from pipelines.settings import REPO_ROOT, Settings

DAG_ID = "newsmon_daily"


class DagRunError(RuntimeError):
    """The DAG run did not succeed: the message names its log and ends with the log's last lines."""


def airflow_env(s: Settings) -> dict[str, str]:
    env = dict(s.environ)
    env.update(s.as_env())
    env.update({
        "AIRFLOW_HOME": str(s.airflow_home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(s.dags_folder),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")])),
    })
    return env


def run_dag(s: Settings, date: datetime) -> dict:
    """Run newsmon_daily for the date with dag.test() in a child process; its log goes to
    data/logs/. Returns the run's counts; raises DagRunError if the run did not succeed."""
    env = airflow_env(s)
    s.airflow_home.mkdir(parents=True, exist_ok=True)
    log_path = s.data_dir / "logs" / f"{DAG_ID}_{date:%Y-%m-%d}.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("w", encoding="utf-8") as log:
        if not (s.airflow_home / "airflow.db").exists():
            print("newsmon: creating Airflow's metadata database (first run only)", file=sys.stderr)
            subprocess.run([sys.executable, "-m", "airflow", "db", "migrate"], env=env, stdout=log,
                           stderr=subprocess.STDOUT, check=True)
        rid = run_id_for(date)
        (s.staging / rid).clear()  # progress must not read a previous run's files
        reporter = terminal.Reporter(f"{DAG_ID} {date:%Y-%m-%d}")
        cmd = [sys.executable, str(REPO_ROOT / "scripts" / "run_dag.py"), DAG_ID, date.strftime("%Y-%m-%dT00:00:00Z")]
        with reporter:
            proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)
            done: set[str] = set()
            while proc.poll() is None:
                time.sleep(0.5)
                reporter.poll(s.staging / rid, done)
            reporter.poll(s.staging / rid, done)
    if proc.returncode != 0:
        tail = log_path.read_text(encoding="utf-8", errors="replace").splitlines()[-15:]
        raise DagRunError(f"the DAG run failed (exit {proc.returncode}); log: {log_path}\n" + "\n".join(tail))
    return staging.run_counts(s, {"dir": (s.staging / rid).url})


def run_id_for(date: datetime) -> str:
    """The id of newsmon_daily's run for a logical date (its window's)."""
    from pipelines.models import run_id

    start, end = runs.window_for(date, None, None)
    return run_id("daily", start, end)
