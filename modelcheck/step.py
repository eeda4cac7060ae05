"""`modelcheck step SPEC [-D NAME=VALUE] [--trace KIND|FILE] [--format text|json]`:
walk a spec by hand, one step at a time, reading commands from stdin.

It lists the enabled steps (actor, line, statement); picking one moves that
actor and prints what changed, in the words of the tables (`takes bo`,
`signals proxy`).  `undo` and `back N` go back, `state` shows the whole
state as the tables' "final state" does, and `--trace deadlock` (or a JSON
document of `check --format json`) loads a finding's shortest trace, which
`next` walks.  Every step is the semantics' own (`System.successors`), so
nothing can be shown that the checker would not explore.
"""
from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass
from typing import Optional

from .api import check_source, load
from .language.errors import SpecError, printable
from .language.model import FINDING_KINDS
from .reports.schema import SCHEMA_VERSION
from .semantics import System
from .verdicts import trace as tr

HELP = """commands:
  N            take enabled step N (as numbered in the list)
  next, n      take the next step of the loaded trace
  undo, u      go back one step
  back K       go back to just after step K (0: the initial state)
  state, s     show the whole state
  trace, t     show the steps taken so far
  list, l      list the enabled steps again
  load KIND    load the shortest trace of a finding kind (from the start)
  help, h      this text
  quit, q      leave (end of input too)"""


@dataclass
class Choice:
    actor: int
    after: tuple
    label: str
    found: tuple
    line: int
    statement: str
    effect: str


