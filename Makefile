# The two commands of the README. Each sets up .venv (once) and then runs.
#   make demo   - the main job (for now: the authors checkpoints on the offline CIFAR copy)
#   make test   - the test suite
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
# Offline data for tests and examples (see README): ../shared/data when it exists.
PUSHPULL_DATA ?= $(abspath ../shared/data)
export PUSHPULL_DATA

.PHONY: demo test bench clean

$(BIN)/pushpull-viz: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev,notebooks]"
	touch $@

demo: $(BIN)/pushpull-viz
	$(BIN)/pushpull-viz official --out outputs/official

test: $(BIN)/pushpull-viz
	$(BIN)/python -m pytest -n 2

bench: $(BIN)/pushpull-viz
	$(BIN)/python benchmarks/bench_layer.py

clean:
	rm -rf $(VENV) outputs .pytest_cache
