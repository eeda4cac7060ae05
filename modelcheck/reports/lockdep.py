"""Findings -> text in the shape the kernel's lockdep prints, for
`--format lockdep`: the banner, the dependency chain with spec lines, and
the "Possible unsafe locking scenario" with one column per actor.  Unlike
lockdep's synthetic CPU0/CPU1 table, a deadlock's scenario here is the real
shortest interleaving the explorer found, blocked steps last.
"""
from __future__ import annotations

import os

from ..api import Result
from ..language.errors import printable
from ..verdicts.lockorder import BOOT, PSEUDO

RULE = "=" * 54
DASH = "-" * 54


def render(result: Result) -> str:
    base = printable(os.path.basename(result.path))
    out = []
    for f in result.findings:
        if f.kind == "lock-order":
            out.append(_cycle(result, f, base))
        elif f.kind == "deadlock":
            out.append(_deadlock(result, f, base))
    if not out:
        verdict = result.lock_order.words() if result.lock_order else ""
        out.append(f"{printable(result.path)}: no lockdep splat; {printable(verdict)}")
    if not result.complete:
        out.insert(0, f"{printable(result.path)}: INCOMPLETE: {printable(result.stopped)}; what follows"
                      " is what was found so far, and no absence of others is claimed")
    return "\n".join(out) + "\n"


def _banner(title: str, result: Result) -> list[str]:
    name = printable(result.path) + (f" ({printable(result.title)})" if result.title else "")
    return [RULE, f"WARNING: {title}", name, DASH]


def _lock(cls: str) -> str:
    return f"({printable(cls)})"


def _cycle(result: Result, f, base: str) -> str:
    cycle = f.cycle
    recursive = len(cycle) == 1
    last = cycle[-1] if cycle[-1].actor != BOOT else next(e for e in reversed(cycle) if e.actor != BOOT)
    lines = _banner("possible recursive locking detected" if recursive else
                    "possible circular locking dependency detected", result)
    lines += [f"{printable(last.actor)} is trying to acquire lock:",
              f"  {_lock(last.to)}, at: {base}:{last.line} {printable(last.statement)}", "",
              "but task is already holding lock:",
              f"  {_lock(last.frm)}{PSEUDO.get(last.frm, '')}", ""]
    if not recursive:
        lines += ["which lock already depends on the new lock.", "",
                  "the existing dependency chain (in reverse order) is:", ""]
        for n, e in reversed(list(enumerate(cycle))):
            lines.append(f"-> #{n} {_lock(e.to)}:")
            if e.actor == BOOT:
                lines.append("       primed at boot: dma_resv_lockdep()")
            else:
                lines.append(f"       {printable(e.actor)} at {base}:{e.line} {printable(e.statement)}, "
                             f"holding {printable(e.frm)}")
                lines.append(f"       (shortest trace: {len(e.trace)} steps; see --format table)")
            lines.append("")
        if len(cycle) > 2:
            lines.append("Chain exists of:")
            lines.append("  " + " --> ".join(printable(e.frm) for e in cycle) + f" --> {printable(cycle[0].frm)}")
            lines.append("")
    lines += ["other info that might help us debug this:", "",
              " Possible unsafe locking scenario:", ""]
    # lockdep's scenario: each party takes what it holds, then what it wants
    parties = [e for e in cycle if e.actor != BOOT] or cycle
    heads = []
    for e in parties:                    # one party may stand on both sides: two runs of it
        name = printable(e.actor)
        heads.append(name if name not in heads else f"{name}, again")
    events = [(i, f"lock({printable(e.frm)});") for i, e in enumerate(parties)]
    events += [(i, f"lock({printable(e.to)});") for i, e in enumerate(parties)]
    if recursive:
        events = [(0, f"lock({printable(cycle[0].frm)});"), (0, f"lock({printable(cycle[0].to)});")]
    lines += _columns(heads, events)
    lines += ["", " *** DEADLOCK ***", ""]
    if recursive:
        lines += [" May be due to missing lock nesting notation (here: one `lock R1, R2` ww context)", ""]
    boot = [e for e in cycle if e.actor == BOOT]
    if boot:
        lines.append("the chain uses the orders primed at boot: " +
                     ", ".join(f"{e.frm} -> {e.to}" for e in boot))
        lines.append("")
    return "\n".join(lines)


def _deadlock(result: Result, f, base: str) -> str:
    lines = _banner("circular wait: the explorer found a deadlock", result)
    lines += [printable(f.message), "", printable(f.lockdep), ""]
    if f.waits_for:
        lines += ["the wait-for chain:"] + [f"  {printable(w)}" for w in f.waits_for] + [""]
    lines += [" Unsafe scenario (a real shortest interleaving):", ""]
    steps = list(f.trace) + list(f.then)
    blocked = list(f.blocked)
    heads = []
    for s in steps + blocked:
        if s.actor not in heads:
            heads.append(s.actor)
    events = [(heads.index(s.actor), f"{printable(s.statement)};") for s in steps]
    events += [(heads.index(s.actor), f"{printable(s.statement)};  <- blocks") for s in blocked]
    lines += _columns([printable(h) for h in heads], events)
    lines += ["", " *** DEADLOCK ***", ""]
    return "\n".join(lines)


def _columns(heads: list[str], events: list[tuple[int, str]]) -> list[str]:
    """lockdep's scenario table: one column per party, one event per row."""
    width = max([len(h) for h in heads] + [len(t) for _, t in events]) + 4
    pad = lambda i, text: " " * (2 if i == 0 else 7 + width * i) + text
    out = ["       " + "".join(h.ljust(width) for h in heads).rstrip(),
           "       " + "".join(("-" * len(h)).ljust(width) for h in heads).rstrip()]
    out += [pad(i, text) for i, text in events]
    return out
