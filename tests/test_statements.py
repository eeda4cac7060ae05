"""One or more small specs per statement of the language contract
(/work/shared/fspec-language.md), each with the finding kinds it must give
and, where it says something, the length of the shortest trace.

Every finding kind of the contract is produced by at least
one example (`ONE_PER_KIND` at the end gathers the smallest one of each).
"""
from __future__ import annotations

import pytest

from helpers import SAFE, check, expect, finding, shortest


# ---------------------------------------------------------------- mutex

def test_lock_unlock_mutex_is_safe():
    expect("""
        lock L
        var x = 0 in 0..2
        thread a { lock L; x = x + 1; unlock L }
        thread b { lock L; x = x + 1; unlock L }
        thread c { await done(a) and done(b); assert x == 2 }
    """, SAFE)


def test_mutex_excludes_a_second_holder():
    expect("""
        lock L
        var in_cs = 0 in 0..2
        thread a { lock L; in_cs = in_cs + 1; assert in_cs == 1; in_cs = in_cs - 1; unlock L }
        thread b { lock L; in_cs = in_cs + 1; assert in_cs == 1; in_cs = in_cs - 1; unlock L }
    """, SAFE)


def test_abba_deadlock_has_a_two_step_trace():
    r = expect("""
        lock A
        lock B
        thread t1 { lock A; lock B; unlock B; unlock A }
        thread t2 { lock B; lock A; unlock A; unlock B }
    """, {"deadlock", "lock-order"})
    assert shortest(r, "deadlock") == 2
    f = finding(r, "deadlock")
    assert sorted(s.actor for s in f.blocked) == ["t1", "t2"]


def test_taking_a_lock_already_held_is_a_deadlock():
    r = expect("""
        lock L
        thread t { lock L; lock L }
    """, {"deadlock", "lock-order"})
    assert shortest(r, "deadlock") == 1


def test_unlock_not_held():
    r = expect("""
        lock L
        thread t { unlock L }
    """, {"unlock-not-held"})
    assert shortest(r, "unlock-not-held") == 1


def test_unlock_of_a_lock_held_by_another_actor_is_not_held():
    r = expect("""
        lock L
        var x = 0 in 0..1
        thread owner { lock L; x = 1; await x == 0; unlock L }
        thread other { await x == 1; unlock L; x = 0 }
    """, {"unlock-not-held"})
    assert shortest(r, "unlock-not-held") == 4


def test_lock_held_at_exit():
    r = expect("""
        lock L
        thread t { lock L }
    """, {"lock-held-at-exit"})
    assert shortest(r, "lock-held-at-exit") == 1


# ---------------------------------------------------------------- spinlock

def test_spinlock_alone_is_safe():
    expect("""
        lock S : spinlock
        lock S2 : spinlock
        thread a { lock S; lock S2; unlock S2; unlock S }
        thread b { lock S; unlock S }
    """, SAFE)


@pytest.mark.parametrize("sleeper", [
    "wait F",
    "wait R",
    "wait any",
    "wait F timeout",
    "wait F interruptible else { }",
    "alloc kernel",
    "alloc nofs",
    "alloc noio",
    "acquire E; release E",
    "fault",
    "fork",
    "munmap",
])
def test_sleeping_under_a_spinlock(sleeper):
    expect(f"""
        lock S : spinlock
        resv R
        engine E slots 1
        fence F
        thread t {{
            signal F            # so that nothing else can go wrong
            lock S
            {sleeper}
            unlock S
        }}
    """, {"sleep-in-atomic"})


@pytest.mark.parametrize("sleeper", ["lock L", "lock M shared", "lock M", "lock R"])
def test_sleeping_lock_under_a_spinlock_released_properly(sleeper):
    unlock = "un" + sleeper
    expect(f"""
        lock S : spinlock
        lock L
        lock M : rwsem
        resv R
        thread t {{ lock S; {sleeper}; {unlock}; unlock S }}
    """, {"sleep-in-atomic"})


def test_a_wait_under_a_spinlock_counts_even_when_the_fence_is_signalled():
    expect("""
        lock S : spinlock
        fence F
        thread t { signal F; lock S; wait F; unlock S }
    """, {"sleep-in-atomic"})


@pytest.mark.parametrize("gfp", ["nowait", "atomic"])
def test_atomic_allocations_under_a_spinlock_are_fine(gfp):
    expect(f"""
        lock S : spinlock
        fence F
        thread t {{ lock S; alloc {gfp}; unlock S }}
        on reclaim {{ wait F }}    # would sleep, but is never entered
    """, SAFE)


def test_trylock_under_a_spinlock_does_not_sleep():
    expect("""
        lock S : spinlock
        lock L
        thread t { lock S; trylock L else { unlock S; return }; unlock L; unlock S }
    """, SAFE)


# ---------------------------------------------------------------- rwsem

def test_rwsem_readers_share():
    expect("""
        lock M : rwsem
        var x = 0 in 0..1
        var y = 0 in 0..1
        thread r1 { lock M shared; x = 1; await y == 1; unlock M shared }
        thread r2 { lock M shared; y = 1; await x == 1; unlock M shared }
    """, SAFE)


def test_rwsem_writer_excludes_readers():
    r = expect("""
        lock M : rwsem
        var x = 0 in 0..1
        thread w { lock M; await x == 1; unlock M }
        thread r { lock M shared; x = 1; unlock M shared }
    """, {"deadlock"})
    assert shortest(r, "deadlock") == 1


