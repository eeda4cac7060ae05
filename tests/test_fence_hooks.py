"""Fence callbacks (`on signal F`), enable_signaling, container fences,
drm_sched job dependencies and dma_resv usage classes: small specs, each
with the findings it must give."""
from __future__ import annotations

import pytest

from helpers import SAFE, expect, finding, spec_error


# ---------------------------------------------------------------- on signal

def test_callback_runs_in_the_signaller():
    expect("""
        fence hw
        fence done
        thread irq { signal hw }
        thread waiter { wait done }
        on signal hw { signal done }
    """, SAFE)


def test_callback_that_never_fires_is_an_indefinite_fence_not_a_deadlock():
    # the scheduler's "finished" fence is signalled from the hw fence's
    # callback; nobody ever signals hw
    r = expect("""
        fence hw
        fence done
        thread submit { publish done }
        on signal hw { signal done }
    """, {"indefinite-fence"})
    assert "done" in finding(r, "indefinite-fence").message


def test_callback_that_takes_a_mutex_sleeps_in_atomic():
    r = expect("""
        lock M
        fence f
        thread t { signal f }
        on signal f { lock M; unlock M }
    """, {"sleep-in-atomic"})
    assert "f's lock" in finding(r, "sleep-in-atomic").message


@pytest.mark.parametrize("stmt", ["wait g", "alloc kernel", "acquire E"])
def test_nothing_in_a_callback_may_sleep(stmt):
    expect(f"""
        fence f
        fence g
        engine E slots 1
        thread t {{ signal g; signal f }}
        on signal f {{ {stmt} }}
    """, {"sleep-in-atomic"}
           | ({"lock-held-at-exit"} if stmt == "acquire E" else set()))


def test_callback_taking_a_spinlock_is_fine():
    expect("""
        lock S : spinlock
        fence f
        var x = 0 in 0..1
        thread t { signal f }
        thread u { lock S; x = 1; unlock S }
        on signal f { lock S; unlock S }
    """, SAFE)


def test_signalling_under_the_spinlock_a_callback_takes_deadlocks():
    # the callback takes S again under fence->lock: a self-deadlock, recursive S
    r = expect("""
        lock S : spinlock
        fence f
        thread t { lock S; signal f; unlock S }
        on signal f { lock S; unlock S }
    """, {"deadlock", "lock-order"})
    assert "S" in finding(r, "lock-order").message


def test_callbacks_signalling_each_other_take_a_fence_lock_again():
    # f's callback signals g, whose callback signals f: dma_fence_signal(f) under f->lock
    r = expect("""
        fence f
        fence g
        thread a { signal f }
        thread b { signal g }
        on signal f { signal g }
        on signal g { signal f }
    """, {"lock-order"})
    # any cycle of callbacks signals a fence again under its own lock
    assert "&f->lock" in finding(r, "lock-order").message


def test_waiter_holding_the_spinlock_a_callback_takes():
    expect("""
        lock S : spinlock
        fence f
        thread t { signal f }
        thread v { lock S; wait f; unlock S }
        on signal f { lock S; unlock S }
    """, {"sleep-in-atomic", "lock-order"})


def test_hooks_for_each_element_of_a_fence_array():
    expect("""
        fence f[0..2]
        var x = 0 in 0..3
        thread t { signal f[0]; signal f[2]; assert x == 2 }
        on signal f[i in 0..2] { x = x + i }
    """, SAFE)
    assert "not a non-empty part" in spec_error("""
        fence f[0..2]
        thread t { }
        on signal f[i in 1..5] { }
    """)


def test_several_callbacks_run_in_file_order():
    expect("""
        fence f
        var x = 0 in 0..2
        thread t { signal f; assert x == 2 }
        on signal f { assert x == 0; x = 1 }
        on signal f { assert x == 1; x = 2 }
    """, SAFE)


def test_callback_signalling_another_fence_runs_its_callbacks_nested():
    expect("""
        fence a
        fence b
        var x = 0 in 0..3
        thread t { signal a; assert x == 3 }
        on signal a { x = 1; signal b; assert x == 2; x = 3 }
        on signal b { assert x == 1; x = 2 }
    """, SAFE)


def test_a_signalled_fence_runs_no_callback_again():
    expect("""
        fence f
        var n = 0 in 0..2
        thread t { signal f }
        thread u { signal f }
        on signal f { n = n + 1 }
        invariant "once": n <= 1
    """, SAFE)


