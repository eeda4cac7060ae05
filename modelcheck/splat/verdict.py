"""Check a generated spec and say what it shows: is the report's cycle the
model's lockdep cycle, and can the contexts really deadlock?"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Optional

from ..api import Result, check_source
from ..reports import report as rep
from ..verdicts.lockorder import BOOT
from . import parse as P
from .model import Spec


@dataclass
class Verdict:
    report: P.Report
    spec: Spec
    result: Result
    cycle_classes: list            # the model's cycle, in the report's names and print order
    reproduced: bool
    lines: list = field(default_factory=list)   # the text verdict, one sentence a line


def report_order(cycle: list) -> list[str]:
    """A lockorder cycle (the attempted edge B -> A first) in lockdep's print
    order: `-> #N` (B) first, down to `#0` (A).  Edge i's target is `#i`."""
    return [e.to for e in reversed(cycle)]


def _rotations_equal(a: list, b: list) -> bool:
    if len(a) != len(b):
        return False
    if not a:
        return True
    return any(a[k:] + a[:k] == b for k in range(len(a)))


def check(report: P.Report, spec: Spec, path: str = "<splat>") -> Verdict:
    result = check_source(spec.text, path=path)
    names = spec.names
    cycle_classes: list = []
    reproduced = False
    lines: list = []
    want = report.classes
    if report.kind in (P.CIRCULAR, P.RECURSIVE):
        cycle = result.lock_order.cycles[0] if result.lock_order and result.lock_order.cycles else []
        cycle_classes = [names.get(c, c) for c in report_order(cycle)]
        reproduced = bool(cycle) and _rotations_equal(cycle_classes, want)
        lines.append(_cycle_line(report, cycle_classes, reproduced, want))
    elif report.kind == P.INCONSISTENT and any("RECLAIM" in st for st in report.states) or \
            report.kind == P.INVERSION and report.states == ["RECLAIM_FS"]:   # reclaim as a lock
        cycle = result.lock_order.cycles[0] if result.lock_order and result.lock_order.cycles else []
        cycle_classes = [names.get(c, c) for c in report_order(cycle)]
        reproduced = set(cycle_classes) == set(want) | {"fs_reclaim"}
        lines.append(_cycle_line(report, cycle_classes, reproduced, cycle_classes if reproduced else want))
    elif report.kind == P.INCONSISTENT:
        f = next((f for f in result.findings if f.kind == "irq-unsafe-lock"), None)
        cycle_classes = [names.get(f.usage.get("class"), f.usage.get("class"))] if f else []
        reproduced = bool(f) and cycle_classes == want
        lines.append("reproduced: the model reports the same inconsistent lock state on "
                     f"{', '.join(cycle_classes)}" if reproduced else
                     "not reproduced: the model reports no inconsistent lock state on "
                     f"{', '.join(want) or 'the lock'}")
    elif report.kind == P.INVERSION:
        d = next((f for f in result.findings if f.kind == "deadlock"), None)
        cycle_classes = list(want) if d else []
        reproduced = bool(d)
        lines.append("reproduced: the handler and the two lock orders deadlock in the model"
                     if d else "not reproduced: no deadlock between the handler and the two lock orders")
    else:
        f = next((f for f in result.findings if f.kind == "sleep-in-atomic"), None)
        reproduced = bool(f)
        cycle_classes = list(want) if f else []
        lines.append("reproduced: the model reports the same sleep in atomic context"
                     if f else "not reproduced: the model finds no sleep in atomic context")
    lines += _deadlock_lines(result, report, spec)
    return Verdict(report, spec, result, cycle_classes, reproduced, lines)


def _cycle_line(report: P.Report, got: list, reproduced: bool, want: list) -> str:
    shown = " -> ".join(got + got[:1]) if got else ""
    if not got:
        return "not reproduced: the model has no lock-order cycle"
    if reproduced:
        if got == want:
            return f"reproduced: the model's lockdep cycle is the report's, #N to #0: {shown}"
        return (f"reproduced: the model's lockdep cycle has the report's classes in the report's "
                f"order, {shown}, entered at another acquisition (the model's #0 is {got[-1]}, "
                f"the report's {want[-1]})")
    return f"not reproduced: the model's lockdep cycle is {shown}; the report's is {' -> '.join(want + want[:1])}"


