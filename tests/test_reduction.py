"""Partial-order reduction changes how many states are searched, never what
is reported: on every spec in specs/ and on a generated corpus of small
specs, the findings (kind, message, shortest trace length) and the set of
recorded lock contexts (the lock-order model's `deps`) are the same with
and without it.  The reduced graph alone must already show every finding
kind, since a safe verdict is given from it."""
from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

import modelcheck
from modelcheck.verdicts import analysis
from modelcheck.api import load
from modelcheck.search.explorer import Limits, explore
from modelcheck.semantics import System
from helpers import REPO

SPECS = sorted((REPO / "specs").glob("*.fspec"))
FULL = Limits(reduction=False, symmetry=False)
REDUCED = Limits(reduction=True, symmetry=False)


def summary(result) -> set:
    return {(f.kind, f.message, len(f.trace)) for f in result.findings}


def graph_kinds(sys, g) -> set:
    return {f.kind for f in g.found.values()} | {f.kind for f in analysis.analyse(sys, g)}


def agree(text: str, path: str = "<string>") -> tuple:
    """Assert agreement; returns (full states, reduced states, reduction status)."""
    full = modelcheck.check_source(text, path=path, limits=FULL)
    red = modelcheck.check_source(text, path=path, limits=REDUCED)
    assert summary(red) == summary(full)
    assert red.complete and full.complete
    sys = System(load(text, path))
    g_full, g_red = explore(sys, FULL), explore(sys, REDUCED)
    assert graph_kinds(sys, g_red) == graph_kinds(sys, g_full)
    assert set(g_red.deps) == set(g_full.deps)
    for held, pc in g_red.deps:                  # each recorded where it says
        src, a = g_red.deps[(held, pc)]
        assert g_red.states[src][sys.L.PC + a] == pc
    return len(g_full.states), len(g_red.states), g_red.reduction


@pytest.mark.parametrize("path", SPECS, ids=lambda p: p.stem)
def test_specs_agree_with_and_without_reduction(path):
    agree(path.read_text(), str(path))


def test_reduction_prunes_independent_threads():
    full, reduced, status = agree("""
        lock a
        lock b
        fence f
        fence g
        thread t1 { lock a; unlock a; signal f }
        thread t2 { lock b; unlock b; signal g }
        thread t3 { wait f; wait g }
    """.replace("\n        ", "\n"))
    assert status == "on" and reduced < full


def test_reduction_off_where_fair_cycles_or_timeouts_matter():
    loop = "fence f\nvar x = 0 in 0..1\nthread t { publish f; while x == 0 { x = 0 } }\n"
    assert explore(System(load(loop)), REDUCED).reduction.startswith("off for this spec")
    timeout = "fence f\nthread t { wait f timeout }\nthread u { signal f }\n"
    assert explore(System(load(timeout)), REDUCED).reduction.startswith("off for this spec")
    assert explore(System(load(timeout)), FULL).reduction == "off"


# ---------------------------------------------------------------- generated corpus

STMTS = [
    "lock L", "unlock L", "lock M shared", "unlock M shared", "lock M", "unlock M",
    "trylock L else { x = 1 }", "lock S", "unlock S",
    "lock R", "unlock R", "publish F in R", "wait R", "lock R, Q", "unlock Q",
    "signal F", "signal G", "signal F error", "wait F", "wait G", "publish F", "publish G",
    "wait any", "wait F interruptible else { x = 2 }", "interrupt_waits", "end_interrupt_waits",
    "x = x + 1", "await x > 0", "assert x < 2", "if x == 1 { signal G }",
    "alloc kernel", "alloc nowait", "fork", "acquire E", "release E",
    "choose { signal F } or { lock L; unlock L }", "signalling { signal G }",
    "signalling { wait F }", "assert not held(L)", "assert signalled(F)",
]
LOOPS = ["while x < 2 { x = x + 1 }", "wait G timeout", "restart"]
HOOKS = ["", "on reclaim { lock L; unlock L }", "on reclaim { wait R }",
         "on fork { wait R }", "on fork { lock M shared; unlock M shared }"]
INVARIANTS = ["", 'invariant "small": x < 3', 'invariant "ordered": not (signalled(G) and x == 0)']


@st.composite
def small_specs(draw):
    stmt = st.sampled_from(STMTS + LOOPS if draw(st.booleans()) else STMTS)
    n = draw(st.integers(2, 3))
    lines = ["lock L", "lock S : spinlock", "lock M : rwsem", "resv R", "resv Q", "fence F",
             "fence G" + draw(st.sampled_from(["", " after F"])), "engine E slots 1",
             "var x = 0 in 0..2", draw(st.sampled_from(HOOKS)), draw(st.sampled_from(INVARIANTS))]
    for t in range(n):
        body = "; ".join(draw(st.lists(stmt, min_size=1, max_size=4)))
        head = f"job j{t} on E" if t == n - 1 and draw(st.booleans()) else f"thread t{t}"
        lines.append(f"{head} {{ {body} }}")
    return "\n".join(lines) + "\n"


CORPUS = 150


@settings(max_examples=CORPUS, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(small_specs())
def test_generated_specs_agree_with_and_without_reduction(text):
    note(text)
    agree(text)


def test_a_reduction_that_saves_nothing_is_dropped_midway(monkeypatch):
    from modelcheck.search import explorer
    monkeypatch.setattr(explorer, "REDUCTION_TRIAL", 3)
    text = (REPO / "bench" / "probes" / "stages_reclaim_once.fspec").read_text()
    g = explore(System(load(text, params={"N": 2})), REDUCED)
    assert g.reduction.startswith("on for the first 3 states, then off")
    agree(text.replace("param N = 3", "param N = 2"))


@pytest.mark.parametrize("path", SPECS[::3], ids=lambda p: p.stem)
def test_specs_agree_when_reduction_stops_midway(path, monkeypatch):
    from modelcheck.search import explorer
    monkeypatch.setattr(explorer, "REDUCTION_TRIAL", 4)
    agree(path.read_text(), str(path))