def test_system_tells_whether_an_actor_is_inside_a_callback():
    from modelcheck.language import model, syntax
    from modelcheck.language.errors import Source
    from modelcheck.semantics import System
    text = "fence f\nthread t { signal f }\non signal f { assert true }\n"
    src = Source("<t>", text)
    sys = System(model.build(syntax.parse(src), src))
    s = sys.initial()
    (_a, (t, *_rest)), = list(sys.successors(s))
    assert not sys.in_callback(s, 0) and sys.in_callback(t, 0)
    assert sys.atomic_hook(t, 0).fence == 0


# ---------------------------------------------------------------- enable_signaling

def test_enable_signaling_runs_once_in_the_first_waiter():
    expect("""
        fence f
        var n = 0 in 0..2
        thread w1 { wait f }
        thread w2 { wait f }
        thread hw { await n == 1; signal f }
        on enable_signaling f { n = n + 1 }
        invariant "once": n <= 1
    """, SAFE)


def test_without_a_waiter_enable_signaling_never_runs():
    r = expect("""
        fence f
        var n = 0 in 0..1
        thread hw { await n == 1; signal f }
        thread t { publish f }
        on enable_signaling f { n = 1 }
    """, {"deadlock"})
    assert "hw" in finding(r, "deadlock").message


def test_enable_signaling_that_takes_a_mutex_sleeps_in_atomic():
    expect("""
        lock M
        fence f
        thread w { wait f }
        thread hw { signal f }
        on enable_signaling f { lock M; unlock M }
    """, {"sleep-in-atomic"})


def test_enable_signaling_signals_its_own_fence_locked():
    # returning false from ->enable_signaling: the core signals it under its lock
    expect("""
        fence f
        thread w { wait f }
        on enable_signaling f { signal f }
    """, SAFE)


def test_wait_on_resv_enables_the_fences_it_would_wait_for():
    expect("""
        resv R
        fence f
        var asked = 0 in 0..1
        thread t { lock R; publish f in R; unlock R; wait R }
        thread hw { await asked == 1; signal f }
        on enable_signaling f { asked = 1 }
    """, SAFE)


def test_wait_on_resv_enables_one_fence_after_the_other():
    # dma_resv_wait_timeout() waits for each fence in turn: g is enabled
    # only once f has signalled
    expect("""
        resv R
        fence f
        fence g
        var n = 0 in 0..2
        thread t { lock R; publish f in R; publish g in R; unlock R; wait R }
        thread hw { await n >= 1; signal f; await n == 2; signal g }
        on enable_signaling f { n = 1 }
        on enable_signaling g { assert signalled(f); n = 2 }
    """, SAFE)


def test_wait_on_container_enables_its_parts():
    expect("""
        fence f
        fence g
        fence c = all(f, g)
        var asked = 0 in 0..2
        thread t { wait c }
        thread hw { await asked == 2; signal f; signal g }
        on enable_signaling f { asked = asked + 1 }
        on enable_signaling g { asked = asked + 1 }
    """, SAFE)


# ---------------------------------------------------------------- containers

def test_all_signals_with_its_last_part():
    expect("""
        fence f
        fence g
        fence c = all(f, g)
        thread a { signal f }
        thread b { signal g }
        thread w { wait c; assert signalled(f) and signalled(g) }
        invariant "not early": not signalled(c) or signalled(f) and signalled(g)
    """, SAFE)


def test_any_signals_with_its_first_part():
    expect("""
        fence f
        fence g
        fence d = any(f, g)
        thread a { signal f }
        thread w { wait d; assert signalled(f) }
    """, SAFE)


def test_chain_signals_as_all():
    expect("""
        fence f
        fence g
        fence h
        fence c = all(f, g)
        fence e = chain(c, h)
        thread a { signal f; signal h }
        thread b { signal g }
        thread w { wait e; assert signalled(c) and signalled(h) }
    """, SAFE)


def test_errors_carry_over_to_containers():
    expect("""
        fence f
        fence g
        fence c = all(f, g)
        fence d = any(f, g)
        thread a { signal f error; signal g; assert errored(c) and errored(d) }
    """, SAFE)
    expect("""
        fence f
        fence g
        fence d = any(f, g)
        thread a { signal g; signal f error; assert not errored(d) }
    """, SAFE)


def test_container_of_a_fence_that_never_signals_is_indefinite():
    expect("""
        fence f
        fence g
        fence c = all(f, g)
        thread a { publish c; signal f }
    """, {"indefinite-fence"})


def test_container_waited_on_in_reclaim_deadlocks():
    expect("""
        lock L
        fence f
        fence g
        fence c = all(f, g)
        thread a { lock L; alloc kernel; unlock L }
        thread b { signalling { signal f; lock L; signal g; unlock L } }
        on reclaim { wait c }
    """, {"deadlock", "lock-order"})


