"""`--format lockdep`: deadlocks and lock-order cycles shaped like the
kernel's lockdep splat, on real specs."""
from __future__ import annotations

import subprocess
import sys

import modelcheck
from modelcheck.reports import lockdep

from helpers import REPO, check


def render(name):
    return lockdep.render(modelcheck.check_file(REPO / "specs" / f"{name}.fspec"))


def test_circular_dependency_as_lockdep_prints_it():
    text = render("signalling_lock_inversion")
    assert "WARNING: possible circular locking dependency detected" in text
    assert "waiter/1 is trying to acquire lock:\n  (dma_fence_map), at: signalling_lock_inversion.fspec:26 wait hw_fence" in text
    assert "but task is already holding lock:\n  (obj_lock), at: signalling_lock_inversion.fspec:25 lock obj_lock" in text
    assert "the existing dependency chain (in reverse order) is:" in text
    assert "-> #1 (obj_lock):\n       lock obj_lock\n       signalling_lock_inversion.fspec:18 by signaller/2, " \
        "holding dma_fence_map" in text
    assert " Possible unsafe locking scenario:" in text and " *** DEADLOCK ***" in text


def test_the_deadlock_scenario_is_the_real_interleaving_one_column_per_actor():
    text = render("signalling_lock_inversion")
    part = text[text.index("circular wait"):text.index("possible circular")]
    lines = part.splitlines()
    head = next(i for i, l in enumerate(lines) if l.strip().startswith("waiter"))
    assert lines[head].split() == ["waiter", "signaller"]
    col = lines[head].index("signaller")
    rows = lines[head + 2:head + 6]
    assert rows[0] == "  lock obj_lock;"                           # step 1, waiter's column
    assert rows[1].index("publish hw_fence;") == col                 # step 2, signaller's column
    assert rows[2].index("lock obj_lock;  <- blocks") == col
    assert rows[3] == "  wait hw_fence;  <- blocks"
    assert "lockdep would report it too: dma_fence_map -> obj_lock -> dma_fence_map" in part


def test_recursive_locking():
    r = check("""
        resv R1
        resv R2
        thread t { lock R1; lock R2; unlock R2; unlock R1 }
    """)
    text = lockdep.render(r)
    assert "WARNING: possible recursive locking detected" in text
    assert "t/1 is trying to acquire lock:\n  R2 (resv), at: <string>:4 lock R2" in text
    assert "  lock(resv);\n  lock(resv);" in text
    assert "missing lock nesting notation" in text


def test_a_cycle_through_the_boot_primed_order_says_so():
    text = render("signalling_alloc_kernel")
    assert "primed at boot by dma_resv_lockdep()" in text
    assert "the chain uses the orders primed at boot by dma_resv_lockdep(): fs_reclaim -> mmu_notifier, mmu_notifier -> dma_fence_map" in text


def test_a_safe_spec_prints_its_order():
    text = render("ok_wait_under_resv")
    assert "no lockdep splat" in text and "lock order proved: the dependencies force mmap_lock -> resv" in text


def test_spec_text_is_escaped():
    r = check('spec "evil \x1b[2J"\nlock A\nlock B\n'
              'thread t { lock A; lock B; unlock B; unlock A; lock B; lock A; unlock A; unlock B }\n')
    assert "\x1b" not in lockdep.render(r)


def test_cli_format_lockdep():
    p = subprocess.run([sys.executable, "-m", "modelcheck", "check", "--format", "lockdep",
                        str(REPO / "specs" / "tdr_modeset.fspec")], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    assert p.stdout.count("WARNING: possible circular locking dependency detected") == 1
    assert p.stdout.count("WARNING: circular wait") == 1