def test_rwsem_writer_waits_for_readers():
    r = expect("""
        lock M : rwsem
        var x = 0 in 0..1
        thread r { lock M shared; await x == 1; unlock M shared }
        thread w { lock M; x = 1; unlock M }
    """, {"deadlock"})
    assert shortest(r, "deadlock") == 1


def test_rwsem_second_reader_queues_behind_a_waiting_writer():
    # r1 reads and waits for F; w queues for write; r2 would signal F but
    # must queue behind the writer: a deadlock that needs all three.
    text = """
        lock M : rwsem
        fence F
        var x = 0 in 0..1
        thread r1 { lock M shared; x = 1; wait F; unlock M shared }
        thread r2 { await x == 1; lock M shared; signal F; unlock M shared }
        {writer}
    """
    expect(text.replace("{writer}", "thread w { await x == 1; lock M; unlock M }"), {"deadlock"})
    expect(text.replace("{writer}", ""), SAFE)


def test_taking_an_rwsem_read_side_twice_gets_it_again():
    """down_read is not blocked by its own reader (contract v2); lockdep
    reports the recursion (tests/test_locks_v2.py: with a queued writer)."""
    expect("""
        lock M : rwsem
        thread t { lock M shared; lock M shared; unlock M shared; unlock M shared }
    """, {"lock-order"})


def test_taking_an_rwsem_write_side_while_reading_is_a_deadlock():
    expect("""
        lock M : rwsem
        thread t { lock M shared; lock M; unlock M; unlock M shared }
    """, {"deadlock", "lock-order"})
    expect("""
        lock M : rwsem
        thread t { lock M; lock M shared; unlock M shared; unlock M }
    """, {"deadlock", "lock-order"})


def test_unlock_shared_of_an_rwsem_not_read_held():
    expect("""
        lock M : rwsem
        thread t { lock M; unlock M shared; unlock M }
    """, {"unlock-not-held"})


def test_rwsem_read_lock_held_at_exit():
    expect("""
        lock M : rwsem
        thread t { lock M shared }
    """, {"lock-held-at-exit"})


# ---------------------------------------------------------------- resv

def test_resv_lock_is_a_mutex():
    expect("""
        resv R
        var n = 0 in 0..2
        thread a { lock R; n = n + 1; assert n == 1; n = n - 1; unlock R }
        thread b { lock R; n = n + 1; assert n == 1; n = n - 1; unlock R }
    """, SAFE)


def test_resv_taken_twice_is_a_deadlock():
    expect("""
        resv R
        thread t { lock R; lock R }
    """, {"deadlock", "lock-order"})


def test_resv_one_by_one_in_opposite_orders_deadlocks():
    r = expect("""
        resv R1
        resv R2
        thread a { lock R1; lock R2; unlock R2; unlock R1 }
        thread b { lock R2; lock R1; unlock R1; unlock R2 }
    """, {"deadlock", "lock-order"})
    assert shortest(r, "deadlock") == 2


def test_ww_context_in_opposite_orders_is_safe():
    expect("""
        resv R1
        resv R2
        thread a { lock R1, R2; unlock R2; unlock R1 }
        thread b { lock R2, R1; unlock R1; unlock R2 }
    """, SAFE)


def test_ww_context_takes_all_or_nothing():
    # b never holds R1 alone while waiting for R2
    expect("""
        resv R1
        resv R2
        thread a { lock R2; assert not held(R1); unlock R2 }
        thread b { lock R1, R2; unlock R1; unlock R2 }
    """, SAFE)


def test_ww_context_of_three_takes_all_at_once():
    expect("""
        resv R1
        resv R2
        resv R3
        thread a { lock R1, R2, R3; assert held(R1) and held(R2) and held(R3); unlock R1; unlock R2; unlock R3 }
        thread b { lock R3, R1; unlock R3; unlock R1 }
    """, SAFE)


def test_ww_context_left_held_at_exit():
    expect("""
        resv R1
        resv R2
        thread a { lock R1, R2; unlock R1 }
    """, {"lock-held-at-exit"})


# ---------------------------------------------------------------- trylock

def test_trylock_takes_a_free_lock():
    expect("""
        lock L
        var x = 0 in 0..1
        thread t { trylock L else { x = 1 }; assert held(L); assert x == 0; unlock L }
    """, SAFE)


def test_trylock_on_a_held_lock_runs_else_instead_of_deadlocking():
    expect("""
        lock L
        var x = 0 in 0..1
        thread t { lock L; trylock L else { x = 1 }; assert x == 1; unlock L }
    """, SAFE)


def test_trylock_else_may_run_when_another_actor_holds_it():
    expect("""
        lock L
        var got = 0 in 0..1
        thread holder { lock L; unlock L }
        thread t { trylock L else { return }; got = 1; unlock L }
        thread c { await done(t) and done(holder); assert got == 1 }
    """, {"assert"})


def test_trylock_failure_then_unlock_is_unlock_not_held():
    expect("""
        lock L
        thread holder { lock L; unlock L }
        thread t { trylock L else { }; unlock L }
    """, {"unlock-not-held"})


# ---------------------------------------------------------------- signal

