"""Compiled transitions -> bounded symbolic search with z3 (`--engine smt`).

A second, independent reading of `semantics.System`: every state component
becomes z3 terms per step, and every `Instr` class gets its guard and effect
written again here (`_cases`, dispatched by class).  The explicit `step`
methods stay the reference; the cross-check tests (tests/test_symbolic.py)
run both engines on the specs and on generated ones and demand the same
finding kinds and the same shortest trace lengths, which keeps this reading
honest.  A witness is a list of (actor, next pc) steps; it is replayed
through the explicit semantics (`trace.build`), and each replayed state is
compared with z3's, so an encoding bug cannot show an impossible trace.

Unrolling deepens one step at a time (depth 0, 1, 2, ...), so the first
witness of a kind is a shortest one.  Safety kinds only: a global deadlock
(no actor can move, some actor unfinished), assert, invariant,
signal-before-deps, publish-without-lock, unlock-not-held, sleep-in-atomic,
lock-held-at-exit.  Invariants are also tried by k-induction over simple
paths; what is not proved is only "bounded to depth K".

State per step (names as in semantics.Layout):
  pc[a] Int, stk[a] Int (index into the hook call stacks enumerated from the
  code), lw[l] Int (0 free, a+1 write-held by a), lr[l][a] Int (read holds),
  fs[f] Int (0, 1 signalled, 2 errored), fp[f] Bool (published),
  rv[r][f] Bool (f in resv r), en[e][a] Int (slots of e held by a),
  var[v] Int, irq Bool, wp[w] Bool (work item w pending, unordered queue) or
  wo[w] Int (its 1-based place in an ordered queue, 0 when not pending).
"""
from __future__ import annotations

import time
from array import array
from dataclasses import dataclass, field

from ..verdicts.analysis import StateFinding
from ..language.errors import SpecError
from ..language.model import USAGES
from .explorer import Found, Graph
from ..semantics import (DONE, Acquire, Alloc, Assert, Assign, Await, Branch, Choose, Fault,
                        HookReturn, Interrupt, Jump, Lock, MmapWriter, Publish, Release,
                        Signal, Start, System, Trylock, Unlock, Wait, WaitAny, Woken,
                        WwBegin, WwEnd)
from ..semantics.base import NORECLAIM
from ..semantics.callbacks import ENABLED, FenceSite
from ..semantics.system import MAX_READ_DEPTH
from ..semantics.work import (CancelWait, CancelWork, FlushWait, FlushWork, FlushWorkqueue, QueueWork,
                              WorkStart)

STEP_KINDS = ("assert", "signal-before-deps", "publish-without-lock", "unlock-not-held",
              "sleep-in-atomic", "lock-held-at-exit")
KINDS = ("deadlock", "invariant") + STEP_KINDS + ("unreachable",)   # what this engine looks for
from .budget import DEFAULT_DEPTH  # noqa: E402 (re-exported: symbolic.DEFAULT_DEPTH)


class EncodingError(AssertionError):
    """z3's witness and the explicit replay disagree: a bug in this module."""


@dataclass
class Case:
    """One way actor `a` can step from one (pc, hook stack): when `guard`
    holds, the components in `upd` take their new values (the others stay)
    and each `found` kind is produced when its condition holds."""
    a: int
    guard: object
    upd: dict
    found: dict                  # kind -> z3 Bool
    reads: set = field(default_factory=set)   # state components guard, effect and findings read


@dataclass
class Run:
    findings: list = field(default_factory=list)    # (kind, witness): the first, shortest, per kind
    depth: int = -1                                 # deepest level fully searched
    exhausted: bool = False                         # no execution is longer than `depth`
    proved: list = field(default_factory=list)      # invariant names proved by k-induction
    reached: dict = field(default_factory=dict)     # `reachable` name -> depth of a witness
    unreached: list = field(default_factory=list)   # `reachable` names no execution reaches
    z3_seconds: float = 0.0                         # inside the solver's checks
    seconds: float = 0.0                            # the whole search, encoding included
    stopped: str = ""                               # a limit ended the deepening early
    encoding: object = None


# ----------------------------------------------------------------- encoding

class _Reads(dict):
    """A state whose lookups are recorded in `seen`."""
    seen: set

    def __getitem__(self, key):
        self.seen.add(key)
        return dict.__getitem__(self, key)


class _Post:
    """The state after an update: `upd` over `s`."""

    def __init__(self, s, upd):
        self.s, self.upd = s, upd

    def __getitem__(self, key):
        return self.upd[key] if key in self.upd else self.s[key]


