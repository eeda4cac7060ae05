"""Flushes wait for the work queued before them, not for whatever comes
after (kernel/workqueue.c): flush_work() queues a barrier behind the item's
pending instance, or behind its run, and W is "idle on return if it hasn't
been requeued since flush started"; flush_workqueue() waits for the items
of its flush colour.  A work item that queues itself again is therefore no
reason for a flush never to return."""
from __future__ import annotations

import modelcheck
from helpers import SAFE, expect, finding


def test_flush_work_of_a_self_rearming_item_returns():
    expect("""
        workqueue wq
        work poll on wq { queue_work poll }
        thread t { queue_work poll; flush_work poll }
    """, SAFE)


def test_flush_workqueue_with_a_self_rearming_item_returns():
    expect("""
        workqueue wq
        work poll on wq { queue_work poll }
        work other on wq { }
        thread t { queue_work poll; queue_work other; flush_workqueue wq }
    """, SAFE)


def test_flush_work_waits_for_the_run_it_was_behind():
    expect("""
        var x = 0 in 0..1
        workqueue wq
        work W on wq { x = 1 }
        thread t { queue_work W; flush_work W; assert x == 1 }
    """, SAFE)


def test_a_running_and_pending_item_is_waited_for_twice():
    """Queued again while it runs: the barrier goes behind the pending
    instance, so both runs are over when the flush returns."""
    expect("""
        var x = 0 in 0..2
        var go = 0 in 0..1
        workqueue wq
        work W on wq { x = x + 1; await go == 1 }
        thread t { queue_work W; await running(W); queue_work W; go = 1; flush_work W; assert x == 2 }
    """, SAFE)


def test_a_flush_that_began_during_a_run_does_not_wait_for_the_next_one():
    """t flushes while W runs and before W queues itself again: W's next
    run takes L, which t holds after the flush: no deadlock, since the flush
    returned at the end of the first run."""
    r = expect("""
        lock L
        var n = 0 in 0..2
        workqueue wq
        work W on wq { if n < 2 { n = n + 1; queue_work W }; lock L; unlock L }
        thread t { queue_work W; await running(W); lock L; flush_work W; unlock L }
    """, {"deadlock", "lock-order"})
    # the deadlock is the real one: the flush under L behind a run that takes L
    assert "flush_work W" in finding(r, "deadlock").message


def test_cancelling_the_pending_instance_lets_the_flush_behind_it_return():
    expect("""
        workqueue wq
        work W on wq { }
        thread t { queue_work W; flush_work W }
        thread c { cancel_work_sync W }
    """, SAFE)


def test_engines_agree_on_flush_barriers():
    text = """
        var x = 0 in 0..2
        workqueue wq
        work W on wq { x = x + 1; if x < 2 { queue_work W } }
        thread t { queue_work W; flush_work W; assert x == 2 }
    """
    import textwrap
    explicit = modelcheck.check_source(textwrap.dedent(text))
    smt = modelcheck.check_source(textwrap.dedent(text), engine="smt", depth=12)
    assert explicit.kinds == smt.kinds == {"assert"}
    assert len(finding(explicit, "assert").trace) == len(finding(smt, "assert").trace)


FLUSH_DESIGNS = [
    """
    workqueue wq
    work poll on wq { queue_work poll }
    thread t { queue_work poll; flush_work poll }
    """,
    """
    lock L
    var n = 0 in 0..2
    workqueue wq
    workqueue o ordered
    work W on wq { if n < 2 { n = n + 1; queue_work W }; lock L; unlock L }
    work V on o { lock L; unlock L }
    work U on o { queue_work W }
    thread t { queue_work W; queue_work U; lock L; flush_work W; unlock L; flush_workqueue o }
    thread c { queue_work V; cancel_work_sync W; flush_workqueue wq }
    """,
]


def test_the_native_core_keeps_the_barriers_as_the_python_one():
    import textwrap
    from test_native import agree, needs_core
    if needs_core.args[0]:
        import pytest
        pytest.skip(needs_core.kwargs["reason"])
    for text in FLUSH_DESIGNS:
        py, nat = agree(textwrap.dedent(text))
        assert len(py.states) > 3
