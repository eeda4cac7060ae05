"""Partial-order reduction: which actors' steps a state must expand.

Each statement touches a few objects: a lock, a fence, a resv list, an
engine's slots, a variable, the irq flag, whether an actor has finished.
Two steps of different actors that touch no common object, or only read
it, commute and neither enables nor disables the other (independent).

At a state, `persistent` starts from one enabled actor and adds every
actor whose *future* (any statement its code can still reach, hooks
included) conflicts with the current statement of an actor already in the
set.  Whatever the actors left out do, they cannot touch what the set's
current statements touch, nor enable a blocked one of them: expanding only
the set's steps is a persistent set (Godefroid).  Of all seeds, the set with
the fewest enabled actors is taken.  Two more conditions:

- visibility: a set whose step writes what an invariant or a `reachable`
  reads is not used;
- cycle proviso: a state with a step into an already visited state is
  expanded fully (every cycle of the reduced graph has a full state), so no
  actor's step is postponed for ever.

Then every step possible in the full graph from a reached state is taken
in the reduced graph from a reached state, reading the same objects: the
same step findings, the same lock contexts at every acquisition (the
lock-order `deps`), and "actor a never moves again from s" is the same on
both graphs for every state both have (deadlocks).

Expanding a state fully is always allowed, so when after `REDUCTION_TRIAL`
states the reduction is seen to save next to nothing, the explorer stops
asking for it.

Fair cycles (indefinite-fence) and `wait ... timeout` (timeout-hang) are
questions this argument does not settle, so a spec where they can arise
(a published fence and a loop, or a timeout wait) is expanded fully.
Shortest traces are not preserved by any such reduction: when the reduced
search finds anything, `api` searches again without it (see README).
"""
from __future__ import annotations

from functools import reduce
from operator import or_

from ..semantics import (DONE, Acquire, Alloc, Assert, Assign, Await, Branch, Choose, Fault,
                        HookReturn, Interrupt, Jump, Lock, MmapWriter, Publish, Release, Signal,
                        Start, System, Trylock, Unlock, Wait, WaitAny, Woken,
                        CancelWait, CancelWork, FlushWait, FlushWork, FlushWorkqueue, QueueWork,
                        WorkStart, WwBegin, WwEnd)


SAMPLE = 5000           # left-out steps whose targets are looked up to judge the reduction


