"""The native search core: the Python side.

`System`'s compiled instructions are flattened here into int arrays (one
fixed-width record per instruction, lists in a shared pool, expressions
as a small stack bytecode) for the generic C virtual machine in `vm.c`
(the extension module `modelcheck.search._vm`), which runs the
breadth-first search of `explorer.explore` and hands back the graph
arrays.  The result is an `explorer.Graph` the rest of the pipeline reads
unchanged: same state numbering, same edge order, same shortest paths.

What the machine cannot tell by itself is done here afterwards, from its
logs: the messages of step findings (the Python step is run again on the
first edge of each finding), invariant and `reachable` names, and lock
contexts (computed for the first (state, actor) of each memo key).

`why_not(sys, limits)` says why a spec runs on the Python explorer
instead: the extension is not built, reduction or symmetry is on, or a
value does not fit the machine's fixed-width slots.
"""
from __future__ import annotations

import time
from array import array

from ...language.model import BINOPS, USAGES
from ...semantics import System
from ...semantics.callbacks import FenceSite
from ...semantics.control import Assert, Assign, Await, Branch, Choose, Jump
from ...semantics.engines import Acquire, Release, Start
from ...semantics.fences import Interrupt, Publish, Signal, Wait, WaitAny, Woken
from ...semantics.irq import IrqFire
from ...semantics.locks import Lock, Trylock, Unlock, WwBegin, WwEnd
from ...semantics.memory import Alloc, Fault, HookReturn, MmapWriter
from ...semantics.system import MAX_READ_DEPTH
from ..reduction import SAMPLE
from . import symtab
from ...semantics.work import (CancelWait, CancelWork, FlushWait, FlushWork, FlushWorkqueue,
                               QueueWork, WorkStart)

try:
    from .. import _vm
except ImportError:                    # built with optional=True: no compiler, no core
    _vm = None

SCALARS = ("W", "A", "NCODE", "NLOCKS", "NFENCES", "NENGINES", "NWQ", "NIRQS", "NRESVS",
           "PC", "STK", "LK", "FN", "RV", "EN", "VR", "IRQ", "WQ", "US", "US_N", "XL", "WW", "HO",
           "IRQ_ON", "IRQ_OFF", "MMAP", "SLEEPCHK", "MAXOUT", "NINV", "NREACH", "MAXF",
           "MAXSTATES", "NSIZE", "REC", "RED", "TRIAL", "SAMPLE", "FB", "FLUSH", "EARLY", "SYM")
ARRAYS = ("off", "cap", "code", "pool", "actors", "locks", "fences", "engines", "wqs", "evs",
          "resvs", "spins", "acq", "invs", "reach", "init", "bits", "conf", "cpool", "lo", "sym")
OPS = {cls: n for n, cls in enumerate(
    (Lock, Trylock, WwBegin, WwEnd, Unlock, Signal, Wait, Woken, WaitAny, Publish, Interrupt,
     Alloc, MmapWriter, Fault, HookReturn, FenceSite, Start, Acquire, Release, Assign, Await,
     Assert, Branch, Choose, Jump, IrqFire, QueueWork, WorkStart, FlushWork, CancelWork,
     CancelWait, FlushWorkqueue, FlushWait), start=1)}
NF = 20
EVENTS = ("reclaim", "fork", "munmap", "fault")
KINDS = {"thread": 0, "job": 1, "work": 2, "irq": 3}
EXPR = {tag: n for n, tag in enumerate(
    ("end", "int", "comp", "signalled", "errored", "published", "held", "done", "pending",
     "running", "not", "neg", "and", "or", "+", "-", "*", "/", "%", "==", "!=", "<", "<=",
     ">", ">="))}
STOPS = {1: "state limit reached ({} states)", 2: "time limit reached ({:g} s)",
         3: "memory limit reached ({} MB)", 4: "interrupted (Ctrl-C)", 5: "out of memory"}
EVT_STEP, EVT_INV, EVT_REACH = 1, 2, 3
STOP_CAPACITY, STOP_EARLY = 6, 8
# states per block of a --workers search (0: the core's own, 64); the tests
# make it small, so that a small spec runs many chunks, one beside another
BLOCK = 0
INT32 = (-(1 << 31), (1 << 31) - 1)


