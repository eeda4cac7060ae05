"""Symmetry of actor copies: one state per permutation of interchangeable
copies, loops included.  The verdict, the findings (kind, message, shortest trace length)
and the recorded lock contexts are the same with and without it, on every
spec in specs/ and on a generated corpus of specs with copies; copies that
are not interchangeable are left alone."""
from __future__ import annotations

import textwrap

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
PLAIN = Limits(reduction=False, symmetry=False)
BOTH = Limits(reduction=True, symmetry=True)


def summary(result) -> set:
    return {(f.kind, f.message, len(f.trace)) for f in result.findings}


def agree(text: str, path: str = "<string>") -> tuple:
    """Assert agreement; returns (plain states, states with both reductions, symmetry status)."""
    plain = modelcheck.check_source(text, path=path, limits=PLAIN)
    both = modelcheck.check_source(text, path=path, limits=BOTH)
    assert summary(both) == summary(plain)
    assert both.lock_steps == plain.lock_steps
    sys = System(load(text, path))
    g_plain = explore(sys, PLAIN)
    kinds = {f.kind for f in g_plain.found.values()} | {f.kind for f in analysis.analyse(sys, g_plain)}
    for limits in (BOTH, Limits(reduction=False, symmetry=True)):
        g = explore(sys, limits)
        if g.quotient:
            assert g.quotient.verdict(g) == kinds
            assert g.quotient.close_deps(g.deps) == set(g_plain.deps)
    return len(g_plain.states), len(g.states), g.symmetry


@pytest.mark.parametrize("path", SPECS, ids=lambda p: p.stem)
def test_specs_agree_with_and_without_symmetry(path):
    agree(path.read_text(), str(path))


WORKERS = textwrap.dedent("""
    param N = 4
    lock l
    fence f[1..N]
    var c = 0 in 0..9
    thread w[i in 1..N] { lock l; c = c + 1; publish f[i]; unlock l; signal f[i] }
    thread reclaim { lock l; wait any; unlock l }
    invariant "counted": c <= N
""")


def test_interchangeable_workers_are_searched_once_per_permutation():
    plain, reduced, status = agree(WORKERS)
    assert status == "on" and reduced * 4 < plain


def test_a_copy_named_from_outside_is_not_interchangeable():
    text = WORKERS.replace("wait any", "wait f[1]")
    assert explore(System(load(text)), BOTH).symmetry == "off for this spec: no interchangeable actor copies"
    agree(text)


def test_copies_that_use_their_neighbour_are_not_interchangeable():
    text = WORKERS.replace("signal f[i] }", "signal f[i]; wait f[1 + i % N] }")
    assert explore(System(load(text)), BOTH).symmetry.startswith("off")


def test_a_submitter_and_its_job_are_exchanged_together():
    text = textwrap.dedent("""
        param N = 3
        engine E[1..N] slots 1
        fence f[1..N]
        lock l
        thread w[i in 1..N] { lock l; publish f[i]; unlock l }
        job j[i in 1..N] on E[i] { wait f[i]; signal f[i] }
        thread reclaim { lock l; wait any; unlock l }
    """)
    plain, reduced, status = agree(text)
    assert status == "on" and reduced * 3 < plain


LOOPING = WORKERS.replace("thread reclaim { lock l; wait any; unlock l }",
                          "thread reclaim { while 1 { lock l; wait any; unlock l } }")


@pytest.mark.parametrize("text, kinds", [
    (LOOPING, set()),
    # a copy spins for ever after publishing: reclaim waits for its fence holding l
    (LOOPING.replace("signal f[i] }", "while c < 9 { c = c }; signal f[i] }"),
     {"deadlock", "indefinite-fence"}),
    # copies take turns for ever, each publishing its fence while it holds l
    (LOOPING.replace("{ lock l; c = c + 1; publish f[i]; unlock l; signal f[i] }",
                     "{ while 1 { lock l; publish f[i]; unlock l } }"), {"deadlock", "indefinite-fence"}),
    # nobody waits, nobody signals, a loop goes on: only a fair cycle shows it
    (LOOPING.replace("thread reclaim { while 1 { lock l; wait any; unlock l } }",
                     "thread reclaim { while 1 { c = c } }").replace("signal f[i] }", "}"),
     {"indefinite-fence"}),
])
def test_fair_cycles_through_renamed_copies(text, kinds):
    plain, reduced, status = agree(text)
    assert status == "on" and reduced < plain
    assert modelcheck.check_source(text).kinds == kinds


def test_no_symmetry_flag(tmp_path, capsys):
    from modelcheck import cli
    p = tmp_path / "w.fspec"
    p.write_text(WORKERS)
    assert cli.main(["check", "--no-symmetry", "--summary", str(p)]) == 0
    assert cli.main(["check", "--summary", str(p)]) == 0


# ---------------------------------------------------------------- generated corpus

COPY_STMTS = ["lock L", "unlock L", "lock k[i]", "unlock k[i]", "signal f[i]", "wait f[i]",
              "publish f[i]", "signal G", "wait G", "publish G", "v[i] = v[i] + 1", "x = x + 1",
              "await x > 0", "assert v[i] < 2", "wait any", "lock R[i]", "publish f[i] in R[i]",
              "unlock R[i]", "wait R[i]", "acquire E", "release E", "alloc kernel",
              "choose { lock L; unlock L } or { signal f[i] }", "wait G timeout"]
OTHER_STMTS = ["lock L", "unlock L", "signal G", "wait G", "wait any", "x = 1", "await x > 1",
               "publish G", "assert x < 2", "acquire E", "release E"]
ASYMMETRIC = ["wait f[1]", "lock k[2]", "await v[1] == 1"]
LOOPS = ["while v[i] < 2 { v[i] = v[i] + 1 }", "while x < 2 { lock L; x = x + 1; unlock L }",
         "trylock L else { restart }", "while x == 0 { wait any }"]


@st.composite
def copy_specs(draw):
    n = draw(st.integers(2, 3))
    loops = LOOPS if draw(st.booleans()) else []
    body = "; ".join(draw(st.lists(st.sampled_from(COPY_STMTS + loops), min_size=1, max_size=5 - n)))
    other = draw(st.lists(st.sampled_from(OTHER_STMTS + ASYMMETRIC + loops[1:]), min_size=0, max_size=2))
    hook = draw(st.sampled_from(["", "on reclaim { lock L; unlock L }", "on reclaim { wait G }"]))
    lines = [f"param N = {n}", "lock L", "lock k[1..N]", "resv R[1..N]", "fence f[1..N]",
             "fence G", "engine E slots 1", "var x = 0 in 0..2", "var v[1..N] = 0 in 0..2", hook,
             f"{draw(st.sampled_from(['thread w[i in 1..N]', 'job w[i in 1..N] on E']))} {{ {body} }}"]
    if n == 2 and draw(st.booleans()):         # a second declaration copied over the same i
        second = "; ".join(draw(st.lists(st.sampled_from(COPY_STMTS), min_size=1, max_size=3)))
        lines.append(f"thread u[i in 1..N] {{ {second} }}")
    if other:
        lines.append("thread o { " + "; ".join(other) + " }")
    return "\n".join(lines) + "\n"


CORPUS = 100


@settings(max_examples=CORPUS, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(copy_specs())
def test_generated_copies_agree_with_and_without_symmetry(text):
    note(text)
    agree(text)
