"""Lockdep's check_prevs_add(): a new lock depends on the most recent lock
held, and on the trylocks above the first non-trylock one below it, never
on anything deeper (kernel/locking/lockdep.c).  Deeper locks reach it
through the dependencies they added when they were taken, so cycles
through them are still found, and printed with every step of the chain,
as lockdep prints them, not collapsed into a shortcut."""
from __future__ import annotations

from helpers import check, deps, expect, finding


def cycle(r) -> list[tuple[str, str]]:
    return [(e.frm, e.to) for e in r.lock_order.cycles[0]]


def test_a_dependency_only_from_the_most_recent_held_lock():
    r = expect("""
        lock a
        lock b
        lock c
        thread t { lock a; lock b; lock c; unlock c; unlock b; unlock a }
    """, set())
    assert {("a", "b"), ("b", "c")} <= deps(r)
    assert ("a", "c") not in deps(r)


def test_the_walk_goes_down_through_trylocks_to_the_first_non_trylock():
    r = check("""
        lock a
        lock b
        lock c
        thread t { lock a; trylock b else { unlock a; return }; lock c; unlock c; unlock b; unlock a }
    """)
    assert {("b", "c"), ("a", "c")} <= deps(r)      # b is a trylock: a is reached too
    assert ("a", "b") not in deps(r)                 # a trylock adds no dependency itself


def test_two_trylocks_in_a_row_are_both_walked():
    r = check("""
        lock a
        lock b
        lock c
        lock d
        thread t { lock a; trylock b else { return }; trylock c else { unlock b; unlock a; return }
                   lock d; unlock d; unlock c; unlock b; unlock a }
    """)
    assert {("c", "d"), ("b", "d"), ("a", "d")} <= deps(r)


def test_a_three_lock_chain_is_printed_whole_not_as_its_shortcut():
    """t takes a, b, c nested; u takes a under c.  Recording from every held
    lock would give a -> c and print the two-step cycle c -> a -> c; lockdep
    has only a -> b -> c, and prints c -> a -> b -> c."""
    r = expect("""
        lock a
        lock b
        lock c
        thread t { lock a; lock b; lock c; unlock c; unlock b; unlock a }
        thread u { await done(t); lock c; lock a; unlock a; unlock c }
    """, {"lock-order"})
    assert cycle(r) == [("c", "a"), ("a", "b"), ("b", "c")]
    assert finding(r, "lock-order").message.endswith("c -> a -> b -> c")


def test_a_lock_held_around_reclaim_reaches_the_shrinker_through_fs_reclaim():
    """A lock held around an allocation depends on fs_reclaim; what the
    shrinker takes depends on fs_reclaim, not on the caller's lock."""
    r = expect("""
        lock big
        lock shrink
        thread user { lock big; alloc kernel; unlock big }
        thread other { lock shrink; lock big; unlock big; unlock shrink }
        on reclaim { lock shrink; unlock shrink }
    """, {"deadlock", "lock-order"})
    assert {("big", "fs_reclaim"), ("fs_reclaim", "shrink"), ("shrink", "big")} <= deps(r)
    assert ("big", "shrink") not in deps(r)
    classes = [e.frm for e in r.lock_order.cycles[0]]
    assert set(classes) == {"big", "fs_reclaim", "shrink"}


def test_fs_reclaim_takes_the_notifier_map_under_it():
    r = check("""
        lock l
        thread t { lock l; alloc kernel; unlock l }
    """)
    assert {("l", "fs_reclaim"), ("fs_reclaim", "mmu_notifier")} <= deps(r)
    assert ("l", "mmu_notifier") not in deps(r)


def test_signalling_is_a_read_trylock_so_the_walk_passes_through_it():
    """dma_fence_begin_signalling() takes dma_fence_map as a read trylock
    (dma-fence.c): a lock taken in the section depends on the section and on
    the lock held below it."""
    r = check("""
        lock outer
        lock inner
        lock deeper
        fence f
        thread t { lock deeper; lock outer
                   signalling { lock inner; unlock inner; signal f }
                   unlock outer; unlock deeper }
    """)
    assert {("dma_fence_map", "inner"), ("outer", "inner")} <= deps(r)
    assert ("deeper", "inner") not in deps(r)


def test_a_wait_in_a_section_walks_from_below_the_section():
    """__dma_fence_might_wait() drops the section's read hold first: the
    wait depends on the lock taken in the section, and on nothing deeper."""
    r = check("""
        lock outer
        lock inner
        fence f
        fence g
        thread t { lock outer; signalling { lock inner; wait g; unlock inner; signal f }; unlock outer }
        thread s { signal g }
    """)
    assert ("inner", "dma_fence_map") in deps(r)
    assert ("outer", "dma_fence_map") not in deps(r)


def test_recursive_locking_is_found_however_deep_the_first_hold():
    r = expect("""
        lock a
        lock b
        thread t { lock a; lock b; lock a; unlock a; unlock b; unlock a }
    """, {"deadlock", "lock-order"})
    assert ("a", "a") in deps(r)
    assert ("a", "b") in deps(r) and ("b", "a") in deps(r)


def test_process_one_work_nests_the_item_under_its_workqueue():
    r = check("""
        lock L
        workqueue wq
        work W on wq { lock L; unlock L }
        thread t { queue_work W }
    """)
    assert {("(wq_completion)wq", "(work_completion)(W)"), ("(work_completion)(W)", "L")} <= deps(r)
    assert ("(wq_completion)wq", "L") not in deps(r)


def test_flush_workqueue_under_a_lock_an_item_takes_closes_through_the_item():
    r = expect("""
        lock L
        workqueue wq
        work W on wq { lock L; unlock L }
        thread t { queue_work W; lock L; flush_workqueue wq; unlock L }
    """, {"deadlock", "lock-order"})
    classes = [e.frm for e in r.lock_order.cycles[0]]
    assert classes == ["(wq_completion)wq", "(work_completion)(W)", "L"] or \
        set(classes) == {"(wq_completion)wq", "(work_completion)(W)", "L"}


def test_the_order_taken_is_part_of_the_state():
    """Two paths to the same place with the locks taken in different orders
    record different dependencies; both are seen."""
    r = check("""
        lock a
        lock b
        lock c
        thread t {
            choose { lock a; lock b } or { lock b; lock a }
            lock c
            unlock c; unlock b; unlock a
        }
    """)
    assert {("a", "c"), ("b", "c")} <= deps(r)
    assert {("a", "b"), ("b", "a")} <= deps(r)


def test_a_ww_context_orders_its_resvs_under_resv_ctx():
    r = check("""
        resv x
        resv y
        lock l
        thread t { ww { lock x; lock y; lock l; unlock l; unlock y; unlock x } }
    """)
    assert ("resv_ctx", "resv") in deps(r) and ("resv", "l") in deps(r)
    assert ("resv_ctx", "l") not in deps(r)
