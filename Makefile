# Encosta: `make demo` and `make test` set everything up on a fresh Debian 12 or 13 machine.
# Each step is idempotent: a second run reuses what is installed and running.

SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml deploy/constraints.txt | cksum | cut -d' ' -f1)
REGISTRY := deploy/stations/rio-de-janeiro.toml
PYTEST_ARGS ?=

.PHONY: all bootstrap system venv services demo test lint bench fuzz constraints down clean

all: test

system:
	bash scripts/install-system.sh

# The run-time dependencies at the image's pins (deploy/constraints.txt), so the suite tests
# what the image runs; `make constraints` regenerates them after a dependency change.
$(STAMP): pyproject.toml deploy/constraints.txt
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11+ is required"'
	@[ -x $(BIN)/python ] || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -c deploy/constraints.txt -e '.[dev]'
	@rm -f $(VENV)/.installed-* && touch $@

venv: system $(STAMP)

services: venv
	$(BIN)/encosta services up
	$(BIN)/encosta migrate
	$(BIN)/encosta stations import $(REGISTRY)
	$(BIN)/encosta broker sync $(REGISTRY)

bootstrap: services

demo: bootstrap
	$(BIN)/encosta demo

test: bootstrap
	$(BIN)/pytest $(PYTEST_ARGS)

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

bench: bootstrap
	$(BIN)/python -m bench.ingest
	$(BIN)/python -m bench.ingest_rollup
	$(BIN)/python -m bench.model
	$(BIN)/python -m bench.simulator
	$(BIN)/python -m bench.alerts
	$(BIN)/python -m bench.broker_crash
	$(BIN)/python -m bench.evaluator
	$(BIN)/python -m bench.results
	$(BIN)/python -m bench.reports --seeds 5

# Bounded: runs the decoder fuzzers for FUZZ_SECONDS, prints what ran, stops by itself.
FUZZ_SECONDS ?= 60
fuzz: venv
	$(BIN)/python -m bench.fuzz --seconds $(FUZZ_SECONDS)

# The image's pins (deploy/constraints.txt) from this virtualenv; tests/deploy checks them.
constraints: venv
	$(BIN)/python scripts/constraints.py

down:
	-$(BIN)/encosta services down

clean: down
	rm -rf .state $(VENV)
