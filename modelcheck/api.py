"""The Python API: check a spec, get a result; nothing is printed.

    result = modelcheck.check_file("specs/proxy_fence_fork.fspec")
    assert result.ok, result.summary()

`check_*` raise `SpecError` (with every diagnostic) for bad input.
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass, field, replace
from typing import Callable, Optional

from .verdicts import analysis, coverage, irqstate, lockorder, trace

from .search import budget, explorer

from .language import model, syntax
from .language.errors import Diagnostic, Source, SpecError
from .semantics import System


@dataclass
class Stats:
    states: int
    transitions: int
    depth: int
    seconds: float
    lock_classes: int = 0          # lockdep classes, pseudo-locks included
    lock_deps: int = 0             # dependencies handed to z3, boot-primed ones included
    z3_seconds: float = 0.0        # lock-order decision, or the smt engine's solving
    reduction: str = "off"         # partial-order reduction: on / off / off for this spec: why
    researched: bool = False       # findings searched again without reduction/symmetry (shortest traces)
    symmetry: str = "off"          # one state per permutation of copies: on / off / off for this spec: why
    core: str = ""                 # explicit engine: the search core that ran (native / python (why))

    def as_dict(self) -> dict:
        return {"states": self.states, "transitions": self.transitions,
                "depth": self.depth, "seconds": round(self.seconds, 3),
                "lock_classes": self.lock_classes, "lock_deps": self.lock_deps,
                "z3_seconds": round(self.z3_seconds, 3),
                "reduction": self.reduction, "researched": self.researched,
                "symmetry": self.symmetry, "core": self.core}


@dataclass
class Result:
    path: str
    title: str
    expected: frozenset            # finding kinds the spec expects (empty = safe)
    findings: list                 # [trace.Finding], shortest trace first per kind
    stats: Stats
    complete: bool                 # False when a limit or Ctrl-C stopped the search
    stopped: str = ""              # why it stopped early
    params: dict = field(default_factory=dict)
    lock_steps: int = 0            # distinct (lock context, statement) pairs recorded
    lock_order: Optional[lockorder.LockOrder] = None
    engine: str = "explicit"
    bound: Optional[int] = None    # smt: every execution up to this many steps was searched
    proved: list = field(default_factory=list)   # smt: invariants proved by k-induction
    coverage: Optional[coverage.Coverage] = None   # explicit engine: the code no step ran
    variants: list = field(default_factory=list)  # findings folded into one above (same root cause)
    mode: str = "full"             # explicit engine: "early" in early-bug mode (Limits.early)
    swarm: Optional[dict] = None   # swarm engine: runs, states, how each trace was shortened

    @property
    def looked_for(self) -> frozenset:
        """The finding kinds this engine looks for."""
        if self.engine == "smt":
            from .search import symbolic
            return frozenset(symbolic.KINDS)
        if self.engine == "swarm":
            return EARLY_KINDS | {"lock-order"}
        if self.mode == "early" and not self.complete:
            return EARLY_KINDS
        return frozenset(model.FINDING_KINDS)

    @property
    def kinds(self) -> frozenset:
        return frozenset(f.kind for f in self.findings)

    @property
    def ok(self) -> bool:
        """Findings equal the expectations.  A search cut short can confirm
        an expected bug; it can never show that nothing else is there, so it
        passes only when everything expected was found and nothing else."""
        want = self.expected & self.looked_for
        if self.kinds != want:
            return False
        if self.engine == "swarm":    # never complete: a bug hunt that found what was expected
            return True
        return self.complete or bool(want)

    def summary(self) -> str:
        """The verdict line; for a result that is not as expected, followed by
        its tables, so that `assert result.ok, result.summary()` shows the
        counterexamples."""
        line = self.verdict()
        if self.ok:
            return line
        from .reports import report
        return line + "\n" + report.table(self)

    def verdict(self) -> str:
        """One line: the path, ok/FAIL, what was found and expected."""
        nothing = f"nothing within depth {self.bound}" if self.engine == "smt" else "nothing so far"
        found = ", ".join(sorted(self.kinds)) or ("safe" if self.complete else nothing)
        if found == "safe" and self.coverage and self.coverage.missed:
            found += f" (but {coverage.places_count(len(self.coverage.missed))} never ran)"
        want = ", ".join(sorted(self.expected)) or "safe"
        verdict = "ok" if self.ok else "FAIL"
        tail = "" if self.complete else f" (incomplete: {self.stopped})"
        return f"{self.path}: {verdict}: found {found}; expected {want}{tail}"


# What early-bug mode decides when it stops at a finding: the kinds a step
# or a state shows by itself.  The others are about every path from a state
# (or every lock context) and wait for the whole graph.
EARLY_KINDS = frozenset(("deadlock", "invariant", "assert", "signal-before-deps", "publish-without-lock",
                         "unlock-not-held", "sleep-in-atomic", "lock-held-at-exit"))


def load(text: str, path: str = "<string>", params: Optional[dict] = None) -> model.Model:
    """Text -> checked model (raises SpecError)."""
    src = Source(path, text)
    return model.build(syntax.parse(src), src, params)


def check_source(text: str, params: Optional[dict] = None, path: str = "<string>",
                 limits: Optional[explorer.Limits] = None,
                 progress: Optional[Callable] = None, engine: str = "explicit",
                 depth: Optional[int] = None) -> Result:
    """engine "explicit" explores every state; "smt" searches symbolically
    to `depth` steps (default budget.DEFAULT_DEPTH) and says so."""
    _check_arguments(text, params, path, limits, progress, engine, depth)
    with budget.running(limits or explorer.Limits()) as b:
        try:
            return _check_source(text, params, path, limits, progress, engine, depth)
        except budget.LimitReached as e:      # cut short before the search began
            stats = Stats(0, 0, 0, time.monotonic() - b.origin)
            return Result(path, "", frozenset(), [], stats, False, str(e),
                          engine="smt" if engine == "smt" else "explicit")


def _check_source(text, params, path, limits, progress, engine, depth) -> Result:
    budget.check("reading")
    m = load(text, path, params)
    sys = System(m)
    budget.check("building the model")
    if engine == "smt":
        return _check_smt(sys, path, limits, depth)
    if engine not in ("explicit", "native", "python"):
        raise ValueError(f"unknown engine {engine!r}")
    limits = limits or explorer.Limits()
    if engine != "explicit":                # the explicit engine on one search core
        limits = replace(limits, core=engine)
    g = explorer.explore(sys, limits, progress)
    seconds, researched, how = g.seconds, False, (g.reduction, g.symmetry)
    mode = "early" if limits.early else "full"
    if g.early and (g.quotient or g.pruned):
        # Stopped at a finding on the quotient or reduced graph: search again,
        # still in early-bug mode, for the real actors and a shortest trace.
        g = _again(sys, seconds, limits, progress, symmetry=False, reduction=False)
        seconds += g.seconds
        researched = True
    if g.early:
        return _early(sys, m, path, g, seconds, how, researched)
    # The quotient graph of symmetric copies gives the verdict only (its edges
    # rename actors).  Its lock-order verdict is the full graph's: copies
    # exchanged take locks of the same classes at the same statements.
    order = lockorder.check(sys, g) if g.quotient else None
    if g.quotient and (g.quotient.verdict(g) or order.cycles):
        # Findings must name the real actors: search again without symmetry.
        g = _again(sys, seconds, limits, progress, symmetry=False)
        seconds += g.seconds
        researched = True
    if g.quotient:                      # the quotient shows nothing: no findings
        findings = []
        lock_steps = len(g.quotient.close_deps(g.deps))
    else:
        findings, order = _findings(sys, g)
        lock_steps = len(g.deps)
        if findings and g.pruned:
            # A reduced graph has every kind of finding, not every shortest path:
            # search again without reduction for the traces (kept only if complete).
            full = _again(sys, seconds, limits, progress, symmetry=False, reduction=False)
            seconds += full.seconds
            if not full.stopped or g.stopped:
                g, researched = full, True
                findings, order = _findings(sys, g)
                lock_steps = len(g.deps)
            elif full.stopped.startswith("interrupted"):   # Ctrl-C ends the whole run
                g.stopped = full.stopped
    cov = coverage.compute(sys, g)
    if cov.missed and g.pruned and not g.stopped:
        # The reduced graph left steps out: which code runs is decided without it.
        full = _again(sys, seconds, limits, progress, reduction=False)
        seconds += full.seconds
        if not full.stopped:            # a partial graph would claim code never runs
            cov = coverage.compute(sys, full)
        elif full.stopped.startswith("interrupted"):    # Ctrl-C ends the whole run
            g.stopped = full.stopped
    stats = Stats(*(g.totals or (len(g.states), len(g.edges), max(g.depth) if g.depth else 0)), seconds,
                  order.classes, len(order.edges), order.seconds, how[0], researched, how[1],
                  g.core)
    return _fold(Result(path, m.title, m.expected, findings, stats, not g.stopped, g.stopped,
                        dict(m.params), lock_steps, order, coverage=cov, mode=mode))


def _early(sys: System, m, path: str, g: explorer.Graph, seconds: float, how, researched) -> Result:
    """Early-bug mode stopped at a finding: the findings shown so far, each
    with its shortest trace; the kinds about whole graphs are not decided."""
    items = _cap(sorted(g.found.values(), key=lambda f: (g.depth[f.src], f.src, f.kind)))
    if g.stuck >= 0:
        items.append(analysis.stuck(sys, g, g.stuck))
    findings = [trace.build(sys, g, it) for it in items]
    for it, f in zip(items, findings):
        if it.kind == "deadlock":
            run = [g.states[j] for _a, j in g.path(it.state)]
            f.lockdep = lockorder.deadlock_caught(sys, [g.states[0]] + run, it.actors)
            if sys.L.irqs and f.lockdep.startswith("lockdep would not"):
                f.lockdep = irqstate.deadlock_caught(sys, [g.states[0]] + run, it.actors) or f.lockdep
    findings.sort(key=lambda f: (model.FINDING_KINDS.index(f.kind), len(f.trace)))
    undecided = sorted(set(model.FINDING_KINDS) - EARLY_KINDS) + ["deadlocks other actors outlive"]
    stopped = f"{g.stopped} ({g.early}); not decided in early mode: {', '.join(undecided)}"
    stats = Stats(len(g.states), len(g.edges), max(g.depth) if g.depth else 0, seconds,
                  reduction=how[0], researched=researched, symmetry=how[1], core=g.core)
    return _fold(Result(path, m.title, m.expected, findings, stats, False, stopped, dict(m.params),
                        len(g.deps), None, mode="early"))


def _check_arguments(text, params, path, limits, progress, engine, depth) -> None:
    """The API's door: a wrong argument is a TypeError/ValueError naming it,
    not an AttributeError from deep inside."""
    if not isinstance(text, str):
        raise TypeError(f"text must be the spec as a str, not {type(text).__name__}"
                        + (" (decode it, or use check_file)" if isinstance(text, (bytes, bytearray)) else ""))
    if not isinstance(path, str):
        raise TypeError(f"path must be a str, not {type(path).__name__}")
    if params is not None:
        if not isinstance(params, dict):
            raise TypeError(f"params must be a dict {{name: int}}, not {type(params).__name__}")
        for k, v in params.items():
            if not isinstance(k, str) or isinstance(v, bool) or not isinstance(v, int):
                raise TypeError(f"params must map names (str) to ints, not {k!r}: {v!r}")
    if limits is not None and not isinstance(limits, explorer.Limits):
        raise TypeError(f"limits must be a modelcheck.Limits, not {type(limits).__name__}")
    if progress is not None and not callable(progress):
        raise TypeError("progress must be callable or None")
    if engine not in ("explicit", "native", "python", "smt"):
        raise ValueError(f"engine must be 'explicit', 'native', 'python' or 'smt', not {engine!r}")
    if depth is not None and (isinstance(depth, bool) or not isinstance(depth, int) or depth < 0):
        raise ValueError(f"depth must be an int >= 0 or None, not {depth!r}")


def _again(sys: System, spent: float, limits: explorer.Limits, progress, **changes):
    """The same search with some reductions off, in the time that is left."""
    if budget.origin() is not None:       # the file's budget runs from its first byte
        return explorer.explore(sys, replace(limits, **changes), progress)
    left = None if limits.timeout is None else max(limits.timeout - spent, 0.0)
    return explorer.explore(sys, replace(limits, timeout=left, **changes), progress)


def _findings(sys: System, g: explorer.Graph) -> tuple[list, lockorder.LockOrder]:
    items = sorted(g.found.values(), key=lambda f: (g.depth[f.src], f.src, f.kind))
    items = _cap(items) + analysis.analyse(sys, g) \
        + g.state_findings[:analysis.MAX_PER_KIND]
    findings = [trace.build(sys, g, it) for it in items]
    for it, f in zip(items, findings):
        if it.kind == "unreachable":
            f.line = next(line for name, _e, line in sys.m.reachables if (name,) == it.key)
    for it, f in zip(items, findings):
        if it.kind == "deadlock":
            run = [g.states[j] for _a, j in g.path(it.state) + list(it.then)]
            f.lockdep = lockorder.deadlock_caught(sys, [g.states[0]] + run, it.actors)
            if sys.L.irqs and f.lockdep.startswith("lockdep would not"):
                f.lockdep = irqstate.deadlock_caught(sys, [g.states[0]] + run, it.actors) \
                    or f.lockdep
    order = lockorder.check(sys, g)
    findings += [_lock_order_finding(sys, g, cycle) for cycle in order.cycles]
    if sys.L.irqs:
        findings += [_irq_unsafe_finding(sys, g, irq, on) for irq, on in irqstate.inconsistent(sys, g)]
    findings.sort(key=lambda f: (model.FINDING_KINDS.index(f.kind), len(f.trace)))
    return findings, order


def _fold(result: Result) -> Result:
    result.findings, result.variants = trace.fold(result.findings)
    return result


def _lock_order_finding(sys: System, g: explorer.Graph, cycle: list) -> trace.Finding:
    """Each edge of the cycle gets the shortest trace that created it; the
    finding's own trace is the one of the edge created last."""
    for e in cycle:
        if e.actor != lockorder.BOOT:
            e.trace = trace.reach(sys, g, e.src, e.a, f"reaches it holding {e.frm}: {e.frm} -> {e.to}")
            s = g.states[e.src]
            e.held = trace.held_locks(sys, [g.states[0]] + [g.states[j] for _b, j in g.path(e.src)], e.a)
            ins = sys.code[s[sys.L.PC + e.a]]
            e.mode = dict(ins.acquires).get(e.to, "w")
            e.instance = next((sys.m.locks[l].name for l in getattr(ins, "ids", ())
                               if sys.m.locks[l].cls == e.to), e.to)
    last = max((e for e in cycle if e.actor != lockorder.BOOT), key=lambda e: len(e.trace))
    return trace.Finding("lock-order", lockorder.name(cycle), last.trace,
                         trace.final_state(sys, g.states[last.src]), cycle=cycle)


