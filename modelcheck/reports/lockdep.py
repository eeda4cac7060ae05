"""Findings -> text in the shape the kernel prints, for `--format lockdep`.

Lock-order cycles read as lockdep's "possible circular locking dependency
detected" / "possible recursive locking detected" (kernel/locking/lockdep.c:
print_circular_bug(), print_deadlock_bug()): the acquisition being attempted
at `-> #0`, the chain above it numbered downwards, lockdep's CPU0/CPU1
scenario with `rlock` for read acquisitions, and "N locks held by T/ID:".
Where lockdep prints a lock's address, a stack and a pid, this prints the
lock instance, the spec line, and the actor's number.  `sleep-in-atomic`
reads as "BUG: sleeping function called from invalid context" (__might_resched()),
`irq-unsafe-lock` as "inconsistent lock state" (print_usage_bug()).

Deadlocks have no lockdep splat: they are printed in the same frame, with
the real shortest interleaving the explorer found in place of lockdep's
synthetic scenario, one column per actor.
"""
from __future__ import annotations

import os

from ..api import Result
from ..language.errors import printable
from ..verdicts.lockorder import BOOT, PSEUDO


def render(result: Result) -> str:
    base = printable(os.path.basename(result.path))
    ids = _ids(result)
    out = []
    for f in result.findings:
        if f.kind == "lock-order":
            out.append(_cycle(result, f, base, ids))
        elif f.kind == "deadlock":
            out.append(_deadlock(result, f, base))
        elif f.kind == "sleep-in-atomic":
            out.append(_sleep(result, f, base, ids))
        elif f.kind == "irq-unsafe-lock":
            out.append(_inconsistent(result, f, base, ids))
    if not out:
        verdict = result.lock_order.words() if result.lock_order else ""
        out.append(f"{printable(result.path)}: no lockdep splat; {printable(verdict)}")
    if not result.complete:
        out.insert(0, f"{printable(result.path)}: INCOMPLETE: {printable(result.stopped)}; what follows"
                      " is what was found so far, and no absence of others is claimed")
    return "\n".join(out) + "\n"


def _ids(result: Result) -> dict:
    """A stable number per actor, as lockdep prints `comm/pid`: the order in
    which actors first appear in the findings' traces."""
    ids: dict = {}
    for f in result.findings:
        for s in list(f.trace) + list(f.then) + list(f.blocked):
            ids.setdefault(s.actor, len(ids) + 1)
        for e in f.cycle:
            if e.actor != BOOT:
                ids.setdefault(e.actor, len(ids) + 1)
    return ids


def _task(actor: str, ids: dict) -> str:
    return f"{printable(actor)}/{ids.setdefault(actor, len(ids) + 1)}"


def _banner(title: str, result: Result) -> list[str]:
    name = printable(result.path) + (f" ({printable(result.title)})" if result.title else "")
    return ["=" * len(title), title, name, "-" * len(title)]


def _lock(instance: str, cls: str) -> str:
    """lockdep's `address (class)`: the instance stands where the address is."""
    inst = printable(instance)
    return f"({printable(cls)})" if not instance or instance == cls else f"{inst} ({printable(cls)})"


def _at(base: str, line: int, statement: str) -> str:
    return f"at: {base}:{line} {printable(statement)}" if line else f"at: {printable(statement)}"


def _held(actor: str, held: list, base: str, ids: dict) -> list[str]:
    """lockdep_print_held_locks()."""
    n = len(held)
    if not n:
        return [f"no locks held by {_task(actor, ids)}."]
    out = [f"{n} lock{'s' if n > 1 else ''} held by {_task(actor, ids)}:"]
    for i, h in enumerate(held):
        read = " (read)" if h.get("mode") == "r" else ""
        out.append(f" #{i}: {_lock(h['instance'], h['class'])}{read}, "
                   f"{_at(base, h.get('line', 0), h.get('statement', ''))}")
    return out