class Encoding:
    """The system as z3 terms: state variables, the initial state, one step
    (from the cases of every reachable (actor, pc, hook stack)), and what
    the kinds and k-induction ask of a state."""

    def __init__(self, sys: System, z3):
        self.sys, self.z3, self.m = sys, z3, sys.m
        self.A = sys.L.A
        for actor in self.m.actors:
            if actor.kind == "irq":
                col = self.m.source.line(actor.line).find("irq") + 1 or 1
                raise SpecError([self.m.source.diag(
                    actor.line, col, f"the smt engine cannot encode irq handler '{actor.name}' "
                    "(it runs inside the thread it interrupts); use --engine explicit")])
        self.callbacks = sys.fence_sites["signal"]          # fence -> its callbacks' frame
        self.enables = set(sys.fence_sites["enable_signaling"])
        self._stk = ()                                      # the stack of the cases being built
        self.stacks: list[tuple] = [()]
        self.pairs = [self._reachable(a) for a in range(self.A)]   # actor -> {(pc, stack)}
        self.cases: list[Case] = []
        self.case_actors: list[int] = []    # the same for every step: cases are built in one order

    # -- static reachability of (pc, hook stack) per actor
    def _next_pcs(self, ins) -> list[int]:
        """fork/munmap with hooks go on from the hooks' return, not from here."""
        return [] if ins.calls and isinstance(ins, MmapWriter) else list(ins.next_pcs())

    def _reachable(self, a: int) -> set:
        sys = self.sys
        seen, todo = set(), [(sys.starts[a], ())]
        while todo:
            pc, stk = todo.pop()
            if (pc, stk) in seen or pc == DONE:
                continue
            seen.add((pc, stk))
            if stk not in self.stacks:
                self.stacks.append(stk)
            ins = sys.code[pc]
            if isinstance(ins, HookReturn) and ins.chained:
                todo.append(self._callbacks_return(stk))
                continue
            if isinstance(ins, HookReturn):
                todo.append((sys.code[stk[-1]].nxt, stk[:-1]))
                continue
            if isinstance(ins, Signal):
                todo += [(self._callbacks_entry(cbs), stk + self._callbacks_frames(pc, cbs))
                         for cbs in self._callback_runs(ins, stk) if cbs]
            for g, site in getattr(ins, "enable_sites", {}).items():
                if not self._enabled_on(g, stk):
                    todo.append((sys.hooks[sys.code[site].calls][0], stk + (site,)))
            todo += [(p, stk) for p in self._next_pcs(ins)]
            if ins.calls and not self._nested(ins, stk) and not self._noreclaim(ins, pc, stk):
                todo.append((sys.hooks[ins.calls][0], stk + (pc,)))
        return seen

    # -- fence hooks (semantics/callbacks.py)
    def _callback_runs(self, ins, stk) -> list:
        """The fences with callbacks one signal step may run, each possibility
        (f if it has any, and any of its containers), in running order.  A
        fence whose callbacks are on the stack is signalled: it fires no more."""
        code, cb = self.sys.code, self.callbacks
        running = {code[p].fence for p in stk if isinstance(code[p], FenceSite)}
        f = ins.stmt.objs[0]
        if f in running:
            return [[]]
        conts = [c for c in ins.fires[1:] if c in cb and c not in running]
        head = [f] if f in cb else []
        out = []
        for n in range(1 << len(conts)):
            out.append(head + [c for i, c in enumerate(conts) if n >> i & 1])
        return out

    def _callbacks_frames(self, pc: int, cbs: list) -> tuple:
        return (pc,) + tuple(self.callbacks[g] for g in reversed(cbs))

    def _callbacks_entry(self, cbs: list) -> int:
        return self.sys.hooks[self.m.fence_event("signal", cbs[0])][0]

    def _callbacks_return(self, stk) -> tuple:
        rest = stk[:-1]
        top = self.sys.code[rest[-1]]
        if isinstance(top, FenceSite):
            return self.sys.hooks[top.calls][0], rest
        return top.nxt, rest[:-1]

    def _enabled_on(self, g: int, stk) -> bool:
        """Is g's enable_signaling on the stack (so g is enabled already)?"""
        code = self.sys.code
        return any(isinstance(code[p], FenceSite) and code[p].kind == "enable_signaling"
                   and code[p].fence == g for p in stk)

    def _enable_cases(self, s, ins, stk, candidates) -> list:
        """[(guard, fence, frame)]: the enable_signaling a wait (or a job's
        start) runs before blocking, as callbacks.enable_first picks it:
        the first pending fence (of `candidates`: [(fence, pending)]), or
        its first part, that has a hook and is neither signalled nor enabled."""
        z3, out = self.z3, []
        earlier = []
        for f, pend in candidates:
            first = z3.And(pend, *[z3.Not(p) for p in earlier])
            earlier.append(pend)
            before = []
            for g in [f] + self.m.parts_of(f):
                site = ins.enable_sites.get(g)
                if site is None:
                    continue
                needs = z3.And(s["fs", g] == 0, z3.Not(s["fe", g]))
                if not self._enabled_on(g, stk):
                    out.append((z3.And(first, needs, *[z3.Not(b) for b in before]), g, site))
                before.append(needs)
        return out

    def _nested(self, ins, stk) -> bool:
        """Can a call site inside hooks not run them?  reclaim and fault are
        never re-entered; fork / munmap inside their hooks block on the
        mmap_lock the actor holds, unless some code unlocks mmap_lock there:
        that unbounded nesting is refused."""
        code = self.sys.code
        if ins.calls in ("reclaim", "fault"):
            return any(code[p].calls == ins.calls for p in stk)
        if not any(code[p].calls in ("fork", "munmap") for p in stk):
            return False
        if any(isinstance(i, Unlock) and self.sys.MMAP in i.stmt.objs for i in code):
            raise self._refuse(ins, f"the smt engine cannot encode `{ins.stmt.text}` inside "
                               "fork/munmap hooks of a spec that unlocks mmap_lock")
        return True

    def _noreclaim(self, ins, pc: int, stk) -> bool:
        """An alloc in a `noreclaim` scope (its own or a call site's) never enters reclaim."""
        if not isinstance(ins, Alloc):
            return False
        flags = self.sys.code[pc].scope
        for f in stk:
            flags |= self.sys.code[f].scope
        return bool(flags & NORECLAIM)

    def _refuse(self, ins, why: str) -> SpecError:
        line = ins.stmt.line
        col = self.m.source.line(line).rfind(ins.stmt.text) + 1 or 1
        return SpecError([self.m.source.diag(line, col, why + "; use --engine explicit")])

    # -- state variables
    def state(self, tag: str) -> dict:
        z3, m, A = self.z3, self.m, self.A
        I, B = z3.Int, z3.Bool
        s = {}
        for a in range(A):
            s["pc", a] = I(f"{tag}_pc{a}")
            s["stk", a] = I(f"{tag}_stk{a}")
        for l in range(len(m.locks)):
            s["lw", l] = I(f"{tag}_lw{l}")
            for a in range(A):
                s["lr", l, a] = I(f"{tag}_lr{l}_{a}")      # read holds (down_read again)
        for f in range(len(m.fences)):
            s["fs", f] = I(f"{tag}_fs{f}")
            s["fp", f] = B(f"{tag}_fp{f}")
            if f in self.enables:
                s["fe", f] = B(f"{tag}_fe{f}")          # enable_signaling has run
        for r in range(len(m.resvs)):
            for f in range(len(m.fences)):
                s["rv", r, f] = B(f"{tag}_rv{r}_{f}")
                if m.uses_usage:                 # the strongest usage f was published with
                    s["ru", r, f] = I(f"{tag}_ru{r}_{f}")
        for e in range(len(m.engines)):
            for a in range(A):
                s["en", e, a] = I(f"{tag}_en{e}_{a}")
        for v in range(len(m.vars)):
            s["var", v] = I(f"{tag}_var{v}")
        s["irq"] = B(f"{tag}_irq")
        for w in self.works:                       # pending: a Bool, or the place in an ordered queue
            s[self.pend_key(w)] = (I if self.ordered(w) else B)(f"{tag}_wq{w}")
            if m.uses_flush:                       # fb: actor a's flush is behind w's pending (1) or running (2) run
                for a in range(A):
                    s["fb", a, w] = I(f"{tag}_fb{a}_{w}")
        return s

    def initial(self, s: dict):
        z3 = self.z3
        out = []
        for key, x in s.items():
            if key[0] == "pc":
                out.append(x == (DONE if self.m.actors[key[1]].kind == "work"
                                 else self.sys.starts[key[1]]))
            elif key[0] == "var":
                out.append(x == self.m.vars[key[1]].init)
            elif z3.is_bool(x):
                out.append(z3.Not(x))
            else:
                out.append(x == 0)
        return z3.And(out)

    def domain(self, s: dict):
        """What every reachable state satisfies (for k-induction)."""
        z3, m, A = self.z3, self.m, self.A
        out = []
        for a in range(A):
            pcs = {pc for pc, _ in self.pairs[a]} | {DONE}
            out.append(z3.Or([s["pc", a] == p for p in sorted(pcs)]))
            out.append(z3.And(s["stk", a] >= 0, s["stk", a] < len(self.stacks)))
            out.append(z3.Or([z3.And(s["pc", a] == pc, s["stk", a] == self.stacks.index(stk))
                              for pc, stk in self.pairs[a]] + [s["pc", a] == DONE]))
        for l in range(len(m.locks)):
            out.append(z3.And(s["lw", l] >= 0, s["lw", l] <= A))
            out.append(z3.Implies(s["lw", l] != 0, z3.Not(z3.Or([s["lr", l, a] > 0 for a in range(A)]))))
            out.extend(z3.And(s["lr", l, a] >= 0, s["lr", l, a] <= MAX_READ_DEPTH) for a in range(A))
        for f in range(len(m.fences)):
            out.append(z3.And(s["fs", f] >= 0, s["fs", f] <= 2))
        for e, eng in enumerate(m.engines):
            out += [s["en", e, a] >= 0 for a in range(A)]
            out.append(z3.Sum([s["en", e, a] for a in range(A)]) <= eng.slots)
        for v, var in enumerate(m.vars):
            out.append(z3.And(s["var", v] >= min(var.lo, var.init), s["var", v] <= max(var.hi, var.init)))
        for w in self.works:
            if self.ordered(w):
                n = len(self.sys.work_items[m.actors[w].wq])
                out.append(z3.And(s["wo", w] >= 0, s["wo", w] <= n))
            out.append(z3.Implies(s["pc", w] == self.sys.starts[w], self.is_pending(s, w)))
            if m.uses_flush:
                out += [z3.And(s["fb", a, w] >= 0, s["fb", a, w] <= 2) for a in range(A)]
        return z3.And(out)

    # -- expressions (always z3 Int, as the explicit lambdas return ints)
    def expr(self, e, s):
        z3 = self.z3
        tag = e[0]
        b2i = lambda b: z3.If(b, z3.IntVal(1), z3.IntVal(0))
        if tag == "int":
            return z3.IntVal(e[1])
        if tag == "var":
            return s["var", e[1]]
        if tag == "signalled":
            return b2i(s["fs", e[1]] != 0)
        if tag == "errored":
            return b2i(s["fs", e[1]] == 2)
        if tag == "published":
            return b2i(s["fp", e[1]])
        if tag == "held":
            return b2i(z3.Or([s["lw", e[1]] != 0] + [s["lr", e[1], a] > 0 for a in range(self.A)]))
        if tag == "done":
            return b2i(z3.And([s["pc", a] == DONE for a in e[1]]))
        if tag == "pending":
            return b2i(self.is_pending(s, e[1]))
        if tag == "running":
            return b2i(self.running(s, e[1]))
        if tag == "not":
            return b2i(self.expr(e[1], s) == 0)
        if tag == "neg":
            return -self.expr(e[1], s)
        if tag in ("and", "or"):
            parts = [self.expr(x, s) != 0 for x in e[1]]
            return b2i(z3.And(parts) if tag == "and" else z3.Or(parts))
        op, x, y = e[1], self.expr(e[2], s), self.expr(e[3], s)
        if op in ("+", "-", "*"):
            return {"+": x + y, "-": x - y, "*": x * y}[op]
        if op in ("/", "%"):                 # C division, truncating; a zero divisor gives 0
            q = z3.If(x >= 0, z3.If(y > 0, x / y, -(x / -y)), z3.If(y > 0, -((-x) / y), (-x) / -y))
            return z3.If(y == 0, 0, q if op == "/" else x - y * q)
        cmp = {"==": x == y, "!=": x != y, "<": x < y, "<=": x <= y, ">": x > y, ">=": x >= y}
        return b2i(cmp[op])

    def truth(self, e, s):
        return self.expr(e, s) != 0

    # -- helpers mirroring System's, on z3 terms
    def readers(self, s, l):
        return self.z3.Or([s["lr", l, b] > 0 for b in range(self.A)])

    def waiting_writer(self, s, l, a):
        """Another actor at a write acquisition of rwsem l (writer preference)."""
        pcs = sorted(self.sys.writer_pcs.get(l, ()))
        return self.z3.Or([s["pc", b] == p for b in range(self.A) if b != a for p in pcs])

    def can_take(self, s, a, l, shared):
        z3 = self.z3
        free = z3.And(s["lw", l] == 0, z3.Not(self.readers(s, l)))
        if not shared:
            return free
        return z3.And(s["lw", l] == 0, s["lr", l, a] < MAX_READ_DEPTH,
                      z3.Or(z3.Not(self.readers(s, l)), z3.Not(self.waiting_writer(s, l, a))))

    def take(self, upd, a, l, shared, s):
        if shared:
            upd["lr", l, a] = s["lr", l, a] + 1
        else:
            upd["lw", l] = self.z3.IntVal(a + 1)

    def slot_free(self, s, e):
        return self.z3.Sum([s["en", e, b] for b in range(self.A)]) < self.m.engines[e].slots

    def pending(self, s, ins):
        if ins.fence is not None:
            return s["fs", ins.fence] == 0
        u = ins.stmt.usage
        k = USAGES.index(u) if u else 3
        return self.z3.Or([self.z3.And(s["rv", ins.resv, f], s["fs", f] == 0,
                                       *([s["ru", ins.resv, f] <= k] if k < 3 else []))
                           for f in range(len(self.m.fences))])

    def wait_fences(self, ins) -> list:
        return [ins.fence] if ins.fence is not None else list(range(len(self.m.fences)))

    def pending_one(self, s, ins, f):
        """Is f one of the fences this wait waits for now?"""
        if ins.fence is not None:
            return s["fs", f] == 0
        u = ins.stmt.usage
        k = USAGES.index(u) if u else 3
        return self.z3.And(s["rv", ins.resv, f], s["fs", f] == 0,
                           *([s["ru", ins.resv, f] <= k] if k < 3 else []))

    def _enable(self, s, a, ins, stk, add, candidates):
        """The enable_signaling cases of a wait or a job's start; what holds
        when none applies (the wait may then block, time out...)."""
        z3 = self.z3
        cases = self._enable_cases(s, ins, stk, candidates) if ins.enable_sites else []
        for guard, g, site in cases:
            upd = {("fe", g): z3.BoolVal(True),
                   ("stk", a): z3.IntVal(self.stacks.index(stk + (site,)))}
            add(guard, upd, self.sys.hooks[self.sys.code[site].calls][0])
        return z3.Not(z3.Or([c[0] for c in cases])) if cases else z3.BoolVal(True)

    def parked(self, s, a):
        """A job held back by its dependencies (System.at_rest)."""
        deps = self.m.actors[a].deps
        if not deps:
            return self.z3.BoolVal(False)
        return self.z3.And(s["pc", a] == self.sys.starts[a],
                           self.z3.Or([s["fs", d] == 0 for d in deps]))

    def inside(self, stk, event) -> bool:
        return any(self.sys.code[pc].calls == event for pc in stk)

    # -- work items (semantics/work.py): pending is a Bool on an unordered
    # workqueue, the 1-based place in the queue on an ordered one (0: not pending)
    @property
    def works(self) -> list:
        return [a for a, actor in enumerate(self.m.actors) if actor.kind == "work"]

    def ordered(self, w) -> bool:
        return self.m.workqueues[self.m.actors[w].wq].ordered

    def pend_key(self, w):
        return ("wo", w) if self.ordered(w) else ("wp", w)

    def is_pending(self, s, w):
        return s["wo", w] > 0 if self.ordered(w) else s["wp", w]

    def running(self, s, w):
        return self.z3.And(s["pc", w] != DONE, s["pc", w] != self.sys.starts[w])

    def dequeue(self, s, upd, w):
        """w leaves its queue (if it is in it): the items behind it move up."""
        z3 = self.z3
        if not self.ordered(w):
            upd["wp", w] = z3.BoolVal(False)
            return
        here = s["wo", w]
        for v in self.sys.work_items[self.m.actors[w].wq]:
            if v != w:
                upd["wo", v] = z3.If(z3.And(here > 0, s["wo", v] > here), s["wo", v] - 1, s["wo", v])
        upd["wo", w] = z3.IntVal(0)

    def barriers(self, s, upd, w, old, new):
        """System.barriers: every flush behind w's instance in state `old` goes to `new`."""
        if self.m.uses_flush:
            for b in range(self.A):
                k = ("fb", b, w)
                upd[k] = self.z3.If(upd.get(k, s[k]) == old, new, upd.get(k, s[k]))

    def _work_cases(self, ins, s, a, add):
        z3, sys = self.z3, self.sys
        And, Not, T = z3.And, z3.Not, z3.BoolVal(True)
        if isinstance(ins, WorkStart):
            upd = {}
            self.barriers(s, upd, a, 1, 2)
            self.dequeue(s, upd, a)
            guard = T
            if ins.ordered:
                others = [b for b in sys.work_items[ins.q] if b != a]
                guard = And([s["wo", a] == 1] + [Not(self.running(s, b)) for b in others])
            add(guard, upd, ins.nxt)
        elif isinstance(ins, QueueWork):
            w = ins.w
            cancelling = z3.Or([s["pc", b] == p for b in range(self.A)
                                for p in sorted(sys.cancel_waits.get(w, ()))] or [z3.BoolVal(False)])
            skip = z3.Or(self.is_pending(s, w), cancelling)
            add(skip, {}, ins.nxt)
            upd = {("pc", w): z3.If(s["pc", w] == DONE, sys.starts[w], s["pc", w])}
            if self.ordered(w):
                items = sys.work_items[ins.q]
                upd["wo", w] = 1 + z3.Sum([z3.If(s["wo", v] > 0, 1, 0) for v in items])
            else:
                upd["wp", w] = z3.BoolVal(True)
            add(Not(skip), upd, ins.nxt)
        elif isinstance(ins, (FlushWork, FlushWorkqueue)):
            items = sys.work_items[ins.q] if isinstance(ins, FlushWorkqueue) else [ins.w]
            idle = And([s["pc", w] == DONE for w in items])
            add(idle, {}, ins.nxt)
            add(Not(idle), {("fb", a, w): z3.If(s["pc", w] == DONE, 0,
                                                  z3.If(self.is_pending(s, w), 1, 2))
                            for w in items}, ins.wait_pc)
        elif isinstance(ins, FlushWait):
            flush = ins.flush
            items = sys.work_items[flush.q] if isinstance(flush, FlushWorkqueue) else [flush.w]
            add(And([s["fb", a, w] == 0 for w in items]), {}, ins.nxt)
        elif isinstance(ins, CancelWork):
            w = ins.w
            upd = {}
            if self.m.uses_flush:                            # a barrier behind the pending w runs
                for b in range(self.A):
                    k = ("fb", b, w)
                    upd[k] = z3.If(And(self.is_pending(s, w), s[k] == 1), 0, s[k])
            self.dequeue(s, upd, w)
            if w != a:
                upd["pc", w] = z3.If(s["pc", w] == sys.starts[w], DONE, s["pc", w])
            add(self.running(s, w), upd, ins.wait_pc)
            add(Not(self.running(s, w)), upd, ins.nxt)
        elif isinstance(ins, CancelWait):
            add(Not(self.running(s, ins.w)), {}, ins.nxt)
        else:
            return False
        return True

    # -- cases: one encoding per Instr class
    def add(self, s, a, guard, upd, target, found=None):
        """System.move: set the pc; finishing gives the job's slot back and
        checks locks still held; moving to a may-sleep pc checks spinlocks."""
        z3, m, sys = self.z3, self.m, self.sys
        found = dict(found or {})
        upd = dict(upd)
        post = lambda k: upd.get(k, s[k])
        upd["pc", a] = z3.IntVal(target)
        more = None
        if target == DONE and m.actors[a].kind == "work":    # queued while it ran: runs once more
            upd["pc", a] = z3.If(self.is_pending(_Post(s, upd), a), sys.starts[a], DONE)
            self.barriers(s, upd, a, 2, 0)                   # its run is over
        if target == DONE:
            actor = m.actors[a]
            if actor.kind == "job":
                k = ("en", actor.engine, a)
                upd[k] = z3.If(post(k) > 0, post(k) - 1, post(k))
            held = [z3.Or(post(("lw", l)) == a + 1, post(("lr", l, a)) > 0) for l in range(len(m.locks))]
            held += [post(("en", e, a)) > 0 for e in range(len(m.engines))]
            more = ("lock-held-at-exit", z3.Or(held))
        elif sys.code[target].may_sleep and (sys.spinlocks or self.callbacks or self.enables):
            after = self.stacks[upd["stk", a].as_long()] if ("stk", a) in upd else self._stk
            atomic = any(isinstance(sys.code[p], FenceSite) for p in after)
            more = ("sleep-in-atomic", z3.Or([z3.BoolVal(atomic)] +
                                             [post(("lw", l)) == a + 1 for l in sys.spinlocks]))
        if more:
            found[more[0]] = z3.Or(found[more[0]], more[1]) if more[0] in found else more[1]
        self.cases.append(Case(a, guard, upd, found))
        self.case_actors.append(a)

    def call(self, upd, a, stk, site):
        upd["stk", a] = self.z3.IntVal(self.stacks.index(stk + (site,)))
        return self.sys.hooks[self.sys.code[site].calls][0]

    def build_cases(self, s: dict) -> list[Case]:
        """Every (actor, pc, stack) case, its guard and effect over state s.
        The components each instruction's cases read are recorded on the way
        (`Case.reads`, for the independence of steps)."""
        self.cases, self.case_actors = [], []
        s = _Reads(s)
        for a in range(self.A):
            for pc, stk in sorted(self.pairs[a]):
                s.seen = set()
                first = len(self.cases)
                at = self.z3.And(s["pc", a] == pc, s["stk", a] == self.stacks.index(stk))
                self._stk = stk
                self._cases(self.sys.code[pc], s, a, pc, stk, at)
                for c in self.cases[first:]:
                    c.reads = s.seen
        return self.cases

    def _cases(self, ins, s, a, pc, stk, at):
        z3, m, sys = self.z3, self.m, self.sys
        And, Not, T = z3.And, z3.Not, z3.BoolVal(True)
        add = lambda guard, upd, target, found=None: self.add(s, a, And(at, guard), upd, target, found)
        if isinstance(ins, (WwBegin, WwEnd)):
            raise self._refuse(ins, "the smt engine cannot encode `ww { }` acquire contexts")
        if self._work_cases(ins, s, a, add):
            return
        if isinstance(ins, Lock):
            upd = {}
            for l in ins.ids:
                self.take(upd, a, l, ins.shared, s)
            add(And([self.can_take(s, a, l, ins.shared) for l in ins.ids]), upd, ins.nxt)
        elif isinstance(ins, Trylock):
            ok = self.can_take(s, a, ins.l, ins.shared)
            upd = {}
            self.take(upd, a, ins.l, ins.shared, s)
            add(ok, upd, ins.nxt)
            add(Not(ok), {}, ins.else_pc)
        elif isinstance(ins, Unlock):
            upd, bad = {}, []
            for l in ins.stmt.objs:
                if ins.stmt.mode == "shared":
                    ok = s["lr", l, a] > 0
                    upd["lr", l, a] = z3.If(ok, s["lr", l, a] - 1, 0)
                else:
                    ok = s["lw", l] == a + 1
                    upd["lw", l] = z3.If(ok, 0, s["lw", l])
                bad.append(Not(ok))
            add(T, upd, ins.nxt, {"unlock-not-held": z3.Or(bad)})
        elif isinstance(ins, Signal):
            f = ins.stmt.objs[0]
            fresh = s["fs", f] == 0
            val = 2 if ins.stmt.mode == "error" else 1
            early = z3.Or([s["fs", d] == 0 for d in m.fences[f].after])
            post = {f: z3.If(fresh, val, s["fs", f])}
            for c in ins.fires[1:]:                     # containers completed by this signal
                parts = [post.get(p, s["fs", p]) for p in m.fences[c].parts]
                done = (z3.Or if m.fences[c].kind == "any" else z3.And)([p != 0 for p in parts])
                err = z3.Or([p == 2 for p in parts])
                post[c] = z3.If(And(s["fs", c] == 0, done), z3.If(err, 2, 1), s["fs", c])
            upd = {("fs", g): v for g, v in post.items()}
            found = {"signal-before-deps": And(fresh, early)}
            runs = self._callback_runs(ins, stk)
            if runs == [[]]:
                add(T, upd, ins.nxt, found)
            else:                                       # which fences fire picks the callbacks
                fired = {c: And(s["fs", c] == 0, post[c] != 0) for c in ins.fires[1:]}
                conts = [c for c in ins.fires[1:] if c in self.callbacks]
                add(Not(fresh), upd, ins.nxt, found)
                for cbs in runs:
                    guard = And(fresh, *[fired[c] if c in cbs else Not(fired[c]) for c in conts])
                    if not cbs:
                        add(guard, upd, ins.nxt, found)
                        continue
                    u = dict(upd)
                    u["stk", a] = z3.IntVal(self.stacks.index(stk + self._callbacks_frames(pc, cbs)))
                    add(guard, u, self._callbacks_entry(cbs), found)
        elif isinstance(ins, Wait):
            pending = self.pending(s, ins)
            add(Not(pending), {}, ins.nxt)
            rest = self._enable(s, a, ins, stk, add, [(f, self.pending_one(s, ins, f))
                                                      for f in self.wait_fences(ins)])
            if ins.mode == "timeout":
                add(And(pending, rest), {}, ins.nxt)
            elif ins.mode == "interruptible":
                add(And(pending, s["irq"], rest), {}, ins.else_pc)
        elif isinstance(ins, Woken):
            add(T, {}, ins.nxt)
        elif isinstance(ins, WaitAny):
            add(T, {}, ins.nxt)
            for f, p in ins.picked.items():
                add(And(s["fp", f], s["fs", f] == 0), {}, p)
        elif isinstance(ins, Publish):
            f = ins.stmt.objs[0]
            upd = {("fp", f): z3.BoolVal(True)}
            found = {}
            if ins.stmt.op == "publish_in":
                r = ins.stmt.objs[1]
                upd["rv", m.locks[r].resv, f] = z3.BoolVal(True)
                if m.uses_usage:
                    k, ru, rv = USAGES.index(ins.stmt.usage or "write"), s["ru", m.locks[r].resv, f], \
                        s["rv", m.locks[r].resv, f]
                    upd["ru", m.locks[r].resv, f] = z3.If(z3.And(rv, ru < k), ru, k)
                found["publish-without-lock"] = s["lw", r] != a + 1
            add(T, upd, ins.nxt, found)
        elif isinstance(ins, Alloc):
            add(T, {}, ins.nxt)
            if ins.calls and not self.inside(stk, "reclaim") and not self._noreclaim(ins, pc, stk):
                upd = {}
                add(T, upd, self.call(upd, a, stk, pc))
        elif isinstance(ins, MmapWriter):
            ok = self.can_take(s, a, sys.MMAP, False)
            if ins.calls and self._nested(ins, stk):
                pass                                  # blocked on its own mmap_lock
            elif not ins.calls:
                add(ok, {}, ins.nxt)
            else:
                upd = {}
                self.take(upd, a, sys.MMAP, False, s)
                add(ok, upd, self.call(upd, a, stk, pc))
        elif isinstance(ins, Fault):
            if not ins.calls or self.inside(stk, "fault"):
                add(T, {}, ins.nxt)
            else:
                upd = {}
                actor = m.actors[a]
                if actor.preemptible and actor.engine >= 0:
                    k = ("en", actor.engine, a)
                    upd[k] = z3.If(s[k] > 0, s[k] - 1, s[k])
                add(T, upd, self.call(upd, a, stk, pc))
        elif isinstance(ins, HookReturn) and ins.chained:
            target, rest = self._callbacks_return(stk)
            add(T, {("stk", a): z3.IntVal(self.stacks.index(rest))}, target)
        elif isinstance(ins, HookReturn):
            site = stk[-1]
            upd = {("stk", a): z3.IntVal(self.stacks.index(stk[:-1]))}
            target = sys.code[site].nxt
            actor = m.actors[a]
            if ins.event in ("fork", "munmap"):
                upd["lw", sys.MMAP] = z3.IntVal(0)
                for b in range(self.A):
                    upd["lr", sys.MMAP, b] = z3.IntVal(0)
                add(T, upd, target)
            elif ins.event == "fault" and actor.preemptible and actor.engine >= 0:
                k = ("en", actor.engine, a)
                add(s[k] > 0, upd, target)
                add(And(s[k] == 0, self.slot_free(s, actor.engine)), {**upd, k: z3.IntVal(1)},
                    target)
            else:
                add(T, upd, target)
        elif isinstance(ins, (Start, Acquire)):
            e = ins.engine if isinstance(ins, Start) else ins.stmt.objs[0]
            deps = [s["fs", d] != 0 for d in ins.deps] if isinstance(ins, Start) else []
            add(And(self.slot_free(s, e), *deps), {("en", e, a): s["en", e, a] + 1}, ins.nxt)
            if isinstance(ins, Start) and ins.enable_sites:
                self._enable(s, a, ins, stk, add, [(d, s["fs", d] == 0) for d in ins.deps])
        elif isinstance(ins, Release):
            e = ins.stmt.objs[0]
            holds = s["en", e, a] > 0
            add(T, {("en", e, a): z3.If(holds, s["en", e, a] - 1, s["en", e, a])}, ins.nxt,
                {"unlock-not-held": Not(holds)})
        elif isinstance(ins, Interrupt):
            on = ins.stmt.op == "interrupt_waits"
            upd = {"irq": z3.BoolVal(on)}
            if on:
                for b in range(self.A):
                    if b == a:
                        continue
                    new = s["pc", b]
                    for p in sorted({p for p, _ in self.pairs[b]}):
                        w = sys.code[p]
                        if isinstance(w, Wait) and w.mode == "interruptible":
                            new = z3.If(And(s["pc", b] == p, self.pending(s, w)), w.woken_pc, new)
                    upd["pc", b] = new
            add(T, upd, ins.nxt)
        elif isinstance(ins, Assign):
            v = ins.stmt.objs[0]
            var = m.vars[v]
            x = self.expr(ins.stmt.expr, s)
            add(T, {("var", v): z3.If(x < var.lo, var.lo, z3.If(x > var.hi, var.hi, x))}, ins.nxt,
                {"assert": z3.Or(x < var.lo, x > var.hi)})
        elif isinstance(ins, Await):
            add(self.truth(ins.stmt.expr, s), {}, ins.nxt)
        elif isinstance(ins, Assert):
            add(T, {}, ins.nxt, {"assert": Not(self.truth(ins.stmt.expr, s))})
        elif isinstance(ins, Branch):
            cond = self.truth(ins.stmt.expr, s)
            add(cond, {}, ins.then_pc)
            add(Not(cond), {}, ins.nxt)
        elif isinstance(ins, Choose):
            for p in ins.targets:
                add(T, {}, p)
        elif isinstance(ins, Jump):
            add(T, {}, ins.nxt)
        else:                                                   # pragma: no cover
            raise self._refuse(ins, f"the smt engine cannot encode `{ins.stmt.text}`")

    # -- one step s -> t, chosen by the selector `sel`
    def step(self, s: dict, t: dict, sel):
        """The transition relation and, per kind, 'this step produces it'."""
        z3 = self.z3
        cases = self.build_cases(s)
        out = [sel >= 0, sel < len(cases)]
        out += [z3.Implies(sel == i, c.guard) for i, c in enumerate(cases)]
        for key, x in s.items():
            value = x
            for i, c in enumerate(cases):
                if key in c.upd:
                    value = z3.If(sel == i, c.upd[key], value)
            out.append(t[key] == value)
        found = {}
        for i, c in enumerate(cases):
            for kind, cond in c.found.items():
                found.setdefault(kind, []).append(z3.And(sel == i, cond))
        return z3.And(out), {k: z3.Or(v) for k, v in found.items()}, cases

    def compile(self) -> None:
        """Encode once over template states S -> T with selector SEL; each
        unrolled step is a substitution of these (done inside z3: fast)."""
        z3 = self.z3
        self.S, self.T, self.SEL = self.state("S"), self.state("T"), z3.Int("SEL")
        self.rel, self.found, cases = self.step(self.S, self.T, self.SEL)
        enabled = z3.Or([c.guard for c in cases] or [z3.BoolVal(False)])
        self.dead = z3.And(z3.Not(enabled), z3.Or([z3.And(self.S["pc", a] != DONE,
                                                          z3.Not(self.parked(self.S, a)))
                                                   for a in range(self.A)]))
        self.inv = z3.And(self.invariants(self.S))
        self.dom = self.domain(self.S)
        self.PREV = z3.Int("PREV")
        self.commute = z3.And([z3.Implies(self.SEL == j, z3.And([self.PREV != i for i in before]))
                               for j, before in enumerate(self.independent_before(cases)) if before])

    def at(self, pre: dict, post: dict = None, sel=None, prev=None):
        """A function putting template expressions on these step variables
        (z3's substitute without its per-pair Python checks)."""
        z3, expr_ref = self.z3, self.z3.z3._to_expr_ref
        src = [self.S[k] for k in self.S]
        dst = [pre[k] for k in self.S]
        if post is not None:
            src += [self.T[k] for k in self.T] + [self.SEL]
            dst += [post[k] for k in self.T] + [sel]
        if prev is not None:
            src.append(self.PREV)
            dst.append(prev)
        n = len(src)
        frm, to = (z3.Ast * n)(), (z3.Ast * n)()
        for i in range(n):
            frm[i], to[i] = src[i].as_ast(), dst[i].as_ast()
        ctx = self.SEL.ctx
        return lambda e: expr_ref(z3.Z3_substitute(ctx.ref(), e.as_ast(), n, frm, to), ctx)

    def independent_before(self, cases) -> list[list[int]]:
        """Per case j, the cases of higher-numbered actors that commute with it:
        neither writes what the other reads or writes (guards and findings
        included).  Forbidding such a case right before j keeps one order of
        every pair of independent adjacent steps: the same lengths, final
        states and findings, far fewer interleavings for z3."""
        s = self.S
        writes = [{k for k, v in c.upd.items() if not v.eq(s[k])} for c in cases]
        out = []
        for j, cj in enumerate(cases):
            out.append([i for i, ci in enumerate(cases) if ci.a > cj.a
                        and not writes[i] & (cj.reads | writes[j])
                        and not writes[j] & (ci.reads | writes[i])])
        return out

    def invariants(self, s: dict):
        return [self.truth(e, s) for _name, e, _line in self.m.invariants]


