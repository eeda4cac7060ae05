"""Findings on the graph -> findings a person reads: each trace replayed
through the semantics (so a bug in the search cannot show a step that is not
possible), every step told by what it changed, the final state, and who
waits for whom at the end.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ..search.explorer import Found, Graph
from ..language.model import hook_event
from ..semantics import DONE, ERRORED, PUBLISHED, System


@dataclass
class Step:
    step: int
    actor: str
    line: int
    statement: str
    effect: str


@dataclass
class Finding:
    kind: str
    message: str
    trace: list = field(default_factory=list)        # [Step]
    final_state: dict = field(default_factory=dict)
    waits_for: list = field(default_factory=list)    # sentences
    blocked: list = field(default_factory=list)      # [Step] the actors stuck at the end
    then: list = field(default_factory=list)         # [Step] after the point of no return
    cycle: list = field(default_factory=list)        # lock-order: [lockorder.Edge], each with its trace
    lockdep: str = ""                                # deadlock: would lockdep have reported it?
    line: int = 0                                    # unreachable: the `reachable` line
    usage: dict = field(default_factory=dict)        # irq-unsafe-lock: class, in_irq, irq_on
    held: list = field(default_factory=list)         # step findings: what the actor holds after the step
    at: dict = field(default_factory=dict)           # step findings: the actor and where it is then
    root: frozenset = frozenset()                    # what makes two findings one bug (see `fold`)

    def as_dict(self) -> dict:
        d = {"kind": self.kind, "message": self.message,
             "trace": [vars(s) for s in self.trace],
             "then": [vars(s) for s in self.then],
             "blocked": [vars(s) for s in self.blocked],
             "final_state": self.final_state, "waits_for": self.waits_for}
        if self.cycle:
            d["cycle"] = [e.as_dict(True) for e in self.cycle]
        if self.lockdep:
            d["lockdep"] = self.lockdep
        if self.usage:
            d["usage"] = self.usage
        if self.held:
            d["held"] = self.held
        return d


class ReplayError(AssertionError):
    """The search reported a step the semantics does not allow: a checker bug."""


def replay(sys: System, steps: list[tuple[int, tuple]]) -> list[tuple]:
    """Re-run [(actor, expected next state)] from the initial state.
    Returns [(actor, before, after, label, findings)]."""
    s = sys.initial()
    out = []
    for a, want in steps:
        for b, (nxt, label, found, _timeout) in sys.successors(s):
            if b == a and nxt == want:
                out.append((a, s, nxt, label, found))
                s = nxt
                break
        else:
            raise ReplayError(f"step {len(out) + 1} by {sys.actor(a)} cannot be replayed")
    return out


def build(sys: System, g: Graph, item) -> Finding:
    """A user-facing finding from a step finding (Found) or a state finding."""
    if isinstance(item, Found):
        steps = [(a, g.states[j]) for a, j in g.path(item.src)]
        if item.actor >= 0:
            steps.append((item.actor, g.states[item.dst]))
        actors = ()
    else:
        steps = [(a, g.states[j]) for a, j in g.path(item.state)]
        actors = item.actors
    cut = len(steps)                      # the finding's own trace ends here
    steps += [(a, g.states[j]) for a, j in getattr(item, "then", [])]
    done = replay(sys, steps)
    if isinstance(item, Found) and item.actor >= 0 and item.kind != "invariant":
        last = done[-1][4] if done else ()
        if not any(k == item.kind for k, _, _ in last):
            raise ReplayError(f"the last step does not produce {item.kind}")
    final = done[-1][2] if done else sys.initial()
    if item.kind == "invariant" and not any(k == "invariant" for k, _, _ in sys.invariant_failures(final)):
        raise ReplayError("the invariant holds in the replayed state")
    if item.kind == "deadlock":
        for a in actors:
            if any(b == a for b, _ in sys.successors(final)):
                raise ReplayError(f"{sys.actor(a)} can still move in the replayed state")
    told = tell(sys, done)
    trace, then = told[:cut], told[cut:]
    held, at = [], {}
    if isinstance(item, Found) and item.actor >= 0 and done:
        # after the step: a step finding is about what the actor reaches holding what
        held = held_locks(sys, [sys.initial()] + [after for _a, _b, after, _l, _f in done[:cut]],
                          item.actor)
        line, text = sys.where(done[cut - 1][2], item.actor)
        at = {"actor": sys.actor(item.actor), "line": line, "statement": text}
    blocked = [Step(0, sys.actor(a), *sys.where(final, a), "blocks: " + blocked_reason(sys, final, a))
               for a in actors]
    chains, members = [], []
    for a in actors:                       # one chain per cycle, not one per member
        if not any(f"{sys.actor(a)} waits" in c for c in chains):
            chains.append(waits_for(sys, final, a))
        members += [b for b in cycle_of(sys, final, a) if b not in members]
    message, root = item.message, frozenset()
    if item.kind == "deadlock":
        message, root = _headline(sys, final, actors, members), frozenset(
            (copy_base(sys.actor(b)), sys.where(final, b)[0]) for b in (members or actors))
    return Finding(item.kind, message, trace, final_state(sys, final), chains, blocked, then,
                   held=held, at=at, root=root)


def copy_base(name: str) -> str:
    """`t[2]` -> `t`: copies of one actor are interchangeable for a reader."""
    return name.split("[")[0]


def _headline(sys: System, s: tuple, actors, members: list) -> str:
    """The members of the wait-for cycle first; other blocked actors folded."""
    cycle = [a for a in actors if a in members] or list(actors)
    rest = len(actors) - len(cycle)
    words = []
    for a in cycle:
        line, text = sys.where(s, a)
        frames = s[sys.L.STK + a]
        hook = f", in the {sys.code[frames[-1]].calls} hook" if frames and "(leaving" not in text \
            and sys.code[frames[-1]].calls else ""
        words.append(f"{sys.actor(a)} at line {line} ({text}{hook})")
    if rest:
        words.append(f"and {rest} more blocked, not in the cycle")
    moving = any(True for _ in sys.successors(s))
    return f"blocked forever: {', '.join(words)} ({'others go on' if moving else 'no actor can move'})"


def fold(findings: list) -> tuple[list, list]:
    """One finding per root cause: (shown, variants).  Deadlocks are one when
    their wait-for cycles (or blocked actors) are equal up to renaming of
    interchangeable copies; lock-order cycles are one when they use the same
    dependency edges, or one statement reached holding one class."""
    shown, variants, seen = [], [], set()
    for f in findings:
        keys = set()
        if f.kind == "deadlock" and f.root:
            keys = {("deadlock", f.root)}
        elif f.kind == "lock-order" and f.cycle:
            keys = {("edges", frozenset((e.frm, e.to) for e in f.cycle))}
            keys |= {("site", e.frm, copy_base(e.actor), e.line) for e in f.cycle if e.line}
        if keys & seen:
            variants.append(f)
            continue
        seen |= keys
        shown.append(f)
    return shown, variants


def tell(sys: System, done: list[tuple]) -> list[Step]:
    """Replayed steps -> numbered rows, each saying what it changed."""
    return [Step(n + 1, sys.actor(a), *sys.where(before, a), describe(sys, before, after, a, label))
            for n, (a, before, after, label, _f) in enumerate(done)]


def reach(sys: System, g: Graph, i: int, a: int, effect: str) -> list[Step]:
    """The shortest trace to state i, then actor a standing at its next
    statement (not executed: lockdep records a dependency on arrival)."""
    told = tell(sys, replay(sys, [(b, g.states[j]) for b, j in g.path(i)]))
    told.append(Step(len(told) + 1, sys.actor(a), *sys.where(g.states[i], a), effect))
    return told


def held_locks(sys: System, states: list, a: int) -> list[dict]:
    """What actor a holds in the last of `states` (a run from the initial
    state), in the order it took them, each with the statement that took it:
    lockdep's "N locks held by T:" list.  Pseudo-locks (dma_fence_map,
    fs_reclaim, mmu_notifier, work classes, a fence's lock in a callback)
    are listed as lockdep lists their maps."""
    m, L = sys.m, sys.L

    def now(s) -> dict:
        out, real = {}, set()
        for l, lock in enumerate(m.locks):
            if sys.holder(s, l, a):
                out[("lock", l)] = {"instance": lock.name, "class": lock.cls,
                                    "mode": "r" if s[L.LK + l] > 0 else "w", "kind": lock.kind}
                real.add(lock.cls)
        for cls, mode in sys.lock_context(s, a):
            if mode and cls not in real:                  # "tr": the section's read trylock
                out[("class", cls)] = {"instance": cls, "class": cls, "mode": mode[-1],
                                       "kind": "spinlock" if cls.startswith("&") and cls.endswith("->lock")
                                       else "map"}
        return out

    taken: dict = {}
    prev, prev_state = {}, None
    for s in states:
        cur = now(s)
        for key, what in cur.items():
            if key not in prev:            # taken by the step into s (entering a section: at s)
                at = s if prev_state is None or key == ("class", "dma_fence_map") else prev_state
                line, text = sys.where(at, a)
                if key == ("class", "dma_fence_map"):
                    text = f"signalling {{ (dma_fence_begin_signalling()), before {text}"
                taken[key] = dict(what, line=line, statement=text)
        taken = {k: v for k, v in taken.items() if k in cur}
        prev, prev_state = cur, s
    return list(taken.values())


# ----------------------------------------------------------------- words

def describe(sys: System, before: tuple, after: tuple, a: int, label: str) -> str:
    """Only what the step changed: `takes bo`, `bo += proxy`, `enters reclaim`."""
    L, m = sys.L, sys.m
    out = []
    for l, lock in enumerate(m.locks):
        x, y = before[L.LK + l], after[L.LK + l]
        if x == y:
            continue
        if y == -(a + 1):
            out.append(f"takes {lock.name}")
        elif y > 0 and y & ~max(x, 0):
            out.append(f"takes {lock.name} shared")
        elif x == -(a + 1) and y == 0:
            out.append(f"releases {lock.name}")
        elif x > 0:
            out.append(f"releases {lock.name} shared")
    published_in = set()
    for r, lid in enumerate(m.resvs):
        x, y = before[L.RV + r], after[L.RV + r]
        for f in sys.bits(y & ~x):
            out.append(f"{m.locks[lid].name} += {m.fences[f].name}")
            published_in.add(f)
    for f, fence in enumerate(m.fences):
        x, y = before[L.FN + f], after[L.FN + f]
        if y & PUBLISHED and not x & PUBLISHED and f not in published_in:
            out.append(f"publishes {fence.name}")
        if y & 3 and not x & 3:
            out.append(f"signals {fence.name}" + (" with an error" if y & 3 == ERRORED else ""))
    for e, eng in enumerate(m.engines):
        x, y = before[L.EN + e], after[L.EN + e]
        if len(y) > len(x):
            out.append(f"takes a slot of {eng.name} ({len(y)}/{eng.slots} used)")
        elif len(y) < len(x):
            out.append(f"gives back a slot of {eng.name} ({len(y)}/{eng.slots} used)")
    for v, var in enumerate(m.vars):
        if before[L.VR + v] != after[L.VR + v]:
            out.append(f"{var.name} = {after[L.VR + v]}")
    for q, wq in enumerate(m.workqueues):
        x, y = before[L.WQ + q], after[L.WQ + q]
        for w in y:
            if w not in x:
                out.append(f"queues {sys.actor(w)} on {wq.name}")
        for w in x:
            if w not in y and not (w == a and label == "starts running"):
                out.append(f"{sys.actor(w)} no longer pending")
    if before[L.IRQ] != after[L.IRQ]:
        out.append("interruptible waits now fail" if after[L.IRQ] else "interruptible waits work again")
    if label:
        out.append(label)
    if after[L.PC + a] == DONE:
        out.append("goes idle" if m.actors[a].kind == "work" else "finishes")
    return "; ".join(out) or "-"


def holders(sys: System, s: tuple, l: int) -> list[str]:
    return [sys.actor(a) for a in range(sys.L.A) if sys.holder(s, l, a)]


def actors_doing(sys: System, does) -> list[int]:
    """Actors whose code (hooks they may run included) has a statement
    for which does(stmt) holds: who signals a fence, who sets a var."""
    hooks = sys.m.hooks

    def walk(stmts, seen):
        for st in stmts:
            if does(st):
                return True
            for ev in _events(sys.m, st):
                if ev not in seen and any(walk(b, seen | {ev}) for b in hooks.get(ev, [])):
                    return True
            if any(walk(b, seen) for b in st.bodies):
                return True
        return False

    return [a for a, actor in enumerate(sys.m.actors) if walk(actor.body, frozenset())]


def _events(m, st) -> list:
    """The hooks a statement may run: its event's, the callbacks of the fences
    a signal completes, the enable_signaling of the fences a wait waits for."""
    ev = hook_event(st)
    out = [ev] if ev else []
    if st.op == "signal":
        f = st.objs[0]
        out += [m.fence_event("signal", g) for g in [f] + m.containers_of(f)]
    elif st.op == "wait_fence":
        f = st.objs[0]
        out += [m.fence_event("enable_signaling", g) for g in [f] + m.parts_of(f)]
    elif st.op in ("wait_resv", "wait_any"):
        out += [m.fence_event("enable_signaling", g) for g in range(len(m.fences))]
    return out


def signallers(sys: System, f: int) -> list[int]:
    """Actors that may signal fence f: for a container, those that signal its parts."""
    fences = {f} | set(sys.m.parts_of(f))
    return actors_doing(sys, lambda st: st.op == "signal" and st.objs[0] in fences)


def _vars_in(e) -> set:
    if e[0] == "var":
        return {e[1]}
    out = set()
    for x in e[1:]:
        for y in (x if isinstance(x, list) else [x]):
            if isinstance(y, tuple):
                out |= _vars_in(y)
    return out


def _who(sys: System, actors: list[int], verb: str, obj: str) -> str:
    if not actors:
        return f"nobody {verb}s {obj}"
    names = " or ".join(sys.actor(b) for b in actors)
    return f"only {names} {verb}s {obj}" if len(actors) == 1 else f"{names} {verb} {obj}"


def _why(sys: System, s: tuple, a: int, why: tuple) -> tuple[str, str, list[str], list[int]]:
    """One reason from `blocked_on`, in words: (what a waits for, the reason as
    a `-` row says it, the rest of the wait-for chain, who could end the wait)."""
    m, kind = sys.m, why[0]
    if kind == "lock":
        lock = m.locks[why[1]]
        who = [b for b in range(sys.L.A) if sys.holder(s, why[1], b)]
        held = "held by " + (", ".join(sys.actor(b) for b in who) or "nobody")
        row = f"{lock.name} already held by {sys.actor(a)} itself" if a in who else f"{lock.name} {held}"
        return lock.name, row, [held], who
    if kind == "writer":
        lock, w = m.locks[why[1]], why[2]
        readers = ", ".join(holders(sys, s, why[1]))
        return (f"{lock.name} shared", f"{lock.name} read-held by {readers}, and {sys.actor(w)} "
                "waits to write first", [f"{sys.actor(w)} waits to write first"], [w])
    if kind == "fence":
        f = why[1]
        ins = sys.code[s[sys.L.PC + a]]
        fence = m.fences[f].name
        resv = getattr(ins, "resv", None)
        what = m.locks[m.resvs[resv]].name if resv is not None else fence
        who = signallers(sys, f)
        tail = ([f"{fence} unsignalled"] if what != fence else [])
        if m.fences[f].kind:                  # a container: who signals its missing parts
            parts = [p for p in m.parts_of(f) if not m.fences[p].kind and not s[sys.L.FN + p] & 3]
            names = ", ".join(m.fences[p].name for p in parts)
            who = actors_doing(sys, lambda st: st.op == "signal" and st.objs[0] in parts)
            tail += [f"{fence} = {m.fences[f].kind}(...) waits for {names}",
                     _who(sys, who, "signal", names)]
        else:
            tail.append(_who(sys, who, "signal", fence))
        return what, f"{fence} unsignalled", tail, who
    if kind == "engine":
        e = why[1]
        who = list(s[sys.L.EN + e])
        held = "held by " + (", ".join(sys.actor(b) for b in who) or "nobody")
        return (f"a slot of {m.engines[e].name}", f"no free slot of {m.engines[e].name} ({held})",
                [held], who)
    if kind == "work":
        w = why[1]
        name = sys.actor(w)
        state = "running" if sys.running(s, w) else "pending"
        if sys.running(s, w):
            return f"{name} to finish", f"{name} running", [f"{name} running"], [w]
        queue = s[sys.L.WQ + m.actors[w].wq]
        ahead = [b for b in sys.work_items[m.actors[w].wq] if sys.running(s, b)] or \
            ([queue[0]] if queue and queue[0] != w and m.workqueues[m.actors[w].wq].ordered else [])
        tail = [f"{name} {state}"]
        return f"{name} to run", f"{name} {state}", tail, [w] if not ahead else ahead
    if kind == "irq":                          # an irq handler runs in a: it returns first
        h = sys.actor(why[1])
        return f"{h} to return", f"interrupted by {h}", [f"{h} runs in {sys.actor(a)}"], [why[1]]
    cond = why[1].removeprefix("await ")
    tail, who = [], []
    expr = sys.code[s[sys.L.PC + a]].stmt.expr
    for v in sorted(_vars_in(expr) if expr is not None else ())[:1]:
        who = [b for b in actors_doing(sys, lambda st, v=v: st.op == "assign" and st.objs[0] == v)
               if b != a]
        tail = [_who(sys, who, "set", m.vars[v].name)]
    return f"until {cond}", f"waits until {cond}", tail, who


def blocked_reason(sys: System, s: tuple, a: int) -> str:
    return "; ".join(_why(sys, s, a, why)[1] for why in sys.blocked_on(s, a)) or "cannot move"


def waits_for(sys: System, s: tuple, a: int) -> str:
    """`app waits bo → proxy unsignalled → only app signals proxy`, followed
    through the holders and signallers until it closes on itself."""
    chain, seen = [], set()
    while a not in seen:
        seen.add(a)
        pc = s[sys.L.PC + a]
        reasons = sys.blocked_on(s, a) if pc != DONE else []
        if not reasons:
            chain.append(f"{sys.actor(a)} " + ("has finished" if pc == DONE else "can still move"))
            return " → ".join(chain)
        what, _row, tail, who = _why(sys, s, a, reasons[0])
        chain += [f"{sys.actor(a)} waits {what}"] + tail
        who = _live(sys, s, who)
        if reasons[0][0] == "fence" and who and not sys.blocked_on(s, who[0]) and \
                s[sys.L.PC + who[0]] != DONE and not _can_signal(sys, s, reasons[0][1]):
            names = " or ".join(sys.actor(b) for b in who)
            return " → ".join(chain + [f"but no path from here signals it ({names} can never "
                                       "reach that signal)"])
        if not who:
            return " → ".join(chain + (["and none of them can still run"] if tail and
                                       not tail[-1].startswith("nobody") else []))
        a = who[0]
    chain.append(f"back to {sys.actor(a)}: a cycle")
    return " → ".join(chain)


def _can_signal(sys: System, s: tuple, f: int, budget: int = 20000) -> bool:
    """Does some path from s, without timeouts firing, signal fence f?  A
    chain must not send the reader to an actor whose remaining code never
    signals it.  Past the budget, assume it can (say nothing false)."""
    FN = sys.L.FN + f
    seen, todo = {s}, [s]
    while todo:
        v = todo.pop()
        if v[FN] & 3:
            return True
        for _b, (w, _label, _found, timeout) in sys.successors(v):
            if not timeout and w not in seen:
                if len(seen) >= budget:
                    return True
                seen.add(w)
                todo.append(w)
    return False


def cycle_of(sys: System, s: tuple, a: int) -> list[int]:
    """The actors on the loop of a's wait-for chain ([] when it ends)."""
    order = []
    while a not in order:
        order.append(a)
        pc = s[sys.L.PC + a]
        reasons = sys.code[pc].blocked_on(s, a) if pc != DONE else []
        if not reasons:
            return []
        who = _live(sys, s, _why(sys, s, a, reasons[0])[3])
        if not who:
            return []
        a = who[0]
    return order[order.index(a):]


