"""`modelcheck swarm SPEC --runs K`: the runs of swarm.py as Ray tasks, their
findings replayed, shortened and reported with the tables of `check`.

Never a proof: the result is always incomplete, its header says how many
runs and about how many distinct states (the runs' counts summed: runs
overlap), and `safe` is never printed.
"""
from __future__ import annotations

import time
from typing import Callable, Optional

from .. import api
from ..language import model, syntax
from ..language.bounds import MAX_INPUT_BYTES
from ..search.explorer import Found
from ..semantics import System
from ..verdicts import analysis, irqstate, lockorder, trace
from . import connect, swarm
from .paths import Tree

# What a swarm looks for: what a state or a step shows by itself, and
# lock-order cycles among the dependencies the runs saw.
KINDS = api.EARLY_KINDS | {"lock-order"}
SHORTEN_SECONDS = 30.0          # per finding, at most


def _task(ray):
    """The Ray task of one run (defined once Ray is imported)."""
    @ray.remote(num_cpus=1, max_retries=0)
    def one_run(text, path, params, index, order, bound, seed, bits, max_states, seconds, tracker):
        sys = System(api.load(text, path, params))

        def poll(r):
            return ray.get(tracker.note.remote(r.index, r.states, len(r.findings)))
        r = swarm.run(sys, index, order, bound, seed, bits, max_states, seconds, poll)
        tracker.note.remote(r.index, r.states, len(r.findings))
        return r
    return one_run


def _tracker(ray):
    @ray.remote(num_cpus=0)
    class Tracker:
        """Progress summed over runs, and the flag that stops them all."""

        def __init__(self):
            self.runs, self.stop, self.first = {}, False, None

        def note(self, index, states, findings):
            self.runs[index] = (states, findings)
            if findings and self.first is None:
                self.first = time.time()
            return self.stop

        def halt(self):
            self.stop = True

        def totals(self):
            return (sum(s for s, _f in self.runs.values()),
                    sum(f for _s, f in self.runs.values()), self.first)
    return Tracker


def check_file(path: str, runs: int, address: Optional[str] = "local", depth: Optional[int] = None,
               seed: int = 0, bits: int = swarm.DEFAULT_BITS,
               max_states: int = swarm.DEFAULT_RUN_STATES, timeout: Optional[float] = None,
               first: bool = False, params: Optional[dict] = None,
               progress: Optional[Callable[[int, int, int, float], None]] = None,
               max_input_bytes: int = MAX_INPUT_BYTES) -> api.Result:
    """Read, check (SpecError on bad input, before any cluster is reached), run."""
    text = syntax.read(path, max_input_bytes)
    return check_source(text, path, runs, address, depth, seed, bits, max_states, timeout, first,
                        params, progress)


def check_source(text: str, path: str, runs: int, address: Optional[str] = "local",
                 depth: Optional[int] = None, seed: int = 0, bits: int = swarm.DEFAULT_BITS,
                 max_states: int = swarm.DEFAULT_RUN_STATES, timeout: Optional[float] = None,
                 first: bool = False, params: Optional[dict] = None,
                 progress: Optional[Callable[[int, int, int, float], None]] = None) -> api.Result:
    started = time.monotonic()
    m = api.load(text, path, params)
    sys = System(m)
    ray = connect(address)
    tracker = _tracker(ray).remote()
    one_run = _task(ray)
    plans = swarm.plan(runs, seed, depth)
    pending = [one_run.remote(text, path, params, i, order, bound, s, bits, max_states, timeout, tracker)
               for i, order, bound, s in plans]
    done, lost, why = [], [], ""
    first_found = None
    wall0 = time.time()
    try:
        while pending:
            ready, pending = ray.wait(pending, num_returns=1, timeout=0.5)
            for ref in ready:
                try:
                    done.append(ray.get(ref))
                except Exception as e:           # a worker lost, a task failed
                    lost.append(f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}")
            states, found, at = ray.get(tracker.totals.remote())
            if at is not None and first_found is None:
                first_found = max(at - wall0, 0.0)
            if progress:
                progress(len(done), runs, states, time.monotonic() - started)
            if first and found and not why:
                why = "stopped at the first finding (--first)"
                tracker.halt.remote()
            if timeout is not None and time.monotonic() - started >= timeout and not why:
                why = f"time limit reached ({timeout:g} s)"
                tracker.halt.remote()
    except KeyboardInterrupt:
        why = "interrupted (Ctrl-C)"
        try:
            tracker.halt.remote()
            for ref in pending:                  # the runs stop within a second: keep what they found
                try:
                    done.append(ray.get(ref, timeout=5))
                except Exception:
                    lost.append("interrupted")
        except KeyboardInterrupt:
            pass
    searched = time.monotonic() - started
    result = _report(sys, m, path, runs, done, lost, why, searched, timeout, started)
    result.swarm["first_finding_seconds"] = first_found
    return result


