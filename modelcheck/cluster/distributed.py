"""`modelcheck check --distributed`: the exhaustive breadth-first search with
its states hash-partitioned over Ray actors.

Every state belongs to one partition, which stores it.  Partitions are
native where the native core can run the spec (native.py: the core's step
and a collapsed store of its records, which are the wire format; the owner
is read off a record's hash), else Python ones (this class: the semantics
of `semantics/`, crc32 of a canonical wire record mod P).  The search is level-synchronous, and it numbers states exactly as
the single-process search does (explorer.explore_python, without partial-order
reduction), so the usual analyses, traces and reports run on the result:

1. `expand`: each partition computes the steps of its states of the level,
   in id order, and sends every successor to the partition that owns it,
   with the position of the step that found it (source id, edge index);
2. `receive`: each owner looks the successors up; those it does not know are
   new, first found at the least position; it answers with their positions;
3. the coordinator merges the positions: the k-th new state in position order
   gets the k-th next id (this is the single-process order: states expanded
   in id order, their steps in actor then outcome order); it also keeps
   parents, actors, depths and context switches, 10 bytes a state (13 with
   128 actors or more);
4. `assign`: owners store their new states under their ids, check invariants
   and `reachable`s on them, and answer the senders with the id of every
   step's target; `resolve`: senders complete their edges.

The parent of a new state is the first one found among those with the
fewest context switches, as in one process.  At the end the graph is
gathered on the coordinator (states re-packed with the coordinator's codec,
successor lists in id order), and every finding kind is decided there as in
`check`.  Python partitions send records in a canonical "wire" form (the
flat fields packed, the nested ones spelt out) since each process's codec
numbers nested fields its own way.  `--max-memory` is per worker: each
reports its memory after every level and every fixpoint round.

Partial-order reduction is off here: its cycle proviso asks whether a step
goes back to a state found earlier in the same level, which only the
global order knows.  Symmetry reduction (a function of the state alone) runs.
"""
from __future__ import annotations

import ast
import pickle
import struct
import time
import zlib
from array import array

import numpy as np
from typing import Callable, Optional

from .. import api
from . import native
from ..search import explorer
from ..search.explorer import Found, Graph, unreached
from ..search.native import NativeStates, Program, Unsupported
from ..search.store import Codec, States
from ..search.symmetry import Symmetry
from ..semantics import System
from ..verdicts import analysis


class Wire:
    """State <-> a record that is the same bytes in every process."""

    def __init__(self, sys: System):
        self.codec = c = Codec(sys)
        self.A = c.A
        self.flat = struct.Struct(c.packer.format[:-1]) if c.packer else None
        self.spelt: dict = {}         # nested fields -> their text
        self.read: dict = {}          # text -> nested fields

    def pack(self, s: tuple) -> bytes:
        if self.flat is None:
            return repr(s).encode()
        nested = self.codec.get_nested(s)
        text = self.spelt.get(nested)
        if text is None:
            text = self.spelt[nested] = repr(nested).encode()
        return self.flat.pack(*[pc + 1 for pc in s[:self.A]], *self.codec.get_rest(s)) + text

    def unpack(self, rec: bytes) -> tuple:
        if self.flat is None:
            return ast.literal_eval(rec.decode())
        w = self.flat.size
        text = rec[w:]
        nested = self.read.get(text)
        if nested is None:
            nested = self.read[text] = ast.literal_eval(text.decode())
        vals = self.flat.unpack(rec[:w])
        return self.codec.reorder(tuple([pc - 1 for pc in vals[:self.A]]) + vals[self.A:] + (0,) + nested)


def owner(rec: bytes, parts: int) -> int:
    return zlib.crc32(rec) % parts