def test_signal_then_wait():
    expect("""
        fence F
        thread s { signal F }
        thread w { wait F; assert signalled(F) }
    """, SAFE)


def test_signal_error_sets_errored():
    expect("""
        fence F
        thread t { signal F error; assert signalled(F); assert errored(F) }
    """, SAFE)


def test_plain_signal_is_not_errored():
    r = expect("""
        fence F
        thread t { signal F; assert errored(F) }
    """, {"assert"})
    assert shortest(r, "assert") == 2


def test_signal_on_a_signalled_fence_does_nothing():
    expect("""
        fence F
        fence G
        thread t { signal F; signal F error; assert not errored(F); signal G error; signal G; assert errored(G) }
    """, SAFE)


def test_signal_before_deps():
    r = expect("""
        fence G
        fence F after G
        thread t { signal F; signal G }
    """, {"signal-before-deps"})
    assert shortest(r, "signal-before-deps") == 1


def test_signal_error_before_deps_too():
    expect("""
        fence G
        fence H
        fence F after G, H
        thread t { signal G; signal F error; signal H }
    """, {"signal-before-deps"})


def test_signal_after_deps_is_fine():
    expect("""
        fence G
        fence H
        fence F after G, H
        thread t { signal H; signal G error; signal F }
    """, SAFE)


def test_signal_before_deps_only_on_a_bad_interleaving():
    r = expect("""
        fence G
        fence F after G
        thread a { signal G }
        thread b { signal F }
    """, {"signal-before-deps"})
    assert shortest(r, "signal-before-deps") == 1


# ---------------------------------------------------------------- wait F

def test_wait_on_a_fence_nobody_signals_is_a_deadlock_in_the_initial_state():
    r = expect("""
        fence F
        thread w { wait F }
    """, {"deadlock"})
    assert shortest(r, "deadlock") == 0
    assert finding(r, "deadlock").blocked[0].actor == "w"


def test_wait_blocks_until_signalled():
    expect("""
        fence F
        var x = 0 in 0..1
        thread w { wait F; assert x == 1 }
        thread s { x = 1; signal F }
    """, SAFE)


def test_circular_fence_waits_deadlock():
    r = expect("""
        fence A
        fence B
        thread t1 { wait A; signal B }
        thread t2 { wait B; signal A }
    """, {"deadlock"})
    assert shortest(r, "deadlock") == 0


# ---------------------------------------------------------------- wait R

def test_wait_on_an_empty_resv_does_not_block():
    expect("""
        resv R
        thread t { wait R }
    """, SAFE)


def test_wait_resv_waits_for_every_fence_in_it():
    expect("""
        resv R
        fence F
        fence G
        thread a { lock R; publish F in R; publish G in R; unlock R; signal F; signal G }
        thread w { await published(G); wait R; assert signalled(F) and signalled(G) }
    """, SAFE)


def test_wait_resv_with_an_unsignalled_fence_deadlocks():
    r = expect("""
        resv R
        fence F
        fence G
        thread a { lock R; publish F in R; publish G in R; unlock R; signal F }
        thread w { await published(G); wait R }
    """, {"deadlock"})
    assert finding(r, "deadlock").blocked[0].actor == "w"


def test_wait_resv_ignores_fences_not_in_it():
    expect("""
        resv R
        fence F
        fence other
        thread a { lock R; publish F in R; unlock R; signal F }
        thread w { await published(F); wait R }
    """, SAFE)


# ---------------------------------------------------------------- wait any

def test_wait_any_ignores_unpublished_fences():
    expect("""
        fence F
        thread t { wait any }
    """, SAFE)


def test_wait_any_may_pick_a_published_fence_or_none():
    # picking F blocks forever (deadlock); picking none leaves F published
    # and unsignalled when everybody finishes (indefinite-fence)
    expect("""
        fence F
        thread t { publish F; wait any }
    """, {"deadlock", "indefinite-fence"})


def test_wait_any_with_a_signaller_is_safe():
    expect("""
        fence F
        thread t { publish F; wait any }
        thread s { signal F }
    """, SAFE)


def test_wait_any_may_pick_none():
    expect("""
        fence F
        thread t { publish F; wait any; assert signalled(F) }
        thread s { signal F }
    """, {"assert"})


def test_wait_any_does_not_pick_a_signalled_fence():
    expect("""
        fence F
        fence G
        thread t { publish F; publish G; signal G; wait any }
        thread s { signal F }
    """, SAFE)


# ---------------------------------------------------------------- wait interruptible

def test_wait_interruptible_without_interrupts_is_a_plain_wait():
    expect("""
        fence F
        thread w { wait F interruptible else { return } }
    """, {"deadlock"})


def test_interrupt_waits_wakes_a_later_wait():
    expect("""
        fence F
        var x = 0 in 0..1
        thread i { interrupt_waits }
        thread w { await done(i); wait F interruptible else { x = 1 }; assert x == 1 }
    """, SAFE)


def test_interrupt_waits_makes_the_else_body_run():
    expect("""
        fence F
        var x = 0 in 0..1
        thread w { await x == 0; wait F interruptible else { x = 1 } }
        thread i { interrupt_waits }
        thread c { await done(w); assert x == 1 }
    """, SAFE)


