"""`modelcheck explain KIND`: what a finding kind means, why the kernel
cares (with the document the rule comes from) and the usual fixes.

The same words are the rule help of the SARIF output, so a code-scanning
view in CI says as much as the command line does.
"""
from __future__ import annotations

import sys
import textwrap
from dataclasses import dataclass

from ..language.errors import printable
from ..language.model import FINDING_KINDS


@dataclass(frozen=True)
class Kind:
    summary: str            # one line: what the checker reports
    meaning: str
    why: str                # why the kernel cares
    sources: tuple          # where the rule is written down
    fixes: tuple


_DMA_BUF = "Documentation/driver-api/dma-buf.rst"
_ANNOT = ("drivers/dma-buf/dma-fence.c, the comment on dma_fence_begin_signalling() "
          "(\"fence signalling annotation\")")

KINDS = {
    "deadlock": Kind(
        "an actor can reach a state from which it never moves again",
        "In some reachable state an actor that has not finished is blocked, and on every "
        "path from there it stays blocked: the trace ends at that point of no return, and "
        "the wait-for chain shows the cycle of locks, fences, engine slots and conditions "
        "that holds it.",
        "A blocked kernel thread that waits on a lock or a dma_fence never returns: the "
        "ioctl hangs, and when the fence is one that reclaim or an MMU notifier waits for, "
        "memory reclaim stalls for the whole system. Deadlocks through dma_fences are "
        "invisible to plain lockdep because a fence is not a lock; the cross-driver contract "
        "exists to rule them out by construction.",
        (f"{_DMA_BUF}, \"DMA Fence cross-driver contract\" (a dma_fence_wait() is allowed "
         "under dma_resv_lock() and from shrinkers and MMU notifiers, so the path to "
         "dma_fence_signal() may take neither)",
         f"{_DMA_BUF}, \"Indefinite DMA Fences\"",
         f"{_DMA_BUF}, \"Recoverable Hardware Page Faults Implications\" (deadlocks "
         "through shared hardware resources)",
         f"{_ANNOT}: lockdep with these annotations catches the fence cycles that also "
         "show up as lock-order cycles"),
        ("take locks in one global order; take several dma_resv locks in one ww_acquire "
         "context (`lock R1, R2`)",
         "never allocate with GFP_KERNEL or take a dma_resv lock on the path to "
         "dma_fence_signal(): preallocate, or use GFP_NOWAIT / GFP_ATOMIC",
         "do not wait for a fence that only you (or a thread you wait for) will signal; "
         "publish a fence only once everything needed to signal it is in place",
         "for hardware cycles: preempt with faults pending, reserve engines for dma_fence "
         "jobs, or flush the GPU when switching between fence and fault jobs "
         "(`modelcheck matrix` compares such remedies)")),
    "indefinite-fence": Kind(
        "a published fence is never signalled, although nothing deadlocks",
        "A fence that others can see (published, or added to a resv object) stays "
        "unsignalled for ever: every actor finishes and leaves it pending, or the actors "
        "go round a fair cycle that never signals it.",
        "Every dma_fence must signal in finite time: anything in the kernel may wait for "
        "it, including memory reclaim and MMU notifiers. A fence whose signalling depends "
        "on userspace or on future work that may never be submitted is an indefinite "
        "fence, and the documentation forbids them outright.",
        (f"{_DMA_BUF}, \"Indefinite DMA Fences\"",
         f"{_DMA_BUF}, \"DMA Fence cross-driver contract\" (dma_fence must complete in a "
         "reasonable time)"),
        ("make sure every path after the publish signals the fence, with an error on the "
         "failure paths (`signal F error`)",
         "do not expose future fences or userspace fences as dma_fences; keep them as "
         "userspace (sync object) fences",
         "tie the fence to a timeout / reset handler that signals it")),
    "lock-order": Kind(
        "the lock-class dependency graph has a cycle lockdep would report",
        "Across the explored steps, one actor takes lock class B while holding A and "
        "another takes A while holding B (possibly through the dma_fence_map, fs_reclaim "
        "and mmu_notifier pseudo-locks). The cycle is reported even when no explored "
        "interleaving deadlocks.",
        "This is what lockdep with the dma_fence signalling annotations prints as "
        "\"possible circular locking dependency detected\". A kernel that splats this in "
        "CI is not merged, even when the deadlock is rare; the annotations turn "
        "fence waits and signalling critical sections into lock classes so that lockdep "
        "sees the cross-driver contract.",
        (_ANNOT,
         f"{_DMA_BUF}, \"DMA Fence Signalling Annotations\"",
         "Documentation/locking/lockdep-design.rst; dma_resv_lockdep() in "
         "drivers/dma-buf/dma-resv.c, which primes mmap_lock -> resv -> fs_reclaim -> "
         "mmu_notifier -> dma_fence_map at boot"),
        ("take the two classes in one order everywhere",
         "move allocations and dma_resv locking out of dma_fence_begin/end_signalling() "
         "sections",
         "do not wait for fences while holding a lock that the signalling path takes")),
    "timeout-hang": Kind(
        "an actor waits with a timeout for a fence that would otherwise never signal",
        "An actor sits in `wait F timeout` on an unsignalled fence, and if no timeout ever "
        "fired it would never move again. The design only makes progress because the "
        "timeout kicks in.",
        "A timeout is not a fix for a missing signal: the documentation says such designs "
        "randomly hang workloads until the timeout kicks in, and the timeout then fails "
        "work that was correct.",
        (f"{_DMA_BUF}, \"Indefinite DMA Fences\" (\"randomly hangs workloads until the "
         "timeout kicks in\")",),
        ("find who should signal the fence and make that path unconditional",
         "break the dependency that keeps the signaller from running, as for a deadlock")),
    "sleep-in-atomic": Kind(
        "something that may sleep runs while a spinlock is held",
        "While holding a spinlock, an actor reaches a statement that may sleep: a wait, an "
        "allocation that may enter reclaim, a sleeping lock, acquiring an engine slot, a "
        "fault, fork or munmap.",
        "Sleeping with a spinlock held (or preemption disabled) is a bug in the kernel: "
        "CONFIG_DEBUG_ATOMIC_SLEEP reports \"BUG: sleeping function called from invalid "
        "context\", and on a uniprocessor it can hang the machine.",
        ("Documentation/locking/locktypes.rst (spinlock_t: the critical section must not "
         "sleep); might_sleep() in include/linux/kernel.h",),
        ("drop the spinlock before the sleeping call, or use a mutex",
         "allocate with GFP_ATOMIC / GFP_NOWAIT (`alloc atomic` / `alloc nowait`) inside "
         "the critical section, or preallocate before taking the lock")),
    "signal-before-deps": Kind(
        "a fence is signalled before a fence it depends on",
        "A fence declared `after G` is signalled (with or without an error) while G is "
        "still unsignalled.",
        "Fences of one timeline and fences with declared dependencies must signal in "
        "order: waiters on the later fence assume the earlier work is done, and a fence "
        "container (dma_fence_chain, dma_fence_array) relies on it.",
        (f"{_DMA_BUF}, \"DMA Fences\" and the dma_fence_chain / dma_fence_array "
         "kernel-doc",),
        ("signal the dependencies first, or wait for them before signalling",
         "on an error path, still signal in dependency order (with the error)")),
    "publish-without-lock": Kind(
        "a fence is added to a resv object without holding its lock",
        "`publish F in R` runs while the actor does not hold R's lock.",
        "dma_resv_add_fence() requires dma_resv_lock() held: without it concurrent "
        "updates of the fence list race, and readers may miss the fence, so implicit "
        "synchronisation silently breaks.",
        ("drivers/dma-buf/dma-resv.c, dma_resv_add_fence() (dma_resv_assert_held)",
         f"{_DMA_BUF}, \"Reservation Objects\""),
        ("take the resv lock (in the submission's ww_acquire context) around the add",)),
    "unlock-not-held": Kind(
        "unlocking a lock the actor does not hold",
        "An actor unlocks a lock it does not hold (in that mode), or gives back an engine "
        "slot it does not hold.",
        "Releasing a lock one does not own corrupts its state; lockdep reports it as "
        "\"bad unlock balance detected\", and mutex debugging warns as well.",
        ("kernel/locking/lockdep.c, print_unlock_imbalance_bug()",),
        ("pair every unlock with its lock on every path, including error paths",
         "unlock in the mode the lock was taken (shared or not)")),
    "lock-held-at-exit": Kind(
        "an actor finishes while still holding a lock or an engine slot",
        "An actor reaches its end while holding a lock, or a slot of an engine it took "
        "with `acquire`.",
        "Returning to userspace with a lock held is a bug lockdep reports (\"lock held "
        "when returning to user space\"); a lost engine slot starves every later job.",
        ("kernel/locking/lockdep.c, lockdep_sys_exit()",),
        ("release every lock and slot on every path, error paths included",
         "if the hand-off to another context is intended, model it as that context "
         "releasing it")),
    "assert": Kind(
        "an `assert` fails, or an assignment leaves its var's range",
        "An `assert expr` is reached with expr false, or `x = expr` would give x a value "
        "outside the range declared for it.",
        "These are the design's own claims (the equivalent of WARN_ON or BUG_ON in the "
        "driver); the trace shows how the claim is broken.",
        ("the spec itself",),
        ("fix the design, or the claim if the trace shows it was wrong",)),
    "invariant": Kind(
        "an `invariant` does not hold in some reachable state",
        "A state is reachable in which the expression of an `invariant` is false.",
        "Invariants state what must be true at every moment (a buffer is never mapped "
        "while its fence is pending, say); the trace is the shortest way to break it.",
        ("the spec itself",),
        ("fix the design, or the invariant if the trace shows it was too strong",)),
    "unreachable": Kind(
        "no reachable state satisfies a `reachable` property",
        "The whole state graph was explored and no state in it makes the expression of a "
        "`reachable \"name\": expr` line true: the situation it describes never happens.",
        "A design that is safe only because the interesting interleaving (the eviction "
        "racing the fault, the fallback path) can never occur proves nothing; `reachable` "
        "says that the scenario the spec is about does happen.",
        ("the spec itself",),
        ("check that the actors can get there: a lock held too long, a condition never "
         "true, a branch that the model rules out",
         "if the situation is really impossible, drop the line or make it an invariant")),
    "irq-unsafe-lock": Kind(
        "a lock taken in an irq handler is also taken with interrupts enabled",
        "A lock class is taken inside an `irq` handler (or in an `on signal` callback that "
        "an irq handler's signal runs), and somewhere else with interrupts enabled: not with "
        "`lock S irqsave`, not under another lock taken with irqsave, not in an irq handler "
        "and not in a fence hook. The finding shows both acquisitions, each with the "
        "shortest trace that reaches it. No interleaving needs to deadlock for it to count.",
        "This is lockdep's \"inconsistent lock state\", {IN-HARDIRQ-W} -> {HARDIRQ-ON-W} "
        "usage: the interrupt can arrive on the CPU of the thread that holds the lock with "
        "interrupts on, and the handler then spins forever on a lock its own CPU holds. "
        "Lockdep reports it from the two usages alone, the first time it sees both.",
        ("kernel/locking/lockdep.c: mark_usage(), mark_lock_irq(), valid_state(), "
         "exclusive_bit()",
         "Documentation/locking/lockdep-design.rst, \"State\" and \"Single-lock state rules\"",
         "Documentation/locking/spinlocks.rst (spin_lock_irqsave for data shared with an "
         "interrupt handler)"),
        ("take the lock with spin_lock_irqsave() / spin_lock_irq() everywhere outside the "
         "handler (`lock S irqsave` ... `unlock S irqrestore`)",
         "move the work out of the handler (a threaded irq, irq_work or a work item) so the "
         "lock is never taken in hard-irq context")),
}


