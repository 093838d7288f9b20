"""Run one DAG for one logical date in this process with Airflow's dag.test(); exit 1 unless it succeeded.

Used by `newsmon run` and `newsmon demo` (the library itself never imports Airflow). The environment
(AIRFLOW_HOME, AIRFLOW__CORE__DAGS_FOLDER, NEWSMON_*) is set by the caller.
"""

import sys

import pendulum

POOL = "newsmon_duckdb"


def main(dag_id: str, date: str) -> int:
    from airflow.dag_processing.dagbag import DagBag
    from airflow.models.pool import Pool

    # The tasks that write DuckDB share a one-slot pool: DuckDB allows one writing process.
    Pool.create_or_update_pool(POOL, 1, "DuckDB allows one writer", include_deferred=False)

    bag = DagBag()
    if bag.import_errors:
        for path, err in bag.import_errors.items():
            print(f"DAG import error in {path}: {err}", file=sys.stderr)
        return 2
    dag = bag.get_dag(dag_id)
    if dag is None:
        print(f"no DAG {dag_id!r} in {bag.dag_folder}", file=sys.stderr)
        return 2
    dr = dag.test(logical_date=pendulum.parse(date).in_timezone("UTC"))
    state = str(getattr(dr, "state", "unknown"))
    print(f"newsmon: DAG run {dag_id} {date}: {state}", file=sys.stderr)
    return 0 if state.endswith("success") else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
