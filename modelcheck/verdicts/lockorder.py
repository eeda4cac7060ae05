"""Explored steps -> the lock-class dependencies lockdep would record, and
z3's verdict on them.

The explorer remembers, for every step that reached an acquisition, what
the actor held (`Graph.deps`).  Here those become dependencies A -> B the
way lockdep with the dma_fence annotations forms them (the contract's
"lock-order model"), beside the orders `dma_resv_lockdep()` primes at boot.
z3 then looks for one integer rank per class with every dependency going
up.  Satisfiable: the ranks are a global lock order, a certificate anyone
can check without z3 (every edge goes forward).  Unsatisfiable: the unsat
core holds a cycle.  The cycle reported is the one lockdep would print:
the first dependency, in the order the search created them, whose target
already reaches its source (`lockdep_cycle`), each edge with the shortest
trace that created it.  Lockdep only sees the paths
a booted machine ran; this sees every path of the spec.
"""
from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field

from ..search.explorer import Graph
from ..semantics import MEMALLOC, NOFS, Alloc, Lock, System

PRIMED = ("mmap_lock", "resv", "fs_reclaim", "mmu_notifier", "dma_fence_map")
PSEUDO = {"dma_fence_map": " (in a signalling section)", "fs_reclaim": " (in reclaim)",
          "mmu_notifier": " (in an MMU notifier)"}
BOOT = "boot"                          # who creates the primed orders
MAX_CYCLES = 10


@dataclass
class Edge:
    """One dependency: `actor` reached `statement` (which takes `to`) holding `frm`."""
    frm: str
    to: str
    actor: str
    line: int
    statement: str
    src: int = -1                       # the state it was reached in; -1 for boot
    a: int = -1                         # the actor's index; -1 for boot
    trace: list = field(default_factory=list)    # [trace.Step], for edges of a cycle
    held: list = field(default_factory=list)     # edges of a cycle: what the actor held (trace.held_locks)
    mode: str = "w"                              # edges of a cycle: "r" for a read acquisition of `to`
    instance: str = ""                           # edges of a cycle: the lock of class `to` taken

    def as_dict(self, with_trace: bool = False) -> dict:
        d = {"from": self.frm, "to": self.to, "actor": self.actor, "line": self.line}
        if with_trace:
            d["statement"] = self.statement
            d["trace"] = [vars(s) for s in self.trace]
            d["held"] = self.held
            d["mode"] = self.mode
        return d

    def words(self) -> str:
        if self.actor == BOOT:
            return f"{self.frm} -> {self.to}: primed at boot by dma_resv_lockdep()"
        return (f"{self.frm} -> {self.to}: {self.actor} reaches line {self.line} "
                f"({self.statement}) holding {self.frm}{PSEUDO.get(self.frm, '')}")


@dataclass
class LockOrder:
    status: str                  # "proved" | "cycle" | "incomplete"
    order: list                  # the certificate: classes lowest first ([] on a cycle)
    edges: list                  # [Edge] every dependency that counts toward cycles
    cycles: list                 # [[Edge]] each as lockdep prints it: the attempted edge first
    classes: int
    seconds: float               # z3's time

    def as_dict(self) -> dict:
        return {"status": self.status, "order": self.order,
                "edges": [e.as_dict() for e in self.edges],
                "cycle": [e.as_dict(True) for e in self.cycles[0]] if self.cycles else [],
                "cycles": len(self.cycles)}

    def words(self) -> str:
        if self.status == "cycle":
            n = len(self.cycles)
            return f"lock order: none exists; {n} cycle{'s' if n > 1 else ''} under lock-order below"
        prefix = "lock order proved" if self.status == "proved" else \
            "lock order (explored part only, not a proof)"
        chains, alone = forced(self.order, self.edges)
        out = f"{prefix}: the dependencies force {'; '.join(chains) or 'nothing'}"
        if alone:
            out += f" ({', '.join(alone)} unrelated to every other class)"
        return out + "; any total order extending this is a valid ranking"