def _report(sys: System, m, path: str, runs: int, done: list, lost: list, why: str,
            searched: float, timeout: Optional[float], started: float) -> api.Result:
    # the shortest path of every finding and of every lock step over all runs
    best: dict = {}
    for r in done:
        for fk, (msg, p) in r.findings.items():
            if fk not in best or len(p) < len(best[fk][1]):
                best[fk] = (msg, p)
    deps: dict = {}
    for r in done:
        for key, (a, p) in r.deps.items():
            if key not in deps or len(p) < len(deps[key][1]):
                deps[key] = (a, p)
    # the shortest few of each kind are shown, as `check` shows at most MAX_PER_KIND
    per_kind: dict = {}
    for (kind, key), (msg, p) in sorted(best.items(), key=lambda kv: len(kv[1][1])):
        per_kind.setdefault(kind, []).append((kind, key))
    best = {fk: best[fk] for fks in per_kind.values() for fk in fks[:analysis.MAX_PER_KIND]}
    if why.startswith("interrupted"):       # Ctrl-C: show what was found, shortened briefly
        timeout, started = 0.0, time.monotonic()
    shortening = _shorten_all(sys, best, timeout, started)
    tree = Tree(sys)
    items = []
    for (kind, key), (msg, p) in best.items():
        ids = tree.add(p)
        if kind == "deadlock":
            items.append(analysis.stuck(sys, tree.g, ids[-1]))
        elif kind == "invariant":
            items.append(Found(kind, key, msg, ids[-2] if len(ids) > 1 else 0,
                               p[-1][0] if p else -1, ids[-1]))
        else:
            items.append(Found(kind, key, msg, ids[-2], p[-1][0], ids[-1]))
    for key, (a, p) in deps.items():
        tree.g.deps[key] = (tree.add(p)[-1], a)
    g = tree.g
    g.stopped = "swarm"                         # the lock-order model is never "proved"
    items.sort(key=lambda it: (len(g.path(it.state if hasattr(it, "state") else it.src)), it.kind))
    findings = [trace.build(sys, g, it) for it in items]
    for it, f in zip(items, findings):
        if it.kind == "deadlock":
            run = [g.states[0]] + [g.states[j] for _a, j in g.path(it.state)]
            f.lockdep = lockorder.deadlock_caught(sys, run, it.actors)
            if sys.L.irqs and f.lockdep.startswith("lockdep would not"):
                f.lockdep = irqstate.deadlock_caught(sys, run, it.actors) or f.lockdep
    order = lockorder.check(sys, g)
    findings += [api._lock_order_finding(sys, g, cycle) for cycle in order.cycles]
    findings.sort(key=lambda f: (model.FINDING_KINDS.index(f.kind), len(f.trace)))
    states = sum(r.states for r in done)
    stats = api.Stats(states, sum(r.steps for r in done), max((r.deepest for r in done), default=0),
                      searched, order.classes, len(order.edges), order.seconds, "off", False, "off",
                      "python (swarm runs: the reference semantics)")
    ended: dict = {}
    for r in done:
        ended[r.stopped] = ended.get(r.stopped, 0) + 1
    stopped = f"swarm: {runs} runs, no proof"
    if why:
        stopped = f"{why}; {stopped}"
    if lost:
        stopped += f"; {len(lost)} run{'s' if len(lost) > 1 else ''} lost ({lost[0]})"
    info = {"runs": runs, "finished": len(done), "lost": len(lost), "states": states,
            "ended": ended, "shortening": shortening,
            "orders": [(r.index, r.order, r.bound, r.states) for r in sorted(done, key=lambda r: r.index)]}
    result = api.Result(path, m.title, m.expected, findings, stats, False, stopped, dict(m.params),
                        len(deps), order, engine="swarm", swarm=info)
    return api._fold(result)


def _shorten_all(sys: System, best: dict, timeout: Optional[float], started: float) -> dict:
    """Every path replayed (one that does not replay is a bug, never shown),
    then made shorter in rounds, each keeping the same finding at the end:
    its loops cut (a state met again), the rounds an actor makes back to
    where it was dropped (swarm.drop_detours); then one breadth-first
    search from the initial state for all the findings at once, each no
    deeper than its path, with half the time left; a finding it could not
    reach has its path cut down by dropping steps.  Paths are replaced in
    `best`; returns {finding: how it was shortened}."""
    left = SHORTEN_SECONDS if timeout is None else \
        min(SHORTEN_SECONDS, max(timeout - (time.monotonic() - started), 2.0))
    t0 = time.monotonic()
    deadline = t0 + left
    found, cut = {}, {}
    for n, ((kind, key), (msg, p)) in enumerate(best.items()):
        if not swarm.holds(sys, kind, key, p):
            raise swarm.Lost(f"the {kind} a run reported does not replay")
        found[(kind, key)] = len(p)
        p = swarm.cut_loops(sys, p, keep_last=kind not in ("deadlock", "invariant"))
        share = t0 + left / 2 * (n + 1) / len(best)         # half the time for these rounds
        p = swarm.drop_detours(sys, kind, key, p, share)
        cut[(kind, key)] = len(p)
        best[(kind, key)] = (msg, p)
    wanted = {fk: len(p) - 1 for fk, (_m, p) in best.items() if p}
    now = time.monotonic()
    paths, stored, looked = swarm.shortest_many(sys, wanted, deadline=now + (deadline - now) / 2)
    how = {}
    for fk, (msg, p) in best.items():
        was = f"{found[fk]} steps found, {cut[fk]} after cutting loops and detours"
        if fk in paths:
            best[fk] = (msg, paths[fk])
            how[fk] = f"{was}, {len(paths[fk])} by breadth-first search: a shortest trace"
        elif not p or wanted[fk] < looked:
            how[fk] = f"{was}: a shortest trace (breadth-first found none shorter)"
        else:
            p = swarm.drop_steps(sys, fk[0], fk[1], p, deadline)
            best[fk] = (msg, p)
            how[fk] = f"{was}, {len(p)} after dropping steps; the breadth-first search " \
                      f"for a shorter one gave up after {stored} states, so a shorter one may exist"
    return {f"{kind} {key}": h for (kind, key), h in how.items()}
