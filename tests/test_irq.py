"""Hard-irq handlers (`irq NAME { }`), spin_lock_irqsave, and the finding
irq-unsafe-lock (lockdep's inconsistent lock state): small specs with the
findings they must give."""
from __future__ import annotations

import json
import textwrap

import pytest

import modelcheck
from modelcheck.search.explorer import Limits
from helpers import SAFE, check, deps, expect, finding, smt_refusal


IRQ_UNSAFE = """
    lock S : spinlock
    thread t {
        lock S
        unlock S
    }
    irq h {
        lock S
        unlock S
    }
"""


# ---------------------------------------------------------------- without and with irqsave

def test_a_lock_taken_in_the_handler_and_with_interrupts_on_deadlocks_and_is_irq_unsafe():
    r = expect(IRQ_UNSAFE, {"deadlock", "irq-unsafe-lock"})
    d = finding(r, "deadlock")
    assert "t at line 5" in d.message and "h at line 8 (lock S)" in d.message
    assert any("t waits h to return" in c and "held by t" in c for c in d.waits_for)
    assert [s.effect for s in d.trace] == ["takes S", "interrupts t"]
    assert "inconsistent lock state on S" in d.lockdep
    assert d.final_state["actors"]["t"] == "interrupted by h at line 5: unlock S"
    f = finding(r, "irq-unsafe-lock")
    assert "{IN-HARDIRQ-W} -> {HARDIRQ-ON-W}" in f.message
    u = f.usage
    assert u["class"] == "S"
    assert (u["in_irq"]["actor"], u["in_irq"]["line"]) == ("h", 8)
    assert (u["irq_on"]["actor"], u["irq_on"]["line"]) == ("t", 4)
    assert u["in_irq"]["trace"][-1]["statement"] == "lock S"
    assert len(u["irq_on"]["trace"]) == 1          # t stands at `lock S` from the start


def test_the_irqsave_fix_is_safe():
    fixed = IRQ_UNSAFE.replace("        lock S\n        unlock S\n    }\n    irq",
                               "        lock S irqsave\n        unlock S irqrestore\n    }\n    irq")
    assert "irqsave" in fixed
    expect(fixed, SAFE)


def test_irq_unsafe_even_when_no_interleaving_deadlocks():
    # the handler only trylocks: it never spins, yet lockdep marks the usage
    expect("""
        lock S : spinlock
        thread t { lock S; unlock S }
        irq h {
            trylock S else { return }
            unlock S
        }
    """, {"irq-unsafe-lock"})


def test_a_lock_under_an_irqsave_lock_is_taken_with_interrupts_off():
    expect("""
        lock S : spinlock
        lock T : spinlock
        thread t { lock T irqsave; lock S; unlock S; unlock T irqrestore }
        irq h { lock S; unlock S }
    """, SAFE)


def test_irqs_are_back_on_after_irqrestore():
    expect("""
        lock S : spinlock
        lock T : spinlock
        thread t { lock T irqsave; unlock T irqrestore; lock S; unlock S }
        irq h { lock S; unlock S }
    """, {"deadlock", "irq-unsafe-lock"})


def test_irq_json_finding_has_the_usage_structure():
    r = check(IRQ_UNSAFE)
    d = json.loads(json.dumps(finding(r, "irq-unsafe-lock").as_dict()))
    assert d["usage"]["states"] == ["IN-HARDIRQ-W", "HARDIRQ-ON-W"]
    assert set(d["usage"]["in_irq"]) >= {"actor", "line", "statement", "trace"}


# ---------------------------------------------------------------- when the handler fires

def test_the_handler_fires_exactly_once_and_on_its_own_cpu_when_all_threads_finished():
    r = expect("""
        var n = 0 in 0..2
        thread t { }
        irq h { n = n + 1 }
        invariant "once": n <= 1
        reachable "fired": n == 1
    """, SAFE)
    assert r.stats.states > 1


def test_the_handler_never_lands_in_a_thread_with_interrupts_off():
    # t spins on x with S held irqsave; the handler must run elsewhere to set x
    expect("""
        lock S : spinlock
        var x = 0 in 0..1
        thread t { lock S irqsave; await x == 1; unlock S irqrestore }
        irq h { x = 1 }
    """, SAFE)


def test_the_handler_lands_in_a_thread_that_spins_with_interrupts_on():
    # the same with interrupts on: the handler may land in t, and t's await
    # never blocks the handler (it runs first and sets x)
    expect("""
        var x = 0 in 0..1
        thread t { await x == 1 }
        irq h { x = 1 }
    """, SAFE)


def test_handlers_never_nest():
    # h2 landing in h1 while h1 holds S would spin forever; it runs elsewhere
    expect("""
        lock S : spinlock
        thread t { }
        irq h1 { lock S; unlock S }
        irq h2 { lock S; unlock S }
    """, SAFE)


