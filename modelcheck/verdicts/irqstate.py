"""Explored acquisitions -> lockdep's hard-irq usage states, and the finding
irq-unsafe-lock (lockdep's "inconsistent lock state").

On every acquisition, lockdep's mark_usage() (kernel/locking/lockdep.c)
marks the lock class with the context it was taken in: LOCK_USED_IN_HARDIRQ
inside a hard-irq handler, LOCK_ENABLED_HARDIRQ with hard interrupts
enabled (the _READ variants for a read acquisition).  mark_lock_irq() then
asks valid_state() whether the class already has the exclusive usage
(exclusive_bit(): the other direction, read stripped), and a write usage
also conflicts with the read one: a class used in hard-irq context and
taken elsewhere with interrupts on is "inconsistent {IN-HARDIRQ-W} ->
{HARDIRQ-ON-W} usage", unless both usages are reads.  It needs no
interleaving that deadlocks: the irq may always land in the thread while it
holds the lock.

Here, from the steps the explorer recorded (`Graph.deps`: the first, hence
shortest, arrival of each lock context at each acquisition), an acquisition
is in hard-irq context when the actor is an irq handler (an `on signal`
callback run from it too), and with interrupts on when it is neither that
nor taken with `irqsave`, nor under a lock taken with `irqsave`, nor in an
`on signal` / `on enable_signaling` hook (irq.py).  `trylock` marks usage
too, as in the kernel.  Only declared lock classes are judged: the fence
locks dma_fence takes itself are always taken with spin_lock_irqsave().
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ..search.explorer import Graph
from ..semantics import HARDIRQ, IRQS_OFF, System, Trylock

IN_IRQ, IRQ_ON = "in hard-irq context", "with interrupts enabled"


@dataclass
class Usage:
    """One acquisition that gave a class a usage: `actor` reached `statement`."""
    cls: str
    usage: str                  # IN_IRQ | IRQ_ON
    mode: str                   # "w" | "r"
    actor: str
    line: int
    statement: str
    src: int
    a: int
    trace: list = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"actor": self.actor, "line": self.line, "statement": self.statement,
                "read": self.mode == "r", "trace": [vars(s) for s in self.trace]}

    def state(self) -> str:
        """lockdep's spelling: IN-HARDIRQ-W, HARDIRQ-ON-R..."""
        return ("IN-HARDIRQ-" if self.usage == IN_IRQ else "HARDIRQ-ON-") + self.mode.upper()


def acquired(sys: System, ins) -> tuple:
    """(class, mode) whose usage lockdep marks at this instruction."""
    if isinstance(ins, Trylock):
        return ((sys.m.locks[ins.l].cls, "r" if ins.shared else "w"),)
    return ins.acquires


def usage_of(held, ins):
    """IN_IRQ, IRQ_ON, or None (interrupts off, outside a handler) for an
    acquisition at `ins` by an actor holding the lock context `held`."""
    if HARDIRQ in held:
        return IN_IRQ
    if IRQS_OFF in held or getattr(ins, "irqsave", False):
        return None
    return IRQ_ON


def usages(sys: System, g: Graph) -> dict:
    """(class, usage, mode) -> the shortest-reached Usage."""
    declared = {lock.cls for lock in sys.m.locks}
    best: dict = {}
    for (held, pc), (src, a) in g.deps.items():
        ins = sys.code[pc]
        usage = usage_of(held, ins)
        if usage is None:
            continue
        for cls, mode in acquired(sys, ins):
            if cls not in declared:
                continue
            key = (cls, usage, mode)
            old = best.get(key)
            if old is None or (g.depth[src], src) < (g.depth[old.src], old.src):
                line, text = sys.where(g.states[src], a)
                best[key] = Usage(cls, usage, mode, sys.actor(a), line, text, src, a)
    return best


def inconsistent(sys: System, g: Graph) -> list[tuple[Usage, Usage]]:
    """One (in-irq, irq-on) pair per class with conflicting usages, the
    shortest-reached pair first choice."""
    found = usages(sys, g)
    out = []
    for cls in dict.fromkeys(k[0] for k in found):
        pairs = [(found[(cls, IN_IRQ, m1)], found[(cls, IRQ_ON, m2)])
                 for m1 in "wr" for m2 in "wr"
                 if (cls, IN_IRQ, m1) in found and (cls, IRQ_ON, m2) in found
                 and not m1 == m2 == "r"]
        if pairs:
            out.append(min(pairs, key=lambda p: max(g.depth[p[0].src], g.depth[p[1].src])))
    return out


def message(irq: Usage, on: Usage) -> str:
    return (f"inconsistent lock state: {irq.cls} is taken in hard-irq context by {irq.actor} "
            f"(line {irq.line}: {irq.statement}) and with interrupts enabled by {on.actor} "
            f"(line {on.line}: {on.statement}): {{{irq.state()}}} -> {{{on.state()}}} usage; "
            f"the irq may land in {on.actor} while it holds {irq.cls} (use irqsave)")


def deadlock_caught(sys: System, run: list[tuple], actors) -> str:
    """Would lockdep, watching this run, have reported an inconsistent lock
    state (the usages the stuck actors marked along it)?  "" if not."""
    declared = {lock.cls for lock in sys.m.locks}
    seen: dict = {}
    for s in run:
        for a in actors:
            pc = s[sys.L.PC + a]
            if pc < 0 or not sys.acquiring[pc]:
                continue
            ins = sys.code[pc]
            usage = usage_of(sys.lock_context(s, a), ins)
            for cls, mode in acquired(sys, ins) if usage else ():
                if cls in declared:
                    seen.setdefault(cls, {}).setdefault(usage, set()).add(mode)
    for cls, marks in seen.items():
        if IN_IRQ in marks and IRQ_ON in marks and \
                not marks[IN_IRQ] == marks[IRQ_ON] == {"r"}:
            return (f"lockdep would report it too: inconsistent lock state on {cls} "
                    "({IN-HARDIRQ-W} -> {HARDIRQ-ON-W} usage)")
    return ""
