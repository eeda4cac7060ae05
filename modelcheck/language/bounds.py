"""The sizes a spec may ask for, in one place (docs/language.md, "Bounds").

Every size the model builder allocates is checked against these numbers
before anything is allocated, so hostile input is a positioned error naming
the bound (exit 2), never minutes of building or gigabytes of memory before
the search limits even apply.  Real designs stay far below all of them.
"""
from __future__ import annotations

MAX_INPUT_BYTES = 4 * 2**20   # a spec file; `--max-input MB` raises it
MAX_INT_DIGITS = 18           # an integer literal, in decimal digits
MAX_INT = 2**31 - 1           # any constant: literals, params, folded expressions, var ranges
MAX_ELEMENTS = 4096           # elements of one array declaration
MAX_OBJECTS = 16384           # locks, resvs, fences, engines and vars, all arrays expanded
MAX_COPIES = 256              # copies of one actor declaration
MAX_ACTORS = 1024             # threads and jobs, copies expanded
MAX_STATEMENTS = 50_000       # statements of all actors and hooks, copies expanded
MAX_NESTING = 100             # blocks inside blocks (an `else if` is one more level)
MAX_TREE_DEPTH = 400          # any nesting, e.g. of parentheses
MAX_COMBINATIONS = 10_000     # rows of one `modelcheck matrix` grid


def describe() -> str:
    """The bounds as the docs list them."""
    return "\n".join(f"{k} = {v}" for k, v in globals().items() if k.startswith("MAX_"))
