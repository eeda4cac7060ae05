"""`--workers N`: the native search on N threads gives the graph of one
thread to the byte (states, their numbers, edges in order, parents, depths,
findings with their first edge, lock steps, coverage), so every report and
shortest trace is the same; with reduction on and off, on every spec, the
bench designs, generated corpora, and when a limit cuts the search."""
from __future__ import annotations

import json
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
SPECS = sorted(REPO.glob("specs/*.fspec")) + sorted(REPO.glob("bench/specs/*.fspec"))
PLAIN = dict(symmetry=False, core="native")
COLUMNS = ("parent", "via", "depth", "switches", "offsets", "edges", "edge_actor")
FACTS = ("timeout_edges", "ran", "entered", "deps", "reached", "stopped", "pruned", "reduction",
         "early", "stuck")


def graph(sys, workers: int, **limits):
    g = explorer.explore(sys, explorer.Limits(workers=workers, **{**PLAIN, **limits}))
    assert g.core == "native", g.core
    return g


def same(one, many) -> None:
    assert bytes(one.states.data) == bytes(many.states.data)
    for column in COLUMNS:
        assert getattr(one, column) == getattr(many, column), column
    for what in FACTS:
        assert getattr(one, what) == getattr(many, what), what
    found = lambda g: [(k, f.src, f.actor, f.dst, f.message) for k, f in g.found.items()]
    assert found(one) == found(many)


def agree(text: str, params=None, workers=(2, 3), **limits):
    """One thread against 2 and 3, with blocks of 64 states and of 1 (a
    chunk of a few states: a small spec runs many, each expanded beside the
    last one's merge)."""
    sys = System(api.load(textwrap.dedent(text), "<test>", params or {}))
    one = graph(sys, 1, **limits)
    for n in workers:
        same(one, graph(sys, n, **limits))
    real = native.BLOCK
    try:
        native.BLOCK = 1
        same(one, graph(sys, 2, **limits))
    finally:
        native.BLOCK = real
    return one


@needs_core
@pytest.mark.parametrize("reduction", [False, True], ids=["full", "reduced"])
@pytest.mark.parametrize("path", SPECS, ids=lambda p: p.name)
def test_every_spec_gives_the_same_graph(path, reduction):
    agree(path.read_text(), reduction=reduction)


@needs_core
@pytest.mark.parametrize("reduction", [False, True], ids=["full", "reduced"])
@pytest.mark.parametrize("path", SPECS, ids=lambda p: p.name)
def test_early_bug_mode_stops_at_the_same_state(path, reduction):
    """Early-bug mode: the merge stops where search() stops (a finding
    logged, or a state where no one can move), with the same partial graph."""
    agree(path.read_text(), reduction=reduction, early=True)


@needs_core
@pytest.mark.parametrize("reduction", [False, True], ids=["full", "reduced"])
def test_a_pipeline_of_many_chunks_gives_the_same_graph(reduction):
    """Thousands of states: many chunks and blocks, the reduction's trial
    judged in the middle of one, states found again across blocks."""
    path = REPO / "bench/specs/pipeline_fixed.fspec"
    g = agree(path.read_text(), {"N": 7}, reduction=reduction)
    assert len(g.states) > 20000


@needs_core
def test_the_reduction_trial_is_judged_alike():
    """The reduction's search runs on one thread up to REDUCTION_TRIAL states,
    where it judges the saving and turns itself off; the threads take over
    from the next state, with the same graph."""
    path = REPO / "bench/probes/stages_reclaim_once.fspec"
    g = agree(path.read_text(), {"N": 8}, reduction=True)
    assert g.reduction.startswith("on for the first") and g.pruned


@needs_core
@pytest.mark.parametrize("n", [1, 2, 7, 50, 1025, 5000])
def test_a_state_limit_cuts_alike(n):
    path = REPO / "bench/specs/pipeline_fixed.fspec"
    g = agree(path.read_text(), {"N": 5}, max_states=n, reduction=False)
    assert g.stopped == f"state limit reached ({n} states)"


@needs_core
def test_the_whole_report_is_the_same():
    """Findings, their shortest traces and the lock order, through the API."""
    path = REPO / "bench/specs/pipeline_buggy.fspec"
    res = [modelcheck.check_file(path, limits=explorer.Limits(workers=n, symmetry=False))
           for n in (1, 2)]
    assert res[0].stats.core == res[1].stats.core == "native"
    from modelcheck.reports.report import as_json
    assert untimed(json.loads(as_json(res[:1]))) == untimed(json.loads(as_json(res[1:])))


def untimed(x):
    """A JSON document without its clock readings."""
    if isinstance(x, dict):
        return {k: untimed(v) for k, v in x.items() if "seconds" not in k and k != "memory_mb"}
    if isinstance(x, list):
        return [untimed(v) for v in x]
    return x


@needs_core
@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(generate.specs(), st.booleans(), st.booleans())
def test_generated_specs_agree(text, reduction, early):
    note(text)
    agree(text, reduction=reduction, early=early)


@needs_core
def test_ctrl_c_with_workers_gives_a_partial_graph():
    """The tick runs on the calling thread between merges: Ctrl-C there
    stops the search as with one thread."""
    path = REPO / "bench/specs/pipeline_fixed.fspec"
    sys = System(api.load(path.read_text(), str(path), {}))
    clock = iter(range(0, 10**6, 2))

    def interrupt(g, seconds):
        raise KeyboardInterrupt

    import modelcheck.search.native as nat
    real = nat.time.monotonic
    nat.time.monotonic = lambda: float(next(clock))
    try:
        g = explorer.explore(sys, explorer.Limits(workers=2, reduction=False, **PLAIN), interrupt)
    finally:
        nat.time.monotonic = real
    assert g.core == "native" and g.stopped == "interrupted (Ctrl-C)"
    assert len(g.offsets) - 1 <= len(g.states)


@needs_core
def test_symmetry_on_gives_the_same_graph():
    """With symmetry on, the threads canonicalise and the merge numbers the
    renamings (same graph, renamings and all; more in test_workers_symmetry.py)."""
    text = "lock m\nthread t[i in 1..3] { lock m; unlock m }\n"
    sys = System(api.load(text, "<test>", {}))
    one, two = (explorer.explore(sys, explorer.Limits(workers=n)) for n in (1, 2))
    assert one.symmetry == "on" and one.core == two.core == "native"
    same(one, two)
    assert one.edge_perm == two.edge_perm


def test_workers_is_checked():
    with pytest.raises(ValueError, match="workers"):
        explorer.Limits(workers=0)
    with pytest.raises(TypeError, match="workers"):
        explorer.Limits(workers="2")
