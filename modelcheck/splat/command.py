"""`modelcheck splat FILE|- [-o SPEC] [--format text|json]`.

Exit status: 0 the report's cycle (or finding) is reproduced by the
generated model; 1 it is not; 2 no report in the input, an input that
cannot be read, or an output that cannot be written (one line on stderr,
never a traceback); 3 a bug of ours (a generated spec the checker refuses).
"""
from __future__ import annotations

import json
import os
import sys

from ..language.bounds import MAX_INPUT_BYTES
from ..language.errors import SpecError, printable
from . import model, parse, verdict


def _read(path: str) -> str:
    if path == "-":
        data = sys.stdin.buffer.read(MAX_INPUT_BYTES + 1)
    else:
        with open(path, "rb") as f:
            data = f.read(MAX_INPUT_BYTES + 1)
    if len(data) > MAX_INPUT_BYTES:
        raise ValueError(f"larger than {MAX_INPUT_BYTES // 2**20} MiB; cut the log around the report")
    return data.decode("utf-8", errors="replace")


def run(path: str, out: str | None, fmt: str) -> int:
    shown = "<stdin>" if path == "-" else path
    try:
        text = _read(path)
    except (OSError, ValueError) as e:
        print(f"{printable(shown)}: error: cannot read: {printable(getattr(e, 'strerror', None) or str(e))}",
              file=sys.stderr)
        return 2
    try:
        report = parse.parse(text)
    except parse.NoReport as e:
        print(f"{printable(shown)}: error: {e}", file=sys.stderr)
        return 2
    spec = model.generate(report, os.path.basename(shown))
    for w in spec.warnings:
        print(f"{printable(shown)}: warning: {printable(w)}", file=sys.stderr)
    if report.missing:
        print(f"{printable(shown)}: warning: a partial report: the spec is a skeleton of what is there",
              file=sys.stderr)
    try:
        v = verdict.check(report, spec, path=out or "<splat>")
    except SpecError as e:
        if os.environ.get("MODELCHECK_DEBUG"):
            raise
        print(f"{printable(shown)}: internal error: the generated spec is refused:\n{e}\n"
              "  this is a bug in modelcheck splat", file=sys.stderr)
        return 3
    if out:
        try:
            with open(out, "w", encoding="utf-8") as f:
                f.write(spec.text)
        except OSError as e:
            print(f"{printable(out)}: error: cannot write: {e.strerror or e}", file=sys.stderr)
            return 2
    if fmt == "json":
        sys.stdout.write(json.dumps(verdict.as_dict(v), indent=2) + "\n")
    else:
        if not out:
            sys.stdout.write(spec.text + "\n")
        sys.stdout.write(verdict.text(v, out))
    return 0 if v.reproduced else 1
