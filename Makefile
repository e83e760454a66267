# kurz: one entry point for everything a person does.
# Installing missing tools first makes `make run` and `make test` work on a fresh machine.
UV := $(shell scripts/install-tools.sh | tail -n 1)
PYTEST_ARGS ?=

.PHONY: help setup run test lint typecheck unit deploy-check bench fmt

help:
	@echo "make run           the whole stack locally (Postgres and Redis included)"
	@echo "make test          lint, deploy checks and the whole test suite"
	@echo "make lint          ruff and mypy"
	@echo "make deploy-check  render and validate the Kubernetes manifests"
	@echo "make bench         redirect, bulk, aggregation, webhook and query benchmarks"

setup:
	@$(UV) sync --frozen --quiet

run: setup
	$(UV) run kurz run

lint: setup
	$(UV) run ruff check .
	$(UV) run ruff format --check shared services
	$(UV) run mypy

fmt: setup
	$(UV) run ruff format shared services
	$(UV) run ruff check --fix .

deploy-check: setup
	$(UV) run python deploy/check.py

test: lint deploy-check
	$(UV) run pytest $(PYTEST_ARGS)

bench: setup
	@KURZ_BENCH_TOOLS=1 scripts/install-tools.sh >/dev/null
	$(UV) run python -m bench