# ----------------------------------------------------------------- the search

def search(sys: System, depth: int = DEFAULT_DEPTH, timeout=None, kinds=KINDS) -> Run:
    """Iterative deepening to `depth` steps; one shortest witness per kind.
    A `timeout` (seconds) ends the deepening after the level it falls in."""
    import z3                                       # only when this engine runs
    started = time.monotonic()
    enc = Encoding(sys, z3)
    enc.compile()
    run = Run()
    solver = z3.Solver()
    states = [enc.state("s0")]
    sels = []
    solver.add(enc.initial(states[0]))
    want = [k for k in kinds if k != "unreachable" and (k != "invariant" or sys.invariants)]
    # `reachable`: a state within the depth satisfies it, or (once every
    # execution has ended) none does.  The commuting-step constraint keeps
    # one order of independent steps, and so every reachable state.
    pending = {name: enc.truth(e, enc.S) for name, e, _line in sys.m.reachables} \
        if "unreachable" in kinds else {}
    level = 0
    induction = _Induction(enc, z3, run)
    try:
        for k in range(depth + 1):
            level = k
            found_at: dict = {}
            if k:
                s, t, sel = states[-1], enc.state(f"s{k}"), z3.Int(f"sel{k}")
                on = enc.at(s, t, sel, sels[-1] if sels else None)
                solver.add(on(enc.rel))
                found_at = {kind: on(e) for kind, e in enc.found.items()}
                if sels:
                    solver.add(on(enc.commute))
                states.append(t)
                sels.append(sel)
                if not _sat(run, solver):                    # no execution has k steps
                    run.exhausted = True
                    break
            last = states[-1]
            goals = {}
            for kind in want:
                if kind == "deadlock":
                    goals[kind] = enc.at(last)(enc.dead)
                elif kind == "invariant":
                    goals[kind] = z3.Not(enc.at(last)(enc.inv))
                elif kind in found_at:
                    goals[kind] = found_at[kind]
            if goals and _sat(run, solver, _lit(z3, solver, z3.Or(list(goals.values())), f"any{k}")):
                for kind, goal in goals.items():
                    if _sat(run, solver, _lit(z3, solver, goal, f"{kind}{k}")):
                        run.findings.append((kind, _witness(enc, solver.model(), states, sels)))
                        want.remove(kind)
            for i, (name, cond) in enumerate(list(pending.items())):
                if _sat(run, solver, _lit(z3, solver, enc.at(last)(cond), f"reach{i}_{k}")):
                    run.reached[name] = k
                    del pending[name]
            if "invariant" in want and induction.step_holds(k):
                run.proved = [name for name, _e, _l in sys.m.invariants]
                want.remove("invariant")
            run.depth = k                           # level k fully searched
            if not want and not pending:
                break
            if timeout is not None and time.monotonic() - started >= timeout and k < depth:
                run.stopped = f"time limit reached ({timeout:g} s)"
                break
    except KeyboardInterrupt:
        run.stopped = "interrupted (Ctrl-C)"
    except _Unknown as e:
        run.stopped = f"z3 could not decide depth {level} ({e})"
    if run.exhausted and not run.stopped:
        run.unreached = list(pending)
    run.seconds = time.monotonic() - started
    run.encoding = enc
    return run


