# Brigade: `make run` starts the demo restaurant, `make test` runs every check. See README.md.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
SUDO := $(shell [ "$$(id -u)" = 0 ] || command -v sudo)
HOST ?= 127.0.0.1
PORT ?= 8000
CHROMIUM ?= $(shell command -v chromium || echo /usr/bin/chromium)
PYTEST := $(BIN)/pytest -p no:cacheprovider
CODE := $(wildcard app kds printers bench)

.PHONY: run setup test lint typecheck unit integration integration-sqlite integration-postgres e2e faults group bench chromium hledger vendor clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV) || ( rm -rf $(VENV) && $(SUDO) apt-get update -qq && \
		$(SUDO) apt-get install -y -qq python3-venv && $(PYTHON) -m venv $(VENV) )
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e ".[dev]"
	@touch $@

setup: $(VENV)/.installed

run: setup
	$(BIN)/brigade db upgrade
	$(BIN)/brigade demo --if-empty
	@echo ""
	@echo "  Brigade is serving the demo restaurant at http://$(HOST):$(PORT)"
	@echo "  A new browser is enrolled first: name it and enter the manager's PIN 9999."
	@echo "  Log in with a demo PIN above (server 1111, bartender 2222, cook 3333, manager 9999)."
	@echo ""
	$(BIN)/brigade serve --host $(HOST) --port $(PORT)

chromium:
	@command -v chromium >/dev/null 2>&1 || ($(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq chromium)

hledger:
	@command -v hledger >/dev/null 2>&1 || ($(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq hledger)

lint: setup
	$(BIN)/ruff check $(CODE) tests
	$(BIN)/ruff format --check $(CODE) tests
	$(BIN)/lint-imports

typecheck: setup
	$(BIN)/mypy $(filter-out bench,$(CODE))

unit: setup
	$(PYTEST) -q tests/unit

integration-sqlite: setup
	$(PYTEST) -q tests/integration --backend sqlite

integration-postgres: setup
	$(PYTEST) -q tests/integration --backend postgres

# The two backends at once: each is one Python process, so together they keep both cores busy.
integration: setup
	$(MAKE) --no-print-directory -j2 --output-sync=target integration-sqlite integration-postgres

e2e: setup chromium
	BRIGADE_CHROMIUM=$(CHROMIUM) $(PYTEST) -q tests/e2e

faults: setup
	$(PYTEST) -q tests/faults

# A head office on PostgreSQL and two venues on SQLite as real processes (see tests/group).
group: setup
	$(PYTEST) -q tests/group

test: setup chromium hledger lint typecheck unit integration faults group e2e

# Both modes, a BENCH line each (see docs/performance.md); BENCH_ARGS="--mode sqlite --duration 10" to narrow it.
bench: setup
	$(BIN)/python -m bench.run $(BENCH_ARGS)
	$(BIN)/python -m bench.catalog_release
	$(BIN)/python -m bench.ingest

vendor:
	bash static/vendor/update.sh

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
