"""Explored graph -> the findings that are about every path from a state:
deadlock, indefinite-fence and timeout-hang.

All three rest on one fact: from any state some fair path exists (go to a
bottom strongly connected component and walk all of it), so "actor a never
moves again on any (fair) path from s" is simply "a is enabled in no state
reachable from s".  That is one pass over the SCCs in reverse topological
order, OR-ing bitmasks of actors.  A fair cycle that keeps a published fence
unsignalled is found by the usual refinement: an SCC is fair when every actor
enabled somewhere in it also moves inside it; otherwise drop the states where
such an actor is enabled and look again inside what is left.

On a graph the search did not finish, unexpanded states count as "anything
can still happen there", so whatever is reported is still certain.
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from ..search.explorer import Graph
from ..semantics import DONE, PUBLISHED, System, Wait

MAX_PER_KIND = 10


@dataclass
class StateFinding:
    kind: str
    key: tuple
    message: str
    state: int
    actors: tuple = ()       # the actors concerned (blocked, hanging)
    then: list = field(default_factory=list)   # deadlock: [(actor, state)] on to where all are stuck


def sccs(nodes, succ) -> list[list[int]]:
    """Tarjan's algorithm, iterative.  Components come out sinks first
    (reverse topological order).  `succ(v)` lists successors in the subgraph."""
    index, low, on_stack = {}, {}, set()
    stack, out, counter = [], [], 0
    for root in nodes:
        if root in index:
            continue
        work = [(root, iter(succ(root)))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            v, it = work[-1]
            advanced = False
            for w in it:
                if w not in index:
                    index[w] = low[w] = counter
                    counter += 1
                    stack.append(w)
                    on_stack.add(w)
                    work.append((w, iter(succ(w))))
                    advanced = True
                    break
                if w in on_stack:
                    low[v] = min(low[v], index[w])
            if advanced:
                continue
            work.pop()
            if work:
                u = work[-1][0]
                low[u] = min(low[u], low[v])
            if low[v] == index[v]:
                comp = []
                while True:
                    w = stack.pop()
                    on_stack.discard(w)
                    comp.append(w)
                    if w == v:
                        break
                out.append(comp)
    return out


class Analysis:
    def __init__(self, sys: System, g: Graph):
        self.sys, self.g = sys, g
        self.n = len(g.states)
        self.all = (1 << sys.L.A) - 1
        self.expanded = g.expanded
        self.enabled = [0] * self.n
        for i in range(self.n):
            if i >= self.expanded:
                self.enabled[i] = self.all          # unknown: anything may still happen
                continue
            m = 0
            for e in g.successors(i):
                m |= 1 << g.edge_actor[e]
            self.enabled[i] = m
        PC = sys.L.PC
        if any(actor.deps for actor in sys.m.actors):         # jobs held back by dependencies
            self.finished = [sum(1 << a for a in range(sys.L.A) if sys.at_rest(s, a))
                             for s in g.states]
        else:
            PC = sys.L.PC
            self.finished = [sum(1 << a for a in range(sys.L.A) if s[PC + a] == DONE)
                             for s in g.states]

    def succ(self, i: int, skip_timeouts: bool = False):
        if i >= self.expanded:
            return []
        g = self.g
        if skip_timeouts and g.timeout_edges:
            return [g.edges[e] for e in g.successors(i) if e not in g.timeout_edges]
        return [g.edges[e] for e in g.successors(i)]

    def never_moves(self, enabled, skip_timeouts=False) -> list[int]:
        """Per state, the actors enabled in no state reachable from it."""
        comps = sccs(range(self.n), lambda v: self.succ(v, skip_timeouts))
        comp_of = [0] * self.n
        reach = [0] * len(comps)
        for c, members in enumerate(comps):
            m = 0
            for v in members:
                comp_of[v] = c
            for v in members:
                m |= enabled[v]
                for w in self.succ(v, skip_timeouts):
                    if comp_of[w] != c:
                        m |= reach[comp_of[w]]
            reach[c] = m
        return [self.all & ~reach[comp_of[v]] for v in range(self.n)]

    # -- deadlock
    def dead_states(self) -> tuple[list[int], list[int]]:
        """Per state, the unfinished actors that never move again; and the
        states where there are some, in order."""
        stuck = self.never_moves(self.enabled)
        dead = [stuck[i] & ~self.finished[i] for i in range(self.n)]
        return dead, [i for i in range(self.n) if dead[i]]

    def deadlocks(self) -> tuple[list[StateFinding], list[int]]:
        dead, where = self.dead_states()
        out, seen = [], []
        for i in self.places(dead, where):
            actors = tuple(a for a in range(self.sys.L.A) if dead[i] >> a & 1)
            key = frozenset(self._where(i, a) for a in actors)
            if any(k <= key for k in seen):       # a consequence of one already shown
                continue
            seen.append(key)
            then = self._settle(i, dead)
            last = then[-1][1] if then else i
            stuck = tuple(a for a in range(self.sys.L.A) if dead[last] >> a & 1)
            names = ", ".join(self._describe(last, a) for a in stuck)
            what = "no actor can move" if self.enabled[last] == 0 else "others go on"
            out.append(StateFinding("deadlock", tuple(sorted(key)),
                                    f"blocked forever: {names} ({what})", i, stuck, then))
            if len(out) >= MAX_PER_KIND:
                break
        return out, dead

    def places(self, dead, where):
        """The dead states to look at for deadlocks, in order: all of them
        here.  A state whose dead actors stand at the same pcs as in an
        earlier one has that one's key, so a subclass may leave it out."""
        return where

    def _settle(self, i: int, dead: list, budget: int = 100_000) -> list:
        """From the point of no return, the shortest way on to a state where
        every unfinished actor is stuck, so the whole cycle can be shown."""
        goal = lambda v: (dead[v] | self.finished[v]) == self.all
        if goal(i):
            return []
        parent = {i: None}
        queue = deque([i])
        while queue and len(parent) < budget:
            v = queue.popleft()
            for e in (self.g.successors(v) if v < self.expanded else ()):
                w = self.g.edges[e]
                if w in parent:
                    continue
                parent[w] = (v, self.g.edge_actor[e])
                if goal(w):
                    path = []
                    while parent[w] is not None:
                        v, a = parent[w]
                        path.append((a, w))
                        w = v
                    return path[::-1]
                queue.append(w)
        return []

    def _describe(self, i: int, a: int) -> str:
        return describe(self.sys, self.g, i, a)

    def _where(self, i: int, a: int) -> tuple[str, int]:
        return self.sys.actor(a), self.sys.where(self.g.states[i], a)[0]

    # -- timeout-hang
    def timeout_hangs(self) -> list[StateFinding]:
        g, sys = self.g, self.sys
        if not g.timeout_edges:
            return []
        no_to = self.no_timeout_enabled()
        stuck = self.never_moves(no_to, skip_timeouts=True)
        out, seen = [], set()
        for i, a in self.timeout_candidates(stuck):
            s = g.states[i]
            ins = sys.code[s[sys.L.PC + a]]
            if ins.pending(s):
                key = self._where(i, a)
                if key in seen:
                    continue
                seen.add(key)
                out.append(StateFinding("timeout-hang", key,
                                        f"{key[0]} waits at line {key[1]} ({ins.stmt.text}) for a "
                                        "fence that would never signal: only the timeout ends it",
                                        i, (a,)))
        return out[:MAX_PER_KIND]

    def no_timeout_enabled(self) -> list[int]:
        g = self.g
        no_to = [0] * self.n
        for i in range(self.n):
            if i >= self.expanded:
                no_to[i] = self.all
                continue
            for e in g.successors(i):
                if e not in g.timeout_edges:
                    no_to[i] |= 1 << g.edge_actor[e]
        return no_to

    def timeout_candidates(self, stuck: list[int]):
        """(state, actor), in order, where the actor never moves again and
        stands at a `wait ... timeout`."""
        sys, PC = self.sys, self.sys.L.PC
        for i in range(min(self.n, self.expanded)):
            if not stuck[i]:
                continue
            s = self.g.states[i]
            for a in range(sys.L.A):
                pc = s[PC + a]
                if not stuck[i] >> a & 1 or pc == DONE:
                    continue
                ins = sys.code[pc]
                if isinstance(ins, Wait) and ins.mode == "timeout":
                    yield i, a

    # -- indefinite-fence
    def indefinite_fences(self, dead: list[int]) -> list[StateFinding]:
        g, sys = self.g, self.sys
        best = self.first_published(self.unsignalled_candidates(dead))
        out = []
        for f, i in sorted(best.items(), key=lambda x: (x[1], x[0])):
            name = sys.m.fences[f].name
            how = ("every actor finishes" if self.finished[i] == self.all and
                   g.offsets[i] == g.offsets[i + 1] else "the actors go on in a fair cycle")
            out.append(StateFinding("indefinite-fence", (name,),
                                    f"fence {name} is published and never signalled: {how} "
                                    "without signalling it", i))
        return out[:MAX_PER_KIND]

    def first_published(self, states: list[int]) -> dict[int, int]:
        """fence -> the least of `states` where it is published, unsignalled."""
        FN, nf = self.sys.L.FN, len(self.sys.m.fences)
        best: dict[int, int] = {}
        for i in states:
            s = self.g.states[i]
            for f in range(nf):
                if s[FN + f] & 7 == PUBLISHED and (f not in best or i < best[f]):
                    best[f] = i
        return best

    def unsignalled_candidates(self, dead: list[int]) -> list[int]:
        """States that may show a fence published and never signalled: the
        final states where everyone finished, the least state of each fair
        cycle.  (Which fences, `indefinite_fences` reads from the state.)"""
        g = self.g
        live = [i for i in range(self.expanded) if not dead[i]]
        out = [i for i in live                   # everyone finished, fence left unsignalled
               if g.offsets[i] == g.offsets[i + 1] and self.finished[i] == self.all]
        return out + [min(comp) for comp in self._fair_cycles(set(live))]

    def _fair_cycles(self, nodes: set):
        g = self.g
        work = [c for c in sccs(sorted(nodes), lambda v: [w for w in self.succ(v) if w in nodes])]
        while work:
            comp = work.pop()
            members = set(comp)
            moved, enabled_any, cyclic = 0, 0, len(comp) > 1
            for v in comp:
                enabled_any |= self.enabled[v]
                for e in g.successors(v):
                    if g.edges[e] in members:
                        moved |= 1 << g.edge_actor[e]
                        cyclic = cyclic or g.edges[e] == v
            if not cyclic:
                continue
            unfair = enabled_any & ~moved
            if not unfair:
                yield comp
                continue
            keep = {v for v in comp if not self.enabled[v] & unfair}
            work.extend(sccs(sorted(keep), lambda v: [w for w in self.succ(v) if w in keep]))


