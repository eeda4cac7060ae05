"""Symmetry of actor copies: `thread w[i in 1..N]` whose copies differ only
by which elements of arrays they use.  Declarations copied over the same
indices (`thread w[i in 1..N]` beside `job j[i in 1..N] on E[i]`) are
exchanged together, index by index, when that is what makes them symmetric.

Copies c1..cN of one declaration are interchangeable when, for every j,
exchanging c1 and cj (with the objects only they use: f[1] <-> f[j]...)
maps the whole model to itself: the two bodies match statement by
statement, every other actor, hook and invariant mentions none of the
exchanged objects, and exchanged declarations agree (kind, class, slots,
range, `after` lists).  Those exchanges generate every permutation of the
copies, so a state and any permutation of it have the same futures up to
renaming; the search stores one representative per permutation class
(copies sorted by their local state), and each edge remembers the renaming
it applied so that "actor a never moves again" can follow a across it.

A cycle of the quotient graph stands for cycles of the full graph through
the renamings met around it; fairness is judged on the orbits of the actors
under those renamings (`_fair_cycle`).  The quotient graph is used for the
verdict only: as soon as it shows any finding, `api` searches again without
symmetry for traces that name the real actors.
"""
from __future__ import annotations

from functools import reduce
from operator import or_

from ..semantics import PUBLISHED, System, Wait, WaitAny
from ..semantics.base import DONE, token_lock

OBJ_KIND = {"lock": "lock", "unlock": "lock", "trylock": "lock", "signal": "fence",
            "wait_fence": "fence", "wait_resv": "lock", "publish": "fence",
            "acquire": "engine", "release": "engine", "assign": "var",
            "queue_work": "actor", "flush_work": "actor", "cancel_work_sync": "actor",
            "flush_workqueue": "workqueue"}


class Mismatch(Exception):
    pass


def _kinds(st) -> tuple:
    if st.op == "publish_in":
        return ("fence", "lock")
    k = OBJ_KIND.get(st.op)
    return (k,) * len(st.objs) if k else ()


class Swap:
    """The object renaming of exchanging two copies (an involution)."""

    def __init__(self, m):
        self.m, self.map, self.mentioned = m, {}, (set(), set())

    def __call__(self, x):
        return self.map.get(x, x)

    def unify(self, x, y, side: bool = True) -> None:
        for a, b in ((x, y), (y, x)):
            have = self.map.setdefault(a, b)
            if have != b:
                raise Mismatch
        if side:
            self.mentioned[0].add(x)
            self.mentioned[1].add(y)
        if x[0] == "lock" and (self.m.locks[x[1]].resv >= 0 or self.m.locks[y[1]].resv >= 0):
            self.unify(("resv", self.m.locks[x[1]].resv), ("resv", self.m.locks[y[1]].resv), side)

    def fixed(self, x) -> None:
        self.unify(x, x, side=False)

    def stmts(self, xs, ys, side=True) -> None:
        if len(xs) != len(ys):
            raise Mismatch
        for x, y in zip(xs, ys):
            if (x.op, x.mode, x.usage, len(x.objs), len(x.bodies)) != \
                    (y.op, y.mode, y.usage, len(y.objs), len(y.bodies)):
                raise Mismatch
            for k, a, b in zip(_kinds(x), x.objs, y.objs):
                self.unify((k, a), (k, b), side)
            self.expr(x.expr, y.expr, side)
            for bx, by in zip(x.bodies, y.bodies):
                self.stmts(bx, by, side)

    def expr(self, e, f, side=True) -> None:
        if e is None or f is None:
            if e is not f:
                raise Mismatch
            return
        if e[0] != f[0] or len(e) != len(f):
            raise Mismatch
        tag = e[0]
        if tag == "int":
            if e[1] != f[1]:
                raise Mismatch
        elif tag == "var":
            self.unify(("var", e[1]), ("var", f[1]), side)
        elif tag in ("signalled", "errored", "published"):
            self.unify(("fence", e[1]), ("fence", f[1]), side)
        elif tag == "held":
            self.unify(("lock", e[1]), ("lock", f[1]), side)
        elif tag in ("pending", "running"):
            self.unify(("actor", e[1]), ("actor", f[1]), side)
        elif tag == "done":
            if len(e[1]) != len(f[1]):
                raise Mismatch
            for a, b in zip(e[1], f[1]):
                self.unify(("actor", a), ("actor", b), side)
        elif tag in ("and", "or"):
            if len(e[1]) != len(f[1]):
                raise Mismatch
            for x, y in zip(e[1], f[1]):
                self.expr(x, y, side)
        elif tag == "bin":
            if e[1] != f[1]:
                raise Mismatch
            self.expr(e[2], f[2], side)
            self.expr(e[3], f[3], side)
        else:                                          # not, neg
            self.expr(e[1], f[1], side)