def _attempted(cycle: list):
    """The acquisition lockdep would be looking at: the cycle's first edge
    (lockorder reports the cycle as lockdep chooses it, the attempted
    acquisition first); a spec edge in any case, never a boot one."""
    if cycle and cycle[0].actor != BOOT:
        return 0
    spec = [i for i, e in enumerate(cycle) if e.actor != BOOT]
    return max(spec, key=lambda i: (len(cycle[i].trace), i)) if spec else len(cycle) - 1


def _cycle(result: Result, f, base: str, ids: dict) -> str:
    k = _attempted(f.cycle)
    # rotate so that the attempted acquisition (held B -> new A) is last:
    # the chain then runs A -> X1 -> ... -> B, and lockdep's #i is X_i
    cycle = f.cycle[k + 1:] + f.cycle[:k + 1]
    now = cycle[-1]
    recursive = len(cycle) == 1
    title = "WARNING: possible recursive locking detected" if recursive else \
        "WARNING: possible circular locking dependency detected"
    held = now.held or []
    prev = next((h for h in reversed(held) if h["class"] == now.frm),
                {"instance": now.frm, "class": now.frm, "mode": "w", "line": 0, "statement": ""})
    lines = _banner(title, result)
    lines += [f"{_task(now.actor, ids)} is trying to acquire lock:",
              f"  {_lock(now.instance or now.to, now.to)}, "
              f"{_at(base, now.line, now.statement)}", "",
              "but task is already holding lock:",
              f"  {_lock(prev['instance'], prev['class'])}, "
              f"{_at(base, prev.get('line', 0), prev.get('statement', ''))}", ""]
    if not recursive:
        lines += ["which lock already depends on the new lock.", "", "",
                  "the existing dependency chain (in reverse order) is:", ""]
        n = len(cycle)
        for i in range(n - 1, -1, -1):
            e = cycle[i - 1] if i else now          # #i is taken by the edge into it
            lines.append(f"-> #{i} {_lock(e.instance or e.to, e.to)}:")
            if e.actor == BOOT:
                lines.append("       primed at boot by dma_resv_lockdep()")
            else:
                lines.append(f"       {printable(e.statement)}")
                lines.append(f"       {base}:{e.line} by "
                             f"{_task(e.actor, ids)}, holding {printable(e.frm)}{PSEUDO.get(e.frm, '')}")
                lines.append(f"       (shortest trace: {_steps(e.trace)}; see --format table)")
            lines.append("")
    lines += ["other info that might help us debug this:", ""]
    if recursive:
        lines += [" Possible unsafe locking scenario:", "",
                  "       CPU0", "       ----",
                  f"  {_verb(prev.get('mode'))}({printable(now.frm)});",
                  f"  {_verb(now.mode)}({printable(now.to)});", "",
                  " *** DEADLOCK ***", "",
                  " May be due to missing lock nesting notation"]
        hint = _nesting_hint(now, prev)
        lines += [hint, ""] if hint else [""]
    else:
        source, target = cycle[0].frm, now.frm        # A (wanted), B (held)
        parent = cycle[-2].frm                        # the lock before B on the chain
        if parent != source:
            lines += ["Chain exists of:",
                      f"  {printable(source)} --> {printable(parent)} --> {printable(target)}", ""]
        lines += [" Possible unsafe locking scenario:", "",
                  "       CPU0                    CPU1",
                  "       ----                    ----",
                  f"  {_verb(prev.get('mode'))}({printable(target)});",
                  f"{'':31}lock({printable(parent)});",
                  f"{'':31}lock({printable(target)});",
                  f"  {_verb(now.mode)}({printable(source)});", "",
                  " *** DEADLOCK ***", ""]
    lines += _held(now.actor, held, base, ids)
    boot = [e for e in cycle if e.actor == BOOT]
    if boot:
        lines += ["", "the chain uses the orders primed at boot by dma_resv_lockdep(): " +
                  ", ".join(f"{printable(e.frm)} -> {printable(e.to)}" for e in boot)]
    return "\n".join(lines) + "\n"


def _verb(mode) -> str:
    return "rlock" if mode == "r" else "lock"