def describe(sys: System, g: Graph, i: int, a: int) -> str:
    """Where actor a stands in state i, as a deadlock message names it."""
    s = g.states[i]
    line, text = sys.where(s, a)
    frames = s[sys.L.STK + a]
    hook = f", in the {sys.code[frames[-1]].calls} hook" if frames and "(leaving" not in text else ""
    return f"{sys.actor(a)} at line {line} ({text}{hook})"


def stuck(sys: System, g: Graph, i: int) -> StateFinding:
    """Early-bug mode: state i, reached first by the search, where no actor
    can move and some have not finished.  The trace to it is a shortest one;
    its key names where the blocked actors stand there."""
    s = g.states[i]
    actors = tuple(a for a in range(sys.L.A) if not sys.at_rest(s, a))
    key = tuple(sorted((sys.actor(a), sys.where(s, a)[0]) for a in actors))
    names = ", ".join(describe(sys, g, i, a) for a in actors)
    return StateFinding("deadlock", key, f"blocked forever: {names} (no actor can move)", i, actors)


NATIVE_FROM = 512   # states from which the C analyses run (below, the reference takes a few ms)
CSR_FROM = 4096     # states from which numpy and scipy pay for their import, without the C ones


def analyse(sys: System, g: Graph, how: str = "auto") -> list[StateFinding]:
    """The findings of the whole graph: with the C analyses (`native`) where
    they apply and the graph is large, else with numpy and scipy (`graphs`,
    for installs where the extension was not built) ("auto"); or with the
    one asked for, where it applies ("native", "csr"); else, or when asked
    ("reference"), with the reference above."""
    an = None
    n = len(g.states)
    if how == "native" or (how == "auto" and n >= NATIVE_FROM):
        from . import native
        if native.applies(sys, g):
            an = native.NativeAnalysis(sys, g)
    if an is None and (how == "csr" or (how == "auto" and n >= CSR_FROM)):
        from . import graphs                  # numpy and scipy: only once a graph is analysed
        if graphs.applies(sys, g):
            an = graphs.FastAnalysis(sys, g)
    an = an or Analysis(sys, g)
    deadlocks, dead = an.deadlocks()
    return deadlocks + an.indefinite_fences(dead) + an.timeout_hangs()
