"""Locks: mutex, spinlock, rwsem and resv acquisitions."""
from __future__ import annotations

from .base import Instr


class Lock(Instr):
    """lock L / lock M shared / lock R1, R2 (one ww context: all at once)."""

    def __init__(self, sys, stmt, nxt, sig):
        super().__init__(sys, stmt, nxt, sig)
        self.ids = stmt.objs
        self.shared = stmt.mode == "shared"
        kinds = {sys.m.locks[i].kind for i in self.ids}
        self.may_sleep = kinds != {"spinlock"}
        self.acquires = tuple((sys.m.locks[i].cls, "r" if self.shared else "w") for i in self.ids)
        self.irqsave = stmt.mode == "irqsave"          # spin_lock_irqsave (irq.py)
        self.one = sys.L.LK + self.ids[0] if len(self.ids) == 1 and not self.shared \
            and not (self.irqsave and sys.L.irqs) else None

    def step(self, s, a):
        if self.one is not None:                  # one lock, exclusive: the common case
            if s[self.one]:
                return []
            lst = list(s)
            lst[self.one] = -(a + 1)
            return [self.move(s, a, self.nxt, lst=lst)]
        if not all(self.sys.can_take(s, a, l, self.shared) for l in self.ids):
            return []
        lst = list(s)
        for l in self.ids:
            self.sys.take(lst, a, l, self.shared)
            if self.irqsave and self.sys.L.irqs:
                lst[self.sys.L.IRQ_OFF + a] |= 1 << l
        return [self.move(s, a, self.nxt, lst=lst)]

    def blocked_on(self, s, a):
        out = []
        for l in self.ids:
            if self.sys.can_take(s, a, l, self.shared):
                continue
            w = self.sys.waiting_writer(s, l, a) if self.shared and s[self.sys.L.LK + l] > 0 else None
            out.append(("lock", l) if w is None or self.sys.holder(s, l, a) else ("writer", l, w))
        return out


class Trylock(Instr):
    """trylock L else { body }: takes L if free; adds no lock-order edge."""

    def __init__(self, sys, stmt, nxt, sig, else_pc):
        super().__init__(sys, stmt, nxt, sig)
        self.l = stmt.objs[0]
        self.shared = stmt.mode == "shared"
        self.else_pc = else_pc

    def step(self, s, a):
        if self.sys.can_take(s, a, self.l, self.shared):
            lst = list(s)
            self.sys.take(lst, a, self.l, self.shared)
            return [self.move(s, a, self.nxt, lst=lst)]
        return [self.move(s, a, self.else_pc, "busy: runs the else branch")]


class Unlock(Instr):
    def step(self, s, a):
        sys, lst, found = self.sys, list(s), []
        shared = self.stmt.mode == "shared"
        for l in self.stmt.objs:
            v = s[sys.L.LK + l]
            if shared and v > 0 and v >> a & 1:
                lst[sys.L.LK + l] = v & ~(1 << a)
            elif not shared and v == -(a + 1):
                lst[sys.L.LK + l] = 0
                if sys.L.irqs and s[sys.L.IRQ_OFF + a] >> l & 1:    # irqrestore, or irqs stay off
                    lst[sys.L.IRQ_OFF + a] &= ~(1 << l)
            else:
                name = sys.m.locks[l].name
                found.append(("unlock-not-held", (self.pc, l),
                              f"{sys.actor(a)} unlocks {name}{' shared' if shared else ''} "
                              f"without holding it (line {self.stmt.line})"))
        return [self.move(s, a, self.nxt, lst=lst, found=tuple(found))]
