"""Contract v2, the language itself: keywords as names, `def` and calls,
`for` loops and index expressions, `reachable` properties."""
from __future__ import annotations

import textwrap

import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

import modelcheck
from modelcheck.language.syntax import keywords
from helpers import check, expect, kinds
from test_reduction import small_specs

# Words the v2 statements use; each must stay usable as a name even before
# (and after) the grammar gains them.
V2_WORDS = ("workqueue", "ordered", "work", "irq", "queue_work", "flush_work",
            "cancel_work_sync", "flush_workqueue", "noreclaim", "nofs", "noio", "usage",
            "ww", "nested", "irqsave", "irqrestore", "class", "def", "for", "reachable",
            "prime", "all", "any", "chain", "pending", "running", "enable_signaling",
            "after", "signal")


def errors(text, params=None):
    with pytest.raises(modelcheck.SpecError) as exc:
        modelcheck.check_source(textwrap.dedent(text).lstrip("\n"), params=params)
    return exc.value.diagnostics


def one_error(text, params=None):
    diags = errors(text, params)
    assert len(diags) == 1, [d.message for d in diags]
    return diags[0]


# ---------------------------------------------------------------- keywords as names

def test_the_issue_examples_name_things():
    assert kinds("""
        fence job
        fence done
        lock wait
        thread fault {
            lock wait
            signal job
            unlock wait
        }
        thread other {
            wait job
            signal done
            await done(fault)
        }
    """) == frozenset()


@pytest.mark.parametrize("word", sorted(keywords() | set(V2_WORDS)))
def test_every_keyword_can_name_objects_and_actors(word):
    """Each keyword names a fence, a lock, an engine and an actor: the lexer
    only reads a keyword where the parser state accepts one."""
    assert kinds(f"""
        fence {word}
        resv r
        thread t {{
            lock r
            publish {word} in r
            unlock r
            signal {word}
            assert signalled({word})
        }}
    """) == frozenset()
    assert kinds(f"""
        lock {word}
        thread t {{
            lock {word}
            assert held({word})
            unlock {word}
        }}
    """) == frozenset()
    assert kinds(f"""
        engine {word} slots 1
        fence f
        thread {word}_t {{
            acquire {word}
            release {word}
        }}
        job {word}_j on {word} {{ signal f }}
        thread w {{ await done({word}_j) and done({word}_t) }}
    """) == frozenset()


def test_keyword_named_actor_in_done():
    assert kinds("""
        thread lock { }
        thread wait { await done(lock) }
    """) == frozenset()


def test_a_var_may_not_be_named_after_a_keyword():
    d = one_error("""
        var done = 0 in 0..1
        thread t {
            done = 1
            await done == 1
        }
    """)
    assert (d.line, d.col) == (1, 5)
    assert "'done' is a keyword" in d.message and "var" in d.message


def test_a_param_may_not_be_named_after_a_keyword():
    d = one_error("""
        param lock = 2
        thread t { }
    """)
    assert (d.line, d.col) == (1, 7)
    assert "'lock' is a keyword" in d.message and "param" in d.message


def test_a_copy_index_may_not_be_named_after_a_keyword():
    d = one_error("""
        fence f[1..2]
        thread t[wait in 1..2] { signal f[wait] }
    """)
    assert (d.line, d.col) == (2, 10)
    assert "'wait' is a keyword" in d.message and "index" in d.message


def test_assigning_to_a_keyword_says_why():
    d = one_error("""
        thread t {
            lock = 1
        }
    """)
    assert (d.line, d.col) == (2, 10)
    assert "'lock' is a keyword" in d.message


def test_other_syntax_errors_are_still_reported_beside_a_keyword_var():
    diags = errors("""
        var not = 0 in 0..1
        thread t { x = }
    """)
    assert [(d.line, d.col) for d in diags] == [(1, 5), (2, 16)]


def test_a_keyword_where_a_keyword_is_expected_still_reads_as_one():
    """`wait any` is the any-fence wait, not a fence named any."""
    assert kinds("""
        fence any
        thread t { wait any }
    """) == frozenset()


# ---------------------------------------------------------------- def and calls

