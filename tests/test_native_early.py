"""Early-bug mode on the native core agrees with the Python explorer: it
stops at the same state, for the same finding, with the same partial graph
(so the same shortest trace), on every spec, the bench designs and a
generated corpus, with reduction on and off."""
from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

import generate
import modelcheck
from test_native import SPECS, agree, needs_core

DEADLOCK = """
lock a
lock b
thread t { lock a; lock b; unlock b; unlock a }
thread u { lock b; lock a; unlock a; unlock b }
"""


def agree_early(text, params=None, **limits):
    py, nat = agree(text, params, early=True, **limits)
    assert (py.early, py.stuck) == (nat.early, nat.stuck)
    return py, nat


@needs_core
def test_no_one_can_move_stops_both_at_the_same_state():
    py, nat = agree_early(DEADLOCK)
    assert nat.early == "deadlock" and nat.stuck > 0
    assert nat.stopped.startswith("early-bug mode")


@needs_core
def test_an_assert_stops_both_before_the_next_level():
    py, nat = agree_early("""
        var x = 0 in 0..3
        thread t { x = 1; x = 2 }
        thread u { assert x != 2 }
        """)
    assert nat.early == "assert" and nat.stuck == -1


@needs_core
def test_an_invariant_broken_at_the_start_stops_at_once():
    py, nat = agree_early("""
        var x = 1 in 0..3
        invariant "small": x == 0
        thread t { x = 0 }
        """)
    assert nat.early == "invariant" and len(nat.states) == 1 and not nat.edges


@needs_core
def test_the_pipeline_deadlock_is_found_natively():
    r = modelcheck.check_file("bench/specs/pipeline_buggy.fspec", {"N": 10},
                              limits=modelcheck.Limits(early=True))
    assert r.kinds == {"deadlock"} and r.stats.core == "native"


@needs_core
@pytest.mark.parametrize("path", SPECS, ids=lambda p: p.name)
def test_every_spec_stops_alike(path):
    agree_early(path.read_text())


@needs_core
@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(generate.specs(), st.booleans())
def test_generated_specs_stop_alike(text, reduction):
    note(text)
    agree_early(text, reduction=reduction)
