"""Work items and workqueues (INIT_WORK, queue_work, flush_work,
cancel_work_sync, flush_workqueue) and the memalloc scopes (noreclaim, nofs,
noio): small specs with the findings they must give."""
from __future__ import annotations

import textwrap

import pytest

import modelcheck
from helpers import SAFE, check, deps, expect, finding


# ---------------------------------------------------------------- flush_work

def test_work_flushed_under_its_own_lock_deadlocks_and_is_a_lock_order_cycle():
    r = expect("""
        lock L
        workqueue wq
        work W on wq { lock L; unlock L }
        thread t { queue_work W; lock L; flush_work W; unlock L }
    """, {"deadlock", "lock-order"})
    f = finding(r, "deadlock")
    assert "t at line 5 (flush_work W)" in f.message and "W at line 4 (lock L)" in f.message
    assert any("W running" in c for c in f.waits_for)
    assert ("L", "(work_completion)(W)") in deps(r)
    # process_one_work(): wq map, then the item's under it, then L under that (check_prevs_add)
    assert ("(work_completion)(W)", "L") in deps(r) and ("(wq_completion)wq", "(work_completion)(W)") in deps(r)
    assert ("(wq_completion)wq", "L") not in deps(r)


def test_work_flushed_under_its_lock_after_it_ran_is_lock_order_only():
    # No interleaving deadlocks (W is idle when t flushes), but lockdep has
    # seen (work_completion)(W) -> L and now L -> (work_completion)(W).
    expect("""
        lock L
        workqueue wq
        work W on wq { lock L; unlock L }
        thread t {
            queue_work W
            await not pending(W) and not running(W)
            lock L
            flush_work W
            unlock L
        }
    """, {"lock-order"})


def test_flush_work_outside_the_lock_is_safe():
    expect("""
        lock L
        var n = 0 in 0..1
        workqueue wq
        work W on wq { lock L; n = 1; unlock L }
        thread t { queue_work W; flush_work W; assert n == 1; lock L; unlock L }
    """, SAFE)


def test_flushing_itself_deadlocks_and_is_recursive_locking():
    r = expect("""
        workqueue wq
        work W on wq { flush_work W }
        thread t { queue_work W }
    """, {"deadlock", "lock-order"})
    assert ("(work_completion)(W)", "(work_completion)(W)") in deps(r)


# ---------------------------------------------------------------- idle items

def test_idle_work_items_end_normally():
    expect("""
        workqueue wq
        work never on wq { }
        work once on wq { }
        thread t { queue_work once }
    """, SAFE)


def test_work_item_finishing_with_a_lock_held():
    r = expect("""
        lock L
        workqueue wq
        work W on wq { lock L }
        thread t { queue_work W }
    """, {"lock-held-at-exit"})
    assert "W finishes holding L" in finding(r, "lock-held-at-exit").message


def test_idle_item_final_state_says_idle():
    r = check("""
        lock L
        fence F
        workqueue wq
        work W on wq { }
        thread t { queue_work W; wait F }
    """)
    f = finding(r, "deadlock")
    assert f.final_state["actors"]["W"] in ("idle", "at line 4: work W on wq")
    assert "workqueues" in f.final_state


# ---------------------------------------------------------------- queueing

def test_queueing_while_running_runs_it_once_more():
    expect("""
        var n = 0 in 0..3
        workqueue wq
        var go = 0 in 0..1
        work W on wq { await go == 1; n = n + 1 }
        thread t {
            queue_work W; await running(W); queue_work W; go = 1; flush_work W; assert n == 2
        }
    """, SAFE)


def test_queueing_twice_may_run_it_twice():
    # the second queue_work finds W running (not pending) when the worker was quick
    expect("""
        var n = 0 in 0..3
        workqueue wq
        work W on wq { n = n + 1 }
        thread t { queue_work W; queue_work W; flush_work W; assert n == 1 }
    """, {"assert"})


def test_queueing_a_pending_item_does_nothing():
    # on an ordered queue W cannot start while B runs: both queue_work find it pending
    expect("""
        var n = 0 in 0..3
        var go = 0 in 0..1
        workqueue wq ordered
        work B on wq { await go == 1 }
        work W on wq { n = n + 1 }
        thread t {
            queue_work B; queue_work W; assert pending(W); queue_work W
            go = 1
            flush_workqueue wq
            assert n == 1 and not pending(W) and not running(B)
        }
    """, SAFE)