def test_a_signalled_fence_is_not_interrupted():
    expect("""
        fence F
        var x = 0 in 0..1
        thread w { signal F; wait F interruptible else { x = 1 }; assert x == 0 }
        thread i { interrupt_waits }
    """, SAFE)


def test_end_interrupt_waits_stops_interrupting_later_waits():
    expect("""
        fence F
        thread i { interrupt_waits; end_interrupt_waits }
        thread w { await done(i); wait F interruptible else { return } }
    """, {"deadlock"})


def test_interrupt_waits_wakes_a_present_wait_even_if_ended_at_once():
    # w sits in its wait from the start: interrupt_waits wakes it, whatever follows
    expect("""
        fence F
        thread w { wait F interruptible else { return } }
        thread i { interrupt_waits; end_interrupt_waits }
    """, SAFE)


def test_a_waiter_woken_at_its_last_statement_finishes():
    expect("""
        fence F
        thread w { wait F interruptible else { } }
        thread i { interrupt_waits }
    """, SAFE)


def test_a_job_woken_at_its_last_statement_gives_its_slot_back():
    expect("""
        engine E slots 1
        fence F
        var x = 0 in 0..1
        job j on E { x = 1; wait F interruptible else { } }
        thread i { await x == 1; interrupt_waits }
        job k on E { signal F }
    """, SAFE)


def test_a_waiter_woken_at_its_last_statement_holding_a_lock():
    expect("""
        lock L
        fence F
        thread w { lock L; wait F interruptible else { } }
        thread i { await held(L); interrupt_waits }
    """, {"lock-held-at-exit"})


# ---------------------------------------------------------------- wait timeout

def test_wait_timeout_on_a_fence_nobody_signals_is_a_timeout_hang():
    r = expect("""
        fence F
        thread w { wait F timeout }
    """, {"timeout-hang"})
    assert shortest(r, "timeout-hang") == 0


def test_wait_timeout_explores_both_outcomes():
    expect("""
        fence F
        thread w { wait F timeout; assert signalled(F) }
        thread s { signal F }
    """, {"assert"})


def test_wait_timeout_that_is_eventually_signalled_is_safe():
    expect("""
        fence F
        thread w { wait F timeout }
        thread s { signal F }
    """, SAFE)


def test_a_cycle_broken_only_by_a_timeout_is_a_timeout_hang_not_a_deadlock():
    expect("""
        fence F
        fence G
        thread w { wait F timeout; signal G }
        thread s { wait G; signal F }
    """, {"timeout-hang"})


def test_a_lock_held_by_the_waiter_makes_a_timeout_hang():
    expect("""
        lock L
        fence F
        thread w { lock L; wait F timeout; unlock L }
        thread s { lock L; signal F; unlock L }
    """, {"timeout-hang"})


# ---------------------------------------------------------------- publish

def test_publish_in_resv_under_its_lock():
    expect("""
        resv R
        fence F
        thread t { lock R; publish F in R; unlock R; signal F }
    """, SAFE)


def test_publish_without_lock():
    r = expect("""
        resv R
        fence F
        thread t { publish F in R; signal F }
    """, {"publish-without-lock"})
    assert shortest(r, "publish-without-lock") == 1


def test_publish_under_another_actors_lock_is_without_lock():
    expect("""
        resv R
        fence F
        var x = 0 in 0..1
        thread owner { lock R; x = 1; await x == 0; unlock R }
        thread t { await x == 1; publish F in R; x = 0; signal F }
    """, {"publish-without-lock"})


def test_publish_under_a_different_resv_is_without_lock():
    expect("""
        resv R
        resv Q
        fence F
        thread t { lock Q; publish F in R; unlock Q; signal F }
    """, {"publish-without-lock"})


def test_publish_and_published():
    expect("""
        fence F
        thread t { assert not published(F); publish F; assert published(F); signal F; assert published(F) }
    """, SAFE)


def test_published_fence_left_unsignalled_is_an_indefinite_fence():
    r = expect("""
        fence F
        thread t { publish F }
    """, {"indefinite-fence"})
    assert shortest(r, "indefinite-fence") == 1


def test_unpublished_unsignalled_fence_is_not_a_finding():
    expect("""
        fence F
        thread t { }
    """, SAFE)


def test_fence_published_in_resv_left_unsignalled():
    expect("""
        resv R
        fence F
        thread t { lock R; publish F in R; unlock R }
    """, {"indefinite-fence"})


def test_fence_signalled_only_on_some_paths_is_indefinite():
    expect("""
        fence F
        thread a { publish F }
        thread b { choose { signal F } or { } }
    """, {"indefinite-fence"})


def test_fair_cycle_that_never_signals_is_indefinite():
    expect("""
        fence F
        thread t { publish F; while 1 { } }
    """, {"indefinite-fence"})


def test_a_deadlock_is_not_also_an_indefinite_fence():
    expect("""
        fence F
        thread t { publish F; wait F }
    """, {"deadlock"})


# ---------------------------------------------------------------- signalling sections

def test_signalling_section_runs_its_body_in_order():
    expect("""
        fence F
        var x = 0 in 0..2
        thread t { signalling { x = 1; signal F; x = 2 }; assert x == 2 and signalled(F) }
    """, SAFE)


def test_nested_signalling_sections():
    expect("""
        fence F
        fence G
        thread t { signalling { signalling { signal F } ; signal G } }
        thread w { wait F; wait G }
    """, SAFE)


