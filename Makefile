# daiban — the two commands are `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
TOOLS := .tools
UV := $(shell command -v uv 2>/dev/null || echo $(TOOLS)/bin/uv)
export UV_PYTHON_DOWNLOADS := never

.PHONY: run run-tiers test test-unit test-integration test-e2e lint format bench fuzz demo clean setup

setup: .venv/.synced

$(TOOLS)/bin/uv:
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/python -m pip install --quiet --disable-pip-version-check uv

.venv/.synced: pyproject.toml uv.lock libs/common/pyproject.toml $(wildcard services/*/pyproject.toml) | $(UV)
	$(UV) sync --frozen --all-packages
	@touch $@

run: setup
	$(UV) run daiban run

# The county node (8001-8004) and the township node 370285101000 (8011-8014), separately.
run-tiers: setup
	$(UV) run daiban run --tiers

# A live case from a village point to the township and back, against a running `make run`.
demo: setup
	$(UV) run daiban demo

test: setup lint
	$(UV) run pytest tests/unit -q
	$(UV) run pytest tests/integration -q
	$(UV) run pytest tests/e2e -q

test-unit: setup
	$(UV) run pytest tests/unit -q

test-integration: setup
	$(UV) run pytest tests/integration -q

test-e2e: setup
	$(UV) run pytest tests/e2e -q

lint: setup
	$(UV) run ruff check .
	$(UV) run ruff format --check .
	$(UV) run mypy libs/common/daiban_common services tests bench fuzz

format: setup
	$(UV) run ruff check --fix .
	$(UV) run ruff format .

bench: setup
	$(UV) run python -m bench

# Schemathesis on all four services of a throwaway node (fuzz/README.md); exits 1 on any failure.
fuzz: setup
	$(UV) run python -m fuzz

clean:
	rm -rf var .venv $(TOOLS) .pytest_cache .mypy_cache .ruff_cache
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
