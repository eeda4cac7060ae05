"""Contract v2, the language itself: keywords as names, `def` and calls,
`for` loops and index expressions, `reachable` properties."""
from __future__ import annotations

import textwrap

import pytest

import modelcheck
from modelcheck.language.syntax import keywords
from helpers import check, kinds

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
