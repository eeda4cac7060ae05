"""`--timeout` and `--max-memory` from the first byte read: one budget per
file, started before the file is read, checked while the model is built (a
tick per statement and per array element) and by the search, so a spec
that is slow or huge to build is stopped like one that is slow to search.
The search's own time is still reported apart (`searched: ... s`)."""
from __future__ import annotations

import contextlib
import contextvars
import time

DEFAULT_DEPTH = 30      # steps the smt engine unrolls to, unless told (`--depth`)

_current: contextvars.ContextVar = contextvars.ContextVar("budget", default=None)


class LimitReached(Exception):
    """A time or memory limit was reached before the search began."""


class Budget:
    def __init__(self, limits):
        if getattr(limits, "distributed", None) is not None:     # --max-memory is per worker then
            from dataclasses import replace
            limits = replace(limits, max_memory_mb=None)
        self.limits = limits
        self.origin = time.monotonic()
        self.ticks = 0

    def check(self, phase: str) -> None:
        from .explorer import _limit_hit
        why = _limit_hit(self.limits, 0, time.monotonic() - self.origin)
        if why:
            raise LimitReached(f"{why} while {phase}")


@contextlib.contextmanager
def running(limits):
    """The budget of one file; nested calls (check_file -> check_source) share the outer one."""
    if _current.get() is not None or limits is None:
        yield _current.get()
        return
    token = _current.set(Budget(limits))
    try:
        yield _current.get()
    finally:
        _current.reset(token)


def origin() -> float | None:
    b = _current.get()
    return b.origin if b is not None else None


def tick(phase: str) -> None:
    b = _current.get()
    if b is not None:
        b.ticks += 1
        if b.ticks & 255 == 0:
            b.check(phase)


def check(phase: str) -> None:
    b = _current.get()
    if b is not None:
        b.check(phase)
