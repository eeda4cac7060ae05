"""Results -> SARIF 2.1.0, the format CI code-scanning views read.

One result per finding, at the spec line of its decisive step (see
`decisive`), with the whole trace as a code flow; a kind that the spec
expects but that was not found is a result at its `expect` line. Rule ids
are the finding kinds, and their help is `modelcheck explain KIND`. Bad
input and runs cut short are notifications of the invocation.
"""
from __future__ import annotations

import re

from .. import __version__

from . import escape, explain
from ..api import Result
from ..language.errors import Source, SpecError
from ..language.model import FINDING_KINDS
from ..language.syntax import read

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"


def decisive(finding):
    """The step a reader should look at first: where the actors are stuck
    (the `-` rows), else the step that produced the finding, else None (a
    finding in the initial state)."""
    if finding.blocked:
        return finding.blocked[0]
    steps = finding.then or finding.trace
    return steps[-1] if steps else None


def _uri(path: str) -> str:
    return escape.uri(path)


def _location(path: str, line: int, text: str = "") -> dict:
    loc = {"physicalLocation": {"artifactLocation": {"uri": _uri(path)},
                                "region": {"startLine": max(line, 1)}}}
    if text:
        loc["message"] = {"text": text}
    return loc


def _expect_line(path: str, kind: str) -> int:
    """The line of `expect ... KIND`, for an expected kind that was not found."""
    try:
        lines = Source(path, read(path)).lines
    except SpecError:
        return 1
    for n, line in enumerate(lines, 1):
        words = re.split(r"[\s,]+", line.split("#")[0].strip())
        if words and words[0] == "expect" and kind in words[1:]:
            return n
    return 1


def _result(r: Result, f) -> dict:
    step = decisive(f)
    line = step.line if step and step.line else f.line or 1
    flow = [{"location": _location(r.path, s.line or 1, f"{s.actor}: {s.statement} ({s.effect})")}
            for s in f.trace + f.then + f.blocked]
    out = {"ruleId": f.kind, "ruleIndex": FINDING_KINDS.index(f.kind),
           "level": "note" if f.kind in r.expected else "error",
           "message": {"text": f.message + ("" if f.kind in r.expected else
                                             " (not expected by the spec)")},
           "locations": [_location(r.path, line)]}
    if flow:
        out["codeFlows"] = [{"threadFlows": [{"locations": flow}]}]
    if f.waits_for:
        out["properties"] = {"waitsFor": f.waits_for}
    return out


def as_sarif(results: list[Result], errors: list = ()) -> str:
    """The log of one run; `errors` are the SpecErrors of files with bad
    input, which become error notifications at their file:line:col."""
    rules = [{"id": k, "name": k, "shortDescription": {"text": explain.KINDS[k].summary},
              "fullDescription": {"text": explain.KINDS[k].meaning},
              "help": {"text": explain.text(k), "markdown": explain.markdown(k)},
              "defaultConfiguration": {"level": "error"}} for k in FINDING_KINDS]
    out, notes = [], []
    for r in results:
        out += [_result(r, f) for f in r.findings]
        if r.complete:
            for k in sorted(r.expected - r.kinds):
                out.append({"ruleId": k, "ruleIndex": FINDING_KINDS.index(k), "level": "error",
                            "message": {"text": f"the spec expects {k}, but it was not found"},
                            "locations": [_location(r.path, _expect_line(r.path, k))]})
        else:
            notes.append({"level": "warning", "message": {
                "text": f"{r.path}: INCOMPLETE: {r.stopped}; no absence of findings is claimed"},
                "locations": [_location(r.path, 1)]})
    for err in errors:
        for d in err.diagnostics:
            loc = _location(d.path, d.line)
            if d.line > 0:
                loc["physicalLocation"]["region"]["startColumn"] = max(d.col, 1)
            notes.append({"level": "error", "message": {"text": d.message}, "locations": [loc]})
    run = {"tool": {"driver": {"name": "modelcheck", "version": __version__, "rules": rules}},
           "invocations": [{"executionSuccessful": not errors,
                            "toolExecutionNotifications": notes}],
           "results": out}
    return escape.dumps({"$schema": SCHEMA, "version": "2.1.0", "runs": [run]})