def forced(classes: list[str], edges: list) -> tuple[list[str], list[str]]:
    """The partial order the dependencies force, transitively reduced (its
    Hasse diagram), as chains `a -> b -> c`, and the classes no dependency
    touches.  z3's total order is one extension of it among many: printing
    that would read as guidance the dependencies do not give."""
    succ = {c: set() for c in classes}
    for e in edges:
        if e.frm != e.to:
            succ.setdefault(e.frm, set()).add(e.to)
            succ.setdefault(e.to, set())

    def reach(u, skip):                 # nodes reachable from u without the edge u -> skip
        seen, todo = set(), [w for w in succ[u] if w != skip]
        while todo:
            v = todo.pop()
            if v not in seen:
                seen.add(v)
                todo.extend(succ[v])
        return seen

    hasse = {u: sorted(v for v in succ[u] if v not in reach(u, v)) for u in succ}
    rank = {c: i for i, c in enumerate(classes)}
    key = lambda c: (rank.get(c, len(rank)), c)
    indeg = {c: 0 for c in succ}
    for u in hasse:
        for v in hasse[u]:
            indeg[v] += 1
    used, chains = set(), []
    for u in sorted(succ, key=key):     # start chains where nothing forces anything before
        for v in hasse[u]:
            if (u, v) in used:
                continue
            chain = [u, v]
            used.add((u, v))
            while len(hasse[chain[-1]]) >= 1 and indeg[chain[-1]] == 1:
                nxt = next((w for w in hasse[chain[-1]] if (chain[-1], w) not in used), None)
                if nxt is None:
                    break
                used.add((chain[-1], nxt))
                chain.append(nxt)
            chains.append(" -> ".join(chain))
    alone = [c for c in sorted(succ, key=key) if not succ[c] and not indeg[c]]
    return chains, alone


# ----------------------------------------------------------------- dependencies

def edges_of(ins, held) -> list[tuple[str, str]]:
    """The dependencies lockdep records when an actor holding `held` (a lock
    context: its held locks, oldest first) reaches instruction `ins`.  The
    one place their rules live:
    - check_prevs_add(): a dependency from the most recent held lock, and
      from the trylocks above the first non-trylock one below it, nothing
      deeper: those added their own dependencies when they were taken, so
      the new lock reaches them through the transitive edges;
    - check_deadlock(): a class taken while held anywhere in the stack is
      recursive locking, the edge A -> A (read holds of an rwsem included:
      down_read() is not a recursive reader);
    - a read acquisition of dma_fence_map (entering `signalling`) is no
      instruction, so records nothing: a read-read pair never closes a cycle;
      dma_fence_begin_signalling() takes it as a read trylock, so the walk
      passes through it to the lock below the section;
    - a wait inside a signalling section: __dma_fence_might_wait() drops the
      section's read hold before it takes the map for write, so the walk
      starts below it: a lock taken in the section and still held closes
      dma_fence_map -> L -> dma_fence_map;
    - reclaim does not recurse (PF_MEMALLOC): allocations in it take nothing,
      nor in a `noreclaim` scope; in a `nofs`/`noio` scope they skip fs_reclaim;
    - an allocation takes fs_reclaim and, under it, the MMU notifier map
      (fs_reclaim_acquire()); fork/munmap take mmap_lock and, under it, the
      notifier map: those instructions nest what they acquire (`nests`);
    - `trylock` and interruptible waits acquire nothing (`Instr.acquires`);
    - another resv of a held ww context (the nest_lock) records nothing;
      locks taken together by one `lock R1, R2` are one step and never see
      each other."""
    if isinstance(ins, Alloc) and MEMALLOC in held:
        return []
    stack = [(c, mode) for c, mode in held if mode]      # markers (mode "") are no class
    if isinstance(ins, Lock) and ins.ww_restart is not None and ("resv_ctx", "w") in stack \
            and ("resv", "w") in stack:
        return []          # nest_lock: another resv of the held context, no dependency at all
    acquires = ins.acquires
    if isinstance(ins, Alloc) and NOFS in held:      # memalloc_nofs/noio_save(): no __GFP_FS
        acquires = [(b, mode) for b, mode in acquires if b != "fs_reclaim"]
    out = []
    for b, mode in acquires:
        walk = [e for e in stack if e[0] != "dma_fence_map"] if b == "dma_fence_map" else stack
        if any(c == b for c, _m in walk[:-1]):
            out.append((b, b))                       # recursive locking, however deep
        for c, held_mode in reversed(walk):
            out.append((c, b))
            if not held_mode.startswith("t"):        # the first non-trylock: stop
                break
        if ins.nests:
            stack = stack + [(b, mode)]
    return list(dict.fromkeys(out))


