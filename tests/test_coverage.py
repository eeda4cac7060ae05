"""Coverage: every run reports the statements, `else` bodies and `choose`
alternatives no explored step executed, and a `safe` verdict over code that
never ran says so (table header, JSON `coverage`, HTML).  The answer is the
same with partial-order reduction and symmetry on and off."""
from __future__ import annotations

import json
import textwrap

from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

import modelcheck
from modelcheck.reports import picture, report
from modelcheck.search.explorer import Limits
from helpers import check
from test_reduction import small_specs
from test_symmetry import copy_specs

PLAIN = Limits(reduction=False, symmetry=False)
BOTH = Limits(reduction=True, symmetry=True)

# The TTM shape: the interesting branch (evict while busy) is never taken,
# because the lock that would make the buffer busy is never contended.
TTM = """
    resv bo
    fence busy
    var evicted = 0 in 0..1
    thread evict {
        lock bo
        if signalled(busy) and not signalled(busy) {
            wait busy
            evicted = 1
        } else {
            evicted = 0
        }
        unlock bo
    }
"""


def missed(result) -> list:
    return [(line, what, text) for line, _c, what, text in result.coverage.missed]


def test_a_safe_verdict_over_a_branch_never_taken_says_so():
    r = check(TTM)
    assert r.ok and r.kinds == frozenset()
    assert missed(r) == [(8, "statement", "wait busy"), (9, "statement", "evicted = 1")]
    head = report.table(r).split("\n\n")[0]
    assert "found:    safe, but over code that never ran (2 places" in head
    assert "coverage: 2 of 7 never ran" in head and "line 8: statement `wait busy`" in head
    data = json.loads(report.as_json([r]))["files"][0]["coverage"]
    assert data["items"] == 7 and data["ran"] == 5 and data["complete"]
    assert [p["line"] for p in data["never_ran"]] == [8, 9]
    html = picture.page([r])
    assert "safe, but over code that never ran" in html and "<code>wait busy</code>" in html


def test_full_coverage_is_said_too():
    r = check("""
        fence f
        thread t { signal f }
        thread w { wait f }
    """)
    assert r.coverage.missed == [] and r.coverage.items == 2
    assert "coverage: every statement, else body and choose alternative ran (2)" in report.table(r)
    assert "found:    safe\n" in report.table(r)


def test_else_bodies_and_choose_alternatives():
    r = check("""
        lock L
        var x = 0 in 0..3
        thread t {
            trylock L else {
                x = 3
            }
            choose { x = 1 } or { x = 2 }
            if x > 0 { x = 0 } else { x = 3 }
            unlock L
        }
    """)
    assert missed(r) == [(5, "else body of", "trylock L else {"), (6, "statement", "x = 3"),
                         (9, "else body of", "if x > 0 { x = 0 } else { x = 3 }"),
                         (9, "statement", "x = 3")]
    assert [m for m in missed(r) if m[1].startswith("alternative")] == []


def test_a_hook_that_never_fires_and_a_statement_that_only_blocks():
    r = check("""
        lock L
        fence f
        on reclaim { lock L; unlock L }
        thread t {
            alloc nowait
            wait f
            signal f
        }
        expect deadlock
    """)
    assert [(l, t) for l, _w, t in missed(r)] == [(4, "lock L"), (4, "unlock L"), (7, "wait f"),
                                                 (8, "signal f")]
    # a verdict with findings is not "safe over dead code"
    assert "found:    deadlock\n" in report.table(r)


def test_copies_and_calls_share_their_places():
    r = check("""
        var x = 0 in 0..3
        def bump(k) {
            if k == 1 { x = x + 1 } else { x = x + 2 }
        }
        thread t[i in 1..2] { bump(i) }
    """)
    assert r.coverage.missed == []          # copy 1 takes one branch, copy 2 the other
    r = check("""
        var x = 0 in 0..3
        def bump(k) {
            if x == 9 { x = k }
        }
        thread t[i in 1..2] { bump(i) }
    """)
    assert missed(r) == [(4, "statement", "x = k")]   # the def's line, whichever call


def test_coverage_is_the_same_with_and_without_the_reduction():
    spec = textwrap.dedent("""
        var x = 0 in 0..2
        var y = 0 in 0..2
        thread a { x = 1; if y == 1 { x = 2 } }
        thread b { y = 1; y = 0 }
    """)
    full = modelcheck.check_source(spec, limits=PLAIN)
    reduced = modelcheck.check_source(spec, limits=BOTH)
    assert missed(full) == missed(reduced) == []


def test_code_a_reduced_graph_misses_is_decided_on_a_full_search(monkeypatch):
    """Where the reduced graph left steps out and shows code that never ran,
    the answer comes from a search without reduction."""
    from modelcheck.verdicts import coverage
    real = coverage.compute

    def reduced_misses_more(sys, g):
        c = real(sys, g)
        if g.pruned:                     # pretend the reduction hid a statement
            c.missed = [(99, 1, "statement", "hidden")]
        return c
    monkeypatch.setattr(coverage, "compute", reduced_misses_more)
    spec = textwrap.dedent("""
        var x = 0 in 0..2
        var y = 0 in 0..2
        thread a { x = 1; x = 2 }
        thread b { y = 1; y = 0 }
    """)
    r = modelcheck.check_source(spec, limits=Limits(reduction=True, symmetry=False))
    assert r.stats.reduction == "on" and r.coverage.missed == []


def test_an_incomplete_search_says_so():
    r = modelcheck.check_source(textwrap.dedent("""
        var x = 0 in 0..9
        thread t { while x < 9 { x = x + 1 }; x = 0 }
    """), limits=Limits(max_states=4))
    assert not r.coverage.complete
    assert "(search incomplete: so far)" in report.table(r)


def test_the_smt_engine_reports_no_coverage():
    r = modelcheck.check_source("fence f\nthread t { signal f }\n", engine="smt")
    assert r.coverage is None
    assert json.loads(report.as_json([r]))["files"][0]["coverage"] is None


REACHABLES = ["x == 2", "signalled(G) and not signalled(F)", "held(L) and x == 1",
              "done(t0) and x == 1", "published(F) and x == 0"]


def _agree(text: str) -> None:
    plain = modelcheck.check_source(text, limits=PLAIN)
    both = modelcheck.check_source(text, limits=BOTH)
    assert plain.coverage.missed == both.coverage.missed
    assert plain.kinds == both.kinds


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(small_specs(), st.sampled_from(REACHABLES))
def test_generated_specs_same_coverage_and_reachability_with_reduction(text, reach):
    text += f'reachable "r": {reach}\n'
    note(text)
    _agree(text)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(copy_specs())
def test_generated_copies_same_coverage_with_symmetry(text):
    note(text)
    _agree(text)
