"""The verdict of a symmetry quotient in C (`verdicts.native.QuotientAnalysis`,
graph.c's never_moves and unsignalled with renamings) agrees with the
reference (`Symmetry._kinds` and `_fair_cycles`): the same kinds, the same
dead states, the same fair cycles (by their least states); on every
symmetric spec, on examples of each kind, on generated copies, on the
native core's graphs and the Python explorer's."""
from __future__ import annotations

import textwrap
from array import array

import pytest
from hypothesis import HealthCheck, event, given, note, settings

import modelcheck
from modelcheck import api
from modelcheck.search import explorer
from modelcheck.semantics import System
from modelcheck.verdicts import native
from test_native_symmetry import SPECS, symmetric
from test_native_symmetry import copy_specs as own_object_copies
from test_symmetry import LOOPING, WORKERS
from test_symmetry import copy_specs as shared_object_copies
from test_workers_symmetry import WORKERS as OWN_WORKERS

needs_c = pytest.mark.skipif(not native.available(), reason="the C extension is not built")


def quotient(text: str, core: str = "native", params=None, **limits):
    sys = System(api.load(textwrap.dedent(text), "<test>", params or {}))
    g = explorer.explore(sys, explorer.Limits(core=core, symmetry=True, **limits))
    return sys, g


def agree(sys, g) -> set:
    """Both readings of the quotient, compared piece by piece; the kinds."""
    q = g.quotient
    assert q is not None and g.symmetry == "on"
    assert native.applies(sys, g)
    back = q.back()
    ref_kinds, live = q._kinds(g, back)
    c = native.QuotientAnalysis(sys, g, back)
    x = min(len(g.states), g.expanded)
    dead, where = c.dead_states()
    assert list(where) == sorted(set(range(x)) - set(live))           # the same dead states
    ends = [v for v in live if g.offsets[v] == g.offsets[v + 1]
            and all(sys.at_rest(g.states[v], a) for a in range(sys.L.A))]
    fair = list(q._fair_cycles(g, live, back))
    assert sorted(c.unsignalled_candidates(dead)) == sorted(ends + fair)   # the same fair cycles
    fair_kind = {"indefinite-fence"} if q._fair_cycle(g, live, back) else set()
    assert c.kinds() == ref_kinds | fair_kind
    kinds = q.verdict(g, "native")
    assert kinds == q.verdict(g, "reference")
    return kinds


@needs_c
@pytest.mark.parametrize("reduction", [False, True], ids=["full", "reduced"])
@pytest.mark.parametrize("path", [p for p in SPECS if symmetric(p)], ids=lambda p: p.name)
def test_every_symmetric_spec(path, reduction):
    agree(*quotient(path.read_text(), reduction=reduction))


@needs_c
@pytest.mark.parametrize("core", ["native", "python"])
@pytest.mark.parametrize("text, kinds", [
    (WORKERS, set()),
    (LOOPING, set()),
    # a copy spins for ever after publishing: reclaim waits for its fence holding l
    (LOOPING.replace("signal f[i] }", "while c < 9 { c = c }; signal f[i] }"),
     {"deadlock", "indefinite-fence"}),
    # nobody waits, nobody signals, a loop goes on: only a fair cycle shows it
    (LOOPING.replace("thread reclaim { while 1 { lock l; wait any; unlock l } }",
                     "thread reclaim { while 1 { c = c } }").replace("signal f[i] }", "}"),
     {"indefinite-fence"}),
    # every copy publishes and stops: the last state leaves the fences unsignalled
    (WORKERS.replace("signal f[i] }", "}").replace("thread reclaim { lock l; wait any; unlock l }",
                                                   ""), {"indefinite-fence"}),
    # the copies wait with a timeout for a fence no one signals
    ("""
     param N = 3
     fence f[1..N]
     fence g
     thread w[i in 1..N] { publish f[i]; wait g timeout; signal f[i] }
     thread o { publish g }
     """, {"timeout-hang", "indefinite-fence"}),
])
def test_each_kind_on_copies(text, kinds, core):
    assert agree(*quotient(text, core, reduction=False)) == kinds


