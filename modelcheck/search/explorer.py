"""Compiled transitions -> explored state graph.

Breadth-first, so the first path found to any state is a shortest one; among
equally short paths the one with fewer context switches is kept.  Findings
that happen on a step (an assert, an unlock of a lock not held...) are kept
with the first, hence shortest, step that produced them.  The whole graph is
kept (successor lists in flat arrays) because deadlock, indefinite-fence and
timeout-hang are questions about every path from a state, answered by
`analysis` afterwards.
"""
from __future__ import annotations

import resource
import time
from array import array
from dataclasses import dataclass, field
from typing import Callable, Optional

from ..language.bounds import MAX_INPUT_BYTES
from ..semantics import System
from . import budget, native
from .reduction import Reduction
from .store import Codec, States
from .symmetry import Symmetry


LEVEL_CACHE = 1 << 18        # at most this many tuples kept per BFS level
REDUCTION_TRIAL = 20_000     # states after which a reduction saving < 5% of them is dropped


@dataclass
class Limits:
    max_states: Optional[int] = None
    timeout: Optional[float] = None          # seconds
    max_memory_mb: Optional[int] = None      # resident memory during the search
    reduction: bool = True                   # partial-order reduction (see reduction.py)
    symmetry: bool = True                    # one state per permutation of actor copies (symmetry.py)
    early: bool = False                      # early-bug mode: stop at the first finding a step shows
    max_input_bytes: int = MAX_INPUT_BYTES   # size cap of a spec file read from disk
    core: str = "auto"                       # search core: auto (native when it can) | native | python
    distributed: Optional[object] = None     # cluster.distributed.Settings: search on a Ray cluster
    workers: int = 1                         # threads of the native search (the same result for any)

    def __post_init__(self):
        """Checked at the door: a wrong limit is a clear error naming it, not
        a search that silently runs without it."""
        def number(name, kinds, least, what):
            v = getattr(self, name)
            if v is None and name != "max_input_bytes":
                return
            if isinstance(v, bool) or not isinstance(v, kinds):
                raise TypeError(f"Limits.{name} must be {what} or None, not {type(v).__name__}")
            if v < least:
                raise ValueError(f"Limits.{name} must be >= {least}, not {v}"
                                 + (" (None means no limit)" if name == "max_states" else ""))
        number("max_states", int, 1, "an int (states, the initial one included)")
        number("timeout", (int, float), 0, "a number of seconds")
        number("max_memory_mb", int, 1, "an int (MB)")
        number("max_input_bytes", int, 1, "an int (bytes)")
        number("workers", int, 1, "an int (threads)")
        if self.workers is None:
            raise TypeError("Limits.workers must be an int (threads), not None")
        if self.timeout is not None and self.timeout != self.timeout:
            raise ValueError("Limits.timeout must be a number of seconds, not NaN")
        if self.core not in ("auto", "native", "python"):
            raise ValueError(f"Limits.core must be 'auto', 'native' or 'python', not {self.core!r}")
        for name in ("reduction", "symmetry", "early"):
            if not isinstance(getattr(self, name), bool):
                raise TypeError(f"Limits.{name} must be True or False")


@dataclass
class Found:
    """A finding produced on a step: the step is src --actor--> dst."""
    kind: str
    key: tuple
    message: str
    src: int
    actor: int
    dst: int


