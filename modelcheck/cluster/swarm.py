"""Swarm verification: K small diversified searches instead of one exhaustive one.

Each run is a depth-first search over the reference semantics
(`System.successors`) that stores no state: a bit array (bitstate hashing,
three hashes of the packed record of `search/store.py`) says "seen, probably".
A collision makes a run skip a state it never saw, so a run proves nothing;
what it finds is real, because every counterexample is replayed through the
semantics before it is shown.  Runs differ by the order they try steps in
(actors in order, reversed, or shuffled at every state from a seed) and by
their depth bound, so together they cover corners one search would reach
last (Holzmann, Joshi & Groce, "Swarm verification techniques", TSE 2011).

Findings are the kinds a state or a step shows by itself: a global deadlock
(no actor can move, some have not finished), asserts and the other step
findings, invariants, and lock-order cycles among the dependencies the runs
observed.  The kinds about every path from a state (an actor that never
moves while others go on, indefinite-fence, timeout-hang) need the whole
graph, and are not looked for.

`run` is the search of one run (a plain function, a Ray task in `swarm`);
`shorten` makes a found trace short again: loops cut, then a breadth-first
search from the initial state for the same finding (the same blocked actors
at the same statements, the same step finding or invariant), bounded by a
budget of states; when the budget runs out, the report says so.
"""
from __future__ import annotations

import hashlib
import random
import time
from dataclasses import dataclass, field
from typing import Callable, Optional

from ..semantics import System
from ..search.store import Codec

PROGRESS_EVERY = 1.0            # seconds between a run's progress notes
SHORTEN_STATES = 200_000        # states the breadth-first shortening may store per finding
DEFAULT_BITS = 24               # 2**24 bits (2 MB) of bitstate per run
DEFAULT_RUN_STATES = 200_000    # states one run visits at most, unless told
MAX_PER_KIND = 10               # findings of one kind a run keeps (as analysis.MAX_PER_KIND)


@dataclass
class Run:
    """What one run reports back (pickled from a Ray worker)."""
    index: int
    order: str                      # the step order it tried
    bound: Optional[int]            # its depth bound (None: none)
    states: int = 0                 # states it visited (new in its bit array)
    steps: int = 0                  # transitions it tried
    deepest: int = 0
    findings: dict = field(default_factory=dict)   # (kind, key) -> (message, [(actor, outcome)])
    deps: dict = field(default_factory=dict)       # lock step key -> (actor, path to the state)
    stopped: str = ""               # why it ended
    seconds: float = 0.0