@needs_c
def test_a_larger_quotient_goes_through_c_by_itself():
    sys, g = quotient(WORKERS, params={"N": 9}, reduction=False)
    assert len(g.states) >= 512 and any(g.edge_perm)
    assert agree(sys, g) == set()
    assert modelcheck.check_source(textwrap.dedent(WORKERS), params={"N": 9}).kinds == set()


@needs_c
def test_renamings_that_do_not_fit_the_graph_are_refused():
    from modelcheck.search import _graph
    sys, g = quotient(WORKERS, reduction=False)
    back = array("i", [b for inv in g.quotient.back() for b in inv])
    out, en = array("Q", [0]) * len(g.states), array("Q", [0]) * len(g.states)
    A = sys.L.A
    bad_perm = array("i", [len(g.quotient.perm_list)]) * len(g.edges)
    with pytest.raises(ValueError, match="renaming id"):
        _graph.never_moves(out, g.offsets, g.edges, en, 1, None, bad_perm, back, A)
    with pytest.raises(ValueError, match="actor out of range"):
        _graph.never_moves(out, g.offsets, g.edges, en, 1, None, g.edge_perm,
                           array("i", [A]) * len(back), A)
    with pytest.raises(ValueError, match="fewer renaming ids"):
        _graph.never_moves(out, g.offsets, g.edges, en, 1, None, array("i"), back, A)
    with pytest.raises(ValueError, match="renaming id"):
        _graph.unsignalled(g.offsets, g.edges, g.edge_actor, en, out, out, 1, bad_perm, back, A)
    with pytest.raises(ValueError, match="edge_actor is needed"):
        _graph.unsignalled(g.offsets, g.edges, None, en, out, out, 1, g.edge_perm, back, A)


@needs_c
def test_actor_bits_past_the_actors_are_not_looked_up():
    """Masks are 64 bits wide; the renamings name only the A actors."""
    from modelcheck.search import _graph
    out = array("Q", [0, 0])
    _graph.never_moves(out, array("i", [0, 1]), array("i", [1]), array("Q", [0, 0b10]), 1, None,
                       array("i", [1]), array("i", [0, 0]), 1)
    assert list(out) == [1, 1]
    none = array("Q", [0])
    fair = _graph.unsignalled(array("i", [0, 1]), array("i", [0]), array("b", [5]),
                              array("Q", [1 << 5]), none, none, 1, array("i", [0]), array("i", [0]), 1)
    assert len(fair) == 4                       # one fair cycle: state 0 looping


# copies with their own lock, fence and counter beside a reclaim loop: many
# cycles, each through renamed states
RECLAIM_LOOP = OWN_WORKERS.replace("param N = 4", "param N = 5").replace(
    "thread reclaim { lock l; wait any; unlock l }",
    "thread reclaim { while 1 { lock l; wait any; unlock l } }")


@needs_c
@pytest.mark.parametrize("text, kinds", [
    (RECLAIM_LOOP, set()),
    # a copy never signals: the reclaim loop goes round for ever beside it
    (RECLAIM_LOOP.replace("v[i] = v[i] + 1; signal f[i]", "v[i] = v[i] + 1"),
     {"deadlock", "indefinite-fence"}),
])
def test_fair_cycles_of_a_reclaim_loop_beside_copies(text, kinds):
    sys, g = quotient(text, reduction=False)
    assert len(g.states) >= 512 and any(g.edge_perm)
    assert agree(sys, g) == kinds
    c = native.QuotientAnalysis(sys, g, g.quotient.back())
    dead = set(c.dead_states()[1])
    live = [v for v in range(min(len(g.states), g.expanded)) if v not in dead]
    assert list(g.quotient._fair_cycles(g, live, g.quotient.back()))      # cycles were judged


def generated(text: str, core: str) -> None:
    note(text)
    try:
        sys, g = quotient(text, core, reduction=False, max_states=20000)
    except modelcheck.SpecError:
        return
    if g.symmetry == "on":
        event(f"symmetric, {len(g.states) // 100 * 100}+ states, {' '.join(sorted(agree(sys, g)))}")


@needs_c
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(shared_object_copies())
def test_generated_copies_of_shared_objects(text):
    generated(text, "native")


@needs_c
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(own_object_copies())
def test_generated_copies_with_their_own_objects(text):
    generated(text, "python")
