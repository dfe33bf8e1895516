# One command each, locally and in CI. Every target creates .venv and installs what it needs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test
HOST ?= 127.0.0.1
PORT ?= 4010

.PHONY: serve test test-fast check bench bench-smoke bench-profile bench-fidelity clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(TEST_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP) $@

serve: $(STAMP)
	$(BIN)/mockserver serve --host $(HOST) --port $(PORT)

test: $(TEST_STAMP)
	$(BIN)/python -m pytest

# The inner loop (< 1 min): unit and in-process tests; no subprocesses, load, fuzzing or browsers
test-fast: $(TEST_STAMP)
	$(BIN)/python -m pytest -m "not e2e" tests --ignore=tests/robustness

check: $(TEST_STAMP)
	$(BIN)/ruff check mockserver tests contracts bench
	$(BIN)/ruff format --check mockserver tests contracts bench
	$(BIN)/mypy mockserver

# ~10 min; writes bench/RESULTS.md. Shorter or longer: BENCH_SECONDS, BENCH_ROUNDS, BENCH_SOAK (see bench/__main__.py)
bench: $(TEST_STAMP)
	$(BIN)/python -m bench

bench-smoke: $(TEST_STAMP)
	$(BIN)/python -m bench --smoke

# per-layer costs in process, then py-spy on a live server under wrk (installs py-spy into bench/.cache/)
bench-profile: $(TEST_STAMP)
	$(BIN)/python -m bench.profile --py-spy 8

# the first answer of each of 1,000 operations, readable and --edge-cases side by side (bench/fidelity.py)
bench-fidelity: $(TEST_STAMP)
	$(BIN)/python -m bench.fidelity

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
