"""Checked model -> compiled transitions.  The meaning of every statement
lives here, once: each statement compiles to one `Instr` whose `step` gives
the outcomes of executing it as one atomic step (none = blocked).

A state is one flat tuple (see `Layout`):
  pc[a]      program counter of actor a (DONE when finished)
  stack[a]   call sites of the hooks a is running (a tuple of pcs)
  lock[l]    0 free, -(a+1) held exclusively by a, >0 bitmask of readers
  fence[f]   0 unsignalled, 1 signalled, 2 signalled with error, +4 published
  resv[r]    bitmask of the fences in r's list
  engine[e]  sorted tuple of the actors holding one of its slots
  var[v]     value
  irq        1 while `interrupt_waits` is in force
Control flow is compiled away: an instruction knows the pc(s) it moves to.
"""
from __future__ import annotations

from typing import Callable, Optional

from ..language.model import BINOPS, Model, Stmt, hook_event

DONE = -1
MEMALLOC = ("PF_MEMALLOC", "")     # in a lock context: the actor runs reclaim hooks
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


# ----------------------------------------------------------------- instructions

class Instr:
    may_sleep = False
    acquires: tuple = ()        # (lock class, "r"|"w") taken by this step, for lockdep
    calls: Optional[str] = None  # hook event entered by this step

    def __init__(self, sys: "System", stmt: Stmt, nxt: int, sig: int):
        self.sys, self.stmt, self.nxt, self.sig = sys, stmt, nxt, sig
        self.site = None            # the pc that findings at this statement are keyed by

    def step(self, s: tuple, a: int) -> list:
        raise NotImplementedError

    def blocked_on(self, s: tuple, a: int) -> list:
        """Why `step` gives nothing: [("lock", l) | ("writer", l, waiting writer) |
        ("fence", f) | ("engine", e) | ("cond", text)]."""
        return []

    def move(self, s: tuple, a: int, pc: int, label: str = "", lst=None, found=()):
        """The common tail of every step: set the pc, finish the actor if it ends."""
        return self.sys.move(s if lst is None else lst, a, pc, label, found)


class Lock(Instr):
    """lock L / lock M shared / lock R1, R2 (one ww context: all at once)."""

    def __init__(self, sys, stmt, nxt, sig):
        super().__init__(sys, stmt, nxt, sig)
        self.ids = stmt.objs
        self.shared = stmt.mode == "shared"
        kinds = {sys.m.locks[i].kind for i in self.ids}
        self.may_sleep = kinds != {"spinlock"}
        self.acquires = tuple((sys.m.locks[i].cls, "r" if self.shared else "w") for i in self.ids)
        self.one = sys.L.LK + self.ids[0] if len(self.ids) == 1 and not self.shared else None

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
            else:
                name = sys.m.locks[l].name
                found.append(("unlock-not-held", (self.pc, l),
                              f"{sys.actor(a)} unlocks {name}{' shared' if shared else ''} "
                              f"without holding it (line {self.stmt.line})"))
        return [self.move(s, a, self.nxt, lst=lst, found=tuple(found))]


class Signal(Instr):
    def step(self, s, a):
        sys, f = self.sys, self.stmt.objs[0]
        at = sys.L.FN + f
        if s[at] & 3:
            return [self.move(s, a, self.nxt, "already signalled: no effect")]
        lst = list(s)
        lst[at] = s[at] | (ERRORED if self.stmt.mode == "error" else SIGNALLED)
        pending = [d for d in sys.m.fences[f].after if not s[sys.L.FN + d] & 3]
        found = ()
        if pending:
            names = ", ".join(sys.m.fences[d].name for d in pending)
            found = (("signal-before-deps", (self.pc, f),
                      f"{sys.actor(a)} signals {sys.m.fences[f].name} while {names} "
                      f"(which it comes after) is unsignalled (line {self.stmt.line})"),)
        return [self.move(s, a, self.nxt, lst=lst, found=found)]


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
        self.plain = sys.L.FN + fence if fence is not None and not self.mode else None

    def pending(self, s) -> list:
        sys = self.sys
        if self.fence is not None:
            return [] if s[sys.L.FN + self.fence] & 3 else [self.fence]
        mask = s[sys.L.RV + self.resv]
        return [f for f in sys.bits(mask) if not s[sys.L.FN + f] & 3]

    def step(self, s, a):
        if self.plain is not None:                # wait F, the common case
            return [self.move(s, a, self.nxt)] if s[self.plain] & 3 else []
        if not self.pending(s):
            return [self.move(s, a, self.nxt)]
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
            if s[sys.L.LK + r] != -(a + 1):
                found = (("publish-without-lock", (self.pc,),
                          f"{sys.actor(a)} publishes {sys.m.fences[f].name} in {lock.name} "
                          f"without holding {lock.name} (line {self.stmt.line})"),)
        return [self.move(s, a, self.nxt, lst=lst, found=found)]


