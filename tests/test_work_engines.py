"""Work items and memalloc scopes in the engine cross-checks: on generated
specs, partial-order reduction and symmetry (work item copies exchanged with
the copies that queue them) change no finding, and the smt engine agrees
with the explicit one on both."""
from __future__ import annotations

from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

import modelcheck
from modelcheck.api import load
from modelcheck.search.explorer import Limits, explore
from modelcheck.semantics import System

import test_reduction
import test_symbolic
import test_symmetry

THREAD = ["lock L", "unlock L", "lock S", "unlock S", "queue_work A", "queue_work B",
          "flush_work A", "flush_work B", "cancel_work_sync A", "flush_workqueue q",
          "flush_workqueue o", "x = x + 1", "await x > 0", "assert x < 2", "signal F", "wait F",
          "publish F", "alloc kernel", "await running(A)", "await not pending(B)",
          "assert not running(B)", "noreclaim { alloc kernel }", "nofs { lock L; alloc kernel }",
          "noio { alloc kernel; unlock L }", "noreclaim { fault }"]
WORK = ["lock L", "unlock L", "x = x + 1", "await x > 0", "signal F", "wait F", "alloc kernel",
        "queue_work B", "queue_work C", "flush_work C", "nofs { alloc kernel }",
        "assert not pending(A)"]
HOOKS = ["", "on reclaim { lock L; unlock L }", "on fault { alloc kernel }",
         "on reclaim { queue_work C }"]


@st.composite
def work_specs(draw):
    ordered = draw(st.sampled_from(["", " ordered"]))
    lines = ["lock L", "lock S : spinlock", "fence F", "var x = 0 in 0..2", "workqueue q" + ordered,
             "workqueue o ordered", draw(st.sampled_from(HOOKS))]
    for name, wq in (("A", "q"), ("B", "q"), ("C", "o")):
        body = "; ".join(draw(st.lists(st.sampled_from(WORK), min_size=0, max_size=3)))
        lines.append(f"work {name} on {wq} {{ {body} }}")
    for t in range(draw(st.integers(1, 2))):
        body = "; ".join(["queue_work A"] + draw(st.lists(st.sampled_from(THREAD), min_size=1, max_size=4)))
        lines.append(f"thread t{t} {{ {body} }}")
    return "\n".join(lines) + "\n"


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(work_specs())
def test_generated_work_specs_agree_with_and_without_reduction(text):
    note(text)
    test_reduction.agree(text)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(work_specs())
def test_generated_work_specs_agree_with_and_without_symmetry(text):
    note(text)
    test_symmetry.agree(text)


def test_work_item_copies_are_searched_once_per_permutation():
    text = """
        param N = 3
        lock L
        var n = 0 in 0..3
        workqueue wq
        work w[i in 1..N] on wq { lock L; n = n + 1; unlock L }
        thread t[i in 1..N] { queue_work w[i]; flush_work w[i]; assert n >= 1 }
    """
    plain, both, status = test_symmetry.agree(text)
    assert status == "on" and both < plain


W_COPY = ["lock L", "unlock L", "lock k[i]", "unlock k[i]", "signal f[i]", "wait f[i]",
          "publish f[i]", "v[i] = v[i] + 1", "x = x + 1", "await x > 0", "signal G", "wait G",
          "queue_work w[i]", "alloc kernel", "nofs { alloc kernel }"]
T_COPY = ["queue_work w[i]", "flush_work w[i]", "cancel_work_sync w[i]", "await running(w[i])",
          "assert not pending(w[i])", "lock L", "unlock L", "lock k[i]", "signal f[i]", "wait f[i]",
          "x = x + 1", "noreclaim { alloc kernel }"]
OTHER = ["flush_workqueue q", "await x > 1", "signal G", "lock L", "unlock L", "x = 1"]


@st.composite
def work_copy_specs(draw):
    n = draw(st.integers(2, 3))
    ordered = draw(st.sampled_from(["", " ordered"]))
    work = "; ".join(draw(st.lists(st.sampled_from(W_COPY), min_size=0, max_size=3)))
    thread = "; ".join(["queue_work w[i]"] + draw(st.lists(st.sampled_from(T_COPY), min_size=0,
                                                                max_size=4 - n)))
    other = draw(st.lists(st.sampled_from(OTHER), min_size=0, max_size=2))
    lines = [f"param N = {n}", "lock L", "lock k[1..N]", "fence f[1..N]", "fence G",
             "var x = 0 in 0..2", "var v[1..N] = 0 in 0..2", "workqueue q" + ordered,
             draw(st.sampled_from(["", "on reclaim { lock L; unlock L }"])),
             f"work w[i in 1..N] on q {{ {work} }}", f"thread t[i in 1..N] {{ {thread} }}"]
    if other:
        lines.append("thread o { " + "; ".join(other) + " }")
    return "\n".join(lines) + "\n"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(work_copy_specs())
def test_generated_work_copies_agree_with_and_without_symmetry(text):
    note(text)
    test_symmetry.agree(text)


@settings(max_examples=40, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(work_specs())
def test_engines_agree_on_generated_work_specs(text):
    note(text)
    test_symbolic.agree(text, 7)


SCOPED = ["lock L", "unlock L", "alloc kernel", "noreclaim { alloc kernel }",
          "nofs { alloc kernel }", "noio { lock L; alloc kernel; unlock L }",
          "noreclaim { fault }", "nofs { fault }", "signal F", "wait F", "x = x + 1", "assert x < 2"]


@st.composite
def scope_specs(draw):
    lines = ["lock L", "fence F", "var x = 0 in 0..2",
             draw(st.sampled_from(["on reclaim { lock L; unlock L }", "on reclaim { wait F }",
                                   "on reclaim { x = x + 1 }"])),
             draw(st.sampled_from(["", "on fault { alloc kernel }", "on fault { alloc nofs }"]))]
    for t in range(draw(st.integers(1, 2))):
        body = "; ".join(draw(st.lists(st.sampled_from(SCOPED), min_size=1, max_size=4)))
        lines.append(f"thread t{t} {{ {body} }}")
    return "\n".join(lines) + "\n"


@settings(max_examples=30, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(scope_specs())
def test_engines_agree_on_generated_scopes(text):
    note(text)
    test_symbolic.agree(text, 6)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scope_specs())
def test_generated_scopes_agree_with_and_without_reduction(text):
    note(text)
    test_reduction.agree(text)