@dataclass
class Graph:
    states: States                                # id -> state (packed); ids are in BFS order
    parent: array = field(default_factory=lambda: array("i"))
    via: array = field(default_factory=lambda: array("h"))      # actor of the step into it
    depth: array = field(default_factory=lambda: array("i"))
    switches: array = field(default_factory=lambda: array("i"))
    offsets: array = field(default_factory=lambda: array("i", [0]))  # CSR successor lists
    edges: array = field(default_factory=lambda: array("i"))
    edge_actor: array = field(default_factory=lambda: array("h"))
    timeout_edges: set = field(default_factory=set)   # indices into `edges`
    found: dict = field(default_factory=dict)         # (kind, key) -> Found
    reached: dict = field(default_factory=dict)       # `reachable` name -> first state satisfying it
    ran: set = field(default_factory=set)             # pcs that took an explored step (coverage)
    entered: set = field(default_factory=set)         # pcs an explored step moved an actor to
    deps: dict = field(default_factory=dict)          # (lock context, pc) -> (src, actor)
    stopped: str = ""                                 # why the search ended early, if it did
    reduction: str = "off"                            # on / off / off for this spec: why
    pruned: int = 0                                   # states expanded only partially
    symmetry: str = "off"                             # on / off / off for this spec: why
    quotient: Optional[Symmetry] = None               # set when states stand for their permutations
    edge_perm: array = field(default_factory=lambda: array("i"))   # renaming id per edge, if so
    seconds: float = 0.0
    core: str = "python"                              # which search core built it, and why
    early: str = ""                                   # early-bug mode: the finding it stopped at
    stuck: int = -1                                   # ... a state no actor can leave, if that
    # distributed without gathering (cluster/distributed.py): the graph holds only the
    # states on the findings' traces; its deadlocks (analysis.StateFinding), decided
    # across the partitions, and (states, transitions, depth) of the whole search
    state_findings: list = field(default_factory=list)
    totals: tuple = ()

    @property
    def expanded(self) -> int:
        """States whose successors are all known (a prefix of the ids)."""
        return len(self.offsets) - 1

    def successors(self, i: int):
        return range(self.offsets[i], self.offsets[i + 1])

    def path(self, i: int) -> list[tuple[int, int]]:
        """[(actor, state id)] from the initial state to i."""
        out = []
        while i > 0:
            out.append((self.via[i], i))
            i = self.parent[i]
        return out[::-1]


def explore(sys: System, limits: Limits = Limits(),
            progress: Optional[Callable[[Graph, float], None]] = None) -> Graph:
    """The native core when it can run this spec (native/), else the
    Python search below; `Graph.core` says which, and why.  With
    `limits.distributed`, partitions on a Ray cluster (cluster/distributed.py)."""
    if limits.distributed is not None:
        from ..cluster import distributed
        return distributed.explore(sys, limits, progress)
    why = "asked for" if limits.core == "python" else native.why_not(sys, limits)
    if not why:
        g = native.explore(sys, limits, time.monotonic(), budget.origin(), progress)
        if isinstance(g, Graph):
            return g
        why = g
    g = explore_python(sys, limits, progress)
    g.core = f"python ({why})"
    return g


