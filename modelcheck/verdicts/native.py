"""The whole-graph analyses in C (`modelcheck.search._graph`, the source is
modelcheck/search/native/graph.c): the questions of `analysis.Analysis`,
whose reporting code runs unchanged on the per-state masks computed here.

The C code reads the explorer's CSR arrays and the packed state records in
place (buffer protocol, no copies).  Per-state actor sets are `array("Q")`
masks, 8 bytes a state: no numpy, no Python object per state or edge.
What a state's record holds where is described to it field by field
(`Records`), for either store: the native core's records (`NativeStates`)
and the Python explorer's (`store.Codec`).

Specs with more than 64 actors, or whose states are not stored packed, use
the reference, as do installs where the extension was not built.
"""
from __future__ import annotations

import struct
from array import array

from ..search.explorer import Graph
from ..semantics import DONE, PUBLISHED, HookReturn, System, Wait
from .analysis import Analysis

try:
    from ..search import _graph
except ImportError:                    # built with optional=True: no compiler
    _graph = None

MAX_ACTORS = 64
# the kinds of graph.c's field descriptors
ZERO, I8, I16, I32, I64, U8, U16, U32 = range(8)
BITS = 64                  # + n: n bits from a bit offset (the native core's records)
CODES = {"b": I8, "B": U8, "h": I16, "H": U16, "i": I32, "I": U32, "q": I64}


def available() -> bool:
    return _graph is not None


def applies(sys: System, g: Graph) -> bool:
    native = hasattr(g.states, "prog")              # the native core's records
    return _graph is not None and sys.L.A <= MAX_ACTORS and len(g.states) > 0 \
        and (native or getattr(g.states, "packed", False))


class Records:
    """Where each flat component of a state lies in its packed record: field
    descriptors (byte offset, kind, bias) for graph.c."""

    def __init__(self, sys: System, g: Graph):
        states = g.states
        self.data = states.data
        if hasattr(states, "prog"):               # native: bit-packed slots (Program.field)
            prog = states.prog
            self.rec = prog.REC

            def bits(i):
                at, n, lo = prog.field(i)
                return (at, BITS + n, lo) if n else (0, ZERO, lo)
            self.field = bits
            return
        codec = states.codec                       # Python store: pcs stored as pc + 1
        fmt = codec.packer.format
        fmt = fmt[1:] if fmt[0] in "<>=!@" else fmt
        offset, at = [], 0
        for c in fmt:
            offset.append(at)
            at += struct.calcsize("<" + c)
        self.rec = at
        where = {i: k for k, i in enumerate(codec.flat)}
        self.field = lambda i: (offset[where[i]], CODES[fmt[where[i]]], -1 if where[i] < codec.A else 0)

    def fields(self, indices) -> array:
        return array("i", [x for i in indices for x in self.field(i)])


