# Run `make help` to see the targets.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.DEFAULT_GOAL := help
.PHONY: help install demo test lint typecheck unit clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed (set PYTHON=python3.11)")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP) ## create .venv with the project and its development tools

demo: $(STAMP) ## run the whole pipeline on the bundled sample data (SQLite)
	$(BIN)/reputation demo --workdir demo-output

lint: $(STAMP) ## ruff
	$(BIN)/ruff check reputation connectors alerts tests
	$(BIN)/ruff format --check reputation connectors alerts tests

typecheck: $(STAMP) ## mypy, strict, on the packages
	$(BIN)/mypy

unit: $(STAMP) ## the test suite only
	$(BIN)/pytest

test: lint typecheck unit ## everything CI runs: lint, types, tests (SQLite and PostgreSQL)

clean: ## remove the environment and generated files
	rm -rf $(VENV) demo-output digests .pytest_cache .mypy_cache .ruff_cache *.egg-info