def available() -> bool:
    return _vm is not None


def status() -> str:
    """For --version and the JSON: which search core this install has."""
    return "native (C extension modelcheck.search._vm)" if _vm else \
        "python only (the C extension was not built)"


def analyses_status() -> str:
    """For --version: where the whole-graph analyses run (verdicts/native.py
    with the extension, else verdicts/graphs.py), without importing either."""
    from importlib.util import find_spec
    return "C (extension modelcheck.search._graph)" if find_spec("modelcheck.search._graph") else \
        "numpy and scipy (the C extension was not built)"


class Unsupported(Exception):
    """The spec needs something the machine's fixed-width slots cannot hold."""


class Program:
    """The flattened tables of one System, and how slot vectors map to tuples."""

    def __init__(self, sys: System, reduce=None, sym=None):
        self.sys, self.reduce, self.sym = sys, reduce, sym
        L, m = sys.L, sys.m
        # masks: of actors, 64-bit (enabled sets) but 32-bit where a lock slot holds
        # its readers; of fences (a resv's) and of locks (irqsave), 32-bit
        self.shared = shared = any(sh for ins in sys.code for _l, sh in _takes(sys, ins))
        if L.A > 62 or shared and L.A > 30:
            raise Unsupported("over 30 actors beside a lock taken shared" if L.A <= 62
                              else "over 62 actors")
        if m.resvs and len(m.fences) > 30 or L.irqs and len(m.locks) > 30:
            raise Unsupported("over 30 fences in resvs or locks with irqs")
        if any(v.lo < INT32[0] or v.hi > INT32[1] for v in m.vars):
            raise Unsupported("a var beyond 32 bits")
        if len(sys.code) >= 1 << 24:
            raise Unsupported("too much code")
        # nested components and their capacities: bounds read off the code
        # (a state beyond one stops the machine: the Python explorer runs instead)
        own = set().union(*sys.actor_code) if sys.actor_code else set()
        hook_pcs = [pc for pc in range(len(sys.code)) if pc not in own]
        takes = lambda pcs: [(l, shared) for pc in pcs for l, shared in _takes(sys, sys.code[pc])]
        shared_rw = {l for l, shared in takes(range(len(sys.code)))
                     if shared and l >= 0 and m.locks[l].kind == "rwsem"}
        nested = {l for ins in sys.code if isinstance(ins, Lock) and ins.nested for l in ins.ids}
        caps = {L.XL: min(64, len(nested) + len(shared_rw) * L.A * (MAX_READ_DEPTH - 1)),
                L.WW: L.A if m.uses_ww else 0}
        for a in range(L.A):
            caps[L.STK + a] = min(16, 2 * len(sys.hooks) + 1) if sys.hooks else 0
            held = {l for l, _shared in takes(list(sys.actor_code[a]) + hook_pcs)}
            caps[L.HO + a] = len(held) + (MAX_READ_DEPTH - 1) * len(held & shared_rw)
        for e, eng in enumerate(m.engines):
            caps[L.EN + e] = max(1, min(eng.slots, L.A))
        for q in range(len(m.workqueues)):
            caps[L.WQ + q] = max(1, len(sys.work_items[q]))
        for a in range(L.A if m.uses_flush else 0):         # one barrier per work item at most
            caps[L.FB + a] = max(1, sum(len(items) for items in sys.work_items))
        self.caps = caps
        off, cap, w = [], [], 0
        for i in range(L.size):
            off.append(w)
            cap.append(caps.get(i, 0))
            w += 1 + caps.get(i, 0) if i in caps else 1
        self.off, self.cap, self.W = off, cap, w
        self.pool: list[int] = [0]
        self.events = {e: n for n, e in enumerate(EVENTS)}
        for f in range(len(m.fences)):
            self.events[m.fence_event("signal", f)] = 4 + 2 * f
            self.events[m.fence_event("enable_signaling", f)] = 5 + 2 * f
        self.maxout = max([L.A, len(m.fences)] + [len(ins.targets) for ins in sys.code
                                                  if isinstance(ins, Choose)]) + 2
        code = []
        for ins in sys.code:
            code += self.instr(ins)
        self.code = code
        actors = []
        for a, actor in enumerate(m.actors):
            cw = sorted(sys.cancel_waits.get(a, ()))
            actors += [KINDS[actor.kind], actor.engine, actor.wq, int(actor.preemptible),
                       sys.starts[a], self.list(actor.deps), len(actor.deps),
                       L.irqs.index(a) if a in L.irqs else -1, self.list(cw), len(cw)]
        locks = []
        for l, lock in enumerate(m.locks):
            writers = sorted(sys.writer_pcs.get(l, ()))
            locks += [("mutex", "spinlock", "rwsem", "resv").index(lock.kind)
                      if lock.kind in ("mutex", "spinlock", "rwsem", "resv") else 0,
                      self.list(writers), len(writers)]
        fences = []
        for f, fence in enumerate(m.fences):
            cont, tparts = m.containers_of(f), m.parts_of(f)
            sig_site = sys.fence_sites["signal"].get(f)
            fences += [{"": 0, "all": 1, "any": 2, "chain": 3}.get(fence.kind, 1),
                       self.list(fence.parts), len(fence.parts),
                       self.list(fence.after), len(fence.after), self.list(cont), len(cont),
                       -1 if sig_site is None else sig_site,
                       self.entry(m.fence_event("signal", f)),
                       self.entry(m.fence_event("enable_signaling", f)),
                       self.list(tparts), len(tparts)]
        evs = [self.entry(e) for e in EVENTS]
        for f in range(len(m.fences)):
            evs += [self.entry(m.fence_event("signal", f)),
                    self.entry(m.fence_event("enable_signaling", f))]
        self.invs = [self.expr(e) for _name, e, _line in m.invariants]
        self.reach = [self.expr(e) for _name, e, _line in m.reachables]
        self.tables = {
            "off": off, "cap": cap, "code": code, "pool": self.pool, "actors": actors,
            "locks": locks, "fences": fences, "engines": [e.slots for e in m.engines],
            "wqs": [int(q.ordered) for q in m.workqueues], "evs": evs, "resvs": list(m.resvs),
            "spins": list(sys.spinlocks), "acq": [int(x) for x in sys.acquiring],
            "invs": self.invs, "reach": self.reach, "init": self.encode(sys.initial())}
        self._layout()
        self.tables["bits"], self.tables["lo"] = self.bits, self.lo
        self.tables["conf"], self.tables["cpool"] = self._conflicts(reduce)
        try:
            self.tables["sym"] = symtab.table(sys, sym) if sym else []
        except symtab.Unrenamable as e:
            raise Unsupported(f"symmetry with {e}") from None
        self.frozen = tuple(array("i", self.tables[name]).tobytes() for name in ARRAYS)
        self._decode_plan()

    # -- tables
    def list(self, xs) -> int:
        at = len(self.pool)
        self.pool.extend(int(x) for x in xs)
        return at

    def entry(self, event: str) -> int:
        hook = self.sys.hooks.get(event)
        return hook[0] if hook else -1

    def expr(self, e) -> int:
        out: list[int] = []
        self._expr(e, out)
        out.append(EXPR["end"])
        return self.list(out)

    def _expr(self, e, out: list) -> None:
        L, tag = self.sys.L, e[0]
        if tag == "int":
            if not INT32[0] <= e[1] <= INT32[1]:
                raise Unsupported("a constant beyond 32 bits")
            out += [EXPR["int"], e[1]]
        elif tag == "var":
            out += [EXPR["comp"], L.VR + e[1]]
        elif tag in ("signalled", "errored", "published"):
            out += [EXPR[tag], L.FN + e[1]]
        elif tag == "held":
            out += [EXPR["held"], L.LK + e[1]]
        elif tag == "done":
            out += [EXPR["done"], len(e[1]), *e[1]]
        elif tag in ("pending", "running"):
            out += [EXPR[tag], e[1]]
        elif tag in ("not", "neg"):
            self._expr(e[1], out)
            out.append(EXPR[tag])
        elif tag in ("and", "or"):
            for x in e[1]:
                self._expr(x, out)
            out += [EXPR[tag], len(e[1])]
        elif tag == "bin":
            if e[1] not in BINOPS or e[1] not in EXPR:
                raise Unsupported(f"the operator {e[1]}")
            self._expr(e[2], out)
            self._expr(e[3], out)
            out.append(EXPR[e[1]])
        else:
            raise Unsupported(f"the expression {tag}")

    def instr(self, ins) -> list:
        sys, m = self.sys, self.sys.m
        op = OPS.get(type(ins))
        if op is None:
            raise Unsupported(f"the instruction {type(ins).__name__}")
        fs = 0
        if isinstance(ins, FenceSite):
            fs = 1 if ins.kind == "signal" else 2
        calls = self.events.get(ins.calls, -1) if ins.calls else -1
        x: list[int] = []
        if isinstance(ins, Lock):
            x = [self.list(ins.ids), len(ins.ids), int(ins.shared), int(ins.nested),
                 int(ins.irqsave), -1 if ins.ww_restart is None else ins.ww_restart,
                 -1 if ins.one is None else ins.one]
        elif isinstance(ins, Trylock):
            x = [ins.l, int(ins.shared), ins.else_pc]
        elif isinstance(ins, Unlock):
            x = [self.list(ins.stmt.objs), len(ins.stmt.objs), int(ins.stmt.mode == "shared")]
        elif isinstance(ins, Signal):
            x = [ins.stmt.objs[0], int(ins.stmt.mode == "error"), int(ins.quick)]
        elif isinstance(ins, Wait):
            sites = [v for f, site in ins.enable_sites.items() for v in (f, site)]
            mode = {"": 0, None: 0, "interruptible": 1, "timeout": 2}.get(ins.mode)
            if mode is None:
                raise Unsupported(f"wait mode {ins.mode}")
            x = [-1 if ins.fence is None else ins.fence, -1 if ins.mask is None else ins.mask,
                 mode, -1 if ins.else_pc is None else ins.else_pc, int(ins.plain is not None),
                 self.list(sites), len(ins.enable_sites), getattr(ins, "woken_pc", -1)]
        elif isinstance(ins, WaitAny):
            pairs = [v for f, pc in ins.picked.items() for v in (f, pc)]
            x = [self.list(pairs), len(ins.picked)]
        elif isinstance(ins, Publish):
            f = ins.stmt.objs[0]
            if ins.stmt.op == "publish_in":
                r = ins.stmt.objs[1]
                x = [f, r, m.locks[r].resv, USAGES.index(ins.stmt.usage or "write")]
            else:
                x = [f, -1, -1, 0]
        elif isinstance(ins, Interrupt):
            x = [int(ins.stmt.op == "interrupt_waits")]
        elif isinstance(ins, Alloc):
            x = [int(bool(ins.calls))]
        elif isinstance(ins, MmapWriter):
            x = [int(bool(ins.calls)), self.events[ins.event]]
        elif isinstance(ins, Fault):
            x = [int(bool(ins.calls))]
        elif isinstance(ins, HookReturn):
            x = [self.events.get(ins.event, -1), int(ins.chained)]
        elif isinstance(ins, Start):
            sites = [v for f, site in ins.enable_sites.items() for v in (f, site)]
            x = [ins.engine, self.list(sites), len(ins.enable_sites)]
        elif isinstance(ins, (Acquire, Release)):
            x = [ins.stmt.objs[0]]
        elif isinstance(ins, Assign):
            v = ins.stmt.objs[0]
            x = [v, m.vars[v].lo, m.vars[v].hi, self.expr(ins.stmt.expr)]
        elif isinstance(ins, (Await, Assert)):
            x = [self.expr(ins.stmt.expr)]
        elif isinstance(ins, Branch):
            x = [self.expr(ins.stmt.expr), ins.then_pc]
        elif isinstance(ins, Choose):
            x = [self.list(ins.targets), len(ins.targets)]
        elif isinstance(ins, IrqFire):
            x = [ins.h]
        elif isinstance(ins, QueueWork):
            x = [ins.w, ins.q, int(ins.ordered)]
        elif isinstance(ins, WorkStart):
            items = sys.work_items[ins.q]
            x = [ins.q, int(ins.ordered), self.list(items), len(items)]
        elif isinstance(ins, FlushWorkqueue):
            items = sys.work_items[ins.q]
            x = [self.list(items), len(items), ins.wait_pc]
        elif isinstance(ins, FlushWork):
            x = [ins.w, ins.wait_pc]
        elif isinstance(ins, CancelWork):
            x = [ins.w, ins.q, ins.wait_pc]
        elif isinstance(ins, CancelWait):
            x = [ins.w]
        rec = [op, ins.nxt, ins.site, int(bool(ins.may_sleep)), ins.scope, calls, fs,
               getattr(ins, "fence", -1) if fs else -1, ins.sig] + x
        if len(rec) > NF:
            raise Unsupported("an instruction record too wide")      # pragma: no cover
        return rec + [0] * (NF - len(rec))

    def scalars(self, max_states, early: int = 0) -> bytes:
        """The scalar table; `early`: 1 in early-bug mode, 2 when a finding
        holds at the initial state already."""
        from ..explorer import REDUCTION_TRIAL
        sys, L, m = self.sys, self.sys.L, self.sys.m
        v = {"W": self.W, "A": L.A, "NCODE": len(sys.code), "NLOCKS": len(m.locks),
             "NFENCES": len(m.fences), "NENGINES": len(m.engines), "NWQ": len(m.workqueues),
             "NIRQS": len(L.irqs), "NRESVS": len(m.resvs), "PC": L.PC, "STK": L.STK,
             "LK": L.LK, "FN": L.FN, "RV": L.RV, "EN": L.EN, "VR": L.VR, "IRQ": L.IRQ,
             "WQ": L.WQ, "US": L.US, "US_N": L.US_N, "XL": L.XL, "WW": L.WW, "HO": L.HO,
             "IRQ_ON": L.IRQ_ON, "IRQ_OFF": L.IRQ_OFF, "MMAP": sys.MMAP,
             "SLEEPCHK": int(bool(sys.spinlocks or sys.fence_hooks or L.irqs)),
             "MAXOUT": self.maxout, "NINV": len(self.invs), "NREACH": len(self.reach),
             "MAXF": len(m.locks) + len(m.engines) + 8,
             "MAXSTATES": -1 if max_states is None else max_states, "NSIZE": L.size,
             "REC": self.REC, "RED": int(self.reduce is not None), "TRIAL": REDUCTION_TRIAL,
             "SAMPLE": SAMPLE, "FB": L.FB, "FLUSH": int(m.uses_flush), "EARLY": early,
             "SYM": int(self.sym is not None)}
        return array("i", [v[name] for name in SCALARS]).tobytes()

    def _conflicts(self, red) -> tuple[list, list]:
        """Reduction's conflict masks for every (actor, pc): conf[x * ncode + pc]
        -> at in cpool: [count, visible, (b, offset of b's pc bitset) * count]."""
        if red is None:
            return [], []
        n = len(self.sys.code)
        conf, cpool = [-1] * (self.sys.L.A * n), [0]
        words = (n + 31) // 32
        for x, fps in enumerate(red.fp):
            for pc, fp in fps.items():
                pairs = red._conflicting(x, pc)
                at = len(cpool)
                conf[x * n + pc] = at
                cpool += [len(pairs), int(bool(fp[1] & red.invariant_reads))] + [0] * (2 * len(pairs))
                for k, (b, mask) in enumerate(pairs):
                    cpool[at + 2 + 2 * k] = b
                    cpool[at + 3 + 2 * k] = len(cpool)
                    cpool += [(mask >> (32 * j)) & 0xFFFFFFFF for j in range(words)]
        cpool = [v - (1 << 32) if v >= 1 << 31 else v for v in cpool]
        return conf, cpool

    def _layout(self) -> None:
        """A stored record: each slot as value - lo in the bits its range
        needs (0 bits: always lo), end to end, little-endian."""
        sys, L, m = self.sys, self.sys.L, self.sys.m
        n, A, NL, NF_ = len(sys.code), L.A, len(m.locks), len(m.fences)
        rng = {}
        for a in range(A):
            rng[L.PC + a] = (-1, n)
            rng[L.STK + a] = (0, n)
            rng[L.HO + a] = (0, ((NL + 1) << 8) | 255)
        for l in range(NL):            # -(owner + 1), or a mask of readers
            rng[L.LK + l] = (-A, (1 << A) - 1 if self.shared else 0)
        for f in range(NF_):
            rng[L.FN + f] = (0, 15)
        for i in list(range(L.RV, L.RV + len(m.resvs))) + list(range(L.US, L.US + L.US_N)):
            rng[i] = (0, (1 << NF_) - 1)
        for e in range(len(m.engines)):
            rng[L.EN + e] = (0, A)
        for v, var in enumerate(m.vars):
            rng[L.VR + v] = (var.lo, var.hi)
        rng[L.IRQ] = (0, 1)
        for q in range(len(m.workqueues)):
            rng[L.WQ + q] = (0, A)
        rng[L.XL] = (0, (1 << 24) | (NL << 8) | A)
        for a in range(A if m.uses_flush else 0):
            rng[L.FB + a] = (0, 2 * A + 1)
        rng[L.WW] = (0, A)
        for h in range(len(L.irqs)):
            rng[L.IRQ_ON + h] = (-1, A)
        for a in range(A if L.irqs else 0):
            rng[L.IRQ_OFF + a] = (0, (1 << NL) - 1)
        bits, low = [], []
        for i in range(L.size):
            lo, hi = rng.get(i, (INT32[0], INT32[1]))
            if i in self.caps:
                bits.append(self.caps[i].bit_length())
                low.append(0)
                bits += [(hi - lo).bit_length() if self.caps[i] else 0] * self.caps[i]
                low += [lo if self.caps[i] else 0] * self.caps[i]
            else:
                bits.append((hi - lo).bit_length())
                low.append(lo)
        self.bits, self.lo = bits, low
        self.at, at = [], 0                 # bit offset of each slot
        for b in bits:
            self.at.append(at)
            at += b
        self.REC = (at + 7) // 8
        self.fields = [(o, (1 << b) - 1, lo) for o, b, lo in zip(self.at, bits, low)]

    def field(self, i: int) -> tuple[int, int, int]:
        """Where flat component i of a state lies in a record: (bit offset,
        bits, lo); its value is lo + the bits read there."""
        k = self.off[i]
        return self.at[k], self.bits[k], self.lo[k]

    def unpack(self, data, i: int) -> list:
        """The slot vector of record i in `data`."""
        x = int.from_bytes(data[i * self.REC:(i + 1) * self.REC], "little")
        return [((x >> o) & m) + lo for o, m, lo in self.fields]

    # -- slot vectors <-> tuples
    def encode(self, s: tuple) -> list:
        out = []
        XL = self.sys.L.XL
        for i, v in enumerate(s):
            if i in self.caps:
                items = [self._xl(e) for e in v] if i == XL else list(v)
                if len(items) > self.caps[i]:
                    raise Unsupported("a nested component beyond its capacity")
                out += [len(items)] + items + [0] * (self.caps[i] - len(items))
            else:
                out.append(v)
        return out

    @staticmethod
    def _xl(e) -> int:
        return e[1] if e[0] == "n" else (1 << 24) | (e[1] << 8) | e[2]

    @staticmethod
    def _unxl(x: int):
        return ("r", (x >> 8) & 0xFFFF, x & 0xFF) if x >> 24 else ("n", x)

    def _decode_plan(self) -> None:
        self.plan = [(self.off[i], self.cap[i] if i in self.caps else -1, i == self.sys.L.XL)
                     for i in range(self.sys.L.size)]

    def decode(self, v) -> tuple:
        """The state tuple of a slot vector (any int sequence)."""
        out = []
        for o, cap, xl in self.plan:
            if cap < 0:
                out.append(v[o])
            else:
                items = tuple(v[o + 1:o + 1 + v[o]])
                out.append(tuple(self._unxl(x) for x in items) if xl else items)
        return tuple(out)


