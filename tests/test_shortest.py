"""Shortest traces, checked against an independent brute force.

The brute force below uses only `modelcheck.api.load` (text -> model) and
the transition system's `initial()` / `successors(state)`: it does a plain
breadth-first search of its own and works out, from the contract's
definitions,

- for a kind produced on a step (assert, unlock-not-held, signal-before-deps,
  lock-held-at-exit, sleep-in-atomic): the fewest steps of a path whose last
  step produces it;
- for deadlock: the fewest steps to a state where an unfinished actor cannot
  move and cannot move in any state reachable from there (the contract's
  definition; when every deadlock is global this is the distance to a state
  where no actor can move but some actor is unfinished);

and compares them with `len(finding.trace)` of `check_source`.

The specs are straight-line (lock / unlock / signal / wait / assert, plus
publish), so an actor has finished exactly when it has taken as many steps
as it has statements, and which fences are signalled or published follows
from which statements have run: the brute force needs nothing else from the
checker's state.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from hypothesis import example, given, note, settings
from hypothesis import strategies as st

import modelcheck
from modelcheck.api import load
from modelcheck.search.explorer import Limits
from modelcheck.semantics import System

STEP_KINDS = ("assert", "unlock-not-held", "signal-before-deps", "lock-held-at-exit",
              "sleep-in-atomic")


@dataclass
class Brute:
    states: int = 0
    transitions: int = 0
    step_kinds: dict = field(default_factory=dict)     # kind -> fewest steps
    deadlock: int | None = None                        # contract definition
    global_deadlock: int | None = None                 # nobody can move, someone unfinished
    all_deadlocks_global: bool = True
    indefinite: bool = False


def brute_force(text: str, bodies: list[list[str]]) -> Brute:
    """BFS over the transition system; `bodies` are the actors' statement texts."""
    sys = System(load(text))
    init = sys.initial()
    sizes = [len(b) for b in bodies]
    dist = {init: 0}
    done = {init: (0,) * len(bodies)}          # steps taken by each actor
    order = [init]
    succ: dict = {}
    out = Brute()
    i = 0
    while i < len(order):
        s = order[i]
        i += 1
        succ[s] = []
        for a, (nxt, _label, found, _timeout) in sys.successors(s):
            out.transitions += 1
            for kind, _key, _msg in found:
                out.step_kinds.setdefault(kind, dist[s] + 1)   # BFS: the first is the fewest
            if nxt not in dist:
                dist[nxt] = dist[s] + 1
                steps = list(done[s])
                steps[a] += 1
                done[nxt] = tuple(steps)
                order.append(nxt)
            succ[s].append((a, nxt))
    out.states = len(order)

    enabled = {s: frozenset(a for a, _ in succ[s]) for s in order}
    reach = dict(enabled)                       # actors enabled somewhere reachable
    changed = True
    while changed:
        changed = False
        for s in reversed(order):
            acc = reach[s]
            for _a, t in succ[s]:
                acc = acc | reach[t]
            if acc != reach[s]:
                reach[s] = acc
                changed = True

    def unfinished(s):
        return {a for a in range(len(bodies)) if done[s][a] < sizes[a]}

    for s in order:
        stuck = unfinished(s) - reach[s]
        if stuck:
            d = dist[s]
            out.deadlock = d if out.deadlock is None else min(out.deadlock, d)
            if enabled[s]:
                out.all_deadlocks_global = False
        if not succ[s] and unfinished(s):
            d = dist[s]
            out.global_deadlock = d if out.global_deadlock is None else min(out.global_deadlock, d)
        if not succ[s] and not unfinished(s):
            ran = [st for a, b in enumerate(bodies) for st in b[:done[s][a]]]
            for f in {w.split()[1] for w in ran if w.startswith("publish ")}:
                if not any(w.split()[:2] == ["signal", f] for w in ran):
                    out.indefinite = True
    return out


def compare(text: str, bodies: list[list[str]]) -> None:
    r = modelcheck.check_source(text, limits=Limits(reduction=False))   # the whole graph
    b = brute_force(text, bodies)
    assert r.complete
    assert (r.stats.states, r.stats.transitions) == (b.states, b.transitions)
    for kind in STEP_KINDS:
        if kind in b.step_kinds:
            assert kind in r.kinds, f"{kind} is reachable in {b.step_kinds[kind]} steps"
            assert min(len(f.trace) for f in r.findings if f.kind == kind) == b.step_kinds[kind], kind
        else:
            assert kind not in r.kinds
    if b.deadlock is None:
        assert "deadlock" not in r.kinds
    else:
        assert "deadlock" in r.kinds
        shortest = min(len(f.trace) for f in r.findings if f.kind == "deadlock")
        assert shortest == b.deadlock
        if b.all_deadlocks_global:
            assert shortest == b.global_deadlock
    assert ("indefinite-fence" in r.kinds) == b.indefinite


