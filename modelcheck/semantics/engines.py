"""Engines: job slots on shared hardware."""
from __future__ import annotations

from ..language.model import Stmt
from .base import Instr
from .callbacks import enable_first


class Start(Instr):
    """A job's first step: it waits for a free slot of its engine and holds it to the end."""
    may_sleep = True

    def __init__(self, sys, actor, nxt):
        super().__init__(sys, Stmt("start", actor.line, f"job {actor.name} on "
                                   f"{sys.m.engines[actor.engine].name}"), nxt, 0)
        self.engine = actor.engine
        self.deps = actor.deps
        self.enable_sites: dict = {}      # dependencies' enable_signaling frames (System)
        if actor.deps:
            self.stmt = Stmt("start", actor.line, self.stmt.text + " after " +
                             ", ".join(sys.m.fences[d].name for d in actor.deps))

    def step(self, s, a):
        if self.deps and not self.sys.deps_signalled(s, a):
            # drm_sched: not runnable before its dependencies; the scheduler adds a
            # callback to the first unsignalled one, which enables its signalling
            FN = self.sys.L.FN
            if self.enable_sites:
                out = enable_first(self.sys, s, a, self,
                                   [d for d in self.deps if not s[FN + d] & 3])
                if out is not None:
                    return [out]
            return []
        if not self.sys.slot_free(s, self.engine):
            return []
        lst = list(s)
        self.sys.take_slot(lst, a, self.engine)
        return [self.move(s, a, self.nxt, "starts", lst=lst)]

    def blocked_on(self, s, a):
        FN = self.sys.L.FN
        waits = [("fence", d) for d in self.deps if not s[FN + d] & 3]
        return waits or [("engine", self.engine)]


class Acquire(Instr):
    may_sleep = True

    def step(self, s, a):
        e = self.stmt.objs[0]
        if not self.sys.slot_free(s, e):
            return []
        lst = list(s)
        self.sys.take_slot(lst, a, e)
        return [self.move(s, a, self.nxt, lst=lst)]

    def blocked_on(self, s, a):
        return [("engine", self.stmt.objs[0])]


class Release(Instr):
    def step(self, s, a):
        sys, e = self.sys, self.stmt.objs[0]
        if not sys.holds_slot(s, a, e):
            return [self.move(s, a, self.nxt, found=(("unlock-not-held", (self.pc, "engine", e),
                    f"{sys.actor(a)} releases a slot of {sys.m.engines[e].name} it does not hold "
                    f"(line {self.stmt.line})"),))]
        lst = list(s)
        sys.give_slot(lst, a, e)
        return [self.move(s, a, self.nxt, lst=lst)]