class Partition:
    """One partition's store and its share of every level (a Ray actor)."""

    def __init__(self, text: str = "", path: str = "", params=None, index: int = 0, parts: int = 1,
                 symmetry: bool = False, edges: bool = True, core: str = "auto"):
        if text:
            self.load(text, path, params, index, parts, symmetry, edges, core)

    def load(self, text: str, path: str, params, index: int, parts: int, symmetry: bool,
             edges: bool = True, core: str = "auto") -> str:
        """A new search: the spec, and this partition's place (actors are reused);
        no text: forget the last search.  Which partition it is: native (the
        states in the native core's store, native.py) or python, and why."""
        if not text:
            self.__dict__.clear()
            self.native = None
            return ""
        self.sys = sys = System(api.load(text, path, params))
        self.native = None
        native._PEAK[0] = 0.0
        why = native.why_not(sys, symmetry, core)
        if not why:
            try:
                self.native = native.NativePart(sys, index, parts, edges)
                return "native"
            except Unsupported as e:
                why = str(e)
        self.index, self.parts = index, parts
        self.wire = Wire(sys)
        self.sym = Symmetry(sys) if symmetry else None
        if self.sym and self.sym.why_off:
            self.sym = None
        self.store = States(self.wire.codec)  # the partition's states, packed, fixed width
        self.gids = array("q")                # local order -> global id (increasing)
        self.edges = edges                    # keep every edge (the graph is gathered at the end)
        self.stuck: list = []                 # gids where no actor can move, some unfinished
        self.succ: dict = {}                  # --no-gather: gid -> successor gids
        self.enabled: dict = {}               # ... gid -> actors that can move there (mask)
        self.finished: dict = {}              # ... gid -> actors at rest there (mask)
        self.edge_count = 0
        self.frontier: list = []              # [(gid, state, via, switches)] to expand, by gid
        self.pending: list = []               # this level's new candidates
        self.expanded: dict = {}              # gid -> [targets, actors, timeouts, perms]
        self.waiting: list = []               # (gid, edge) of targets still unknown, per sender
        self.found: list = []                 # (order, kind, key, msg, src, actor, dst or edge ref)
        self.deps: dict = {}                  # (lock context, pc) -> (gid, actor)
        self.memo: dict = {}
        self.ran, self.entered = set(), set()
        self.reached: dict = {}               # reachable name -> least gid
        self.sent = 0                         # bytes sent to other partitions
        self.sent_keys: list = []             # per receiver, (gid, edge) of each step sent
        return f"python ({why})"

    # -- the initial state
    def start(self, rec: bytes) -> None:
        if self.native:
            return self.native.start(rec)
        s = self.wire.unpack(rec)
        self._store(rec, 0)
        self.frontier = [(0, s, -1, 0)]
        for n, (kind, key, msg) in enumerate(self.sys.invariant_failures(s)):
            self.found.append(((-1, 0, 0, n), kind, key, msg, 0, -1, 0))
        for name, f, _line in self.sys.reachables:
            if f(s):
                self.reached[name] = 0

    def _find(self, rec: bytes):
        """The global id of a wire record, or None (a miss leaves the slot to `_store`)."""
        local = self.wire.codec.pack(self.wire.unpack(rec))
        j = self.store.find(local)
        return None if j is None else self.gids[j]

    def _store(self, rec: bytes, gid: int) -> None:
        self._find(rec)
        self.store.add(self.wire.codec.pack(self.wire.unpack(rec)))
        self.gids.append(gid)

    # -- 1. the steps of this partition's states of the level
    def expand(self) -> list:
        if self.native:
            return self.native.expand()
        sys, wire, sym, parts = self.sys, self.wire, self.sym, self.parts
        code, acquiring, A = sys.code, sys.acquiring, sys.L.A
        buckets = [[] for _ in range(parts)]
        irqs = bool(sys.L.irqs)
        for gid, s, via, sw0 in self.frontier:
            frozen = sys.interrupted(s) if irqs else ()
            targets, actors, timeouts, perms = [], [], [], []
            findings = False
            for a in range(A):
                pc = s[a]
                if pc < 0:
                    continue
                if acquiring[pc]:
                    self._lock_step(gid, s, a)
                if a in frozen:
                    continue
                outs = code[pc].step(s, a)
                if not outs:
                    continue
                self.ran.add(pc)
                sw = sw0 + (via != a and via != -1)
                for nxt, _label, found, timeout in outs:
                    self.entered.add(nxt[a])
                    if sym:
                        nxt, renaming = sym.canon(nxt)
                        perms.append(renaming)
                    k = len(targets)
                    rec = wire.pack(nxt)
                    buckets[owner(rec, parts)].append((gid, k, sw, a, rec))
                    targets.append(-1)
                    actors.append(a)
                    if timeout:
                        timeouts.append(k)
                    for n, (kind, key, msg) in enumerate(found):
                        self.found.append(((gid, k, 1, n), kind, key, msg, gid, a, (gid, k)))
                        findings = True
            self.edge_count += len(targets)
            if not targets and not all(sys.at_rest(s, a) for a in range(A)):
                self.stuck.append(gid)
            if self.edges or findings:            # else only the targets of findings are kept
                self.expanded[gid] = [targets, actors, timeouts, perms]
            if not self.edges:                    # for the "never moves again" fixpoint
                self.succ[gid] = targets
                self.enabled[gid] = sum(1 << a for a in set(actors))
                self.finished[gid] = sum(1 << a for a in range(A) if sys.at_rest(s, a))
        self.frontier = []
        self.sent_keys = [[(gid, k) for gid, k, _sw, _a, _rec in b] for b in buckets]
        blobs = [pickle.dumps(b, protocol=5) for b in buckets]
        self.sent += sum(len(b) for q, b in enumerate(blobs) if q != self.index)
        return blobs if self.parts > 1 else blobs[0]     # one partition: one return value

    def _lock_step(self, gid: int, s: tuple, a: int) -> None:
        L, sys = self.sys.L, self.sys
        pc = s[a]
        memo_key = (a, s[L.STK + a], s[L.HO + a], s[L.LK:L.FN], s[L.XL], a in s[L.WW], pc,
                    s[L.IRQ_OFF + a] if L.irqs else 0)
        key = self.memo.get(memo_key)
        if key is None:
            key = self.memo[memo_key] = (sys.lock_context(s, a), pc)
        if key not in self.deps:              # states come in id order
            self.deps[key] = (gid, a)

    # -- 2. the successors this partition owns: known, or new at a position
    def receive(self, *blobs) -> tuple:
        if self.native:
            return self.native.receive(*blobs)
        new: dict = {}                        # record -> [first (src, k), best (sw, src, k, a)]
        self.waiting = []
        for blob in blobs:
            batch = pickle.loads(blob)
            answers = []
            for src, k, sw, a, rec in batch:
                j = self._find(rec)
                if j is not None:
                    answers.append(j)
                    continue
                c = new.get(rec)
                if c is None:
                    new[rec] = c = [(src, k, a), (sw, src, k, a)]
                else:
                    if (src, k) < c[0][:2]:
                        c[0] = (src, k, a)
                    if (sw, src, k) < c[1][:3]:
                        c[1] = (sw, src, k, a)
                answers.append(rec)
            self.waiting.append(answers)
        self.pending = sorted(new.items(), key=lambda kv: kv[1][0])
        firsts = array("q", [x for _r, (pos, _b) in self.pending for x in pos[:2]])
        parents = array("q", [x for _r, (_p, best) in self.pending for x in best])
        return firsts, parents, native.private_mb()

    # -- 4. ids for the new states; every sender's targets
    def assign(self, ids: array) -> list:
        if self.native:
            return self.native.assign(ids)
        sys, wire = self.sys, self.wire
        gid_of: dict = {}
        nxt_frontier = []
        for (rec, (pos, (sw, _src, _k, a))), gid in zip(self.pending, ids):
            if gid < 0:
                continue
            gid_of[rec] = gid
            self._store(rec, gid)
            s = wire.unpack(rec)
            nxt_frontier.append((gid, s, a, sw))
            for n, (kind, key, msg) in enumerate(sys.invariant_failures(s)):
                self.found.append(((pos[0], pos[1], 0, n), kind, key, msg, pos[0], pos[2], gid))
            for name, f, _line in sys.reachables:
                if f(s) and gid < self.reached.get(name, float("inf")):
                    self.reached[name] = gid
        self.frontier = nxt_frontier
        self.pending = []
        out = []
        for answers in self.waiting:
            out.append(array("q", [j if isinstance(j, int) else gid_of.get(j, -1) for j in answers]))
        self.waiting = []
        blobs = [pickle.dumps(o, protocol=5) for o in out]
        self.sent += sum(len(b) for q, b in enumerate(blobs) if q != self.index)
        return blobs if self.parts > 1 else blobs[0]     # one partition: one return value

    # -- 5. the targets of this partition's steps
    def resolve(self, *answers) -> None:
        """answers[q]: receiver q's ids for what this partition sent it."""
        if self.native:
            return self.native.resolve(*answers)
        for keys, blob in zip(self.sent_keys, answers):
            targets = self.expanded if self.edges else self.succ
            at = 0 if self.edges else None
            for (gid, k), j in zip(keys, pickle.loads(blob)):
                t = targets.get(gid)
                if t is not None:
                    (t[at] if at is not None else t)[k] = j
        self.sent_keys = []

    # -- the end: what the coordinator gathers
    def records_out(self, gids=None) -> tuple:
        """(global ids, wire records): all of them, or those of `gids` this partition holds."""
        if self.native:
            return self.native.records_out(gids)
        if gids is None:
            idx = range(len(self.gids))
        else:
            from bisect import bisect_left
            idx = [i for i in (bisect_left(self.gids, x) for x in gids)
                   if i < len(self.gids) and self.gids[i] in gids]
        st, wire = self.store, self.wire
        return [self.gids[i] for i in idx], [wire.pack(st[i]) for i in idx]

    # -- "an actor never moves again", without the graph on one node: per
    # state, the actors enabled in some state reachable from it, as the least
    # fixpoint of R(s) = enabled(s) | R(t) for every step s -> t, computed
    # backwards inside each partition and exchanged between them until
    # nothing changes (analysis.never_moves on one node)
    def fix_start(self) -> tuple:
        if self.native:
            return self.native.fix_start()
        self.R = dict(self.enabled)
        self.remote: dict = {}
        self.preds: dict = {}
        for s, ts in self.succ.items():
            for t in ts:
                self.preds.setdefault(t, []).append(s)
        self.exported: dict = {}
        self._propagate(list(self.succ))
        return self._export()

    def fix_subscribe(self, *asks) -> list:
        return self.native.fix_subscribe(*asks)

    def peak(self) -> float:
        """This worker's peak memory since the search started (MB)."""
        return native.peak_mb()

    def fix_round(self, *deltas) -> tuple:
        if self.native:
            return self.native.fix_round(*deltas)
        work, R, remote, preds = [], self.R, self.remote, self.preds
        for blob in deltas:
            for t, m in pickle.loads(blob).items():
                if t in preds and t not in R and remote.get(t) != m:
                    remote[t] = m
                    work.extend(preds[t])
        self._propagate(work)
        return self._export()

    def _propagate(self, work: list) -> None:
        R, remote, succ, preds = self.R, self.remote, self.succ, self.preds
        queued = set(work)
        while work:
            s = work.pop()
            queued.discard(s)
            m = R[s]
            for t in succ[s]:
                m |= R[t] if t in R else remote.get(t, 0)
            if m != R[s]:
                R[s] = m
                for p in preds.get(s, ()):
                    if p not in queued:
                        queued.add(p)
                        work.append(p)

    def _export(self) -> tuple:
        d = {s: m for s, m in self.R.items() if self.exported.get(s) != m}
        self.exported.update(d)
        return len(d), pickle.dumps(d, protocol=5)

    def dead(self, limit: int) -> list:
        """The first states (by id) where some unfinished actor never moves again."""
        if self.native:
            return self.native.dead(limit)
        every = (1 << self.sys.L.A) - 1
        out = []
        for s in sorted(self.R):
            d = every & ~self.R[s] & ~self.finished[s]
            if d:
                out.append((s, d))
                if len(out) >= limit:
                    break
        return out

    def results(self) -> dict:
        if self.native:
            return self.native.results()
        found = []
        for order, kind, key, msg, src, a, dst in self.found:
            if isinstance(dst, tuple):
                gid, k = dst
                dst = self.expanded[gid][0][k]
            found.append((order, kind, key, msg, src, a, dst))
        return {"expanded": self.expanded, "found": found, "deps": self.deps, "ran": self.ran,
                "entered": self.entered, "reached": self.reached, "sent": self.sent,
                "memory": native.private_mb(), "peak": native.peak_mb(),
                "stuck": self.stuck, "edges": self.edge_count,
                "renamings": list(self.sym.perm_list) if self.sym and self.edges else []}