def text(kind: str) -> str:
    """The full explanation printed by `modelcheck explain KIND`."""
    k = KINDS[kind]
    out = [f"{kind}: {k.summary}", "", "What it means:", _wrap(k.meaning), "",
           "Why the kernel cares:", _wrap(k.why), "", "Where it comes from:"]
    out += [_wrap(s, "  - ") for s in k.sources]
    out += ["", "Usual fixes:"] + [_wrap(f, "  - ") for f in k.fixes]
    return "\n".join(out) + "\n"


def markdown(kind: str) -> str:
    """The same, as Markdown (SARIF rule help)."""
    k = KINDS[kind]
    return (f"**{kind}**: {k.summary}\n\n{k.meaning}\n\n**Why the kernel cares.** {k.why}\n\n"
            "**Where it comes from.**\n" + "".join(f"- {s}\n" for s in k.sources)
            + "\n**Usual fixes.**\n" + "".join(f"- {f}\n" for f in k.fixes))


def _wrap(s: str, first: str = "  ") -> str:
    return textwrap.fill(s, 79, initial_indent=first, subsequent_indent="    " if first != "  " else "  ")


def main(kind: str) -> int:
    """Print the explanation; exit 2 with the known kinds for an unknown one."""
    if kind not in KINDS:
        print(f"modelcheck explain: unknown finding kind '{printable(kind)}'; known kinds: "
              + ", ".join(FINDING_KINDS), file=sys.stderr)
        return 2
    sys.stdout.write(text(kind))
    return 0


assert set(KINDS) == set(FINDING_KINDS), "every finding kind needs an explanation"
