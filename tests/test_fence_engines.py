"""Fence hooks, container fences, job dependencies and resv usage classes in
the engine cross-checks: on generated specs, partial-order reduction and
symmetry change no finding, and the smt engine agrees with the explicit one
on them, fence hooks included."""
from __future__ import annotations

from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from helpers import smt_refusal

import test_reduction
import test_symbolic
import test_symmetry

THREAD = ["lock L", "unlock L", "lock S", "unlock S", "signal f", "signal g", "signal g error",
          "signal h", "wait f", "wait c", "wait d", "wait e", "publish c", "publish e",
          "lock R", "unlock R", "publish f in R usage bookkeep", "publish g in R usage kernel",
          "publish h in R", "publish c in R usage read", "wait R", "wait R usage kernel",
          "wait R usage write", "wait R usage read", "x = x + 1", "await x > 0",
          "assert not errored(d)", "assert signalled(c) or not signalled(e)", "alloc kernel",
          "signalling { signal h }"]
CALLBACK = ["x = x + 1", "signal h", "lock S; unlock S", "lock L; unlock L", "assert x < 2",
            "signal f", "wait g"]
HOOKS = ["", "on reclaim { wait d }", "on reclaim { wait R usage kernel }"]


def _fences(draw) -> list:
    return ["lock L", "lock S : spinlock", "resv R", "fence f", "fence g", "fence h",
            "fence c = all(f, g)", "fence d = any(g, h)", "fence e = chain(c, h)",
            "var x = 0 in 0..2", "engine E slots 1", draw(st.sampled_from(HOOKS))]


def _threads(draw, lines):
    for t in range(draw(st.integers(1, 2))):
        body = "; ".join(draw(st.lists(st.sampled_from(THREAD), min_size=1, max_size=4)))
        lines.append(f"thread t{t} {{ {body} }}")
    if draw(st.booleans()):
        deps = draw(st.sampled_from(["f", "c", "f, h", "d"]))
        body = "; ".join(draw(st.lists(st.sampled_from(THREAD[:12]), min_size=1, max_size=2)))
        lines.append(f"job j on E after {deps} {{ {body} }}")


@st.composite
def fence_specs(draw):
    """Containers, job dependencies, usages, and fence hooks."""
    lines = _fences(draw)
    for fence in draw(st.lists(st.sampled_from(["f", "g", "c", "d"]), max_size=2)):
        body = "; ".join(draw(st.lists(st.sampled_from(CALLBACK), min_size=1, max_size=2)))
        lines.append(f"on signal {fence} {{ {body} }}")
    if draw(st.booleans()):
        body = draw(st.sampled_from(["x = 1", "signal g", "lock S; x = 1; unlock S"]))
        lines.append(f"on enable_signaling {draw(st.sampled_from(['f', 'g', 'h']))} {{ {body} }}")
    _threads(draw, lines)
    return "\n".join(lines) + "\n"


@st.composite
def hookless_specs(draw):
    """What the smt engine encodes: containers, dependencies, usages."""
    lines = _fences(draw)
    _threads(draw, lines)
    return "\n".join(lines) + "\n"


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(fence_specs())
def test_generated_fence_specs_agree_with_and_without_reduction(text):
    note(text)
    test_reduction.agree(text)


def test_fence_copies_agree_with_and_without_symmetry():
    _plain, _both, status = test_symmetry.agree("""
        param N = 2
        lock S : spinlock
        fence f[1..N]
        fence c = all(f)
        engine E slots 1
        var n = 0 in 0..2
        thread w[i in 1..N] { signal f[i] }
        job j on E after c { lock S; n = n + 1; unlock S }
        thread r { lock S; n = n + 1; unlock S }
        on signal c { lock S; unlock S }
    """)
    assert status == "on"
    _plain, _both, status = test_symmetry.agree("""
        param N = 2
        resv R
        fence f[1..N]
        fence out[1..N]
        engine E slots 1
        thread w[i in 1..N] { lock R; publish f[i] in R usage bookkeep; unlock R; signal f[i] }
        job j[i in 1..N] on E after f[i] { signal out[i] }
        thread r { wait R usage write; wait R }
    """)
    assert status == "on"


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(fence_specs())
def test_generated_fence_specs_agree_with_and_without_symmetry(text):
    note(text)
    test_symmetry.agree(text)


@settings(max_examples=30, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(hookless_specs())
def test_engines_agree_on_generated_containers_deps_and_usages(text):
    note(text)
    test_symbolic.agree(text, 6)


@settings(max_examples=40, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(fence_specs())
def test_engines_agree_on_generated_fence_hooks(text):
    note(text)
    test_symbolic.agree(text, 6)


def test_smt_encodes_callbacks_enable_signaling_and_their_sleeps():
    for text in ["fence f\nfence g\nthread t { signal f }\non signal f { signal g }\n"
                 "on signal g { assert false }\n",
                 "lock M\nfence f\nthread t { signal f }\non signal f { lock M; unlock M }\n",
                 "fence f\nfence g\nfence c = all(f, g)\nvar x = 0 in 0..1\n"
                 "thread a { signal f }\nthread b { signal g }\nthread w { wait c; assert x == 1 }\n"
                 "on signal c { x = 1 }\n",
                 "resv R\nfence f\nfence g\nvar n = 0 in 0..2\n"
                 "thread t { lock R; publish f in R; publish g in R; unlock R; wait R }\n"
                 "thread hw { await n >= 1; signal f; await n == 2; signal g }\n"
                 "on enable_signaling f { n = 1 }\non enable_signaling g { assert signalled(f); n = 3 }\n",
                 "lock M\nengine E slots 1\nfence pf\njob j on E after pf { }\n"
                 "thread hw { signal pf }\non enable_signaling pf { lock M; unlock M }\n"]:
        assert not smt_refusal(text)
        test_symbolic.agree(text, 10)
