"""Generated irq designs (hypothesis): threads that take spinlocks in
properly nested sections, and handlers that take one.  Two properties a
kernel engineer relies on:

- irq-unsafe-lock, and a deadlock, are found exactly when some handler's lock is also taken by
  a thread without irqsave (straight-line sections always reach every
  acquisition: a thread running alone never blocks on a spinlock);
- taking every thread's lock with irqsave removes both the irq-unsafe-lock
  finding and every deadlock a handler caused (the same design without
  handlers is free of deadlock too: sections are nested in one global order).
"""
from __future__ import annotations

from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

import modelcheck

LOCKS = ["A", "B", "C"]


@st.composite
def designs(draw):
    threads = []
    for _t in range(draw(st.integers(1, 2))):
        sections = []
        for _s in range(draw(st.integers(1, 2))):
            # a nested section over locks in global order: no lock-order cycle
            locks = sorted(draw(st.sets(st.sampled_from(LOCKS), min_size=1, max_size=2)))
            sections.append(locks)
        threads.append(sections)
    handlers = draw(st.lists(st.sampled_from(LOCKS), min_size=1, max_size=2))
    return threads, handlers


def spec(threads, handlers, irqsave: bool) -> str:
    out = [f"lock {l} : spinlock" for l in LOCKS]
    save, restore = (" irqsave", " irqrestore") if irqsave else ("", "")
    for i, sections in enumerate(threads):
        body = []
        for locks in sections:
            body += [f"    lock {l}{save if n == 0 else ''}" for n, l in enumerate(locks)]
            body += [f"    unlock {l}{restore if n == 0 else ''}"
                     for n, l in reversed(list(enumerate(locks)))]
        out += [f"thread t{i} {{"] + body + ["}"]
    for i, l in enumerate(handlers):
        out += [f"irq h{i} {{", f"    lock {l}", f"    unlock {l}", "}"]
    return "\n".join(out) + "\n"


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(designs())
def test_irq_unsafe_exactly_when_a_handler_lock_is_taken_with_irqs_on(design):
    threads, handlers = design
    text = spec(threads, handlers, irqsave=False)
    note(text)
    r = modelcheck.check_source(text)
    shared = set(handlers) & {l for sections in threads for locks in sections for l in locks}
    assert ("irq-unsafe-lock" in r.kinds) == bool(shared)
    found = {f.usage["class"] for f in r.findings if f.kind == "irq-unsafe-lock"}
    assert found == shared
    assert ("deadlock" in r.kinds) == bool(shared)     # the handler lands in the holder
    assert "lock-order" not in r.kinds


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(designs())
def test_irqsave_everywhere_is_safe(design):
    threads, handlers = design
    text = spec(threads, handlers, irqsave=True)
    note(text)
    r = modelcheck.check_source(text)
    assert r.complete and r.kinds == frozenset(), [f.message for f in r.findings]