# -- the coordinator ----------------------------------------------------------

class Settings:
    """`--distributed`: where the cluster is, how many partitions."""

    def __init__(self, address: Optional[str] = "local", partitions: Optional[int] = None,
                 gather: bool = True):
        self.address, self.partitions, self.gather = address, partitions, gather

    def __repr__(self):
        return f"Settings({self.address!r}, {self.partitions!r}, gather={self.gather!r})"


def explore(sys: System, limits: explorer.Limits,
            progress: Optional[Callable] = None) -> Graph:
    """The whole graph, searched by partitions and gathered here."""
    try:
        return _explore(sys, limits, progress, limits.core)
    except native.Capacity as e:               # a state beyond the native slots
        g = _explore(sys, limits, progress, "python")
        g.core = g.core.replace("python partitions (asked for)", f"python partitions ({e})")
        return g


def _explore(sys: System, limits: explorer.Limits, progress, core: str) -> Graph:
    from . import connect, worker_cpus
    settings = limits.distributed
    ray = connect(settings.address)
    parts = settings.partitions or worker_cpus(ray)
    started = time.monotonic()
    m = sys.m
    ps = _pool(ray, parts)
    wire = Wire(sys)
    init = sys.initial()
    rec0 = wire.pack(init)
    # per state: 13 bytes here (10 with actors numbered below 128)
    parent, via = array("i", [-1]), array("b" if sys.L.A < 128 else "h", [-1])
    depth, switches = array("i", [0]), array("i", [0])
    stopped, level_first, expanded = "", 0, 0
    max_states = limits.max_states or float("inf")
    memory = [0.0] * parts
    searching = [0.0] * parts                 # each worker's most memory between levels

    try:
        level_n = n = 1
        symmetry = limits.symmetry and settings.gather     # a quotient's verdict needs its edges
        kinds = ray.get([p.load.remote(m.source.text, m.source.path, dict(m.params), q, parts, symmetry,
                                       settings.gather, core) for q, p in enumerate(ps)])
        kind = kinds[0] if kinds[0] == "native" else kinds[0].replace("python", "python partitions", 1)
        kind = "native partitions" if kind == "native" else kind
        if kinds[0] == "native":
            ray.get([p.start.remote(None) for p in ps])
        else:
            ray.get(ps[owner(rec0, parts)].start.remote(rec0))
        while True:
            level_n = n
            now = time.monotonic()
            stopped = explorer._limit_hit(
                explorer.Limits(timeout=limits.timeout), n, now - (explorer.budget.origin() or started))
            if not stopped and limits.max_memory_mb is not None and max(memory) >= limits.max_memory_mb:
                q = memory.index(max(memory))
                stopped = f"memory limit reached ({limits.max_memory_mb} MB per worker, partition {q})"
            if stopped:
                expanded = level_first
                break
            if progress:
                progress(_Shown(n, depth[-1]), now - started)
            # 1-2: steps out, successors looked up by their owners
            outs = [p.expand.options(num_returns=parts).remote() if parts > 1 else [p.expand.remote()]
                    for p in ps]
            got = ray.get([p.receive.remote(*[outs[src][q] for src in range(parts)])
                           for q, p in enumerate(ps)])
            # 3: ids in single-process order: the k-th new state by first
            # position (source id, edge) gets the k-th next id
            Fs, Ps = [], []
            for q, (firsts, parents, mem) in enumerate(got):
                memory[q] = mem
                searching[q] = max(searching[q], mem)
                Fs.append(np.asarray(firsts, np.int64).reshape(-1, 2))
                Ps.append(np.asarray(parents, np.int64).reshape(-1, 4))
            F, P = np.concatenate(Fs), np.concatenate(Ps)
            qs = np.repeat(np.arange(parts), [len(f) for f in Fs])
            ts = np.concatenate([np.arange(len(f)) for f in Fs])
            order = np.lexsort((F[:, 1], F[:, 0]))
            cut = None
            found_new = len(order)
            if found_new > max_states - n:
                room = int(max_states - n)
                cut = int(F[order[room], 0])      # this state's expansion is cut
                order = order[:room]
            ids = [np.full(len(f), -1, np.int64) for f in Fs]
            oq, ot = qs[order], ts[order]
            fresh = n + np.arange(len(order), dtype=np.int64)
            for q in range(parts):
                sel = oq == q
                ids[q][ot[sel]] = fresh[sel]
            Po = P[order]
            d = np.frombuffer(depth, np.int32)[Po[:, 1]] + 1 if len(order) else np.zeros(0, np.int32)
            parent.frombytes(Po[:, 1].astype(np.int32).tobytes())
            via.frombytes(Po[:, 3].astype(np.dtype(via.typecode)).tobytes())
            switches.frombytes(Po[:, 0].astype(np.int32).tobytes())
            depth.frombytes(d.astype(np.int32).tobytes())
            del d
            n += len(order)
            # 4-5: owners store them and answer the senders
            answers = [p.assign.options(num_returns=parts).remote(array("q", ids[q].tobytes())) if parts > 1
                       else [p.assign.remote(array("q", ids[q].tobytes()))] for q, p in enumerate(ps)]
            ray.get([p.resolve.remote(*[answers[q][src] for q in range(parts)])
                     for src, p in enumerate(ps)])
            if cut is not None:
                stopped = f"state limit reached ({limits.max_states} states)"
                expanded = cut
                break
            if not found_new:
                expanded = n
                break
            level_first = n - len(order)
    except KeyboardInterrupt:
        stopped = "interrupted (Ctrl-C)"
        expanded, n = level_first, level_n
        del parent[n:], via[n:], depth[n:], switches[n:]
    except Exception as e:                    # a worker lost: its states are gone
        if isinstance(e, native.Capacity) or "Capacity" in type(e).__name__ or \
                "beyond its slots" in str(e):
            ray.get([p.load.remote("", "", None, 0, 1, False) for p in ps])
            raise native.Capacity("a hook stack or queue beyond its slots") from None
        return _lost_graph(sys, ray, e, parts, started)
    try:
        how = _gather if settings.gather else _safety
        g = how(sys, ray, ps, parts, n, expanded, parent, via, depth, switches, stopped, limits, kind)
    except Exception as e:
        return _lost_graph(sys, ray, e, parts, started)
    g.seconds = time.monotonic() - started
    g.core = g.core[:-1] + "; between levels " + ", ".join(f"{x:.0f}" for x in searching) + \
        f" MB; this process's peak {explorer.peak_memory_mb():.0f} MB, not capped)"
    ray.get([p.load.remote("", "", None, 0, 1, False) for p in ps])    # the states go
    return g