def test_an_interrupted_thread_does_not_move_until_the_handler_returns():
    # were t to move while h runs in it, x could be 1 at the assert
    expect("""
        var x = 0 in 0..2
        thread t { x = 1 }
        irq h { x = 2; assert x == 2 }
    """, SAFE)


# ---------------------------------------------------------------- sleep in irq

@pytest.mark.parametrize("stmt", ["lock M", "wait F", "alloc kernel", "acquire E"])
def test_nothing_may_sleep_in_an_irq_handler(stmt):
    r = check(f"""
        lock M
        fence F
        engine E slots 1
        thread t {{ signal F }}
        irq h {{ {stmt} }}
    """)
    assert "sleep-in-atomic" in r.kinds
    assert "in hard-irq context" in finding(r, "sleep-in-atomic").message


def test_an_atomic_allocation_in_an_irq_handler_is_fine():
    expect("""
        thread t { }
        irq h { alloc atomic }
    """, SAFE)


# ---------------------------------------------------------------- fence callbacks from an irq

CALLBACK = """
    lock S : spinlock
    fence F
    on signal F {
        lock S
        unlock S
    }
    thread t { lock S; unlock S }
    irq h { signal F }
"""


def test_a_callback_run_from_an_irq_handler_is_irq_context():
    r = expect(CALLBACK, {"deadlock", "irq-unsafe-lock"})
    assert finding(r, "irq-unsafe-lock").usage["in_irq"]["actor"] == "h"


def test_a_callback_run_from_a_thread_is_not_irq_context_nor_irqs_on():
    expect(CALLBACK.replace("irq h { signal F }", "thread u { signal F }"), SAFE)


def test_the_fixed_callback_design_with_irqsave_is_safe():
    expect(CALLBACK.replace("thread t { lock S; unlock S }",
                            "thread t { lock S irqsave; unlock S irqrestore }"), SAFE)


# ---------------------------------------------------------------- lock order: the walk stops

def test_the_handler_records_nothing_from_the_interrupted_threads_locks():
    r = expect("""
        lock A : spinlock
        lock B : spinlock
        thread t { lock A; unlock A }
        irq h { lock B; unlock B }
    """, SAFE)
    assert ("A", "B") not in deps(r)


def test_the_handler_records_its_own_nesting():
    r = expect("""
        lock A : spinlock
        lock B : spinlock
        thread t { }
        irq h { lock A; lock B; unlock B; unlock A }
    """, SAFE)
    assert ("A", "B") in deps(r)


# ---------------------------------------------------------------- errors

@pytest.mark.parametrize("decl", ["lock M", "lock M : mutex", "lock M : rwsem", "resv M"])
def test_irqsave_needs_a_spinlock(decl):
    with pytest.raises(modelcheck.SpecError) as e:
        modelcheck.check_source(f"{decl}\nthread t {{\n    lock M irqsave\n}}\n")
    d = e.value.diagnostics[0]
    assert (d.line, d.col) == (3, 5) and "needs a spinlock" in d.message


def test_irqrestore_needs_a_spinlock():
    with pytest.raises(modelcheck.SpecError) as e:
        modelcheck.check_source("lock M\nthread t {\n    lock M\n    unlock M irqrestore\n}\n")
    assert e.value.diagnostics[0].line == 4


def test_irq_is_still_a_name_elsewhere():
    expect("""
        lock irq : spinlock
        thread irqsave { lock irq irqsave; unlock irq irqrestore }
    """, SAFE)


def test_irqsave_without_any_handler_is_a_plain_spinlock():
    expect("""
        lock S : spinlock
        thread t { lock S irqsave; unlock S irqrestore }
        thread u { lock S; unlock S }
    """, SAFE)


# ---------------------------------------------------------------- engines agree

def test_the_smt_engine_refuses_an_irq_handler_with_a_position():
    text = textwrap.dedent(IRQ_UNSAFE)
    msg = smt_refusal(text)
    assert "irq handler 'h'" in msg
    with pytest.raises(modelcheck.SpecError) as e:
        modelcheck.check_source(text, engine="smt", depth=5)
    assert e.value.diagnostics[0].line == 7


def test_the_smt_engine_agrees_on_irqsave_without_handlers():
    text = textwrap.dedent("""
        lock S : spinlock
        thread t { lock S irqsave; wait F; unlock S irqrestore }
        fence F
        thread u { signal F }
    """)
    explicit = modelcheck.check_source(text)
    smt = modelcheck.check_source(text, engine="smt", depth=12)
    assert explicit.kinds == smt.kinds == {"sleep-in-atomic"}


@pytest.mark.parametrize("text", [IRQ_UNSAFE, CALLBACK])
@pytest.mark.parametrize("reduction,symmetry", [(True, True), (False, False), (True, False)])
def test_reduction_and_symmetry_settings_agree(text, reduction, symmetry):
    base = check(text).kinds
    r = modelcheck.check_source(textwrap.dedent(text),
                                limits=Limits(reduction=reduction, symmetry=symmetry))
    assert r.kinds == base
    assert r.stats.reduction.startswith("off") and r.stats.symmetry.startswith("off")
