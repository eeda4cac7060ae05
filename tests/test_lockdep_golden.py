"""Golden files for `--format lockdep`, one per shape of kernel report:
tests/golden/lockdep/NAME.fspec must render as tests/golden/lockdep/NAME.txt.

The shapes follow kernel/locking/lockdep.c and real splats from drm drivers
posted to dri-devel and intel-gfx: the acquisition being attempted is
`-> #0` with the chain numbered downwards above it, "Chain exists of:" only
for three or more locks, CPU0/CPU1 with `rlock` for a read acquisition,
"N locks held by T/ID:" last.  Regenerate after an intended change with

    UPDATE_GOLDEN=1 .venv/bin/python -m pytest -q tests/test_lockdep_golden.py
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

import modelcheck
from modelcheck.language.model import FINDING_KINDS
from modelcheck.reports import lockdep

GOLDEN = Path("tests") / "golden" / "lockdep"
SHAPES = ["two_edge_cycle", "three_edge_primed", "recursive", "read_acquisition",
          "sleep_in_atomic", "irq_unsafe_lock"]


@pytest.mark.parametrize("name", SHAPES)
def test_lockdep_text_matches_golden(name, repo_root):
    if name == "irq_unsafe_lock" and "irq-unsafe-lock" not in FINDING_KINDS:
        pytest.skip("irq handlers and irq-unsafe-lock are not in the language yet")
    result = modelcheck.check_file(str(GOLDEN / f"{name}.fspec"))
    assert result.ok, result.summary()
    got = lockdep.render(result)
    golden = GOLDEN / f"{name}.txt"
    if os.environ.get("UPDATE_GOLDEN") == "1":
        golden.write_text(got)
    assert golden.exists(), f"missing {golden}; run with UPDATE_GOLDEN=1"
    assert got == golden.read_text()


def _splat(name):
    return lockdep.render(modelcheck.check_file(str(GOLDEN / f"{name}.fspec")))


def test_the_attempted_acquisition_is_number_zero_and_the_chain_descends(repo_root):
    text = _splat("three_edge_primed")
    marks = [l.split()[1] for l in text.splitlines() if l.startswith("-> #")]
    assert marks == ["#2", "#1", "#0"]
    head = text.splitlines()
    wants = head[head.index("allocator/1 is trying to acquire lock:") + 1]
    zero = head[head.index(next(l for l in head if l.startswith("-> #0")))]
    assert "(L)" in wants and "(L)" in zero
    assert "primed at boot by dma_resv_lockdep()" in text
    assert "Chain exists of:\n  L --> resv --> fs_reclaim" in text


def test_a_read_acquisition_prints_rlock(repo_root):
    text = _splat("read_acquisition")
    assert "  rlock(sem);" in text and "(sem), at: read_acquisition.fspec:14 lock sem shared" in text


def test_held_locks_name_instance_class_and_line(repo_root):
    text = _splat("three_edge_primed")
    assert "-> #1 bo (resv):" in text
    assert "1 lock held by allocator/1:\n #0: (fs_reclaim), at: three_edge_primed.fspec:13" in text


def test_a_plain_mutex_self_deadlock_gets_no_ww_hint(repo_root):
    text = _splat("recursive")
    assert "ww context" not in text and "the same lock taken twice" in text


def test_recursive_resv_names_the_ww_context():
    from helpers import check
    r = check("""
        resv R1
        resv R2
        thread t { lock R1; lock R2; unlock R2; unlock R1 }
    """)
    text = lockdep.render(r)
    assert "t/1 is trying to acquire lock:\n  R2 (resv), at: <string>:4 lock R2" in text
    assert "but task is already holding lock:\n  R1 (resv), at: <string>:4 lock R1" in text
    assert "ww context" in text


def test_sleep_in_atomic_is_the_kernel_bug_line(repo_root):
    text = _splat("sleep_in_atomic")
    assert text.startswith("BUG: sleeping function called from invalid context at "
                           "sleep_in_atomic.fspec:7 (wait done)\n")
    assert "1 lock held by waiter/1:\n #0: (irq_lock), at: sleep_in_atomic.fspec:6 lock irq_lock" in text


def test_irq_unsafe_lock_is_lockdeps_inconsistent_lock_state(repo_root):
    if "irq-unsafe-lock" not in FINDING_KINDS:
        pytest.skip("irq handlers are not in the language yet")
    text = _splat("irq_unsafe_lock")
    assert "WARNING: inconsistent lock state\n" in text
    assert "inconsistent {IN-HARDIRQ-W} -> {HARDIRQ-ON-W} usage.\n" in text
    assert "{IN-HARDIRQ-W} state was registered at:\n  fence_irq/2 at: irq_unsafe_lock.fspec:11" in text
    assert "  lock(fence_lock);\n  <Interrupt>\n    lock(fence_lock);" in text