def test_container_callbacks_run_in_the_step_of_the_last_part():
    expect("""
        fence f
        fence g
        fence c = all(f, g)
        var x = 0 in 0..1
        thread a { signal f }
        thread b { signal g }
        thread w { await x == 1; assert signalled(f) and signalled(g) }
        on signal c { x = 1 }
    """, SAFE)


def test_container_array_parts():
    expect("""
        fence f[0..2]
        fence c = all(f)
        thread a[i in 0..2] { signal f[i] }
        thread w { wait c; assert signalled(f[0]) and signalled(f[1]) and signalled(f[2]) }
    """, SAFE)


def test_signal_on_a_container_is_a_positioned_error():
    msg = spec_error("""
        fence f
        fence c = all(f)
        thread t { signal c }
    """)
    assert "container" in msg and ":4:" in msg


def test_container_cannot_contain_itself():
    assert "contain itself" in spec_error("""
        fence c = all(d)
        fence d = all(c)
        thread t { }
    """)


def test_enable_signaling_on_a_container_is_an_error():
    assert "container" in spec_error("""
        fence f
        fence c = all(f)
        thread t { wait c }
        on enable_signaling c { }
    """)


# ---------------------------------------------------------------- job ... after

def test_job_takes_no_slot_before_its_dependencies():
    expect("""
        engine E slots 1
        fence dep
        fence out
        job j on E after dep { signal out }
        thread t { signal dep }
        thread w { wait out; assert signalled(dep) }
        invariant "no slot early": signalled(dep) or not done(j)
    """, SAFE)


def test_job_whose_dependency_never_signals_is_not_a_deadlock():
    expect("""
        engine E slots 1
        fence dep
        fence out
        job j on E after dep { signal out }
        thread t { publish out }
    """, {"indefinite-fence"})


def test_waiting_on_a_job_held_back_by_its_dependency_deadlocks():
    expect("""
        engine E slots 1
        fence dep
        fence out
        job j on E after dep { signal out }
        thread t { wait out; signal dep }
    """, {"deadlock"})


def test_job_dependencies_put_no_fence_wait_in_lockdep():
    # a job's dependencies are callbacks: holding L while the job waits adds nothing
    expect("""
        lock L
        engine E slots 1
        fence dep
        job j on E after dep { lock L; unlock L }
        thread t { signalling { lock L; signal dep; unlock L } }
    """, SAFE)


# ---------------------------------------------------------------- usage classes

USAGE = """
    resv R
    fence f
    thread t {{ lock R; publish f in R usage {pub}; unlock R; wait R{wait} }}
"""


@pytest.mark.parametrize("pub,wait,blocks", [
    ("kernel", " usage kernel", True),
    ("write", " usage kernel", False),
    ("write", " usage write", True),
    ("read", " usage write", False),
    ("read", " usage read", True),
    ("bookkeep", " usage read", False),
    ("bookkeep", " usage bookkeep", True),
    ("bookkeep", "", True),
    ("kernel", " usage bookkeep", True),
])
def test_wait_usage_waits_for_that_usage_or_stronger(pub, wait, blocks):
    expect(USAGE.format(pub=pub, wait=wait), {"deadlock"} if blocks else {"indefinite-fence"})


def test_publish_defaults_to_write_usage():
    expect("""
        resv R
        fence f
        thread t { lock R; publish f in R; unlock R; wait R usage write }
    """, {"deadlock"})
    expect("""
        resv R
        fence f
        thread t { lock R; publish f in R; unlock R; wait R usage kernel }
    """, {"indefinite-fence"})


def test_usage_on_a_fence_wait_is_an_error():
    assert "needs a resv" in spec_error("""
        fence f
        thread t { wait f usage read }
    """)


def test_job_dependency_enables_signalling_of_its_first_unsignalled_dependency():
    # drm_sched adds a callback to the dependency: a preempt-style fence starts
    # signalling once a job depends on it, in the job's (scheduler's) context
    expect("""
        engine E slots 1
        fence pf
        fence dep
        fence out
        var asked = 0 in 0..1
        job j on E after dep, pf { signal out }
        thread hw { await asked == 1; signal pf }
        thread t { signal dep; wait out }
        on enable_signaling pf { asked = 1 }
    """, SAFE)
    expect("""
        lock M
        engine E slots 1
        fence pf
        job j on E after pf { }
        thread hw { signal pf }
        on enable_signaling pf { lock M; unlock M }
    """, {"sleep-in-atomic"})
