"""Random small well-formed specs (hypothesis strategies), for tests that
compare two ways of answering one question on many designs: the explicit
and symbolic engines, the lock-order certificate and its independent check.
Every statement of the language appears, in threads, copies, a job and hooks.
"""
from __future__ import annotations

from hypothesis import strategies as st

HEADER = """\
lock m
lock sp : spinlock
lock rw : rwsem
resv bo
resv bo2
fence f0
fence f1 after f0
engine ring slots 1
var x = 0 in 0..2
"""

SIMPLE = [
    "lock m", "unlock m", "lock sp", "unlock sp", "lock rw", "unlock rw",
    "lock rw shared", "unlock rw shared", "lock bo", "unlock bo", "lock bo, bo2", "unlock bo2",
    "lock mmap_lock shared", "lock mmap_lock", "signal f1 error", "x = x * 2 - 1",
    "unlock mmap_lock shared", "signal f0", "signal f1", "signal f0 error", "wait f0", "wait f1",
    "wait bo", "wait any", "wait f0 timeout", "publish f0", "publish f1", "publish f0 in bo",
    "publish f1 in bo", "alloc kernel", "alloc nowait", "acquire ring", "release ring",
    "x = x + 1", "x = (x + 2) % 3", "x = x - 1", "x = 2 / (x + 1)", "await x > 0",
    "await signalled(f0)", "assert x < 2", "assert not held(m)", "assert not errored(f0)",
    "interrupt_waits", "end_interrupt_waits",
]
ACTOR_ONLY = ["fault", "fork", "munmap", "return", "restart"]
COND = ["x == 0", "x < 2", "signalled(f1)", "held(rw) or published(f0)", "done(t0)"]


@st.composite
def stmts(draw, depth: int, in_hook: bool, n: int = 3):
    pool = SIMPLE + ([] if in_hook else ACTOR_ONLY)
    out = []
    for _ in range(draw(st.integers(1, n))):
        shape = draw(st.integers(0, 9)) if depth else 0
        body = lambda: "{ " + "; ".join(draw(stmts(depth - 1, in_hook, 2))) + " }"
        if shape == 1:
            out.append(f"signalling {body()}")
        elif shape == 2:
            out.append(f"if {draw(st.sampled_from(COND))} {body()} else {body()}")
        elif shape == 3:
            out.append(f"choose {body()} or {body()}")
        elif shape == 4:
            lock = draw(st.sampled_from(["m", "sp", "rw", "rw shared", "bo"]))
            out.append(f"trylock {lock} else {body()}")
        elif shape == 5:
            fence = draw(st.sampled_from(["f0", "f1", "any", "bo"]))
            out.append(f"wait {fence} interruptible else {body()}")
        elif shape == 6:
            out.append(f"while x < 2 {{ x = x + 1; {draw(st.sampled_from(SIMPLE))} }}")
        else:
            out.append(draw(st.sampled_from(pool)))
    return out


@st.composite
def specs(draw) -> str:
    parts = [HEADER]
    for i in range(draw(st.integers(1, 3))):
        parts.append(f"thread t{i} {{\n    " + "\n    ".join(draw(stmts(1, False))) + "\n}\n")
    if draw(st.integers(0, 4)) == 0:      # two copies of one thread
        parts.append("thread c[i in 1..2] {\n    " + "\n    ".join(draw(stmts(0, False, 2))) + "\n}\n")
    if draw(st.booleans()):
        mode = draw(st.sampled_from(["", " preemptible"]))
        body = draw(stmts(1, False, 2))
        if draw(st.booleans()):           # a job that faults, and may be preempted
            body.insert(draw(st.integers(0, len(body))), "fault")
        parts.append(f"job j on ring{mode} {{\n    " + "\n    ".join(body) + "\n}\n")
    for event in ("reclaim", "fork", "munmap", "fault"):
        if draw(st.integers(0, 2)) == 0:
            body = draw(stmts(0, True, 2)) + (["alloc kernel"] if event == "fault" else [])
            parts.append(f"on {event} {{ " + "; ".join(body) + " }\n")
    if draw(st.booleans()):
        parts.append('invariant "small": ' + draw(st.sampled_from(
            ["x < 2", "not (held(m) and held(sp))", "x == 0 or signalled(f0)"])) + "\n")
    return "\n".join(parts)
