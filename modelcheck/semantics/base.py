"""What every instruction shares: the state layout, the constants, the `Instr` base."""
from __future__ import annotations

from typing import TYPE_CHECKING, Optional

from ..language.model import Model, Stmt

if TYPE_CHECKING:
    from .system import System

DONE = -1
MEMALLOC = ("PF_MEMALLOC", "")     # in a lock context: allocations never enter reclaim
NOFS = ("PF_MEMALLOC_NOFS", "")    # in a lock context: allocations act as GFP_NOFS
NORECLAIM, NOFS_SCOPE, NOIO_SCOPE = 1, 2, 4     # `Instr.scope` bits: noreclaim / nofs / noio
SIGNALLED, ERRORED, PUBLISHED = 1, 2, 4

# Outcome of one step: (next state, label, findings, is_timeout).  A label
# says what the state change alone cannot (a choice, a timeout, a hook).
# A finding is (kind, key, message); the key tells findings apart.


class Layout:
    def __init__(self, m: Model):
        self.A = len(m.actors)
        self.PC = 0
        self.STK = self.A
        self.LK = 2 * self.A
        self.FN = self.LK + len(m.locks)
        self.RV = self.FN + len(m.fences)
        self.EN = self.RV + len(m.resvs)
        self.VR = self.EN + len(m.engines)
        self.IRQ = self.VR + len(m.vars)
        self.size = self.IRQ + 1
        self.WQ = self.extend(len(m.workqueues))    # workqueue[q]: its pending items, in order
        # usage[r][k]: the fences of resv r published with usage k or stronger
        # (kernel, write, read; bookkeep is resv[r]), when the spec names usages
        self.US_N = 3 * len(m.resvs) if m.uses_usage else 0
        self.US = self.extend(self.US_N)
        # lock extras: ("n", l) lock l is held by `lock l nested` (class l/1);
        # ("r", l, a) one more read hold of rwsem l by actor a (down_read again)
        self.XL = self.extend(1)
        self.WW = self.extend(1)                     # actors in a `ww { }` block, oldest first
        # HO[a]: what actor a holds, in the order it took it (lockdep's held_locks[]),
        # one `held_token` per acquisition; the lock-order model walks it from the top
        self.HO = self.extend(self.A)
        # FB[a]: the flush barriers actor a waits for at a FlushWait (work.py), sorted:
        # 2w behind item w's pending instance, 2w + 1 behind its run
        self.FB = self.extend(self.A if m.uses_flush else 0)
        # irq handlers (irq.py): IRQ_ON[h] the actor handler h interrupts, or -1;
        # IRQ_OFF[a] the mask of locks actor a holds taken with irqsave
        self.irqs = [a for a, actor in enumerate(m.actors) if actor.kind == "irq"]
        self.IRQ_ON = self.extend(len(self.irqs))
        self.IRQ_OFF = self.extend(self.A if self.irqs else 0)

    def extend(self, n: int) -> int:
        """Reserve n more components at the end of the state; their first index."""
        first = self.size
        self.size += n
        return first


def held_token(l: int, depth: int, in_section: bool, trylock: bool = False) -> int:
    """One entry of HO: lock l (-1: the ww context's resv_ctx), taken at hook
    depth `depth`, inside a signalling section or not, by trylock or not.
    Where it sits among the hook frames and the section's dma_fence_map is
    worked out from these when the lock context is read (System.lock_context)."""
    return ((l + 1) << 8) | (depth << 2) | (in_section << 1) | trylock


def token_lock(tok: int) -> int:
    return (tok >> 8) - 1


# ----------------------------------------------------------------- instructions

class Instr:
    may_sleep = False
    acquires: tuple = ()        # (lock class, "r"|"w") taken by this step, for lockdep
    calls: Optional[str] = None  # hook event entered by this step
    scope = 0                   # NORECLAIM | NOFS_SCOPE | NOIO_SCOPE around the statement
    nests = False               # each class in `acquires` is taken under the one before it

    def __init__(self, sys: "System", stmt: Stmt, nxt: int, sig: int):
        self.sys, self.stmt, self.nxt, self.sig = sys, stmt, nxt, sig
        self.site = None            # the pc that findings at this statement are keyed by

    def step(self, s: tuple, a: int) -> list:
        raise NotImplementedError

    def next_pcs(self) -> tuple:
        """The pcs of the actor's own code a step here may move it to (hook
        entries aside): the control flow that reduction and the symbolic
        engine read, defined once beside the step that follows it."""
        return (self.nxt,)

    def blocked_on(self, s: tuple, a: int) -> list:
        """Why `step` gives nothing: [("lock", l) | ("writer", l, waiting writer) |
        ("fence", f) | ("engine", e) | ("cond", text)]."""
        return []

    def move(self, s: tuple, a: int, pc: int, label: str = "", lst=None, found=()):
        """The common tail of every step: set the pc, finish the actor if it ends."""
        return self.sys.move(s if lst is None else lst, a, pc, label, found)