_POOLS: dict = {}       # partitions -> their actors, reused by the next search in this process


def _pool(ray, parts: int) -> list:
    ps = _POOLS.get(parts)
    if ps is None:
        remote = ray.remote(num_cpus=0, max_restarts=0, max_task_retries=0,
                            scheduling_strategy="SPREAD")(Partition)
        ps = _POOLS[parts] = [remote.remote() for _ in range(parts)]
    return ps


def _drop_pool(ray, parts: int) -> None:
    for p in _POOLS.pop(parts, []):
        try:
            ray.kill(p)
        except Exception:
            pass


def _lost_graph(sys: System, ray, e: Exception, parts: int, started: float) -> Graph:
    """A partition died (its node, its process): nothing it stored can be
    shown, so the run is incomplete and says why."""
    if not _lost(ray, e):
        raise e
    _drop_pool(ray, parts)
    g = Graph(states=States(Codec(sys)))
    g.states.add(g.states.codec.pack(sys.initial()))
    g.parent.append(-1); g.via.append(-1); g.depth.append(0); g.switches.append(0)
    g.stopped = f"a partition was lost ({type(e).__name__}: {str(e).splitlines()[0][:200]}); " \
                "its states are gone"
    g.core = f"distributed ({parts} partitions on Ray)"
    g.seconds = time.monotonic() - started
    return g


