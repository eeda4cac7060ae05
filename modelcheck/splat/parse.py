"""Kernel log text -> `Report`: what one lockdep (or might_sleep) report says.

Logs arrive in many wrappings: `[   12.345678]` timestamps, `[ T1082]` /
`[    C3]` caller ids, `<4>` levels, `dmesg -x`'s `kern  :warn  : `, a
journal's `Dec 14 06:35:48 host kernel: `, mail quoting (`> `, `>> `,
`> > `), and lines a mailer wrapped.  `lines()` takes those off, keeping
each line's number in the input, so the generated spec can cite the
report.  The parser then reads the fixed layout lockdep prints
(kernel/locking/lockdep.c: print_circular_bug(), print_deadlock_bug(),
print_usage_bug(), print_irq_inversion_bug(), lockdep_print_held_locks();
kernel/sched/core.c: __might_resched()).  A report cut short keeps what
was read and names in `missing` what never came.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Optional

CIRCULAR = "possible circular locking dependency detected"
RECURSIVE = "possible recursive locking detected"
INCONSISTENT = "inconsistent lock state"
INVERSION = "possible irq lock inversion dependency detected"
SLEEPING = "sleeping function called from invalid context"
KINDS = (CIRCULAR, RECURSIVE, INCONSISTENT, INVERSION, SLEEPING)


class NoReport(ValueError):
    """The text holds no lockdep report of a kind this reads."""


@dataclass
class Lock:
    """One `addr (class){usage}-{w:w}, at: func+0x1/0x2` line."""
    cls: str
    usage: str = ""
    wait: str = ""                 # lockdep's wait types, `3:3`
    at: str = ""                   # the function it was taken in
    line: int = 0                  # line number in the input
    addr: str = ""                 # the lock's address, when printed (not hashed)


@dataclass
class Entry:
    """One `-> #N (class){...}:` entry of the dependency chain, with the
    stack that recorded it: the acquisition of `cls` while holding the
    class of entry N-1 (entry 0's while holding the task's lock)."""
    n: int
    cls: str
    frames: list = field(default_factory=list)
    line: int = 0
    last: int = 0                  # last line of its stack

    @property
    def boot(self) -> bool:
        return any(f == "dma_resv_lockdep" for f in self.frames)


@dataclass
class Report:
    kind: str
    task: str = ""                 # comm/pid, as lockdep prints it
    trying: Optional[Lock] = None  # "is trying to acquire lock:"
    holding: Optional[Lock] = None # "but task is already holding lock:"
    chain: list = field(default_factory=list)      # [Entry], as printed: #N first
    held: list = field(default_factory=list)       # [Lock], "N locks held by": #0 first
    backtrace: list = field(default_factory=list)  # the current stack, innermost first
    states: list = field(default_factory=list)     # inconsistent: ["IN-HARDIRQ-W", "HARDIRQ-ON-W"]; inversion: ["HARDIRQ"]
    registered: list = field(default_factory=list) # inconsistent: the stack of the first usage
    other: Optional[Lock] = None   # irq inversion: the lock on the other side
    unsafe: bool = True            # irq inversion: "took another, X-unsafe lock" (else "was taken by ... safe")
    at: str = ""                   # sleeping: file:line of the might_sleep()
    line: int = 0                  # where the report starts
    end: int = 0                   # its last line read
    missing: list = field(default_factory=list)

    @property
    def classes(self) -> list[str]:
        """The report's classes in the order it prints them: for a cycle,
        the `-> #N` entries from the highest number down to `#0` (the lock
        being acquired); the one class of a recursive or inconsistent
        report; the two of an inversion; the held locks of a sleeping one."""
        if self.kind == CIRCULAR:
            if self.chain:
                return [e.cls for e in self.chain]
            return [lk.cls for lk in (self.holding, self.trying) if lk]
        if self.kind == RECURSIVE:
            return [self.trying.cls] if self.trying else ([self.holding.cls] if self.holding else [])
        if self.kind == INCONSISTENT:
            return [self.trying.cls] if self.trying else []
        if self.kind == INVERSION:
            return [lk.cls for lk in (self.trying, self.other) if lk]
        return [lk.cls for lk in self.held]

    def as_dict(self) -> dict:
        return {"kind": self.kind, "task": self.task, "classes": self.classes}


# --- the wrappings around each line -------------------------------------------------

_QUOTE = re.compile(r"^(?:[ \t]*>)+[ \t]?")
_PREFIXES = [
    re.compile(r"^<\d>"),                                          # printk level
    re.compile(r"^[a-z]+\s*:[a-z]+\s*: "),                         # dmesg -x: `kern  :warn  : `
    re.compile(r"^(?:[A-Z][a-z]{2} +\d+ \d\d:\d\d:\d\d(?:\.\d+)? )?\S+ kernel: "),  # journal / syslog
    re.compile(r"^\d{4}-\d\d-\d\dT\S+ \S+ kernel: "),               # rfc3339 syslog
    re.compile(r"^\[\s*\+?\d+\.\d+\]\s?"),                          # [   12.345678], dmesg -d's [  +0.000224]
    re.compile(r"^\[name:[^\]]*\]"),                                  # [name:lockdep&]
    re.compile(r"^\[\s*[TC]\d+\]\s?"),                              # [ T1082] / [    C3]
]


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\u0085\u2028\u2029]")


def _strip(raw: str) -> str:
    text = _CONTROL.sub("", raw.rstrip("\r\n").replace("\t", "        "))
    text = _QUOTE.sub("", text)
    changed = True
    while changed:
        changed = False
        for p in _PREFIXES:
            m = p.match(text)
            if m:
                text = text[m.end():]
                changed = True
    return text.rstrip()


_ADDR_ONLY = re.compile(r"^\s*[0-9a-f]{8,16}\s*$")


_QP = re.compile(r"=(?:[0-9A-F]{2}|\r?\n)")


def _unquote_printable(text: str) -> str:
    """A mail body in quoted-printable (`=3D`, `=20`, `=` at the end of a
    wrapped line), as archives keep them: decoded, when it clearly is one."""
    if len(_QP.findall(text)) < 3 or not re.search(r"=3D|=20|=\r?\n", text):
        return text
    import quopri
    return quopri.decodestring(text.encode("utf-8", "surrogateescape")).decode("utf-8", "replace")


def lines(text: str) -> list[tuple[int, str]]:
    """(input line number, text without its wrappings), wrapped lock lines
    joined again: an address alone on its line, or a lock line ending in
    `, at:` or cut inside `(class){`, continues on the next line.  Line
    numbers count the decoded text of a quoted-printable mail."""
    text = _unquote_printable(text)
    out: list[tuple[int, str]] = []
    for i, raw in enumerate(text.replace("#012", "\n").splitlines(), 1):
        out.append((i, _strip(raw)))
    joined: list[tuple[int, str]] = []
    k = 0
    while k < len(out):
        n, t = out[k]
        while k + 1 < len(out) and _continues(t, out[k + 1][1]):
            t = t.rstrip() + " " + out[k + 1][1].strip()
            k += 1
        joined.append((n, t))
        k += 1
    return joined


def _continues(t: str, nxt: str) -> bool:
    if not nxt.strip():
        return False
    if _ADDR_ONLY.match(t) and nxt.strip().startswith("("):
        return True
    s = t.rstrip()
    if _LOCK.search(s) and (s.endswith("at:") or s.endswith(",")):
        return True
    if s.endswith("-{") or (s.count("(") > s.count(")") and "{" not in s.split("(")[-1] and _LOCKSTART.search(s)):
        return True
    return False


# --- the report's own lines ----------------------------------------------------------

_LOCKSTART = re.compile(r"(?:^|\s)(?:[0-9a-f]{8,16} )?\(")
_LOCK = re.compile(r"(?:(?P<addr>[0-9a-f]{8,16}|\(____ptrval____\)) )?\((?P<cls>.+?)\)\{(?P<usage>[^}]*)\}"
                   r"(?:-\{(?P<wait>\d+:\d+)\})?(?:, at: (?P<at>\S+))?")
_FRAME = re.compile(r"^\s*(?:\[<[0-9a-f]+>\]\s*)?(?:\? )?(?P<fn>[A-Za-z_][\w.]*)\+0x[0-9a-f]+/0x[0-9a-f]+")
_FRAME_ARM = re.compile(r"^\s*\[<[0-9a-f]+>\] \((?P<fn>[A-Za-z_][\w.]*)(?:\+0x[0-9a-f]+/0x[0-9a-f]+)?(?: \[\w+\])?\) from ")
_FRAME_SYM = re.compile(r"^\s*(?P<fn>[A-Za-z_][\w.]*) (?:\(\S+:\d+|\S+\.[chS]:\d+)")  # decoded: func (file.c:12)
_FRAME_BARE = re.compile(r"^\s*(?P<fn>[A-Za-z_][\w.]*)(?:\+0x[0-9a-f]+)?(?: \[\w+\])?$")  # `ww_mutex_lock`
_TASK = re.compile(r"^\s*(?P<task>\S+)(?: \[.*\])? is trying to acquire(?: lock)?:")
_ENTRY = re.compile(r"^\s*-> #(?P<n>\d+) \((?P<cls>.+?)\)\{[^}]*\}(?:-\{\d+:\d+\})?:")
_HELD = re.compile(r"^\s*(?P<n>\d+|no) locks? held by (?P<task>\S+?)[/:]?(?P<pid>\d*)[:.]")
_HELD_LOCK = re.compile(r"^\s*#(?P<n>\d+): ")
_INCONS = re.compile(r"inconsistent \{(?P<a>[A-Z_-]+)\} -> \{(?P<b>[A-Z_-]+)\} usage")
_TAKES = re.compile(r"^\s*(?P<task>\S+) \[.*\] takes:")
_CHANGED = re.compile(r"^\s*(?P<task>\S+/\d+) just changed the state of lock:")
_SLEEP = re.compile(r"BUG: sleeping function called from invalid context at (?P<at>\S+)")
_PIDNAME = re.compile(r"pid: (?P<pid>\d+), name: (?P<name>\S+)")


def _lock(text: str, n: int) -> Optional[Lock]:
    m = _LOCK.search(text)
    if not m:
        return None
    at = m.group("at") or ""
    addr = m.group("addr") or ""
    return Lock(m.group("cls"), m.group("usage"), m.group("wait") or "", _fn(at), n,
                "" if addr.startswith("(") else addr)


def _fn(at: str) -> str:
    return re.split(r"[+ ]", at, 1)[0] if at else ""


def frame(text: str, bare: bool = False) -> Optional[str]:
    """The function of one stack line, or None for anything else; `bare`
    also takes a lone function name (a trimmed trace in a mail)."""
    m = _FRAME_ARM.match(text) or _FRAME.match(text) or _FRAME_SYM.match(text) or (bare and _FRAME_BARE.match(text))
    if not m or m.group("fn") in ("at", "but", "which", "other", "stack"):
        return None
    return m.group("fn")


def parse(text: str) -> Report:
    """The first report in `text`.  Raises NoReport when there is none."""
    ls = lines(text)
    start, kind = None, None
    for k, (_, t) in enumerate(ls):
        for kd in KINDS:
            if kd in t and (kd != INCONSISTENT or "lock state" in t):
                start, kind = k, kd
                break
        if kind:
            break
    if kind is None:
        raise NoReport("no lockdep report found: expected a line such as 'WARNING: possible circular "
                       "locking dependency detected' (or recursive locking, inconsistent lock state, "
                       "irq lock inversion, 'BUG: sleeping function called from invalid context')")
    r = Report(kind, line=ls[start][0])
    if kind == SLEEPING:
        m = _SLEEP.search(ls[start][1])
        r.at = m.group("at") if m else ""
    body = ls[start + 1:]
    _read(r, body)
    r.end = max([r.line] + [n for n, _ in body[:r.end]] ) if r.end else r.line
    _what_is_missing(r)
    return r


def _stack(body, k, bare: bool = False):
    """Frames from body[k] on, up to the first line that is not one; a lone
    function name counts once a frame was read (or at once with `bare`)."""
    frames = []
    last = max(k - 1, 0)                 # the line before: the header, when no frame follows
    while k < len(body):
        t = body[k][1]
        f = None if t.strip().startswith("? ") else frame(t, bare=bare or bool(frames))
        if f is None:
            if t.strip() in ("Call Trace:", "Call trace:", "<TASK>", "</TASK>", "<IRQ>", "</IRQ>") \
                    or t.strip().startswith("? "):
                k += 1
                continue
            break
        frames.append(f)
        last = k
        k += 1
    return frames, k, last


def _read(r: Report, body) -> None:
    k = 0
    consumed = 0
    while k < len(body):
        n, t = body[k]
        s = t.strip()
        if k and any(kd in s for kd in KINDS) and ("====" in body[k - 1][1] or "WARNING" in s or "INFO" in s
                                                  or "BUG" in s):
            break                                         # the next report
        m = _TASK.match(t)
        if m:
            r.task = m.group("task")
            if k + 1 < len(body):
                r.trying = _lock(body[k + 1][1], body[k + 1][0])
                k += 1
            consumed = k
        elif s.startswith("but task is already holding lock"):
            if k + 1 < len(body):
                r.holding = _lock(body[k + 1][1], body[k + 1][0])
                k += 1
            consumed = k
        elif _ENTRY.match(t):
            m = _ENTRY.match(t)
            frames, k2, last = _stack(body, k + 1)
            r.chain.append(Entry(int(m.group("n")), m.group("cls"), frames, n, body[last][0]))
            consumed = k = max(k, k2 - 1)
        elif _HELD.match(t):
            m = _HELD.match(t)
            if not r.task:
                r.task = f"{m.group('task')}/{m.group('pid')}" if m.group("pid") else m.group("task")
            k += 1
            while k < len(body) and _HELD_LOCK.match(body[k][1]):
                lk = _lock(body[k][1], body[k][0])
                if lk:
                    r.held.append(lk)
                k += 1
            consumed = k = k - 1
        elif s in ("stack backtrace:", "Call Trace:", "Call trace:") and not r.backtrace:
            j = k + 1
            if s == "stack backtrace:":
                while j < len(body) and not frame(body[j][1]) and body[j][1].strip() and j < k + 5 \
                        and body[j][1].strip() not in ("Call Trace:", "Call trace:"):
                    j += 1                              # CPU:, Hardware name:, Workqueue:
            frames, k2, last = _stack(body, j, bare=body[j - 1][1].strip() in ("Call Trace:", "Call trace:"))
            if frames:
                r.backtrace = frames
                consumed = k = max(k, k2 - 1)
        elif _INCONS.search(s):
            m = _INCONS.search(s)
            r.states = [m.group("a"), m.group("b")]
            consumed = k
        elif _TAKES.match(t) or _CHANGED.match(t):      # the task, then the lock it takes
            r.task = (_TAKES.match(t) or _CHANGED.match(t)).group("task")
            if k + 1 < len(body):
                r.trying = _lock(body[k + 1][1], body[k + 1][0])
                k += 1
            consumed = k
        elif s.endswith("state was registered at:"):
            frames, k2, last = _stack(body, k + 1)
            r.registered = frames
            consumed = k = max(k, k2 - 1)
        elif s.startswith("but this lock took another") or s.startswith("but this lock was taken by another"):
            r.unsafe = s.startswith("but this lock took another")
            m = re.search(r"(HARDIRQ|SOFTIRQ|RECLAIM_FS)-(?:un)?safe", s)
            r.states = [m.group(1)] if m else []
            if k + 1 < len(body):
                r.other = _lock(body[k + 1][1], body[k + 1][0])
                k += 1
            consumed = k
        elif _PIDNAME.search(s) and r.kind == SLEEPING:
            m = _PIDNAME.search(s)
            r.task = f"{m.group('name')}/{m.group('pid')}"
            consumed = k
        k += 1
    r.end = consumed + 1 if body else 0


def _what_is_missing(r: Report) -> None:
    need = []
    if r.kind == CIRCULAR:
        need = [("the task line ('... is trying to acquire lock:')", r.trying),
                ("the lock held ('but task is already holding lock:')", r.holding),
                ("the dependency chain ('-> #N' entries)", r.chain)]
        if r.chain and r.chain[-1].n != 0:
            r.missing.append(f"the chain's entries below #{r.chain[-1].n}")
        if r.chain and r.chain[0].n + 1 != len(r.chain):
            r.missing.append(f"some of the chain's entries above #{r.chain[-1].n}")
    elif r.kind == RECURSIVE:
        need = [("the task line ('... is trying to acquire lock:')", r.trying),
                ("the lock held ('but task is already holding lock:')", r.holding)]
    elif r.kind == INCONSISTENT:
        need = [("the usage line ('inconsistent {A} -> {B} usage')", r.states),
                ("the lock ('... takes:')", r.trying)]
    elif r.kind == INVERSION:
        need = [("the lock ('... just changed the state of lock:')", r.trying),
                ("the other lock ('but this lock took another ...')", r.other)]
    elif r.kind == SLEEPING:
        need = [("the task ('pid: N, name: X')", r.task), ("the call trace", r.backtrace)]
    for what, got in need:
        if not got:
            r.missing.append(what)
    if r.kind in (CIRCULAR, RECURSIVE, INCONSISTENT) and not r.backtrace:
        r.missing.append("the stack backtrace")
