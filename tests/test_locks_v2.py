"""Contract v2 lock forms, each a small spec with the findings it must give:
lock classes, `lock L nested`, the rwsem recursive-read rule, `ww { }`
acquire contexts (wait-die backoff), `prime` lines, and fork's
mmap_lock -> mmu_notifier dependency."""
from __future__ import annotations

import pytest

import modelcheck
from helpers import SAFE, check, deps, expect, finding


def error_of(text):
    with pytest.raises(modelcheck.SpecError) as e:
        check(text)
    return e.value.diagnostics[0].message


# ---------------------------------------------------------------- lock classes

def test_declarations_naming_one_class_share_it():
    r = expect("""
        lock a : mutex class vm
        lock b : mutex class vm
        thread t { lock a; lock b; unlock b; unlock a }
    """, {"lock-order"})
    assert "recursive locking: vm" in finding(r, "lock-order").message


def test_two_classes_in_opposite_orders_are_a_cycle_through_the_class_names():
    r = expect("""
        lock a : mutex class outer
        lock b : mutex class inner
        lock c : mutex class inner
        thread t { lock a; lock b; unlock b; unlock a }
        thread u { lock c; lock a; unlock a; unlock c }
    """, {"lock-order", "deadlock"} - {"deadlock"} | set())
    assert {("outer", "inner"), ("inner", "outer")} <= deps(r)


def test_a_class_is_of_one_kind():
    assert "is a mutex class" in error_of("""
        lock a : mutex class vm
        lock b : spinlock class vm
    """)


def test_a_class_cannot_be_a_kernel_pseudo_lock():
    assert "kernel's own" in error_of("lock a : mutex class fs_reclaim")


# ---------------------------------------------------------------- nested

def test_nested_gives_no_recursive_locking_report():
    r = expect("""
        lock a : mutex class vm
        lock b : mutex class vm
        thread t { lock a; lock b nested; unlock b; unlock a }
    """, SAFE)
    assert ("vm", "vm/1") in deps(r)


def test_nested_twice_is_recursive_in_the_subclass():
    r = expect("""
        lock a : mutex class vm
        lock b : mutex class vm
        lock c : mutex class vm
        thread t { lock a; lock b nested; lock c nested; unlock c; unlock b; unlock a }
    """, {"lock-order"})
    assert "vm/1 taken again" in finding(r, "lock-order").message


def test_nested_in_opposite_orders_still_deadlocks():
    expect("""
        lock a : mutex class vm
        lock b : mutex class vm
        thread t { lock a; lock b nested; unlock b; unlock a }
        thread u { lock b; lock a nested; unlock a; unlock b }
    """, {"deadlock"})


def test_nested_on_a_resv_is_an_error():
    assert "ww" in error_of("""
        resv r
        thread t { lock r nested }
    """)


# ---------------------------------------------------------------- rwsem read recursion

def test_down_read_twice_without_a_writer_gets_it_again():
    """down_read is not blocked by its own reader; lockdep still reports it."""
    r = expect("""
        lock m : rwsem
        thread t { lock m shared; lock m shared; unlock m shared; unlock m shared }
    """, {"lock-order"})
    assert "recursive locking: m" in finding(r, "lock-order").message


def test_down_read_twice_with_a_queued_writer_deadlocks():
    expect("""
        lock m : rwsem
        thread t { lock m shared; lock m shared; unlock m shared; unlock m shared }
        thread w { lock m; unlock m }
    """, {"lock-order", "deadlock"})


def test_read_holds_are_counted():
    """The first unlock leaves the lock read-held: a writer still waits."""
    expect("""
        lock m : rwsem
        var x = 0 in 0..1
        thread t { lock m shared; lock m shared; unlock m shared; x = 1; unlock m shared }
        thread w { await x == 1; lock m; assert held(m); unlock m }
        invariant "reader gone": not (x == 1 and done(w) and not done(t))
    """, {"lock-order"})
    expect("""
        lock m : rwsem
        thread t { lock m shared; lock m shared; unlock m shared; unlock m shared; unlock m shared }
    """, {"lock-order", "unlock-not-held"})


