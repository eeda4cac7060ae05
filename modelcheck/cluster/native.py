"""A native partition of `check --distributed`: the partition's states live
in the native core's store (vm.c's packed records in one open-addressing
table, `_vm.part_*`), and the native core's `step` expands them, so no
instruction is read twice over and no Python object is kept per state.

Native records are the same bytes in every process with the same spec,
so they are the wire format; a record's owner is read off its hash.  What
the partition keeps per state is a few numpy-able arrays: the global id of
each stored record, and for each expanded one its successors (CSR) and,
without gathering, the actor masks the "never moves again" fixpoint needs.

It answers the same calls as `distributed.Partition` (which delegates
here), with numpy arrays where that one has lists.  Messages of step
findings, invariants and lock contexts are worked out in Python for the
first state of each key only, as `native.explore` does.
"""
from __future__ import annotations

import ctypes
import pickle
from array import array

import numpy as np

from ..search import explorer
from ..search.native import EVT_INV, EVT_REACH, EVT_STEP, STOP_CAPACITY, Program, _vm
from ..semantics import System


CHUNK = 1 << 20         # edges turned into rows at a time


_PEAK = [0.0]


def _libc():
    try:
        libc = ctypes.CDLL("libc.so.6")
        return libc if hasattr(libc, "malloc_trim") and hasattr(libc, "mallopt") else None
    except OSError:                           # not glibc
        return None


_LIBC = _libc()


def return_freed() -> None:
    """Make what this worker frees go back to the system.  glibc's malloc
    raises its mmap threshold to the size of each big block freed, so the
    level's numpy temporaries end up on the heap, whose free pages it keeps:
    a worker's resident memory grew some 25 bytes a state over what it held.
    A fixed threshold (mallopt) keeps big blocks mmapped, unmapped when
    freed; malloc_trim gives back the heap's free pages."""
    if _LIBC is not None:
        _LIBC.mallopt(-3, 256 << 10)          # M_MMAP_THRESHOLD: fixed from now on
        _LIBC.mallopt(-1, 1 << 20)            # M_TRIM_THRESHOLD


def private_mb() -> float:
    """This worker's resident memory without the pages of Ray's object store
    it has mapped (shared memory: every worker on a node maps the same store,
    whose size Ray caps on its own, object_store_memory); the peak is kept.
    The heap's free pages are given back first (malloc_trim): what is
    measured is what the worker holds."""
    if _LIBC is not None:
        _LIBC.malloc_trim(0)
    try:
        with open("/proc/self/status") as f:
            kb = {k: int(v.split()[0]) for k, v in (line.split(":", 1) for line in f)
                  if k in ("VmRSS", "RssShmem")}
        mb = (kb["VmRSS"] - kb.get("RssShmem", 0)) / 1024
    except (OSError, KeyError, ValueError):
        mb = explorer.memory_mb()
    _PEAK[0] = max(_PEAK[0], mb)
    return mb


def peak_mb() -> float:
    """The most `private_mb` has seen since the last search started."""
    return _PEAK[0]


class Capacity(Exception):
    """A state beyond the native slots: the search runs again on Python partitions."""


def why_not(sys: System, symmetry: bool, core: str) -> str:
    """Why partitions of this run are Python ones ('' when they can be native)."""
    if core == "python":
        return "asked for"
    if _vm is None:
        return "C extension not built"
    if symmetry:
        from ..search.symmetry import Symmetry
        if not Symmetry(sys).why_off:
            return "symmetry on"
    return ""


def _grow(a: array, n: int, fill: int) -> None:
    """n more items of `fill` at the end of an array.array."""
    if n:
        a.frombytes(np.full(n, fill, np.dtype(a.typecode)).tobytes())


def _view(a: array, dtype):
    """A numpy view of an array.array (drop it before the array grows)."""
    return np.frombuffer(a, dtype) if len(a) else np.zeros(0, dtype)