def _deadlock_lines(result: Result, report: P.Report, spec: Spec) -> list[str]:
    out = []
    d = next((f for f in result.findings if f.kind == "deadlock"), None)
    if not result.complete:
        out.append(f"verdict: the search stopped early ({result.stopped}); no claim on deadlocks")
        return out
    if d:
        steps = "; ".join(f"{s.actor}: {s.statement}" for s in d.trace + d.then)
        out.append(f"verdict: a real deadlock is reachable, {len(d.trace) + len(d.then)} steps: {d.message}")
        out.append(f"  shortest interleaving: {steps}")
        t, h = report.trying, report.holding
        if report.kind == P.RECURSIVE and t and h and t.addr and t.addr == h.addr:
            out.append(f"  the report shows both acquisitions at one address ({t.addr}): the same lock, "
                       "so this deadlock is certain")
        else:
            out.append("  the skeleton has one lock per class (and one `bo` per resv): the deadlock is "
                       "real when the contexts meet on the same objects, which the report's classes "
                       "alone cannot tell")
        return out
    if report.kind not in (P.CIRCULAR, P.RECURSIVE):
        out.append("verdict: no deadlock is reachable in the generated model")
        return out
    cycle = result.lock_order.cycles[0] if result.lock_order and result.lock_order.cycles else []
    if not cycle:
        out.append("verdict: no interleaving of these contexts deadlocks, and they record no cycle")
        return out
    out.append("verdict: only a lockdep-level cycle: no interleaving of these contexts deadlocks")
    names = spec.names
    boot = [e for e in cycle if e.actor == BOOT]
    for path in _paths(boot):
        frm, to = path[0].frm, path[-1].to
        shown = " -> ".join([names.get(frm, frm)] + [names.get(e.to, e.to) for e in path])
        out.append(f"  {shown} is only primed at boot by dma_resv_lockdep(): it becomes real when a "
                   f"context {_what_makes_real(frm, to, names)}")
    for cls, actor in spec.trylocks:
        out.append(f"  {actor} holds {cls} by trylock: lockdep walks past it (check_prevs_add()) and "
                   "records the dependency from the lock below; the trylock itself never waits")
    recursive = report.kind == P.RECURSIVE and len(cycle) == 1
    if recursive:
        out.append(f"  two locks of one class, taken one inside the other: they deadlock only when both "
                   "are the same object, or when another context takes two of them the other way round"
                   + (" (dma_resv: without a ww_acquire_ctx neither backs off with -EDEADLK)"
                      if names.get(cycle[0].to) == "reservation_ww_class_mutex" else
                      "; an ordering (lock nesting notation) tells lockdep which"))
    readers = _only_read(spec, cycle)
    for cls in readers:
        out.append(f"  {names.get(cls, cls)} is only read-held by these contexts, and readers do not wait "
                   "for each other: it becomes real when a writer queues on it in between (rwsems let "
                   "no new reader past a waiting writer" + (", e.g. munmap or mmap for mmap_lock)"
                                                            if cls == "mmap_lock" else ")"))
    if not (boot or spec.trylocks or readers or recursive):
        out.append("  every dependency has a context, but the contexts as written cannot block "
                   "each other all at once (a fence they wait for is signalled elsewhere, or a "
                   "work item is idle when flushed); what the report leaves out may make it real")
    return out


def _only_read(spec: Spec, cycle: list) -> list[str]:
    """Classes of the cycle the spec only ever takes `shared`."""
    out = []
    for cls in dict.fromkeys(e.to for e in cycle):
        name = re.escape(cls)
        if re.search(rf"\block {name} shared\b", spec.text) and \
                not re.search(rf"\block {name}(?! shared)\s*$", spec.text, re.M):
            out.append(cls)
    return out


def _paths(edges: list) -> list[list]:
    """Consecutive boot edges joined: a -> b, b -> c is one path a -> c."""
    out: list[list] = []
    for e in edges:
        if out and out[-1][-1].to == e.frm:
            out[-1].append(e)
        else:
            out.append([e])
    if len(out) > 1 and out[-1][-1].to == out[0][0].frm:
        out[0] = out.pop() + out[0]
    return out


def _what_makes_real(frm: str, to: str, names: dict) -> str:
    if frm == "mmap_lock" and to in ("resv", "resv_ctx"):
        return ("locks a dma_resv under mmap_lock: a page fault on a mapped buffer whose fault "
                "handler reserves it (ttm_bo_vm_reserve())")
    if to == "dma_fence_map":
        where = {"fs_reclaim": "reclaim (a shrinker)", "mmu_notifier": "an MMU notifier",
                 "resv": "holding a dma_resv lock", "mmap_lock": "holding mmap_lock"}.get(frm, f"holding {frm}")
        return f"waits for a fence in {where} that the signalling path must signal"
    if frm == "fs_reclaim":
        return f"takes {names.get(to, to)} in reclaim (a shrinker or an MMU notifier that takes it)"
    if to == "fs_reclaim":
        return f"allocates memory that may enter reclaim (GFP_KERNEL) while holding {frm}"
    if to == "mmu_notifier":
        return "invalidates a userptr (MMU notifier) from reclaim"
    return f"takes {names.get(to, to)} while holding {names.get(frm, frm)}"


def text(v: Verdict, spec_to: Optional[str]) -> str:
    r = v.report
    out = [f"report: {r.kind}" + (f", task {r.task}" if r.task else "") + f" (lines {r.line}-{max(r.end, r.line)})"]
    if v.report.classes:
        out.append(f"  classes as printed: {', '.join(v.report.classes)}")
    for w in v.spec.warnings:
        out.append(f"warning: {w}")
    if spec_to:
        out.append(f"model: written to {spec_to}")
    out += v.lines
    return "\n".join(out) + "\n"


def as_dict(v: Verdict) -> dict:
    """The JSON of `--format json`; `files` is exactly what `modelcheck
    check --format json` gives for the generated spec."""
    return {"report": v.report.as_dict(), "spec": v.spec.text, "reproduced": v.reproduced,
            "cycle_classes": v.cycle_classes, "files": json.loads(rep.as_json([v.result]))["files"]}