def explore_python(sys: System, limits: Limits = Limits(),
                   progress: Optional[Callable[[Graph, float], None]] = None) -> Graph:
    codec = Codec(sys)
    pack = codec.pack
    init = sys.initial()
    g = Graph(states=States(codec))
    visited = g.states                             # packed record -> id, and id -> state
    visited.add(pack(init))
    if sys.L.A < 128:
        g.via, g.edge_actor = array("b"), array("b")
    g.parent.append(-1); g.via.append(-1); g.depth.append(0); g.switches.append(0)
    memo: dict = {}                                # lock contexts already worked out
    for kind, key, msg in sys.invariant_failures(init):
        g.found.setdefault((kind, key), Found(kind, key, msg, 0, -1, 0))
    early = limits.early
    code, actors, acquiring, invariants = sys.code, range(sys.L.A), sys.acquiring, bool(sys.invariants)
    queued = {a for a, actor in enumerate(sys.m.actors) if actor.kind == "work"}
    irqs = bool(sys.L.irqs)
    targets = [r for r in sys.reachables if not r[1](init)]      # `reachable` not yet seen
    for name, f, _line in sys.reachables:
        if f(init):
            g.reached[name] = 0
    parent, via, depth, switches = g.parent, g.via, g.depth, g.switches
    edges, edge_actor, found_at = g.edges, g.edge_actor, g.found
    ran, entered, pc_of = g.ran, g.entered, init
    reduce = Reduction(sys) if limits.reduction else None
    g.reduction = "on" if reduce else "off"
    if reduce and reduce.why_off:
        g.reduction, reduce = f"off for this spec: {reduce.why_off}", None

    sym = Symmetry(sys) if limits.symmetry else None
    g.symmetry = "on" if sym else "off"
    if sym and sym.why_off:
        g.symmetry, sym = f"off for this spec: {sym.why_off}", None
    g.quotient = sym

    def add(i: int, a: int, outs: list) -> None:
        """The steps of actor a from state i into the graph."""
        d, last = depth[i] + 1, via[i]
        sw = switches[i] + (last != a and last != -1)
        ran.add(pc_of[a])
        for nxt, label, found, timeout in outs:
            entered.add(nxt[a])                      # the pcs come first in a state
            if sym:
                nxt, renaming = sym.canon(nxt)
                g.edge_perm.append(renaming)
            j = next_level.get(nxt)
            if j is None:
                j = this_level.get(nxt)
            if j is None:
                rec = pack(nxt)
                j = visited.find(rec)
            if j is None:
                if len(depth) >= max_states:       # the limit counts stored states exactly
                    raise _Full()
                j = visited.add(rec)
                parent.append(i); via.append(a); depth.append(d); switches.append(sw)
                if len(next_list) < LEVEL_CACHE:
                    next_list.append(nxt)
                    next_level[nxt] = j
                if invariants:
                    for kind, key, msg in sys.invariant_failures(nxt):
                        found_at.setdefault((kind, key), Found(kind, key, msg, i, a, j))
                if targets:
                    for r in [r for r in targets if r[1](nxt)]:
                        g.reached[r[0]] = j
                        targets.remove(r)
            elif depth[j] == d and sw < switches[j]:
                parent[j] = i; via[j] = a; switches[j] = sw
            if timeout:
                g.timeout_edges.add(len(edges))
            edges.append(j)
            edge_actor.append(a)
            for kind, key, msg in found:
                found_at.setdefault((kind, key), Found(kind, key, msg, i, a, j))

    # The states of the level being expanded and of the next one, as tuples:
    # nearly every step that finds a known state finds one of those, without
    # packing it; every state is expanded from here without unpacking it.
    level, this_first, this_list, this_level = 0, 0, [init], {init: 0}
    next_list, next_level = [], {}
    known = lambda s: visited.find(pack(s)) is not None
    started = last_report = check_at = time.monotonic()
    i = 0
    max_states = limits.max_states or float("inf")
    clock = time.monotonic
    try:
        while i < len(depth):                      # one depth per known state
            if early and found_at:                 # early-bug mode: a step showed a finding
                g.early = min(found_at.values(), key=lambda f: (depth[f.src], f.src)).kind
                g.stopped = EARLY_STOP
                break
            # Limits are looked at every 1024 states, and at least every
            # quarter second: one state of a wide spec can take milliseconds.
            if i & 1023 == 0 or clock() >= check_at:
                now = clock()
                check_at = now + 0.25
                g.stopped = _limit_hit(limits, len(depth), now - (budget.origin() or started))
                if g.stopped:
                    break
                if progress and now - last_report >= 1.0:
                    progress(g, now - started)
                    last_report = now
            if depth[i] != level:                  # on to the next BFS level
                level, this_first = depth[i], i
                this_level, this_list, next_level, next_list = next_level, next_list, {}, []
            s = this_list[i - this_first] if i - this_first < len(this_list) else visited[i]
            pc_of = s
            # an actor that did not make the step into s stands where it stood
            # before, holding what it held: its lock context is recorded already
            # (a work item's pc is set by whoever queues it: its start is looked at always)
            mover = via[i] if i and not sym else None
            steps = []                             # (actor, outcomes) of every enabled actor
            frozen = sys.interrupted(s) if irqs else ()    # an irq handler runs in them
            for a in actors:
                pc = s[a]                          # the pcs come first in a state
                if pc < 0:
                    continue
                if acquiring[pc] and (mover is None or mover == a or a in queued):
                    _record_lock_step(sys, g, i, s, a, memo)
                if a in frozen:
                    continue
                outs = code[pc].step(s, a)
                if outs:
                    steps.append((a, outs))
            if reduce and i == REDUCTION_TRIAL and not reduce.worth_it(known, len(depth)):
                g.reduction = f"on for the first {i} states, then off: it saved about " \
                              f"{reduce.saved} of {len(depth)} states"
                reduce = None
            if early and not steps and not all(sys.at_rest(s, a) for a in actors):
                g.offsets.append(len(edges))       # no one can move: a deadlock, at its depth
                g.early, g.stuck, g.stopped = "deadlock", i, EARLY_STOP
                break
            steps, rest = reduce.split(s, steps) if reduce else (steps, ())
            first = len(depth)
            for a, outs in steps:
                add(i, a, outs)
            if rest:
                if any(edges[e] < first for e in range(g.offsets[-1], len(edges))):
                    for a, outs in rest:           # cycle proviso: a step back, expand fully
                        add(i, a, outs)
                else:
                    g.pruned += 1
                    reduce.note_left_out(rest, sym)
            g.offsets.append(len(edges))
            i += 1
    except _Full:
        g.stopped = f"state limit reached ({limits.max_states} states)"
    except KeyboardInterrupt:
        g.stopped = "interrupted (Ctrl-C)"
    except MemoryError:
        g.stopped = "out of memory"
    if g.stopped:                    # an interrupt may fall between parallel appends
        n = min(len(g.states), len(g.parent), len(g.via), len(g.depth), len(g.switches))
        for column in (g.states, g.parent, g.via, g.depth, g.switches):
            del column[n:]
        g.found = {k: f for k, f in g.found.items() if f.dst < n}
        # successors are known for a prefix of the states: drop the edges of
        # the state whose expansion was cut
        e = g.offsets[-1]
        for column in (g.edges, g.edge_actor, g.edge_perm):
            del column[e:]
        g.timeout_edges = {t for t in g.timeout_edges if t < e}
    if not g.stopped:                # decided on the whole explored graph
        for name, _f, line in targets:
            found_at[("unreachable", (name,))] = unreached(name, line)
    g.seconds = time.monotonic() - started
    return g