class NativePart:
    def __init__(self, sys: System, index: int, parts: int, edges: bool):
        self.sys, self.index, self.parts, self.edges = sys, index, parts, edges
        self.prog = prog = Program(sys)           # raises Unsupported
        return_freed()
        self.h = _vm.part(prog.scalars(None), prog.frozen, parts)
        self.W = prog.REC
        self.A = sys.L.A
        self.gids = array("i")                    # local id -> global id (-1: cut)
        self.f_local = self.f_gid = np.zeros(0, np.int32)     # the frontier, by global id
        self.f_via = self.f_sw = np.zeros(0, np.int32)
        # expanded states (rows: the stored ones by global id, a prefix) and their steps
        self.counts = array("h")                  # steps of each row
        self.targets = array("i")                 # each step's target (global id)
        self.actors = array("b" if self.A < 128 else "h")     # ... its actor (gathering only)
        self.timeouts = array("q")                # edges that are timeouts
        masks = next(c for c in "BHIQ" if 8 * array(c).itemsize >= self.A)
        self.mask_type = np.dtype(masks)
        self.fix_type = np.dtype(np.uint32 if self.A <= 32 else np.uint64)     # fix_sweep's masks
        self.enabled = array(masks)               # --no-gather: actors that can move, per row
        self.towner = array("B" if parts < 256 else "H")    # ... each step's target's partition
        self.stuck: list = []
        self.found: list = []
        self.deps: dict = {}
        self.reached: dict = {}
        self.inv_open = bytearray([1]) * len(sys.invariants)
        self.reach_open = bytearray([1]) * len(sys.reachables)
        self.sent = 0
        self.sent_keys: list = []
        self.pending = None
        self.waiting = None
        self.edge_count = 0
        self._at_rest_plan()

    def _at_rest_plan(self) -> None:
        """System.at_rest per actor, as columns to read: (pc slot, start, dep fence slots)."""
        sys, L = self.sys, self.sys.L
        self.rest = [(L.PC + a, sys.starts[a], [L.FN + d for d in sys.m.actors[a].deps])
                     for a in range(self.A)]

    def _finished(self, data: bytes) -> np.ndarray:
        from ..search.native import NativeStates
        st = NativeStates(self.prog, data)
        out = np.zeros(len(st), np.uint64)
        for a, (pc_slot, start, deps) in enumerate(self.rest):
            pc = st.column(pc_slot)
            rest = pc == -1
            if deps:
                signalled = np.ones(len(st), bool)
                for d in deps:
                    signalled &= (st.column(d) & 3) != 0
                rest |= (pc == start) & ~signalled
            out |= rest.astype(np.uint64) << np.uint64(a)
        return out

    def state(self, local: int) -> tuple:
        prog = self.prog
        return prog.decode(prog.unpack(_vm.part_records(self.h, array("i", [local]).tobytes()), 0))

    # -- the initial state (every partition is asked; its owner keeps it)
    def start(self, _rec=None) -> None:
        rec, owner = _vm.part_pack(self.h, array("i", self.prog.tables["init"]).tobytes())
        if owner != self.index:
            return
        _vm.part_add(self.h, rec)
        self.gids.append(0)
        self.f_local, self.f_gid = np.zeros(1, np.int32), np.zeros(1, np.int32)
        self.f_via, self.f_sw = np.full(1, -1, np.int32), np.zeros(1, np.int32)
        s = self.sys.initial()
        for n, (kind, key, msg) in enumerate(self.sys.invariant_failures(s)):
            self.found.append(((-1, 0, 0, n), kind, key, msg, 0, -1, 0))
        for r, (name, f, _line) in enumerate(self.sys.reachables):
            if f(s):
                self.reached[name] = 0
                self.reach_open[r] = 0

    # -- 1. the steps of this partition's states of the level
    def expand(self) -> list:
        sys, parts, W = self.sys, self.parts, self.W
        recs, owners, actors, touts, counts, events, locks, stop = \
            _vm.part_expand(self.h, self.f_local.tobytes())
        if stop == STOP_CAPACITY:
            raise Capacity("a hook stack or queue beyond its slots")
        owners = np.frombuffer(owners, np.int32)
        actors = np.frombuffer(actors, np.int32)
        counts = np.frombuffer(counts, np.int32)
        tot = len(actors)
        starts = np.cumsum(counts) - counts
        src = np.repeat(self.f_gid, counts)
        k = np.arange(tot, dtype=np.int32) - np.repeat(starts, counts).astype(np.int32)
        via = np.repeat(self.f_via, counts)
        sw = np.repeat(self.f_sw, counts) + ((via != actors) & (via != -1))
        base = self.edge_count
        self.edge_count += tot
        # this partition's rows and edges (targets filled in by resolve)
        self.counts.frombytes(counts.astype(np.int16).tobytes())
        if self.edges:
            self.actors.frombytes(actors.astype(np.dtype(self.actors.typecode)).tobytes())
        _grow(self.targets, tot, -1)
        t = np.nonzero(np.frombuffer(touts, np.int32))[0]
        self.timeouts.frombytes((t + base).astype(np.int64).tobytes())
        # findings of steps: the messages from the Python step, for the first edge of each key
        ev = np.frombuffer(events, np.int32).reshape(-1, 5)
        for kind, x, q, a, kk in ev.tolist():
            assert kind == EVT_STEP
            s = self.state(int(self.f_local[q]))
            gid = int(self.f_gid[q])
            outs = sys.code[s[sys.L.PC + a]].step(s, a)
            for n, (fkind, key, msg) in enumerate(outs[x][2]):
                self.found.append(((gid, kk, 1, n), fkind, key, msg, gid, a,
                                   ("e", base + int(starts[q]) + kk)))
        ls = np.frombuffer(locks, np.int32).reshape(-1, 2)
        for q, a in ls.tolist():
            s = self.state(int(self.f_local[q]))
            key = (sys.lock_context(s, a), s[sys.L.PC + a])
            gid = int(self.f_gid[q])
            if key not in self.deps or gid < self.deps[key][0]:
                self.deps[key] = (gid, a)
        # stuck: no step, some actor not at rest
        fin = self._finished(_vm.part_records(self.h, self.f_local.tobytes()))
        every = np.uint64((1 << self.A) - 1)
        self.stuck.extend(self.f_gid[(counts == 0) & (fin != every)].tolist())
        if not self.edges:
            bit = np.uint64(1) << actors.astype(np.uint64)
            en = np.zeros(len(counts), np.uint64)
            has = counts > 0
            if tot:
                en[has] = np.bitwise_or.reduceat(bit, starts[has])
            self.enabled.frombytes(en.astype(self.mask_type).tobytes())
            self.towner.frombytes(owners.astype(np.dtype(self.towner.typecode)).tobytes())
        # the successors, to their owners
        order = np.argsort(owners, kind="stable")
        cut = np.searchsorted(owners[order], np.arange(parts + 1))
        R = np.frombuffer(recs, np.uint8).reshape(tot, W)
        blobs, self.sent_keys = [], []
        for q in range(parts):
            sel = order[cut[q]:cut[q + 1]]
            self.sent_keys.append((sel + base).astype(np.int64))
            blobs.append(pickle.dumps((R[sel].tobytes(), src[sel].astype(np.int32), k[sel].astype(np.int16),
                                       sw[sel].astype(np.int32), actors[sel].astype(np.int8)), protocol=5))
        self.sent += sum(len(b) for q, b in enumerate(blobs) if q != self.index)
        private_mb()
        return blobs if self.parts > 1 else blobs[0]     # one partition: one return value

    # -- 2. the successors this partition owns: known, or new at a position
    def receive(self, *blobs) -> tuple:
        batches = [list(pickle.loads(b)) for b in blobs]
        first, got = None, []
        try:                                      # batch by batch: the records are not joined
            for b in batches:                     # into one more copy, and go once stored
                ids, at = _vm.part_add(self.h, b[0])
                first = at if first is None else first
                got.append(np.frombuffer(ids, np.int32))
                b[0] = None
        except OverflowError as e:
            raise Capacity(str(e)) from None
        ids = np.concatenate(got)
        del got
        src = np.concatenate([b[1] for b in batches]).astype(np.int64)
        k = np.concatenate([b[2] for b in batches]).astype(np.int64)
        sw = np.concatenate([b[3] for b in batches]).astype(np.int64)
        a = np.concatenate([b[4] for b in batches]).astype(np.int64)
        self.waiting = (ids, np.cumsum([0] + [len(b[1]) for b in batches]))
        new = ids >= first
        u = ids[new] - first
        nnew = int(u.max()) + 1 if len(u) else 0
        src, k, sw, a = src[new], k[new], sw[new], a[new]
        # the first position (src, k) of each new state, and its best parent (sw, src, k)
        o = np.lexsort((k, src, u))
        lead = o[np.r_[True, u[o][1:] != u[o][:-1]]] if len(o) else o
        fsrc, fk, fa = src[lead], k[lead], a[lead]
        o = np.lexsort((k, src, sw, u))
        lead = o[np.r_[True, u[o][1:] != u[o][:-1]]] if len(o) else o
        best = np.stack([sw[lead], src[lead], k[lead], a[lead]], axis=1)
        order = np.lexsort((fk, fsrc))            # pending: by first position
        self.pending = (first + order.astype(np.int64), best[order], fsrc[order], fk[order], fa[order])
        _grow(self.gids, nnew, -1)
        firsts = np.stack([fsrc[order], fk[order]], axis=1)
        return firsts, best[order], private_mb()

    # -- 4. ids for the new states; every sender's targets
    def assign(self, ids) -> list:
        sys = self.sys
        ids = np.asarray(ids, np.int64)
        local, best, fsrc, fk, fa = self.pending
        keep = ids >= 0
        g = _view(self.gids, np.int32)
        g[local[keep]] = ids[keep]
        o = np.argsort(ids[keep], kind="stable")
        self.f_local = local[keep][o].astype(np.int32)
        self.f_gid = ids[keep][o].astype(np.int32)
        self.f_via = best[keep][o, 3].astype(np.int32)
        self.f_sw = best[keep][o, 0].astype(np.int32)
        if any(self.inv_open) or any(self.reach_open):
            pos = {int(x): (int(s_), int(k_), int(a_)) for x, s_, k_, a_ in
                   zip(local[keep], fsrc[keep], fk[keep], fa[keep])} if len(local) < 4096 else None
            hits = np.frombuffer(_vm.part_check(self.h, self.f_local.tobytes(), bytes(self.inv_open),
                                                bytes(self.reach_open)), np.int32).reshape(-1, 3)
            inv_first: dict = {}
            for q, kind, v in hits.tolist():
                loc, gid = int(self.f_local[q]), int(self.f_gid[q])
                if kind == EVT_REACH:
                    name = sys.reachables[v][0]
                    if gid < self.reached.get(name, float("inf")):
                        self.reached[name] = gid
                    continue
                if pos is None or loc not in pos:
                    j = int(np.nonzero(local == loc)[0][0])
                    p = (int(fsrc[j]), int(fk[j]), int(fa[j]))
                else:
                    p = pos[loc]
                if v not in inv_first or p < inv_first[v][0]:
                    inv_first[v] = (p, loc, gid)
            for r in range(len(self.reach_open)):
                if sys.reachables[r][0] in self.reached:
                    self.reach_open[r] = 0
            for v, ((s0, k0, a0), loc, gid) in inv_first.items():
                self.inv_open[v] = 0
                for n, (kind, key, msg) in enumerate(sys.invariant_failures(self.state(loc))):
                    self.found.append(((s0, k0, 0, n), kind, key, msg, s0, a0, gid))
        self.pending = None
        wid, cuts = self.waiting
        self.waiting = None
        answers = g[wid]
        del g
        blobs = [pickle.dumps(answers[cuts[q]:cuts[q + 1]], protocol=5) for q in range(len(cuts) - 1)]
        self.sent += sum(len(b) for q, b in enumerate(blobs) if q != self.index)
        return blobs if self.parts > 1 else blobs[0]     # one partition: one return value

    # -- 5. the targets of this partition's steps
    def resolve(self, *answers) -> None:
        t = _view(self.targets, np.int32)
        for keys, blob in zip(self.sent_keys, answers):
            t[keys] = pickle.loads(blob)
        self.sent_keys = []

    # -- the end
    def records_out(self, gids=None) -> tuple:
        """(global ids, native records): all stored ones, or those of `gids`."""
        g = _view(self.gids, np.int32)
        if gids is None:
            return g.copy(), _vm.part_records(self.h, None)
        local = np.nonzero(np.isin(g, np.asarray(sorted(gids), np.int32)))[0].astype(np.int32)
        return g[local].copy(), _vm.part_records(self.h, local.tobytes())

    def rows(self) -> np.ndarray:
        """The global id of each expanded state: states are expanded by id."""
        g = _view(self.gids, np.int32)
        return np.sort(g[g >= 0])[:len(self.counts)]

    # -- "an actor never moves again" without gathering: the fixpoint of
    # distributed.Partition, with each state's value sent only to the
    # partitions that have a step to it, as an index into what they asked for
    def fix_start(self) -> list:
        """The search is over (its results taken): the visited table goes and
        the records are put in row order (by global id), so that `gids`,
        sorted, is the global id of each row and of each record; the
        targets become, in place, rows here or -1 - an index of `remote`
        (the targets elsewhere, by owner then id); [0, what each partition is
        asked for]."""
        g = _view(self.gids, np.int32)
        if len(g) != len(self.counts) or (len(g) and g.min() < 0):
            raise ValueError("the fixpoint needs every state stored expanded (a finished search)")
        _vm.part_seal(self.h, np.argsort(g, kind="stable").astype(np.int32).tobytes())
        g.sort()
        self.row_gids = rows = g
        T, O = _view(self.targets, np.int32), _view(self.towner, np.dtype(self.towner.typecode))
        # per owner, the ids asked for, sorted; remote index = asked_at[q] + place there
        asks = []
        for q in range(self.parts):
            keys = [np.zeros(0, np.int32)]
            for at in range(0, len(T) if q != self.index else 0, CHUNK):   # no graph-sized temporaries
                keys.append(np.unique(T[at:at + CHUNK][O[at:at + CHUNK] == q]))
            asks.append(np.unique(np.concatenate(keys)))
            del keys
        self.asked_at = np.concatenate([[0], np.cumsum([len(x) for x in asks])])
        for at in range(0, len(T), CHUNK):
            t, o = T[at:at + CHUNK], O[at:at + CHUNK]
            out = np.searchsorted(rows, t)
            for q in range(self.parts):
                if q != self.index:
                    sel = o == q
                    out[sel] = -1 - (self.asked_at[q] + np.searchsorted(asks[q], t[sel]))
            t[:] = out
            del t, o, out
        del T, O
        self.towner = None
        self.remote_vals = np.zeros(int(self.asked_at[-1]), self.fix_type)
        private_mb()
        return [0] + asks                         # numpy arrays: Ray moves them without a pickled copy

    def fix_subscribe(self, *asks) -> list:
        """asks[q]: the ids partition q wants the values of."""
        self.subs = [np.searchsorted(self.row_gids, ids).astype(np.int32) for ids in asks]
        R = _view(self.enabled, self.mask_type)
        self.R = R if R.dtype == self.fix_type else R.astype(self.fix_type)   # in place when it can
        self.enabled = None
        self.dirty = (self.R != 0).view(np.uint8)    # changed since sent (all sent were 0)
        self._sweep()
        return self._export()

    def _sweep(self) -> None:
        _vm.fix_sweep(self.counts, self.targets, self.remote_vals, self.R, self.fix_type.itemsize == 8,
                      self.dirty)

    def fix_round(self, *deltas) -> list:
        changed = False
        for q, (k, v) in enumerate(deltas):
            if k is None:                         # all of them
                part = self.remote_vals[self.asked_at[q]:self.asked_at[q + 1]]
                new = part | v.astype(self.fix_type)
                changed |= bool((new != part).any())
                part[:] = new
                continue
            if not len(k):
                continue
            at = self.asked_at[q] + k
            old = self.remote_vals[at]
            new = old | v.astype(self.fix_type)
            if (new != old).any():
                self.remote_vals[at] = new
                changed = True
        if changed:
            self._sweep()
        return self._export()

    def _export(self) -> list:
        """[values sent, to each partition: (index in its ask, value) of those that changed]."""
        out, total = [], 0
        for sub in self.subs:
            ks, vs = [], []
            for at in range(0, len(sub), CHUNK):  # no temporaries the size of the ask
                rows = sub[at:at + CHUNK]
                k = np.flatnonzero(self.dirty[rows])
                ks.append((k + at).astype(np.int32))
                vs.append(self.R[rows[k]])
            k = np.concatenate(ks) if ks else np.zeros(0, np.int32)
            total += len(k)
            if 2 * len(k) > len(sub):             # most of them: all, without indices
                out.append((None, self.R[sub]))
            else:
                out.append((k, np.concatenate(vs) if vs else self.R[:0]))
            del ks, vs, k
        self.dirty[:] = 0
        return [(total, private_mb())] + out

    def dead(self, limit: int) -> list:
        """The first rows where some actor not at rest never moves again;
        the actors at rest are read off the records (row order since
        fix_start), a chunk at a time, rather than kept per state."""
        every = np.uint64((1 << self.A) - 1)
        out: list = []
        for at in range(0, len(self.R), CHUNK // 16):
            if len(out) >= limit:
                break
            never = every & ~self.R[at:at + CHUNK // 16].astype(np.uint64)
            maybe = np.flatnonzero(never)
            if not len(maybe):
                continue
            fin = self._finished(_vm.part_records(self.h, (maybe + at).astype(np.int32).tobytes()))
            d = never[maybe] & ~fin
            for i in np.flatnonzero(d)[:limit - len(out)]:
                out.append((int(self.row_gids[at + maybe[i]]), int(d[i])))
        return out

    def results(self) -> dict:
        t = _view(self.targets, np.int32)
        found = []
        for order, kind, key, msg, src, a, dst in self.found:
            if isinstance(dst, tuple):
                dst = int(t[dst[1]])
            found.append((order, kind, key, msg, src, a, dst))
        del t
        nstates, held, ran, entered = _vm.part_info(self.h)
        out = {"found": found, "deps": self.deps, "reached": self.reached, "sent": self.sent,
               "memory": private_mb(), "peak": peak_mb(),
               "stuck": self.stuck, "edges": self.edge_count,
               "ran": {pc - 1 for pc, x in enumerate(ran) if x},
               "entered": {pc - 1 for pc, x in enumerate(entered) if x},
               "stored": nstates, "store_bytes": held, "bytes": self.bytes_held(held)}
        if self.edges:
            out["csr"] = (array("i", self.rows().tobytes()), self.counts, self.targets, self.actors,
                          self.timeouts)
        return out

    def bytes_held(self, store: int) -> int:
        """What this partition holds: the native store, and its arrays."""
        arrays = (self.gids, self.counts, self.targets, self.actors, self.timeouts, self.enabled)
        return store + sum(a.buffer_info()[1] * a.itemsize for a in arrays if a is not None) + sum(
            getattr(self, x).nbytes for x in ("remote_vals", "dirty") if hasattr(self, x))
