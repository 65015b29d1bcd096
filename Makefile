# `make run` and `make test` set everything up themselves on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test lint bench bench-data soak fuzz clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Reinstall only when the dependency list changes; a second call installs nothing.
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/ordersearch serve --host $(HOST) --port $(PORT) --setup

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy

# The console's browser test drives Debian's chromium (never a downloaded browser).
test: $(STAMP)
	@command -v chromium >/dev/null || (apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium)
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy
	$(BIN)/python -m pytest -q

# Benchmarks: numbers, not tests (docs/performance.md). Generate data first.
BENCH_URL ?= sqlite:///$(CURDIR)/bench/results/bench.db
BENCH_ORDERS ?= 100000

bench-data: $(STAMP)
	$(BIN)/python -m bench.generate --url '$(BENCH_URL)' --orders $(BENCH_ORDERS)

bench: $(STAMP)
	@command -v wrk >/dev/null 2>&1 || apt-get install -y wrk
	$(BIN)/python -m bench.pull --url '$(BENCH_URL)'

soak: $(STAMP)
	$(BIN)/python -m bench.soak --seconds 60 --concurrency 32

fuzz: $(STAMP)
	ORDERSEARCH_FUZZ_EXAMPLES=2000 $(BIN)/python -m pytest -q tests/fuzz

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
