"""Hard-irq handlers (`irq NAME { }`) and spin_lock_irqsave.

An irq handler is an actor of its own (`Actor.kind == "irq"`) whose body
runs once.  Its pc is its `IrqFire` until it fires, a pc of its body while
it runs, DONE once it has returned.  It fires at any moment, at most once:

- inline in a thread (or a started job, or a running work item) whose interrupts are on: that
  thread is interrupted (`Layout.IRQ_ON[h]` names it) and does not move
  until the handler returns.  What it holds stays held, so a handler that
  spins on a lock its own thread holds never gets it: a deadlock of both;
- on a CPU of its own, beside everyone, when no thread can take it: every
  thread and work item has finished, is idle, is interrupted already, or
  runs with interrupts off.  "No thread is running" in the contract means
  this: no CPU runs a thread the interrupt could land in.  (A thread that
  sleeps with interrupts on can take it: its CPU is the one that is free.)

Interrupts are off in a thread that holds a lock taken with `irqsave`
(`Layout.IRQ_OFF[a]`: the mask of those locks), in an `on signal` callback or
`on enable_signaling` hook (dma_fence runs them under spin_lock_irqsave of
the fence lock), and in an irq handler itself (handlers never nest).
A job counts as a thread once it has started (its statements are CPU code
of the driver, as everywhere in the model).

For lockdep (`System.lock_context`) an irq handler's context starts empty:
the locks of the thread it interrupted are not its own, so its acquisitions
record no dependency from them (the walk stops at the change of context),
and it carries the HARDIRQ marker that the irq-unsafe-lock verdict reads.
"""
from __future__ import annotations

from ..language.model import Stmt
from .base import DONE, Instr

HARDIRQ = ("in hard-irq context", "")          # lock-context markers (mode "": no class)
IRQS_OFF = ("with interrupts off", "")


class IrqFire(Instr):
    """The handler fires: inline in each thread that can take it, or, when
    none can, on a CPU of its own."""

    def __init__(self, sys, actor, nxt):
        super().__init__(sys, Stmt("irq", actor.line, f"irq {actor.name}"), nxt, 0)
        self.h = None                      # index among the handlers, set by System

    def step(self, s, a):
        sys = self.sys
        hosts = sys.irq_hosts(s)
        outs = []
        for b in hosts:
            lst = list(s)
            lst[sys.L.IRQ_ON + self.h] = b
            outs.append(self.move(s, a, self.nxt, f"interrupts {sys.actor(b)}", lst=lst))
        if not hosts:
            outs.append(self.move(s, a, self.nxt, "fires on a CPU of its own"))
        return outs


def irqs_off(sys, s, a: int) -> bool:
    """Does actor a run with interrupts disabled?"""
    if sys.m.actors[a].kind == "irq":
        return True
    return bool(s[sys.L.IRQ_OFF + a]) or sys.atomic_hook(s, a) is not None


def can_host(sys, s, b: int, hosted) -> bool:
    """Can an interrupt land in actor b now?"""
    actor = sys.m.actors[b]
    pc = s[sys.L.PC + b]
    if actor.kind == "irq" or pc == DONE or b in hosted:
        return False
    if actor.kind in ("work", "job") and pc == sys.starts[b]:  # not started yet
        return False
    return not irqs_off(sys, s, b)
