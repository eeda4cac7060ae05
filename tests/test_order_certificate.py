"""The order certificate is the partial order the dependencies force, not
one total order z3 happened to pick."""
from __future__ import annotations

from modelcheck.verdicts import lockorder
from helpers import check


def test_unrelated_classes_are_said_to_be_unrelated():
    r = check("""
        prime none
        lock vm_lock
        lock other
        thread t { lock vm_lock; unlock vm_lock; lock other; unlock other }
    """)
    words = r.lock_order.words()
    assert "force nothing (" in words and "vm_lock, other unrelated to every other class" in words
    assert "<" not in words and "any total order extending this is a valid ranking" in words


def test_the_forced_order_is_transitively_reduced():
    E = lockorder.Edge
    edges = [E("a", "b", "t", 1, ""), E("b", "c", "t", 2, ""), E("a", "c", "t", 3, ""),
             E("a", "d", "t", 4, "")]
    chains, alone = lockorder.forced(["a", "b", "c", "d", "e"], edges)
    assert chains == ["a -> b -> c", "a -> d"] and alone == ["e"]


def test_a_real_spec_orders_only_what_its_code_orders():
    r = check("""
        lock vm_lock
        thread fault_path { lock mmap_lock shared; lock vm_lock; unlock vm_lock; unlock mmap_lock shared }
    """)
    assert "mmap_lock -> vm_lock" in r.lock_order.words()