def dependencies(sys: System, g: Graph) -> dict[tuple[str, str], Edge]:
    """Every dependency with the shortest trace that creates it."""
    best: dict[tuple[str, str], Edge] = {}
    for (held, pc), (src, a) in g.deps.items():
        ins = sys.code[pc]
        for key in edges_of(ins, held):
            old = best.get(key)
            if old is None or (g.depth[src], src) < (g.depth[old.src], old.src):
                line, text = sys.where(g.states[src], a)
                best[key] = Edge(*key, sys.actor(a), line, text, src, a)
    return best


WW_PRIMED = (("mmap_lock", "resv_ctx"), ("resv_ctx", "resv"))


def primed(sys: System = None) -> list[Edge]:
    """The boot edges: the spec's `prime` lines, or dma_resv_lockdep()'s chain
    (with mmap_lock -> resv_ctx -> resv when the spec has ww contexts)."""
    m = sys.m if sys is not None else None
    if m is not None and m.prime is not None:
        pairs = list(m.prime)
    else:
        pairs = list(zip(PRIMED, PRIMED[1:])) + (list(WW_PRIMED) if m is not None and m.uses_ww else [])
    return [Edge(a, b, BOOT, 0, "dma_resv_lockdep()") for a, b in pairs]


def classes_of(sys: System) -> list[str]:
    seen = dict.fromkeys(PRIMED)
    for lock in sys.m.locks:
        seen.setdefault(lock.cls)
    return list(seen)


# ----------------------------------------------------------------- the decision

def decide(classes: list[str], edges: list[Edge]) -> tuple[list[str], list[Edge]]:
    """z3: an integer rank per class, one tracked assertion rank(A) < rank(B)
    per dependency.  Returns (order, []) when satisfiable, else ([], core):
    the edges of a minimised unsat core, which contain a cycle."""
    import z3                                   # lazily: only a search that got here pays for it
    solver = z3.Solver()
    solver.set("core.minimize", True)
    rank = {c: z3.Int(f"rank({c})") for c in classes}
    tags = {}
    for i, e in enumerate(edges):
        tag = z3.Bool(f"dep{i}")
        tags[tag.get_id()] = e
        solver.assert_and_track(rank[e.frm] < rank[e.to], tag)
    if solver.check() == z3.sat:
        model = solver.model()
        value = {c: model.eval(rank[c], model_completion=True).as_long() for c in classes}
        return sorted(classes, key=lambda c: (value[c], classes.index(c))), []
    return [], [tags[t.get_id()] for t in solver.unsat_core()]


def shortest_cycle(edges: list[Edge]) -> list[Edge]:
    """The shortest cycle among `edges` (BFS from every class), in order."""
    succ: dict[str, list[Edge]] = {}
    for e in edges:
        succ.setdefault(e.frm, []).append(e)
    best: list[Edge] = []
    for start in sorted(succ):
        back = {start: None}
        queue = deque([start])
        found = None
        while queue and found is None:
            v = queue.popleft()
            for e in succ.get(v, ()):
                if e.to == start:
                    found = e
                    break
                if e.to not in back:
                    back[e.to] = e
                    queue.append(e.to)
        if found is None:
            continue
        path = [found]
        while path[-1].frm != start:
            path.append(back[path[-1].frm])
        path.reverse()
        if not best or len(path) < len(best):
            best = path
    return best