def test_deadlock_inside_a_signalling_section():
    r = expect("""
        fence F
        fence G
        thread a { signalling { wait G; signal F } }
        thread b { signalling { wait F; signal G } }
    """, {"deadlock"})
    assert shortest(r, "deadlock") == 0


def test_lock_taken_in_a_signalling_section_held_at_exit():
    expect("""
        lock L
        thread t { signalling { lock L } }
    """, {"lock-held-at-exit"})


# ---------------------------------------------------------------- alloc

@pytest.mark.parametrize("gfp", ["kernel", "nofs", "noio"])
def test_alloc_may_enter_reclaim(gfp):
    r = expect(f"""
        var x = 0 in 0..1
        thread t {{ alloc {gfp} }}
        on reclaim {{ x = 1; assert x == 0 }}
    """, {"assert"})
    assert shortest(r, "assert") == 3      # alloc enters reclaim, x = 1, assert


@pytest.mark.parametrize("gfp", ["kernel", "nofs", "noio"])
def test_alloc_may_also_succeed_without_reclaim(gfp):
    expect(f"""
        var x = 0 in 0..1
        thread t {{ alloc {gfp}; assert x == 1 }}
        on reclaim {{ x = 1 }}
    """, {"assert"})


@pytest.mark.parametrize("gfp", ["nowait", "atomic"])
def test_atomic_alloc_never_enters_reclaim(gfp):
    expect(f"""
        var x = 0 in 0..1
        thread t {{ alloc {gfp} }}
        on reclaim {{ assert x == 1 }}
    """, SAFE)


def test_alloc_without_reclaim_hooks_just_succeeds():
    expect("""
        thread t { alloc kernel; alloc nofs; alloc noio; alloc nowait; alloc atomic }
    """, SAFE)


def test_alloc_in_a_reclaim_hook_never_reenters_reclaim():
    expect("""
        var depth = 0 in 0..3
        thread t { alloc kernel; assert depth == 0 }
        on reclaim { depth = depth + 1; assert depth == 1; alloc kernel; alloc nofs; alloc noio; depth = depth - 1 }
    """, SAFE)


def test_reclaim_hook_runs_in_the_allocating_actor():
    # the hook blocks the actor that triggered it; the deadlock names that actor
    r = expect("""
        lock L
        thread t { lock L; alloc kernel; unlock L }
        on reclaim { lock L; unlock L }
    """, {"deadlock", "lock-order"})
    f = finding(r, "deadlock")
    assert shortest(r, "deadlock") == 2
    assert [s.actor for s in f.blocked] == ["t"]
    assert all(s.actor == "t" for s in f.trace)


def test_several_reclaim_hooks_run_in_file_order():
    expect("""
        var x = 0 in 0..2
        thread t { alloc kernel; assert x == 0 or x == 2 }
        on reclaim { assert x == 0; x = 1 }
        on reclaim { assert x == 1; x = 2 }
    """, SAFE)


# ---------------------------------------------------------------- fork / munmap

@pytest.mark.parametrize("event", ["fork", "munmap"])
def test_fork_and_munmap_hold_mmap_lock_for_write_in_their_hooks(event):
    expect(f"""
        var x = 0 in 0..1
        thread t {{ {event}; assert x == 1; assert not held(mmap_lock) }}
        on {event} {{ assert held(mmap_lock); x = 1 }}
    """, SAFE)


@pytest.mark.parametrize("event", ["fork", "munmap"])
@pytest.mark.parametrize("with_hook", [False, True])
def test_fork_and_munmap_take_mmap_lock_for_write(event, with_hook):
    # with or without hooks, fork/munmap need mmap_lock for write
    hook = f"on {event} {{ }}" if with_hook else ""
    expect(f"""
        thread t {{ lock mmap_lock shared; {event}; unlock mmap_lock shared }}
        {hook}
    """, {"deadlock", "lock-order"})


def test_fork_waits_for_a_reader_of_mmap_lock():
    expect("""
        var inside = 0 in 0..1
        thread reader { lock mmap_lock shared; inside = 1; inside = 0; unlock mmap_lock shared }
        thread t { fork }
        on fork { assert inside == 0 }
    """, SAFE)


@pytest.mark.parametrize("writer", ["", "fork", "munmap"])
def test_a_waiting_fork_queues_later_readers_of_mmap_lock(writer):
    # r1 reads mmap_lock and waits for F; fork/munmap queue for write; r2,
    # who would signal F, queues behind them
    w = f"thread w {{ await x == 1; {writer} }}" if writer else ""
    expect(f"""
        fence F
        var x = 0 in 0..1
        thread r1 {{ lock mmap_lock shared; x = 1; wait F; unlock mmap_lock shared }}
        thread r2 {{ await x == 1; lock mmap_lock shared; signal F; unlock mmap_lock shared }}
        {w}
    """, {"deadlock"} if writer else SAFE)


def test_fork_hooks_and_munmap_hooks_are_separate():
    expect("""
        var f = 0 in 0..1
        var m = 0 in 0..1
        thread t { fork; assert f == 1 and m == 0; munmap; assert m == 1 }
        on fork { f = 1 }
        on munmap { m = 1 }
    """, SAFE)