def _lit(z3, solver, cond, name):
    """An assumption literal standing for cond (keeps the solver incremental)."""
    lit = z3.Bool(f"goal_{name}")
    solver.add(z3.Implies(lit, cond))
    return lit


def _witness(enc: Encoding, model, states, sels) -> list[tuple[int, dict]]:
    """[(actor, z3's next state)] of the model's path, step by step."""
    out = []
    for sel, t in zip(sels, states[1:]):
        a = enc.case_actors[model.eval(sel, model_completion=True).as_long()]
        out.append((a, {k: _value(model.eval(x, model_completion=True)) for k, x in t.items()}))
    return out


def _value(v):
    import z3
    return z3.is_true(v) if z3.is_bool(v) else v.as_long()


def project(enc: Encoding, s: tuple) -> dict:
    """An explicit state in this module's terms, to compare with z3's."""
    L, m = enc.sys.L, enc.m
    out = {}
    for a in range(enc.A):
        out["pc", a] = s[L.PC + a]
        out["stk", a] = enc.stacks.index(s[L.STK + a])
    for l in range(len(m.locks)):
        v = s[L.LK + l]
        out["lw", l] = -v if v < 0 else 0
        for a in range(enc.A):
            out["lr", l, a] = int(v > 0 and bool(v >> a & 1)) + s[L.XL].count(("r", l, a))
    for f in range(len(m.fences)):
        out["fs", f] = s[L.FN + f] & 3
        out["fp", f] = bool(s[L.FN + f] & 4)
        if f in enc.enables:
            out["fe", f] = bool(s[L.FN + f] & ENABLED)
    for r in range(len(m.resvs)):
        for f in range(len(m.fences)):
            out["rv", r, f] = bool(s[L.RV + r] >> f & 1)
            if m.uses_usage:
                out["ru", r, f] = next((k for k in range(3) if s[L.US + 3 * r + k] >> f & 1), 3) \
                    if out["rv", r, f] else 0
    for e in range(len(m.engines)):
        for a in range(enc.A):
            out["en", e, a] = s[L.EN + e].count(a)
    for v in range(len(m.vars)):
        out["var", v] = s[L.VR + v]
    out["irq"] = bool(s[L.IRQ])
    for w in enc.works:
        queue = s[L.WQ + m.actors[w].wq]
        if enc.ordered(w):
            out["wo", w] = queue.index(w) + 1 if w in queue else 0
        else:
            out["wp", w] = w in queue
        if m.uses_flush:
            for a in range(enc.A):
                out["fb", a, w] = next(((x & 1) + 1 for x in s[L.FB + a] if x >> 1 == w), 0)
    return out


