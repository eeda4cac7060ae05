"""The whole-graph analyses on the explorer's CSR arrays, with numpy and
scipy.sparse.csgraph: the same questions as `analysis.Analysis` (which stays
the reference, and is what runs when these do not apply), answered without a
Python object per state or per edge.

- "actor a is enabled in no state reachable from v" is one backward
  breadth-first search per actor, from the states where a is enabled;
- the fair-cycle refinement refines every strongly connected component at
  once: one `connected_components(connection="strong")` per round, on the
  edges still inside a component of the round before; a round drops, in each
  unfair component, the states where an actor that never moves inside it is
  enabled, so there are at most as many rounds as actors, plus one;
- per-state facts (finished actors, fence states) are read as columns of the
  packed state records, not by unpacking each state.

Actor sets are uint64 masks: specs with more than 63 actors, or whose states
are not stored packed, use the reference.  This module runs only where the
C analyses (`native`) were not built.
"""
from __future__ import annotations

import os
import struct

# Nothing here multiplies matrices: BLAS threads would only spin beside the
# search (set before numpy is first imported; a program that imported it
# already keeps its own setting).
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402
from scipy.sparse import csr_matrix  # noqa: E402
from scipy.sparse.csgraph import breadth_first_order, connected_components

from ..search.explorer import Graph
from ..semantics import DONE, PUBLISHED, System, Wait
from .analysis import Analysis

MAX_ACTORS = 63
CHUNK = 1 << 20          # states per slice where a per-actor table is read


def applies(sys: System, g: Graph) -> bool:
    native = hasattr(g.states, "prog")              # the native core's slot vectors
    return sys.L.A <= MAX_ACTORS and len(g.states) > 0 and (native or getattr(g.states, "packed", False))


def _np(arr, dtype=None) -> np.ndarray:
    """A copy of an `array.array` (no buffer export left behind: the graph's
    columns must stay resizable)."""
    return np.array(memoryview(arr), dtype=dtype) if len(arr) else np.zeros(0, dtype or np.int64)


