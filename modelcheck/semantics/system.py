"""The compiled transition system: statements -> instructions, and the
helpers instructions share."""
from __future__ import annotations

from typing import Callable

from ..language.model import BINOPS, USAGES, Model, Stmt
from .base import (DONE, ERRORED, MEMALLOC, NOFS, NOFS_SCOPE, NOIO_SCOPE, NORECLAIM, PUBLISHED,
                   Instr, Layout, held_token, token_lock)
from .locks import Lock, Trylock, Unlock, WwBegin, WwEnd
from .fences import Signal, Wait, Woken, WaitAny, Publish, Interrupt
from .memory import Alloc, MmapWriter, Fault, HookReturn
from .callbacks import FenceSite, fence_class
from .engines import Start, Acquire, Release
from .control import Assign, Await, Assert, Branch, Choose, Jump
from .irq import HARDIRQ, IRQS_OFF, IrqFire, can_host, irqs_off

MAX_READ_DEPTH = 4      # read holds of one rwsem by one actor; a deeper down_read blocks
from .work import (CancelWait, CancelWork, FlushWait, FlushWork, FlushWorkqueue, QueueWork, WorkStart,
                   work_class, wq_class)

SCOPES = {"noreclaim": NORECLAIM, "nofs": NOFS_SCOPE, "noio": NOIO_SCOPE}


# ----------------------------------------------------------------- the system