def replay(enc: Encoding, witness) -> list[tuple[int, tuple, tuple, list]]:
    """Run the witness through the explicit semantics: [(actor, before, after,
    findings)], each state checked against z3's."""
    sys = enc.sys
    s = sys.initial()
    out = []
    for n, (a, want) in enumerate(witness):
        for b, (nxt, _label, found, _t) in sys.successors(s):
            if b == a and nxt[sys.L.PC + a] == want["pc", a]:
                break
        else:
            raise EncodingError(f"step {n + 1}: {sys.actor(a)} cannot go to pc {want['pc', a]}")
        got = project(enc, nxt)
        diff = sorted(str(k) for k in want if got[k] != want[k])
        if diff:
            raise EncodingError(f"step {n + 1} by {sys.actor(a)}: z3 and the semantics differ on "
                                + ", ".join(diff))
        out.append((a, s, nxt, found))
        s = nxt
    return out


class _Induction:
    """k-induction, one k per call: k states in a row satisfying the
    invariants, all distinct (a simple path), cannot be followed by one that
    breaks them.  Together with the base case (no violation within k steps
    of the initial state) the invariants then hold at every depth."""

    def __init__(self, enc: Encoding, z3, run: Run):
        self.enc, self.z3, self.run = enc, z3, run
        self.solver = z3.Solver()
        self.us: list = []

    def step_holds(self, k: int) -> bool:
        z3, enc, us = self.z3, self.enc, self.us
        u = enc.state(f"u{k}")
        self.solver.add(enc.at(u)(enc.dom))
        if us:
            self.solver.add(enc.at(us[-1])(enc.inv))
            self.solver.add(enc.at(us[-1], u, z3.Int(f"usel{k}"))(enc.rel))
            self.solver.add([z3.Or([v[key] != u[key] for key in u]) for v in us])
        us.append(u)
        broken = z3.Bool(f"broken{k}")
        self.solver.add(z3.Implies(broken, z3.Not(enc.at(u)(enc.inv))))
        return not _sat(self.run, self.solver, broken)