def test_proxy_fence_fork_example_from_the_contract():
    r = expect("""
        spec "proxy fence + fork + MMU notifier"
        resv bo
        fence proxy

        thread app {
            lock bo
            publish proxy in bo
            unlock bo
            fork
            signal proxy
        }

        on fork {
            wait bo
        }

        expect deadlock
    """, {"deadlock"})
    assert r.ok
    f = finding(r, "deadlock")
    assert len(f.trace) == 4
    assert [s.actor for s in f.blocked] == ["app"]


# ---------------------------------------------------------------- hooks entered from hooks

@pytest.mark.parametrize("outer, trigger, inner", [
    ("fault", "fault", "reclaim"),          # alloc in the fault handler enters reclaim
    ("fork", "fork", "reclaim"),
    ("munmap", "munmap", "reclaim"),
    ("fault", "fault", "fork"),
    ("fault", "fault", "munmap"),
    ("reclaim", "alloc kernel", "fault"),
    ("reclaim", "alloc kernel", "fork"),
    ("reclaim", "alloc kernel", "munmap"),
    ("fork", "fork", "fault"),
    ("munmap", "munmap", "fault"),
])
def test_a_hook_may_trigger_another_event(outer, trigger, inner):
    # whatever order the hooks are declared or compiled in
    entry = {"reclaim": "alloc kernel", "fork": "fork", "munmap": "munmap", "fault": "fault"}[inner]
    # reclaim inside an MMU notifier, or mmap_lock inside reclaim, is also a
    # lock-order cycle against the boot-primed mmap_lock -> fs_reclaim -> mmu_notifier
    lockdep = {"lock-order"} if {outer, inner} in ({"fork", "reclaim"}, {"munmap", "reclaim"}) else set()
    for first, second in [(outer, inner), (inner, outer)]:
        body = {outer: entry, inner: "x = 1; assert x == 0"}
        expect(f"""
            var x = 0 in 0..1
            thread t {{ {trigger} }}
            on {first} {{ {body[first]} }}
            on {second} {{ {body[second]} }}
        """, {"assert"} | lockdep)


def test_munmap_inside_a_fork_hook_deadlocks_on_mmap_lock():
    expect("""
        thread t { fork }
        on fork { munmap }
    """, {"deadlock", "lock-order"})


# ---------------------------------------------------------------- fault

def test_fault_runs_the_fault_hooks():
    expect("""
        var x = 0 in 0..1
        thread t { fault; assert x == 1 }
        on fault { x = 1 }
    """, SAFE)


def test_fault_without_hooks_resolves():
    expect("""
        thread t { fault }
    """, SAFE)


def test_fault_hook_deadlock_names_the_faulting_actor():
    r = expect("""
        fence F
        thread gpu_user { fault; signal F }
        on fault { wait F }
    """, {"deadlock"})
    assert [s.actor for s in finding(r, "deadlock").blocked] == ["gpu_user"]


# ---------------------------------------------------------------- engines and jobs

def test_job_holds_its_slot_to_the_end():
    r = expect("""
        engine E slots 1
        fence F
        job a on E { wait F }
        job b on E { signal F }
    """, {"deadlock"})
    assert shortest(r, "deadlock") == 1


def test_two_slots_let_both_jobs_run():
    expect("""
        engine E slots 2
        fence F
        job a on E { wait F }
        job b on E { signal F }
    """, SAFE)


def test_job_copies_share_the_slots():
    expect("""
        engine E slots 2
        var busy = 0 in 0..3
        job j[i in 1..3] on E { busy = busy + 1; assert busy <= 2; busy = busy - 1 }
    """, SAFE)


def test_preemptible_job_gives_its_slot_back_during_a_fault():
    text = """
        engine E slots 1
        fence F
        job a on E {mode} { fault }
        job b on E { signal F }
        on fault { wait F }
    """
    expect(text.replace("{mode}", ""), {"deadlock"})
    expect(text.replace("{mode}", "preemptible"), SAFE)


def test_preemptible_job_needs_its_slot_back_after_the_fault():
    expect("""
        engine E slots 1
        var in_hw = 0 in 0..2
        job a on E preemptible { in_hw = in_hw + 1; in_hw = in_hw - 1; fault; in_hw = in_hw + 1; assert in_hw == 1; in_hw = in_hw - 1 }
        job b on E { in_hw = in_hw + 1; assert in_hw == 1; in_hw = in_hw - 1 }
    """, SAFE)


def test_acquire_release():
    r = expect("""
        engine E slots 1
        fence F
        thread a { acquire E; wait F; release E }
        thread b { acquire E; signal F; release E }
    """, {"deadlock"})
    assert shortest(r, "deadlock") == 1
    expect("""
        engine E slots 1
        fence F
        thread a { acquire E; release E; wait F }
        thread b { acquire E; signal F; release E }
    """, SAFE)


def test_acquire_with_enough_slots():
    expect("""
        engine E slots 2
        fence F
        thread a { acquire E; wait F; release E }
        thread b { acquire E; signal F; release E }
    """, SAFE)


# ---------------------------------------------------------------- vars, await, assert, invariant

def test_assignment_and_assert():
    r = expect("""
        var x = 1 in 0..3
        thread t { x = x * 2 + 1; assert x == 3; x = x % 2; assert x == 2 }
    """, {"assert"})
    assert shortest(r, "assert") == 4


