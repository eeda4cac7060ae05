# The whole set-up on a fresh machine is `make check` and `make test`:
# both create .venv/ and install the package with its pinned dependencies.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: check test test-asan test-tsan matrix bench fuzz clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test,ray]'
	touch $(STAMP)

# The native core again whenever its C source changes (pip built it first);
# without a compiler the Python engine runs, as the report says.
NATIVE := $(VENV)/.native
$(NATIVE): $(STAMP) setup.py modelcheck/search/native/vm.c modelcheck/search/native/sym.c \
		modelcheck/search/native/sym.h modelcheck/search/native/graph.c
	$(BIN)/python setup.py -q build_ext --inplace 2>/dev/null \
		|| echo "the native core was not built: the Python engine runs"
	touch $(NATIVE)

check: $(NATIVE)
	$(BIN)/modelcheck check --summary specs/*.fspec

# The remedies of seed 003 (dma-buf.rst, recoverable page faults) side by side.
matrix: $(STAMP)
	$(BIN)/modelcheck matrix specs/pagefault_remedies.fspec -D REMEDY=0..4

test: $(NATIVE)
	$(BIN)/python -m pytest -q

# The native search core and the C analyses built with AddressSanitizer and
# UBSan, then their agreement tests run under them (the extensions are
# rebuilt normally after).
ASAN_LIB = $(shell gcc -print-file-name=libasan.so)
test-asan: $(STAMP)
	CFLAGS="-fsanitize=address,undefined -fno-omit-frame-pointer -O1 -g" LDFLAGS="-fsanitize=address,undefined" \
		$(BIN)/python setup.py -q build_ext --inplace --force
	LD_PRELOAD=$(ASAN_LIB) ASAN_OPTIONS=detect_leaks=0 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
		$(BIN)/python -m pytest -q -p no:cacheprovider tests/test_native.py tests/test_native_symmetry.py \
		tests/test_graph_native.py tests/test_quotient_verdict.py tests/test_workers.py \
		tests/test_workers_symmetry.py; \
		status=$$?; $(BIN)/python setup.py -q build_ext --inplace --force; exit $$status

# The threads of `--workers N` under ThreadSanitizer: the native search built
# with it, the agreement tests of several threads run (the extension rebuilt
# normally after).  Python itself is not instrumented; the threads run C only.
TSAN_LIB = $(shell gcc -print-file-name=libtsan.so)
test-tsan: $(STAMP)
	CFLAGS="-fsanitize=thread -O1 -g" LDFLAGS="-fsanitize=thread" \
		$(BIN)/python setup.py -q build_ext --inplace --force
	LD_PRELOAD=$(TSAN_LIB) TSAN_OPTIONS=halt_on_error=1:report_signal_unsafe=0 \
		$(BIN)/python -m pytest -q -p no:cacheprovider tests/test_workers.py tests/test_workers_symmetry.py; \
		status=$$?; $(BIN)/python setup.py -q build_ext --inplace --force; exit $$status

# The bench families against SPIN (bench/README.md); BENCH_ARGS=--quick or --full.
bench: $(NATIVE)
	$(BIN)/python bench/run.py $(BENCH_ARGS)

# A long fuzzing campaign (scripts/fuzz.py); FUZZ_ARGS="--inputs 20000 --workers 2".
fuzz: $(STAMP)
	$(BIN)/python scripts/fuzz.py $(FUZZ_ARGS)

clean:
	rm -rf $(VENV) build *.egg-info