def lockdep_cycle(edges: list[Edge]) -> list[Edge]:
    """The cycle lockdep would print, from `edges` in the order they were
    created (boot ones first).  Lockdep adds dependencies one at a time; for
    each new prev -> next, check_noncircular() searches breadth-first from
    next, along the dependencies already recorded (each class's list in the
    order they were added), for prev; the first dependency that finds it is
    reported (lockdep then turns itself off).  The cycle is returned as
    [prev -> next, next -> ... -> prev]: its first edge is the acquisition
    being attempted (print_circular_bug()'s #0 is its `to`), the rest the
    existing chain.  A class taken while held is recursive locking, found
    before (check_deadlock()).  [] when the edges close no cycle."""
    succ: dict[str, list[Edge]] = {}
    for e in edges:
        if e.frm == e.to:
            return [e]
        back = {e.to: None}
        queue = deque([e.to])
        while queue:
            v = queue.popleft()
            if v == e.frm:
                path = []
                while back[v] is not None:
                    path.append(back[v])
                    v = back[v].frm
                return [e] + path[::-1]
            for d in succ.get(v, ()):
                if d.to not in back:
                    back[d.to] = d
                    queue.append(d.to)
        succ.setdefault(e.frm, []).append(e)
    return []


def check(sys: System, g: Graph) -> LockOrder:
    deps = dependencies(sys, g)
    # in the order the search created them; one step's in the order it acquires
    rank = lambda e: next((i for i, (c, _m) in enumerate(sys.code[g.states[e.src][sys.L.PC + e.a]].acquires)
                           if c == e.to), 0)
    edges = primed(sys) + sorted(deps.values(), key=lambda e: (g.depth[e.src], e.src, rank(e), e.frm, e.to))
    classes = classes_of(sys)
    for e in edges:                              # a class only reached as a pseudo-lock
        for c in (e.frm, e.to):
            if c not in classes:
                classes.append(c)
    started = time.monotonic()
    cycles, live = [], list(edges)
    order, core = decide(classes, live)
    while core and len(cycles) < MAX_CYCLES:
        cycle = lockdep_cycle(live) or shortest_cycle(core)     # z3 decides; lockdep's choice shown
        cycles.append(cycle)
        # another cycle must have a cause of its own: none of this one's spec edges
        live = [e for e in live if e.actor == BOOT or e not in cycle]
        _order, core = decide(classes, live)
    seconds = time.monotonic() - started
    if cycles:
        status, order = "cycle", []
    else:
        status = "incomplete" if g.stopped else "proved"
    return LockOrder(status, order, edges, cycles, len(classes), seconds)


def verify(order: list[str], edges: list[Edge]) -> bool:
    """The certificate, checked without z3: every edge goes forward."""
    pos = {c: i for i, c in enumerate(order)}
    return all(e.frm in pos and e.to in pos and pos[e.frm] < pos[e.to] for e in edges)


def name(cycle: list[Edge]) -> str:
    if len(cycle) == 1:
        e = cycle[0]
        return f"possible recursive locking: {e.frm} taken again while held"
    return "possible circular locking dependency: " + \
        " -> ".join([e.frm for e in cycle] + [cycle[0].frm])


# ----------------------------------------------------------------- deadlocks

def deadlock_caught(sys: System, run: list[tuple], actors) -> str:
    """Would lockdep, watching this very run, have reported the deadlock?
    Yes when the dependencies the stuck actors created along it (up to and
    including the steps they are stuck at) close a lock-order cycle."""
    seen = {}
    for s in run:
        for a in actors:
            pc = s[sys.L.PC + a]
            if pc >= 0 and sys.acquiring[pc]:
                for key in edges_of(sys.code[pc], sys.lock_context(s, a)):
                    if key not in seen:
                        line, text = sys.where(s, a)
                        seen[key] = Edge(*key, sys.actor(a), line, text, a=a)
    cycle = shortest_cycle(primed(sys) + list(seen.values()))
    if cycle:
        return "lockdep would report it too: " + " -> ".join([e.frm for e in cycle] + [cycle[0].frm])
    return "lockdep would not report it: the stuck actors' dependencies close no " \
        "lock-order cycle (the wait-for cycle runs through a fence or an engine slot " \
        "that no annotation covers)"
