"""Designs that look suspicious but are safe: each must give no finding at
all.  These are the false positives a checker of this kind is most tempted
to report (lockdep-style pattern matching, unfair schedules, loops that
never end but never block anybody)."""
from __future__ import annotations

import pytest

from helpers import check

SAFE_DESIGNS = {
    # TTM eviction: wait for the buffer's fences while holding its resv lock.
    # The fence is signalled by hardware that never needs that lock.
    "wait_under_resv_ttm_eviction": """
        spec "TTM eviction: wait for the fences of a locked buffer"
        resv bo
        fence job_done
        engine ring slots 1

        thread submit {
            lock bo
            publish job_done in bo
            unlock bo
        }
        job hw on ring {
            await published(job_done)
            signal job_done
        }
        thread evict {
            lock bo
            wait bo                 # may wait for job_done with bo held
            unlock bo
        }
    """,

    # A nested wait inside a signalling section, no lock taken in the section:
    # the kernel upgrades the read to a write; nothing can deadlock.
    "nested_wait_in_signalling": """
        spec "scheduler waits for the hardware fence inside its signalling section"
        fence hw_fence
        fence sched_fence

        thread scheduler {
            signalling {
                signalling {
                    wait hw_fence
                }
                signal sched_fence
            }
        }
        thread irq {
            signal hw_fence
        }
        thread user {
            wait sched_fence
        }
    """,

    # An opportunistic signaller (signal if you happen to see it done) beside
    # the mandatory one: signalling a signalled fence does nothing.
    "opportunistic_signaller": """
        spec "opportunistic signalling beside the mandatory signaller"
        fence f
        var hw_done = 0 in 0..1

        thread submit {
            publish f
            wait f
        }
        thread irq {                    # mandatory: always signals
            hw_done = 1
            signal f
        }
        thread poll {                   # opportunistic: only if it sees the seqno
            if hw_done == 1 {
                signal f
            }
        }
    """,

    # A fair spin loop: the spinner could loop forever only if the signaller
    # never ran, which is not a fair schedule.
    "fair_spin_loop": """
        spec "busy-wait on a fence beside its signaller"
        fence F

        thread spin {
            publish F
            while not signalled(F) { }
        }
        thread s {
            signal F
        }
    """,

    # The same with a lock handed over: the signaller is only intermittently
    # able to take the lock, and lock hand-off is fair.
    "fair_spin_loop_with_lock_handoff": """
        lock L
        fence F

        thread spin {
            publish F
            while not signalled(F) {
                lock L
                unlock L
            }
        }
        thread s {
            lock L
            signal F
            unlock L
        }
    """,

    # ... and with an engine slot handed over.
    "fair_spin_loop_with_engine_handoff": """
        engine E slots 1
        fence F

        thread spin {
            publish F
            while not signalled(F) {
                acquire E
                release E
            }
        }
        thread s {
            acquire E
            signal F
            release E
        }
    """,

    # kswapd-like reclaim that loops forever; it only ever trylocks, so it
    # never blocks anybody, and the fence is signalled by its owner.
    "reclaim_loop_forever": """
        spec "a shrinker loop that runs forever"
        lock lru
        fence f

        thread kswapd {
            while 1 {
                alloc kernel
            }
        }
        on reclaim {
            trylock lru else { return }
            unlock lru
        }
        thread user {
            lock lru
            publish f
            unlock lru
            signal f
        }
        thread waiter {
            await published(f)
            wait f
        }
    """,

    # A timeout wait whose fence is always signalled: the timeout is only a
    # safety net, nothing hangs until it fires.
    "timeout_as_a_safety_net": """
        fence F
        thread w { wait F timeout }
        thread s { signal F }
    """,

    # ww context in opposite orders: the -EDEADLK backoff makes it safe.
    "ww_context_opposite_orders": """
        resv a
        resv b
        thread t1 { lock a, b; unlock a; unlock b }
        thread t2 { lock b, a; unlock b; unlock a }
    """,

    # alloc nowait inside a signalling section: never enters reclaim.
    "alloc_nowait_in_signalling": """
        fence F
        thread t { signalling { alloc nowait; signal F } }
        on reclaim { wait F }
    """,

    # An interruptible wait broken by interrupt_waits: not a deadlock.
    "interruptible_wait_broken_by_interrupt": """
        fence F
        thread tdr { wait F interruptible else { return } }
        thread kill { interrupt_waits }
    """,

    # A preemptible compute job faulting while the fault handler waits for
    # another job on the same single-slot engine.
    "preemptible_fault": """
        engine cu slots 1
        fence migrate_done
        job compute on cu preemptible { fault }
        job copy on cu { signal migrate_done }
        on fault { wait migrate_done }
    """,
}


@pytest.mark.parametrize("name", sorted(SAFE_DESIGNS))
def test_safe_design_has_no_finding(name):
    r = check(SAFE_DESIGNS[name])
    assert r.complete
    assert r.kinds == frozenset(), [f.message for f in r.findings]
    assert r.ok
