"""Generated designs with the v2 lock forms (`nested`, recursive reads,
`ww { }` contexts) in the engine cross-checks: reduction on/off, symmetry
on/off (interchangeable copies), explicit vs smt (which refuses `ww`)."""
from __future__ import annotations

from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

import test_reduction
import test_symbolic
import test_symmetry

HEADER = """\
lock m
lock n : mutex class m
lock rw : rwsem
resv a
resv b
var x = 0 in 0..1
"""
PLAIN = ["lock m", "unlock m", "lock n nested", "unlock n", "lock n", "lock rw shared",
         "unlock rw shared", "lock rw", "unlock rw", "lock a", "unlock a", "lock b", "unlock b",
         "x = 1", "await x == 1"]
WW = ["lock a", "lock b", "unlock a", "unlock b", "lock a, b", "x = 1"]


@st.composite
def body(draw, ww: bool, n: int = 4) -> str:
    out = [draw(st.sampled_from(PLAIN)) for _ in range(draw(st.integers(1, n)))]
    if ww and draw(st.booleans()):
        inner = [draw(st.sampled_from(WW)) for _ in range(draw(st.integers(1, 3)))]
        out.insert(draw(st.integers(0, len(out))), "ww { " + "; ".join(inner) + " }")
    return "; ".join(out)


@st.composite
def lock_specs(draw, ww: bool = True, copies: bool = False) -> str:
    parts = [HEADER]
    for i in range(draw(st.integers(1, 2))):
        parts.append(f"thread t{i} {{ {draw(body(ww))} }}\n")
    if copies:
        parts.append(f"thread c[i in 1..2] {{ {draw(body(ww, 3))} }}\n")
    return "".join(parts)


SETTINGS = dict(deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@settings(max_examples=60, **SETTINGS)
@given(lock_specs())
def test_generated_lock_specs_agree_with_and_without_reduction(text):
    note(text)
    test_reduction.agree(text)


@settings(max_examples=30, **SETTINGS)
@given(lock_specs(copies=True))
def test_generated_lock_specs_agree_with_and_without_symmetry(text):
    note(text)
    test_symmetry.agree(text)


@settings(max_examples=30, **SETTINGS)
@given(lock_specs(ww=False))
def test_engines_agree_on_nested_and_recursive_reads(text):
    note(text)
    test_symbolic.agree(text, 6)
