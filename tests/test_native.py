"""The native search core agrees with the Python explorer: same states in
the same order, same edges, shortest paths, findings (with their first
edge and message), lock contexts, coverage; on every spec, the bench
designs and generated corpora.  Without the extension these tests skip
(the Python engine is then the only one and the rest of the suite covers it)."""
from __future__ import annotations

import textwrap

import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

import generate
import modelcheck
from helpers import REPO
from modelcheck import api
from modelcheck.search import explorer, native
from modelcheck.semantics import System

needs_core = pytest.mark.skipif(not native.available(), reason="the C extension is not built")
SPECS = sorted(REPO.glob("specs/*.fspec")) + sorted(REPO.glob("bench/*/*.fspec"))
PLAIN = dict(reduction=False, symmetry=False)


def graphs(text: str, params=None, **limits):
    sys = System(api.load(textwrap.dedent(text), "<test>", params or {}))
    py = explorer.explore(sys, explorer.Limits(core="python", **{**PLAIN, **limits}))
    nat = explorer.explore(sys, explorer.Limits(core="native", **{**PLAIN, **limits}))
    return sys, py, nat


def same(py, nat) -> None:
    assert nat.core == "native", nat.core
    for column in ("parent", "via", "depth", "switches", "offsets", "edges", "edge_actor"):
        assert list(getattr(py, column)) == list(getattr(nat, column)), column
    assert list(py.states) == list(nat.states)
    for what in ("timeout_edges", "ran", "entered", "deps", "reached", "stopped", "pruned",
                 "reduction"):
        assert getattr(py, what) == getattr(nat, what), what
    found = lambda g: [(k, f.src, f.actor, f.dst, f.message) for k, f in g.found.items()]
    assert found(py) == found(nat)


def agree(text: str, params=None, **limits):
    sys, py, nat = graphs(text, params, **limits)
    same(py, nat)
    return py, nat


@needs_core
@pytest.mark.parametrize("path", SPECS, ids=lambda p: p.name)
def test_every_spec_gives_the_same_graph(path):
    agree(path.read_text())


@needs_core
@pytest.mark.parametrize("path", SPECS, ids=lambda p: p.name)
def test_every_spec_gives_the_same_reduced_graph(path):
    """Partial-order reduction in C: the same persistent sets, the same
    cycle proviso, the same states left out."""
    agree(path.read_text(), reduction=True)


@needs_core
@pytest.mark.parametrize("path, n", [("bench/probes/stages_reclaim_once.fspec", 8)])
def test_reduction_judged_after_its_trial_alike(path, n):
    """Past REDUCTION_TRIAL states both cores judge the saving from the same
    sample and keep or drop the reduction alike."""
    py, nat = agree((REPO / path).read_text(), {"N": n}, reduction=True)
    assert len(py.states) > explorer.REDUCTION_TRIAL and nat.pruned


@needs_core
@pytest.mark.parametrize("path", SPECS, ids=lambda p: p.name)
def test_every_spec_gives_the_same_report(path):
    """The whole pipeline on both cores: same findings, traces, lock order."""
    res = {core: modelcheck.check_file(path, limits=explorer.Limits(core=core, **PLAIN))
           for core in ("python", "native")}
    py, nat = res["python"], res["native"]
    assert nat.stats.core == "native"
    assert [(f.kind, f.message, [str(s) for s in f.trace]) for f in py.findings] == \
        [(f.kind, f.message, [str(s) for s in f.trace]) for f in nat.findings]
    assert (py.stats.states, py.stats.transitions, py.stats.lock_deps) == \
        (nat.stats.states, nat.stats.transitions, nat.stats.lock_deps)
    assert py.lock_order.words() == nat.lock_order.words()


@needs_core
@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(generate.specs(), st.booleans())
def test_generated_specs_agree(text, reduction):
    note(text)
    agree(text, reduction=reduction)


V2 = """
lock m
lock s : spinlock
fence f
fence g
fence c = all(f, g)
fence k = any(f, g)
engine E slots 1
workqueue q ordered
workqueue u
var x = 0 in 0..3
work w on q { lock m; x = x + 1; unlock m }
work v on u { signal g }
irq h { lock s irqsave; signal f; unlock s }
on signal c { x = 2 }
on enable_signaling g { queue_work v }
job j on E after k { x = 1 }
thread a { queue_work w; lock s irqsave; unlock s; flush_work w; wait c }
thread b { ww { lock m }; cancel_work_sync w; flush_workqueue q; wait g }
"""


