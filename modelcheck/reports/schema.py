"""`modelcheck schema`: the JSON Schema (draft 2020-12) of `--format json`.

Every JSON document modelcheck writes carries `schema_version`.  The promise
(README, "JSON schema"): within one major version a field is never removed,
renamed or given another type, and a value never changes meaning; new fields
and new finding kinds may appear in a minor version, so a reader must ignore
fields it does not know.  A change that breaks a reader bumps the major.
"""
from __future__ import annotations

import json

from ..language.model import EXPECT_KINDS, FINDING_KINDS

SCHEMA_VERSION = "1.0"
SCHEMA_ID = f"https://modelcheck.invalid/schema/{SCHEMA_VERSION.split('.')[0]}/check.json"


def _obj(required: dict, optional: dict | None = None) -> dict:
    props = {**required, **(optional or {})}
    return {"type": "object", "properties": props, "required": sorted(required)}


_STR, _INT, _BOOL, _NUM = ({"type": "string"}, {"type": "integer"}, {"type": "boolean"},
                           {"type": "number"})
_STRINGS = {"type": "array", "items": _STR}
_MAP = {"type": "object", "additionalProperties": _STR}


def schema() -> dict:
    kind = {"enum": list(FINDING_KINDS)}
    expected = {"type": "array", "items": {"enum": list(EXPECT_KINDS)}, "uniqueItems": True}
    step = _obj({"step": {"type": "integer", "minimum": 0,
                          "description": "1-based step number; 0 for an actor's blocked position"},
                 "actor": _STR, "line": {"type": "integer", "minimum": 0}, "statement": _STR,
                 "effect": {"type": "string", "description": "what the step changed, as in the tables"}})
    steps = {"type": "array", "items": {"$ref": "#/$defs/step"}}
    edge = _obj({"from": _STR, "to": _STR, "actor": _STR, "line": _INT},
                {"statement": _STR, "trace": steps})
    finding = _obj(
        {"kind": kind, "message": _STR, "trace": steps, "then": steps, "blocked": steps,
         "final_state": {"$ref": "#/$defs/state"}, "waits_for": _STRINGS},
        {"cycle": {"type": "array", "items": {"$ref": "#/$defs/edge"},
                   "description": "lock-order: the chain lockdep would print, each edge with its trace"},
         "lockdep": {"type": "string", "description": "deadlock: whether lockdep would have reported it"},
         "held": {"type": "array", "items": {"type": "object"},
                  "description": "step findings: the locks the actor holds, in the order taken "
                  "(instance, class, mode, line, statement)"},
         "usage": {"$ref": "#/$defs/usage"}})
    acquisition = _obj({"actor": _STR, "line": _INT, "statement": _STR, "read": _BOOL,
                        "trace": steps})
    usage = _obj({"class": _STR, "in_irq": acquisition, "irq_on": acquisition,
                  "states": _STRINGS})
    usage["description"] = ("irq-unsafe-lock: the lock class, its acquisition in hard-irq "
                            "context and one with interrupts enabled, each with its shortest "
                            "trace; states as lockdep spells them (IN-HARDIRQ-W, HARDIRQ-ON-W)")
    state = _obj({"actors": _MAP, "locks": _MAP, "fences": _MAP, "engines": _MAP,
                  "vars": {"type": "object", "additionalProperties": _INT}},
                 {"interrupt_waits": _STR, "workqueues": _MAP})
    stats = _obj({"states": _INT, "transitions": _INT, "depth": _INT, "seconds": _NUM,
                  "lock_classes": _INT, "lock_deps": _INT, "z3_seconds": _NUM},
                 {"reduction": _STR, "researched": _BOOL, "symmetry": _STR, "core": _STR})
    lock_order = _obj({"status": {"enum": ["proved", "cycle", "incomplete"]},
                       "order": _STRINGS, "edges": {"type": "array", "items": {"$ref": "#/$defs/edge"}},
                       "cycle": {"type": "array", "items": {"$ref": "#/$defs/edge"}},
                       "cycles": _INT})
    place = _obj({"line": _INT, "col": _INT, "text": _STR,
                  "what": {"type": "string", "description": "statement, else body of, "
                           "alternative N of"}})
    coverage = _obj({"items": _INT, "ran": _INT, "complete": _BOOL,
                     "never_ran": {"type": "array", "items": place}})
    file = _obj(
        {"path": _STR, "title": _STR, "ok": {"type": "boolean",
                                             "description": "the findings equal the expect lines"},
         "expected": expected, "found": expected, "complete": _BOOL, "stopped": _STR,
         "params": {"type": "object", "additionalProperties": _INT},
         "findings": {"type": "array", "items": {"$ref": "#/$defs/finding"}},
         "stats": {"$ref": "#/$defs/stats"},
         "lock_order": {"oneOf": [{"$ref": "#/$defs/lock_order"}, {"type": "null"}]},
         "engine": {"enum": ["explicit", "smt", "swarm"]}},
        {"bound": {"type": ["integer", "null"]}, "proved": _STRINGS,
         "coverage": {"oneOf": [{"$ref": "#/$defs/coverage"}, {"type": "null"}],
                      "description": "the places no explored step ran (null: smt engine)"},
         "looked_for": {"type": "array", "items": kind},
         "mode": {"enum": ["full", "early"],
                  "description": "explicit engine: early = early-bug mode (--early): stopped at the "
                                 "first finding a step or a stuck state shows, when complete is false"},
         "swarm": {"type": "object",
                   "description": "swarm engine: runs, distinct states summed over runs, how each "
                                  "run ended, how each trace was shortened; never a proof"},
         "variants": {"type": "array", "items": {"$ref": "#/$defs/finding"},
                      "description": "findings of the same root cause as one in findings"}})
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "modelcheck check --format json",
        "description": "One document for all the files checked.  Readers must ignore fields "
                       "they do not know: minor versions add fields and finding kinds.",
        "type": "object",
        "properties": {
            "schema_version": {"type": "string", "pattern": r"^1\.[0-9]+$",
                               "description": f"this schema: {SCHEMA_VERSION}"},
            "files": {"type": "array", "items": {"$ref": "#/$defs/file"}},
        },
        "required": ["schema_version", "files"],
        "$defs": {"file": file, "finding": finding, "step": step, "state": state, "edge": edge,
                  "stats": stats, "lock_order": lock_order, "coverage": coverage, "usage": usage},
    }


def main() -> int:
    print(json.dumps(schema(), indent=2))
    return 0
