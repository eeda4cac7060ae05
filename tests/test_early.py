"""Early-bug mode (`--early`, Limits(early=True)): the search stops at the
first deadlock where no actor can move, assert, invariant or step finding,
each with its shortest trace, and says that the other kinds are not decided;
a search that meets none of them goes on over the whole graph and decides
everything, as without the option."""
from __future__ import annotations

import json

import jsonschema
from hypothesis import HealthCheck, given, note, settings

from helpers import REPO
from generate import specs
from test_symmetry import copy_specs
import modelcheck
from modelcheck import cli
from modelcheck.api import EARLY_KINDS
from modelcheck.reports import schema

EARLY = modelcheck.Limits(early=True)
PIPELINE = (REPO / "bench" / "specs" / "pipeline_buggy.fspec").read_text()


def early(text, params=None, **limits):
    return modelcheck.check_source(text, params, limits=modelcheck.Limits(early=True, **limits))


def every(result):
    return list(result.findings) + list(result.variants)


def steps(f) -> int:
    return len(f.trace) + len(f.then)


def test_a_deadlock_where_no_one_can_move_stops_the_search_with_its_shortest_trace():
    full = modelcheck.check_source(PIPELINE, {"N": 6})
    r = early(PIPELINE, {"N": 6})
    assert r.mode == "early" and not r.complete and r.kinds == {"deadlock"}
    assert r.stats.states < full.stats.states / 100
    # SPIN's first BFS error is 7 transitions deep here (tests/test_bench.py)
    assert [steps(f) for f in r.findings] == [7]
    assert min(steps(f) for f in full.findings if f.kind == "deadlock") == 7
    assert "not decided in early mode" in r.stopped and "lock-order" in r.stopped
    assert r.ok                               # the expected lock-order is not looked for
    assert "early-bug mode" in r.verdict()


def test_an_assert_is_reported_at_its_first_step_and_the_rest_is_not_searched():
    text = """
        var x = 0 in 0..3
        var y = 0 in 0..3
        thread a { x = 1; assert x == 0 }
        thread b { y = 1; y = 2; y = 3; y = 0 }
        thread c { y = 1; y = 2; y = 3; y = 0 }
        expect assert
    """
    full = modelcheck.check_source(text)
    r = early(text)
    assert r.kinds == {"assert"} and not r.complete and r.ok
    assert r.stats.states < full.stats.states
    assert [len(f.trace) for f in r.findings] == [len(f.trace) for f in full.findings] == [2]


def test_an_invariant_broken_in_the_initial_state():
    r = early("var x = 1 in 0..1\ninvariant \"zero\": x == 0\nthread t { x = 0 }\n")
    assert r.kinds == {"invariant"} and r.stats.states == 1 and r.findings[0].trace == []


def test_a_design_with_no_early_finding_is_decided_whole():
    """A fence left unsignalled and a deadlock that the reclaim loop outlives
    are about every path: early mode finds them as the default mode does."""
    text = """
        lock m
        fence f
        var x = 0 in 0..1
        thread t { publish f; lock m; wait f; unlock m }
        thread r { while true { x = 1 - x } }
    """
    full = modelcheck.check_source(text)
    r = early(text)
    assert r.complete and r.mode == "early" and r.stopped == ""
    assert r.kinds == full.kinds and "deadlock" in r.kinds
    assert [steps(f) for f in every(r)] == [steps(f) for f in every(full)]


def test_the_trace_names_the_real_copies_and_is_shortest_under_reduction_and_symmetry():
    text = """
        param N = 3
        lock l[1..N]
        thread w[i in 1..N] { lock l[i]; lock l[i % N + 1]; unlock l[i % N + 1]; unlock l[i] }
        expect deadlock, lock-order
    """
    plain = early(text, reduction=False, symmetry=False)
    r = early(text)
    assert r.kinds == plain.kinds == {"deadlock"}
    assert [steps(f) for f in r.findings] == [steps(f) for f in plain.findings] == [3]
    assert r.findings[0].message == plain.findings[0].message
    assert "w[" in r.findings[0].message


def test_json_says_which_mode_ran_and_what_was_looked_for(capsys):
    spec = str(REPO / "bench" / "specs" / "pipeline_buggy.fspec")
    assert cli.main(["check", "--early", "--format", "json", "-D", "N=3", spec]) == 0
    doc = json.loads(capsys.readouterr().out)
    jsonschema.Draft202012Validator(schema.schema()).validate(doc)
    f = doc["files"][0]
    assert f["mode"] == "early" and f["complete"] is False
    assert sorted(f["looked_for"]) == sorted(EARLY_KINDS)
    assert cli.main(["check", "--format", "json", "-D", "N=2", spec]) == 0
    assert json.loads(capsys.readouterr().out)["files"][0]["mode"] == "full"


def test_the_table_says_early_bug_mode(capsys):
    spec = str(REPO / "bench" / "specs" / "pipeline_buggy.fspec")
    cli.main(["check", "--early", "-D", "N=3", spec])
    out = capsys.readouterr().out
    assert "early-bug mode" in out and "INCOMPLETE" in out


def test_early_must_be_a_bool():
    import pytest
    with pytest.raises(TypeError, match="early"):
        modelcheck.Limits(early="yes")


def _agrees(text: str) -> None:
    """What early mode reports, the whole search reports too, with a trace
    no longer; and when early mode does not stop, the results are equal."""
    full = modelcheck.check_source(text, limits=modelcheck.Limits())
    r = early(text)
    if r.complete:
        assert r.kinds == full.kinds
        return
    assert r.kinds and r.kinds <= EARLY_KINDS and r.kinds <= full.kinds, (r.kinds, full.kinds)
    for f in r.findings:
        best = min(steps(g) for g in every(full) if g.kind == f.kind)
        if f.kind == "deadlock":
            assert not f.then
        else:
            assert steps(f) == best, f.kind


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(specs())
def test_generated_specs(text):
    note(text)
    _agrees(text)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(copy_specs())
def test_generated_copies(text):
    note(text)
    _agrees(text)
