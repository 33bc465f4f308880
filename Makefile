# The two commands: `make demo` and `make test`. Both build the virtual environment first.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: demo test test-unit lint bench venv clean

venv: $(STAMP)

# npm ci: GOV.UK Frontend (served to the web pages from node_modules, never committed) and
# axe-core (injected by the browser tests), at the versions package-lock.json pins.
$(STAMP): pyproject.toml constraints.txt package.json package-lock.json
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c constraints.txt -e '.[dev]'
	npm ci --no-audit --no-fund --loglevel=error
	touch $(STAMP)

demo: venv
	$(VENV)/bin/hub demo $(if $(DURATION),--duration $(DURATION),)

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports --no-logo

# The suite runs on every core (pytest-xdist). Each worker starts its own embedded broker for
# its integration tests; worksteal keeps both cores busy while one sits in a long replay test.
TEST_WORKERS ?= auto
XDIST := -n $(TEST_WORKERS) --dist worksteal
# Bytecode is cached for test runs even where the environment sets PYTHONDONTWRITEBYTECODE
# (__pycache__ is ignored by git): without it every xdist worker compiles and assertion-
# rewrites the whole suite again (about 5 s of CPU each) and every hub process the tests
# start (API, worker, CLI: well over a hundred) compiles the hub again (about 0.3 s each).
PYTEST := env -u PYTHONDONTWRITEBYTECODE $(PY) -m pytest

test: lint
	$(PYTEST) $(XDIST) $(PYTEST_ARGS)

# The fast subset: no broker, no process, no database server (well under a minute).
test-unit: venv
	$(PYTEST) $(XDIST) -m "not integration" $(PYTEST_ARGS)

# The replay from the topic through the worker's projector takes hours at a million events
# (each batch rewrites whole family states); add it with REPLAY_ARGS= (empty).
REPLAY_ARGS ?= --no-topic

bench: venv
	$(PY) -m bench.e2e $(BENCH_ARGS)
	$(PY) -m bench.audit
	$(PY) -m bench.pages
	$(PY) -m bench.ig_search
	$(PY) -m bench.replay $(REPLAY_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
