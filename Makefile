# The whole set-up on a fresh machine is `make check` and `make test`:
# both create .venv/ and install the package with its pinned dependencies.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: check test bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

check: $(STAMP)
	$(BIN)/modelcheck check --summary specs/*.fspec

test: $(STAMP)
	$(BIN)/python -m pytest -q

# The bench families against SPIN (bench/README.md); BENCH_ARGS=--quick or --full.
bench: $(STAMP)
	$(BIN)/python bench/run.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) build *.egg-info