# ---------------------------------------------------------------- ordered

ORDER = """
    var x = 0 in 0..1
    workqueue wq {kind}
    work A on wq {{ await x == 1 }}
    work B on wq {{ x = 1 }}
    thread t {{ queue_work A; queue_work B }}
"""


def test_unordered_workqueue_runs_items_concurrently():
    expect(ORDER.format(kind=""), SAFE)


def test_ordered_workqueue_runs_one_item_at_a_time_in_order():
    r = expect(ORDER.format(kind="ordered"), {"deadlock"})
    f = finding(r, "deadlock")
    assert "A at line 4" in f.message and "B at line 5 (work B on wq)" in f.message


def test_ordered_workqueue_keeps_queueing_order():
    expect("""
        var x = 0 in 0..2
        workqueue wq ordered
        work A on wq { assert x == 0; x = 1 }
        work B on wq { assert x == 1; x = 2 }
        thread t { queue_work A; queue_work B; flush_workqueue wq; assert x == 2 }
    """, SAFE)


def test_flush_workqueue_under_a_lock_an_item_takes():
    r = expect("""
        lock L
        workqueue wq
        work A on wq { lock L; unlock L }
        thread t { queue_work A; lock L; flush_workqueue wq; unlock L }
    """, {"deadlock", "lock-order"})
    assert ("L", "(wq_completion)wq") in deps(r)


def test_flush_work_on_an_ordered_queue_takes_the_workqueue_class():
    # start_flush_work(): a single-threaded workqueue's map is taken too, so
    # flushing W while holding L orders L before every item of the queue
    r = expect("""
        lock L
        workqueue wq ordered
        work A on wq { lock L; unlock L }
        work W on wq { }
        thread t {
            queue_work A
            await not pending(A) and not running(A)
            lock L; flush_work W; unlock L
        }
    """, {"lock-order"})
    assert ("L", "(wq_completion)wq") in deps(r)


# ---------------------------------------------------------------- cancel

def test_cancel_work_sync_leaves_it_neither_pending_nor_running():
    expect("""
        var n = 0 in 0..2
        workqueue wq
        work W on wq { n = n + 1 }
        thread t {
            queue_work W
            cancel_work_sync W
            assert not pending(W) and not running(W)
            queue_work W
        }
    """, SAFE)


def test_cancel_work_sync_may_stop_it_before_it_runs():
    expect("""
        var n = 0 in 0..1
        workqueue wq
        work W on wq { n = 1 }
        thread t { queue_work W; cancel_work_sync W; assert n == 1 }
    """, {"assert"})


def test_cancel_work_sync_under_a_lock_the_work_takes():
    expect("""
        lock L
        workqueue wq
        work W on wq { lock L; unlock L }
        thread t { queue_work W; lock L; cancel_work_sync W; unlock L }
    """, {"deadlock", "lock-order"})


def test_queueing_during_a_cancel_does_nothing():
    # cancel_work_sync owns W's PENDING bit while it waits: the requeue fails
    expect("""
        var n = 0 in 0..3
        var go = 0 in 0..1
        workqueue wq
        work W on wq { await go == 1; n = n + 1 }
        var x = 0 in 0..1
        thread t {
            queue_work W; await running(W); x = 1
            cancel_work_sync W
            assert not pending(W) and not running(W)
        }
        thread u { await x == 1; queue_work W; go = 1 }
    """, SAFE)


# ---------------------------------------------------------------- scopes

RECLAIM = """
    lock L
    thread t {{ lock L; {alloc}; unlock L }}
    on reclaim {{ lock L; unlock L }}
"""


def test_alloc_under_a_lock_reclaim_takes_deadlocks():
    expect(RECLAIM.format(alloc="alloc kernel"), {"deadlock", "lock-order"})


def test_noreclaim_scope_never_enters_reclaim():
    r = expect(RECLAIM.format(alloc="noreclaim { alloc kernel }"), SAFE)
    assert ("L", "fs_reclaim") not in deps(r) and ("L", "mmu_notifier") not in deps(r)