class _Shown:
    def __init__(self, n: int, d: int):
        self.states, self.depth = range(n), [d]


def _lost(ray, e: Exception) -> bool:
    return isinstance(e, (ray.exceptions.RayActorError, ray.exceptions.ActorDiedError,
                          ray.exceptions.WorkerCrashedError, ray.exceptions.NodeDiedError,
                          ray.exceptions.ObjectLostError))


UNDECIDED = ("not decided in distributed mode without gathering the graph (--no-gather): "
             "indefinite-fence, timeout-hang")
UNDECIDED_CUT = ("not decided in distributed mode without gathering the graph (--no-gather): "
                 "deadlocks where other actors go on, indefinite-fence, timeout-hang")


def _safety(sys, ray, ps, parts, n, expanded, parent, via, depth, switches, stopped, _limits,
            core: str) -> Graph:
    """No graph gathered: the findings a state or a step shows by itself
    (deadlocks where no actor can move, step findings, invariants,
    `reachable`) and lock-order cycles, each with its shortest trace; the
    states on those traces are fetched from their partitions.  The kinds
    about every path from a state are not decided, and the result says so."""
    res = ray.get([p.results.remote() for p in ps])
    found: dict = {}
    for _order, kind, key, msg, src, a, dst in sorted(f for r in res for f in r["found"]):
        if 0 <= dst < n and (a < 0 or src < expanded):
            found.setdefault((kind, key), (kind, key, msg, src, a, dst))
    deps: dict = {}
    for r in res:
        for key, (i, a) in r["deps"].items():
            if (i < expanded or i == expanded and stopped.startswith("state limit")) \
                    and (key not in deps or (i, a) < deps[key]):
                deps[key] = (i, a)
    if not stopped:                           # the whole graph: the fixpoint, across partitions
        if core == "native partitions":
            stuck, over = _never_moves_native(ray, ps, _limits.max_memory_mb)
            if over:
                stopped = f"memory limit reached ({_limits.max_memory_mb} MB per worker, partition " \
                          f"{over[0]}, deciding where actors never move again)"
        else:
            stuck = _never_moves(ray, ps)
        for r, peak in zip(res, ray.get([p.peak.remote() for p in ps])):
            r["peak"] = peak
    if stopped:                               # a partial graph: only where no actor can move
        stuck = [(i, 0) for i in sorted(i for r in res for i in r["stuck"] if i < expanded)]
    stuck = stuck[:STUCK_LOOKED_AT]
    reached: dict = {}
    for r in res:
        for name, j in r["reached"].items():
            if j < n and j < reached.get(name, n):
                reached[name] = j
    wanted = {0} | {i for i, _d in stuck} | {i for i, _a in deps.values()} | set(reached.values())
    for _k, _key, _m, src, _a, dst in found.values():
        wanted |= {src, dst}
    for i in list(wanted):                    # the traces to them
        while i > 0:
            i = parent[i]
            wanted.add(i)
    got = ray.get([p.records_out.remote(sorted(wanted)) for p in ps])
    codec = Codec(sys)
    states: dict = {}
    if core == "native partitions":
        prog = Program(sys)
        for gids, records in got:
            for t, gid in enumerate(gids):
                states[int(gid)] = prog.decode(prog.unpack(records, t))
    else:
        wire = Wire(sys)
        for gids, records in got:
            states.update((gid, wire.unpack(rec)) for gid, rec in zip(gids, records))
    g = Graph(states=States(codec))
    if sys.L.A < 128:
        g.via, g.edge_actor = array("b"), array("b")
    local = {}
    for i in sorted(wanted):
        local[i] = len(g.parent)
        g.states.add(codec.pack(states[i]))
        g.parent.append(local[parent[i]] if i else -1)
        g.via.append(via[i]); g.depth.append(depth[i]); g.switches.append(switches[i])
    for kind, key, msg, src, a, dst in found.values():
        g.found[(kind, key)] = Found(kind, key, msg, local[src], a, local[dst])
    g.deps = {key: (local[i], a) for key, (i, a) in sorted(deps.items(), key=lambda kv: kv[1])}
    g.reached = {name: local[j] for name, j in reached.items()}
    seen: list = []
    no_move = {i for r in res for i in r["stuck"]}
    for i, dead in stuck:                     # the first state of each place actors are stuck at
        if not dead:
            item = analysis.stuck(sys, g, local[i])
            key = frozenset(item.key)
        else:
            actors = tuple(a for a in range(sys.L.A) if dead >> a & 1)
            key = frozenset((sys.actor(a), sys.where(g.states[local[i]], a)[0]) for a in actors)
            names = ", ".join(analysis.describe(sys, g, local[i], a) for a in actors)
            what = "no actor can move" if i in no_move else "others go on"
            item = analysis.StateFinding("deadlock", tuple(sorted(key)), f"blocked forever: {names} ({what})",
                                         local[i], actors)
        if any(k <= key for k in seen):           # a consequence of one already shown
            continue
        seen.append(key)
        g.state_findings.append(item)
    for r in res:
        g.ran |= r["ran"]
        g.entered |= r["entered"]
    if not stopped:
        for name, _f, line in sys.reachables:
            if name not in g.reached:
                g.found[("unreachable", (name,))] = unreached(name, line)
    g.stopped = f"{stopped}; {UNDECIDED_CUT}" if stopped else UNDECIDED
    g.reduction = "off (distributed: the cycle proviso needs one global order inside a level)"
    g.symmetry = "off (distributed without gathering: a quotient's verdict needs its edges)"
    g.sent = sum(r["sent"] for r in res)
    g.core = f"distributed ({parts} partitions on Ray, {core}, graph not gathered; {n} states; " \
             f"{g.sent} bytes exchanged, {g.sent / max(n, 1):.0f} a state{_held(res)})"
    g.partition_memory = [r["memory"] for r in res]
    g.totals = (n, sum(r["edges"] for r in res), depth[n - 1])
    return g