def spec_text(locks, fences, bodies):
    lines = []
    for name, kind in locks:
        lines.append(f"lock {name}" + (" : spinlock" if kind == "spinlock" else ""))
    for name, after in fences:
        lines.append(f"fence {name}" + (f" after {after}" if after else ""))
    for n, body in enumerate(bodies):
        lines.append(f"thread t{n} {{ " + "; ".join(body) + " }")
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- examples

EXAMPLES = [
    # ABBA: every deadlock is global, two steps
    ([("A", "mutex"), ("B", "mutex")], [("F", None)],
     [["lock A", "lock B", "unlock B", "unlock A"], ["lock B", "lock A", "unlock A", "unlock B"]]),
    # a deadlock in the initial state
    ([("A", "mutex")], [("F", None)], [["wait F"], ["lock A", "unlock A"]]),
    # assert reachable only after the other thread moved
    ([("A", "mutex")], [("F", None)], [["signal F"], ["assert signalled(F)", "assert not signalled(F)"]]),
    # signal-before-deps on one interleaving only
    ([("A", "mutex")], [("F", None), ("G", "F")], [["signal F"], ["signal G"]]),
    # unlock-not-held after the owner's unlock
    ([("A", "mutex")], [("F", None)], [["lock A", "signal F", "unlock A"], ["wait F", "unlock A"]]),
    # lock held at exit, blocking a third thread
    ([("A", "mutex")], [("F", None)], [["lock A"], ["wait F", "lock A"], ["signal F"]]),
    # spinlock held over a wait
    ([("S", "spinlock")], [("F", None)], [["lock S", "wait F", "unlock S"], ["signal F"]]),
    # published and never signalled
    ([("A", "mutex")], [("F", None)], [["publish F"], ["lock A", "unlock A"]]),
]


@pytest.mark.parametrize("locks, fences, bodies", EXAMPLES)
def test_brute_force_examples(locks, fences, bodies):
    compare(spec_text(locks, fences, bodies), bodies)


def test_abba_every_deadlock_is_global():
    locks, fences, bodies = EXAMPLES[0]
    b = brute_force(spec_text(locks, fences, bodies), bodies)
    assert b.all_deadlocks_global and b.deadlock == b.global_deadlock == 2


# ---------------------------------------------------------------- generated

@st.composite
def tiny_specs(draw):
    nl = draw(st.integers(1, 2))
    nf = draw(st.integers(1, 2))
    locks = [(f"L{i}", draw(st.sampled_from(["mutex", "mutex", "spinlock"]))) for i in range(nl)]
    fences = [("F0", None)]
    if nf == 2:
        fences.append(("F1", draw(st.sampled_from([None, "F0"]))))
    L = st.sampled_from([n for n, _ in locks])
    F = st.sampled_from([n for n, _ in fences])
    stmt = st.one_of(
        L.map(lambda l: f"lock {l}"),
        L.map(lambda l: f"unlock {l}"),
        F.map(lambda f: f"signal {f}"),
        F.map(lambda f: f"signal {f} error"),
        F.map(lambda f: f"wait {f}"),
        F.map(lambda f: f"publish {f}"),
        st.tuples(st.sampled_from(["", "not "]), st.sampled_from(["signalled", "errored"]), F)
          .map(lambda t: f"assert {t[0]}{t[1]}({t[2]})"),
        st.tuples(st.sampled_from(["", "not "]), L).map(lambda t: f"assert {t[0]}held({t[1]})"),
    )
    n_threads = draw(st.integers(2, 3))
    bodies = [draw(st.lists(stmt, min_size=1, max_size=4)) for _ in range(n_threads)]
    return locks, fences, bodies


@settings(max_examples=60, deadline=None)
@given(tiny_specs())
@example(EXAMPLES[0])
def test_shortest_traces_agree_with_brute_force(spec):
    locks, fences, bodies = spec
    text = spec_text(locks, fences, bodies)
    note(text)
    compare(text, bodies)