# ---------------------------------------------------------------- ww contexts

WW_ABBA = """
    resv a
    resv b
    thread t { ww { lock a; lock b; unlock b; unlock a } }
    thread u { ww { lock b; lock a; unlock a; unlock b } }
"""


def test_ww_backoff_is_safe():
    r = expect(WW_ABBA, SAFE)
    assert ("resv_ctx", "resv") in deps(r)
    assert ("resv", "resv") not in deps(r)


def test_incremental_resvs_of_one_context_are_not_recursive():
    expect("""
        resv a
        resv b
        thread t { ww { lock a; lock b; unlock b; unlock a } }
    """, SAFE)


def test_resvs_without_a_context_deadlock_and_are_recursive():
    expect("""
        resv a
        resv b
        thread t { lock a; lock b; unlock b; unlock a }
        thread u { lock b; lock a; unlock a; unlock b }
    """, {"deadlock", "lock-order"})


def test_a_context_waits_for_a_resv_held_without_one():
    expect("""
        resv a
        resv b
        lock m
        thread t { lock m; lock a; unlock a; unlock m }
        thread u { ww { lock b; lock a; unlock a; unlock b } }
    """, SAFE)


def test_backoff_restarts_the_block():
    """The younger context drops b and starts again (y: a second try began)."""
    spec = """
        resv a
        resv b
        var x = 0 in 0..1
        var y = 0 in 0..1
        thread t { ww { lock a; lock b; unlock b; unlock a } }
        thread u { ww { y = x; x = 1; lock b; lock a; unlock a; unlock b } }
        reachable "retried": y == 1
    """
    expect(spec, SAFE)
    # t without a context: no backoff for u, which then deadlocks with t
    expect(spec.replace("ww { lock a;", "lock a;").replace("unlock a } }\n        thread u",
                                                           "unlock a }\n        thread u"),
           {"unreachable", "deadlock", "lock-order"})


def test_ww_resv_ctx_after_mmap_lock_is_primed():
    r = expect("""
        resv a
        lock m
        thread t { ww { lock a; lock m; unlock m; unlock a } }
        thread u { lock m; lock mmap_lock shared; unlock mmap_lock shared; unlock m }
    """, {"lock-order"})
    assert ("mmap_lock", "resv_ctx") in deps(r)


def test_ww_blocks_do_not_nest():
    assert "do not nest" in error_of("""
        resv a
        thread t { ww { ww { lock a; unlock a } } }
    """)


def test_several_locks_in_one_step_need_resvs():
    assert "ww context" in error_of("""
        lock m
        lock n
        thread t { ww { lock m, n } }
    """)


# ---------------------------------------------------------------- prime lines

def test_prime_none_records_no_boot_edge():
    r = expect("""
        prime none
        thread t { alloc kernel }
    """, SAFE)
    assert all(e.actor != "boot" for e in r.lock_order.edges)


def test_prime_lines_are_exactly_the_boot_edges():
    r = expect("""
        prime fs_reclaim -> dma_fence_map
        thread t { alloc kernel }
    """, SAFE)
    assert [(e.frm, e.to) for e in r.lock_order.edges if e.actor == "boot"] == \
        [("fs_reclaim", "dma_fence_map")]


def test_an_older_kernels_prime_closes_a_cycle_the_default_does_not():
    spec = """
        PRIME
        lock m
        thread t { signalling { lock m; unlock m } }
        thread u { lock m; alloc kernel; unlock m }
    """
    expect(spec.replace("PRIME", ""), {"lock-order"})       # via mmu_notifier -> dma_fence_map
    expect(spec.replace("PRIME", "prime none"), SAFE)
    expect(spec.replace("PRIME", "prime fs_reclaim -> dma_fence_map"), {"lock-order"})


