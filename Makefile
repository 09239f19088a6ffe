# The two commands of the README. Each sets up .venv (once) and then runs.
#   make demo   - the main job: LeNet vs push-pull LeNet on noisy MNIST, report in outputs/demo
#   make test   - the test suite, and the five notebooks executed in quick mode (nbmake)
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
# Offline data for tests and examples (see README): ../shared/data when it exists; otherwise
# unset, and the demo downloads MNIST through torchvision.
PUSHPULL_DATA ?= $(if $(wildcard ../shared/data),$(abspath ../shared/data),)
export PUSHPULL_DATA

.PHONY: demo test lint bench notebooks slides slides-offline explorer clean

$(BIN)/pushpull-viz: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev,notebooks]"
	touch $@

demo: $(BIN)/pushpull-viz
	$(BIN)/pushpull-viz demo --out outputs/demo

# Two test workers share the cores: each (and the notebook kernels it starts) gets half of them. With
# every process using all cores, OpenMP threads oversubscribe the machine and spin-wait: on 2 cores a
# notebook's training cell and a training test slowed each other down many times over.
TEST_THREADS ?= $(shell $(PYTHON) -c "import os; print(max(1, (os.cpu_count() or 2) // 2))")

test: $(BIN)/pushpull-viz
	OMP_NUM_THREADS=$(TEST_THREADS) MKL_NUM_THREADS=$(TEST_THREADS) \
	$(BIN)/python -m pytest -n 2 --nbmake --nbmake-timeout=900 --durations=10 tests pushpull_viz notebooks/*.ipynb

# ruff (settings in pyproject.toml): the package, tests, benchmarks, docs scripts and the notebooks
lint: $(BIN)/pushpull-viz
	$(BIN)/ruff check .

bench: $(BIN)/pushpull-viz
	$(BIN)/python benchmarks/bench_layer.py
	$(BIN)/python benchmarks/bench_train.py --time-to-accuracy
	$(BIN)/python benchmarks/bench_corruptions.py
	$(BIN)/python benchmarks/bench_widgets.py

notebooks: $(BIN)/pushpull-viz
	$(BIN)/python notebooks/build.py --execute

# reveal.js decks of the committed notebooks in outputs/slides/ (see README, "Giving the talk")
slides: $(BIN)/pushpull-viz
	$(BIN)/python notebooks/slides.py --out outputs/slides

# the same decks with reveal.js and require.js beside them (from the npm registry, once), so that they
# open without a network; formulas still need MathJax's CDN and show as TeX source offline
slides-offline: $(BIN)/pushpull-viz
	mkdir -p outputs/slides
	cd outputs/slides && npm pack --silent reveal.js@4.6.1 requirejs@2.3.6 >/dev/null && rm -rf reveal.js && \
	mkdir reveal.js && tar -xzf reveal.js-4.6.1.tgz -C reveal.js --strip-components=1 && \
	tar -xzf requirejs-2.3.6.tgz package/require.js --strip-components=1 && rm -f reveal.js-4.6.1.tgz requirejs-2.3.6.tgz
	$(BIN)/python notebooks/slides.py --out outputs/slides

# the no-Python explorer: one HTML file with alpha and noise sliders
explorer: $(BIN)/pushpull-viz
	$(BIN)/pushpull-viz explorer --out outputs/explorer.html

clean:
	rm -rf $(VENV) outputs .pytest_cache