def _irq_unsafe_finding(sys: System, g: explorer.Graph, irq, on) -> trace.Finding:
    """Both acquisitions with the shortest trace to each; the finding's own
    trace is the longer one (both usages are known at its end)."""
    for u in (irq, on):
        u.trace = trace.reach(sys, g, u.src, u.a, f"takes {u.cls} {u.usage}")
    last = max((irq, on), key=lambda u: len(u.trace))
    usage = {"class": irq.cls, "in_irq": irq.as_dict(), "irq_on": on.as_dict(),
             "states": [irq.state(), on.state()]}
    return trace.Finding("irq-unsafe-lock", irqstate.message(irq, on), last.trace,
                         trace.final_state(sys, g.states[last.src]), usage=usage)


def _check_smt(sys: System, path: str, limits, depth: Optional[int]) -> Result:
    from .search import symbolic            # z3: only when this engine runs
    m = sys.m
    bound = symbolic.DEFAULT_DEPTH if depth is None else depth
    timeout = limits.timeout if limits else None
    findings, run = symbolic.check(sys, bound, timeout)
    findings.sort(key=lambda f: (model.FINDING_KINDS.index(f.kind), len(f.trace)))
    stats = Stats(0, 0, run.depth, run.seconds, z3_seconds=run.z3_seconds)
    stopped = f"bounded to depth {run.depth}" if run.depth >= 0 else "not even depth 0 searched"
    if run.stopped:
        stopped = f"{run.stopped}; {stopped}"
    elif run.exhausted:
        stopped += " (every execution has ended by then)"
    undecided = [n for n, _e, _l in m.reachables if n not in run.reached and n not in run.unreached]
    if undecided:
        stopped += "; not seen within it, undecided: " + ", ".join(f'reachable "{n}"' for n in undecided)
    return Result(path, m.title, m.expected, findings, stats, False, stopped, dict(m.params),
                  engine="smt", bound=run.depth, proved=run.proved)


def check_file(path, params: Optional[dict] = None, limits: Optional[explorer.Limits] = None,
               progress: Optional[Callable] = None, engine: str = "explicit",
               depth: Optional[int] = None) -> Result:
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a str or a path, not {type(path).__name__}")
    p = os.fsdecode(path)
    if os.path.isdir(p):
        raise SpecError([Diagnostic(p, 0, 0, "is a directory, not a spec file")])
    if limits is not None and not isinstance(limits, explorer.Limits):
        raise TypeError(f"limits must be a modelcheck.Limits, not {type(limits).__name__}")
    cap = limits.max_input_bytes if limits else explorer.Limits().max_input_bytes
    with budget.running(limits or explorer.Limits()):    # the clock starts before reading
        return check_source(syntax.read(p, cap), params, p, limits, progress, engine, depth)


def _cap(items: list) -> list:
    per_kind: dict = {}
    out = []
    for it in items:
        per_kind[it.kind] = per_kind.get(it.kind, 0) + 1
        if per_kind[it.kind] <= analysis.MAX_PER_KIND:
            out.append(it)
    return out
