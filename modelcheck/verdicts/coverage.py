"""Coverage: the statements, `else` bodies and `choose` alternatives that no
explored step executed.

A `safe` verdict says nothing about code that never ran, so every run
reports it.  Items are places in the source (line, column): every copy of an
actor and every call of a `def` share them, and a place counts as run when
any of them ran it.  The explorer records the pcs that took a step and the
pcs that a step moved an actor to; a statement ran when one of its pcs took
a step, a body ran when a step entered its first statement.

Partial-order reduction leaves steps out, so a reduced graph can miss code
that runs; `api` then decides coverage on a search without reduction.
Symmetry needs nothing: a step of one copy stands for the same statement of
every other copy, and copies share their places.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ..semantics import Branch, Choose, System, Trylock, Wait

MAX_SHOWN = 10          # places listed in a table; JSON has them all


@dataclass
class Coverage:
    items: int                                   # places: statements, else bodies, alternatives
    missed: list = field(default_factory=list)   # [(line, col, what, text)], in source order
    complete: bool = True                        # decided on a complete search

    def as_dict(self) -> dict:
        return {"items": self.items, "ran": self.items - len(self.missed),
                "complete": self.complete,
                "never_ran": [{"line": l, "col": c, "what": w, "text": t}
                              for l, c, w, t in self.missed]}

    def lines(self) -> list[str]:
        """What a table says, one line each."""
        if not self.missed:
            return [f"coverage: every statement, else body and choose alternative ran "
                    f"({self.items})"]
        head = f"coverage: {len(self.missed)} of {self.items} never ran" + \
            ("" if self.complete else " (search incomplete: so far)")
        out = [head] + [f"  line {l}: {w} `{t}`" for l, _c, w, t in self.missed[:MAX_SHOWN]]
        if len(self.missed) > MAX_SHOWN:
            out.append(f"  ... and {len(self.missed) - MAX_SHOWN} more (see --format json)")
        return out


def places(sys: System) -> dict:
    """(line, col, what) -> (text, pcs that run it, pcs that enter it)."""
    out: dict = {}

    def add(key, text, ran=(), entered=()):
        _text, r, e = out.setdefault(key, (text, set(), set()))
        r.update(ran)
        e.update(entered)

    for pc, ins in enumerate(sys.code):
        st = ins.stmt
        if st is None or st.col <= 0:                # a job's start, the end of hooks
            continue
        text = st.source or _plain(st.text)
        add((st.line, st.col, "statement"), text, ran=(pc,))
        if isinstance(ins, Branch) and st.op == "if" and len(st.bodies) > 1 and st.bodies[1]:
            add((st.line, st.col, "else body of"), text, entered=(ins.nxt,))
        elif isinstance(ins, (Trylock, Wait)) and st.bodies and st.bodies[0] \
                and getattr(ins, "else_pc", None) is not None:
            add((st.line, st.col, "else body of"), text, entered=(ins.else_pc,))
        elif isinstance(ins, Choose):
            for i, (body, target) in enumerate(zip(st.bodies, ins.targets)):
                add((st.line, st.col, f"alternative {i + 1} of"), text, entered=(target,))
    return out


def compute(sys: System, g) -> Coverage:
    found = places(sys)
    missed = [(l, c, w, text) for (l, c, w), (text, ran, entered) in found.items()
              if not (ran & g.ran or entered & g.entered)]
    missed.sort(key=lambda m: (m[0], m[1], m[2] != "statement", m[2]))
    return Coverage(len(found), missed, not g.stopped)


def places_count(n: int) -> str:
    return f"{n} place" + ("" if n == 1 else "s")


def _plain(text: str) -> str:
    """A statement's text without the call it was inlined through."""
    return text.split("  (in ", 1)[0]