class Alloc(Instr):
    """alloc kernel/nofs/noio may enter direct reclaim (never from inside it);
    alloc nowait/atomic never does."""

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
        if self.calls and not self.sys.inside(s, a, "reclaim"):
            outs.append(self.sys.call(s, a, self, "reclaim", "enters reclaim"))
        return outs


class MmapWriter(Instr):
    """fork / munmap: take mmap_lock for write, run the hooks, release it."""
    may_sleep = True

    def __init__(self, sys, stmt, nxt, sig):
        super().__init__(sys, stmt, nxt, sig)
        self.event = stmt.op
        self.calls = self.event if self.event in sys.events else None
        self.acquires = (("mmap_lock", "w"),) + ((("mmu_notifier", "w"),) if self.calls else ())

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

    def step(self, s, a):
        sys = self.sys
        site = s[sys.L.STK + a][-1]
        lst = list(s)
        lst[sys.L.STK + a] = s[sys.L.STK + a][:-1]
        label = f"leaves {self.event}"
        if self.event in ("fork", "munmap"):
            lst[sys.L.LK + sys.MMAP] = 0
        elif self.event == "fault":
            actor = sys.m.actors[a]
            if actor.preemptible and actor.engine >= 0 and not sys.holds_slot(s, a, actor.engine):
                if not sys.slot_free(s, actor.engine):
                    return []
                sys.take_slot(lst, a, actor.engine)
                label += ", resumes"
        return [sys.move(lst, a, sys.code[site].nxt, label)]

    def blocked_on(self, s, a):
        return [("engine", self.sys.m.actors[a].engine)]


class Start(Instr):
    """A job's first step: it waits for a free slot of its engine and holds it to the end."""
    may_sleep = True

    def __init__(self, sys, actor, nxt):
        super().__init__(sys, Stmt("start", actor.line, f"job {actor.name} on "
                                   f"{sys.m.engines[actor.engine].name}"), nxt, 0)
        self.engine = actor.engine

    def step(self, s, a):
        if not self.sys.slot_free(s, self.engine):
            return []
        lst = list(s)
        self.sys.take_slot(lst, a, self.engine)
        return [self.move(s, a, self.nxt, "starts", lst=lst)]

    def blocked_on(self, s, a):
        return [("engine", self.engine)]


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


class Assign(Instr):
    def __init__(self, sys, stmt, nxt, sig):
        super().__init__(sys, stmt, nxt, sig)
        self.value = sys.expr(stmt.expr)

    def step(self, s, a):
        sys, v = self.sys, self.stmt.objs[0]
        var = sys.m.vars[v]
        x = self.value(s)
        found = ()
        if not var.lo <= x <= var.hi:
            found = (("assert", (self.pc, "range"),
                      f"{sys.actor(a)} sets {var.name} = {x}, outside its range {var.lo}..{var.hi} "
                      f"(line {self.stmt.line}); the value is clamped"),)
            x = min(max(x, var.lo), var.hi)
        lst = list(s)
        lst[sys.L.VR + v] = x
        return [self.move(s, a, self.nxt, lst=lst, found=found)]


class Await(Instr):
    def __init__(self, sys, stmt, nxt, sig):
        super().__init__(sys, stmt, nxt, sig)
        self.cond = sys.expr(stmt.expr)

    def step(self, s, a):
        return [self.move(s, a, self.nxt)] if self.cond(s) else []

    def blocked_on(self, s, a):
        return [("cond", self.stmt.text)]


class Assert(Instr):
    """assert expr: a failure is reported and the actor goes on (as WARN_ON)."""

    def __init__(self, sys, stmt, nxt, sig):
        super().__init__(sys, stmt, nxt, sig)
        self.cond = sys.expr(stmt.expr)

    def step(self, s, a):
        if self.cond(s):
            return [self.move(s, a, self.nxt)]
        return [self.move(s, a, self.nxt, "assertion fails", found=(
            ("assert", (self.pc,), f"{self.stmt.text} fails in {self.sys.actor(a)} "
                                          f"(line {self.stmt.line})"),))]


class Branch(Instr):
    """if / while: evaluating the condition is one step."""

    def __init__(self, sys, stmt, nxt, sig, then_pc=DONE):
        super().__init__(sys, stmt, nxt, sig)
        self.cond = sys.expr(stmt.expr)
        self.then_pc = then_pc

    def step(self, s, a):
        if self.cond(s):
            return [self.move(s, a, self.then_pc, "condition true")]
        return [self.move(s, a, self.nxt, "condition false")]


class Choose(Instr):
    def __init__(self, sys, stmt, nxt, sig, targets):
        super().__init__(sys, stmt, nxt, sig)
        self.targets = targets

    def step(self, s, a):
        return [self.move(s, a, pc, f"takes branch {i + 1}") for i, pc in enumerate(self.targets)]


