"""libFuzzer (atheris) target for `check_source`: coverage-guided byte
mutations, seeded with a corpus directory such as a copy of specs/.

    python scripts/atheris_target.py -runs=20000 -max_total_time=600 CORPUS_DIR

Every input is read as a spec file is (UTF-8, size cap) and checked with
small limits.  A positioned `SpecError` is the expected answer to bad
input; any other exception is a crash, which libFuzzer reports with the
input that caused it (exit status other than 0).  The hypothesis mutator
(tests/fuzzing.py, `make fuzz`) is the grammar-aware twin of this target.
"""
from __future__ import annotations

import sys

import atheris

import modelcheck
from modelcheck.language.syntax import decode

LIMITS = modelcheck.Limits(max_states=3000, timeout=5, max_memory_mb=500)


def one_input(data: bytes) -> None:
    try:
        text = decode(data, "<fuzz>")
        modelcheck.check_source(text, path="<fuzz>", limits=LIMITS)
    except modelcheck.SpecError:
        pass


def main() -> None:
    # Load every module a check uses (some are imported lazily), then
    # instrument them all, lark included, for coverage feedback.
    one_input(b"lock a\nthread t { lock a; unlock a }\n")
    atheris.instrument_all()
    atheris.Setup(sys.argv, one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
