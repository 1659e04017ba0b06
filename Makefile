# riskmodel: `make run` runs the default pipeline, `make test` runs the tests. `make help` lists all.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
UV_VERSION := 0.13.8
STAMP  := $(VENV)/.installed
export MLFLOW_DISABLE_TELEMETRY := true
export PYTHONHASHSEED := 0

.PHONY: help setup run test bench lint ui clean browser postgres

help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

$(STAMP): requirements.lock pyproject.toml
	@echo ">> creating $(VENV) with $(PYTHON) and installing the locked dependency set"
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), f"riskmodel needs Python 3.11, found {sys.version.split()[0]}"'
	@# no pip inside the venv (uv installs everything); the machine's pip puts uv there, or,
	@# if that pip is older than 22.3 (no --python), the venv's own pip does
	$(PYTHON) -m venv --without-pip $(VENV)
	$(PYTHON) -m pip --python $(BIN)/python install --quiet --disable-pip-version-check uv==$(UV_VERSION) \
	  || { $(BIN)/python -m ensurepip --upgrade >/dev/null \
	       && $(BIN)/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION); }
	$(BIN)/uv pip sync --quiet --python $(BIN)/python requirements.lock
	$(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps -e .
	@touch $@

setup: $(STAMP) ## create .venv/ and install the locked dependencies and the package

lock: ## re-resolve requirements.lock from pyproject.toml (needs the network)
	$(BIN)/uv pip compile pyproject.toml --extra dev --python-version 3.11 \
	  --python-platform x86_64-unknown-linux-gnu --generate-hashes -o requirements.lock

run: $(STAMP) browser ## run the whole default pipeline (world, features, training, reports, eligibility list)
	$(BIN)/riskmodel pipeline

test: $(STAMP) browser postgres ## run the test suite (installs Chromium and PostgreSQL for their tests when it can)
	$(BIN)/python -m pytest -n 2 --dist loadgroup

bench: $(STAMP) ## write performance figures to reports/bench/*.json
	$(BIN)/python -m benchmarks

lint: $(STAMP) ## ruff (lint, format check) and import-linter (the layers in the README's Layout)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/lint-imports --no-cache --no-logo

ui: $(STAMP) ## MLflow UI on http://127.0.0.1:5000 over the project's store
	$(BIN)/mlflow ui --backend-store-uri "$${MLFLOW_TRACKING_URI:-sqlite:///$(CURDIR)/mlflow.db}" --host 127.0.0.1 --port 5000

browser: ## install Debian's headless Chromium (for the report rendering check), if apt and root allow
	@if command -v chromium >/dev/null; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo ">> installing Debian's chromium for the browser check of the reports"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null \
	    || echo "!! chromium could not be installed: the browser test will say so and skip"; \
	else echo "!! not root or no apt-get: chromium not installed; the browser test will skip"; fi

postgres: ## install Debian's PostgreSQL server (the SQL-source tests start a throwaway one), if apt and root allow
	@if ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo ">> installing Debian's postgresql for the SQL-source tests (a throwaway cluster per run)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null \
	    || echo "!! postgresql could not be installed: the SQL-source tests will say so and skip"; \
	else echo "!! not root or no apt-get: postgresql not installed; the SQL-source tests will skip"; fi

clean: ## remove generated data, reports, the MLflow store and the venv
	rm -rf $(VENV) synthetic_data/*/ reports/*/ mlflow.db mlartifacts .pytest_cache .hypothesis .cache
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
