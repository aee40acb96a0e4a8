# taskdiff — two commands on a fresh machine: `make demo` and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export HF_HUB_OFFLINE := 1
export HF_DATASETS_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false

.PHONY: install demo test test-slow test-demo bench clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

# torch first, pinned to the local CPU wheel: a looser spec pulls CUDA packages.
$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/taskdiff demo --out demo-output

# the fast suite on two pytest-xdist workers (the machine's two cores; most tests use one thread)
test: $(STAMP)
	$(BIN)/python -m pytest -q -n 2 --durations=25 -m "not slow" tests

# integration tests on ../shared data and the offline encoder, and the full-size testbed (the demo
# once, shared by every testbed test: tests/testbed/conftest.py); every test's time printed
# (docs/performance.md, "CI budget"). The demo's runs go to two worker processes whatever the
# load left by the fast suite (its numbers do not depend on the worker count: docs/demo.md). The
# slow suite runs in one pytest process: on two xdist workers it took longer (docs/performance.md)
test-slow: $(STAMP)
	TASKDIFF_DEMO_THREADS=2 $(BIN)/python -m pytest -q --durations=0 -m slow tests

# only the full-size testbed: runs the whole demo and checks what it plants is recovered
test-demo: $(STAMP)
	$(BIN)/python -m pytest -q --durations=25 -m demo tests

bench: $(STAMP)
	$(BIN)/python -m benchmarks.run_all

clean:
	rm -rf $(VENV) demo-output .pytest_cache
