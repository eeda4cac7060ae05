"""`--format ktap`: results as KTAP version 1, the format kernel CI reads
(Documentation/dev-tools/ktap.rst; `kunit.py parse` reads it too).

One test per spec, named after its file; inside it one subtest per finding
kind that is expected or found (`safe` for a spec that expects and finds
nothing): `ok` when expected and found, `not ok` otherwise.  Each found
kind's finding messages and its shortest trace come as diagnostic lines
(`# ...`) right before that kind's result, as the format asks.  A spec with
bad input is `not ok ... # ERROR file:line:col: message`.
"""
from __future__ import annotations

import os
import re

from ..api import Result
from ..language.errors import SpecError, printable

INDENT = "  "              # one level of KTAP nesting


def _name(path: str) -> str:
    """A test name: the file's stem, without anything KTAP reads specially."""
    stem = os.path.splitext(os.path.basename(path))[0] or path
    return re.sub(r"[#\s]+", "_", printable(stem))


def _diag(text: str) -> str:
    return "# " + printable(text).replace("\n", " ")


def _subtests(r: Result) -> list[str]:
    found = {k for k in r.kinds}
    kinds = sorted(r.expected | found) or ["safe"]
    out = ["KTAP version 1", f"# Subtest: {_name(r.path)}", f"1..{len(kinds)}"]
    base = os.path.basename(r.path)
    for n, kind in enumerate(kinds, 1):
        fs = [f for f in r.findings if f.kind == kind]
        for f in fs:
            out.append(_diag(f"{kind}: {f.message}"))
        if fs:
            first = fs[0]
            parts = [(f"shortest trace of {kind}:", first.trace + first.then)]
            if first.kind == "lock-order":
                parts = [(f"shortest trace creating {e.frm} -> {e.to}:", e.trace) for e in first.cycle]
            for head, steps in parts:
                if steps:
                    out.append(_diag(head))
                for s in steps:
                    where = f"{base}:{s.line}" if s.line else "-"
                    out.append(_diag(f"  {s.step} {s.actor} {where} {s.statement}: {s.effect}"))
            for s in first.blocked:
                out.append(_diag(f"  - {s.actor} {base}:{s.line} {s.statement}: {s.effect}"))
            for w in first.waits_for:
                out.append(_diag(f"  {w}"))
        if kind == "safe":
            good = not found and r.complete
            why = "" if good else f" # {'found ' + ', '.join(sorted(found)) if found else 'incomplete'}"
        else:
            good = (kind in found) == (kind in r.expected)
            why = "" if good else (" # found, not expected" if kind in found else " # expected, not found")
        out.append(f"{'ok' if good else 'not ok'} {n} {kind}{why}")
    return out


def render(items: list) -> str:
    """items: Result or (path, SpecError), in the order the files were named."""
    lines = ["KTAP version 1", f"1..{len(items)}"]
    for n, item in enumerate(items, 1):
        if isinstance(item, Result):
            lines += [INDENT + line for line in _subtests(item)]
            lines.append(_diag(item.verdict()))
            if not item.complete:
                lines.append(_diag(f"incomplete: {item.stopped}"))
            lines.append(f"{'ok' if item.ok else 'not ok'} {n} {_name(item.path)}")
        else:
            path, err = item
            first = err.diagnostics[0] if isinstance(err, SpecError) and err.diagnostics else None
            for d in (err.diagnostics if isinstance(err, SpecError) else []):
                lines.append(_diag(f"{d.path}:{d.line}:{d.col}: error: {d.message}"))
            what = f"{first.path}:{first.line}:{first.col}: {first.message}" if first else str(err)
            lines.append(f"not ok {n} {_name(path)} # ERROR {printable(what).replace(chr(10), ' ')}")
    return "\n".join(lines) + "\n"
