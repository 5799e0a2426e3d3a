# daiban — the two commands are `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
TOOLS := .tools
UV := $(shell command -v uv 2>/dev/null || echo $(TOOLS)/bin/uv)
export UV_PYTHON_DOWNLOADS := never

.PHONY: browser deploy-check run run-tiers test test-unit test-integration test-e2e lint format bench fuzz demo clean setup

setup: .venv/.synced

$(TOOLS)/bin/uv:
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/python -m pip install --quiet --disable-pip-version-check uv

.venv/.synced: pyproject.toml uv.lock $(wildcard libs/*/pyproject.toml services/*/pyproject.toml) | $(UV)
	$(UV) sync --frozen --all-packages
	@touch $@

run: setup
	$(UV) run daiban run

# Debian's Chromium, its driver and a font with Chinese glyphs, for the console's browser test
# (tests/e2e/test_console.py skips without them); root and apt-get only, never a downloaded browser.
browser:
	apt-get install -y --no-install-recommends chromium chromium-driver fonts-wqy-microhei

# The county node (8001-8004) and the township node 370285101000 (8011-8014), separately.
run-tiers: setup
	$(UV) run daiban run --tiers

# A live case from a village point to the township and back, against a running `make run`.
demo: setup
	$(UV) run daiban demo

# The integration and end-to-end tests mostly wait (on PostgreSQL, NATS, services starting), so
# they run on pytest-xdist workers, each with its own embedded servers; --dist loadfile keeps a
# file's tests on one worker, and the e2e journeys, which share one county node, together
# (tests/conftest.py). They share one session so that the slow end-to-end tests start at once
# instead of after the integration tests.
TEST_WORKERS ?= 4
XDIST := -n $(TEST_WORKERS) --dist loadfile

# Lint and the unit tests first, side by side (their output kept apart); the unit tests stay a
# session of their own because the integration tests register probe events in the process.
test: setup
	$(MAKE) --no-print-directory -j2 --output-sync=target lint test-unit
	$(UV) run pytest tests/e2e tests/integration -q $(XDIST)

test-unit: setup
	$(UV) run pytest tests/unit -q

test-integration: setup
	$(UV) run pytest tests/integration -q $(XDIST)

test-e2e: setup
	$(UV) run pytest tests/e2e -q $(XDIST)

lint: setup
	$(UV) run ruff check .
	$(UV) run ruff format --check .
	$(UV) run mypy libs/common/daiban_common libs/contracts/daiban_contracts libs/devtools/daiban_devtools console/daiban_console services tests bench fuzz docs/examples

format: setup
	$(UV) run ruff check --fix .
	$(UV) run ruff format .

bench: setup
	$(UV) run python -m bench

# Schemathesis on all four services of a throwaway node (fuzz/README.md); exits 1 on any failure.
fuzz: setup
	$(UV) run python -m fuzz

# Builds the image (and PostgreSQL and nats-server images), runs deploy/compose/county.yaml's county
# node in containers with podman, walks a case through it, prints the image size and the time, and
# stops everything (deploy/check.py). Needs root, podman, buildah and debootstrap; not in CI (slow).
deploy-check: setup
	$(UV) run python -m deploy.check

clean:
	rm -rf var .venv $(TOOLS) .pytest_cache .mypy_cache .ruff_cache
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