def test_prime_default_beside_other_lines():
    r = expect("""
        lock m
        prime default
        prime m -> fs_reclaim
        thread t { }
    """, SAFE)
    boot = [(e.frm, e.to) for e in r.lock_order.edges if e.actor == "boot"]
    assert ("mmap_lock", "resv") in boot and ("m", "fs_reclaim") in boot


def test_prime_of_an_unknown_class_is_an_error():
    assert "no lock class" in error_of("prime nothing -> resv")


# ---------------------------------------------------------------- fork

def test_fork_records_mmap_lock_to_mmu_notifier():
    r = expect("""
        prime none
        thread t { fork }
    """, SAFE)
    assert ("mmap_lock", "mmu_notifier") in deps(r)


# ---------------------------------------------------------------- the smt engine

def test_smt_engine_mirrors_recursive_reads():
    for text, kinds in [
        ("lock m : rwsem\nthread t { lock m shared; lock m shared; unlock m shared; "
         "unlock m shared }\n", set()),
        ("lock m : rwsem\nthread t { lock m shared; lock m shared; unlock m shared; "
         "unlock m shared }\nthread w { lock m; unlock m }\n", {"deadlock"}),
        ("lock m : rwsem\nthread t { lock m shared; lock m shared; unlock m shared }\n",
         {"lock-held-at-exit"}),
    ]:
        r = modelcheck.check_source(text, engine="smt", depth=12)
        assert r.kinds - {"lock-order"} == kinds, (text, r.kinds)


def test_smt_engine_refuses_ww_with_a_position():
    from helpers import smt_refusal
    assert "ww" in smt_refusal("resv a\nthread t { ww { lock a; unlock a } }\n")


# ---------------------------------------------------------------- the cycle lockdep prints

def test_the_cycle_starts_with_the_attempted_acquisition():
    """v, holding c, tries a: lockdep prints #0 a, the chain a -> b -> c."""
    r = expect("""
        lock a
        lock b
        lock c
        thread t { lock a; lock b; unlock b; unlock a }
        thread u { await done(t); lock b; lock c; unlock c; unlock b }
        thread v { await done(u); lock c; lock a; unlock a; unlock c }
    """, {"lock-order"})
    cycle = r.lock_order.cycles[0]
    assert [(e.frm, e.to) for e in cycle] == [("c", "a"), ("a", "b"), ("b", "c")]
    assert cycle[0].actor == "v"
    assert finding(r, "lock-order").message.endswith("c -> a -> b -> c")


def test_the_first_cycle_closed_is_reported_first_not_the_shortest():
    """Lockdep stops at the first dependency that closes a cycle; a shorter
    cycle closed later comes second."""
    r = expect("""
        lock a
        lock b
        lock c
        lock d
        lock e
        thread t { lock a; lock b; unlock b; unlock a
                   lock b; lock c; unlock c; unlock b
                   lock c; lock a; unlock a; unlock c }
        thread u { await done(t); lock d; lock e; unlock e; unlock d
                   lock e; lock d; unlock d; unlock e }
    """, {"lock-order"})
    firsts = [[(e.frm, e.to) for e in c] for c in r.lock_order.cycles]
    assert firsts == [[("c", "a"), ("a", "b"), ("b", "c")], [("e", "d"), ("d", "e")]]


def test_the_existing_chain_is_found_breadth_first():
    """Of two chains from the new lock back to the held one, the shorter."""
    r = expect("""
        lock a
        lock b
        lock c
        lock d
        thread t { lock a; lock b; unlock b; unlock a
                   lock b; lock c; unlock c; unlock b
                   lock c; lock d; unlock d; unlock c
                   lock a; lock d; unlock d; unlock a
                   lock d; lock a; unlock a; unlock d }
    """, {"lock-order"})
    assert [(e.frm, e.to) for e in r.lock_order.cycles[0]] == [("d", "a"), ("a", "d")]