class NativeStates:
    """id -> state tuple over the machine's packed records (what `Graph.states`
    is to the rest of the pipeline)."""

    def __init__(self, prog: Program, data: memoryview):
        self.prog = prog
        self.width = prog.REC
        self.data = data
        self.n = len(data) // self.width

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self[k] for k in range(*i.indices(len(self)))]
        if i < 0:
            i += self.n
        if not 0 <= i < self.n:
            raise IndexError(i)
        prog = self.prog
        return prog.decode(prog.unpack(self.data, i))

    def __iter__(self):
        prog = self.prog
        return (prog.decode(prog.unpack(self.data, i)) for i in range(self.n))

    def __delitem__(self, sl: slice) -> None:
        n = sl.start
        if n < self.n:
            self.data = self.data[:n * self.width]
            self.n = n

    def column(self, i: int, rows=None):
        """Flat component i of every state (or of `rows`: a slice or an index
        array), as a numpy int32 array read through a strided view of the
        packed records: the analyses want the pcs and fences of millions of
        states, and decoding each state into a tuple costs 100x."""
        import numpy as np
        prog = self.prog
        at, bits, lo = prog.field(i)
        rows = slice(None) if rows is None else rows
        if bits == 0:                               # a component that is always lo
            return np.full(self.n, lo, np.int32)[rows]
        raw = np.frombuffer(self.data, np.uint8, self.n * self.width).reshape(self.n, self.width)
        first, span = at >> 3, ((at & 7) + bits + 7) >> 3
        v = np.zeros(len(raw[rows, 0]), np.uint64)
        for k in range(span):
            v |= raw[rows, first + k].astype(np.uint64) << np.uint64(8 * k)
        v = (v >> np.uint64(at & 7)) & np.uint64((1 << bits) - 1)
        return (v.astype(np.int64) + lo).astype(np.int32)


