"""Checked model -> compiled transitions.  The meaning of every statement
lives here, once: each statement compiles to one `Instr` whose `step` gives
the outcomes of executing it as one atomic step (none = blocked).

A state is one flat tuple (see `Layout`):
  pc[a]      program counter of actor a (DONE when finished)
  stack[a]   call sites of the hooks a is running (a tuple of pcs)
  lock[l]    0 free, -(a+1) held exclusively by a, >0 bitmask of readers
  fence[f]   0 unsignalled, 1 signalled, 2 signalled with error, +4 published
  resv[r]    bitmask of the fences in r's list
  engine[e]  sorted tuple of the actors holding one of its slots
  var[v]     value
  irq        1 while `interrupt_waits` is in force
  wq[q]      the pending work items of workqueue q, in queueing order
  irq_on[h]  the actor irq handler h runs in (interrupted), or -1
  irq_off[a] mask of the locks a holds taken with irqsave (interrupts off)
  held[a]    what a holds in the order it took it (`held_token`s), for lockdep
  flush[a]   the work runs a flush of a's waits for (only with flushes)
Control flow is compiled away: an instruction knows the pc(s) it moves to.

One module per family of statements (locks, fences, memory, engines,
control); `system.py` compiles statements into them and holds the state
helpers they share.
"""

from .base import DONE, ERRORED, MEMALLOC, NOFS, PUBLISHED, SIGNALLED, Instr, Layout
from .locks import Lock, Trylock, Unlock, WwBegin, WwEnd
from .fences import Signal, Wait, Woken, WaitAny, Publish, Interrupt
from .memory import Alloc, MmapWriter, Fault, HookReturn
from .engines import Start, Acquire, Release
from .control import Assign, Await, Assert, Branch, Choose, Jump
from .work import WorkStart, QueueWork, FlushWork, FlushWait, CancelWork, CancelWait, FlushWorkqueue
from .irq import HARDIRQ, IRQS_OFF, IrqFire
from .system import System

__all__ = ["DONE", "ERRORED", "MEMALLOC", "PUBLISHED", "SIGNALLED", "Instr", "Layout",
           "Lock", "Trylock", "Unlock", "Signal", "Wait", "Woken", "WaitAny", "Publish",
           "Interrupt", "Alloc", "MmapWriter", "Fault", "HookReturn", "Start", "Acquire",
           "Release", "Assign", "Await", "Assert", "Branch", "Choose", "Jump", "System",
           "NOFS", "WorkStart", "QueueWork", "FlushWork", "FlushWait", "CancelWork", "CancelWait",
           "FlushWorkqueue", "WwBegin", "WwEnd", "HARDIRQ", "IRQS_OFF", "IrqFire"]
