# Newsmon: `make run` (demo pipeline run) and `make test` (the whole suite) are the two commands.
SHELL := /bin/bash
PYTHON ?= python3.11
UV_VERSION := 0.13.9
VENV := .venv
BIN := $(VENV)/bin
# Use a uv already on PATH; otherwise bootstrap a pinned one with pip into .uv/ (kept out of the app venv,
# which `uv pip sync` keeps exactly equal to the lock).
UV := $(or $(shell command -v uv 2>/dev/null),.uv/bin/uv)
DEMO_DATE ?= 2026-11-24
export NEWSMON_DATA_DIR ?= $(CURDIR)/data

.PHONY: run test lint lock venv airflow reliability clean help

help:
	@echo "make run    - build .venv from requirements.lock and run newsmon_daily on the bundled demo sources"
	@echo "make test   - build .venv and run the whole test suite (ruff + pytest)"
	@echo "make lint   - ruff on the repo"
	@echo "make lock   - re-lock requirements.in into requirements.lock (hashes, no index URLs)"
	@echo "make airflow - Airflow standalone with our DAGs on 127.0.0.1:8080 (Ctrl-C stops it)"
	@echo "make reliability - the fault, hostile-input and escaping tests, the fuzz run and the SIGKILL trials"
	@echo "               (docs/reliability.md has the results)"

.uv/bin/uv:
	$(PYTHON) -m venv .uv
	.uv/bin/pip install --quiet "uv==$(UV_VERSION)"

$(BIN)/.synced: requirements.lock pyproject.toml Makefile | $(if $(shell command -v uv 2>/dev/null),,.uv/bin/uv)
	test -x $(BIN)/python || $(UV) venv --quiet --python $(PYTHON) $(VENV)
	# Bytecode compiled once here: where PYTHONDONTWRITEBYTECODE is set (CI, containers) every process,
	# each worker and each Airflow task would otherwise compile what it imports (GX: 3 s of its 6 s).
	$(UV) pip sync --quiet --python $(BIN)/python --require-hashes --compile-bytecode requirements.lock
	# Our own package, editable, with no new dependencies and the locked setuptools as the build backend.
	$(UV) pip install --quiet --python $(BIN)/python --no-deps --no-build-isolation -e .
	# The geocoder's compact index, built once per machine from the installed gazetteers (~/.cache/newsmon).
	$(BIN)/python -c "from pipelines import gazetteer; print('gazetteer index:', gazetteer.prebuild())"
	touch $@

# The tests' S3 server (moto), in a venv of its own: its botocore cannot live beside our dateutil.
.venv-s3/.synced: tools/s3-server.lock | $(if $(shell command -v uv 2>/dev/null),,.uv/bin/uv)
	test -x .venv-s3/bin/python || $(UV) venv --quiet --python $(PYTHON) .venv-s3
	$(UV) pip sync --quiet --python .venv-s3/bin/python --require-hashes tools/s3-server.lock
	touch $@

venv: $(BIN)/.synced .venv-s3/.synced

run: venv
	$(BIN)/newsmon demo --date $(DEMO_DATE)

test: venv
	$(BIN)/ruff check .
	$(BIN)/python -m pytest

reliability: venv
	$(BIN)/python -m pytest -q tests/test_faults.py tests/test_properties.py tests/test_fuzz.py \
		tests/test_discovery.py tests/test_fetch_http.py tests/test_store.py tests/test_alerts.py tests/test_untrusted_text.py
	$(BIN)/python benchmarks/fuzz.py
	$(BIN)/python benchmarks/faults.py --trials 20

airflow: venv
	scripts/airflow_local.sh

lint: venv
	$(BIN)/ruff check .

lock: | $(if $(shell command -v uv 2>/dev/null),,.uv/bin/uv)
	$(UV) pip compile --quiet --python-version 3.11 --generate-hashes --no-header requirements.in -o requirements.lock
	$(UV) pip compile --quiet --python-version 3.11 --generate-hashes --no-header tools/s3-server.in -o tools/s3-server.lock

clean:
	rm -rf $(VENV) .venv-s3 .uv data
