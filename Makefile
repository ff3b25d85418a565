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

.PHONY: install test sweep analyze bench bench-kernel clean

$(INSTALLED): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	# warm numba's cache: the first sweep or test then loads the kernels instead of compiling them
	$(BIN)/python -c "from engine.training import compile_kernels; compile_kernels(['float64', 'float32'])"
	touch $(INSTALLED)

install: $(INSTALLED)

test: $(INSTALLED)
	$(BIN)/python -m pytest -q

sweep: $(INSTALLED)
	$(BIN)/nn47 sweep $(SPEC) --jobs $(JOBS) --out $(OUT)
	$(BIN)/nn47 analyze $(OUT)

analyze: $(INSTALLED)
	$(BIN)/nn47 analyze $(OUT)

bench-kernel: $(INSTALLED)
	$(BIN)/nn47 bench kernel

bench: $(INSTALLED)
	$(BIN)/nn47 bench all

clean:
	rm -rf $(VENV) results/*/ .pytest_cache