class Symmetry:
    def __init__(self, sys: System):
        self.sys = sys
        # [(units, pcmaps: unit -> {pc of unit 1: pc}, own: unit -> [obj])]; a unit is
        # the copies of one index: (w[i],) or, exchanged together, (w[i], j[i])
        self.groups = []
        self.why_off = ""
        if sys.L.irqs:
            self.why_off = "irq handlers (the thread each one interrupts is not renamed)"
            return
        by_decl: dict = {}
        for a, actor in enumerate(sys.m.actors):
            if "[" in actor.name:
                index = int(actor.name[actor.name.index("[") + 1:-1])
                by_decl.setdefault((actor.line, actor.name.split("[")[0]), []).append((index, a))
        by_range: dict = {}                            # declarations copied over the same indices
        for copies in by_decl.values():
            by_range.setdefault(tuple(i for i, _a in copies), []).append([a for _i, a in copies])
        for decls in by_range.values():
            if len(decls[0]) < 2:
                continue
            joint = self._group(list(zip(*decls)))     # all of them at once, else one by one
            if joint:
                self.groups.append(joint)
            elif len(decls) > 1:
                self.groups.extend(g for g in (self._group([(a,) for a in d]) for d in decls) if g)
        if not self.groups:
            self.why_off = "no interchangeable actor copies"
            return
        self.wait_any = [pc for pc, ins in enumerate(sys.code) if isinstance(ins, WaitAny)]
        self.perms: dict = {}                         # actor renaming -> id (0: none)
        self.perm_list: list = []
        self._perm_id(tuple(range(sys.L.A)))
        self.frame = {}                                # pc of unit j -> (group, j, pc of unit 1)
        for gi, (_units, pcmaps, _own) in enumerate(self.groups):
            for j, pm in enumerate(pcmaps):
                for p1, pj in pm.items():
                    self.frame[pj] = (gi, j, p1)

    # -- finding the groups
    def _swap(self, u: tuple, v: tuple):
        """(object renaming, pc map u -> v) of exchanging units u and v, or None."""
        sys, m = self.sys, self.sys.m
        sw = Swap(m)
        try:
            for c, d in zip(u, v):
                ac, ad = m.actors[c], m.actors[d]
                if (ac.kind, ac.preemptible, ac.wq) != (ad.kind, ad.preemptible, ad.wq):
                    raise Mismatch
                sw.unify(("actor", c), ("actor", d))
                if ac.kind == "job":
                    sw.unify(("engine", ac.engine), ("engine", ad.engine))
                if len(ac.deps) != len(ad.deps):
                    raise Mismatch
                for x, y in zip(ac.deps, ad.deps):
                    sw.unify(("fence", x), ("fence", y))
                sw.stmts(ac.body, ad.body)
            for b, actor in enumerate(m.actors):
                if b not in u + v:
                    sw.fixed(("actor", b))
                    if actor.kind == "job":
                        sw.fixed(("engine", actor.engine))
                    for x in actor.deps:
                        sw.fixed(("fence", x))
                    sw.stmts(actor.body, actor.body, side=False)
            for bodies in m.hooks.values():
                for body in bodies:
                    sw.stmts(body, body, side=False)
            for f in range(len(m.fences)):             # a fence with hooks stays itself
                if any(m.fence_event(k, f) in m.hooks for k in ("signal", "enable_signaling")):
                    sw.fixed(("fence", f))
            for _name, e, _line in m.invariants + m.reachables:   # fixed: their value is
                sw.expr(e, e, side=False)                        # the same in every permutation
            sw.fixed(("lock", sys.MMAP))
            for (kind, x), (_, y) in list(sw.map.items()):
                if kind == "lock" and (m.locks[x].kind, m.locks[x].cls) != (m.locks[y].kind, m.locks[y].cls):
                    raise Mismatch
                if kind == "engine" and m.engines[x].slots != m.engines[y].slots:
                    raise Mismatch
                if kind == "var" and (m.vars[x].init, m.vars[x].lo, m.vars[x].hi) != \
                        (m.vars[y].init, m.vars[y].lo, m.vars[y].hi):
                    raise Mismatch
            for f, fence in enumerate(m.fences):
                image = {sw(("fence", g))[1] for g in fence.after}
                if image != set(m.fences[sw(("fence", f))[1]].after):
                    raise Mismatch
                other = m.fences[sw(("fence", f))[1]]       # containers: their parts map over
                if fence.kind != other.kind or \
                        {sw(("fence", g))[1] for g in fence.parts} != set(other.parts):
                    raise Mismatch
            pcmap = {}
            for c, d in zip(u, v):
                pcmap.update(self._align(sw, c, d))
        except Mismatch:
            return None
        return sw, pcmap

    def _align(self, sw: Swap, c: int, d: int) -> dict:
        sys = self.sys
        rc, rd = sys.actor_code[c], sys.actor_code[d]
        if len(rc) != len(rd):
            raise Mismatch
        pcmap = {pc: rd[o] for o, pc in enumerate(rc)}
        for pc in rc:                  # wait any: the wait on f becomes the wait on f's image
            ins, other = sys.code[pc], sys.code[pcmap[pc]]
            if isinstance(ins, WaitAny) and isinstance(other, WaitAny):
                for f, w in ins.picked.items():
                    w2 = other.picked[sw(("fence", f))[1]]
                    pcmap[w] = w2
                    if hasattr(sys.code[w], "woken_pc"):
                        pcmap[sys.code[w].woken_pc] = sys.code[w2].woken_pc
        mp = lambda p: pcmap.get(p, p)
        for pc in rc:
            ins, other = sys.code[pc], sys.code[pcmap[pc]]
            if type(ins) is not type(other) or (ins.stmt.op, ins.stmt.mode) != (other.stmt.op, other.stmt.mode):
                raise Mismatch
            for attr in ("nxt", "else_pc", "then_pc", "woken_pc", "wait_pc"):
                x = getattr(ins, attr, None)
                if (x is None) != (getattr(other, attr, None) is None) or \
                        x is not None and mp(x) != getattr(other, attr):
                    raise Mismatch
            if [mp(p) for p in getattr(ins, "targets", ())] != list(getattr(other, "targets", ())):
                raise Mismatch
            if isinstance(ins, WaitAny) and \
                    {sw(("fence", f))[1]: mp(w) for f, w in ins.picked.items()} != other.picked:
                raise Mismatch
            if isinstance(ins, Wait):
                if ins.fence is not None and sw(("fence", ins.fence))[1] != other.fence:
                    raise Mismatch
                if ins.resv is not None and sw(("resv", ins.resv))[1] != other.resv:
                    raise Mismatch
        return pcmap

    def _group(self, units: list):
        swaps = [self._swap(units[0], u) for u in units[1:]]
        if any(s is None for s in swaps):
            return None
        first = swaps[0][0]
        own1 = sorted(x for x in first.mentioned[0] if x[0] != "actor" and first(x) != x)
        own = [own1] + [[sw(x) for x in own1] for sw, _ in swaps]
        every = [x for objs in own for x in objs]
        if len(set(every)) != len(every):
            return None
        for j, (sw, _pm) in enumerate(swaps, 1):
            moved = {x for x, y in sw.map.items() if x != y and x[0] != "actor"}
            if moved != set(own[0]) | set(own[j]):
                return None
        identity = {pc: pc for c in units[0] for pc in self.sys.actor_code[c]}
        pcmaps = [identity] + [pm for _sw, pm in swaps]
        for pm in pcmaps[1:]:                          # wait-any waits may sit outside the range
            for p in list(pm):
                identity.setdefault(p, p)
        return units, pcmaps, own

    # -- renaming states
    def _perm_id(self, amap: tuple) -> int:
        n = self.perms.get(amap)
        if n is None:
            n = self.perms[amap] = len(self.perm_list)
            self.perm_list.append(amap)
        return n

    def canon(self, s: tuple) -> tuple[tuple, int]:
        """(representative of s, id of the actor renaming applied)."""
        moves = []
        for units, _pcmaps, own in self.groups:
            keys = sorted((self._local(s, unit, j, own), j) for j, unit in enumerate(units))
            moves.append([j for _k, j in keys])       # slot k gets copy order[k]
        if all(order == sorted(order) for order in moves):
            return s, 0
        amap, pcm, omap = self._renaming(moves)
        return self.apply(s, amap, pcm, omap), self._perm_id(tuple(amap))

    def _renaming(self, moves: list) -> tuple[list, dict, dict]:
        """Actor, pc and object maps of putting, per group, copy order[k] in slot k."""
        amap = list(range(self.sys.L.A))
        pcm, omap = {}, {}
        for (units, pcmaps, own), order in zip(self.groups, moves):
            for k, j in enumerate(order):
                if k == j:
                    continue
                for c, d in zip(units[j], units[k]):
                    amap[c] = d
                src, dst = pcmaps[j], pcmaps[k]
                for p1, pj in src.items():
                    pcm[pj] = dst[p1]
                for x, y in zip(own[j], own[k]):
                    omap[x] = y
        code = self.sys.code
        for pc in self.wait_any:       # waiting for the picked f means waiting for f's image
            image = code[pcm.get(pc, pc)].picked
            for f, w in code[pc].picked.items():
                w2 = image[omap.get(("fence", f), ("fence", f))[1]]
                pcm[w] = w2
                if hasattr(code[w], "woken_pc"):
                    pcm[code[w].woken_pc] = code[w2].woken_pc
        return amap, pcm, omap

    def _local(self, s, unit: tuple, j: int, own) -> tuple:
        """What unit j looks like from inside, in unit 1's terms: the sort key
        (any key gives a sound search; a finer one merges more states)."""
        L = self.sys.L
        to1 = lambda p: self.frame[p][2] if p in self.frame and self.frame[p][1] == j else p
        vals = []
        for kind, x in own[j]:
            v = s[self._slot(kind, x)]
            if kind == "lock":
                v = (unit.index(-v - 1) if v < 0 and -v - 1 in unit else -1, v < 0,
                     tuple(v > 0 and bool(v >> c & 1) for c in unit), v > 0)
            elif kind in ("resv", "engine"):
                v = len(v) if kind == "engine" else bin(v).count("1")
            vals.append(v)
        mine = []
        for c in unit:
            held = tuple(s[L.LK + l] == -(c + 1) or (s[L.LK + l] > 0 and s[L.LK + l] >> c & 1)
                         for l in range(len(self.sys.m.locks)))
            slots = tuple(c in s[L.EN + e] for e in range(len(self.sys.m.engines)))
            wq = self.sys.m.actors[c].wq                  # a work item: its place in its queue
            queued = s[L.WQ + wq].index(c) if wq >= 0 and c in s[L.WQ + wq] else -1
            mine.append((to1(s[L.PC + c]), tuple(to1(p) for p in s[L.STK + c]), held, slots,
                         queued, s[L.HO + c], s[L.FB + c] if self.sys.m.uses_flush else ()))
        return tuple(mine), tuple(vals)

    def _slot(self, kind: str, x: int) -> int:
        L = self.sys.L
        return {"lock": L.LK, "fence": L.FN, "resv": L.RV, "engine": L.EN, "var": L.VR}[kind] + x

    def apply(self, s: tuple, amap: list, pcm: dict, omap: dict) -> tuple:
        L = self.sys.L
        new = list(s)
        for a in range(L.A):
            b = amap[a]
            new[L.PC + b] = pcm.get(s[L.PC + a], s[L.PC + a])
            new[L.STK + b] = tuple(pcm.get(p, p) for p in s[L.STK + a])
        for l in range(len(self.sys.m.locks)):
            v = s[L.LK + l]
            if v < 0:
                v = -(amap[-v - 1] + 1)
            elif v > 0:
                v = sum(1 << amap[a] for a in range(L.A) if v >> a & 1)
            new[self._slot("lock", omap.get(("lock", l), ("lock", l))[1])] = v
        fmap = lambda f: omap.get(("fence", f), ("fence", f))[1]
        for f in range(len(self.sys.m.fences)):
            new[L.FN + fmap(f)] = s[L.FN + f]
        for r in range(len(self.sys.m.resvs)):
            mask = sum(1 << fmap(f) for f in self.sys.bits(s[L.RV + r]))
            new[self._slot("resv", omap.get(("resv", r), ("resv", r))[1])] = mask
            r2 = omap.get(("resv", r), ("resv", r))[1]
            for k in range(3 if L.US_N else 0):        # the usage masks go with their resv
                new[L.US + 3 * r2 + k] = sum(1 << fmap(f) for f in self.sys.bits(s[L.US + 3 * r + k]))
        lmap = lambda l: omap.get(("lock", l), ("lock", l))[1]
        new[L.XL] = tuple(sorted(("n", lmap(x[1])) if x[0] == "n" else ("r", lmap(x[1]), amap[x[2]])
                                 for x in s[L.XL]))
        new[L.WW] = tuple(amap[b] for b in s[L.WW])
        if self.sys.m.uses_flush:                 # flush barriers: flusher and items renamed
            for a in range(L.A):
                new[L.FB + amap[a]] = tuple(sorted(2 * amap[x >> 1] + (x & 1) for x in s[L.FB + a]))
        for a in range(L.A):                      # held orders: the locks renamed, order kept
            new[L.HO + amap[a]] = tuple(tok if token_lock(tok) < 0 else
                                        tok + ((lmap(token_lock(tok)) - token_lock(tok)) << 8)
                                        for tok in s[L.HO + a])
        for e in range(len(self.sys.m.engines)):
            new[self._slot("engine", omap.get(("engine", e), ("engine", e))[1])] = \
                tuple(sorted(amap[a] for a in s[L.EN + e]))
        for v in range(len(self.sys.m.vars)):
            new[self._slot("var", omap.get(("var", v), ("var", v))[1])] = s[L.VR + v]
        for q, wq in enumerate(self.sys.m.workqueues):   # pending items: renamed, order kept
            queue = tuple(amap[w] for w in s[L.WQ + q])
            new[L.WQ + q] = queue if wq.ordered else tuple(sorted(queue))
        return tuple(new)

    # -- what the quotient graph says
    def close_deps(self, keys) -> set:
        """The lock contexts of every copy, from those seen at representatives:
        closed under exchanging copy 1 with each other copy."""
        swaps = []
        for gi, (units, _pcmaps, _own) in enumerate(self.groups):
            for j in range(1, len(units)):
                moves = [list(range(len(c))) for c, _p, _o in self.groups]
                moves[gi][0], moves[gi][j] = j, 0
                swaps.append(self._renaming(moves)[1])
        out, todo = set(keys), list(keys)
        while todo:
            held, pc = todo.pop()
            for pcm in swaps:
                key = (held, pcm.get(pc, pc))
                if key not in out:
                    out.add(key)
                    todo.append(key)
        return out

    def verdict(self, g, how: str = "auto") -> set:
        """The finding kinds the quotient graph shows, as analysis would find
        them on the full graph.  "Actor a never moves again from v" follows a
        across each edge through its renaming, to a fixpoint around cycles:
        in C (`verdicts.native.QuotientAnalysis`) where it applies and the
        graph is large ("auto"), or where asked ("native"), else, or when
        asked ("reference"), in `_kinds` and `_fair_cycle` below."""
        from ..verdicts.analysis import NATIVE_FROM            # (analysis imports the explorer)
        back, fast = self.back(), None
        if how == "native" or (how == "auto" and len(g.states) >= NATIVE_FROM):
            from ..verdicts import native
            if native.applies(self.sys, g):
                fast = native.QuotientAnalysis(self.sys, g, back)
        if fast is not None:
            kinds = fast.kinds()
        else:
            kinds, live = self._kinds(g, back)
            if self._fair_cycle(g, live, back):
                kinds.add("indefinite-fence")
        return kinds | {f.kind for f in g.found.values()}

    def back(self) -> list[list[int]]:
        """Per renaming id, the map that carries an edge target's actor b to
        its source's actor back[id][b]."""
        out = []
        for amap in self.perm_list:
            inv = [0] * self.sys.L.A
            for a, b in enumerate(amap):
                inv[b] = a
            out.append(inv)
        return out

    def _kinds(self, g, back: list) -> tuple[set, list]:
        """The reference: the kinds decided by "never moves again" and the
        final states, and the live states (expanded, none dead) where a fair
        cycle may lie."""
        from ..verdicts.analysis import sccs
        sys, L = self.sys, self.sys.L
        A, every = L.A, (1 << L.A) - 1
        kinds = set()
        n, expanded = len(g.states), g.expanded

        def carry(mask: int, p: int) -> int:
            if p == 0:
                return mask
            inv, out = back[p], 0
            for b in range(A):
                if mask >> b & 1:
                    out |= 1 << inv[b]
            return out

        states = g.states
        # the pcs as columns where the states are packed records (the native
        # core's): a state whose actors that never move again have all
        # finished shows nothing, and is not decoded
        done = [[pc == DONE for pc in states.column(L.PC + a).tolist()] for a in range(A)] \
            if hasattr(states, "column") else None
        dead = [False] * n
        for skip_timeouts in (False, True):
            if skip_timeouts and not g.timeout_edges:
                break
            out = lambda v: [e for e in g.successors(v)
                             if not (skip_timeouts and e in g.timeout_edges)] if v < expanded else []
            reach = [0] * n                          # actors enabled somewhere reachable
            for comp in sccs(range(n), lambda v: [g.edges[e] for e in out(v)]):   # sinks first
                cyclic = len(comp) > 1 or any(g.edges[e] == comp[0] for e in out(comp[0]))
                changed = True
                while changed:                       # around a cycle of renamings: to a fixpoint
                    changed = False
                    for v in comp:
                        m = reach[v] if v < expanded else every
                        for e in out(v):
                            m |= 1 << g.edge_actor[e] | carry(reach[g.edges[e]], g.edge_perm[e])
                        if m != reach[v]:
                            reach[v], changed = m, cyclic
            for v in range(min(n, expanded)):
                stuck = every & ~reach[v]
                if done is not None and all(done[a][v] for a in range(A) if stuck >> a & 1):
                    continue
                s = states[v]
                for a in range(A):
                    pc = s[L.PC + a]
                    if not stuck >> a & 1 or sys.at_rest(s, a):
                        continue
                    if not skip_timeouts:
                        kinds.add("deadlock")
                        dead[v] = True
                    else:
                        ins = sys.code[pc]
                        if isinstance(ins, Wait) and ins.mode == "timeout" and ins.pending(s):
                            kinds.add("timeout-hang")
        for v in range(min(n, expanded)):             # everyone finished, a fence left unsignalled
            if g.offsets[v] == g.offsets[v + 1]:
                s = states[v]
                if all(sys.at_rest(s, a) for a in range(A)) and \
                        any(s[L.FN + f] & 7 == PUBLISHED for f in range(len(sys.m.fences))):
                    kinds.add("indefinite-fence")
        return kinds, [v for v in range(min(n, expanded)) if not dead[v]]

    def _fair_cycle(self, g, live: list, back: list) -> bool:
        """A fair cycle of live states keeping a published fence unsignalled.
        The fences of a state only ever gain bits, so every state of a cycle
        shows the same ones: its least state is looked at."""
        L, nf = self.sys.L, len(self.sys.m.fences)
        return any(any(g.states[v][L.FN + f] & 7 == PUBLISHED for f in range(nf))
                   for v in self._fair_cycles(g, live, back))

    def _fair_cycles(self, g, live: list, back: list):
        """The least state of each fair cycle of live states, as analysis
        looks for them, on the quotient.  A quotient cycle stands
        for full cycles through the renamings met around it (the holonomy
        group H): an actor enabled somewhere stands for its whole H-orbit,
        and so does an actor that moves; the cycle is fair when every orbit
        that is enabled somewhere also moves."""
        from ..verdicts.analysis import sccs
        A = self.sys.L.A
        enabled = {}
        for v in live:
            m = 0
            for e in g.successors(v):
                m |= 1 << g.edge_actor[e]
            enabled[v] = m

        def inside(keep):
            return lambda v: [g.edges[e] for e in g.successors(v) if g.edges[e] in keep]

        keep0 = set(live)
        work = sccs(sorted(keep0), inside(keep0))
        while work:
            comp = work.pop()
            members = set(comp)
            edges = [(v, e) for v in comp for e in g.successors(v) if g.edges[e] in members]
            if len(comp) == 1 and not edges:
                continue
            tau = {comp[0]: list(range(A))}          # v's actors -> the root's actors
            todo = [comp[0]]
            while todo:
                v = todo.pop()
                for e in g.successors(v):
                    w = g.edges[e]
                    if w in members and w not in tau:
                        tau[w] = [tau[v][back[g.edge_perm[e]][x]] for x in range(A)]
                        todo.append(w)
            orbit = list(range(A))                   # union-find over the root's actors

            def find(x):
                while orbit[x] != x:
                    orbit[x] = orbit[orbit[x]]
                    x = orbit[x]
                return x
            for v, e in edges:                       # each edge's holonomy joins orbits
                w, inv = g.edges[e], back[g.edge_perm[e]]
                for x in range(A):
                    orbit[find(tau[w][x])] = find(tau[v][inv[x]])
            closure = [0] * A
            for x in range(A):
                closure[find(x)] |= 1 << x
            close = lambda v, mask: reduce(or_, (closure[find(tau[v][x])] for x in range(A)
                                                   if mask >> x & 1), 0)
            enabled_any = reduce(or_, (close(v, enabled[v]) for v in comp), 0)
            moved = reduce(or_, (close(v, 1 << g.edge_actor[e]) for v, e in edges), 0)
            unfair = enabled_any & ~moved
            if not unfair:
                yield min(comp)
                continue
            keep = {v for v in comp if not close(v, enabled[v]) & unfair}
            work.extend(sccs(sorted(keep), inside(keep)))

