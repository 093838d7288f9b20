"""Newsmon: the plain Python library behind the Airflow DAGs and the `newsmon` CLI (never imports Airflow)."""
