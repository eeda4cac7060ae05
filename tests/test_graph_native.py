"""The whole-graph analyses in C (verdicts/native.py over the extension
modelcheck.search._graph) against the reference (analysis.Analysis) and the
numpy/scipy version (verdicts/graphs.py): the same findings, at the same
states, with the same continuations and traces, on every spec, the golden
specs, the bench families, graphs cut short by a limit, timeouts, jobs held
back by dependencies, fair cycles found in more than one round, and
generated specs, on the graphs of both search cores.  The three are asked
for by name, so the size thresholds of `analysis.analyse` play no part."""
from __future__ import annotations

from array import array

import pytest
from hypothesis import HealthCheck, given, note, settings

from generate import specs
from helpers import REPO
from test_symmetry import copy_specs
from modelcheck import api
from modelcheck.search import explorer
from modelcheck.semantics import DONE, System
from modelcheck.verdicts import analysis, native, trace

pytestmark = pytest.mark.skipif(not native.available(), reason="the C extension is not built")

SPECS = sorted((REPO / "specs").glob("*.fspec")) + sorted((REPO / "tests" / "golden").glob("*.fspec"))
BENCH = [("pipeline_fixed", {"N": 3}), ("pipeline_buggy", {"N": 3}), ("ring_deadlock", {"N": 3}),
         ("ring_fixed", {"N": 3}), ("pagefault_shared", {"N": 2, "M": 2}),
         ("pagefault_preemptible", {"N": 2, "M": 2})]
LIMITS = [explorer.Limits(), explorer.Limits(symmetry=False),
          explorer.Limits(symmetry=False, reduction=False),
          explorer.Limits(symmetry=False, reduction=False, core="python")]


def findings(sys, g, how):
    """The findings, and their traces (on graphs of the real actors: with
    symmetry on, the checker searches again without it to show traces)."""
    items = analysis.analyse(sys, g, how=how)
    traces = [[(s.actor, s.line, s.statement, s.effect) for s in trace.build(sys, g, it).trace]
              for it in items] if g.quotient is None else []
    return [(f.kind, f.key, f.message, f.state, f.actors, f.then) for f in items], traces


def agree(text: str, params=None, limits=LIMITS, numpy=True) -> None:
    sys = System(api.load(text, "<test>", params))
    for lim in limits:
        g = explorer.explore(sys, lim)
        if not native.applies(sys, g):
            continue
        ref = findings(sys, g, "reference")
        assert findings(sys, g, "native") == ref, (lim, g.core)
        if numpy:
            assert findings(sys, g, "csr") == ref, (lim, g.core)


def masks(sys, g):
    """The per-state masks of the C analyses and of the reference, as lists."""
    c, ref = native.NativeAnalysis(sys, g), analysis.Analysis(sys, g)
    return c, ref


@pytest.mark.parametrize("path", SPECS, ids=lambda p: p.stem)
def test_every_spec(path):
    agree(path.read_text())


@pytest.mark.parametrize("name,params", BENCH, ids=[b[0] for b in BENCH])
def test_bench_families(name, params):
    agree((REPO / "bench" / "specs" / f"{name}.fspec").read_text(), params)


@pytest.mark.parametrize("core", ["native", "python"])
@pytest.mark.parametrize("cut", [1, 2, 7, 60, 400])
def test_graphs_cut_short(cut, core):
    """Unexpanded states stand for "anything may still happen" in all three."""
    text = (REPO / "bench" / "specs" / "pipeline_buggy.fspec").read_text()
    agree(text, {"N": 3}, [explorer.Limits(max_states=cut, reduction=False, symmetry=False, core=core)])


@pytest.mark.parametrize("core", ["native", "python"])
def test_per_state_masks_are_the_references(core):
    """Not only the findings: every state's enabled, finished, never-moves
    and timeout masks, and the candidates of an unsignalled fence."""
    text = (REPO / "tests" / "golden" / "ring_timeout.fspec").read_text()
    sys = System(api.load(text))
    g = explorer.explore(sys, explorer.Limits(reduction=False, symmetry=False, core=core))
    assert g.timeout_edges
    c, ref = masks(sys, g)
    assert list(c.enabled) == ref.enabled
    assert list(c.finished) == ref.finished
    for skip in (False, True):
        assert list(c.never_moves(c.enabled, skip)) == ref.never_moves(ref.enabled, skip)
    assert list(c.no_timeout_enabled()) == ref.no_timeout_enabled()
    dead, where = c.dead_states()
    assert (list(dead), list(where)) == ref.dead_states()
    assert sorted(c.unsignalled_candidates(dead)) == sorted(ref.unsignalled_candidates(ref.dead_states()[0]))
    stuck = c.never_moves(c.no_timeout_enabled(), True)
    assert c.timeout_candidates(stuck) == list(ref.timeout_candidates(list(stuck)))


