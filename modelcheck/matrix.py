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
import math
from dataclasses import dataclass, replace

from tabulate import tabulate

from .api import Result, check_file, load
from .language.bounds import MAX_COMBINATIONS, MAX_INT_DIGITS
from .language.errors import Diagnostic, SpecError, printable
from .language.syntax import read
from .search.explorer import Limits


def values(text: str) -> tuple[str, list[int]]:
    """`NAME=1..3` or `NAME=0,2,5` (or both: `NAME=0..2,5`) -> (NAME, [values]).
    The count is checked against MAX_COMBINATIONS before any range is expanded."""
    name, sep, rhs = text.partition("=")
    if not sep or not name.isidentifier():
        raise argparse.ArgumentTypeError(f"-D takes NAME=v1,v2 or NAME=LO..HI, not '{text}'")
    parts = []
    try:
        for part in rhs.split(","):
            lo, dots, hi = part.partition("..")
            parts.append((_int(lo), _int(hi)) if dots else (_int(part), _int(part)))
    except ValueError:
        raise argparse.ArgumentTypeError(f"-D {name}: '{rhs}' is not a list of integers or LO..HI")
    count = sum(max(hi - lo + 1, 0) for lo, hi in parts)
    if count > MAX_COMBINATIONS:
        raise argparse.ArgumentTypeError(f"-D {name}: {count} values; a matrix has at most "
                                         f"MAX_COMBINATIONS = {MAX_COMBINATIONS} rows")
    out: list[int] = []
    for lo, hi in parts:
        out += range(lo, hi + 1)
    if not out:
        raise argparse.ArgumentTypeError(f"-D {name}: the range '{rhs}' is empty")
    return name, list(dict.fromkeys(out))


def _int(text: str) -> int:
    text = text.strip()
    if len(text.lstrip("+-")) > MAX_INT_DIGITS:       # no conversion of a digit bomb
        raise ValueError(text)
    return int(text)


@dataclass
class Row:
    params: dict          # the values set by -D for this row
    result: Result
    checked: bool         # the row has the spec's own param values: expect lines apply


def run(path: str, grid: list[tuple[str, list[int]]], limits=None) -> list[Row]:
    """Check `path` once per combination of the grid, in the order given;
    a search cut short by Ctrl-C ends the matrix at its row."""
    own = load(read(path, (limits or Limits()).max_input_bytes), path).params  # the spec's own values
    names = [n for n, _ in grid]
    if math.prod(len(vs) for _, vs in grid) > MAX_COMBINATIONS:
        raise SpecError([Diagnostic(path, 0, 0, "the grid has " + " x ".join(str(len(vs)) for _, vs in grid)
                                    + f" combinations; at most MAX_COMBINATIONS = {MAX_COMBINATIONS}")])
    rows = []
    for combo in itertools.product(*(vs for _, vs in grid)):
        params = dict(zip(names, combo))
        try:
            result = check_file(path, params, limits)
        except SpecError as e:              # say which row failed
            where = " ".join(f"-D {n}={v}" for n, v in params.items())
            raise SpecError([replace(d, message=f"{d.message} (in the combination {where})")
                             for d in e.diagnostics])
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