def plan(runs: int, seed: int, depth: Optional[int]) -> list[tuple[int, str, Optional[int], int]]:
    """(index, order, depth bound, seed) of each run: run 0 in actor order,
    run 1 reversed, the others shuffled; unless --depth fixes it, every
    other run is depth-bounded (25, 50, 100, 200, 400 steps)."""
    out = []
    for i in range(runs):
        order = "in order" if i == 0 else "reversed" if i == 1 else "shuffled"
        bound = depth if depth is not None else (None if i % 2 == 0 else 25 << ((i // 2) % 5))
        out.append((i, order, bound, seed * 1_000_003 + i))
    return out


class Bitstate:
    """A bit array with three hash functions: `add` says whether the record
    was (probably) there already."""

    def __init__(self, bits: int):
        self.bits = bits
        self.mask = (1 << bits) - 1
        self.array = bytearray(1 << max(bits - 3, 0))

    def add(self, rec) -> bool:
        h = int.from_bytes(hashlib.blake2b(rec if isinstance(rec, bytes) else repr(rec).encode(),
                                           digest_size=16).digest(), "little")
        seen = True
        arr, mask, bits = self.array, self.mask, self.bits
        for _ in range(3):
            k = h & mask
            h >>= bits if bits <= 40 else 40
            byte, bit = k >> 3, 1 << (k & 7)
            if not arr[byte] & bit:
                arr[byte] |= bit
                seen = False
        return seen


def deadlock_key(sys: System, s: tuple) -> tuple:
    """Where the unfinished actors stand, as `analysis.stuck` names them."""
    return tuple(sorted((sys.actor(a), sys.where(s, a)[0])
                        for a in range(sys.L.A) if not sys.at_rest(s, a)))


def steps_of(sys: System, s: tuple) -> list[tuple[int, int, tuple, tuple]]:
    """[(actor, outcome index, next state, findings)], actors in order."""
    out, last, k = [], None, 0
    for a, (nxt, _label, found, _timeout) in sys.successors(s):
        k = k + 1 if a == last else 0
        last = a
        out.append((a, k, nxt, found))
    return out


def outcomes(sys: System, s: tuple, a: int) -> list:
    """The outcomes of actor a's step from s (as `System.successors` gives them)."""
    pc = s[sys.L.PC + a]
    if pc < 0 or a in sys.interrupted(s):
        return []
    return sys.code[pc].step(s, a)


def stuck(sys: System, s: tuple, steps: list) -> bool:
    """No actor can move and some have not finished: a global deadlock."""
    return not steps and not all(sys.at_rest(s, a) for a in range(sys.L.A))


def run(sys: System, index: int, order: str, bound: Optional[int], seed: int,
        bits: int = DEFAULT_BITS, max_states: int = DEFAULT_RUN_STATES,
        seconds: Optional[float] = None, poll: Optional[Callable[[Run], bool]] = None) -> Run:
    """One depth-first run.  `poll(run)` is called about every second and
    returns True when the run must stop (Ctrl-C, another run's finding)."""
    started = time.monotonic()
    deadline = None if seconds is None else started + seconds
    r = Run(index, order if order != "shuffled" else f"shuffled (seed {seed})", bound)
    rng = random.Random(seed)
    codec, seen = Codec(sys), Bitstate(bits)
    memo: dict = {}
    PC, acquiring = sys.L.PC, sys.acquiring
    per_kind: dict = {}

    def note(kind, key, msg, p):
        """The first path of each finding, at most MAX_PER_KIND of a kind."""
        if (kind, key) not in r.findings and per_kind.get(kind, 0) < MAX_PER_KIND:
            per_kind[kind] = per_kind.get(kind, 0) + 1
            r.findings[(kind, key)] = (msg, list(p))

    def arrange(steps: list) -> list:
        if order == "reversed":
            steps.sort(key=lambda st: -st[0])       # stable: outcomes of one actor keep their order
        elif order == "shuffled":
            rng.shuffle(steps)
        return steps

    def visit(s: tuple, path: list) -> list:
        """A state seen for the first time: its own findings, the lock steps
        it stands at; its steps in this run's order."""
        r.states += 1
        for kind, key, msg in sys.invariant_failures(s):
            note(kind, key, msg, path)
        for a in range(sys.L.A):
            pc = s[PC + a]
            if pc >= 0 and acquiring[pc]:
                L = sys.L
                memo_key = (a, s[L.STK + a], s[L.HO + a], s[L.LK:L.FN], s[L.XL], a in s[L.WW], pc,
                            s[L.IRQ_OFF + a] if L.irqs else 0)
                key = memo.get(memo_key)
                if key is None:
                    key = memo[memo_key] = (sys.lock_context(s, a), pc)
                if key not in r.deps or len(r.deps[key][1]) > len(path):
                    r.deps[key] = (a, list(path))
        steps = steps_of(sys, s)
        if stuck(sys, s, steps):
            note("deadlock", deadlock_key(sys, s), "no actor can move", path)
        return arrange(steps)

    init = sys.initial()
    seen.add(codec.pack(init))
    path: list = []
    stack = [[visit(init, path), 0]]
    check_at = started + PROGRESS_EVERY
    try:
        while stack:
            frame = stack[-1]
            steps, pos = frame
            if pos == len(steps):
                stack.pop()
                if path:
                    path.pop()
                continue
            frame[1] = pos + 1
            a, k, nxt, found = steps[pos]
            r.steps += 1
            for kind, key, msg in found:
                note(kind, key, msg, path + [(a, k)])
            if r.steps & 1023 == 0:
                now = time.monotonic()
                if r.states >= max_states:
                    r.stopped = f"visited its {max_states} states"
                    break
                if deadline is not None and now >= deadline:
                    r.stopped = "time limit reached"
                    break
                if now >= check_at:
                    check_at = now + PROGRESS_EVERY
                    r.seconds = now - started
                    if poll and poll(r):
                        r.stopped = "stopped"
                        break
            if bound is not None and len(path) >= bound:
                continue
            if seen.add(codec.pack(nxt)):
                continue
            path.append((a, k))
            r.deepest = max(r.deepest, len(path))
            stack.append([visit(nxt, path), 0])
        else:
            r.stopped = "searched everything within its bound" if bound is not None else \
                "searched everything it could reach"
    except KeyboardInterrupt:
        r.stopped = "interrupted (Ctrl-C)"
    except MemoryError:
        r.stopped = "out of memory"
    r.seconds = time.monotonic() - started
    return r


# -- replay and shortening --------------------------------------------------

class Lost(Exception):
    """A reported path does not replay: a bug in the swarm run, never shown as a finding."""


def replay(sys: System, path: list) -> list[tuple]:
    """The states along [(actor, outcome index)] from the initial one."""
    s, out = sys.initial(), [sys.initial()]
    for a, k in path:
        mine = outcomes(sys, s, a)
        if k >= len(mine):
            raise Lost(f"step {len(out)} by {sys.actor(a)} cannot be replayed")
        s = mine[k][0]
        out.append(s)
    return out


def goal(sys: System, kind: str, key: tuple):
    """(on_state, on_step) predicates of the same finding."""
    if kind == "deadlock":
        return (lambda s, steps: stuck(sys, s, steps) and deadlock_key(sys, s) == key), None
    if kind == "invariant":
        return (lambda s, steps: any(k == key for _kind, k, _m in sys.invariant_failures(s))), None
    return None, (lambda found: any(f[0] == kind and f[1] == key for f in found))


def holds(sys: System, kind: str, key: tuple, path: list) -> bool:
    """The finding shows at the end of the replayed path."""
    states = replay(sys, path)
    on_state, on_step = goal(sys, kind, key)
    if on_state:
        return on_state(states[-1], steps_of(sys, states[-1]))
    if not path:
        return False
    a, k = path[-1]
    return on_step(outcomes(sys, states[-2], a)[k][2])


def cut_loops(sys: System, path: list, keep_last: bool) -> list:
    """The path without its detours: from a state met again later, go on
    from its last visit.  `keep_last`: the last step (a step finding's) stays."""
    head, last = (path[:-1], path[-1:]) if keep_last and path else (path, [])
    codec = Codec(sys)
    recs = [codec.pack(s) for s in replay(sys, head)]
    last_seen = {rec: n for n, rec in enumerate(recs)}
    out, n = [], 0
    while n < len(head):
        m = last_seen[recs[n]]
        if m > n:                 # the same state again later: skip the loop
            n = m
            continue
        out.append(head[n])
        n += 1
    return out + last


def own(sys: System, s: tuple, a: int) -> tuple:
    """Actor a's own part of a state: where it is, its call stack, what it holds."""
    L = sys.L
    return s[L.PC + a], s[L.STK + a], s[L.HO + a]


def drop_detours(sys: System, kind: str, key: tuple, path: list, deadline: float) -> list:
    """Cut the rounds an actor makes that bring it back to where it was (a
    shrinker's `while true` that found nothing to do, a retry loop): its
    steps from one point to a later one where its own state (pc, stack,
    held locks) is the same again are dropped, the longest stretch first,
    as long as the rest still replays to the same finding.  A depth-first
    run's trace of a deep bug is mostly such rounds, which neither cutting
    global loops (the other actors moved meanwhile) nor a breadth-first
    search (too deep) removes."""
    changed = True
    while changed and time.monotonic() < deadline:
        changed = False
        head, last = (path[:-1], path[-1:]) if kind not in ("deadlock", "invariant") and path else (path, [])
        states = replay(sys, head)
        for a in sorted({b for b, _k in head}):
            mine = [n for n, (b, _k) in enumerate(head) if b == a]
            before = [own(sys, states[n], a) for n in mine]
            after = [own(sys, states[n + 1], a) for n in mine]
            for x in range(len(mine)):
                if time.monotonic() >= deadline:
                    return path
                ys = [y for y in range(len(mine) - 1, x - 1, -1) if after[y] == before[x]]
                for y in ys[:1] + ys[-1:] if len(ys) > 1 else ys:
                    drop = set(mine[x:y + 1])
                    trial = [st for n, st in enumerate(head) if n not in drop] + last
                    try:
                        ok = holds(sys, kind, key, trial)
                    except Lost:
                        ok = False
                    if ok:
                        path, changed = trial, True
                        break
                if changed:
                    break
            if changed:
                break
    return path


def drop_steps(sys: System, kind: str, key: tuple, path: list, deadline: float) -> list:
    """Delta debugging on the path: drop chunks of steps (halves, quarters...,
    single steps) as long as the rest still replays to the same finding."""
    chunk = max(len(path) // 2, 1)
    while chunk >= 1 and time.monotonic() < deadline:
        n = 0
        while n < len(path) and time.monotonic() < deadline:
            trial = path[:n] + path[n + chunk:]
            try:
                ok = holds(sys, kind, key, trial)
            except Lost:
                ok = False
            if ok:
                path = trial
            else:
                n += chunk
        if chunk == 1:
            break
        chunk //= 2
    return path


def shortest(sys: System, kind: str, key: tuple, longest: int, budget: Optional[int] = None,
             deadline: Optional[float] = None) -> tuple[Optional[list], int]:
    """Breadth-first from the initial state to the first state (or step)
    showing the finding, no deeper than `longest` steps: (path or None when
    there is none that short, or the budget or the time ran out first;
    states stored)."""
    paths, stored, _whole = shortest_many(sys, {(kind, key): longest}, budget, deadline)
    return paths.get((kind, key)), stored


def shortest_many(sys: System, wanted: dict, budget: Optional[int] = None,
                  deadline: Optional[float] = None) -> tuple[dict, int, float]:
    """One breadth-first search for several findings {(kind, key): longest}:
    ({(kind, key): shortest path}, states stored, the depth below which
    every state and step was looked at: a finding not reached whose
    `longest` is less has no path that short)."""
    budget = SHORTEN_STATES if budget is None else budget
    codec = Codec(sys)
    init = sys.initial()
    rec0 = codec.pack(init)
    parent = {rec0: None}
    level = [(init, rec0)]
    depth, out = 0, {}
    left = dict(wanted)
    on_state = {fk for fk in left if fk[0] in ("deadlock", "invariant")}
    deepest = max(left.values(), default=-1)

    def path_to(rec, last=()):
        p = list(last)
        while parent[rec] is not None:
            rec, a, k = parent[rec]
            p.append((a, k))
        return p[::-1]

    while level and left and depth <= deepest:
        nxt_level = []
        for s, rec in level:
            steps = steps_of(sys, s)
            if on_state & left.keys():
                here = []
                if stuck(sys, s, steps):
                    here.append(("deadlock", deadlock_key(sys, s)))
                here += [(k, key) for k, key, _m in sys.invariant_failures(s)]
                for fk in here:
                    if fk in left and left[fk] >= depth:
                        out[fk] = path_to(rec)
                        del left[fk]
            for a, k, nxt, found in steps:
                for kind, key, _m in found:
                    if (kind, key) in left and left[(kind, key)] >= depth + 1:
                        out[(kind, key)] = path_to(rec, [(a, k)])
                        del left[(kind, key)]
                if depth + 1 > deepest:
                    continue
                r2 = codec.pack(nxt)
                if r2 in parent:
                    continue
                if len(parent) >= budget or (deadline is not None and time.monotonic() >= deadline):
                    return out, len(parent), depth
                parent[r2] = (rec, a, k)
                nxt_level.append((nxt, r2))
            if not left:
                break
        level, depth = nxt_level, depth + 1
        deepest = max(left.values(), default=-1)
    return out, len(parent), float("inf")