@pytest.mark.parametrize("after,hangs", [("", True), ("; lock m; unlock m", True),
                                         ("; signal f", True), ("", False)])
def test_timeouts_hang(after, hangs):
    """A wait with a timeout for a fence no one else signals: timeout-hang,
    decided with the timeout edges left out of the graph, whatever the waiter
    does once the timeout fires; none when another thread signals it."""
    text = f"""
        lock m
        fence f
        thread t {{ publish f; wait f timeout{after} }}
        thread u {{ {"lock m; unlock m" if hangs else "signal f"} }}
    """
    agree(text)
    sys = System(api.load(text))
    g = explorer.explore(sys, explorer.Limits(reduction=False))
    kinds = [f.kind for f in analysis.analyse(sys, g, how="native")]
    assert ("timeout-hang" in kinds) == hangs


def test_jobs_held_back_by_dependencies_are_at_rest():
    """A job whose dependency never signals is held back by the scheduler,
    not blocked: no deadlock for it; the fence it was to signal is left
    unsignalled."""
    text = """
        fence dep
        fence out
        engine ring slots 1
        thread t { publish dep; publish out }
        job j on ring after dep { signal out }
    """
    agree(text)
    sys = System(api.load(text))
    g = explorer.explore(sys, explorer.Limits(reduction=False))
    c, ref = masks(sys, g)
    job = sys.L.A - 1
    assert any(ref.finished[i] >> job & 1 and s[sys.L.PC + job] != DONE for i, s in enumerate(g.states))
    assert list(c.finished) == ref.finished
    assert [f.kind for f in analysis.analyse(sys, g, how="native")] == \
        [f.kind for f in analysis.analyse(sys, g, how="reference")]


def test_fair_cycle_refined_in_rounds():
    """The loop's component is unfair (q is enabled where x is 1 and never
    moves inside it); dropping those states leaves a fair cycle where p keeps
    choosing x = 0: the published fence is found unsignalled by all three."""
    text = """
        fence f
        var x = 0 in 0..1
        thread p { publish f; while true { choose { x = 1 } or { x = 0 } } }
        thread q { await x == 1; signal f }
    """
    agree(text)
    sys = System(api.load(text))
    g = explorer.explore(sys, explorer.Limits(reduction=False))
    assert [f.kind for f in analysis.analyse(sys, g, how="native")] == ["indefinite-fence"]


def test_a_one_state_busy_wait_is_a_fair_cycle():
    """An empty polling loop is one state with an edge to itself: a cycle
    of one state, fair, that keeps the fence unsignalled."""
    text = """
        fence f
        thread p { publish f; while not signalled(f) { } }
    """
    agree(text)
    sys = System(api.load(text))
    g = explorer.explore(sys, explorer.Limits(reduction=False))
    assert any(g.edges[e] == i for i in range(g.expanded) for e in g.successors(i))
    assert [f.kind for f in analysis.analyse(sys, g, how="native")] == ["indefinite-fence"]


def test_three_rounds():
    """Two nested unfair loops: each round drops the states where one more
    actor is enabled; a fair cycle is left only in the third."""
    text = """
        fence f
        var x = 0 in 0..2
        thread p { publish f; while true { choose { x = 0 } or { x = 1 } or { x = 2 } } }
        thread q { await x == 2; signal f }
        thread r { await x >= 1; x = 0 }
    """
    agree(text)


def test_one_deadlock_behind_many_dead_states():
    """A lock inversion beside independent counters: every state after the
    point of no return is dead, all with one key.  The C analyses look at
    the first state of each place (dead actors and their pcs) only, and
    report what the reference reports looking at all of them."""
    text = """
        lock a
        lock b
        var v[1..4] = 0 in 0..3
        thread t1 { lock a; lock b; unlock b; unlock a }
        thread t2 { lock b; lock a; unlock a; unlock b }
        thread c[i in 1..4] { v[i] = 1; v[i] = 2; v[i] = 3 }
    """
    limits = [explorer.Limits(symmetry=False, reduction=False)]
    agree(text, limits=limits)
    sys = System(api.load(text))
    g = explorer.explore(sys, limits[0])
    c = native.NativeAnalysis(sys, g)
    dead, where = c.dead_states()
    assert len(where) == 256 and list(c.places(dead, where)) == [where[0]]
    assert list(c.places(dead, where * 9)) == [where[0]]          # past the first part
    (found,) = analysis.analyse(sys, g, how="native")
    assert found.kind == "deadlock" and found.state == where[0]