def _takes(sys: System, ins) -> list:
    """(lock, shared) pairs an instruction may add to the taker's held stack
    (-1: the ww context)."""
    if isinstance(ins, Lock):
        return [(l, ins.shared) for l in ins.ids]
    if isinstance(ins, Trylock):
        return [(ins.l, ins.shared)]
    if isinstance(ins, MmapWriter):
        return [(sys.MMAP, False)]
    if isinstance(ins, WwBegin):
        return [(-1, False)]
    return []


def why_not(sys: System, limits) -> str:
    """Why this run cannot use the native core ('' when it can)."""
    if _vm is None:
        return "C extension not built"
    return ""


def explore(sys: System, limits, started: float, origin, progress=None) -> "Graph | str":
    """The native search; a Graph, or a string saying why it could not run."""
    from ..explorer import EARLY_STOP, Found, Graph, unreached
    from ..reduction import Reduction
    from ..symmetry import Symmetry
    reduce = Reduction(sys) if limits.reduction else None
    g = Graph(states=None)
    g.reduction, g.symmetry = "on" if reduce else "off", "off"
    if reduce and reduce.why_off:
        g.reduction, reduce = f"off for this spec: {reduce.why_off}", None
    sym = Symmetry(sys) if limits.symmetry else None
    g.symmetry = "on" if sym else "off"
    if sym and sym.why_off:
        g.symmetry, sym = f"off for this spec: {sym.why_off}", None
    try:
        prog = Program(sys, reduce, sym)
    except Unsupported as e:
        return str(e)
    init = sys.initial()
    for kind, key, msg in sys.invariant_failures(init):
        g.found.setdefault((kind, key), Found(kind, key, msg, 0, -1, 0))
    targets = []
    for name, f, _line in sys.reachables:
        if f(init):
            g.reached[name] = 0
        targets.append(0 if f(init) else 1)
    from ..explorer import _limit_hit
    last = [started]
    codes = {"time": 2, "memory": 3}

    def tick(states: int, depth: int) -> int:
        """Every 1024 states: the limits (as the Python explorer, on its
        clock) and the progress line."""
        now = time.monotonic()
        why = _limit_hit(limits, states, now - (origin or started))
        if why:
            return codes[why.split()[0]]
        if progress and now - last[0] >= 1.0:
            progress(_Progress(states, depth), now - started)
            last[0] = now
        return 0

    try:
        early = 2 if limits.early and g.found else int(limits.early)
        out = _vm.explore(prog.scalars(limits.max_states, early), tick, prog.frozen, bytes(targets),
                          limits.workers, BLOCK)
    except ValueError as e:              # an extension built from other sources than this glue
        return f"the native core was built from other sources ({e}): rebuild it with make"
    if out["stop"] == STOP_CAPACITY:
        return "a hook stack or queue beyond its slots"
    ints = lambda name, code="i": _ints(out.pop(name), code)   # each copy freed once read
    small = "b" if sys.L.A < 128 else "h"
    g.states = NativeStates(prog, memoryview(out.pop("states")))   # the core's records, not a copy
    g.pruned = out["pruned"]
    if out["trial_at"]:
        g.reduction = f"on for the first {out['trial_at']} states, then off: it saved about " \
                      f"{out['saved']} of {out['trial_states']} states"
    g.parent, g.depth, g.switches = ints("parent"), ints("depth"), ints("switches")
    g.via = ints("via", small)
    g.offsets, g.edges = ints("offsets"), ints("edges")
    g.edge_actor = ints("edge_actor", small)
    if sym:                              # the renamings, numbered as Symmetry._perm_id does
        A = sys.L.A
        maps = ints("perms")
        sym.perm_list = [tuple(maps[k:k + A]) for k in range(0, len(maps), A)]
        sym.perms = {amap: n for n, amap in enumerate(sym.perm_list)}
        g.edge_perm, g.quotient = ints("edge_perm"), sym
    g.timeout_edges = set(ints("timeouts"))
    g.ran = {pc - 1 for pc, x in enumerate(bytes(out["ran"])) if x}
    g.entered = {pc - 1 for pc, x in enumerate(bytes(out["entered"])) if x}
    code, PC, states = sys.code, sys.L.PC, g.states
    ev = ints("events")
    for k in range(0, len(ev), 5):
        kind, x, src, a, dst = ev[k:k + 5]
        if kind == EVT_STEP:
            s = states[src]
            outs = code[s[PC + a]].step(s, a)
            for fkind, key, msg in outs[x][2]:
                g.found.setdefault((fkind, key), Found(fkind, key, msg, src, a, dst))
        elif kind == EVT_INV:
            name, _f, line = sys.invariants[x]
            g.found.setdefault(("invariant", (name,)), Found(
                "invariant", (name,), f'invariant "{name}" (line {line}) does not hold', src, a, dst))
        elif kind == EVT_REACH:
            g.reached[sys.reachables[x][0]] = dst
    ls = ints("locksteps")
    for k in range(0, len(ls), 2):
        i, a = ls[k], ls[k + 1]
        s = states[i]
        key = (sys.lock_context(s, a), s[PC + a])
        if key not in g.deps:
            g.deps[key] = (i, a)
    stop = out["stop"]
    if stop == STOP_EARLY:          # early-bug mode: as explorer.explore_python stops
        g.stopped, g.stuck = EARLY_STOP, out["stuck"]
        g.early = "deadlock" if g.stuck >= 0 else \
            min(g.found.values(), key=lambda f: (g.depth[f.src], f.src)).kind
    elif stop:
        arg = {1: limits.max_states, 2: limits.timeout, 3: limits.max_memory_mb}.get(stop)
        g.stopped = STOPS[stop].format(arg)
    if stop:
        n = min(len(g.states), len(g.parent), len(g.via), len(g.depth), len(g.switches))
        for column in (g.states, g.parent, g.via, g.depth, g.switches):
            del column[n:]
        g.found = {k: f for k, f in g.found.items() if f.dst < n}
        e = g.offsets[-1]
        for column in (g.edges, g.edge_actor, g.edge_perm):
            del column[e:]
        g.timeout_edges = {t for t in g.timeout_edges if t < e}
    else:
        for name, _f, line in sys.reachables:
            if name not in g.reached:
                g.found[("unreachable", (name,))] = unreached(name, line)
    g.core = "native"
    g.seconds = time.monotonic() - started
    return g


class _Progress:
    """What a progress callback reads of a Graph while the native search runs."""

    def __init__(self, states: int, depth: int):
        self.states, self.depth = range(states), [depth]


def _ints(data: bytes, code: str = "i") -> array:
    a = array(code)
    a.frombytes(data)
    return a
