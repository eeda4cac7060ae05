"""Every spec's output is byte-identical across runs and across
PYTHONHASHSEED values (set and dict orders must never leak into a report),
timings aside."""
from __future__ import annotations

import os
import re
import subprocess
import sys

from helpers import REPO

TIMES = re.compile(r'("(?:z3_)?seconds": )[0-9.e-]+|[0-9]+\.[0-9]+ s\b')


def _run(seed: str, fmt: str) -> str:
    specs = sorted(str(p) for p in (REPO / "specs").glob("*.fspec"))
    r = subprocess.run([sys.executable, "-m", "modelcheck", "check", "--format", fmt, *specs],
                       capture_output=True, text=True, cwd=REPO,
                       env={**os.environ, "PYTHONHASHSEED": seed})
    assert r.returncode == 0, r.stderr
    return TIMES.sub(lambda m: (m.group(1) or "") + "T", r.stdout)


def test_outputs_are_identical_across_hash_seeds():
    for fmt in ("json", "table"):
        first = _run("0", fmt)
        assert first and _run("12345", fmt) == first
