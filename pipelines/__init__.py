"""Newsmon: the plain Python library behind the Airflow DAGs and the `newsmon` CLI (never imports Airflow)."""

import os

# One BLAS thread per process: OpenBLAS's second thread made spaCy's NER about a fifth slower even in a
# process of its own, and our worker processes already fill the cores. Set here, before any of our
# modules loads numpy (OpenBLAS reads it once, then), so the CLI, its spawned workers, Airflow's task
# processes and the benchmarks all get it; a value the operator set stays.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
