"""The Python API: check a spec, get a result; nothing is printed.

    result = modelcheck.check_file("specs/proxy_fence_fork.fspec")
    assert result.ok, result.summary()

`check_*` raise `SpecError` (with every diagnostic) for bad input.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable, Optional

from . import analysis, explorer, model, syntax, trace
from .errors import Diagnostic, Source, SpecError
from .semantics import System


@dataclass
class Stats:
    states: int
    transitions: int
    depth: int
    seconds: float
    reduction: str = "off"         # partial-order reduction: on / off / off for this spec: why
    researched: bool = False       # findings searched again without reduction/symmetry (shortest traces)
    symmetry: str = "off"          # one state per permutation of copies: on / off / off for this spec: why

    def as_dict(self) -> dict:
        return {"states": self.states, "transitions": self.transitions,
                "depth": self.depth, "seconds": round(self.seconds, 3),
                "reduction": self.reduction, "researched": self.researched,
                "symmetry": self.symmetry}


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

    @property
    def kinds(self) -> frozenset:
        return frozenset(f.kind for f in self.findings)

    @property
    def ok(self) -> bool:
        """Findings equal the expectations.  A search cut short can confirm
        an expected bug; it can never show that nothing else is there, so it
        passes only when everything expected was found and nothing else."""
        if self.kinds != self.expected:
            return False
        return self.complete or bool(self.expected)

    def summary(self) -> str:
        found = ", ".join(sorted(self.kinds)) or ("safe" if self.complete else "nothing so far")
        want = ", ".join(sorted(self.expected)) or "safe"
        verdict = "ok" if self.ok else "FAIL"
        tail = "" if self.complete else f" (incomplete: {self.stopped})"
        return f"{self.path}: {verdict}: found {found}; expected {want}{tail}"


def load(text: str, path: str = "<string>", params: Optional[dict] = None) -> model.Model:
    """Text -> checked model (raises SpecError)."""
    src = Source(path, text)
    return model.build(syntax.parse(src), src, params)


def check_source(text: str, params: Optional[dict] = None, path: str = "<string>",
                 limits: Optional[explorer.Limits] = None,
                 progress: Optional[Callable] = None) -> Result:
    m = load(text, path, params)
    sys = System(m)
    limits = limits or explorer.Limits()
    g = explorer.explore(sys, limits, progress)
    seconds, researched, how = g.seconds, False, (g.reduction, g.symmetry)
    # The quotient graph of symmetric copies gives the verdict only (its edges
    # rename actors); a finding kind computed from the graph must be in
    # `verdict` (lock contexts: `g.quotient.close_deps(g.deps)`).
    if g.quotient and g.quotient.verdict(g):
        # Findings must name the real actors: search again without symmetry.
        g = _again(sys, seconds, limits, progress, symmetry=False)
        seconds += g.seconds
        researched = True
    if g.quotient:                      # the quotient shows nothing: no findings
        findings, lock_steps = [], len(g.quotient.close_deps(g.deps))
    else:
        findings, lock_steps = _findings(sys, g), len(g.deps)
        if findings and g.pruned:
            # A reduced graph has every kind of finding, not every shortest path:
            # search again without reduction for the traces (kept only if complete).
            full = _again(sys, seconds, limits, progress, symmetry=False, reduction=False)
            seconds += full.seconds
            if not full.stopped or g.stopped:
                g, findings, researched = full, _findings(sys, full), True
                lock_steps = len(g.deps)
    stats = Stats(len(g.states), len(g.edges), max(g.depth) if g.depth else 0, seconds,
                  how[0], researched, how[1])
    return Result(path, m.title, m.expected, findings, stats, not g.stopped, g.stopped,
                  dict(m.params), lock_steps)


def _again(sys: System, spent: float, limits: explorer.Limits, progress, **changes):
    """The same search with some reductions off, in the time that is left."""
    left = None if limits.timeout is None else max(limits.timeout - spent, 0.0)
    return explorer.explore(sys, replace(limits, timeout=left, **changes), progress)


def _findings(sys: System, g: explorer.Graph) -> list:
    items = sorted(g.found.values(), key=lambda f: (g.depth[f.src], f.src, f.kind))
    items = _cap(items) + analysis.analyse(sys, g)
    findings = [trace.build(sys, g, it) for it in items]
    findings.sort(key=lambda f: (model.FINDING_KINDS.index(f.kind), len(f.trace)))
    return findings


def check_file(path, params: Optional[dict] = None, limits: Optional[explorer.Limits] = None,
               progress: Optional[Callable] = None) -> Result:
    p = str(path)
    try:
        data = Path(p).read_bytes()
    except OSError as e:
        raise SpecError([Diagnostic(p, 0, 0, f"cannot read: {e.strerror or e}")])
    return check_source(syntax.decode(data, p), params, p, limits, progress)


def _cap(items: list) -> list:
    per_kind: dict = {}
    out = []
    for it in items:
        per_kind[it.kind] = per_kind.get(it.kind, 0) + 1
        if per_kind[it.kind] <= analysis.MAX_PER_KIND:
            out.append(it)
    return out
