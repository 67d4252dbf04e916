# The two commands a newcomer needs: `make run` and `make test`. Everything else is optional.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PERIOD ?= 2019Q1
# The simulated history make run loads, so that any quarter or year of it can be printed afterwards.
LOAD_FROM ?= 2018-01-01
LOAD_TO ?= 2019-12-31

.PHONY: help install browser run test unit e2e bench scale-out drills lint format airflow docs db-up db-down clean lock

help:
	@echo "make run      set up everything and run the pipeline for $(PERIOD) (PERIOD=2019Q2 for another)"
	@echo "make test     lint, unit tests, DAG integrity and end-to-end tests"
	@echo "make browser  headless Chromium for the report's browser test (Debian packages, as root)"
	@echo "make bench    benchmarks: each measurement against its baseline, with its target"
	@echo "make scale-out  the DAGs on LocalExecutor and on CeleryExecutor (Redis, 2 workers): same release?"
	@echo "make drills   the failure drills: killed extract, database crash, source outage, double delivery, full disk"
	@echo "make lint     ruff (with the Airflow AIR rules), sqlfluff, the import contracts and mypy"
	@echo "make airflow  the Airflow UI and scheduler on http://127.0.0.1:8080"
	@echo "make docs     dbt docs into .egov/dbt/target"
	@echo "make clean    stop servers and delete all generated state"

$(STAMP): pyproject.toml constraints.txt
	@command -v $(PYTHON) >/dev/null || { echo "Python 3.11 is required ($(PYTHON) not found)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

# The report's browser test renders the HTML report in headless Chromium (Debian's package; a
# browser downloaded by a test tool would need the network). Fonts with Vietnamese letters too.
browser:
	@command -v chromium >/dev/null && exit 0; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "installing Chromium and fonts from Debian for the report's browser test"; \
		apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium fonts-liberation2 fonts-dejavu-core; \
	else \
		echo "the report's browser test needs Chromium: as root, apt-get install chromium fonts-liberation2 fonts-dejavu-core"; \
		exit 1; \
	fi

run: $(STAMP)
	$(BIN)/egov run --period $(PERIOD) --load-from $(LOAD_FROM) --load-to $(LOAD_TO)

# Performance: every row is a ratio measured side by side in this run, printed with its target.
bench: $(STAMP)
	$(BIN)/egov bench

# The real DAGs through a scheduler with LocalExecutor, then with CeleryExecutor (Redis, two workers);
# fails unless both publish the same figures with the same content hash.
scale-out: $(STAMP)
	$(BIN)/egov scale-out --workers 2

# The failure drills alone (they also run in `make test`).
drills: $(STAMP)
	$(BIN)/python -m pytest -m drill

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/sqlfluff lint dbt_project/models dbt_project/macros dbt_project/tests
	$(BIN)/lint-imports
	$(BIN)/mypy

test: $(STAMP) browser  ## lint runs inside pytest (tests/test_lint.py)
	$(BIN)/python -m pytest

unit: $(STAMP) browser
	$(BIN)/python -m pytest -m "not e2e"

e2e: $(STAMP)
	$(BIN)/python -m pytest -m e2e

airflow: $(STAMP)
	$(BIN)/egov db up
	$(BIN)/egov sim up
	$(BIN)/egov airflow db migrate
	$(BIN)/egov airflow standalone

docs: $(STAMP)
	$(BIN)/egov db up
	$(BIN)/egov dbt docs generate
	@echo "open .egov/dbt/target/index.html, or: $(BIN)/egov dbt docs serve --host 127.0.0.1"

db-up: $(STAMP)
	$(BIN)/egov db up

db-down: $(STAMP)
	$(BIN)/egov db down

clean:
	-[ -x $(BIN)/egov ] && $(BIN)/egov sim down
	-[ -x $(BIN)/egov ] && $(BIN)/egov db down
	rm -rf .egov $(VENV) .pytest_cache .ruff_cache .mypy_cache .grimp_cache .import_linter_cache
	find . -name __pycache__ -type d -prune -exec rm -rf {} +

lock:
	$(PYTHON) -m venv /tmp/egov-lock && /tmp/egov-lock/bin/pip install --quiet '.[dev]'
	{ sed -n '1,2p' constraints.txt; /tmp/egov-lock/bin/pip freeze --exclude egov-warehouse; } > constraints.new
	mv constraints.new constraints.txt && rm -rf /tmp/egov-lock