STUCK_LOOKED_AT = 1000      # stuck states whose keys are worked out (one trace per key shown)


def _never_moves(ray, ps) -> list:
    """[(state, actors that never move again)]: the first such states, by
    id, from the fixpoint run across the partitions."""
    outs = ray.get([p.fix_start.remote() for p in ps])
    while any(count for count, _blob in outs):
        blobs = [blob for _count, blob in outs]
        outs = ray.get([p.fix_round.remote(*blobs) for p in ps])
    return sorted(x for part in ray.get([p.dead.remote(STUCK_LOOKED_AT) for p in ps]) for x in part)


def _held(res: list) -> str:
    """What native partitions hold a state (their stores and arrays)."""
    peaks = "; workers' peak memory " + ", ".join(f"{r['peak']:.0f}" for r in res) + " MB"
    if not all("bytes" in r for r in res):
        return peaks
    per = [r["bytes"] / max(r["stored"], 1) for r in res]
    return f"; partitions hold {min(per):.0f}-{max(per):.0f} bytes a state{peaks}"


def _never_moves_native(ray, ps, cap) -> tuple:
    """The same from native partitions: each value goes only where it is
    asked for, partition to partition (not through this process).  With
    the partition over the memory cap, if one goes over it: ([], [q])."""
    k = len(ps) + 1
    asks = [p.fix_start.options(num_returns=k).remote() for p in ps]
    outs = [p.fix_subscribe.options(num_returns=k).remote(*[asks[src][q + 1] for src in range(len(ps))])
            for q, p in enumerate(ps)]
    while True:
        got = ray.get([o[0] for o in outs])
        over = [q for q, (_n, mem) in enumerate(got) if cap is not None and mem >= cap]
        if over:
            return [], over
        if not sum(n for n, _mem in got):
            break
        outs = [p.fix_round.options(num_returns=k).remote(*[outs[src][q + 1] for src in range(len(ps))])
                for q, p in enumerate(ps)]
    return sorted(x for part in ray.get([p.dead.remote(STUCK_LOOKED_AT) for p in ps]) for x in part), []


