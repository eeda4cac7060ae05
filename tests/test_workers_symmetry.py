"""`--workers N` with symmetry on: the threads canonicalise the successors
they expand, and the merge numbers each renaming in the order the search of
one thread meets it; so the representatives, their numbers, the edges with
their renaming ids, the renamings' list, the findings and the verdict are
those of one thread, on every symmetric spec, on a spec per renamed
component, under the reduction, in early-bug mode, under a state limit and
on generated copies."""
from __future__ import annotations

import textwrap

import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

import modelcheck
from helpers import REPO
from test_native_symmetry import COMPONENTS, SPECS, copy_specs, symmetric
from modelcheck import api
from modelcheck.search import explorer, native
from modelcheck.semantics import System

needs_core = pytest.mark.skipif(not native.available(), reason="the C extension is not built")
COLUMNS = ("parent", "via", "depth", "switches", "offsets", "edges", "edge_actor", "edge_perm")
FACTS = ("timeout_edges", "ran", "entered", "deps", "reached", "stopped", "pruned", "reduction",
         "early", "stuck", "symmetry")


def graph(sys, workers: int, block: int = 0, **limits):
    real = native.BLOCK
    native.BLOCK = block
    try:
        g = explorer.explore(sys, explorer.Limits(core="native", workers=workers, symmetry=True,
                                                  **limits))
    finally:
        native.BLOCK = real
    assert g.core == "native", g.core
    return g


def same(one, many) -> None:
    assert bytes(one.states.data) == bytes(many.states.data)
    for column in COLUMNS:
        assert list(getattr(one, column)) == list(getattr(many, column)), column
    for what in FACTS:
        assert getattr(one, what) == getattr(many, what), what
    assert one.quotient.perm_list == many.quotient.perm_list
    found = lambda g: [(k, f.src, f.actor, f.dst, f.message) for k, f in g.found.items()]
    assert found(one) == found(many)
    assert one.quotient.verdict(one) == many.quotient.verdict(many)


def agree(sys, **limits):
    """One thread against 2 and 3 threads, and 2 threads with blocks of one
    state (a small spec then runs many chunks, each beside a merge)."""
    one = graph(sys, 1, **limits)
    assert one.symmetry == "on"
    for n, block in ((2, 0), (3, 0), (2, 1)):
        same(one, graph(sys, n, block, **limits))
    return one


# N workers, each with its own lock, fence and counter beside a shared lock,
# run out of step: many representatives, many of them renamed
WORKERS = """
    param N = 4
    lock l
    lock k[1..N]
    fence f[1..N]
    var v[1..N] = 0 in 0..3
    thread w[i in 1..N] {
        lock k[i]; v[i] = v[i] + 1
        lock l; v[i] = v[i] + 1; publish f[i]; unlock l
        unlock k[i]; v[i] = v[i] + 1; signal f[i]
    }
    thread reclaim { lock l; wait any; unlock l }
"""


def load(text: str, params=None):
    return System(api.load(textwrap.dedent(text), "<test>", params or {}))


@needs_core
@pytest.mark.parametrize("reduction", [False, True], ids=["full", "reduced"])
@pytest.mark.parametrize("path", [p for p in SPECS if symmetric(p)], ids=lambda p: p.name)
def test_every_symmetric_spec_gives_the_same_quotient(path, reduction):
    agree(load(path.read_text()), reduction=reduction)


@needs_core
@pytest.mark.parametrize("path", [p for p in SPECS if symmetric(p)], ids=lambda p: p.name)
def test_every_symmetric_spec_stops_alike_in_early_bug_mode(path):
    agree(load(path.read_text()), early=True)


@needs_core
@pytest.mark.parametrize("name", list(COMPONENTS))
def test_each_renamed_component(name):
    sys = load(COMPONENTS[name])
    for reduction in (False, True):
        one = agree(sys, reduction=reduction)
    assert len(one.quotient.perm_list) > 1, "no state was renamed: the spec tests nothing"


@needs_core
@pytest.mark.parametrize("n", [1, 50, 1025, 3000])
def test_a_state_limit_cuts_alike(n):
    one = agree(load(WORKERS, {"N": 6}), max_states=n, reduction=False)
    assert one.stopped == f"state limit reached ({n} states)"


@needs_core
def test_many_chunks_of_renamed_states():
    """Tens of thousands of representatives: chunks of up to 65,536 states,
    many of them renamed, each merge with a chunk expanded beside it."""
    one = agree(load(WORKERS, {"N": 9}), reduction=False)
    assert len(one.states) > 20000 and len(one.quotient.perm_list) > 10


@needs_core
def test_the_whole_report_is_the_same():
    """Findings, traces and the lock order, through the API, on a symmetric
    spec with a deadlock between copies."""
    text = textwrap.dedent(COMPONENTS["a deadlock between copies"])
    res = [modelcheck.check_source(text, path="<test>", limits=explorer.Limits(workers=n)) for n in (1, 2)]
    assert res[0].findings
    assert res[0].stats.core == res[1].stats.core == "native"
    assert res[0].stats.symmetry == res[1].stats.symmetry
    steps = lambda r: [(f.kind, f.message, [str(s) for s in f.trace]) for f in r.findings]
    assert steps(res[0]) == steps(res[1])
    assert res[0].lock_order.words() == res[1].lock_order.words()


@needs_core
@settings(max_examples=100, deadline=None, suppress_health_check=list(HealthCheck))
@given(copy_specs(), st.booleans(), st.booleans())
def test_generated_copies_agree(text, reduction, early):
    note(text)
    try:
        sys = System(api.load(text, "<gen>", {}))
    except modelcheck.SpecError:
        return                                  # a draw the language refuses
    opts = dict(reduction=reduction, early=early, max_states=20000)
    one = graph(sys, 1, **opts)
    if one.symmetry != "on":
        return
    for n, block in ((2, 0), (2, 1)):
        same(one, graph(sys, n, block, **opts))