def test_a_def_taking_locks_inlined_twice_in_opposite_orders():
    r = check("""
        lock A
        lock B
        def both(x, y) {
            lock x
            lock y
            unlock y
            unlock x
        }
        thread t1 { both(A, B) }
        thread t2 { both(B, A) }
    """)
    assert r.kinds == {"deadlock", "lock-order"}


def test_a_call_reads_step_by_step_with_the_callee_text():
    r = check("""
        lock A
        lock B
        def both(x, y) {
            lock x
            lock y
        }
        thread t1 { both(A, B) }
        thread t2 { both(B, A) }
    """)
    f = next(f for f in r.findings if f.kind == "deadlock")
    steps = [(s.line, s.statement) for s in f.trace]
    # the callee's line, its text with the parameter replaced by the argument, and the call
    assert steps[0][0] == 5 and steps[0][1] in ("lock A  (in both(), called on line 8)",
                                                "lock B  (in both(), called on line 9)")


def test_integer_parameters_and_for_loops_compute_at_build_time():
    spec = """
        var x = 0 in 0..20
        def add(k) { x = x + k * 2 }
        thread t {
            for k in 1..3 { add(k - 1) }
            assert x == %d
        }
    """
    assert kinds(spec % 6) == frozenset()
    assert kinds(spec % 5) == {"assert"}


def test_index_expressions_over_for_variables():
    assert kinds("""
        param N = 3
        fence f[0..N]
        thread a { for k in 0..N { signal f[N - k] } }
        thread b { for k in 0..N { wait f[k] } }
    """) == frozenset()
    assert kinds("""
        fence f[0..2]
        thread a { for k in 0..1 { signal f[k] } }
        thread b {
            for k in 0..2 {
                publish f[k]
                wait f[k]
            }
        }
    """) == {"deadlock"}


def test_an_array_passed_whole_and_one_element():
    assert kinds("""
        fence f[0..2]
        def all_of(fs) { for k in 0..2 { signal fs[k] } }
        def one(g) { wait g }
        thread a { all_of(f) }
        thread b { one(f[2]); one(f[0]) }
    """) == frozenset()


def test_return_ends_the_call_not_the_actor():
    assert kinds("""
        var x = 0 in 0..9
        def early() {
            return
            x = 9
        }
        thread t {
            early()
            x = 1
            assert x == 1
        }
    """) == frozenset()


def test_defs_call_defs_and_run_in_hooks():
    assert kinds("""
        lock L
        fence f
        def take() { lock L }
        def drop() { unlock L }
        def both() { take(); drop() }
        on reclaim { both() }
        thread t {
            lock L
            alloc kernel
            unlock L
        }
    """) == {"deadlock", "lock-order"}


def test_a_def_named_after_a_keyword_is_called_by_name():
    assert kinds("""
        var x = 0 in 0..3
        resv bo
        def release(r) {
            lock r
            unlock r
        }
        def signal() { x = 1 }
        thread t {
            release(bo)
            signal()
            assert (x == 1)
            if (x == 1) { x = 2 }
            await (x == 2)
        }
    """) == frozenset()


def test_copies_call_with_their_index():
    assert kinds("""
        fence f[1..2]
        def fin(k) { signal f[k] }
        thread t[i in 1..2] { fin(i) }
        thread w { wait f[1]; wait f[2] }
    """) == frozenset()


# ---------------------------------------------------------------- bad uses, positioned

def test_a_recursive_call_is_an_error():
    d = one_error("""
        def f() { f() }
        thread t { f() }
    """)
    assert (d.line, d.col) == (1, 11)
    assert "recursive" in d.message and "f -> f" in d.message


def test_mutual_recursion_is_an_error():
    d = one_error("""
        def f() { g() }
        def g() {
            f()
        }
        thread t { f() }
    """)
    assert (d.line, d.col) == (3, 5)
    assert "f -> g -> f" in d.message


def test_a_for_range_must_be_constant():
    d = one_error("""
        var n = 2 in 0..3
        fence f[0..3]
        thread t { for k in 0..n { signal f[k] } }
    """)
    assert (d.line, d.col) == (3, 24)
    assert "constant" in d.message


def test_a_for_index_out_of_range_points_at_the_index():
    d = one_error("""
        fence f[0..2]
        thread t { for k in 0..3 { signal f[k] } }
    """)
    assert (d.line, d.col) == (2, 37)
    assert "index 3 is out of range" in d.message


