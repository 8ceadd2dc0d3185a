# The two commands of the README:
#   make run   - set up, train if needed, load demo orders, start the assistant
#   make test  - set up, lint, validate the Rasa data, run the whole test suite
.PHONY: setup browser balancer run test test-unit test-integration test-e2e nlu-eval perf clean

VENV ?= .venv
PY := $(VENV)/bin/python
RASA := $(VENV)/bin/rasa
# Rasa telemetry (and the crash reports that go with it) stays off unless the shop sets it
export RASA_TELEMETRY_ENABLED ?= false

setup:
	@bash scripts/setup.sh

run: setup
	@$(PY) -m bot serve

# Debian chromium + a Chinese font for the browser test (apt-get; skipped when present)
browser:
	@bash scripts/ensure_browser.sh

# Debian HAProxy for the cluster test (apt-get; skipped when present)
balancer:
	@bash scripts/ensure_balancer.sh

test: setup browser balancer
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(RASA) data validate --quiet
	$(PY) -m pytest

# one level of the suite (markers given by folder in tests/conftest.py); `make test` runs them all
test-unit: setup
	$(PY) -m pytest -m unit

test-integration: setup
	$(PY) -m pytest -m integration

test-e2e: setup browser balancer
	$(PY) -m pytest -m e2e

nlu-eval: setup
	$(PY) -m bot nlu-eval

# turn benchmark against a bare `rasa init` bot; report in docs/perf-report.md
perf: setup
	$(PY) -m bot perf --reference

clean:
	rm -rf var .pytest_cache
