"""Symmetry reduction in the native core agrees with the Python explorer's:
the same representatives in the same order, the same edges and renaming
ids per edge (numbered in the same first-use order), the same findings,
lock contexts and verdict; on every spec where symmetry applies, on specs
written for each component a renaming touches, and on generated corpora.
Each comparison asserts that the native core ran, so none passes by both
sides falling back to Python."""
from __future__ import annotations

import textwrap

import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

import generate
import modelcheck
from helpers import REPO
from test_symmetry import copy_specs as symmetry_corpus
from modelcheck import api
from modelcheck.search import explorer, native
from modelcheck.search.symmetry import Symmetry
from modelcheck.semantics import System

needs_core = pytest.mark.skipif(not native.available(), reason="the C extension is not built")
SPECS = sorted(REPO.glob("specs/*.fspec")) + sorted(REPO.glob("bench/*/*.fspec"))


def symmetric(path) -> bool:
    try:
        sys = System(api.load(path.read_text(), str(path), {}))
    except Exception:                       # a spec that needs parameters given elsewhere
        return False
    return not Symmetry(sys).why_off


def same(py, nat) -> None:
    assert nat.core == "native", nat.core
    assert py.symmetry == nat.symmetry == "on"
    for column in ("parent", "via", "depth", "switches", "offsets", "edges", "edge_actor",
                   "edge_perm"):
        assert list(getattr(py, column)) == list(getattr(nat, column)), column
    assert list(py.states) == list(nat.states)
    assert py.quotient.perm_list == nat.quotient.perm_list
    for what in ("timeout_edges", "ran", "entered", "deps", "reached", "stopped", "pruned",
                 "reduction", "early", "stuck"):
        assert getattr(py, what) == getattr(nat, what), what
    found = lambda g: [(k, f.src, f.actor, f.dst, f.message) for k, f in g.found.items()]
    assert found(py) == found(nat)
    assert py.quotient.verdict(py) == nat.quotient.verdict(nat)


def agree(text: str, params=None, **limits):
    sys = System(api.load(textwrap.dedent(text), "<test>", params or {}))
    opts = {"reduction": False, "symmetry": True, **limits}
    py = explorer.explore(sys, explorer.Limits(core="python", **opts))
    nat = explorer.explore(sys, explorer.Limits(core="native", **opts))
    same(py, nat)
    return py, nat


@needs_core
def test_copies_probe_is_searched_natively_with_renamings():
    py, nat = agree((REPO / "bench/probes/copies.fspec").read_text(), {"N": 4})
    assert len(nat.quotient.perm_list) > 1 and any(nat.edge_perm)


@needs_core
@pytest.mark.parametrize("path", [p for p in SPECS if symmetric(p)], ids=lambda p: p.name)
def test_every_symmetric_spec_gives_the_same_quotient(path):
    agree(path.read_text())


@needs_core
@pytest.mark.parametrize("path", [p for p in SPECS if symmetric(p)], ids=lambda p: p.name)
def test_every_symmetric_spec_gives_the_same_reduced_quotient(path):
    """Reduction and symmetry together: the left-out sample is canonical too."""
    agree(path.read_text(), reduction=True)


@needs_core
@pytest.mark.parametrize("path", [p for p in SPECS if symmetric(p)], ids=lambda p: p.name)
def test_every_symmetric_spec_stops_alike_in_early_bug_mode(path):
    agree(path.read_text(), reduction=True, early=True)


@needs_core
@pytest.mark.parametrize("path", [p for p in SPECS if symmetric(p)], ids=lambda p: p.name)
def test_every_symmetric_spec_gives_the_same_report(path):
    res = {core: modelcheck.check_file(path, limits=explorer.Limits(core=core))
           for core in ("python", "native")}
    py, nat = res["python"], res["native"]
    assert nat.stats.core == "native" and nat.stats.symmetry == py.stats.symmetry
    assert (py.stats.states, py.stats.transitions, py.stats.lock_deps, py.stats.researched) == \
        (nat.stats.states, nat.stats.transitions, nat.stats.lock_deps, nat.stats.researched)
    assert py.lock_order.words() == nat.lock_order.words()
    steps = lambda r: [(f.kind, f.message, [str(s) for s in f.trace]) for f in r.findings]
    assert steps(py) == steps(nat)