def test_calls_with_the_wrong_arity_or_target():
    d = one_error("""
        def f(a) { }
        thread t { f() }
    """)
    assert (d.line, d.col) == (2, 12) and "takes 1 argument" in d.message
    d = one_error("""
        lock L
        thread t { L(1) }
    """)
    assert (d.line, d.col) == (2, 12) and "only a def can be called" in d.message
    d = one_error("""
        thread t { nothing() }
    """)
    assert (d.line, d.col) == (1, 12) and "not declared" in d.message


def test_an_argument_of_the_wrong_kind_is_reported_at_the_call():
    d = one_error("""
        fence F
        def take(l) {
            lock l
        }
        thread t { take(F) }
    """)
    assert (d.line, d.col) == (5, 17)
    assert "'F' is a fence, but a lock is needed" in d.message and "line 3" in d.message


def test_an_error_inside_a_def_names_the_call():
    d = one_error("""
        def f() {
            lock nope
        }
        thread t { f() }
    """)
    assert (d.line, d.col) == (2, 10)
    assert "not declared" in d.message and "called on line 4" in d.message


def test_a_number_passed_where_an_object_is_needed():
    d = one_error("""
        def f(x) { signal x }
        thread t { f(1) }
    """)
    assert (d.line, d.col) == (1, 19) and "stands for a number" in d.message


def test_def_and_for_binders_may_not_be_keywords():
    d = one_error("""
        def f(wait) { }
        thread t { f(1) }
    """)
    assert (d.line, d.col) == (1, 7) and "def parameter" in d.message
    d = one_error("""
        thread t { for done in 1..2 { } }
    """)
    assert (d.line, d.col) == (1, 16) and "index" in d.message


def test_a_def_parameter_given_twice():
    d = one_error("""
        def f(a, a) { }
        thread t { f(1, 2) }
    """)
    assert (d.line, d.col) == (1, 10)


# ---------------------------------------------------------------- reachable / unreachable

from modelcheck.api import load  # noqa: E402
from modelcheck.search.explorer import Limits, explore  # noqa: E402
from modelcheck.semantics import System  # noqa: E402

FULL = Limits(reduction=False, symmetry=False)


TWO_INCREMENTS = """
    lock L
    var x = 0 in 0..3
    thread t[i in 1..2] {
        lock L
        x = x + 1
        unlock L
    }
    reachable "both in": x == 2
    reachable "three": x == %d
"""


def test_a_reachable_state_is_no_finding_and_an_unreachable_one_is():
    spec = TWO_INCREMENTS
    assert kinds(spec % 2) == frozenset()
    r = check(spec % 3)
    assert r.kinds == {"unreachable"}
    f = r.findings[0]
    assert f.message.startswith('reachable "three" (line 10)') and f.line == 10 and not f.trace


def test_expect_unreachable_passes():
    r = check("""
        fence f
        thread t { wait f }
        thread u { signal f }
        reachable "u waits": signalled(f) and not done(u)
        expect unreachable
    """)
    assert r.ok and r.kinds == {"unreachable"}


def test_reduction_keeps_a_reachable_predicate_visible():
    """Two independent actors: a reduced search would run one, then the
    other, and never see both in their middle."""
    spec = """
        var x = 0 in 0..1
        var y = 0 in 0..1
        thread a { x = 1; x = 0 }
        thread b { y = 1; y = 0 }
        reachable "both set": x == 1 and y == 1
    """
    assert kinds(spec) == frozenset()
    g = explore(System(load(textwrap.dedent(spec))), Limits(reduction=True, symmetry=False))
    assert g.reduction == "on"                  # the reduced graph itself has the state
    assert "both set" in g.reached and not g.found


def test_symmetry_keeps_a_predicate_over_one_copy():
    spec = """
        fence f[1..2]
        thread t[i in 1..2] { signal f[i] }
        reachable "only the second": signalled(f[2]) and not signalled(f[1])
        reachable "only the first": signalled(f[1]) and not signalled(f[2])
    """
    assert kinds(spec) == frozenset()
    g = explore(System(load(textwrap.dedent(spec))), Limits(reduction=False, symmetry=True))
    assert set(g.reached) == {"only the first", "only the second"} and not g.found


