"""Every spec under specs/ checked once per test session, shared by the tests
of the output formats (JSON schema, KTAP)."""
from __future__ import annotations

import functools
from pathlib import Path

import modelcheck

REPO = Path(__file__).resolve().parent.parent
SPECS = sorted((REPO / "specs").glob("*.fspec"))


@functools.lru_cache(maxsize=None)
def result(path: Path, engine: str = "explicit"):
    return modelcheck.check_file(path, engine=engine)