def test_assert_failure_does_not_stop_the_actor():
    r = expect("""
        var x = 0 in 0..1
        thread t { assert x == 1; x = 1 }
    """, {"assert"})
    assert shortest(r, "assert") == 1


def test_await_blocks_until_true():
    expect("""
        var x = 0 in 0..1
        thread a { await x == 1 }
        thread b { x = 1 }
    """, SAFE)


def test_await_that_never_holds_is_a_deadlock():
    r = expect("""
        var x = 0 in 0..1
        thread a { await x == 1 }
    """, {"deadlock"})
    assert shortest(r, "deadlock") == 0


def test_invariant_fails_on_a_reachable_state():
    r = expect("""
        var x = 0 in 0..3
        invariant "x stays small": x < 2
        thread t { x = 1; x = 2; x = 0 }
    """, {"invariant"})
    assert shortest(r, "invariant") == 2


def test_invariant_fails_in_the_initial_state():
    r = expect("""
        var x = 0 in 0..1
        invariant "x is one": x == 1
        thread t { x = 1 }
    """, {"invariant"})
    assert shortest(r, "invariant") == 0


def test_invariant_that_holds():
    expect("""
        lock L
        var n = 0 in 0..2
        invariant "mutual exclusion": n <= 1
        thread a { lock L; n = n + 1; n = n - 1; unlock L }
        thread b { lock L; n = n + 1; n = n - 1; unlock L }
    """, SAFE)


def test_expression_operators():
    expect("""
        var x = 7 in -10..10
        thread t {
            assert x / 2 == 3 and x % 4 == 3 and -x == 0 - 7
            assert (x > 6) and (x >= 7) and (x < 8) and (x <= 7) and (x != 6)
            assert not (x == 6 or x == 5)
            assert 1 + 2 * 3 == 7
        }
    """, SAFE)


# ---------------------------------------------------------------- control flow

def test_if_else():
    expect("""
        var x = 0 in 0..2
        var y = 0 in 0..2
        thread a { choose { x = 1 } or { x = 2 } }
        thread b { await x != 0; if x == 1 { y = 1 } else { y = 2 }; assert y == x }
    """, SAFE)


def test_if_else_chain():
    expect("""
        var x = 0 in 0..3
        var y = 0 in 0..3
        thread t {
            choose { x = 1 } or { x = 2 } or { x = 3 }
            if x == 1 { y = 3 } else if x == 2 { y = 2 } else { y = 1 }
            assert x + y == 4
        }
    """, SAFE)


def test_if_without_else():
    expect("""
        var x = 0 in 0..1
        thread t { if x == 1 { assert 0 }; x = 1; if x == 1 { assert 0 } }
    """, {"assert"})


def test_while_loop():
    expect("""
        var x = 0 in 0..3
        thread t { while x < 3 { x = x + 1 }; assert x == 3 }
    """, SAFE)


def test_choose_explores_every_branch():
    r = expect("""
        var x = 0 in 0..3
        thread t { choose { x = 1 } or { x = 2 } or { x = 3 }; assert x != 3 }
    """, {"assert"})
    assert shortest(r, "assert") == 3


def test_restart_goes_back_to_the_first_statement():
    expect("""
        var x = 0 in 0..3
        thread t { x = x + 1; if x < 3 { restart }; assert x == 3 }
    """, SAFE)


def test_restart_keeps_locks():
    expect("""
        lock L
        thread t { lock L; restart }
    """, {"deadlock", "lock-order"})


def test_return_ends_an_actor():
    expect("""
        var x = 0 in 0..2
        thread t { x = 1; return; x = 2 }
        thread c { await done(t); assert x == 1 }
    """, SAFE)


def test_return_in_a_loop_ends_the_actor():
    expect("""
        var x = 0 in 0..3
        thread t { while 1 { x = x + 1; if x == 2 { return } } }
        thread c { await done(t); assert x == 2 }
    """, SAFE)


def test_return_in_a_hook_ends_only_the_hook():
    expect("""
        var x = 0 in 0..3
        thread t { fault; assert x == 2; x = 3 }
        on fault { x = 1; return; x = 0 }
        on fault { assert x == 1; x = 2 }
        thread c { await done(t); assert x == 3 }
    """, SAFE)


def test_return_in_a_reclaim_hook_continues_the_allocating_actor():
    expect("""
        lock L
        var x = 0 in 0..1
        thread t { alloc kernel; x = 1 }
        on reclaim { trylock L else { return }; unlock L }
        thread c { await done(t); assert x == 1 }
    """, SAFE)


# ---------------------------------------------------------------- arrays, copies, params, predicates

CHAIN = """
    param N = 2
    fence f[0..N]
    thread w[i in 1..N] { wait f[i-1]; signal f[i] }
    thread s { signal f[0] }
    thread c { await done(w); assert signalled(f[N]) }
"""


def test_param_sized_arrays_and_copies():
    r = expect(CHAIN, SAFE)
    assert r.params == {"N": 2}


def test_params_override_from_the_api():
    small = expect(CHAIN, SAFE)
    big = expect(CHAIN, SAFE, params={"N": 3})
    assert big.params == {"N": 3}
    assert big.stats.states > small.stats.states


def test_param_override_changes_the_outcome():
    text = """
        param N = 2
        var x = 0 in 0..5
        thread t { x = N; assert x == 2 }
    """
    expect(text, SAFE)
    expect(text, {"assert"}, params={"N": 3})


