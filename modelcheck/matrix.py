"""`modelcheck matrix SPEC -D NAME=v1,v2 -D N=1..3`: every combination of
param values checked, one row each, so remedies are judged side by side.

`expect` lines are written for one setting of the params, the spec's own
(`param NAME = value`): the row with exactly those values is checked against
them (that is the row `make check` checks too); on the other rows the
expectations say nothing, and the column shows `-`.
"""
from __future__ import annotations

import argparse
import itertools
from dataclasses import dataclass
from pathlib import Path

from tabulate import tabulate

from .api import Result, check_file, load
from .language.errors import Diagnostic, SpecError, printable
from .language.syntax import decode


def values(text: str) -> tuple[str, list[int]]:
    """`NAME=1..3` or `NAME=0,2,5` (or both: `NAME=0..2,5`) -> (NAME, [values])."""
    name, sep, rhs = text.partition("=")
    if not sep or not name.isidentifier():
        raise argparse.ArgumentTypeError(f"-D takes NAME=v1,v2 or NAME=LO..HI, not '{text}'")
    out: list[int] = []
    try:
        for part in rhs.split(","):
            lo, dots, hi = part.partition("..")
            out += range(int(lo), int(hi) + 1) if dots else [int(part)]
    except ValueError:
        raise argparse.ArgumentTypeError(f"-D {name}: '{rhs}' is not a list of integers or LO..HI")
    if not out:
        raise argparse.ArgumentTypeError(f"-D {name}: the range '{rhs}' is empty")
    return name, list(dict.fromkeys(out))


@dataclass
class Row:
    params: dict          # the values set by -D for this row
    result: Result
    checked: bool         # the row has the spec's own param values: expect lines apply


def run(path: str, grid: list[tuple[str, list[int]]], limits=None) -> list[Row]:
    """Check `path` once per combination of the grid, in the order given;
    a search cut short by Ctrl-C ends the matrix at its row."""
    try:
        data = Path(path).read_bytes()
    except OSError as e:
        raise SpecError([Diagnostic(path, 0, 0, f"cannot read: {e.strerror or e}")])
    own = load(decode(data, path), path).params               # the spec's own values
    names = [n for n, _ in grid]
    rows = []
    for combo in itertools.product(*(vs for _, vs in grid)):
        params = dict(zip(names, combo))
        result = check_file(path, params, limits)
        rows.append(Row(params, result, all(own.get(n) == v for n, v in params.items())))
        if result.stopped.startswith("interrupted"):      # Ctrl-C ends the whole matrix
            break
    return rows


def _shortest(result: Result) -> str:
    best: dict = {}
    for f in result.findings:
        n = len(f.trace) + len(f.then)
        best[f.kind] = min(best.get(f.kind, n), n)
    return ", ".join(f"{k} {n}" for k, n in best.items()) or "-"


def table(path: str, rows: list[Row]) -> str:
    names = list(rows[0].params) if rows else []
    body = []
    for row in rows:
        r = row.result
        found = ", ".join(sorted(r.kinds)) or ("safe" if r.complete else "nothing so far")
        if not r.complete:
            found += f" (INCOMPLETE: {r.stopped})"
        verdict = ("ok" if r.ok else "FAIL: expected " + (", ".join(sorted(r.expected)) or "safe")) \
            if row.checked else "-"
        body.append([*row.params.values(), found, r.stats.states, _shortest(r), verdict])
    head = [*names, "found", "states", "shortest trace", "expect lines"]
    title = rows[0].result.title if rows else ""
    text = tabulate([[printable(str(c)) for c in b] for b in body], headers=[printable(h) for h in head],
                    tablefmt="simple", disable_numparse=True)
    return (f"{printable(path)}" + (f" ({printable(title)})" if title else "")
            + f": {len(rows)} combinations\n{text}\n"
            "shortest trace: steps of the shortest trace of each finding kind, up to the stuck actors;"
            " expect lines: checked on the row with the spec's own param values only\n")


def status(rows: list[Row]) -> int:
    """0 unless a row the expect lines apply to does not match them."""
    return 1 if any(row.checked and not row.result.ok for row in rows) else 0