def test_an_incomplete_search_claims_nothing_unreachable():
    r = modelcheck.check_source(textwrap.dedent("""
        var x = 0 in 0..9
        thread t { while x < 9 { x = x + 1 } }
        reachable "nine": x == 9
    """), limits=Limits(max_states=5))
    assert not r.complete and "unreachable" not in r.kinds


def test_the_smt_engine_decides_reachable_once_every_execution_ended():
    r = modelcheck.check_source(TWO_INCREMENTS % 3, engine="smt")
    assert r.kinds == {"unreachable"} and r.findings[0].line == 10
    assert "every execution has ended" in r.stopped


def test_the_smt_engine_says_a_reachable_is_undecided_within_its_bound():
    r = modelcheck.check_source(textwrap.dedent("""
        var x = 0 in 0..9
        thread t { while true { x = (x + 1) % 9 } }
        reachable "five": x == 5
        reachable "nine": x == 9
    """), engine="smt", depth=12)
    assert r.kinds == frozenset()
    assert 'undecided: reachable "nine"' in r.stopped and '"five"' not in r.stopped


REACH = ["x == 2", "signalled(G) and not signalled(F)", "held(L) and x == 1",
         "published(F) and x == 0", "x == 1 and held(M)"]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(small_specs(), st.sampled_from(REACH))
def test_generated_reachables_agree_between_the_engines(text, reach):
    text += f'reachable "r": {reach}\n'
    note(text)
    explicit = modelcheck.check_source(text)
    try:
        smt = modelcheck.check_source(text, engine="smt", depth=12)
    except modelcheck.SpecError:            # a statement the smt engine refuses
        return
    if "every execution has ended" in smt.stopped:
        assert ("unreachable" in smt.kinds) == ("unreachable" in explicit.kinds)
    elif "unreachable" not in explicit.kinds:
        pass                                # seen by smt, or undecided within the bound
    else:
        assert "unreachable" not in smt.kinds and "undecided" in smt.stopped


def test_reachable_errors_are_positioned():
    d = one_error("""
        thread t { }
        reachable "x": signalled(nope)
    """)
    assert (d.line, d.col) == (2, 26) and "not declared" in d.message
    d = one_error("""
        var x = 0 in 0..1
        thread t { }
        reachable "x": x == 0
        reachable "x": x == 1
    """)
    assert (d.line, d.col) == (4, 11) and "already declared" in d.message


# ---------------------------------------------------------------- inlining means writing it out

import re  # noqa: E402


_ACTOR = re.compile(r"^((?:thread|job) (\w+)[^{]*)\{ (.*) \}$", re.M)


def _as_calls(text: str, loop: bool) -> str:
    """Each actor's body moved into a def (or a one-round `for`) and called."""
    defs = []

    def one(m):
        head, name, body = m.groups()
        if loop:
            return f"{head}{{ for k in 1..1 {{ {body} }} }}"
        defs.append(f"def body_{name}(n) {{ {body} }}")
        return f"{head}{{ body_{name}(1) }}"
    out = _ACTOR.sub(one, text)
    return out + "\n".join(defs) + "\n"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(small_specs(), st.booleans())
def test_a_call_or_a_for_means_its_body_written_out(text, loop):
    inlined = _as_calls(text, loop)
    note(inlined)
    plain = modelcheck.check_source(text)
    called = modelcheck.check_source(inlined)
    assert called.kinds == plain.kinds
    assert called.stats.states == plain.stats.states
    # findings are told apart by line, and the def's lines are others: compare
    # each kind's shortest trace
    shortest = lambda r: {k: min(len(f.trace) for f in r.findings if f.kind == k) for k in r.kinds}
    assert shortest(called) == shortest(plain)


def test_an_index_over_a_copy_index_is_printed_as_the_element_it_names():
    """`lock k[1 - i]` in copy 0 takes k[1], and every row says k[1]."""
    r = expect("""
        lock k[0..1]
        thread t[i in 0..1] { lock k[i]; lock k[1 - i]; unlock k[1 - i]; unlock k[i] }
    """, {"deadlock", "lock-order"})
    texts = {step.statement for f in r.findings for step in f.trace}
    assert "lock k[1]" in texts and not any("1 - " in t for t in texts)
