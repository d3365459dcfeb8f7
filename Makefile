# One entry point for setup, demo, tests and benchmark. `make setup` works on a fresh machine.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: setup setup-python setup-node setup-browser demo test lint test-python test-enabler enabler bench bench-compare clean

setup: setup-python setup-node setup-browser ## venv + Python packages + npm packages + Chromium

setup-python:
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'

setup-node:
	cd devkit && npm ci --no-audit --no-fund
	cd enabler && npm ci --no-audit --no-fund

setup-browser: ## Debian's Chromium for the browser tests (never a test tool's own download)
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; }

demo: ## the whole local stack: emulator, ledger (SQLite), Processor, demo shop
	PYTHONPATH=devkit $(BIN)/python -m giftcard_devkit.demo

lint:
	$(BIN)/ruff check src tests devkit
	$(BIN)/ruff format --check src tests devkit
	$(BIN)/mypy

test-enabler:
	cd enabler && npm run typecheck && npm test

test-python:
	$(BIN)/pytest

test: lint test-enabler test-python ## everything CI runs

enabler: ## rebuild the Enabler into the Python package's static folder
	cd enabler && npm run build

bench: ## throughput, latency and upstream calls; JSON to $$BENCH_OUT (default bench-results.json)
	PYTHONPATH=devkit $(BIN)/python -m giftcard_devkit.bench

bench-compare: ## server / event loop / JSON variants on one core (the experiment behind docs/benchmark.md)
	PYTHONPATH=devkit $(BIN)/python -m giftcard_devkit.bench_compare

clean:
	rm -rf $(VENV) devkit/node_modules enabler/node_modules