@needs_core
def test_the_v2_constructs_agree():
    """Work items, workqueues, irq handlers, containers, callbacks, ww, jobs
    with `after` in one design."""
    py, nat = agree(V2)
    assert len(py.states) > 50


@needs_core
def test_more_fences_than_a_mask_holds_without_resvs():
    """40 fences and no resv: no fence mask in the state, so the native core runs."""
    py, nat = agree("""
        lock m
        fence f[0..39]
        thread t[i in 0..1] { lock m; publish f[i]; unlock m; signal f[i] }
        thread r { lock m; wait any; unlock m }
        """, symmetry=False)
    assert len(nat.states) > 10


@needs_core
def test_more_actors_than_32_bits_hold_without_a_shared_lock():
    """40 threads taking turns on one mutex: the enabled sets are 64-bit, so
    the native core runs them; a lock taken shared keeps the 30-actor bound
    (its slot holds a mask of readers)."""
    many = """
        lock m
        var turn = 0 in 0..40
        thread t[i in 0..39] { await turn == i; lock m; turn = turn + 1; unlock m }
        """
    py, nat = agree(many, symmetry=False)
    assert len(nat.states) > 100
    shared = System(api.load(textwrap.dedent(many).replace("lock m\n", "lock m : rwsem\n", 1)
                             .replace("lock m;", "lock m shared;").replace("unlock m", "unlock m shared"),
                             "<test>", {}))
    with pytest.raises(native.Unsupported, match="shared"):
        native.Program(shared)


@needs_core
@pytest.mark.parametrize("n", [1, 7, 50])
def test_a_state_limit_cuts_both_alike(n):
    path = REPO / "bench/specs/pipeline_buggy.fspec"
    py, nat = agree(path.read_text(), max_states=n)
    assert nat.stopped == f"state limit reached ({n} states)"


@needs_core
def test_a_time_limit_stops_the_native_search_incomplete():
    path = REPO / "bench/specs/pipeline_fixed.fspec"
    r = modelcheck.check_file(path, limits=explorer.Limits(timeout=0, core="native", **PLAIN))
    assert not r.complete and "time limit" in r.stopped


def test_the_core_that_ran_is_said():
    """Symmetry on a spec where it applies: the native core too; asked for
    Python: Python, saying so."""
    text = "lock m\nthread a { lock m; unlock m }\nthread b { lock m; unlock m }\n"
    sys = System(api.load(text, "<test>", {}))
    g = explorer.explore(sys, explorer.Limits(core="python"))
    assert g.core == "python (asked for)"
    copies = System(api.load("lock m\nthread t[i in 1..2] { lock m; unlock m }\n", "<test>", {}))
    g = explorer.explore(copies, explorer.Limits())
    assert g.symmetry == "on" and g.core == ("native" if native.available() else
                                             "python (C extension not built)")
    r = modelcheck.check_source(text, limits=explorer.Limits(**PLAIN))
    assert r.stats.core == ("native" if native.available() else
                            "python (C extension not built)")


@needs_core
def test_ctrl_c_in_the_native_search_gives_a_partial_graph():
    """KeyboardInterrupt raised while the machine runs (here by the progress
    callback it calls) stops it as the Python explorer stops: partial, said."""
    path = REPO / "bench/specs/pipeline_fixed.fspec"
    sys = System(api.load(path.read_text(), str(path), {}))
    clock = iter(range(0, 10**6, 2))

    def interrupt(g, seconds):
        raise KeyboardInterrupt

    import modelcheck.search.native as nat
    real = nat.time.monotonic
    nat.time.monotonic = lambda: float(next(clock))
    try:
        g = explorer.explore(sys, explorer.Limits(core="native", **PLAIN), interrupt)
    finally:
        nat.time.monotonic = real
    assert g.core == "native" and g.stopped == "interrupted (Ctrl-C)"
    assert len(g.offsets) - 1 <= len(g.states)