class Stepper:
    def __init__(self, text: str, path: str, params: Optional[dict], out, as_json: bool):
        self.text, self.path, self.params = text, path, params
        self.m = load(text, path, params)
        self.sys = System(self.m)
        self.states = [self.sys.initial()]
        self.taken: list[tr.Step] = []                 # the rows of the steps taken
        self.plan: list[tr.Step] = []                  # a loaded trace, still to walk
        self.plan_done = 0
        self.out, self.json = out, as_json
        self.base = os.path.basename(path)
        self.w = max((len(a.name) for a in self.m.actors), default=0)    # actor column width

    # -- output
    def emit(self, event: str, text: str, **data) -> None:
        if self.json:
            self.out.write(json.dumps({"schema_version": SCHEMA_VERSION, "event": event, **data},
                                      ensure_ascii=False) + "\n")
        else:
            self.out.write(printable(text).replace("\\x0a", "\n") + "\n")
        self.out.flush()

    def where(self, line: int) -> str:
        return f"{self.base}:{line}" if line else "-"

    def row(self, s: tr.Step) -> str:
        return f"{s.step:>3}  {s.actor:<{self.w}}  {self.where(s.line)}  {s.statement}: {s.effect}"

    # -- the state
    @property
    def now(self) -> tuple:
        return self.states[-1]

    def choices(self) -> list[Choice]:
        s, out = self.now, []
        for a, (nxt, label, found, _timeout) in self.sys.successors(s):
            line, text = self.sys.where(s, a)
            out.append(Choice(a, nxt, label, tuple(found), line, text,
                              tr.describe(self.sys, s, nxt, a, label)))
        return out

    def show(self) -> None:
        """The enabled steps, the blocked actors, the next step of a loaded trace."""
        cs, s = self.choices(), self.now
        want = self.plan[self.plan_done] if self.plan_done < len(self.plan) else None
        nxt = self.match(cs, want) if want else None
        rows, lines = [], [f"after step {len(self.taken)}:" if self.taken else "initial state:"]
        for i, c in enumerate(cs, 1):
            mark = "*" if nxt is not None and cs[nxt] is c else " "
            lines.append(f" {mark}{i:>2})  {self.sys.actor(c.actor):<{self.w}}  {self.where(c.line)}  {c.statement}"
                         + (f"  [{c.label}]" if c.label else ""))
            rows.append({"n": i, "actor": self.sys.actor(c.actor), "line": c.line,
                         "statement": c.statement, "label": c.label, "next_on_trace": mark == "*"})
        moving = {c.actor for c in cs}
        blocked = []
        for a in range(self.sys.L.A):
            if a not in moving and not self.sys.finished(s, a):
                line, text = self.sys.where(s, a)
                why = tr.blocked_reason(self.sys, s, a)
                lines.append(f"   -)  {self.sys.actor(a):<{self.w}}  {self.where(line)}  {text}: blocks: {why}")
                blocked.append({"actor": self.sys.actor(a), "line": line, "statement": text, "why": why})
        if not cs:
            lines.append("   no actor can move" + ("" if blocked else ": every actor has finished"))
            for b in blocked[:1]:
                a = next(i for i in range(self.sys.L.A) if self.sys.actor(i) == b["actor"])
                lines.append("   who waits for whom: " + tr.waits_for(self.sys, s, a))
        if want is not None:
            lines.append(f"   trace: step {want.step} of {len(self.plan)} is next ('next' takes it)")
        self.emit("enabled", "\n".join(lines), step=len(self.taken), choices=rows, blocked=blocked)

    def take(self, c: Choice) -> None:
        self.states.append(c.after)
        row = tr.Step(len(self.taken) + 1, self.sys.actor(c.actor), c.line, c.statement, c.effect)
        self.taken.append(row)
        lines = [self.row(row)]
        found = list(c.found) + self.sys.invariant_failures(c.after)
        for kind, _key, message in found:
            lines.append(f"     finding: {kind}: {message}")
        self.emit("moved", "\n".join(lines), **vars(row),
                  findings=[{"kind": k, "message": msg} for k, _key, msg in found])

    def match(self, cs: list[Choice], want: tr.Step) -> Optional[int]:
        """The enabled step that is this row of a trace: same actor, line and effect."""
        for i, c in enumerate(cs):
            if self.sys.actor(c.actor) == want.actor and c.line == want.line and c.effect == want.effect:
                return i
        for i, c in enumerate(cs):                   # a row whose effect was worded otherwise
            if self.sys.actor(c.actor) == want.actor and c.line == want.line:
                return i
        return None

    def back_to(self, k: int) -> None:
        del self.states[k + 1:]
        del self.taken[k:]
        # a loaded trace goes on from where the walk now stands, if it passed there
        self.plan_done = min(self.plan_done, k)
        self.emit("back", f"back to {'the initial state' if k == 0 else f'just after step {k}'}", step=k)

    def state(self) -> None:
        from .reports.report import _final
        st = tr.final_state(self.sys, self.now)
        text = _final(st).replace("final state:", f"state after step {len(self.taken)}:", 1)
        self.emit("state", text, step=len(self.taken), state=st)

    def load_trace(self, which: str) -> bool:
        """Load a finding's shortest trace: a finding kind (the spec is
        checked first) or a JSON document written by `check --format json`."""
        rows = None
        if which in FINDING_KINDS:
            r = check_source(self.text, self.params, self.path)
            f = next((f for f in r.findings if f.kind == which), None)
            if f is None:
                self.emit("error", f"no {which} finding in this spec (found: "
                                   f"{', '.join(sorted(r.kinds)) or 'nothing'})", message=f"no {which} finding")
                return False
            rows, what = f.trace + f.then, f"{which}: {f.message}"
        else:
            try:
                doc = json.loads(open(which, encoding="utf-8").read())
                f = doc["files"][0]["findings"][0]
                rows = [tr.Step(**s) for s in f["trace"] + f["then"]]
                what = f"{f['kind']}: {f['message']}"
            except (OSError, ValueError, KeyError, IndexError, TypeError) as e:
                self.emit("error", f"--trace {which}: neither a finding kind ({', '.join(FINDING_KINDS)}) "
                                   f"nor a JSON document of check --format json with a finding ({e})",
                          message=str(e))
                return False
        # a lock-order trace ends with the actor *reaching* the acquisition: not a step
        self.plan = [s for s in rows if not s.effect.startswith("reaches it holding")]
        self.plan_done = 0
        if self.taken:
            self.back_to(0)
        self.emit("loaded", f"loaded {len(self.plan)} steps of {what}\n"
                            "'next' takes them one by one; any other step leaves the trace",
                  steps=len(self.plan), finding=what)
        return True

    def next(self) -> None:
        if self.plan_done >= len(self.plan):
            self.emit("error", "no trace step left" if self.plan else "no trace loaded (--trace KIND, or: load KIND)",
                      message="no trace step")
            return
        if self.plan_done != len(self.taken):
            self.emit("error", f"the walk left the trace at step {self.plan_done}: "
                               f"'back {self.plan_done}' returns to it", message="off the trace")
            return
        want = self.plan[self.plan_done]
        cs = self.choices()
        i = self.match(cs, want)
        if i is None:
            self.emit("error", f"trace step {want.step} ({want.actor} line {want.line}: {want.statement}) "
                               "is not enabled here", message="trace step not enabled")
            return
        self.plan_done += 1
        self.take(cs[i])

    # -- the loop
    def command(self, line: str) -> bool:
        words = line.split()
        if not words:
            return True
        cmd, rest = words[0].lower(), words[1:]
        if cmd in ("q", "quit", "exit"):
            return False
        if cmd in ("h", "help", "?"):
            self.emit("help", HELP)
            return True
        if cmd.isdigit():
            cs = self.choices()
            n = int(cmd)
            if not 1 <= n <= len(cs):
                self.emit("error", f"no step {n}: pick 1..{len(cs)}" if cs else "no actor can move",
                          message="no such step")
                return True
            if self.plan_done == len(self.taken) and self.plan_done < len(self.plan) and \
                    self.match(cs, self.plan[self.plan_done]) == n - 1:
                self.plan_done += 1                    # picked the trace's own step
            self.take(cs[n - 1])
        elif cmd in ("n", "next"):
            self.next()
        elif cmd in ("u", "undo"):
            if not self.taken:
                self.emit("error", "nothing to undo", message="nothing to undo")
                return True
            self.back_to(len(self.taken) - 1)
        elif cmd in ("b", "back", "jump"):
            if len(rest) != 1 or not rest[0].isdigit() or int(rest[0]) > len(self.taken):
                self.emit("error", f"back takes a step number 0..{len(self.taken)}", message="bad step")
                return True
            self.back_to(int(rest[0]))
        elif cmd in ("s", "state"):
            self.state()
            return True
        elif cmd in ("t", "trace"):
            self.emit("trace", "\n".join(self.row(s) for s in self.taken) or "no step taken yet",
                      steps=[vars(s) for s in self.taken])
            return True
        elif cmd in ("l", "list", "ls"):
            pass
        elif cmd == "load" and len(rest) == 1:
            self.load_trace(rest[0])
        else:
            self.emit("error", f"unknown command '{line.strip()}' ('help' lists them)", message="unknown command")
            return True
        self.show()
        return True


def run(path: str, params: dict, trace: Optional[str], fmt: str, inp=None, out=None) -> int:
    inp, out = inp or sys.stdin, out or sys.stdout
    try:
        with open(path, "rb") as fh:
            data = fh.read()
        from .language.syntax import decode
        text = decode(data, path)
        st = Stepper(text, path, params, out, fmt == "json")
    except OSError as e:
        print(f"{printable(path)}: error: cannot read: {e.strerror or e}", file=sys.stderr)
        return 2
    except SpecError as e:
        print(str(e), file=sys.stderr)
        return 2
    tty = inp.isatty() and fmt != "json"
    if tty:
        import readline  # noqa: F401  (line editing and history for input())
        st.emit("help", f"stepping {path}; 'help' lists the commands")
    if trace and not st.load_trace(trace):
        return 2
    st.show()
    while True:
        try:
            line = input("step> ") if tty else inp.readline()
        except EOFError:
            break
        if not tty and not line:
            break
        if not st.command(line):
            break
    return 0
