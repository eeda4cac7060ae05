"""Fence hooks and container fences: `on signal F` callbacks, `on enable_signaling F`,
and the fences that signal by themselves (`all`, `any`, `chain`).

A callback runs in the actor whose step signals F, right after that step,
with F's spinlock held and interrupts off (dma_fence_signal() runs the
callback list under spin_lock_irqsave(fence->lock)).  enable_signaling runs
once, in the first actor that would block on F, under the same lock
(__dma_fence_enable_signaling()).  Both are hooks: the actor's stack holds
a `FenceSite` frame while they run, which is what makes the code inside
atomic (`System.atomic_hook`) and what lockdep sees held (F's lock class).

One signal step may make several fences signalled (F and the containers
whose last part, or first for `any`, it was); their callbacks run one
fence after the other.  The stack then holds the signal's pc under one
frame per fence still to run, the running one on top:
(.., signal pc, site(C2), site(C1)).  When C1's hooks end, the next frame
is a FenceSite: C2's hooks start; when it is the signal's pc, the actor goes
on after the signal.
"""
from __future__ import annotations

from ..language.model import Stmt
from .base import DONE, ERRORED, SIGNALLED, Instr

ENABLED = 8     # fence state bit: enable_signaling has run


def fence_class(m, f: int) -> str:
    """The lockdep class of fence f's spinlock: one per declaration, as the
    driver's spin_lock_init() site (arrays share it)."""
    return f"&{m.fences[f].name.split('[')[0]}->lock"


class FenceSite(Instr):
    """A stack frame, never a step: the hooks of one fence are running
    (kind "signal") or, for enable_signaling, they return to `nxt` (the
    wait, which then runs again)."""

    def __init__(self, sys, kind: str, f: int, nxt: int = DONE, stmt=None):
        event = sys.m.fence_event(kind, f)
        super().__init__(sys, stmt or Stmt(kind, 0, event), nxt, 0)
        self.kind, self.fence, self.calls = kind, f, event

    def step(self, s, a):                              # pragma: no cover
        raise AssertionError("a FenceSite is a frame, not a step")


def fire_containers(sys, lst: list, f: int) -> list:
    """After f signalled in lst: signal the containers that now signal by
    themselves (in lst), each with an error if a signalled part had one.
    The containers signalled, parts before containers."""
    FN, out = sys.L.FN, []
    for c in sys.m.containers_of(f):
        if lst[FN + c] & 3:
            continue
        fc = sys.m.fences[c]
        states = [lst[FN + p] & 3 for p in fc.parts]
        if fc.kind == "any" and any(states) or fc.kind != "any" and all(states):
            lst[FN + c] |= ERRORED if ERRORED in states else SIGNALLED
            out.append(c)
    return out


def run_callbacks(sys, lst: list, a: int, site: Instr, fences: list, label: str, found=()):
    """Enter the callbacks of `fences` (each has some) one after the other."""
    frames = tuple(sys.fence_sites["signal"][g] for g in reversed(fences))
    lst[sys.L.STK + a] = lst[sys.L.STK + a] + (site.pc,) + frames
    names = ", ".join(sys.m.fences[g].name for g in fences)
    return sys.move(lst, a, sys.hooks[sys.m.fence_event("signal", fences[0])][0],
                    "; ".join(x for x in (label, f"runs the callbacks of {names}") if x), found)


def callbacks_return(sys, s, a: int, event: str):
    """The end of one fence's callbacks: the next fence's, or back after the signal."""
    stk = s[sys.L.STK + a][:-1]
    lst = list(s)
    top = sys.code[stk[-1]]
    if isinstance(top, FenceSite):
        lst[sys.L.STK + a] = stk
        return sys.move(lst, a, sys.hooks[top.calls][0],
                        f"leaves {event}; runs the callbacks of {sys.m.fences[top.fence].name}")
    lst[sys.L.STK + a] = stk[:-1]
    return sys.move(lst, a, top.nxt, f"leaves {event}")


def enable_first(sys, s, a: int, wait: Instr, pending: list):
    """Before a wait blocks: the fence it waits for now (a resv's first
    unsignalled one, as dma_resv_wait_timeout() waits for one fence after
    the other), or a part of it, whose enable_signaling has not run yet runs
    it, and the wait is tried again.  None when there is none."""
    FN = sys.L.FN
    for f in pending[:1]:
        for g in [f] + sys.m.parts_of(f):
            site = wait.enable_sites.get(g)
            if site is not None and not s[FN + g] & (3 | ENABLED):
                lst = list(s)
                lst[FN + g] |= ENABLED
                lst[sys.L.STK + a] = s[sys.L.STK + a] + (site,)
                return sys.move(lst, a, sys.hooks[sys.code[site].calls][0],
                                f"enables signalling of {sys.m.fences[g].name}")
    return None
