"""Real lockdep splats from public sources (tests/splats/NAME.txt, the
source in NAME.source): the generated skeleton equals the golden
NAME.fspec, and checking it reproduces the report's cycle, with the
verdict on a real deadlock pinned here."""
from __future__ import annotations

import importlib.util

import pytest

from helpers import REPO
from modelcheck.splat import model, parse, verdict

DIR = REPO / "tests" / "splats"
NAMES = sorted(p.stem for p in DIR.glob("*.txt"))

# NAME -> is a real deadlock reachable in the generated model?
DEADLOCK = {
    "amdgpu_debugfs_mqd_mmap_lock": False,       # mmap_lock -> ww ctx -> resv only primed; mmap_lock read
    "amdgpu_devcoredump_recursive_resv": False,  # two resvs of one class; different objects
    "amdgpu_tdr_console_lock": False,            # fs_reclaim -> dma_fence_map only primed; lock_reset a trylock
    "amdgpu_tdr_modeset_begin_signalling": False,  # not reproduced: no cycle in the model
    "amdgpu_userq_destroy_recursive": True,      # the same userq mutex twice
    "amdkfd_fork_svm_dqm_lock": True,            # fork's notifier, add_queue_mes, svm validation
    "i915_capture_fs_reclaim": False,            # mmu_notifier -> dma_fence_map only primed
    "mm_mprotect_i_mmap_rwsem": False,           # fs_reclaim -> i_mmap_rwsem only primed
    "msm_gmu_prepare_lock": True,                # the shrinker waits for the job that needs the GMU lock
    "msm_ring0_devfreq_lock": False,             # mmu_notifier -> dma_fence_map only primed
    "msm_ring0_gmu_icc": False,                  # mmu_notifier -> dma_fence_map only primed
    "msm_submit_opp_table_lock": False,          # mmap_sem only read-held
    "nouveau_cursor_pin_cli_mutex": True,        # ABBA on one resv and one cli mutex
    "panfrost_reset_fs_reclaim": False,          # fs_reclaim -> dma_fence_map only primed
}

# Reports the model cannot reproduce, and why: kept so that the reason stays
# said (the generator warns about it) and a change that reproduces them shows.
NOT_REPRODUCED = {
    # a 5.7 development kernel where dma_fence_begin_signalling() was a plain
    # read acquisition; upstream it is a read trylock, which records nothing,
    # and so does entering a `signalling { }` section in the model
    "amdgpu_tdr_modeset_begin_signalling": "records no dependency for",
}

# Published without their stack backtrace (the poster cut it).
CUT = {"amdgpu_userq_destroy_recursive": ["the stack backtrace"]}


def _golden():
    spec = importlib.util.spec_from_file_location("splat_goldens", REPO / "scripts" / "splat_goldens.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.golden


def test_every_splat_has_a_source_a_golden_and_a_verdict():
    for n in NAMES:
        assert (DIR / f"{n}.source").read_text().startswith("http"), n
        assert (DIR / f"{n}.fspec").exists(), f"{n}: run scripts/splat_goldens.py {n}"
    assert sorted(DEADLOCK) == NAMES


@pytest.mark.parametrize("name", NAMES)
def test_generated_spec_is_the_golden(name):
    assert _golden()(DIR / f"{name}.txt") == (DIR / f"{name}.fspec").read_text(encoding="utf-8")


def _verdict(name):
    r = parse.parse((DIR / f"{name}.txt").read_text(encoding="utf-8"))
    assert r.missing == CUT.get(name, []), r.missing
    return r, verdict.check(r, model.generate(r, f"{name}.txt"))


@pytest.mark.parametrize("name", [n for n in NAMES if n not in NOT_REPRODUCED])
def test_the_report_is_reproduced(name):
    """The same classes in the same order, down to the acquisition lockdep
    was looking at (#0)."""
    r, v = _verdict(name)
    assert v.reproduced, "\n".join(v.lines)
    assert v.cycle_classes == r.classes


@pytest.mark.parametrize("name", NAMES)
def test_the_verdict_on_a_real_deadlock(name):
    r, v = _verdict(name)
    assert ("deadlock" in v.result.kinds) == DEADLOCK[name], "\n".join(v.lines)
    said = "\n".join(v.lines)
    assert ("a real deadlock is reachable" in said) == DEADLOCK[name]
    if r.kind in (parse.CIRCULAR, parse.RECURSIVE) and name not in NOT_REPRODUCED:
        assert ("only a lockdep-level cycle" in said) != DEADLOCK[name]


def test_the_corpus_has_a_dozen_reproduced_reports():
    assert len(set(NAMES) - set(NOT_REPRODUCED)) >= 12


@pytest.mark.parametrize("name", sorted(NOT_REPRODUCED))
def test_what_is_not_reproduced_says_why(name):
    r, v = _verdict(name)
    assert not v.reproduced
    assert any(NOT_REPRODUCED[name] in w for w in v.spec.warnings)


def test_readme_the_amdkfd_fix_removes_the_deadlock():
    """README: allocating the BO outside the dqm lock (the fix) leaves no deadlock."""
    import modelcheck
    text = (DIR / "amdkfd_fork_svm_dqm_lock.fspec").read_text()
    assert "deadlock" in modelcheck.check_source(text).kinds
    fixed = text.replace("    lock dqm_lock_hidden\n    lock bo\n    unlock bo\n    unlock dqm_lock_hidden\n",
                         "    lock bo\n    unlock bo\n    lock dqm_lock_hidden\n    unlock dqm_lock_hidden\n")
    assert fixed != text
    assert "deadlock" not in modelcheck.check_source(fixed).kinds
