"""Shared helpers: every test reads as `spec text -> finding kinds`."""
from __future__ import annotations

import textwrap
from pathlib import Path

import modelcheck

REPO = Path(__file__).resolve().parent.parent


def check(text: str, params=None):
    """Check an inline spec (indentation removed) and return the Result."""
    return modelcheck.check_source(textwrap.dedent(text), params=params)


def kinds(text: str, params=None) -> frozenset:
    return check(text, params).kinds


def shortest(result, kind: str) -> int:
    """Length of the shortest trace reported for `kind`."""
    lengths = [len(f.trace) for f in result.findings if f.kind == kind]
    assert lengths, f"no {kind} finding in {sorted(result.kinds)}"
    return min(lengths)


def finding(result, kind: str):
    """The first (shortest) finding of `kind`."""
    for f in result.findings:
        if f.kind == kind:
            return f
    raise AssertionError(f"no {kind} finding in {sorted(result.kinds)}")