def test_noreclaim_scope_holds_in_hooks_entered_from_it():
    r = expect("""
        lock L
        thread t { noreclaim { fault } }
        on fault { lock L; alloc kernel; unlock L }
        on reclaim { lock L; unlock L }
    """, SAFE)
    assert ("L", "fs_reclaim") not in deps(r)


@pytest.mark.parametrize("scope", ["nofs", "noio"])
def test_nofs_and_noio_scopes_skip_fs_reclaim(scope):
    r = check(f"""
        lock L
        thread t {{ lock L; {scope} {{ alloc kernel }}; unlock L }}
    """)
    assert ("L", "fs_reclaim") not in deps(r) and ("L", "mmu_notifier") in deps(r)
    r = check("""
        lock L
        thread t { lock L; alloc kernel; unlock L }
    """)
    assert ("L", "fs_reclaim") in deps(r)


def test_nofs_scope_still_enters_reclaim():
    expect(RECLAIM.format(alloc="nofs { alloc kernel }"), {"deadlock", "lock-order"})


def test_reclaim_entered_in_a_nofs_scope_holds_no_fs_reclaim():
    r = check("""
        lock L
        thread t { nofs { alloc kernel } }
        on reclaim { lock L; unlock L }
    """)
    assert ("fs_reclaim", "L") not in deps(r) and ("mmu_notifier", "L") not in deps(r)


# ---------------------------------------------------------------- errors

def one_error(text):
    with pytest.raises(modelcheck.SpecError) as exc:
        modelcheck.check_source(textwrap.dedent(text).lstrip("\n"))
    diags = exc.value.diagnostics
    assert len(diags) == 1, [d.message for d in diags]
    return diags[0]


def test_flush_work_of_an_undeclared_item():
    d = one_error("""
        workqueue wq
        work W on wq { }
        thread t { flush_work X }
    """)
    assert (d.line, d.col) == (3, 23) and "'X' is not declared" in d.message


def test_queue_work_of_a_lock():
    d = one_error("""
        lock L
        thread t { queue_work L }
    """)
    assert (d.line, d.col) == (2, 23)
    assert d.message == "'L' is a lock, but a work item is needed here"


def test_work_on_something_not_a_workqueue():
    d = one_error("""
        lock L
        work W on L { }
        thread t { queue_work W }
    """)
    assert (d.line, d.col) == (2, 11) and "a workqueue is needed" in d.message


def test_flush_workqueue_of_a_work_item():
    d = one_error("""
        workqueue wq
        work W on wq { }
        thread t { flush_workqueue W }
    """)
    assert (d.line, d.col) == (3, 28)
    assert d.message == "'W' is a work item, but a workqueue is needed here"


def test_pending_of_a_thread():
    d = one_error("""
        thread t { await pending(t) }
    """)
    assert "'t' is a thread, but a work item is needed here" in d.message


def test_smt_engine_finds_the_flush_under_lock_deadlock():
    text = textwrap.dedent("""
        lock L
        workqueue wq
        work W on wq { lock L; unlock L }
        thread t { queue_work W; lock L; flush_work W; unlock L }
    """)
    r = modelcheck.check_source(text, engine="smt", depth=8)
    # queue_work, lock L, flush_work (a barrier behind W's pending run), W starts
    assert r.kinds == {"deadlock"} and len(finding(r, "deadlock").trace) == 4


def test_smt_engine_follows_ordered_queues():
    text = textwrap.dedent(ORDER.format(kind="ordered"))
    assert modelcheck.check_source(text, engine="smt", depth=8).kinds == {"deadlock"}
    text = textwrap.dedent(ORDER.format(kind=""))
    assert modelcheck.check_source(text, engine="smt", depth=8).kinds == SAFE


def test_smt_engine_mirrors_noreclaim():
    text = textwrap.dedent(RECLAIM.format(alloc="noreclaim { alloc kernel }"))
    assert modelcheck.check_source(text, engine="smt").kinds == SAFE
    text = textwrap.dedent(RECLAIM.format(alloc="alloc kernel"))
    assert "deadlock" in modelcheck.check_source(text, engine="smt").kinds