class NativeAnalysis(Analysis):
    """The reference's reporting code, on masks computed in C."""

    def __init__(self, sys: System, g: Graph):
        self.sys, self.g = sys, g
        self.n = n = len(g.states)
        self.expanded = g.expanded
        A = sys.L.A
        self.all = (1 << A) - 1
        self.timeouts = array("i", sorted(g.timeout_edges)) if g.timeout_edges else None
        self.records = r = Records(sys, g)
        self.pcs = r.fields(range(sys.L.PC, sys.L.PC + A))
        self.enabled = self.masks()
        _graph.enabled(self.enabled, g.offsets, g.edges, g.edge_actor, self.all, None)
        deps = [actor.deps for actor in sys.m.actors]
        at = [0]
        for d in deps:
            at.append(at[-1] + len(d))
        self.finished = self.masks()       # at rest: finished, or held back by dependencies
        _graph.finished(self.finished, r.data, r.rec, self.pcs, DONE,
                        array("i", [sys.starts[a] for a in range(A)]), array("i", at),
                        r.fields(sys.L.FN + f for d in deps for f in d))

    def masks(self) -> array:
        return array("Q", [0]) * self.n

    def never_moves(self, enabled, skip_timeouts=False) -> array:
        out = self.masks()
        _graph.never_moves(out, self.g.offsets, self.g.edges, enabled, self.all,
                           self.timeouts if skip_timeouts else None)
        return out

    def no_timeout_enabled(self) -> array:
        out = self.masks()
        g = self.g
        _graph.enabled(out, g.offsets, g.edges, g.edge_actor, self.all,
                       self.timeouts if self.timeouts is not None else array("i"))
        return out

    def dead_states(self):
        dead = self.never_moves(self.enabled)
        where = _ints(_graph.without(dead, self.finished))
        return dead, where

    def places(self, dead, where):
        """The first dead state of each place (the dead actors and their
        pcs), in order; every one where a dead actor is leaving a hook (its
        line is read from its hook stack).  In growing parts of `where`:
        the reporting stops at the tenth finding, usually early on."""
        keep = bytes(isinstance(ins, HookReturn) for ins in self.sys.code)
        r = self.records
        kept, lo, size = array("i"), 0, 1024
        while lo < len(where):
            new = _ints(_graph.places(where[lo:lo + size], dead, r.data, r.rec, self.pcs, keep, kept))
            yield from new
            kept += new
            lo, size = lo + size, 2 * size

    def timeout_candidates(self, stuck) -> list[tuple[int, int]]:
        timed = bytes(isinstance(ins, Wait) and ins.mode == "timeout" for ins in self.sys.code)
        r = self.records
        pairs = _ints(_graph.timed_waits(stuck, self.expanded, r.data, r.rec, self.pcs, timed))
        return list(zip(pairs[0::2], pairs[1::2]))

    def unsignalled_candidates(self, dead) -> array:
        g = self.g
        return _ints(_graph.unsignalled(g.offsets, g.edges, g.edge_actor, self.enabled, dead,
                                        self.finished, self.all))

    def first_published(self, states) -> dict[int, int]:
        r = self.records
        fences = r.fields(range(self.sys.L.FN, self.sys.L.FN + len(self.sys.m.fences)))
        best = _graph.first_published(states, r.data, r.rec, fences, PUBLISHED)
        return {f: i for f, i in enumerate(best) if i >= 0}


class QuotientAnalysis(NativeAnalysis):
    """`symmetry.Symmetry._kinds` and `_fair_cycle` in C, on a quotient
    graph: "never moves again" carries each target's mask across its edge's
    renaming, and a cycle's fairness is judged on the orbits of its actors
    under the renamings met around it (`back`: per renaming id, w's actor b
    is v's actor back[id][b])."""

    def __init__(self, sys: System, g: Graph, back: list):
        super().__init__(sys, g)
        self.renamings = (g.edge_perm, array("i", [b for inv in back for b in inv]), sys.L.A)

    def never_moves(self, enabled, skip_timeouts=False) -> array:
        out = self.masks()
        _graph.never_moves(out, self.g.offsets, self.g.edges, enabled, self.all,
                           self.timeouts if skip_timeouts else None, *self.renamings)
        return out

    def unsignalled_candidates(self, dead) -> array:
        g = self.g
        return _ints(_graph.unsignalled(g.offsets, g.edges, g.edge_actor, self.enabled, dead,
                                        self.finished, self.all, *self.renamings))

    def kinds(self) -> set:
        """The kinds `Symmetry._kinds` and `_fair_cycle` decide."""
        sys, g, L = self.sys, self.g, self.sys.L
        kinds = set()
        dead, where = self.dead_states()
        if where:
            kinds.add("deadlock")
        if g.timeout_edges:
            stuck = self.never_moves(self.no_timeout_enabled(), skip_timeouts=True)
            for v, a in self.timeout_candidates(stuck):
                s = g.states[v]
                if not sys.at_rest(s, a) and sys.code[s[L.PC + a]].pending(s):
                    kinds.add("timeout-hang")
                    break
        # everyone at rest, or a fair cycle (the fences of a state only ever
        # gain bits, so each state of a cycle shows the same ones), a fence unsignalled
        if self.first_published(self.unsignalled_candidates(dead)):
            kinds.add("indefinite-fence")
        return kinds


def _ints(data: bytes) -> array:
    out = array("i")
    out.frombytes(data)
    return out
