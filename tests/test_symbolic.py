"""The symbolic engine (`--engine smt`) cross-checked against the explicit one.

Both engines read the same compiled transitions, but the symbolic one
writes every statement's guard and effect again as z3 terms.  On every spec
in specs/ and on generated specs they must agree, up to the bound, on the
safety kinds found and on the length of the shortest trace of each.  The
explicit `deadlock` is broader (an actor stuck while others go on), so the
symbolic global deadlock is compared with the explicit graph's shortest
state where no actor can move and some actor is unfinished.
"""
from __future__ import annotations

import textwrap

import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

import modelcheck
from modelcheck import explorer, symbolic
from modelcheck.api import load
from modelcheck.semantics import System

from helpers import REPO, check, finding

STEP_AND_STATE = tuple(k for k in symbolic.KINDS if k != "deadlock")


def explicit_shortest(text: str, params=None) -> dict:
    """kind -> fewest steps, by the explicit engine; deadlock = global deadlock."""
    result = modelcheck.check_source(text, params=params)
    assert result.complete
    out = {}
    for f in result.findings:
        if f.kind in STEP_AND_STATE:
            out[f.kind] = min(out.get(f.kind, len(f.trace)), len(f.trace))
    sys = System(load(text, params=params))
    g = explorer.explore(sys)
    for i, s in enumerate(g.states):
        if g.offsets[i] == g.offsets[i + 1] and not all(sys.finished(s, a) for a in range(sys.L.A)):
            out["deadlock"] = min(out.get("deadlock", g.depth[i]), g.depth[i])
    return out


def symbolic_shortest(text: str, depth: int, params=None) -> dict:
    result = modelcheck.check_source(text, params=params, engine="smt", depth=depth)
    out = {}
    for f in result.findings:
        out[f.kind] = min(out.get(f.kind, len(f.trace)), len(f.trace))
    return out


def agree(text: str, depth: int, params=None) -> None:
    want = {k: n for k, n in explicit_shortest(text, params).items() if n <= depth}
    got = symbolic_shortest(text, depth, params)
    assert got == want, f"smt {got} != explicit {want} within depth {depth}"


# ----------------------------------------------------------------- specs/

SPECS = sorted((REPO / "specs").glob("*.fspec"))
SPEC_DEPTH = 10      # enough for every spec's shortest findings but two; keeps z3 time low


@pytest.mark.parametrize("path", SPECS, ids=lambda p: p.stem)
def test_engines_agree_on_specs(path):
    agree(path.read_text(), SPEC_DEPTH)