def test_copy_index_is_a_constant_inside_each_copy():
    expect("""
        param N = 3
        var seen[1..N] = 0 in 0..3
        thread w[i in 1..N] { seen[i] = i }
        thread c { await done(w); assert seen[1] == 1 and seen[2] == 2 and seen[3] == 3 }
    """, SAFE)


def test_done_of_one_copy():
    expect("""
        var x = 0 in 0..3
        thread w[i in 1..3] { if i == 2 { x = 2 } }
        thread c { await done(w[2]); assert x == 2 }
    """, SAFE)


def test_done_of_all_copies_needs_every_copy():
    expect("""
        fence F
        thread w[i in 1..2] { if i == 2 { wait F } }
        thread c { await done(w); signal F }
    """, {"deadlock"})


def test_lock_arrays():
    expect("""
        param N = 2
        lock l[1..N]
        thread w[i in 1..N] { lock l[i]; assert held(l[i]); unlock l[i] }
    """, SAFE)
    expect("""
        lock l[0..1]
        thread a { lock l[0]; lock l[1]; unlock l[1]; unlock l[0] }
        thread b { lock l[1]; lock l[0]; unlock l[0]; unlock l[1] }
    """, {"deadlock", "lock-order"})


def test_resv_and_engine_arrays():
    expect("""
        resv bo[0..1]
        fence f[0..1]
        engine ring[0..1] slots 1
        job j[i in 0..1] on ring[i] { lock bo[i]; publish f[i] in bo[i]; unlock bo[i]; signal f[i] }
        thread w { await published(f[0]) and published(f[1]); wait bo[0]; wait bo[1] }
    """, SAFE)


def test_held_is_true_when_any_actor_holds_the_lock():
    expect("""
        lock L
        var x = 0 in 0..1
        thread a { lock L; x = 1; await x == 0; unlock L }
        thread b { await x == 1; assert held(L); x = 0 }
    """, SAFE)


def test_held_false_when_free():
    expect("""
        lock L
        thread t { assert held(L) }
    """, {"assert"})


def test_fence_after_an_array_element():
    expect("""
        fence f[0..1]
        fence done_all after f[0], f[1]
        thread t { signal f[1]; signal done_all; signal f[0] }
    """, {"signal-before-deps"})


def test_declarations_in_any_order():
    r = expect("""
        thread t { lock L; signal G; wait F; unlock L; assert x == N }
        thread s { signal F }
        fence G after F
        fence F
        lock L : mutex
        var x = N in 0..N
        param N = 2
    """, {"signal-before-deps"})
    assert shortest(r, "signal-before-deps") == 2


def test_explicit_mutex_kind():
    expect("""
        lock L : mutex
        thread t { lock L; lock L }
    """, {"deadlock", "lock-order"})


# ---------------------------------------------------------------- one example per finding kind

ONE_PER_KIND = {
    "deadlock": "var x = 0 in 0..1\nthread t { x = 1; await x == 0 }",
    # lockdep's ABBA in one thread: no interleaving deadlocks, the order is still cyclic
    "lock-order": "lock A\nlock B\nthread t { lock A; lock B; unlock B; unlock A; lock B; lock A; unlock A; unlock B }",
    "indefinite-fence": "fence F\nthread t { publish F }",
    "timeout-hang": "fence F\nthread t { wait F timeout }",
    "sleep-in-atomic": "lock S : spinlock\nthread t { lock S; alloc kernel; unlock S }",
    "signal-before-deps": "fence G\nfence F after G\nthread t { signal F; signal G }",
    "publish-without-lock": "resv R\nfence F\nthread t { publish F in R; signal F }",
    "unlock-not-held": "lock L\nthread t { unlock L }",
    "lock-held-at-exit": "lock L\nthread t { lock L }",
    "assert": "var x = 0 in 0..1\nthread t { assert x == 1 }",
    "invariant": 'var x = 0 in 0..1\ninvariant "zero": x == 0\nthread t { x = 1 }',
    "unreachable": 'var x = 0 in 0..1\nreachable "one": x == 1\nthread t { }',
    # a trylock in the handler never spins (no deadlock), but marks the usage
    "irq-unsafe-lock": 'lock S : spinlock\nthread t {\n lock S\n unlock S\n}\n'
                       'irq h {\n trylock S else { return }\n unlock S\n}',
}


def test_every_finding_kind_has_an_example():
    from modelcheck.language.model import FINDING_KINDS
    assert set(ONE_PER_KIND) == set(FINDING_KINDS)


@pytest.mark.parametrize("kind", sorted(ONE_PER_KIND))
def test_one_example_per_finding_kind(kind):
    r = expect(ONE_PER_KIND[kind], {kind})
    if kind == "sleep-in-atomic":       # reported on reaching the alloc, or on taking it
        assert shortest(r, kind) in (1, 2)
    elif kind == "lock-order":          # B -> A is recorded on reaching the second `lock A`
        assert shortest(r, kind) == 6
    elif kind == "irq-unsafe-lock":     # h fires, then stands at its trylock
        assert shortest(r, kind) == 2
    else:
        assert shortest(r, kind) == (0 if kind in ("timeout-hang", "unreachable") else 1)
    r = check(ONE_PER_KIND[kind] + f"\nexpect {kind}\n")
    assert r.ok
