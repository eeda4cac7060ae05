"""Findings -> what people and programs read: tables (tabulate) and JSON.

Every piece of spec text that reaches a terminal goes through `printable`,
so a spec cannot smuggle escape sequences into a reader's terminal.
"""
from __future__ import annotations

import os
import textwrap


from ..api import Result
from ..language.errors import printable
from ..verdicts.coverage import places_count
from . import escape
from .schema import SCHEMA_VERSION


def _rel(path: str) -> str:
    try:
        rel = os.path.relpath(path)
        return rel if not rel.startswith("..") else path
    except ValueError:
        return path


WIDTH = 100          # a mail to dri-devel: every line of a table fits
NOTE = "\x00note\x00"
HEADERS = ["step", "actor", "line", "statement", "effect"]


def _wrap(text: str, indent: str = "", first: str = "", wide: bool = False) -> str:
    """One paragraph, wrapped to WIDTH unless wide; continuation lines indented."""
    text = first + text
    if wide or len(text) <= WIDTH:
        return text
    return "\n".join(textwrap.wrap(text, WIDTH, subsequent_indent=indent or "    ",
                                    break_on_hyphens=False))


def steps_table(rows: list, base: str, wide: bool = False) -> str:
    """Trace rows ([step, actor, line, statement, effect], or [NOTE, text])
    as one table.  Narrow (the default): the line column is the line number
    (the file is in the header), statements and effects wrap so that no line
    exceeds WIDTH, and notes sit on rows of their own.  Wide: one line per
    step, whatever its length."""
    body, notes = [], []
    for r in rows:
        if r[0] == NOTE:
            notes.append(printable(r[1]))
            body.append(["", "", "", notes[-1], ""] if wide else [NOTE, "", "", "", ""])
            continue
        step, actor, line, stmt, effect = r
        where = (f"{base}:{line}" if wide else str(line)) if line else "-"
        body.append([printable(str(c)) for c in (step, actor, where, stmt, effect)])
    if wide:
        from tabulate import tabulate       # only when there is a table to print
        return tabulate(body, headers=HEADERS, tablefmt="simple", disable_numparse=True)
    # tabulate makes a column at least its header plus 2 wide
    span = lambda i: max([len(HEADERS[i]) + 2] + [len(r[i]) for r in body if r[0] != NOTE])
    fixed = [span(0), min(span(1), 24), span(2)]
    room = WIDTH - sum(fixed) - 2 * 4
    stmt_w = max(min(span(3), max(room // 2, room - span(4))), 11)
    eff_w = max(room - stmt_w, 10)
    widths = [None, fixed[1], None, stmt_w, eff_w]
    cells = []
    for r in body:
        if r[0] == NOTE:
            cells.append([NOTE, "", "", "", ""])
            continue
        cells.append([c if w is None else "\n".join(textwrap.wrap(c, w, break_on_hyphens=False) or [""])
                      for c, w in zip(r, widths)])
    from tabulate import tabulate
    text = tabulate(cells, headers=HEADERS, tablefmt="simple", disable_numparse=True)
    it = iter(notes)
    out = []
    for line in text.splitlines():
        if line.startswith(NOTE):
            out.append(_wrap(next(it), "  ", "  "))
        else:
            out.append(line.rstrip())
    return "\n".join(out)


def table(result: Result, wide: bool = False, variants: bool = False) -> str:
    """The verdict, then one block per finding.  `variants`: also the
    findings folded into another one of the same root cause (`--all`)."""
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
    elif result.engine == "swarm":
        head += _swarm_head(result)
    else:
        head += (f"\n  searched: {st.states} states, {st.transitions} transitions, "
                 f"depth {st.depth}, {st.seconds:.2f} s"
                 + (", early-bug mode" if result.mode == "early" else ""))
        if st.core:
            head += f"\n  core:     {printable(st.core)}"
        if result.lock_order:
            head += (f"\n  {printable(result.lock_order.words())}"
                     f"\n    ({st.lock_deps} dependencies over {st.lock_classes} classes, "
                     f"z3 {st.z3_seconds:.2f} s)")
        if cov:
            head += "".join(f"\n  {printable(line)}" for line in cov.lines())
        if not result.complete:
            head += f"\n  INCOMPLETE: {result.stopped}; the findings below are what was found so far," \
                    " and no absence of others is claimed"
    out = ["\n".join(_wrap(line, "      ", "", wide) for line in head.split("\n"))]
    base = os.path.basename(result.path)
    folded = result.variants if variants else []
    for f in list(result.findings) + folded:
        if folded and f is folded[0]:
            out.append(f"\n({len(folded)} more finding{'s' if len(folded) > 1 else ''} of the same "
                       "root causes as above, shown by --all:)")
        if f.kind == "lock-order":
            out.append(_lock_order(f, base, wide))
            continue
        if f.kind == "unreachable":          # about the whole graph: no trace, no state
            out.append(f"\n{f.kind}: {printable(f.message)}\n  (every reachable state was "
                       "explored; there is no trace to show)")
            continue
        row = lambda s, n: [n, s.actor, s.line, s.statement, s.effect]
        rows = [row(s, s.step) for s in f.trace]
        if f.then:
            note = "(no path avoids the deadlock from here; one way on:)" if f.trace else \
                "(certain from the initial state; one way on:)"
            rows.append([NOTE, note])
            rows += [row(s, s.step) for s in f.then]
        rows += [row(s, "-") for s in f.blocked]
        block = ["\n" + _wrap(printable(f.message), "    ", f"{f.kind}: ", wide)]
        if rows:
            block.append(steps_table(rows, base, wide))
        else:
            block.append("  (in the initial state)")
        block.append(_final(f.final_state, wide))
        if f.waits_for:
            block.append("who waits for whom:\n" + "\n".join(_wrap(printable(w), "      ", "  ", wide)
                                                             for w in f.waits_for))
        if f.lockdep:
            block.append(_wrap(printable(f.lockdep), "  ", "", wide))
        out.append("\n".join(block))
    return "\n".join(out) + "\n"


def _lock_order(f, base: str, wide: bool = False) -> str:
    """The chain as lockdep prints it, then under each edge the shortest
    trace that created it."""
    block = ["\n" + _wrap(printable(f.message), "    ", "lock-order: ", wide),
             "the existing dependency chain:"]
    block += [_wrap(printable(e.words()), "      ", "  ", wide) for e in f.cycle]
    for e in f.cycle:
        if e.trace:
            block.append(f"shortest trace creating {printable(e.frm)} -> {printable(e.to)}:")
            block.append(steps_table([[s.step, s.actor, s.line, s.statement, s.effect] for s in e.trace],
                                     base, wide))
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


def _swarm_head(result: Result) -> str:
    """A swarm proves nothing: say how much it covered, how each trace was
    shortened, and what it does not look for."""
    sw, st = result.swarm, result.stats
    ended = "; ".join(f"{n} {why}" for why, n in sorted(sw["ended"].items()))
    out = (f"\n  swarm:    {sw['runs']} runs, about {sw['states']} distinct states visited, no proof"
           f"\n  searched: {st.transitions} transitions, deepest {st.depth}, {st.seconds:.2f} s"
           + (f"; runs: {ended}" if ended else "")
           + f"\n  NOT PROVED: {result.stopped}; the findings below are real (replayed), "
           "and no absence of others is claimed"
           "\n  looked for: " + ", ".join(sorted(result.looked_for))
           + " (deadlock: only where no actor can move)")
    proved = sum("a shortest trace" in how for how in sw["shortening"].values())
    if sw["shortening"]:
        out += (f"\n  traces:   replayed, then shortened (loops cut, breadth-first from the initial "
                f"state): {proved} of {len(sw['shortening'])} shown shortest (see --format json)")
    not_looked = sorted(set(result.expected) - result.looked_for)
    if not_looked:
        out += "\n  expected but not looked for by a swarm: " + ", ".join(not_looked)
    if result.lock_order and result.lock_order.cycles:
        out += f"\n  {printable(result.lock_order.words())}"
    return out


def _final(state: dict, wide: bool = False) -> str:
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
    return "\n".join(_wrap(line, "      ", "", wide) for line in lines)


def as_json(results: list[Result]) -> str:
    files = []
    for r in results:
        files.append({
            "path": r.path, "title": r.title, "ok": r.ok,
            "expected": sorted(r.expected) or ["safe"],
            "found": sorted(r.kinds) or (["safe"] if r.complete else []),
            "complete": r.complete, "stopped": r.stopped, "params": r.params,
            "findings": [f.as_dict() for f in r.findings],
            "variants": [f.as_dict() for f in r.variants],
            "stats": r.stats.as_dict(),
            "lock_order": r.lock_order.as_dict() if r.lock_order else None,
            "engine": r.engine,
            "coverage": r.coverage.as_dict() if r.coverage else None,
        })
        if r.engine == "explicit":
            files[-1]["mode"] = r.mode
            if r.mode == "early" and not r.complete:
                files[-1]["looked_for"] = sorted(r.looked_for)
        if r.engine == "swarm":
            files[-1].update({"swarm": r.swarm, "looked_for": sorted(r.looked_for)})
        if r.engine == "smt":
            files[-1].update({"bound": r.bound, "proved": r.proved,
                              "looked_for": sorted(r.looked_for)})
    return escape.dumps({"schema_version": SCHEMA_VERSION, "files": files})
