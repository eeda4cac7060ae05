"""The libFuzzer (atheris) target for `check_source`, run for a fixed
budget: 2000 coverage-guided mutations of the specs in specs/ end without
a crash (any exception but a positioned SpecError)."""
from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

from helpers import REPO

pytest.importorskip("atheris")


def test_atheris_finds_no_crash_in_a_fixed_budget(tmp_path):
    corpus = tmp_path / "corpus"                  # libFuzzer adds what it finds to it
    shutil.copytree(REPO / "specs", corpus)
    run = subprocess.run([sys.executable, str(REPO / "scripts" / "atheris_target.py"),
                          "-runs=2000", "-max_total_time=120", "-seed=1", str(corpus)],
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    assert "Done 2000 runs" in run.stderr or "DONE" in run.stderr, run.stderr[-2000:]