# One spec per component a renaming touches: each copy owns its objects
# and the copies run out of step, so states with the copies out of order
# are met and renamed.
COMPONENTS = {
    "pcs and stacks (hooks)": """
        param N = 3
        lock k[1..N]
        lock g
        fence f[1..N]
        on reclaim { lock g; unlock g }
        thread w[i in 1..N] { lock k[i]; alloc kernel; unlock k[i]; publish f[i]; signal f[i] }
    """,
    "locks taken shared": """
        param N = 3
        lock rw : rwsem
        lock k[1..N] : rwsem
        var x = 0 in 0..3
        thread w[i in 1..N] { lock rw shared; lock k[i] shared; x = x + 1; unlock k[i] shared;
                              unlock rw shared; lock k[i]; unlock k[i] }
        thread o { lock rw; x = 0; unlock rw }
    """,
    "read-again extras (XL) and nested": """
        param N = 2
        lock rw : rwsem
        lock k[1..N]
        lock q[1..N]
        thread w[i in 1..N] { lock rw shared; lock rw shared; lock k[i]; lock q[i] nested;
                              unlock q[i]; unlock k[i]; unlock rw shared; unlock rw shared }
    """,
    "fences, resvs and usages": """
        param N = 3
        resv R[1..N]
        fence f[1..N]
        fence g[1..N]
        thread w[i in 1..N] { lock R[i]; publish f[i] in R[i] usage read;
                              publish g[i] in R[i] usage write; unlock R[i];
                              signal g[i]; wait R[i] usage write; signal f[i] }
    """,
    "resvs in ww": """
        param N = 2
        resv R[1..N]
        resv S
        thread w[i in 1..N] { ww { lock R[i]; lock S; unlock S; unlock R[i] } }
    """,
    "engines": """
        param N = 3
        engine E slots 2
        engine P[1..N] slots 1
        fence f[1..N]
        thread w[i in 1..N] { acquire E; acquire P[i]; publish f[i]; release P[i];
                              release E; signal f[i] }
    """,
    "jobs on their own engines": """
        param N = 3
        engine E[1..N] slots 1
        fence d[1..N]
        job j[i in 1..N] on E[i] after d[i] { }
        thread w[i in 1..N] { publish d[i]; signal d[i] }
    """,
    "vars": """
        param N = 3
        var v[1..N] = 0 in 0..2
        lock l
        thread w[i in 1..N] { v[i] = v[i] + 1; lock l; v[i] = v[i] + 1; unlock l }
    """,
    "workqueues, unordered": """
        param N = 3
        workqueue WQ
        var x = 0 in 0..3
        work it[i in 1..N] on WQ { x = x + 1 }
        thread w[i in 1..N] { queue_work it[i]; flush_work it[i] }
    """,
    "workqueues, ordered, flushed whole": """
        param N = 3
        workqueue WQ ordered
        lock l
        work it[i in 1..N] on WQ { lock l; unlock l }
        thread w[i in 1..N] { queue_work it[i]; cancel_work_sync it[i]; queue_work it[i] }
        thread o { flush_workqueue WQ }
    """,
    "wait any": """
        param N = 3
        lock l
        fence f[1..N]
        thread w[i in 1..N] { lock l; publish f[i]; unlock l; signal f[i] }
        thread reclaim { lock l; wait any; unlock l; wait any }
    """,
    "wait any in copies": """
        param N = 2
        fence f[1..N]
        fence g
        thread w[i in 1..N] { publish f[i]; wait any; signal f[i] }
        thread o { publish g; signal g }
    """,
    "two declarations exchanged together": """
        param N = 3
        engine E[1..N] slots 1
        fence f[1..N]
        job j[i in 1..N] on E[i] { signal f[i] }
        thread s[i in 1..N] { publish f[i]; wait f[i] }
    """,
    "a deadlock between copies": """
        param N = 2
        lock a
        lock b
        thread w[i in 1..N] { choose { lock a; lock b; unlock b; unlock a }
                               or { lock b; lock a; unlock a; unlock b } }
    """,
}