def _live(sys: System, s: tuple, who: list[int]) -> list[int]:
    """Who could still end a wait: not those that have finished (a finished
    actor signals nothing more), blocked ones first."""
    live = [b for b in who if s[sys.L.PC + b] != DONE]
    return sorted(live, key=lambda b: any(c == b for c, _ in sys.successors(s)))


def final_state(sys: System, s: tuple) -> dict:
    L, m = sys.L, sys.m
    actors = {}
    for a in range(L.A):
        pc = s[L.PC + a]
        if pc == DONE:
            actors[sys.actor(a)] = "idle" if m.actors[a].kind == "work" else "finished"
        else:
            line, text = sys.where(s, a)
            moving = any(b == a for b, _ in sys.successors(s))
            h = sys.interrupter(s, a) if sys.L.irqs else None
            state = f"interrupted by {sys.actor(h)} at" if h is not None else \
                "at" if moving else "blocked at"
            actors[sys.actor(a)] = f"{state} line {line}: {text}"
    locks = {}
    for l, lock in enumerate(m.locks):
        v = s[L.LK + l]
        if v < 0:
            locks[lock.name] = f"held by {sys.actor(-v - 1)}"
        elif v > 0:
            locks[lock.name] = "read-held by " + ", ".join(holders(sys, s, l))
    fences = {}
    for f, fence in enumerate(m.fences):
        v = s[L.FN + f]
        where = [m.locks[lid].name for r, lid in enumerate(m.resvs) if s[L.RV + r] >> f & 1]
        state = {0: "unsignalled", 1: "signalled", 2: "signalled with error"}[v & 3]
        if where:
            state += " (in " + ", ".join(where) + ")"
        elif v & PUBLISHED:
            state += " (published)"
        fences[fence.name] = state
    engines = {e.name: f"{len(s[L.EN + i])}/{e.slots} slots used" +
               (" by " + ", ".join(sys.actor(b) for b in s[L.EN + i]) if s[L.EN + i] else "")
               for i, e in enumerate(m.engines)}
    out = {"actors": actors, "locks": locks, "fences": fences, "engines": engines,
           "vars": {v.name: s[L.VR + i] for i, v in enumerate(m.vars)}}
    if m.workqueues:
        out["workqueues"] = {wq.name: "pending: " + (", ".join(sys.actor(w) for w in s[L.WQ + q])
                                                     or "none") for q, wq in enumerate(m.workqueues)}
    if s[L.IRQ]:
        out["interrupt_waits"] = "in force"
    return out
