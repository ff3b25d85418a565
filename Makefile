# nn47: `make sweep` runs the main experiment, `make test` the tests.
# Every target installs what it needs into .venv first (Python 3.11+ and make suffice).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
SPEC ?= experiments/default.toml
NAME ?= $(basename $(notdir $(SPEC)))
OUT ?= results/$(NAME)
JOBS ?= 1

.PHONY: install lint test test-fast test-lowest sweep analyze bench bench-kernel clean

$(INSTALLED): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test,digits]"
	# warm numba's cache: the first sweep or test then loads the kernels instead of compiling them
	$(BIN)/python -c "from engine.training import compile_kernels; compile_kernels(['float64', 'float32'])"
	touch $(INSTALLED)

install: $(INSTALLED)

# ruff: lint and format, configured in pyproject.toml
lint: $(INSTALLED)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test: lint
	$(BIN)/python -m pytest -q

# Everything but the tests marked slow (subprocesses, parallel backends, compilation).
test-fast: $(INSTALLED)
	$(BIN)/python -m pytest -q -m "not slow"

# The lowest versions pyproject allows (uv's lowest-direct resolution) in a venv
# of their own, with their own numba cache, and the fast tests on them.
LOWEST := .venv-lowest
test-lowest:
	$(PYTHON) -m venv $(LOWEST)
	$(LOWEST)/bin/python -m pip install --quiet uv
	$(LOWEST)/bin/uv pip install --quiet --python $(LOWEST)/bin/python --resolution lowest-direct -e ".[test,digits]"
	NUMBA_CACHE_DIR=$(LOWEST)/numba-cache $(LOWEST)/bin/python -m pytest -q -m "not slow" -p no:cacheprovider

# One process: the analysis finds numba, pandas and scipy loaded already.
sweep: $(INSTALLED)
	$(BIN)/nn47 sweep $(SPEC) --jobs $(JOBS) --out $(OUT) --analyze

analyze: $(INSTALLED)
	$(BIN)/nn47 analyze $(OUT)

bench-kernel: $(INSTALLED)
	$(BIN)/nn47 bench kernel

bench: $(INSTALLED)
	$(BIN)/nn47 bench all

clean:
	rm -rf $(VENV) $(LOWEST) results/*/ .pytest_cache
