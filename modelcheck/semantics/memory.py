"""Memory: allocations that enter reclaim, fork/munmap, page faults, and the return from hooks."""
from __future__ import annotations

from ..language.model import Stmt, hook_event
from .base import DONE, NORECLAIM, Instr
from .callbacks import callbacks_return


class Alloc(Instr):
    """alloc kernel/nofs/noio may enter direct reclaim (never from inside it);
    alloc nowait/atomic never does."""
    nests = True            # fs_reclaim_acquire(): the notifier map under fs_reclaim

    def __init__(self, sys, stmt, nxt, sig):
        super().__init__(sys, stmt, nxt, sig)
        gfp = stmt.mode
        self.reclaims = hook_event(stmt) == "reclaim"
        self.may_sleep = self.reclaims
        self.calls = "reclaim" if self.reclaims and "reclaim" in sys.events else None
        self.acquires = ((("fs_reclaim", "w"),) if gfp == "kernel" else ()) + \
            ((("mmu_notifier", "w"),) if self.reclaims else ())

    def step(self, s, a):
        outs = [self.move(s, a, self.nxt, "allocation succeeds" if self.calls else "")]
        if self.calls and not self.sys.inside(s, a, "reclaim") and \
                not self.sys.scope(s, a, self.pc) & NORECLAIM:      # PF_MEMALLOC
            outs.append(self.sys.call(s, a, self, "reclaim", "enters reclaim"))
        return outs


class MmapWriter(Instr):
    """fork / munmap: take mmap_lock for write, run the hooks, release it."""
    may_sleep = True
    nests = True            # mmu_notifier_invalidate_range_start() under mmap_lock

    def __init__(self, sys, stmt, nxt, sig):
        super().__init__(sys, stmt, nxt, sig)
        self.event = stmt.op
        self.calls = self.event if self.event in sys.events else None
        # mmu_notifier_invalidate_range_start() takes its map whether or not notifiers exist
        self.acquires = (("mmap_lock", "w"), ("mmu_notifier", "w"))

    def step(self, s, a):
        sys = self.sys
        if not sys.can_take(s, a, sys.MMAP, False):
            return []
        if not self.calls:
            return [self.move(s, a, self.nxt, "takes and releases mmap_lock")]
        lst = list(s)
        sys.take(lst, a, sys.MMAP, False)
        return [sys.call(lst, a, self, self.event, f"runs the {self.event} hooks")]

    def blocked_on(self, s, a):
        return [("lock", self.sys.MMAP)]


class Fault(Instr):
    """fault: runs the fault hooks; a preemptible job gives its slot back meanwhile."""
    may_sleep = True

    def __init__(self, sys, stmt, nxt, sig):
        super().__init__(sys, stmt, nxt, sig)
        self.calls = "fault" if "fault" in sys.events else None

    def step(self, s, a):
        sys = self.sys
        if not self.calls or sys.inside(s, a, "fault"):
            return [self.move(s, a, self.nxt, "resolved without the fault handler")]
        lst = list(s)
        actor = sys.m.actors[a]
        label = "enters the fault handler"
        if actor.preemptible and sys.holds_slot(s, a, actor.engine):
            sys.give_slot(lst, a, actor.engine)
            label += ", preempted"
        return [sys.call(lst, a, self, "fault", label)]


class HookReturn(Instr):
    """The end of an event's hooks: back to the statement after the call site.
    fork/munmap release mmap_lock; a preempted job needs a slot again."""

    def __init__(self, sys, event):
        super().__init__(sys, Stmt("return", 0, f"end of {event} hooks"), DONE, 0)
        self.event = event
        self.chained = event.startswith("signal ")    # callbacks: on to the next fence's

    def step(self, s, a):
        sys = self.sys
        if self.chained:
            return [callbacks_return(sys, s, a, self.event)]
        site = s[sys.L.STK + a][-1]
        lst = list(s)
        lst[sys.L.STK + a] = s[sys.L.STK + a][:-1]
        label = f"leaves {self.event}"
        if self.event in ("fork", "munmap"):
            lst[sys.L.LK + sys.MMAP] = 0
            sys.pop_held(lst, a, sys.MMAP)
        elif self.event == "fault":
            actor = sys.m.actors[a]
            if actor.preemptible and actor.engine >= 0 and not sys.holds_slot(s, a, actor.engine):
                if not sys.slot_free(s, actor.engine):
                    return []
                sys.take_slot(lst, a, actor.engine)
                label += ", resumes"
        return [sys.move(lst, a, sys.code[site].nxt, label)]

    def blocked_on(self, s, a):
        actor = self.sys.m.actors[a]          # only a preempted job waits here, for its slot
        return [("engine", actor.engine)] if actor.preemptible and actor.engine >= 0 else []