def test_places_keep_every_state_leaving_a_hook():
    from modelcheck.search import _graph
    where, dead, data, pcs = array("i", [0, 1, 2]), array("Q", [1, 1, 1]), b"\3\3\4", array("i", [0, 1, 0])
    none = array("i")
    assert list(_ints(_graph.places(where, dead, data, 1, pcs, bytes(8), none))) == [0, 2]
    assert list(_ints(_graph.places(where, dead, data, 1, pcs, bytes([0, 0, 0, 1]), none))) == [0, 1, 2]
    assert list(_ints(_graph.places(where, dead, data, 1, pcs, bytes(8), array("i", [2])))) == [0]


def _ints(data):
    out = array("i")
    out.frombytes(data)
    return out


def test_bad_arrays_are_errors_not_crashes():
    """Arrays that do not fit each other raise; the extension never reads
    past their ends."""
    from modelcheck.search import _graph
    out = array("Q", [0]) * 2
    with pytest.raises(ValueError):        # an edge to a state that is not there
        _graph.never_moves(out, array("i", [0, 1, 1]), array("i", [5]), out, 3, None)
    with pytest.raises(ValueError):        # offsets past the edges
        _graph.enabled(out, array("i", [0, 4, 4]), array("i", [1]), array("b", [0]), 3, None)
    with pytest.raises(TypeError):         # 64-bit offsets
        _graph.enabled(out, array("q", [0, 1, 1]), array("i", [1]), array("b", [0]), 3, None)
    with pytest.raises(ValueError):        # a field beyond the record
        _graph.first_published(array("i", [0]), b"\0\0", 2, array("i", [2, 1, 0]), 4)
    with pytest.raises(ValueError):        # fewer masks than states
        _graph.without(out, array("Q", [0]))


def test_a_graph_with_no_edges():
    out = array("Q", [7]) * 3
    _graph_mod().never_moves(out, array("i", [0, 0, 0, 0]), array("i"), array("Q", [1, 0, 2]), 3, None)
    assert list(out) == [2, 3, 1]


def _graph_mod():
    from modelcheck.search import _graph
    return _graph


def test_the_native_path_imports_no_numpy():
    """A large graph analysed in C: numpy and scipy are not imported."""
    import subprocess
    import sys
    code = ("import sys; from modelcheck import api; from modelcheck.search import explorer\n"
            "from modelcheck.semantics import System; from modelcheck.verdicts import analysis\n"
            f"s = System(api.load(open({str(REPO / 'bench' / 'specs' / 'pipeline_fixed.fspec')!r}).read(),"
            " 'p', {'N': 6}))\n"
            "g = explorer.explore(s, explorer.Limits(reduction=False))\n"
            "assert len(g.states) >= analysis.NATIVE_FROM\n"
            "analysis.analyse(s, g)\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('numpy', 'scipy')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "[]"


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(specs())
def test_generated_specs(text):
    note(text)
    agree(text, numpy=False)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(copy_specs())
def test_generated_copies(text):
    note(text)
    agree(text, numpy=False)


def test_actors_beyond_32_bits():
    """Forty waiters (on the Python explorer: the native core stops at 30
    actors): the masks are 64 bits wide, the actors past bit 31 included."""
    text = """
        fence f
        thread w[i in 1..40] { wait f }
        thread p { publish f }
    """
    agree(text, limits=[explorer.Limits(symmetry=False, reduction=False)])
    sys = System(api.load(text))
    g = explorer.explore(sys, explorer.Limits(symmetry=False, reduction=False))
    assert sys.L.A == 41 and native.applies(sys, g)
    (dead,) = [f for f in analysis.analyse(sys, g, how="native") if f.kind == "deadlock"]
    assert len(dead.actors) == 40


def test_one_state():
    agree("fence f\nthread t { }\n")
    agree("fence f\nthread t { publish f }\n")


def test_without_the_extension_numpy_runs(monkeypatch):
    """Where the C analyses were not built, a large graph goes to numpy and
    scipy, a small one to the reference: the same findings."""
    text = (REPO / "bench" / "specs" / "pipeline_buggy.fspec").read_text()
    sys = System(api.load(text, "<test>", {"N": 6}))
    g = explorer.explore(sys, explorer.Limits(reduction=False))
    assert len(g.states) >= analysis.CSR_FROM
    used = []
    real = analysis.Analysis.deadlocks                  # (the subclasses inherit it)
    monkeypatch.setattr(analysis.Analysis, "deadlocks",
                        lambda self: used.append(type(self).__name__) or real(self))
    with_c = findings(sys, g, "auto")
    monkeypatch.setattr(native, "_graph", None)
    assert findings(sys, g, "auto") == with_c
    assert used == ["NativeAnalysis", "FastAnalysis"]


def test_version_says_where_the_analyses_run(capsys):
    from modelcheck import cli
    with pytest.raises(SystemExit):
        cli.main(["--version"])
    out = " ".join(capsys.readouterr().out.split())
    assert "graph analyses: C (extension modelcheck.search._graph)" in out
