# kurz: one entry point for everything a person does.
# Reading this file runs nothing: each target installs only the tools it needs
# (scripts/install-tools.sh), so `make run` and `make test` work on a fresh machine
# and `make help` answers at once.
UV = $(or $(shell command -v uv 2>/dev/null),$(HOME)/.local/bin/uv)
PYTEST_ARGS ?=

.PHONY: help setup setup-test run test lint typecheck unit deploy-check bench fmt

help:
	@echo "make run           the whole stack locally (Postgres and Redis included)"
	@echo "make test          lint, deploy checks and the whole test suite"
	@echo "make unit          the unit tests alone (seconds)"
	@echo "make lint          ruff, mypy and the import contracts"
	@echo "make typecheck     mypy alone"
	@echo "make deploy-check  render and validate the Kubernetes manifests"
	@echo "make bench         redirect, bulk, aggregation, webhook and query benchmarks"

# What running needs: uv, Postgres and Redis.
setup:
	@scripts/install-tools.sh run
	@$(UV) sync --frozen --quiet

# What the whole test suite needs on top: kubectl and Chromium.
setup-test:
	@scripts/install-tools.sh test
	@$(UV) sync --frozen --quiet

run: setup
	$(UV) run kurz run

lint: setup
	$(UV) run ruff check .
	$(UV) run ruff format --check shared services
	$(UV) run mypy
	$(UV) run lint-imports --no-cache

typecheck: setup
	$(UV) run mypy

unit: setup
	$(UV) run pytest tests/unit -q $(PYTEST_ARGS)

fmt: setup
	$(UV) run ruff format shared services
	$(UV) run ruff check --fix .

deploy-check: setup-test
	$(UV) run python deploy/check.py

test: setup-test lint deploy-check
	$(UV) run pytest $(PYTEST_ARGS)

bench: setup
	@scripts/install-tools.sh bench
	$(UV) run python -m bench
