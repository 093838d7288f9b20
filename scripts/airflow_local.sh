#!/usr/bin/env bash
# `make airflow`: Airflow standalone (api-server with the UI, scheduler, dag-processor, triggerer) on
# 127.0.0.1:8080 with our DAGs and SQLite metadata under data/airflow/. Ctrl-C stops every process.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
export PATH="$root/.venv/bin:$PATH"   # standalone launches its components as `airflow ...`
export AIRFLOW_HOME="${AIRFLOW_HOME:-$root/data/airflow}"
export AIRFLOW__CORE__DAGS_FOLDER="$root/dags"
export AIRFLOW__CORE__LOAD_EXAMPLES=False
export AIRFLOW__API__HOST=127.0.0.1
export AIRFLOW__API__PORT="${NEWSMON_AIRFLOW_PORT:-8080}"
export AIRFLOW__CORE__EXECUTION_API_SERVER_URL="http://127.0.0.1:${AIRFLOW__API__PORT}/execution/"
# The default of 32 idle workers costs about a gigabyte on a small machine.
export AIRFLOW__CORE__PARALLELISM="${AIRFLOW__CORE__PARALLELISM:-4}"
export NEWSMON_DATA_DIR="${NEWSMON_DATA_DIR:-$root/data}"
mkdir -p "$AIRFLOW_HOME"
cd "$root"
airflow db migrate >/dev/null
airflow pools set newsmon_duckdb 1 "DuckDB allows one writer" >/dev/null
setsid airflow standalone &
group=$!
stop() { kill -TERM -- "-$group" 2>/dev/null || true; wait "$group" 2>/dev/null || true; }
trap stop INT TERM EXIT
echo "Airflow UI: http://127.0.0.1:${AIRFLOW__API__PORT} (user admin; password in $AIRFLOW_HOME/simple_auth_manager_passwords.json.generated). Ctrl-C stops it."
wait "$group"
