"""One finding per root cause: the variants of one bug are folded (kept in
`Result.variants`, listed by `--all` and JSON), and the headline names the
wait-for cycle first."""
from __future__ import annotations

from helpers import check


def _count(r, kind):
    return sum(f.kind == kind for f in r.findings)


def test_an_aa_bug_in_two_copies_is_one_deadlock_and_one_recursive_locking():
    r = check("""
        lock m
        thread t[i in 1..2] { lock m; lock m; unlock m; unlock m }
        expect deadlock
        expect lock-order
    """)
    assert _count(r, "deadlock") == 1 and _count(r, "lock-order") == 1


def test_a_copy_symmetric_deadlock_is_one_finding():
    r = check("""
        lock a
        lock b
        thread t[i in 1..2] {
            choose { lock a; lock b; unlock b; unlock a } or { lock b; lock a; unlock a; unlock b }
        }
    """)
    assert _count(r, "deadlock") == 1 and _count(r, "lock-order") == 1


def test_a_mirror_image_lock_order_cycle_is_one_finding():
    r = check("""
        lock a
        lock b
        thread t1 { lock a; lock b; unlock b; unlock a; lock b; lock a; unlock a; unlock b }
        thread t2 { lock b; lock a; unlock a; unlock b; lock a; lock b; unlock b; unlock a }
    """)
    assert _count(r, "lock-order") == 1 and _count(r, "deadlock") == 1


def test_bystanders_are_folded_out_of_the_headline():
    r = check("""
        lock a
        lock b
        var go = 0 in 0..1
        thread t1 { lock a; lock b; unlock b; unlock a }
        thread t2 { lock b; lock a; unlock a; unlock b }
        thread idle1 { await go == 1 }
        thread idle2 { await go == 1 }
    """)
    f = next(f for f in r.findings if f.kind == "deadlock")
    assert f.message.startswith("blocked forever: t1 at line")
    assert "and 2 more blocked, not in the cycle" in f.message
    assert "idle" not in f.message


def test_copy_indices_are_substituted_in_statements():
    r = check("""
        fence sw_sig[1..2]
        thread t[i in 1..2] { wait sw_sig[i] }
        thread s { signal sw_sig[1] }
    """)
    f = next(f for f in r.findings if f.kind == "deadlock")
    assert "wait sw_sig[2]" in f.message and "[i]" not in str(f.as_dict())


def test_a_choice_names_its_branch_by_its_first_statement():
    r = check("""
        lock a
        thread t { choose { lock a } or { assert false } }
    """)
    rows = [s.effect for f in r.findings for s in f.trace]
    assert any("takes branch 2 (assert false, line 3)" in e for e in rows)