def unreached(name: str, line: int) -> Found:
    """The finding of a `reachable` line that no state satisfies: said only
    of a search that finished."""
    return Found("unreachable", (name,), f'reachable "{name}" (line {line}): no reachable state '
                 "satisfies it", 0, -1, 0)


EARLY_STOP = "early-bug mode: stopped at the first finding"


class _Full(Exception):
    """A new state would pass --max-states."""


def _record_lock_step(sys: System, g: Graph, i: int, s: tuple, a: int, memo: dict) -> None:
    """Actor a of state i stands at an acquisition: remember, once per (what
    the actor holds, statement), the first step that reached it.  The raw
    material of the lock-order model."""
    L = sys.L
    pc = s[L.PC + a]
    memo_key = (a, s[L.STK + a], s[L.HO + a], s[L.LK:L.FN], s[L.XL], a in s[L.WW], pc,
                s[L.IRQ_OFF + a] if L.irqs else 0)
    key = memo.get(memo_key)
    if key is None:
        key = memo[memo_key] = (sys.lock_context(s, a), pc)
    if key not in g.deps:
        g.deps[key] = (i, a)


def _limit_hit(limits: Limits, states: int, seconds: float) -> str:
    if limits.timeout is not None and seconds >= limits.timeout:
        return f"time limit reached ({limits.timeout:g} s)"
    if limits.max_memory_mb is not None and memory_mb() >= limits.max_memory_mb:
        return f"memory limit reached ({limits.max_memory_mb} MB)"
    return ""


def peak_memory_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def memory_mb() -> float:
    """Resident memory now (the limit is per search, so not the process peak)."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * resource.getpagesize() / 2**20
    except OSError:
        return peak_memory_mb()
