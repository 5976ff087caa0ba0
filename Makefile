# Every target bootstraps .venv by itself: a fresh machine needs only python3 and make.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: test lint typecheck pytest demo bench fuzz clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[server,bench,dev,cli,gcp]'
	touch $(STAMP)

test: lint typecheck pytest

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks fuzz
	$(BIN)/ruff format --check src tests benchmarks fuzz

typecheck: $(STAMP)
	$(BIN)/mypy --strict src/levante

# Two workers, each test file in one of them (tests/conftest.py): much of the suite
# waits on sockets and subprocesses, so two overlap well even on two cores.
PYTEST_WORKERS ?= 2
pytest: $(STAMP)
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist loadfile

demo: $(STAMP)
	$(BIN)/python -m levante.cli chat "Tell me about the levante wind"

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_sse.py
	$(BIN)/python benchmarks/bench_stream.py
	$(BIN)/python benchmarks/bench_client.py
	$(BIN)/python benchmarks/bench_request.py
	$(BIN)/python benchmarks/bench_concurrency.py
	$(BIN)/python benchmarks/bench_memory.py
	$(BIN)/python benchmarks/bench_cli_startup.py

clean:
	rm -rf $(VENV) build dist .mypy_cache .ruff_cache

fuzz: $(STAMP)
	$(BIN)/python fuzz/fuzz_sse.py --seconds 60
	$(BIN)/python fuzz/fuzz_stream_core.py --seconds 60