def _nesting_hint(now, prev: dict) -> str:
    """Only the notation that would fix it: a ww context for resv objects,
    `lock L nested` for two locks of one class; nothing when it is the same
    lock taken twice (a real self-deadlock: no annotation helps)."""
    same = (now.instance or now.to) == prev.get("instance")
    if same and now.mode != "r":
        return " (here: the same lock taken twice: a real self-deadlock, no annotation helps)"
    if now.to == "resv":
        return " (here: take them in one ww context: `lock R1, R2`, or a `ww { }` block)"
    if not same:
        return " (here: two locks of one class: `lock L nested` if the order is fixed)"
    return ""


def _sleep(result: Result, f, base: str, ids: dict) -> str:
    """__might_resched()'s report: the actor reaches a statement that may
    sleep while it holds a spinlock (or runs a fence callback, irqs off)."""
    actor = f.at.get("actor") or (f.trace[-1].actor if f.trace else "?")
    spins = [h for h in f.held if h.get("kind") == "spinlock"]
    irqs_off = int(any(h["class"].startswith("&") or "irqsave" in h.get("statement", "")
                       for h in spins))
    lines = [f"BUG: sleeping function called from invalid context at "
             f"{base}:{f.at.get('line', 0)} ({printable(f.at.get('statement', ''))})",
             f"in_atomic(): 1, irqs_disabled(): {irqs_off}, non_block: 0, "
             f"pid: {ids.setdefault(actor, len(ids) + 1)}, name: {printable(actor)}",
             f"preempt_count: {max(len(spins), 1)}, expected: 0",
             "RCU nest depth: 0, expected: 0"]
    lines += _held(actor, f.held, base, ids)
    lines += [f"({printable(f.message)}; shortest trace: {_steps(f.trace)}, see --format table)"]
    return "\n".join(lines) + "\n"


def _steps(trace: list) -> str:
    return f"{len(trace)} step{'' if len(trace) == 1 else 's'}"


def _inconsistent(result: Result, f, base: str, ids: dict) -> str:
    """print_usage_bug(): a lock class used both in hard-irq context and with
    interrupts enabled.  `f.usage` has both acquisitions and lockdep's state
    names, the one registered first first; the task that "takes" is the other."""
    u = f.usage or {}
    cls = u.get("class") or _class_of(f.trace[-1] if f.trace else None)
    states = u.get("states") or ["HARDIRQ-ON-W", "IN-HARDIRQ-W"]
    new = u.get("irq_on" if states[-1].startswith("HARDIRQ-ON") else "in_irq") or {}
    old = u.get("in_irq" if new is u.get("irq_on") else "irq_on") or {}
    actor = new.get("actor") or (f.trace[-1].actor if f.trace else "?")
    in_irq = new is u.get("in_irq")
    title = "WARNING: inconsistent lock state"
    lines = _banner(title, result)
    lines += [f"inconsistent {{{states[0]}}} -> {{{states[-1]}}} usage.",
              f"{_task(actor, ids)} [HC{int(in_irq)}[{int(in_irq)}]:SC0[0]:HE{int(not in_irq)}:SE1] takes:",
              f"  {_lock(cls, cls)}, {_at(base, new.get('line', 0), new.get('statement', ''))}",
              f"{{{states[0]}}} state was registered at:",
              f"  {_task(old.get('actor', '?'), ids)} {_at(base, old.get('line', 0), old.get('statement', ''))}",
              "", "other info that might help us debug this:",
              " Possible unsafe locking scenario:", "",
              "       CPU0", "       ----",
              f"  lock({printable(cls)});", "  <Interrupt>", f"    lock({printable(cls)});", "",
              " *** DEADLOCK ***", ""]
    if f.at.get("actor") == actor:         # the held locks are known for the finding's own actor
        lines += _held(actor, f.held, base, ids) + [""]
    lines += [f"({printable(f.message)}; shortest trace: {_steps(f.trace)}, see --format table)"]
    return "\n".join(lines) + "\n"


def _class_of(step) -> str:
    """The lock a `lock X ...` statement names."""
    if step is None:
        return "?"
    words = step.statement.replace(",", " ").split()
    return words[1] if len(words) > 1 and words[0] in ("lock", "trylock") else step.statement


def _deadlock(result: Result, f, base: str) -> str:
    lines = _banner("WARNING: circular wait: the explorer found a deadlock", result)
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