class _Unknown(Exception):
    pass


def _sat(run: Run, solver, *assumptions) -> bool:
    import z3
    started = time.monotonic()
    r = solver.check(*assumptions)
    run.z3_seconds += time.monotonic() - started
    if r == z3.unknown:
        why = solver.reason_unknown()
        if why == "canceled":                  # z3 took the Ctrl-C
            raise KeyboardInterrupt
        raise _Unknown(why)
    return r == z3.sat


# ----------------------------------------------------------------- findings

def check(sys: System, depth: int = DEFAULT_DEPTH, timeout=None) -> tuple[list, Run]:
    """The search, its witnesses replayed into `trace.Finding`s as the
    explicit engine's are (same tables, same JSON)."""
    from ..verdicts import trace
    run = search(sys, depth, timeout)
    enc = run.encoding
    findings = []
    for kind, witness in run.findings:
        done = replay(enc, witness)
        states = [sys.initial()] + [after for _a, _b, after, _f in done]
        g = Graph(states=states)
        g.parent = array("l", range(-1, len(done)))
        g.via = array("h", [-1] + [a for a, *_ in done])
        n, last = len(done), states[-1]
        src, actor = (n - 1, done[-1][0]) if done else (0, -1)
        if kind == "deadlock":
            stuck = tuple(a for a in range(sys.L.A) if not sys.at_rest(last, a))
            if not stuck or any(True for _ in sys.successors(last)):
                raise EncodingError("the replayed state is not a global deadlock")
            names = ", ".join(_describe(sys, last, a) for a in stuck)
            item = StateFinding("deadlock", tuple(sorted(sys.where(last, a) for a in stuck)),
                                f"blocked forever: {names} (no actor can move)", n, stuck)
        else:
            pool = sys.invariant_failures(last) if kind == "invariant" else (done[-1][3] if done else ())
            hits = [f for f in pool if f[0] == kind]
            if not hits:
                raise EncodingError(f"the replayed trace does not produce {kind}")
            item = Found(kind, hits[0][1], hits[0][2], src, actor, n)
        findings.append(trace.build(sys, g, item))
    for name, _e, line in sys.m.reachables:
        if name in run.unreached:
            findings.append(trace.Finding(
                "unreachable", f'reachable "{name}" (line {line}): no reachable state satisfies it',
                final_state=trace.final_state(sys, sys.initial()), line=line))
    return findings, run


def _describe(sys: System, s: tuple, a: int) -> str:
    line, text = sys.where(s, a)
    frames = s[sys.L.STK + a]
    hook = f", in the {sys.code[frames[-1]].calls} hook" if frames and "(leaving" not in text else ""
    return f"{sys.actor(a)} at line {line} ({text}{hook})"
