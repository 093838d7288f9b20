"""DAG integrity: every file in dags/ imports and defines its DAG, without heavy imports at parse time."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from pipelines.settings import REPO_ROOT

HEAVY = {"pandas", "spacy", "duckdb", "trafilatura", "great_expectations"}


def _python(code: str, tmp_path: Path) -> str:
    env = dict(os.environ, AIRFLOW_HOME=str(tmp_path / "airflow"), AIRFLOW__CORE__LOAD_EXAMPLES="False",
               AIRFLOW__CORE__DAGS_FOLDER=str(REPO_ROOT / "dags"))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=REPO_ROOT,
                         timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    return out.stdout.strip().splitlines()[-1]


def test_dags_parse_define_their_dag_and_have_retries_and_tags(tmp_path):
    code = ("import json; from airflow.dag_processing.dagbag import DagBag; b = DagBag(); "
            "print(json.dumps({'errors': {k: str(v) for k, v in b.import_errors.items()}, 'dags': "
            "{d.dag_id: [d.fileloc, sorted(d.tags), d.default_args.get('retries', 0), "
            "callable(d.default_args.get('on_failure_callback'))] for d in b.dags.values()}}))")
    result = json.loads(_python(code, tmp_path))
    assert result["errors"] == {}
    files = sorted(p.stem for p in (REPO_ROOT / "dags").glob("*.py"))
    assert sorted(result["dags"]) == files  # file name = dag_id, one DAG per file
    for dag_id, (fileloc, tags, retries, notifies) in result["dags"].items():
        assert Path(fileloc).stem == dag_id and tags and retries >= 1 and notifies


def test_dag_files_import_nothing_heavy(tmp_path):
    code = f"import sys, json, airflow.sdk; print(json.dumps(sorted({HEAVY!r} & set(sys.modules))))"
    baseline = json.loads(_python(code, tmp_path))
    assert baseline == []  # airflow.sdk alone loads none of them, so the check below means something
    code = ("import runpy, sys, glob, json; [runpy.run_path(p) for p in glob.glob('dags/*.py')]; "
            f"print(json.dumps(sorted({HEAVY!r} & set(sys.modules))))")
    assert json.loads(_python(code, tmp_path)) == []


def test_library_never_imports_airflow():
    for path in (REPO_ROOT / "pipelines").rglob("*.py"):
        assert not re.search(r"^\s*(from|import) airflow", path.read_text(), re.M), path


def test_alerts_dag_is_scheduled_on_the_asset_the_daily_load_updates(tmp_path):
    code = ("import json; from airflow.dag_processing.dagbag import DagBag; b = DagBag(); "
            "a = b.dags['newsmon_alerts']; load = b.dags['newsmon_daily'].get_task('load'); "
            "print(json.dumps({'timetable': type(a.timetable).__name__, "
            "'consumes': sorted(x.uri for x in a.timetable.asset_condition.objects), "
            "'produces': sorted(o.uri for o in load.outlets)}))")
    result = json.loads(_python(code, tmp_path))
    assert result["timetable"] == "AssetTriggeredTimetable"
    assert result["consumes"] == result["produces"] == ["newsmon://duckdb/newsmon"]
