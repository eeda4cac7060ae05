"""Locks: mutex, spinlock, rwsem and resv acquisitions."""
from __future__ import annotations

from .base import Instr, held_token


class Lock(Instr):
    """lock L / lock M shared / lock R1, R2 (one ww context: all at once)."""

    def __init__(self, sys, stmt, nxt, sig):
        super().__init__(sys, stmt, nxt, sig)
        self.ids = stmt.objs
        self.shared = stmt.mode == "shared"
        self.nested = stmt.mode == "nested"      # mutex_lock_nested(L, SINGLE_DEPTH_NESTING)
        kinds = {sys.m.locks[i].kind for i in self.ids}
        self.may_sleep = kinds != {"spinlock"}
        suffix = "/1" if self.nested else ""
        self.acquires = tuple((sys.m.locks[i].cls + suffix, "r" if self.shared else "w")
                              for i in self.ids)
        self.irqsave = stmt.mode == "irqsave"          # spin_lock_irqsave (irq.py)
        self.one = sys.L.LK + self.ids[0] if len(self.ids) == 1 and not self.shared \
            and not self.nested and not (self.irqsave and sys.L.irqs) else None
        self.ww_restart = None                   # in a `ww { }` block: the block's first pc
        self.token = held_token(self.ids[0], 0, sig > 0)   # the fast path's HO entry, but its depth

    def step(self, s, a):
        if self.one is not None:                  # one lock, exclusive: the common case
            if s[self.one]:
                return self.backoff(s, a)
            lst = list(s)
            lst[self.one] = -(a + 1)
            ho = self.sys.L.HO + a
            lst[ho] = s[ho] + (self.token | len(s[self.sys.L.STK + a]) << 2,)
            return [self.move(s, a, self.nxt, lst=lst)]
        if not all(self.sys.can_take(s, a, l, self.shared) for l in self.ids):
            return self.backoff(s, a)
        lst = list(s)
        for l in self.ids:
            self.sys.take(lst, a, l, self.shared, self.nested)
            if self.irqsave and self.sys.L.irqs:
                lst[self.sys.L.IRQ_OFF + a] |= 1 << l
        return [self.move(s, a, self.nxt, lst=lst)]

    def backoff(self, s, a):
        """ww wait-die: a younger context that meets a resv held by an older one
        and already holds a resv of its own gets -EDEADLK: it drops every resv
        and the block starts again (the context keeps its age)."""
        sys = self.sys
        if self.ww_restart is None:
            return []
        ww = s[sys.L.WW]
        mine = [l for l in sys.m.resvs if s[sys.L.LK + l] == -(a + 1)]
        if a not in ww or not mine:
            return []
        for l in self.ids:
            v = s[sys.L.LK + l]
            if v < 0 and -v - 1 != a and -v - 1 in ww and ww.index(-v - 1) < ww.index(a):
                lst = list(s)
                for r in mine:
                    lst[sys.L.LK + r] = 0
                    sys.pop_held(lst, a, r)
                older = sys.actor(-v - 1)
                return [self.move(s, a, self.ww_restart, lst=lst,
                                  label=f"-EDEADLK: {sys.m.locks[l].name} is held by the older "
                                        f"context of {older}; backs off, drops "
                                        f"{', '.join(sys.m.locks[r].name for r in mine)}")]
        return []

    def blocked_on(self, s, a):
        out = []
        for l in self.ids:
            if self.sys.can_take(s, a, l, self.shared):
                continue
            w = self.sys.waiting_writer(s, l, a) if self.shared and s[self.sys.L.LK + l] > 0 else None
            out.append(("lock", l) if w is None else ("writer", l, w))
        return out


class Trylock(Instr):
    """trylock L else { body }: takes L if free; adds no lock-order edge."""

    def __init__(self, sys, stmt, nxt, sig, else_pc):
        super().__init__(sys, stmt, nxt, sig)
        self.l = stmt.objs[0]
        self.shared = stmt.mode == "shared"
        self.else_pc = else_pc

    def next_pcs(self):
        return (self.nxt, self.else_pc)

    def step(self, s, a):
        if self.sys.can_take(s, a, self.l, self.shared):
            lst = list(s)
            self.sys.take(lst, a, self.l, self.shared, trylock=True)
            return [self.move(s, a, self.nxt, lst=lst)]
        return [self.move(s, a, self.else_pc, "busy: runs the else branch")]


class WwBegin(Instr):
    """ww_acquire_init(): the context is younger than every one begun before;
    lockdep sees reservation_ww_class_acquire (`resv_ctx`) held until fini."""
    acquires = (("resv_ctx", "w"),)

    def step(self, s, a):
        lst = list(s)
        lst[self.sys.L.WW] = tuple(b for b in s[self.sys.L.WW] if b != a) + (a,)
        self.sys.push_held(lst, a, -1)
        return [self.move(s, a, self.nxt, lst=lst, label="ww_acquire_init")]


class WwEnd(Instr):
    """ww_acquire_fini()."""

    def step(self, s, a):
        lst = list(s)
        lst[self.sys.L.WW] = tuple(b for b in s[self.sys.L.WW] if b != a)
        self.sys.pop_held(lst, a, -1)
        return [self.move(s, a, self.nxt, lst=lst, label="ww_acquire_fini")]


class Unlock(Instr):
    def step(self, s, a):
        sys, lst, found = self.sys, list(s), []
        shared = self.stmt.mode == "shared"
        for l in self.stmt.objs:
            if not sys.untake(lst, a, l, shared):
                name = sys.m.locks[l].name
                found.append(("unlock-not-held", (self.pc, l),
                              f"{sys.actor(a)} unlocks {name}{' shared' if shared else ''} "
                              f"without holding it (line {self.stmt.line})"))
        return [self.move(s, a, self.nxt, lst=lst, found=tuple(found))]
