"""Fences: signal, wait, publish, and interruptible waits."""
from __future__ import annotations

from ..language.model import USAGES
from .base import DONE, SIGNALLED, ERRORED, PUBLISHED, Instr
from .callbacks import enable_first, fence_class, fire_containers, run_callbacks


class Signal(Instr):
    """signal F; the containers it completes signal in the same step, then
    the callbacks of every fence it signalled run (see callbacks.py)."""

    def __init__(self, sys, stmt, nxt, sig):
        super().__init__(sys, stmt, nxt, sig)
        f = stmt.objs[0]
        self.fires = [f] + sys.m.containers_of(f)       # what this step may signal
        # in F's own enable_signaling, `signal F` is dma_fence_signal_locked()
        mine = sys.hook_fence == ("enable_signaling", f)
        self.acquires = tuple((fence_class(sys.m, g), "w") for g in self.fires
                              if sys.fence_locked(g) and not (mine and g == f))
        self.quick = not sys.m.containers_of(f) and f not in sys.fence_sites["signal"]

    def step(self, s, a):
        sys, f = self.sys, self.stmt.objs[0]
        at = sys.L.FN + f
        if s[at] & 3:
            return [self.move(s, a, self.nxt, "already signalled: no effect")]
        lst = list(s)
        lst[at] = s[at] | (ERRORED if self.stmt.mode == "error" else SIGNALLED)
        fired = [f] if self.quick else [f] + fire_containers(sys, lst, f)
        pending = [d for d in sys.m.fences[f].after if not s[sys.L.FN + d] & 3]
        found = ()
        if pending:
            names = ", ".join(sys.m.fences[d].name for d in pending)
            found = (("signal-before-deps", (self.pc, f),
                      f"{sys.actor(a)} signals {sys.m.fences[f].name} while {names} "
                      f"(which it comes after) is unsignalled (line {self.stmt.line})"),)
        label = ""                                # (the containers show as "signals c")
        cbs = [g for g in fired if g in sys.fence_sites["signal"]]
        if cbs:
            return [run_callbacks(sys, lst, a, self, cbs, label, found)]
        return [self.move(s, a, self.nxt, label, lst=lst, found=found)]


class Wait(Instr):
    """wait F / wait R, plain, `interruptible else {}` or `timeout`.  The picked
    fence of `wait any` is also waited for by a Wait on that one fence."""
    may_sleep = True

    def __init__(self, sys, stmt, nxt, sig, else_pc=None, fence=None, resv=None):
        super().__init__(sys, stmt, nxt, sig)
        self.fence, self.resv, self.else_pc = fence, resv, else_pc
        self.mode = stmt.mode
        if self.mode != "interruptible":
            self.acquires = (("dma_fence_map", "w"),)
        if fence is not None and sys.fence_locked(fence):     # the wake-up callback's lock
            self.acquires += ((fence_class(sys.m, fence), "w"),)
        self.enable_sites: dict = {}              # fence -> its enable_signaling frame here
        self.plain = sys.L.FN + fence if fence is not None and not self.mode else None
        self.mask = None if resv is None else sys.usage_mask(resv, stmt.usage)

    def next_pcs(self):
        return (self.nxt,) + tuple(p for p in (self.else_pc, getattr(self, "woken_pc", None))
                                   if p is not None)

    def pending(self, s) -> list:
        sys = self.sys
        if self.fence is not None:
            return [] if s[sys.L.FN + self.fence] & 3 else [self.fence]
        mask = s[self.mask]
        return [f for f in sys.bits(mask) if not s[sys.L.FN + f] & 3]

    def step(self, s, a):
        if self.plain is not None and not self.enable_sites:     # wait F, the common case
            return [self.move(s, a, self.nxt)] if s[self.plain] & 3 else []
        pending = self.pending(s)
        if not pending:
            return [self.move(s, a, self.nxt)]
        if self.enable_sites:
            out = enable_first(self.sys, s, a, self, pending)
            if out is not None:
                return [out]
        if self.plain is not None:
            return []
        if self.mode == "timeout":
            return [self.sys.move(s, a, self.nxt, "times out", timeout=True)]
        if self.mode == "interruptible" and s[self.sys.L.IRQ]:
            return [self.move(s, a, self.else_pc, "interrupted: -ERESTARTSYS")]
        return []

    def blocked_on(self, s, a):
        return [("fence", f) for f in self.pending(s)]


