"""The whole-graph analyses on CSR arrays (verdicts/graphs.py) against the
reference (analysis.Analysis): the same findings, at the same states, with the
same continuations, on every spec, on the bench families, on graphs cut short
by a limit, and on generated specs.  Nothing here depends on the graph size
threshold: both are asked for by name."""
from __future__ import annotations

from hypothesis import HealthCheck, given, note, settings

import pytest

from helpers import REPO
from generate import specs
from test_symmetry import copy_specs
from modelcheck import api
from modelcheck.search import explorer
from modelcheck.semantics import System
from modelcheck.verdicts import analysis, graphs

SPECS = sorted((REPO / "specs").glob("*.fspec"))
BENCH = [("pipeline_fixed", {"N": 3}), ("pipeline_buggy", {"N": 3}), ("ring_deadlock", {"N": 3}),
         ("ring_fixed", {"N": 3}), ("pagefault_shared", {"N": 2, "M": 2}),
         ("pagefault_preemptible", {"N": 2, "M": 2})]
LIMITS = [explorer.Limits(), explorer.Limits(symmetry=False),
          explorer.Limits(symmetry=False, reduction=False)]


def findings(sys, g, how):
    return [(f.kind, f.key, f.message, f.state, f.actors, f.then)
            for f in analysis.analyse(sys, g, how=how)]


def agree(text: str, params=None, limits=LIMITS) -> None:
    sys = System(api.load(text, "<test>", params))
    for lim in limits:
        g = explorer.explore(sys, lim)
        if not graphs.applies(sys, g):
            continue
        assert findings(sys, g, "csr") == findings(sys, g, "reference"), lim


@pytest.mark.parametrize("path", SPECS, ids=lambda p: p.stem)
def test_every_spec(path):
    agree(path.read_text())


@pytest.mark.parametrize("name,params", BENCH, ids=[b[0] for b in BENCH])
def test_bench_families(name, params):
    agree((REPO / "bench" / "specs" / f"{name}.fspec").read_text(), params)


@pytest.mark.parametrize("cut", [1, 7, 60, 400])
def test_graphs_cut_short(cut):
    """Unexpanded states stand for "anything may still happen" in both."""
    text = (REPO / "bench" / "specs" / "pipeline_buggy.fspec").read_text()
    agree(text, {"N": 3}, [explorer.Limits(max_states=cut, reduction=False, symmetry=False)])


def test_fair_cycle_refined_in_rounds():
    """The loop's component is unfair (q is enabled where x is 1 and never
    moves inside it); dropping those states leaves a fair cycle where p keeps
    choosing x = 0: the published fence is found unsignalled in both."""
    text = """
        fence f
        var x = 0 in 0..1
        thread p { publish f; while true { choose { x = 1 } or { x = 0 } } }
        thread q { await x == 1; signal f }
    """
    agree(text)
    sys = System(api.load(text))
    g = explorer.explore(sys, explorer.Limits(reduction=False))
    assert [f.kind for f in analysis.analyse(sys, g, how="csr")] == ["indefinite-fence"]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(specs())
def test_generated_specs(text):
    note(text)
    agree(text)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(copy_specs())
def test_generated_copies(text):
    note(text)
    agree(text)


@pytest.mark.parametrize("name", ["pipeline_fixed.fspec", "ring_deadlock.fspec"])
def test_native_columns_are_the_states_components(name):
    """The analyses read the native core's pcs and fences as numpy columns
    straight from its packed records: the same numbers as the decoded states."""
    from modelcheck.search import native
    if not native.available():
        pytest.skip("the C extension is not built")
    path = REPO / "bench" / "specs" / name
    sys = System(api.load(path.read_text(), str(path), {"N": 4}))
    g = explorer.explore(sys, explorer.Limits(core="native", reduction=False, symmetry=False))
    assert g.core == "native"
    decoded = list(g.states)
    flat = [i for i in range(sys.L.size) if not isinstance(decoded[0][i], tuple)]
    for i in flat:
        assert g.states.column(i).tolist() == [s[i] for s in decoded], i
