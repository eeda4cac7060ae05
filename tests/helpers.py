"""Shared helpers: every test reads as `spec text -> finding kinds`."""
from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

import modelcheck

REPO = Path(__file__).resolve().parent.parent


def check(text: str, params=None):
    """Check an inline spec (indentation removed) and return the Result."""
    return modelcheck.check_source(textwrap.dedent(text), params=params)


SAFE = frozenset()


def expect(text: str, kinds, params=None):
    """Check `text`; its finding kinds must be exactly `kinds`."""
    r = check(text, params)
    assert r.complete
    assert r.kinds == frozenset(kinds), "\n".join(
        [f"found {sorted(r.kinds)}, expected {sorted(kinds)}"] + [f.message for f in r.findings])
    return r


def spec_error(text: str) -> str:
    """The positioned error a bad spec must give."""
    with pytest.raises(modelcheck.SpecError) as e:
        check(text)
    return str(e.value)


def deps(result) -> set:
    """The lock-order dependencies (from, to) of a result."""
    return {(e.frm, e.to) for e in result.lock_order.edges}


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


def smt_refusal(text: str) -> str:
    """The positioned refusal of the smt engine for a spec it cannot encode
    (work items, ...), or "" when it can: such specs are checked by the
    explicit engine only."""
    try:
        modelcheck.check_source(text, engine="smt", depth=0)
    except modelcheck.SpecError as e:
        msgs = [d.message for d in e.diagnostics]
        if any("the smt engine cannot" in m for m in msgs):
            return msgs[0]
        raise
    return ""