def or_rows(values: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """Per CSR row, the OR of its values (0 for an empty row)."""
    rows = len(offsets) - 1
    if rows <= 0:
        return np.zeros(0, np.uint64)
    padded = np.append(values, np.uint64(0))
    out = np.bitwise_or.reduceat(padded, offsets[:-1])
    out[offsets[:-1] == offsets[1:]] = 0
    return out


class Columns:
    """Flat fields of every stored state, as numpy columns: read in place
    from the packed records of the Python store; from the native core's
    states, the pcs and fences of each state decoded once (its record
    layout is the core's own)."""

    def __init__(self, g: Graph, sys: System):
        self.native = hasattr(g.states, "prog")
        if self.native:                 # columns read from its records when asked for
            self.states = g.states
            return
        codec = g.states.codec
        fmt = codec.packer.format
        fmt = fmt[1:] if fmt[0] in "<>=!@" else fmt
        self.offset, at = [], 0
        for c in fmt:
            self.offset.append(at)
            at += struct.calcsize("<" + c)
        self.codes = fmt
        self.where = {i: k for k, i in enumerate(codec.flat)}   # state index -> record field
        self.A = codec.A
        # a view of the records, not a copy: the store no longer grows once
        # the search is over, and this view lives as long as the analysis
        self.raw = np.frombuffer(g.states.data, np.uint8).reshape(len(g.states), at) \
            if len(g.states) else np.zeros((0, at), np.uint8)

    def get(self, index: int, rows=None) -> np.ndarray:
        """Field `index` of the states (all, or those in `rows`), as ints."""
        if self.native:
            return self.states.column(index, rows)
        k = self.where[index]
        code = self.codes[k]
        size = struct.calcsize("<" + code)
        raw = self.raw if rows is None else self.raw[rows]
        col = np.ascontiguousarray(raw[:, self.offset[k]:self.offset[k] + size])
        out = col.view(np.dtype("<" + code)).reshape(-1).astype(np.int64 if code in "Iq" else np.int32)
        if k < self.A:                        # pcs are stored as pc + 1 (DONE is 0)
            out -= 1
        return out

    def pcs(self, pc: int, actors: int, start: int, stop: int) -> np.ndarray:
        """The pcs of states start..stop-1, one row each, read in one pass
        over those records (a column at a time would walk them all per actor)."""
        if self.native:
            return np.stack([self.states.column(pc + a, slice(start, stop)) for a in range(actors)],
                            axis=1) if actors else np.zeros((stop - start, 0), np.int32)
        code = self.codes[0]
        size = struct.calcsize("<" + code)
        block = np.ascontiguousarray(self.raw[start:stop, :actors * size])
        return block.view(np.dtype("<" + code)).reshape(stop - start, actors).astype(np.int32) - 1


class FastAnalysis(Analysis):
    """The reference's reporting code, on per-state arrays computed here."""

    def __init__(self, sys: System, g: Graph):
        self.sys, self.g = sys, g
        self.n = n = len(g.states)
        self.expanded = x = g.expanded
        A = sys.L.A
        self.all = (1 << A) - 1
        self.offsets = _np(g.offsets, np.int64)
        self.edges = _np(g.edges, np.int32)
        self.actor = _np(g.edge_actor, np.int8 if A < 128 else np.int16)
        self.src = np.repeat(np.arange(x, dtype=np.int32), np.diff(self.offsets))
        self.timeout = np.zeros(len(self.edges), bool)
        if g.timeout_edges:
            self.timeout[np.fromiter(g.timeout_edges, np.int64, len(g.timeout_edges))] = True
        self.cols = Columns(g, sys)
        every = np.uint64(self.all)
        self.enabled = np.full(n, every, np.uint64)
        self.enabled[:x] = or_rows(self.bits(), self.offsets)
        done = np.zeros(n, np.uint64)
        weights = np.left_shift(np.uint64(1), np.arange(A, dtype=np.uint64))
        for lo in range(0, n, CHUNK):
            hi = min(n, lo + CHUNK)
            at_end = self.cols.pcs(sys.L.PC, A, lo, hi) == DONE
            done[lo:hi] = np.bitwise_or.reduce(np.where(at_end, weights, np.uint64(0)), axis=1) \
                if A else 0
        self.done = done
        if any(actor.deps for actor in sys.m.actors):        # held back by dependencies
            self.finished = np.fromiter((sum(1 << a for a in range(A) if sys.at_rest(s, a))
                                         for s in g.states), np.uint64, n)
        else:
            self.finished = done

    def bits(self, which=slice(None)) -> np.ndarray:
        """1 << the actor of each edge (of the edges selected by `which`)."""
        return np.left_shift(np.uint64(1), self.actor[which].astype(np.uint64))

    def never_moves(self, enabled: np.ndarray, skip_timeouts: bool = False) -> np.ndarray:
        """Per state, the actors enabled in no state reachable from it: one
        backward search per actor from the states where it is enabled."""
        n = self.n
        keep = ~self.timeout if skip_timeouts else slice(None)
        src, dst = self.src[keep], self.edges[keep]
        order = np.argsort(dst, kind="stable")
        rsrc = src[order]                            # predecessors, grouped by state
        del order
        counts = np.bincount(dst, minlength=n) if len(dst) else np.zeros(n, np.int64)
        indptr = np.zeros(n + 2, np.int32 if len(dst) + n < 2**31 else np.int64)
        np.cumsum(counts, out=indptr[1:n + 1])
        reach = np.zeros(n, np.uint64)
        ones = np.ones(len(rsrc) + n)              # the weights csgraph wants, shared by all
        for a in range(self.sys.L.A if n else 0):
            bit = np.uint64(1 << a)
            starts = np.flatnonzero(enabled & bit).astype(np.int32)
            if len(starts) == 0:
                continue
            if len(starts) == n:
                reach |= bit
                continue
            indptr[n + 1] = indptr[n] + len(starts)      # node n: a source before all of them
            indices = np.concatenate([rsrc, starts]).astype(indptr.dtype, copy=False)
            m = csr_matrix((ones[:len(indices)], indices, indptr), shape=(n + 1, n + 1))
            seen = breadth_first_order(m, n, directed=True, return_predecessors=False)
            reach[seen[seen < n]] |= bit
            del m, indices, seen
        return np.uint64(self.all) & ~reach

    def no_timeout_enabled(self) -> np.ndarray:
        out = np.full(self.n, np.uint64(self.all), np.uint64)
        out[:self.expanded] = or_rows(np.where(self.timeout, np.uint64(0), self.bits()), self.offsets)
        return out

    def dead_states(self):
        dead = self.never_moves(self.enabled) & ~self.finished
        return dead, np.flatnonzero(dead).tolist()

    def timeout_candidates(self, stuck: np.ndarray) -> list[tuple[int, int]]:
        sys = self.sys
        timed = np.array([isinstance(ins, Wait) and ins.mode == "timeout" for ins in sys.code] + [False])
        x, A = min(self.n, self.expanded), sys.L.A
        shifts = np.arange(A, dtype=np.uint64)
        out = []
        for lo in range(0, x, CHUNK):
            hi = min(x, lo + CHUNK)
            at_wait = timed[self.cols.pcs(sys.L.PC, A, lo, hi)]    # DONE (-1) reads the False at the end
            hit = at_wait & ((stuck[lo:hi, None] >> shifts) & np.uint64(1)).astype(bool)
            rows, actors = np.nonzero(hit)                        # row-major: in the reference's order
            out += zip((rows + lo).tolist(), actors.tolist())
        return out

    def unsignalled_candidates(self, dead: np.ndarray) -> np.ndarray:
        x = self.expanded
        live = np.zeros(self.n, bool)
        live[:x] = dead[:x] == 0
        leaf = np.zeros(self.n, bool)
        leaf[:x] = self.offsets[:-1] == self.offsets[1:]
        final = np.flatnonzero(live & leaf & (self.finished == np.uint64(self.all)))
        return np.concatenate([final, self.fair_cycle_states(live)])

    def first_published(self, states: np.ndarray) -> dict[int, int]:
        best = {}
        if len(states) == 0:
            return best
        FN = self.sys.L.FN
        for f in range(len(self.sys.m.fences)):
            published = (self.cols.get(FN + f, states) & 7) == PUBLISHED
            if published.any():
                best[f] = int(states[published].min())
        return best

    def fair_cycle_states(self, live: np.ndarray) -> np.ndarray:
        """The least state of every fair cycle among the `live` states (bool
        mask), found as `analysis.Analysis._fair_cycles` finds them."""
        n = self.n
        x = self.expanded
        src, dst = self.src, self.edges
        active = np.zeros(n, bool)
        active[:x] = live[:x]
        group = np.zeros(n, np.int32)
        out = []
        while active.any():
            inner = active[src] & active[dst] & (group[src] == group[dst])
            s, d = src[inner], dst[inner]
            indptr = np.zeros(n + 1, np.int32 if len(s) < 2**31 else np.int64)
            np.cumsum(np.bincount(s, minlength=n), out=indptr[1:])   # s is sorted: CSR as it is
            m = csr_matrix((np.ones(len(s)), d.copy(), indptr), shape=(n, n))
            m.sum_duplicates()      # (in place) csgraph's strong components loop on repeated entries
            del indptr
            _k, label = connected_components(m, directed=True, connection="strong")
            k = label.max() + 1
            same = label[s] == label[d]
            cs, cb = label[s[same]], self.bits(inner)[same]
            del m
            moved = np.zeros(k, np.uint64)
            np.bitwise_or.at(moved, cs, cb)
            has_edge = np.zeros(k, bool)
            has_edge[cs] = True
            nodes = np.flatnonzero(active)
            size = np.bincount(label[nodes], minlength=k)
            enabled_any = np.zeros(k, np.uint64)
            np.bitwise_or.at(enabled_any, label[nodes], self.enabled[nodes])
            cyclic = (size > 1) | has_edge
            unfair = enabled_any & ~moved
            fair = cyclic & (unfair == 0) & (size > 0)
            first = np.full(k, n, nodes.dtype)
            np.minimum.at(first, label[nodes], nodes)
            out.append(first[fair])
            lab = label[nodes]
            stay = cyclic[lab] & (unfair[lab] != 0) & ((self.enabled[nodes] & unfair[lab]) == 0)
            active[:] = False
            active[nodes[stay]] = True
            group = label
        return np.concatenate(out) if out else np.zeros(0, np.int64)
