"""Work items and workqueues: queue_work, flush_work, cancel_work_sync,
flush_workqueue, and a worker picking a pending item up.

A work item is an actor of its own (`Actor.kind == "work"`).  Its pc says
whether it runs: DONE while idle, its `WorkStart` while pending and not
running, a pc of its body while running.  Pending is membership of the
workqueue's component (`Layout.WQ`): the items queued and not yet started,
in queueing order on an ordered workqueue, sorted on another.  An item queued while it runs is pending and running at
once; when its body ends it goes back to its `WorkStart` (see
`System.move`), so it runs once more.  The lockdep classes are the kernel's:
process_one_work() holds `(wq_completion)WQ` and `(work_completion)(W)`
around the body; __flush_work() takes the item's map, start_flush_work()
the workqueue's when it is ordered (max_active 1), flush_workqueue() the
workqueue's.
"""
from __future__ import annotations

from ..language.model import Stmt
from .base import DONE, Instr


def work_class(name: str) -> str:
    """One class per `work` declaration, as one per INIT_WORK() site: the
    copies w[0], w[1] share `(work_completion)(w)`."""
    return f"(work_completion)({name.split('[')[0]})"


def wq_class(name: str) -> str:
    return f"(wq_completion){name}"


class WorkStart(Instr):
    """A worker picks a pending item up: it leaves the queue and its body
    starts.  On an ordered workqueue, only the oldest pending item and only
    when no item of that workqueue runs.  process_one_work() takes the
    workqueue's map and, under it, the item's: the dependency
    (wq_completion) -> (work_completion) that flush_workqueue() cycles use."""
    nests = True

    def __init__(self, sys, actor, nxt):
        wq = sys.m.workqueues[actor.wq]
        super().__init__(sys, Stmt("start", actor.line, f"work {actor.name} on {wq.name}"), nxt, 0)
        self.q, self.ordered = actor.wq, wq.ordered
        self.acquires = ((wq_class(wq.name), "w"), (work_class(actor.name), "w"))

    def step(self, s, a):
        sys = self.sys
        queue = s[sys.L.WQ + self.q]
        if self.ordered and self.blocked_on(s, a):
            return []
        lst = list(s)
        lst[sys.L.WQ + self.q] = tuple(x for x in queue if x != a)
        if sys.m.uses_flush:                      # flushes behind the pending instance: now its run
            sys.barriers(lst, a, 0, 1)
        return [self.move(s, a, self.nxt, "starts running", lst=lst)]

    def blocked_on(self, s, a):
        sys = self.sys
        if not self.ordered:
            return []
        running = [b for b in sys.work_items[self.q] if b != a and sys.running(s, b)]
        if running:
            return [("work", running[0])]
        head = s[sys.L.WQ + self.q][0]
        return [("work", head)] if head != a else []


class QueueWork(Instr):
    """queue_work W: W becomes pending unless it is pending already, or a
    cancel_work_sync of it is under way (it owns W's PENDING bit)."""

    def __init__(self, sys, stmt, nxt, sig):
        super().__init__(sys, stmt, nxt, sig)
        self.w = stmt.objs[0]
        self.q = sys.m.actors[self.w].wq
        self.ordered = sys.m.workqueues[self.q].ordered

    def step(self, s, a):
        sys, w = self.sys, self.w
        name = sys.actor(w)
        if sys.pending(s, w):
            return [self.move(s, a, self.nxt, f"{name} already pending: no effect")]
        if any(s[sys.L.PC + b] in sys.cancel_waits.get(w, ()) for b in range(sys.L.A)):
            return [self.move(s, a, self.nxt, f"{name} being cancelled: not queued")]
        lst = list(s)
        queue = s[sys.L.WQ + self.q] + (w,)         # unordered: the order is no part of the state
        lst[sys.L.WQ + self.q] = queue if self.ordered else tuple(sorted(queue))
        if s[sys.L.PC + w] == DONE:
            lst[sys.L.PC + w] = sys.starts[w]
        return [self.move(s, a, self.nxt, lst=lst)]