class Jump(Instr):
    """restart (back to the actor's first statement) and return."""

    def step(self, s, a):
        return [self.move(s, a, self.nxt, "restarts" if self.stmt.op == "restart" else "returns")]


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
        self._compile()
        self.invariants = [(name, self.expr(e), line) for name, e, line in m.invariants]
        self.acquiring = [bool(ins.acquires) for ins in self.code]   # pcs lockdep looks at
        self.acquiring_at = self.acquiring + [False]     # ... indexable by DONE (-1) too
        for ins in self.code:
            if ins.site is None:
                ins.site = ins.pc

    # -- compiling
    def _emit(self, instr: Instr) -> int:
        instr.pc = len(self.code)
        self.code.append(instr)
        return instr.pc

    def _same_statement(self, pcs, site: int) -> None:
        for pc in pcs:
            self.code[pc].site = site

    def _compile(self) -> None:
        for event in ("reclaim", "fork", "munmap", "fault"):
            bodies = self.m.hooks.get(event)
            if bodies:
                ret = self._emit(HookReturn(self, event))
                entry = ret
                for body in reversed(bodies):            # `return` ends one hook: on to the next
                    entry = self._block(body, entry, ret=entry, restart=None, sig=0)
                self.hooks[event] = (entry, ret)
        for actor in self.m.actors:
            first = len(self.code)
            patch: list[Jump] = []
            body = self._block(actor.body, DONE, ret=DONE, restart=patch, sig=0)
            for j in patch:
                j.nxt = body
            if actor.kind == "job":
                body = self._emit(Start(self, actor, body))
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
        return self._emit(w)

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
        if op == "lock":
            return self._emit(Lock(self, st, nxt, sig))
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
            s[L.PC + a] = self.starts[a]
            s[L.STK + a] = ()
        for e in range(len(m.engines)):
            s[L.EN + e] = ()
        for v, var in enumerate(m.vars):
            s[L.VR + v] = var.init
        return tuple(s)

    def successors(self, s: tuple):
        """Yield (actor, outcome) for every enabled step, actors in order."""
        code, PC = self.code, self.L.PC
        for a in range(self.L.A):
            pc = s[PC + a]
            if pc != DONE:
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
        elif self.spinlocks and self.code[pc].may_sleep:
            spins = [l for l in self.spinlocks if lst[L.LK + l] == -(a + 1)]
            if spins:
                ins = self.code[pc]
                found = found + (("sleep-in-atomic", (ins.site,),
                                  f"{self.actor(a)} may sleep at line {ins.stmt.line} "
                                  f"({ins.stmt.text}) holding spinlock "
                                  f"{', '.join(self.m.locks[l].name for l in spins)}"),)
        return (tuple(lst), label, found, timeout)

    def call(self, s, a: int, site: Instr, event: str, label: str):
        """Enter an event's hooks inline in actor a; HookReturn comes back."""
        lst = s if isinstance(s, list) else list(s)
        lst[self.L.STK + a] = s[self.L.STK + a] + (site.pc,)
        return self.move(lst, a, self.hooks[event][0], label)

    # -- helpers shared by the instructions
    def actor(self, a: int) -> str:
        return self.m.actors[a].name

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
        if v >> a & 1:                 # read-held by a already: retaking it never succeeds
            return False
        # readers hold it: a writer already waiting goes first (rwsem writer preference)
        return self.waiting_writer(s, l, a) is None

    def waiting_writer(self, s, l: int, a: int):
        """Another actor standing at a write acquisition of rwsem l."""
        PC, writers = self.L.PC, self.writer_pcs.get(l, ())
        for b in range(self.L.A):
            if b != a and s[PC + b] in writers:
                return b
        return None

    def take(self, lst: list, a: int, l: int, shared: bool) -> None:
        i = self.L.LK + l
        lst[i] = (lst[i] | (1 << a)) if shared else -(a + 1)

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
            site = self.code[s[self.L.STK + a][-1]].stmt
            return site.line, f"{site.text} (leaving the {ins.event} hooks)"
        return ins.stmt.line, ins.stmt.text

    def finished(self, s, a: int) -> bool:
        return s[self.L.PC + a] == DONE

    def lock_context(self, s, a: int) -> tuple:
        """What lockdep sees actor a holding: (class, mode) pairs, pseudo-locks
        included.  Recorded per step for the lock-order model."""
        L, m = self.L, self.m
        held = {(m.locks[l].cls, "r" if s[L.LK + l] > 0 else "w")
                for l in range(len(m.locks)) if self.holder(s, l, a)}
        pc = s[L.PC + a]
        frames = s[L.STK + a]
        if pc != DONE and (self.code[pc].sig or any(self.code[f].sig for f in frames)):
            held.add(("dma_fence_map", "r"))
        for f in frames:
            site = self.code[f]
            if site.calls == "reclaim":
                held.add(MEMALLOC)          # reclaim does not recurse: allocations take nothing
                if site.stmt.mode == "kernel":
                    held.add(("fs_reclaim", "w"))
            if site.calls in ("fork", "munmap"):
                held.add(("mmu_notifier", "w"))
        return frozenset(held)
