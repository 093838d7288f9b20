"""Newsmon: the plain Python library behind the Airflow DAGs and the `newsmon` CLI (never imports Airflow)."""

from pipelines.settings import limit_native_threads

limit_native_threads()