class Woken(Instr):
    """Where interrupt_waits leaves a blocked interruptible wait: its next
    step returns -ERESTARTSYS and runs the else branch."""

    def __init__(self, sys, wait: Wait):
        super().__init__(sys, wait.stmt, wait.else_pc, wait.sig)

    def step(self, s, a):
        return [self.move(s, a, self.nxt, "wait returns -ERESTARTSYS")]


class WaitAny(Instr):
    """wait any: picks one published unsignalled fence to wait for, or none."""
    may_sleep = True
    acquires = (("dma_fence_map", "w"),)

    def __init__(self, sys, stmt, nxt, sig, picked: dict):
        super().__init__(sys, stmt, nxt, sig)
        self.picked = picked           # fence -> pc of the Wait on that fence
        if stmt.mode == "interruptible":
            self.acquires = ()

    def next_pcs(self):
        return (self.nxt,) + tuple(self.picked.values())

    def step(self, s, a):
        FN = self.sys.L.FN
        outs = [self.move(s, a, self.nxt, "finds nothing to wait for")]
        for f, pc in self.picked.items():
            if s[FN + f] & 7 == PUBLISHED:
                outs.append(self.move(s, a, pc, f"picks {self.sys.m.fences[f].name}"))
        return outs


class Publish(Instr):
    """publish F / publish F in R (the caller must hold R's lock)."""

    def step(self, s, a):
        sys, f = self.sys, self.stmt.objs[0]
        lst = list(s)
        lst[sys.L.FN + f] = s[sys.L.FN + f] | PUBLISHED
        found = ()
        if self.stmt.op == "publish_in":
            r = self.stmt.objs[1]
            lock = sys.m.locks[r]
            lst[sys.L.RV + lock.resv] = s[sys.L.RV + lock.resv] | (1 << f)
            if sys.L.US_N:                        # the masks of the usages it counts for
                k = USAGES.index(self.stmt.usage or "write")
                for j in range(k, 3):
                    at = sys.L.US + 3 * lock.resv + j
                    lst[at] = s[at] | (1 << f)
            if s[sys.L.LK + r] != -(a + 1):
                found = (("publish-without-lock", (self.pc,),
                          f"{sys.actor(a)} publishes {sys.m.fences[f].name} in {lock.name} "
                          f"without holding {lock.name} (line {self.stmt.line})"),)
        return [self.move(s, a, self.nxt, lst=lst, found=found)]


class Interrupt(Instr):
    """interrupt_waits wakes every interruptible wait now blocked (it fails
    with -ERESTARTSYS: its else branch runs next) and makes later ones fail
    until end_interrupt_waits."""

    def step(self, s, a):
        sys = self.sys
        lst = list(s)
        on = self.stmt.op == "interrupt_waits"
        lst[sys.L.IRQ] = int(on)
        label = ""
        if on:
            woken = []
            for b in range(sys.L.A):
                pc = s[sys.L.PC + b]
                ins = sys.code[pc] if pc != DONE else None
                if b != a and isinstance(ins, Wait) and ins.mode == "interruptible" and ins.pending(s):
                    lst[sys.L.PC + b] = ins.woken_pc
                    woken.append(sys.actor(b))
            if woken:
                label = "wakes " + ", ".join(woken) + " with -ERESTARTSYS"
        return [self.move(s, a, self.nxt, label, lst=lst)]
