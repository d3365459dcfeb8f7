# One entry point: `make demo` and `make test` set themselves up when needed. `make help` lists the targets.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# Stamps: a setup step runs again only when the file it installs from has changed.
PY_STAMP := $(VENV)/.installed
NODE_STAMPS := devkit/node_modules/.installed enabler/node_modules/.installed

.DEFAULT_GOAL := help
.PHONY: help setup setup-python setup-node setup-browser setup-test demo session test lint test-python test-enabler enabler bench bench-ledger bench-compare openapi container-check clean

help: ## list the targets
	@awk 'BEGIN {FS = ":[^#]*## "} /^[a-zA-Z_-]+:.*## / {gsub(/\$$\$$/, "$$", $$2); printf "  make %-16s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

setup: setup-python setup-node ## venv + Python packages (services, extras, dev tools) + npm packages; no browser

setup-python: $(PY_STAMP)
$(PY_STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

setup-node: $(NODE_STAMPS)
%/node_modules/.installed: %/package-lock.json
	cd $* && npm ci --no-audit --no-fund
	touch $@

setup-browser: ## Debian's Chromium for the browser tests (never a test tool's own download)
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; }

setup-test: setup setup-browser ## setup + Chromium: what `make test` needs

demo: setup ## set up when needed, then the whole local stack: emulator, ledger (SQLite), Processor, demo shop
	PYTHONPATH=devkit $(BIN)/python -m giftcard_devkit.demo

session: ## a cart and checkout session on the running demo, for your own page (prints the session id)
	PYTHONPATH=devkit $(BIN)/python -m giftcard_devkit.session $(SESSION_ARGS)

lint: ## ruff (check + format) and mypy --strict
	$(BIN)/ruff check src tests devkit
	$(BIN)/ruff format --check src tests devkit
	$(BIN)/mypy

test-enabler: ## the Enabler's typecheck and tests
	cd enabler && npm run typecheck && npm test

test-python: ## every Python test (unit, integration, ledger, packaging, browser)
	$(BIN)/pytest

test: setup-test lint test-enabler test-python ## set up when needed, then every test (what CI runs)

enabler: ## rebuild the Enabler into the Python package's static folder
	cd enabler && npm run build

bench: setup ## throughput, latency and upstream calls; JSON to $$BENCH_OUT (default bench-results.json)
	PYTHONPATH=devkit $(BIN)/python -m giftcard_devkit.bench

bench-ledger: setup ## ledger debits/s next to pgbench's TPC-B tps, same clients, one run (LEDGER_BENCH_ARGS="--workers 2 --load python")
	PYTHONPATH=devkit $(BIN)/python -m giftcard_devkit.ledger_bench $(LEDGER_BENCH_ARGS)

bench-compare: ## server / event loop / JSON variants on one core (the experiment behind docs/benchmark.md)
	PYTHONPATH=devkit $(BIN)/python -m giftcard_devkit.bench_compare

openapi: ## write docs/openapi.json from the app (a test fails when the committed one is stale)
	PYTHONPATH=devkit $(BIN)/python -m giftcard_devkit.openapi

container-check: setup ## root, minutes: image + compose stack here, driven through HAProxy with a copy killed (README, Deployment)
	PYTHONPATH=devkit $(BIN)/python -m giftcard_devkit.container_check $(CHECK_ARGS)

clean: ## remove the venv and node_modules
	rm -rf $(VENV) devkit/node_modules enabler/node_modules
