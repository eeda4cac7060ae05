"""Findings -> what people and programs read: tables (tabulate) and JSON.

Every piece of spec text that reaches a terminal goes through `printable`,
so a spec cannot smuggle escape sequences into a reader's terminal.
"""
from __future__ import annotations

import json
import os

from tabulate import tabulate

from ..api import Result
from ..language.errors import printable
from ..verdicts.coverage import places_count
from .schema import SCHEMA_VERSION


def _rel(path: str) -> str:
    try:
        rel = os.path.relpath(path)
        return rel if not rel.startswith("..") else path
    except ValueError:
        return path


def table(result: Result) -> str:
    path = _rel(result.path)
    st = result.stats
    nothing = 'safe' if result.complete else 'nothing so far'
    cov = result.coverage
    if cov and cov.missed and result.complete and not result.kinds:
        nothing = f"safe, but over code that never ran ({places_count(len(cov.missed))}, see coverage)"
    if result.engine == "smt":
        nothing = f"nothing within depth {result.bound}"
    head = (f"{printable(path)}: {'ok' if result.ok else 'FAIL'}"
            + (f" ({printable(result.title)})" if result.title else "")
            + f"\n  found:    {', '.join(sorted(result.kinds)) or nothing}"
            + f"\n  expected: {', '.join(sorted(result.expected)) or 'safe'}")
    if result.engine == "smt":
        head += _smt_head(result)
    else:
        head += (f"\n  searched: {st.states} states, {st.transitions} transitions, "
                 f"depth {st.depth}, {st.seconds:.2f} s")
        if result.lock_order:
            head += (f"\n  {printable(result.lock_order.words())}"
                     f"\n    ({st.lock_deps} dependencies over {st.lock_classes} classes, "
                     f"z3 {st.z3_seconds:.2f} s)")
        if cov:
            head += "".join(f"\n  {printable(line)}" for line in cov.lines())
        if not result.complete:
            head += f"\n  INCOMPLETE: {result.stopped}; the findings below are what was found so far," \
                    " and no absence of others is claimed"
    out = [head]
    base = os.path.basename(result.path)
    for f in result.findings:
        if f.kind == "lock-order":
            out.append(_lock_order(f, base))
            continue
        if f.kind == "unreachable":          # about the whole graph: no trace, no state
            out.append(f"\n{f.kind}: {printable(f.message)}\n  (every reachable state was "
                       "explored; there is no trace to show)")
            continue
        row = lambda s, n: [n, s.actor, f"{base}:{s.line}" if s.line else "-", s.statement, s.effect]
        rows = [row(s, s.step) for s in f.trace]
        if f.then:
            note = "(no path avoids the deadlock from here; one way on:)" if f.trace else \
                "(certain from the initial state; one way on:)"
            rows.append(["", "", "", note, ""])
            rows += [row(s, s.step) for s in f.then]
        rows += [row(s, "-") for s in f.blocked]
        rows = [[printable(str(c)) for c in r] for r in rows]
        block = [f"\n{f.kind}: {printable(f.message)}"]
        if rows:
            block.append(tabulate(rows, headers=["step", "actor", "line", "statement", "effect"],
                                  tablefmt="simple", disable_numparse=True))
        else:
            block.append("  (in the initial state)")
        block.append(_final(f.final_state))
        if f.waits_for:
            block.append("who waits for whom:\n" + "\n".join(f"  {printable(w)}" for w in f.waits_for))
        if f.lockdep:
            block.append(printable(f.lockdep))
        out.append("\n".join(block))
    return "\n".join(out) + "\n"


def _rows(steps: list, base: str) -> list:
    return [[printable(str(c)) for c in (s.step, s.actor, f"{base}:{s.line}" if s.line else "-",
                                         s.statement, s.effect)] for s in steps]


def _lock_order(f, base: str) -> str:
    """The chain as lockdep prints it, then under each edge the shortest
    trace that created it."""
    block = [f"\nlock-order: {printable(f.message)}",
             "the existing dependency chain:"]
    block += [f"  {printable(e.words())}" for e in f.cycle]
    for e in f.cycle:
        if e.trace:
            block.append(f"shortest trace creating {printable(e.frm)} -> {printable(e.to)}:")
            block.append(tabulate(_rows(e.trace, base), headers=["step", "actor", "line", "statement", "effect"],
                                  tablefmt="simple", disable_numparse=True))
    return "\n".join(block)


def _smt_head(result: Result) -> str:
    """The symbolic engine proves nothing beyond its bound but the invariants
    k-induction proved, and does not look for every kind: say both."""
    not_looked = sorted(set(result.expected) - result.looked_for)
    out = (f"\n  searched: symbolically, {result.stats.seconds:.2f} s ({result.stats.z3_seconds:.2f} s in z3)"
           f"\n  BOUNDED:  {result.stopped}; no absence of findings is claimed beyond it"
           "\n  looked for: " + ", ".join(sorted(result.looked_for))
           + " (deadlock: only where no actor can move)")
    if result.proved:
        out += "\n  proved by k-induction for every depth: invariant " + \
            ", ".join(f'"{printable(n)}"' for n in result.proved)
    if not_looked:
        out += "\n  expected but not looked for by this engine: " + ", ".join(not_looked)
    return out


def _final(state: dict) -> str:
    lines = ["final state:"]
    for name, what in state.get("actors", {}).items():
        lines.append(f"  {printable(name)}: {printable(what)}")
    held = [f"{printable(k)} {printable(v)}" for k, v in state.get("locks", {}).items()]
    lines.append("  locks: " + ("; ".join(held) if held else "none held"))
    fences = [f"{printable(k)} {printable(v)}" for k, v in state.get("fences", {}).items()]
    if fences:
        lines.append("  fences: " + "; ".join(fences))
    engines = [f"{printable(k)} {printable(v)}" for k, v in state.get("engines", {}).items()]
    if engines:
        lines.append("  engines: " + "; ".join(engines))
    vs = [f"{printable(k)} = {v}" for k, v in state.get("vars", {}).items()]
    if vs:
        lines.append("  vars: " + ", ".join(vs))
    if state.get("interrupt_waits"):
        lines.append("  interrupt_waits in force")
    return "\n".join(lines)


def as_json(results: list[Result]) -> str:
    files = []
    for r in results:
        files.append({
            "path": r.path, "title": r.title, "ok": r.ok,
            "expected": sorted(r.expected) or ["safe"],
            "found": sorted(r.kinds) or (["safe"] if r.complete else []),
            "complete": r.complete, "stopped": r.stopped, "params": r.params,
            "findings": [f.as_dict() for f in r.findings],
            "stats": r.stats.as_dict(),
            "lock_order": r.lock_order.as_dict() if r.lock_order else None,
            "engine": r.engine,
            "coverage": r.coverage.as_dict() if r.coverage else None,
        })
        if r.engine == "smt":
            files[-1].update({"bound": r.bound, "proved": r.proved,
                              "looked_for": sorted(r.looked_for)})
    return json.dumps({"schema_version": SCHEMA_VERSION, "files": files}, indent=2, ensure_ascii=False) + "\n"
