"""Control: vars, conditions, choices and jumps."""
from __future__ import annotations

from .base import DONE, Instr


class Assign(Instr):
    def __init__(self, sys, stmt, nxt, sig):
        super().__init__(sys, stmt, nxt, sig)
        self.value = sys.expr(stmt.expr)

    def step(self, s, a):
        sys, v = self.sys, self.stmt.objs[0]
        var = sys.m.vars[v]
        x = self.value(s)
        found = ()
        if not var.lo <= x <= var.hi:
            found = (("assert", (self.pc, "range"),
                      f"{sys.actor(a)} sets {var.name} = {x}, outside its range {var.lo}..{var.hi} "
                      f"(line {self.stmt.line}); the value is clamped"),)
            x = min(max(x, var.lo), var.hi)
        lst = list(s)
        lst[sys.L.VR + v] = x
        return [self.move(s, a, self.nxt, lst=lst, found=found)]


class Await(Instr):
    def __init__(self, sys, stmt, nxt, sig):
        super().__init__(sys, stmt, nxt, sig)
        self.cond = sys.expr(stmt.expr)

    def step(self, s, a):
        return [self.move(s, a, self.nxt, "condition holds")] if self.cond(s) else []

    def blocked_on(self, s, a):
        return [("cond", self.stmt.text)]


class Assert(Instr):
    """assert expr: a failure is reported and the actor goes on (as WARN_ON)."""

    def __init__(self, sys, stmt, nxt, sig):
        super().__init__(sys, stmt, nxt, sig)
        self.cond = sys.expr(stmt.expr)

    def step(self, s, a):
        if self.cond(s):
            return [self.move(s, a, self.nxt)]
        return [self.move(s, a, self.nxt, "assertion fails", found=(
            ("assert", (self.pc,), f"{self.stmt.text} fails in {self.sys.actor(a)} "
                                          f"(line {self.stmt.line})"),))]


class Branch(Instr):
    """if / while: evaluating the condition is one step."""

    def __init__(self, sys, stmt, nxt, sig, then_pc=DONE):
        super().__init__(sys, stmt, nxt, sig)
        self.cond = sys.expr(stmt.expr)
        self.then_pc = then_pc

    def next_pcs(self):
        return (self.nxt, self.then_pc)

    def step(self, s, a):
        if self.cond(s):
            return [self.move(s, a, self.then_pc, "condition true")]
        return [self.move(s, a, self.nxt, "condition false")]


class Choose(Instr):
    def __init__(self, sys, stmt, nxt, sig, targets):
        super().__init__(sys, stmt, nxt, sig)
        self.targets = targets

    def next_pcs(self):
        return tuple(self.targets)

    def step(self, s, a):
        return [self.move(s, a, pc, f"takes branch {i + 1}{self._first(body)}")
                for i, (pc, body) in enumerate(zip(self.targets, self.stmt.bodies))]

    @staticmethod
    def _first(body) -> str:
        """The branch named by its first statement, so nobody counts `or` blocks."""
        return f" ({body[0].text}, line {body[0].line})" if body else " (empty)"


class Jump(Instr):
    """restart (back to the actor's first statement) and return."""

    def step(self, s, a):
        return [self.move(s, a, self.nxt, "restarts" if self.stmt.op == "restart" else "returns")]