@needs_core
@pytest.mark.parametrize("name", list(COMPONENTS))
def test_each_renamed_component(name):
    for reduction in (False, True):
        py, nat = agree(COMPONENTS[name], reduction=reduction)
    agree(COMPONENTS[name], early=True)
    assert len(nat.quotient.perm_list) > 1, "no state was renamed: the spec tests nothing"


# ---------------------------------------------------------------- generated corpora

COPY_OWN = ["lock k[i]", "unlock k[i]", "lock rw shared", "unlock rw shared", "lock R[i]",
            "unlock R[i]", "publish f[i] in R[i]", "publish f[i] in R[i] usage read",
            "wait R[i]", "signal f[i]", "publish f[i]", "wait f[i]", "v[i] = v[i] + 1",
            "acquire P[i]", "release P[i]", "queue_work it[i]", "flush_work it[i]",
            "wait any", "x = x + 1", "lock m", "unlock m", "alloc kernel", "await v[i] < 2"]
OWN_HEADER = """\
param N = {n}
lock k[1..N]
resv R[1..N]
fence f[1..N]
var v[1..N] = 0 in 0..2
engine P[1..N] slots 1
workqueue WQ{ordered}
work it[i in 1..N] on WQ {{ {work} }}
"""


@st.composite
def copy_specs(draw) -> str:
    """generate.py's statements on the shared objects, beside statements on
    each copy's own objects, in N interchangeable copies and a few others."""
    n = draw(st.integers(2, 3))
    body = draw(st.lists(st.sampled_from(COPY_OWN), min_size=1, max_size=4))
    body += draw(generate.stmts(1 if n == 2 else 0, False, 2))
    draw(st.randoms()).shuffle(body)
    work = "; ".join(draw(st.lists(st.sampled_from(["x = x + 1", "lock m", "unlock m",
                                                      "signal f0", "v[i] = 1"]),
                                   min_size=0, max_size=2)))
    parts = [generate.HEADER.replace("var x = 0 in 0..2\n", "var x = 0 in 0..3\n"),
             OWN_HEADER.format(n=n, ordered=draw(st.sampled_from(["", " ordered"])), work=work),
             "thread w[i in 1..N] {\n    " + "\n    ".join(body) + "\n}\n"]
    if draw(st.booleans()):
        parts.append("thread t0 {\n    " + "\n    ".join(draw(generate.stmts(0, False, 2))) + "\n}\n")
    for event in ("reclaim", "fault"):
        if draw(st.integers(0, 3)) == 0:
            hook = draw(generate.stmts(0, True, 2)) + (["alloc kernel"] if event == "fault" else [])
            parts.append(f"on {event} {{ " + "; ".join(hook) + " }\n")
    return "\n".join(parts)


def agree_generated(text: str, reduction: bool, early: bool = False) -> None:
    note(text)
    try:
        sys = System(api.load(text, "<gen>", {}))
    except modelcheck.SpecError:
        return                                  # a draw the language refuses (e.g. a bad restart)
    opts = dict(reduction=reduction, symmetry=True, early=early, max_states=20000)
    py = explorer.explore(sys, explorer.Limits(core="python", **opts))
    if py.symmetry != "on":
        return
    nat = explorer.explore(sys, explorer.Limits(core="native", **opts))
    same(py, nat)


@needs_core
@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(copy_specs(), st.booleans(), st.booleans())
def test_generated_copies_agree(text, reduction, early):
    agree_generated(text, reduction, early)


@needs_core
@settings(max_examples=100, deadline=None, suppress_health_check=list(HealthCheck))
@given(symmetry_corpus(), st.booleans())
def test_generated_copies_of_the_symmetry_corpus_agree(text, reduction):
    agree_generated(text, reduction)