class System:
    """The compiled transition system of one model (stateright's `Model`):
    `initial`, `successors`, `invariant_failures`, and what reports need."""

    def __init__(self, m: Model):
        self.m = m
        self.L = Layout(m)
        self.MMAP = 0                                   # mmap_lock is lock 0
        self.spinlocks = [i for i, l in enumerate(m.locks) if l.kind == "spinlock"]
        self.code: list[Instr] = []
        self.events = {e for e, bodies in m.hooks.items() if bodies}   # events with hooks
        self.hooks: dict[str, tuple[int, int]] = {}      # event -> (entry pc, return pc)
        self.starts: list[int] = []
        self.actor_code: list[range] = []               # actor -> the pcs of its own code
        self.writer_pcs: dict[int, set] = {}            # rwsem -> pcs that take it for write
        self.work_items = [[a for a, actor in enumerate(m.actors) if actor.wq == q]
                           for q in range(len(m.workqueues))]
        self.cancel_waits: dict[int, set] = {}          # work item -> pcs where a cancel waits for it
        self._scope = 0                                 # scope flags of the code being compiled
        # fence hooks: kind -> {fence: pc of its FenceSite frame}; see callbacks.py
        self.fence_sites: dict[str, dict[int, int]] = {"signal": {}, "enable_signaling": {}}
        self.hook_fence = None                          # (kind, fence) of the hook being compiled
        self._compile()
        self.invariants = [(name, self.expr(e), line) for name, e, line in m.invariants]
        self.reachables = [(name, self.expr(e), line) for name, e, line in m.reachables]
        # pcs lockdep looks at; with irq handlers trylocks too (they mark usage, irqstate.py)
        self.acquiring = [bool(ins.acquires) or bool(self.L.irqs) and isinstance(ins, Trylock)
                          for ins in self.code]
        self.acquiring_at = self.acquiring + [False]     # ... indexable by DONE (-1) too
        for ins in self.code:
            if ins.site is None:
                ins.site = ins.pc

    # -- compiling
    def _emit(self, instr: Instr) -> int:
        instr.pc = len(self.code)
        instr.scope = self._scope
        self.code.append(instr)
        return instr.pc

    def _same_statement(self, pcs, site: int) -> None:
        for pc in pcs:
            self.code[pc].site = site

    def _compile(self) -> None:
        for f in range(len(self.m.fences)):           # known before any Signal or Wait compiles
            for kind in ("signal", "enable_signaling"):
                if self.m.hooks.get(self.m.fence_event(kind, f)):
                    self.fence_sites[kind][f] = None
        for event in ("reclaim", "fork", "munmap", "fault"):
            bodies = self.m.hooks.get(event)
            if bodies:
                ret = self._emit(HookReturn(self, event))
                entry = ret
                for body in reversed(bodies):            # `return` ends one hook: on to the next
                    entry = self._block(body, entry, ret=entry, restart=None, sig=0)
                self.hooks[event] = (entry, ret)
        for f in range(len(self.m.fences)):           # on signal F / on enable_signaling F
            for kind in ("signal", "enable_signaling"):
                event = self.m.fence_event(kind, f)
                bodies = self.m.hooks.get(event)
                if bodies:
                    ret = self._emit(HookReturn(self, event))
                    entry = ret
                    self.hook_fence = (kind, f)
                    for body in reversed(bodies):
                        entry = self._block(body, entry, ret=entry, restart=None, sig=0)
                    self.hook_fence = None
                    self.hooks[event] = (entry, ret)
                    if kind == "signal":            # enable_signaling: a frame per wait (_wait)
                        self.fence_sites[kind][f] = self._emit(FenceSite(self, kind, f))
        for actor in self.m.actors:
            first = len(self.code)
            patch: list[Jump] = []
            body = self._block(actor.body, DONE, ret=DONE, restart=patch, sig=0)
            for j in patch:
                j.nxt = body
            if actor.kind == "job":
                body = self._emit(Start(self, actor, body))
                self._enable_sites(self.code[body], actor.deps)
            if actor.kind == "work":
                body = self._emit(WorkStart(self, actor, body))
            if actor.kind == "irq":
                fire = IrqFire(self, actor, body)
                fire.h = self.L.irqs.index(len(self.starts))     # this actor's index
                body = self._emit(fire)
            self.starts.append(body)
            self.actor_code.append(range(first, len(self.code)))
        for pc, ins in enumerate(self.code):
            if isinstance(ins, Lock) and not ins.shared:
                for l in ins.ids:
                    self.writer_pcs.setdefault(l, set()).add(pc)
            if isinstance(ins, MmapWriter):
                self.writer_pcs.setdefault(self.MMAP, set()).add(pc)

    def _wait(self, w: Wait) -> int:
        if w.mode == "interruptible":
            w.woken_pc = self._emit(Woken(self, w))
        pc = self._emit(w)
        self._enable_sites(w, range(len(self.m.fences)) if w.fence is None else [w.fence])
        return pc

    def _enable_sites(self, w: Instr, fences) -> None:
        """The enable_signaling frames of a wait (or a job's start) for the
        fences it may wait for and their parts: their hooks return to it."""
        enables = self.fence_sites["enable_signaling"]
        for f in fences:
            for g in [f] + self.m.parts_of(f):
                if g in enables and g not in w.enable_sites:
                    w.enable_sites[g] = self._emit(FenceSite(self, "enable_signaling", g, w.pc,
                                                             w.stmt))

    def _block(self, stmts, cont: int, ret: int, restart, sig: int) -> int:
        pc = cont
        for st in reversed(stmts):
            pc = self._stmt(st, pc, ret, restart, sig)
        return pc

    def _stmt(self, st: Stmt, nxt: int, ret: int, restart, sig: int) -> int:
        op = st.op
        sub = lambda body, cont=nxt: self._block(body, cont, ret, restart, sig)
        if op == "signalling":                            # an annotation, not a step
            return self._block(st.bodies[0], nxt, ret, restart, sig + 1)
        if op == "call":                                  # a def's body inline, not a step;
            return self._block(st.bodies[0], nxt, nxt, restart, sig)   # its `return` ends the call
        if op == "lock":
            return self._emit(Lock(self, st, nxt, sig))
        if op == "ww":                                    # ww_acquire_init .. _fini
            end = self._emit(WwEnd(self, st, nxt, sig))
            first = len(self.code)
            body = sub(st.bodies[0], end)
            for ins in self.code[first:]:
                if isinstance(ins, Lock) and self.m.locks[ins.ids[0]].kind == "resv":
                    ins.ww_restart = body
            return self._emit(WwBegin(self, st, body, sig))
        if op == "unlock":
            return self._emit(Unlock(self, st, nxt, sig))
        if op == "trylock":
            return self._emit(Trylock(self, st, nxt, sig, sub(st.bodies[0])))
        if op == "signal":
            return self._emit(Signal(self, st, nxt, sig))
        if op in ("wait_fence", "wait_resv"):
            else_pc = sub(st.bodies[0]) if st.bodies else None
            key = "fence" if op == "wait_fence" else "resv"
            target = st.objs[0] if key == "fence" else self.m.locks[st.objs[0]].resv
            return self._wait(Wait(self, st, nxt, sig, else_pc, **{key: target}))
        if op == "wait_any":
            else_pc = sub(st.bodies[0]) if st.bodies else None
            picked = {f: self._wait(Wait(self, st, nxt, sig, else_pc, fence=f))
                      for f in range(len(self.m.fences))}
            pc = self._emit(WaitAny(self, st, nxt, sig, picked))
            self._same_statement(picked.values(), pc)
            return pc
        if op in ("publish", "publish_in"):
            return self._emit(Publish(self, st, nxt, sig))
        if op == "alloc":
            return self._emit(Alloc(self, st, nxt, sig))
        if op in ("fork", "munmap"):
            return self._emit(MmapWriter(self, st, nxt, sig))
        if op == "fault":
            return self._emit(Fault(self, st, nxt, sig))
        if op == "acquire":
            return self._emit(Acquire(self, st, nxt, sig))
        if op == "release":
            return self._emit(Release(self, st, nxt, sig))
        if op in ("interrupt_waits", "end_interrupt_waits"):
            return self._emit(Interrupt(self, st, nxt, sig))
        if op in SCOPES:                                  # task flags: an annotation, not a step
            outer = self._scope
            self._scope |= SCOPES[op]
            try:
                return sub(st.bodies[0])
            finally:
                self._scope = outer
        if op == "queue_work":
            return self._emit(QueueWork(self, st, nxt, sig))
        if op in ("flush_work", "flush_workqueue"):
            flush = (FlushWork if op == "flush_work" else FlushWorkqueue)(self, st, nxt, sig)
            flush.wait_pc = self._emit(FlushWait(self, flush))
            pc = self._emit(flush)
            self._same_statement([flush.wait_pc], pc)
            return pc
        if op == "cancel_work_sync":
            cancel = CancelWork(self, st, nxt, sig)
            cancel.wait_pc = self._emit(CancelWait(self, cancel))
            self.cancel_waits.setdefault(cancel.w, set()).add(cancel.wait_pc)
            pc = self._emit(cancel)
            self._same_statement([cancel.wait_pc], pc)
            return pc
        if op == "assign":
            return self._emit(Assign(self, st, nxt, sig))
        if op == "await":
            return self._emit(Await(self, st, nxt, sig))
        if op == "assert":
            return self._emit(Assert(self, st, nxt, sig))
        if op == "if":
            then_pc, else_pc = sub(st.bodies[0]), sub(st.bodies[1])
            return self._emit(Branch(self, st, else_pc, sig, then_pc))
        if op == "while":
            head = Branch(self, st, nxt, sig)
            pc = self._emit(head)
            head.then_pc = self._block(st.bodies[0], pc, ret, restart, sig)
            return pc
        if op == "choose":
            return self._emit(Choose(self, st, nxt, sig, [sub(b) for b in st.bodies]))
        if op == "return":
            return self._emit(Jump(self, st, ret, sig))
        if op == "restart":
            j = Jump(self, st, DONE, sig)
            restart.append(j)
            return self._emit(j)
        raise AssertionError(f"no semantics for {op}")      # pragma: no cover

    # -- expressions
    def expr(self, e) -> Callable[[tuple], int]:
        tag = e[0]
        L = self.L
        if tag == "int":
            v = e[1]
            return lambda s: v
        if tag == "var":
            i = L.VR + e[1]
            return lambda s: s[i]
        if tag in ("signalled", "errored", "published"):
            i = L.FN + e[1]
            if tag == "signalled":
                return lambda s: int(s[i] & 3 != 0)
            if tag == "errored":
                return lambda s: int(s[i] & 3 == ERRORED)
            return lambda s: int(s[i] & PUBLISHED != 0)
        if tag == "held":
            i = L.LK + e[1]
            return lambda s: int(s[i] != 0)
        if tag == "done":
            pcs = [L.PC + a for a in e[1]]
            return lambda s: int(all(s[i] == DONE for i in pcs))
        if tag == "pending":
            w = e[1]
            return lambda s: int(self.pending(s, w))
        if tag == "running":
            w = e[1]
            return lambda s: int(self.running(s, w))
        if tag == "not":
            f = self.expr(e[1])
            return lambda s: int(not f(s))
        if tag == "neg":
            f = self.expr(e[1])
            return lambda s: -f(s)
        if tag in ("and", "or"):
            fs = [self.expr(x) for x in e[1]]
            if tag == "and":
                return lambda s: int(all(f(s) for f in fs))
            return lambda s: int(any(f(s) for f in fs))
        if tag == "bin":
            op, f, g = BINOPS[e[1]], self.expr(e[2]), self.expr(e[3])
            if e[1] in ("/", "%"):                    # a zero divisor at run time gives 0
                return lambda s: (lambda x, y: op(x, y) if y else 0)(f(s), g(s))
            return lambda s: op(f(s), g(s))
        raise AssertionError(tag)                      # pragma: no cover

    # -- the transition system
    def initial(self) -> tuple:
        m, L = self.m, self.L
        s = [0] * L.size
        for a in range(L.A):
            s[L.PC + a] = DONE if m.actors[a].kind == "work" else self.starts[a]   # idle
            s[L.STK + a] = s[L.HO + a] = ()
            if m.uses_flush:
                s[L.FB + a] = ()
        for q in range(len(m.workqueues)):
            s[L.WQ + q] = ()
        for h in range(len(L.irqs)):
            s[L.IRQ_ON + h] = -1
        s[L.XL] = s[L.WW] = ()
        for e in range(len(m.engines)):
            s[L.EN + e] = ()
        for v, var in enumerate(m.vars):
            s[L.VR + v] = var.init
        return tuple(s)

    def successors(self, s: tuple):
        """Yield (actor, outcome) for every enabled step, actors in order."""
        code, PC = self.code, self.L.PC
        hosts = self.interrupted(s)
        for a in range(self.L.A):
            pc = s[PC + a]
            if pc != DONE and a not in hosts:
                for out in code[pc].step(s, a):
                    yield a, out

    def invariant_failures(self, s: tuple) -> list:
        return [("invariant", (name,), f'invariant "{name}" (line {line}) does not hold')
                for name, f, line in self.invariants if not f(s)]

    def move(self, s, a: int, pc: int, label: str = "", found=(), timeout: bool = False):
        """Finish a step: actor a goes to pc.  Checks what moving there means:
        finishing (slots back, locks still held) or sleeping under a spinlock."""
        lst = s if isinstance(s, list) else list(s)
        L = self.L
        lst[L.PC + a] = pc
        if pc == DONE:
            actor = self.m.actors[a]
            if actor.kind == "job" and self.holds_slot(lst, a, actor.engine):
                self.give_slot(lst, a, actor.engine)
            me, bit = -(a + 1), 1 << a
            held = [self.m.locks[l].name for l, v in enumerate(lst[L.LK:L.FN])
                    if v == me or v > 0 and v & bit]
            if self.m.engines:
                held += [f"a slot of {e.name}" for i, e in enumerate(self.m.engines)
                         if a in lst[L.EN + i]]
            if held:
                found = found + tuple(("lock-held-at-exit", (actor.name, what),
                                       f"{actor.name} finishes holding {what}") for what in held)
            if actor.kind == "irq":                  # the interrupted thread goes on
                lst[L.IRQ_ON + L.irqs.index(a)] = -1
            if actor.kind == "work" and self.m.uses_flush:       # its run is over: barriers behind it
                self.barriers(lst, a, 1, None)
            if actor.kind == "work" and a in lst[L.WQ + actor.wq]:   # queued while it ran
                lst[L.PC + a] = self.starts[a]
                label = "; ".join(x for x in (label, "pending again: runs once more") if x)
        elif (self.spinlocks or self.fence_hooks or L.irqs) and self.code[pc].may_sleep:
            spins = [self.m.locks[l].name for l in self.spinlocks if lst[L.LK + l] == -(a + 1)]
            hook = self.atomic_hook(lst, a)
            if hook is not None:
                spins.append(f"{self.m.fences[hook.fence].name}'s lock (in `on {hook.calls}`)")
            irq = self.m.actors[a].kind == "irq"
            if spins or irq:
                ins = self.code[pc]
                why = [f"holding spinlock {', '.join(spins)}"] if spins else []
                if irq:
                    why.insert(0, "in hard-irq context")
                found = found + (("sleep-in-atomic", (ins.site,),
                                  f"{self.actor(a)} may sleep at line {ins.stmt.line} "
                                  f"({ins.stmt.text}) {' '.join(why)}"),)
        return (tuple(lst), label, found, timeout)

    def call(self, s, a: int, site: Instr, event: str, label: str):
        """Enter an event's hooks inline in actor a; HookReturn comes back."""
        lst = s if isinstance(s, list) else list(s)
        lst[self.L.STK + a] = s[self.L.STK + a] + (site.pc,)
        return self.move(lst, a, self.hooks[event][0], label)

    # -- helpers shared by the instructions
    def actor(self, a: int) -> str:
        return self.m.actors[a].name

    def pending(self, s, w: int) -> bool:
        return w in s[self.L.WQ + self.m.actors[w].wq]

    def running(self, s, w: int) -> bool:
        pc = s[self.L.PC + w]
        return pc != DONE and pc != self.starts[w]

    def busy(self, s, w: int) -> bool:
        """Pending or running: what flush_work waits out."""
        return s[self.L.PC + w] != DONE

    def scope(self, s, a: int, pc: int) -> int:
        """The memalloc scope flags actor a runs pc under: the statement's own
        and those of every call site of the hooks it is in (task flags)."""
        flags = self.code[pc].scope
        for f in s[self.L.STK + a]:
            flags |= self.code[f].scope
        return flags

    @staticmethod
    def bits(mask: int):
        i = 0
        while mask:
            if mask & 1:
                yield i
            mask >>= 1
            i += 1

    def holder(self, s, l: int, a: int) -> bool:
        v = s[self.L.LK + l]
        return v == -(a + 1) or (v > 0 and bool(v >> a & 1))

    def can_take(self, s, a: int, l: int, shared: bool) -> bool:
        v = s[self.L.LK + l]
        if not shared:
            return v == 0
        if v <= 0:
            return v == 0
        if v >> a & 1 and s[self.L.XL].count(("r", l, a)) >= MAX_READ_DEPTH - 1:
            return False
        # readers hold it, maybe a itself (down_read does not know its own reader):
        # a writer already waiting goes first (rwsem writer preference)
        return self.waiting_writer(s, l, a) is None

    def waiting_writer(self, s, l: int, a: int):
        """Another actor standing at a write acquisition of rwsem l."""
        PC, writers = self.L.PC, self.writer_pcs.get(l, ())
        for b in range(self.L.A):
            if b != a and s[PC + b] in writers:
                return b
        return None

    def take(self, lst: list, a: int, l: int, shared: bool, nested: bool = False,
             trylock: bool = False) -> None:
        i = self.L.LK + l
        if shared and lst[i] > 0 and lst[i] >> a & 1:          # a recursive read hold
            lst[self.L.XL] = tuple(sorted(lst[self.L.XL] + (("r", l, a),)))
        elif nested:
            lst[self.L.XL] = tuple(sorted(lst[self.L.XL] + (("n", l),)))
        lst[i] = (lst[i] | (1 << a)) if shared else -(a + 1)
        self.push_held(lst, a, l, trylock)

    def barriers(self, lst: list, w: int, old: int, new) -> None:
        """Every flush waiting behind work item w's instance in state `old`
        (0 pending, 1 running) now waits behind it in state `new`, or is
        through with it (None): w started, its run ended, or it was cancelled."""
        FB, was = self.L.FB, 2 * w + old
        for b in range(self.L.A):
            if was in lst[FB + b]:
                rest = tuple(x for x in lst[FB + b] if x != was)
                lst[FB + b] = rest if new is None else tuple(sorted(rest + (2 * w + new,)))

    def barrier(self, s, w: int) -> int:
        """The barrier start_flush_work() queues, as held in FB: behind w's
        pending instance (2w) if there is one, else behind its run (2w + 1)."""
        return 2 * w + (0 if self.pending(s, w) else 1)

    def push_held(self, lst: list, a: int, l: int, trylock: bool = False) -> None:
        """Actor a (still at the acquiring pc) now holds l on top of the rest."""
        L = self.L
        lst[L.HO + a] = lst[L.HO + a] + (held_token(l, len(lst[L.STK + a]),
                                                     self.code[lst[L.PC + a]].sig > 0, trylock),)

    def pop_held(self, lst: list, a: int, l: int) -> None:
        """Forget the newest acquisition of l by a (lockdep releases by
        instance, wherever it sits in the stack)."""
        i = self.L.HO + a
        held = lst[i]
        for k in range(len(held) - 1, -1, -1):
            if token_lock(held[k]) == l:
                lst[i] = held[:k] + held[k + 1:]
                return

    def untake(self, lst: list, a: int, l: int, shared: bool) -> bool:
        """Release one hold of l by a (the last read hold clears a's bit);
        False when a does not hold it that way."""
        i, x = self.L.LK + l, self.L.XL
        v = lst[i]
        if shared and v > 0 and v >> a & 1:
            if ("r", l, a) in lst[x]:
                extra = list(lst[x])
                extra.remove(("r", l, a))
                lst[x] = tuple(extra)
            else:
                lst[i] = v & ~(1 << a)
            self.pop_held(lst, a, l)
            return True
        if not shared and v == -(a + 1):
            lst[i] = 0
            self.pop_held(lst, a, l)
            if ("n", l) in lst[x]:
                lst[x] = tuple(e for e in lst[x] if e != ("n", l))
            if self.L.irqs and lst[self.L.IRQ_OFF + a] >> l & 1:   # irqrestore (or irqs stay off)
                lst[self.L.IRQ_OFF + a] &= ~(1 << l)
            return True
        return False

    def lock_class(self, s, l: int) -> str:
        """Lockdep's class of lock l as held now: `lock L nested` is L/1."""
        cls = self.m.locks[l].cls
        return cls + "/1" if s[self.L.XL] and ("n", l) in s[self.L.XL] else cls

    def inside(self, s, a: int, event: str) -> bool:
        """Is actor a running the hooks of `event` (which are not re-entered)?"""
        return any(self.code[pc].calls == event for pc in s[self.L.STK + a])

    def slot_free(self, s, e: int) -> bool:
        return len(s[self.L.EN + e]) < self.m.engines[e].slots

    def holds_slot(self, s, a: int, e: int) -> bool:
        return e >= 0 and a in s[self.L.EN + e]

    def take_slot(self, lst: list, a: int, e: int) -> None:
        lst[self.L.EN + e] = tuple(sorted(lst[self.L.EN + e] + (a,)))

    def give_slot(self, lst: list, a: int, e: int) -> None:
        h = list(lst[self.L.EN + e])
        h.remove(a)
        lst[self.L.EN + e] = tuple(h)

    def where(self, s, a: int) -> tuple[int, str]:
        """(line, statement text) of what actor a does next; the step that
        leaves a hook is shown at the statement that ran the hook."""
        pc = s[self.L.PC + a]
        if pc == DONE:
            return 0, "(finished)"
        ins = self.code[pc]
        if isinstance(ins, HookReturn):
            frames = s[self.L.STK + a]
            site = next((self.code[p] for p in reversed(frames)     # a callback: its signal
                         if not isinstance(self.code[p], FenceSite) or self.code[p].stmt.line),
                        self.code[frames[-1]]).stmt
            return site.line, f"{site.text} (leaving the {ins.event} hooks)"
        return ins.stmt.line, ins.stmt.text

    def finished(self, s, a: int) -> bool:
        return s[self.L.PC + a] == DONE

    def at_rest(self, s, a: int) -> bool:
        """Finished, idle, or a job whose dependencies have not all signalled:
        the scheduler holds it back with a fence callback, no one sleeps."""
        pc = s[self.L.PC + a]
        if pc == DONE:
            return True
        deps = self.m.actors[a].deps
        return bool(deps) and pc == self.starts[a] and not self.deps_signalled(s, a)

    def deps_signalled(self, s, a: int) -> bool:
        FN = self.L.FN
        return all(s[FN + d] & 3 for d in self.m.actors[a].deps)

    # -- irq handlers (irq.py)
    def interrupted(self, s) -> tuple:
        """The actors an irq handler runs in now: they do not move."""
        L = self.L
        return tuple(b for b in s[L.IRQ_ON:L.IRQ_ON + len(L.irqs)] if b >= 0) if L.irqs else ()

    def irq_hosts(self, s) -> list:
        """The actors an interrupt could land in now (irq.py)."""
        hosted = self.interrupted(s)
        return [b for b in range(self.L.A) if can_host(self, s, b, hosted)]

    def interrupter(self, s, b: int):
        """The irq handler actor running in actor b, or None."""
        L = self.L
        for h, a in enumerate(L.irqs):
            if s[L.IRQ_ON + h] == b:
                return a
        return None

    def blocked_on(self, s, a: int) -> list:
        """Why actor a does not move: interrupted, or its instruction's reasons."""
        h = self.interrupter(s, a) if self.L.irqs else None
        return [("irq", h)] if h is not None else self.code[s[self.L.PC + a]].blocked_on(s, a)

    # -- fence hooks (callbacks.py)
    @property
    def fence_hooks(self) -> bool:
        return bool(self.fence_sites["signal"] or self.fence_sites["enable_signaling"])

    def fence_locked(self, f: int) -> bool:
        """Does anything run under fence f's spinlock (so lockdep sees its class)?"""
        return f in self.fence_sites["signal"] or f in self.fence_sites["enable_signaling"]

    def atomic_hook(self, s, a: int):
        """The innermost fence hook actor a is running (a FenceSite frame), or
        None: inside one, F's spinlock is held and interrupts are off."""
        for pc in reversed(s[self.L.STK + a]):
            if isinstance(self.code[pc], FenceSite):
                return self.code[pc]
        return None

    def in_callback(self, s, a: int) -> bool:
        """Is actor a running an `on signal` callback (dma_fence_signal's callback list)?"""
        return any(isinstance(self.code[pc], FenceSite) and self.code[pc].kind == "signal"
                   for pc in s[self.L.STK + a])

    def usage_mask(self, r: int, usage: str) -> int:
        """The state index of the mask of resv r's fences that `wait R usage U` waits for."""
        if not usage or usage == "bookkeep":
            return self.L.RV + r
        return self.L.US + 3 * r + USAGES.index(usage)

    def lock_context(self, s, a: int) -> tuple:
        """What lockdep sees actor a holding: its held_locks[], oldest first,
        as (class, mode) pairs, pseudo-locks included and trylock holds marked
        ("tw"/"tr"), after the task flags and irq state it runs with (markers
        of mode "").  Recorded per step for the lock-order model, which walks
        it from the top as check_prevs_add() does.

        Where pseudo-locks sit: process_one_work()'s wq and work maps first;
        then, hook level by hook level, what the actor took at that level,
        with the outermost signalling section's dma_fence_map above what it
        took before the section (dma_fence_begin_signalling() takes it as a
        read trylock; nested sections take nothing: it sees the map held), and the call site's
        own map (fs_reclaim for reclaim, mmu_notifier for fork/munmap, the
        fence's lock for callbacks) between that level and the next."""
        L, m = self.L, self.m
        marks = set()
        pc = s[L.PC + a]
        frames = s[L.STK + a]
        actor = m.actors[a]
        if L.irqs:                                          # for the irq-unsafe-lock verdict
            if actor.kind == "irq":
                marks.add(HARDIRQ)
            elif irqs_off(self, s, a):
                marks.add(IRQS_OFF)
        if pc != DONE:
            flags = self.scope(s, a, pc)
            if flags & NORECLAIM:
                marks.add(MEMALLOC)
            elif flags:
                marks.add(NOFS)
        held = []
        if actor.kind == "work" and self.running(s, a):     # process_one_work()'s maps
            held += [(wq_class(m.workqueues[actor.wq].name), "w"), (work_class(actor.name), "w")]
        top = len(frames)
        levels = [[] for _ in range(top + 1)]                # hook level -> its acquisitions
        for tok in s[L.HO + a]:
            l = token_lock(tok)
            if l < 0:
                entry = ("resv_ctx", "w")                   # ww_acquire_init()
            else:
                entry = (self.lock_class(s, l), ("t" if tok & 1 else "") +
                         ("r" if s[L.LK + l] > 0 else "w"))
            levels[min(tok >> 2 & 63, top)].append((tok >> 1 & 1, entry))
        at = list(frames) + ([pc] if pc != DONE else [])     # what each level runs now
        section = next((k for k, p in enumerate(at) if self.code[p].sig), None)
        outer = 0                           # scope flags of the call sites so far
        for k, taken in enumerate(levels):
            if k == section:
                held += [e for inside, e in taken if not inside]
                held.append(("dma_fence_map", "tr"))     # a read trylock: walked through
                held += [e for inside, e in taken if inside]
            else:
                held += [e for _inside, e in taken]
            if k == top:
                break
            site = self.code[frames[k]]
            if isinstance(site, FenceSite):
                held.append((fence_class(m, site.fence), "w"))
            outer |= site.scope
            if site.calls == "reclaim":
                marks.add(MEMALLOC)         # reclaim does not recurse: allocations take nothing
                if site.stmt.mode == "kernel" and not outer:     # nofs/noio: no __GFP_FS
                    held.append(("fs_reclaim", "w"))
            if site.calls in ("fork", "munmap"):
                held.append(("mmu_notifier", "w"))
        return tuple(sorted(marks)) + tuple(held)