def _gather(sys, ray, ps, parts, n, expanded, parent, via, depth, switches, stopped, limits,
            core: str) -> Graph:
    """Every state and edge on the coordinator, numbered as one process would."""
    if core == "native partitions":
        return _gather_native(sys, ray, ps, parts, n, expanded, parent, via, depth, switches, stopped)
    wire = Wire(sys)
    codec = Codec(sys)
    g = Graph(states=States(codec))
    if sys.L.A < 128:
        g.via, g.edge_actor = array("b"), array("b")
    recs: list = [None] * n
    for gids, records in ray.get([p.records_out.remote() for p in ps]):
        for gid, rec in zip(gids, records):
            if gid < n:
                recs[gid] = rec
    for rec in recs:
        g.states.add(codec.pack(wire.unpack(rec)))
    g.parent = array("i", parent[:n])
    g.via = array(g.via.typecode, via[:n])
    g.depth, g.switches = array("i", depth[:n]), array("i", switches[:n])
    res = ray.get([p.results.remote() for p in ps])
    sym = None
    if limits.symmetry:
        sym = Symmetry(sys)
        g.symmetry = "on"
        if sym.why_off:
            g.symmetry, sym = f"off for this spec: {sym.why_off}", None
    g.quotient = sym
    out: dict = {}
    for r in res:
        if sym:                               # renaming ids are each process's own
            ids = [sym._perm_id(amap) for amap in r["renamings"]]
            for _t, _a, _to, perms in r["expanded"].values():
                perms[:] = [ids[x] for x in perms]
        out.update(r["expanded"])
    for i in range(expanded):
        targets, actors, timeouts, perms = out[i]
        base = len(g.edges)
        g.edges.extend(array("i", targets))
        g.edge_actor.extend(array(g.edge_actor.typecode, actors))
        g.timeout_edges.update(base + k for k in timeouts)
        if sym:
            g.edge_perm.extend(array(g.edge_perm.typecode, perms))
        g.offsets.append(len(g.edges))
    _common(sys, g, res, n, expanded, stopped)
    g.core = f"distributed ({parts} partitions on Ray, {core}; {g.sent} bytes exchanged, " \
             f"{g.sent / max(n, 1):.0f} a state{_held(res)})"
    return g