class Reduction:
    def __init__(self, sys: System):
        self.sys = sys
        self.bits: dict = {}              # object -> bit
        self.why_off = self._why_off()
        if self.why_off:
            return
        m, A = sys.m, sys.L.A
        self.invariant_reads = 0
        for _name, e, _line in m.invariants + m.reachables:    # both are visible
            self.invariant_reads |= self._expr_reads(e)
        self.own = [self._actor_graph(a) for a in range(A)]      # pc -> next pcs, per actor
        self.fp = [{pc: self._footprint(a, pc) for pc in g} for a, g in enumerate(self.own)]
        self._queued_bodies()
        self.future = [self._futures(a) for a in range(A)]       # pc -> (reads, writes)
        self.conflict: dict = {}
        self.skipped, self.sample, self.saved = 0, [], 0    # steps left out; some of their targets

    # -- where reduction is safe
    def _why_off(self) -> str:
        code = self.sys.code
        if self.sys.L.irqs:
            return "an irq handler (it may land in any thread whose interrupts are on)"
        if any(isinstance(ins, Wait) and ins.mode == "timeout" for ins in code):
            return "a timeout wait (timeout-hang needs the full graph)"
        loops = any(isinstance(ins, Jump) and ins.stmt.op == "restart" or
                    isinstance(ins, Branch) and ins.stmt.op == "while" for ins in code)
        if loops and any(isinstance(ins, Publish) for ins in code):
            return "a loop and a published fence (fair cycles need the full graph)"
        if self._work_cycle() and any(isinstance(ins, Publish) for ins in code):
            return "a work item that queues itself again and a published fence " \
                   "(fair cycles need the full graph)"
        return ""

    def _work_cycle(self) -> bool:
        """Can a work item's body (hooks included) queue, through others, itself again?"""
        sys = self.sys
        queues = {}
        for a, actor in enumerate(sys.m.actors):
            if actor.kind == "work":
                graph = self._actor_graph(a)
                queues[a] = {sys.code[pc].w for pc in graph if isinstance(sys.code[pc], QueueWork)}
        for a in queues:
            seen, todo = set(), list(queues[a])
            while todo:
                b = todo.pop()
                if b == a:
                    return True
                if b not in seen:
                    seen.add(b)
                    todo.extend(queues.get(b, ()))
        return False

    def _queued_bodies(self) -> None:
        """A work item may run again whenever it is queued: every pc of it has
        its whole body as future, and a queue_work's footprint holds the
        queued item's body too (to a fixpoint: bodies queue others)."""
        sys, A = self.sys, self.sys.L.A
        body = [None] * A
        for a in range(A):
            if sys.m.actors[a].kind == "work":
                r = w = 0
                for pr, pw, _g in self.fp[a].values():
                    r, w = r | pr, w | pw
                body[a] = (r, w)
        changed = True
        while changed:
            changed = False
            for a in range(A):
                for pc, (r, w, g) in self.fp[a].items():
                    ins = sys.code[pc]
                    if isinstance(ins, QueueWork) and body[ins.w] is not None:
                        br, bw = body[ins.w]
                        if (r | br, w | bw) != (r, w):
                            self.fp[a][pc] = (r | br, w | bw, g)
                            changed = True
                            if body[a] is not None:
                                body[a] = (body[a][0] | br, body[a][1] | bw)

    # -- what each statement touches, as bitmasks over objects
    def _bit(self, *obj) -> int:
        b = self.bits.get(obj)
        if b is None:
            b = self.bits[obj] = 1 << len(self.bits)
        return b

    def _expr_reads(self, e) -> int:
        tag = e[0]
        if tag == "var":
            return self._bit("var", e[1])
        if tag in ("signalled", "errored", "published"):
            return self._bit("fence", e[1])
        if tag == "held":
            return self._bit("lock", e[1])
        if tag in ("pending", "running"):
            return self._bit("wq", self.sys.m.actors[e[1]].wq)
        if tag == "done":
            out = 0
            for a in e[1]:
                out |= self._bit("done", a)
            return out
        out = 0
        for x in e[1:]:
            for y in (x if isinstance(x, list) else [x]):
                if isinstance(y, tuple):
                    out |= self._expr_reads(y)
        return out

    def next_pcs(self, pc: int) -> set:
        """Where the actor at pc may be after its next step (or an interrupt)."""
        sys, ins = self.sys, self.sys.code[pc]
        out = set(ins.next_pcs())
        if isinstance(ins, Wait):
            out |= {sys.hooks[sys.code[site].calls][0] for site in ins.enable_sites.values()}
        elif isinstance(ins, Start):
            out |= {sys.hooks[sys.code[site].calls][0] for site in ins.enable_sites.values()}
        elif isinstance(ins, Signal):
            out |= {sys.hooks[sys.m.fence_event("signal", g)][0] for g in ins.fires
                    if g in sys.fence_sites["signal"]}
        elif isinstance(ins, HookReturn) and ins.chained:    # the next fence's callbacks, or back
            out = {sys.hooks[sys.m.fence_event("signal", g)][0] for g in sys.fence_sites["signal"]}
            out |= {c.nxt for c in sys.code if isinstance(c, Signal)}
        elif isinstance(ins, HookReturn):
            out = {c.nxt for c in sys.code if c.calls == ins.event}
        if ins.calls:
            out.add(sys.hooks[ins.calls][0])
        return out

    def _actor_graph(self, a: int) -> dict:
        """pc -> next pcs over the code actor a can run; a hook returns only
        to the call sites of a's own code."""
        graph, todo = {}, [self.sys.starts[a]]
        while todo:
            pc = todo.pop()
            if pc == DONE or pc in graph:
                continue
            graph[pc] = self.next_pcs(pc)
            todo.extend(graph[pc])
        sites = {pc for pc in graph if self.sys.code[pc].calls}
        for pc, nxt in graph.items():
            ins = self.sys.code[pc]
            if isinstance(ins, HookReturn) and ins.chained:
                graph[pc] = {p for p in nxt if p in graph or p == DONE}
            elif isinstance(ins, HookReturn) and ins.event.startswith("enable_signaling "):
                graph[pc] = {p for p in nxt if p in graph}
            elif isinstance(ins, HookReturn):
                graph[pc] = {self.sys.code[s].nxt for s in sites if self.sys.code[s].calls == ins.event}
        return graph

    def _footprint(self, a: int, pc: int) -> tuple[int, int, bool]:
        """(reads, writes, touches everything) of actor a's statement at pc."""
        sys, ins, b = self.sys, self.sys.code[pc], self._bit
        m = sys.m
        r = w = 0
        if isinstance(ins, Interrupt):
            return 0, 0, True                  # moves other actors' pcs
        if isinstance(ins, (WwBegin, WwEnd)) or isinstance(ins, Lock) and ins.ww_restart is not None:
            return 0, 0, True                  # ww ages, and a backoff drops every resv held
        if isinstance(ins, (Lock, Unlock)):
            for l in ins.stmt.objs:
                w |= b("lock", l)
            if isinstance(ins, Lock) and ins.shared:
                for l in ins.stmt.objs:
                    r |= b("writer", l)
        elif isinstance(ins, Trylock):
            w |= b("lock", ins.l)
            if ins.shared:
                r |= b("writer", ins.l)
        elif isinstance(ins, Signal):
            f = ins.stmt.objs[0]
            for g in ins.fires:                    # f and the containers it may complete
                w |= b("fence", g)
                for p in m.fences[g].parts:
                    r |= b("fence", p)
            for d in m.fences[f].after:
                r |= b("fence", d)
        elif isinstance(ins, Wait):
            for g in ins.enable_sites:             # enable_signaling marks the fence
                w |= b("fence", g)
            if ins.fence is not None:
                r |= b("fence", ins.fence)
            else:
                r |= b("resv", ins.resv)
                for f in range(len(m.fences)):
                    r |= b("fence", f)
            if ins.mode == "interruptible":
                r |= b("irq")
        elif isinstance(ins, WaitAny):
            for f in range(len(m.fences)):
                r |= b("fence", f)
        elif isinstance(ins, Publish):
            w |= b("fence", ins.stmt.objs[0])
            if ins.stmt.op == "publish_in":
                w |= b("resv", m.locks[ins.stmt.objs[1]].resv)
        elif isinstance(ins, MmapWriter):
            w |= b("lock", sys.MMAP)
        elif isinstance(ins, Fault):
            if m.actors[a].preemptible:
                w |= b("engine", m.actors[a].engine)
        elif isinstance(ins, HookReturn):
            if ins.event in ("fork", "munmap"):
                w |= b("lock", sys.MMAP)
            elif ins.event == "fault" and m.actors[a].preemptible:
                w |= b("engine", m.actors[a].engine)
        elif isinstance(ins, Start):
            w |= b("engine", ins.engine)
            for d in ins.deps:
                r |= b("fence", d)
            for g in ins.enable_sites:
                w |= b("fence", g)
        elif isinstance(ins, (Acquire, Release)):
            w |= b("engine", ins.stmt.objs[0])
        elif isinstance(ins, Assign):
            w |= b("var", ins.stmt.objs[0])
            r |= self._expr_reads(ins.stmt.expr)
        elif isinstance(ins, (Await, Assert, Branch)):
            r |= self._expr_reads(ins.stmt.expr)
        elif isinstance(ins, (QueueWork, CancelWork)):
            w |= b("wq", m.actors[ins.w].wq)
        elif isinstance(ins, FlushWorkqueue):
            r |= b("wq", ins.q)
        elif isinstance(ins, (FlushWork, CancelWait)):
            r |= b("wq", m.actors[ins.w].wq)
        elif isinstance(ins, FlushWait):           # its barriers: what the items' runs change
            flush = ins.flush
            r |= b("wq", flush.q if isinstance(flush, FlushWorkqueue) else m.actors[flush.w].wq)
        elif isinstance(ins, WorkStart):
            w |= b("wq", ins.q)
        else:
            assert isinstance(ins, (Alloc, Choose, Jump, Woken)), type(ins)   # actor-local
        nxt = self.own[a][pc]
        if DONE in nxt:
            w |= b("done", a)
            if m.actors[a].kind == "job":
                w |= b("engine", m.actors[a].engine)
            if m.actors[a].kind == "work":                # not running; maybe pending again
                w |= b("wq", m.actors[a].wq)
        for l, writers in sys.writer_pcs.items():   # a writer queued at an rwsem
            if pc in writers or nxt & writers:
                w |= b("writer", l)
        return r, w, False

    def _futures(self, a: int) -> dict:
        """pc -> (reads, writes, touches everything) of every statement a can
        still run: each pc's footprint joined with its successors' futures,
        in post-order until nothing changes (one pass without loops), so a
        long body costs linear time, not a walk per statement.  A work item may
        be queued again: its future is its whole body, everywhere."""
        graph, fp = self.own[a], self.fp[a]
        if self.sys.m.actors[a].kind == "work":    # queued again: its whole body, everywhere
            whole = (reduce(or_, (x[0] for x in fp.values()), 0),
                     reduce(or_, (x[1] for x in fp.values()), 0),
                     any(x[2] for x in fp.values()))
            return {pc: whole for pc in graph}
        order, seen = [], set()
        for root in graph:                      # iterative DFS post-order
            if root in seen:
                continue
            seen.add(root)
            stack = [(root, iter(graph[root]))]
            while stack:
                p, it = stack[-1]
                for q in it:
                    if q != DONE and q in graph and q not in seen:
                        seen.add(q)
                        stack.append((q, iter(graph[q])))
                        break
                else:
                    stack.pop()
                    order.append(p)
        out = {p: fp[p] for p in order}
        changed = True
        while changed:
            changed = False
            for p in order:
                r, w, glob = out[p]
                for q in graph[p]:
                    if q != DONE and q in out:
                        qr, qw, qg = out[q]
                        r, w, glob = r | qr, w | qw, glob or qg
                if (r, w, glob) != out[p]:
                    out[p] = (r, w, glob)
                    changed = True
        return out

    # -- per state
    def _conflicting(self, x: int, px: int) -> list:
        """[(b, bitmask of the pcs of b whose future conflicts with x's statement at px)]."""
        key = (x, px)
        out = self.conflict.get(key)
        if out is None:
            r, w, g = self.fp[x][px]
            out = []
            for b, futures in enumerate(self.future):
                if b == x:
                    continue
                mask = 0
                for pb, (fr, fw, fg) in futures.items():
                    if g or fg or w & (fr | fw) or r & fw:
                        mask |= 1 << pb
                if mask:
                    out.append((b, mask))
            self.conflict[key] = out
        return out

    def split(self, s: tuple, steps: list) -> tuple[list, list]:
        """[(actor, outcomes)] -> (those to expand, those left out)."""
        if len(steps) < 2:
            return steps, []
        keep = self.persistent(s, [a for a, _ in steps])
        if len(keep) == len(steps):
            return steps, []
        return [x for x in steps if x[0] in keep], [x for x in steps if x[0] not in keep]

    def note_left_out(self, rest: list, sym) -> None:
        for _a, outs in rest:
            self.skipped += len(outs)
            if len(self.sample) < SAMPLE:
                self.sample.extend(sym.canon(o[0])[0] if sym else o[0] for o in outs)

    def worth_it(self, known, states: int) -> bool:
        """Did leaving steps out save at least 1 in 20 of the states so far?
        Estimated from a sample: the states its left-out steps lead to that
        are still unknown."""
        unseen = sum(not known(t) for t in self.sample)
        self.saved = self.skipped * unseen // max(len(self.sample), 1)
        return self.saved * 20 >= states

    def persistent(self, s: tuple, enabled: list) -> set:
        """The actors to expand at s (a subset of `enabled`, never empty)."""
        best = set(enabled)
        for seed in enabled:
            group, work = {seed}, [seed]
            while work:
                x = work.pop()
                for b, pcs in self._conflicting(x, s[x]):
                    if b not in group and s[b] >= 0 and pcs >> s[b] & 1:
                        group.add(b)
                        work.append(b)
            chosen = group.intersection(enabled)
            if len(chosen) < len(best) and not any(self.fp[a][s[a]][1] & self.invariant_reads
                                                   for a in chosen):
                best = chosen
                if len(best) == 1:
                    break
        return best