class Flush(Instr):
    """A flush returns at once when what it flushes is idle.  Otherwise it
    queues a barrier behind each busy item's last queued instance (the
    pending one, else the running one), as start_flush_work() does, and
    waits for them at `FlushWait`: an item is "idle on return if it hasn't
    been requeued since flush started" (kernel/workqueue.c), so an item that
    queues itself again is not waited for twice."""
    may_sleep = True
    wait_pc = None                           # set by System: the FlushWait of this statement

    def busy(self, s) -> list:
        raise NotImplementedError

    def next_pcs(self):
        return (self.nxt, self.wait_pc)

    def step(self, s, a):
        busy = self.busy(s)
        if not busy:
            return [self.move(s, a, self.nxt)]
        lst = list(s)
        lst[self.sys.L.FB + a] = tuple(sorted(self.sys.barrier(s, w) for w in busy))
        return [self.move(s, a, self.wait_pc, "waits for " + ", ".join(
            f"{self.sys.actor(w)} to {'run' if self.sys.pending(s, w) else 'finish its run'}"
            for w in busy), lst=lst)]


class FlushWork(Flush):
    """flush_work W."""

    def __init__(self, sys, stmt, nxt, sig):
        super().__init__(sys, stmt, nxt, sig)
        self.w = stmt.objs[0]
        actor = sys.m.actors[self.w]
        wq = sys.m.workqueues[actor.wq]
        self.acquires = ((work_class(actor.name), "w"),) + \
            (((wq_class(wq.name), "w"),) if wq.ordered else ())

    def busy(self, s) -> list:
        return [self.w] if self.sys.busy(s, self.w) else []


class CancelWork(Instr):
    """cancel_work_sync W: W is no longer pending; when it runs, wait for it
    (at `CancelWait`, while which W cannot be queued again)."""
    may_sleep = True

    def __init__(self, sys, stmt, nxt, sig):
        super().__init__(sys, stmt, nxt, sig)
        self.w = stmt.objs[0]
        self.q = sys.m.actors[self.w].wq
        self.acquires = ((work_class(sys.m.actors[self.w].name), "w"),)
        self.wait_pc = None                  # set by System: the CancelWait of this statement

    def next_pcs(self):
        return (self.nxt, self.wait_pc)

    def step(self, s, a):
        sys, w = self.sys, self.w
        lst = list(s)
        label = ""
        if sys.pending(s, w):
            lst[sys.L.WQ + self.q] = tuple(x for x in s[sys.L.WQ + self.q] if x != w)
            label = f"{sys.actor(w)} no longer pending"
            if sys.m.uses_flush:                  # a barrier behind it runs: that flush is through
                sys.barriers(lst, w, 0, None)
        if s[sys.L.PC + w] == sys.starts[w]:
            lst[sys.L.PC + w] = DONE
        if sys.running(s, w):
            return [self.move(s, a, self.wait_pc, label or f"{sys.actor(w)} running: waits for it", lst=lst)]
        return [self.move(s, a, self.nxt, label, lst=lst)]


class CancelWait(Instr):
    """The second half of cancel_work_sync: wait until W is not running."""
    may_sleep = True

    def __init__(self, sys, cancel: CancelWork):
        super().__init__(sys, cancel.stmt, cancel.nxt, cancel.sig)
        self.w = cancel.w

    def step(self, s, a):
        return [] if self.sys.running(s, self.w) else [self.move(s, a, self.nxt)]

    def blocked_on(self, s, a):
        return [("work", self.w)] if self.sys.running(s, self.w) else []


class FlushWorkqueue(Flush):
    """flush_workqueue WQ: every item of WQ pending or running when it
    starts, each as flush_work would (the flush colours of
    kernel/workqueue.c: what is queued after it is not waited for)."""

    def __init__(self, sys, stmt, nxt, sig):
        super().__init__(sys, stmt, nxt, sig)
        self.q = stmt.objs[0]
        self.acquires = ((wq_class(sys.m.workqueues[self.q].name), "w"),)

    def busy(self, s) -> list:
        return [w for w in self.sys.work_items[self.q] if self.sys.busy(s, w)]


class FlushWait(Instr):
    """The second half of a flush: wait until the runs it is behind are over."""
    may_sleep = True

    def __init__(self, sys, flush: Flush):
        super().__init__(sys, flush.stmt, flush.nxt, flush.sig)
        self.flush = flush

    def step(self, s, a):
        return [] if s[self.sys.L.FB + a] else [self.move(s, a, self.nxt, "the flush is done")]

    def blocked_on(self, s, a):
        return [("work", x >> 1) for x in s[self.sys.L.FB + a]][:1]