def _gather_native(sys, ray, ps, parts, n, expanded, parent, via, depth, switches, stopped) -> Graph:
    """The same, from native partitions: their records are the native core's,
    so the graph is the one `native.explore` gives (NativeStates, CSR arrays)."""
    prog = Program(sys)
    data = np.zeros((n, prog.REC), np.uint8)
    for gids, records in ray.get([p.records_out.remote() for p in ps]):
        R = np.frombuffer(records, np.uint8).reshape(-1, prog.REC)
        ok = (gids >= 0) & (gids < n)
        data[gids[ok]] = R[ok]
    g = Graph(states=NativeStates(prog, memoryview(data.tobytes())))
    del data
    small = "b" if sys.L.A < 128 else "h"
    g.parent = array("i", np.asarray(parent[:n], np.int32).tobytes())
    g.via = array(small, np.asarray(via[:n], np.dtype(small)).tobytes())
    g.depth, g.switches = array("i", depth[:n]), array("i", switches[:n])
    res = ray.get([p.results.remote() for p in ps])
    rows, counts, targets, actors, touts, base = [], [], [], [], [], 0
    for r in res:
        rw, c, t, a, to = (np.frombuffer(x, dt) if len(x) else np.zeros(0, dt) for x, dt in
                           zip(r["csr"], (np.int32, np.int16, np.int32, np.dtype(small), np.int64)))
        rows.append(rw)
        counts.append(c)
        targets.append(t)
        actors.append(a)
        touts.append(to + base)
        base += len(t)
    rows, counts = np.concatenate(rows), np.concatenate(counts).astype(np.int64)
    targets, actors, touts = np.concatenate(targets), np.concatenate(actors), np.concatenate(touts)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]]) if len(counts) else counts
    keep = np.nonzero(rows < expanded)[0]
    o = keep[np.argsort(rows[keep], kind="stable")]
    c, st = counts[o], starts[o]
    total = int(c.sum())
    idx = np.repeat(st - (np.cumsum(c) - c), c) + np.arange(total)
    g.edges = array("i", targets[idx].astype(np.int32).tobytes())
    g.edge_actor = array(small, actors[idx].tobytes())
    g.offsets = array("i", np.concatenate([[0], np.cumsum(c)]).astype(np.int32).tobytes())
    where = np.full(len(targets), -1, np.int64)
    where[idx] = np.arange(total)
    g.timeout_edges = set(int(x) for x in where[touts] if x >= 0)
    g.edge_perm = array("i")
    _common(sys, g, res, n, expanded, stopped)
    g.core = f"distributed ({parts} partitions on Ray, native partitions; {g.sent} bytes exchanged, " \
             f"{g.sent / max(n, 1):.0f} a state{_held(res)})"
    return g


def _common(sys, g: Graph, res: list, n: int, expanded: int, stopped: str) -> None:
    """Findings, lock steps, coverage and `reachable`s merged from the partitions."""
    found = sorted(f for r in res for f in r["found"])
    for _order, fkind, key, msg, src, a, dst in found:
        if 0 <= dst < n and (a < 0 or src < expanded):
            g.found.setdefault((fkind, key), Found(fkind, key, msg, src, a, dst))
    for r in res:
        for key, (i, a) in r["deps"].items():
            # one process records the lock steps of the state whose expansion the state limit cut
            if (i < expanded or i == expanded and stopped.startswith("state limit")) \
                    and (key not in g.deps or i < g.deps[key][0]):
                g.deps[key] = (i, a)
        g.ran |= r["ran"]
        g.entered |= r["entered"]
        for name, j in r["reached"].items():
            if j < n and j < g.reached.get(name, n):
                g.reached[name] = j
    g.deps = dict(sorted(g.deps.items(), key=lambda kv: kv[1]))
    g.stopped = stopped
    if not stopped:
        for name, _f, line in sys.reachables:
            if name not in g.reached:
                g.found[("unreachable", (name,))] = unreached(name, line)
    g.reduction = "off (distributed: the cycle proviso needs one global order inside a level)"
    g.sent = sum(r["sent"] for r in res)
    g.partition_memory = [r["memory"] for r in res]
