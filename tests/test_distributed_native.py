"""Native partitions of `check --distributed` (cluster/native.py): they run
the native core's step and store, and agree with the single-process search
and with the Python partitions; the memory cap is per worker."""
from __future__ import annotations

import glob

import pytest
from hypothesis import HealthCheck, given, settings

import generate
from helpers import REPO
from modelcheck import api
from modelcheck.cluster import distributed
from modelcheck.search import native
from modelcheck.search.explorer import Limits

NATIVE = "native partitions"
# without the C extension every partition is a Python one: the rest of the
# suite (test_distributed.py) covers those
needs_core = pytest.mark.skipif(not native.available(), reason="the C extension is not built")


def over(parts=2, gather=True, **kw):
    return Limits(reduction=False, distributed=distributed.Settings("local", parts, gather=gather), **kw)


def summary(r):
    return (r.stats.states, r.stats.transitions, r.stats.depth, sorted(r.kinds),
            sorted((f.kind, len(f.trace)) for f in r.findings + r.variants), r.lock_steps, r.complete,
            r.stopped, r.lock_order.status if r.lock_order else None)


@needs_core
def test_every_spec_on_native_partitions_agrees_with_one_native_process(ray_cluster):
    for path in sorted(glob.glob(str(REPO / "specs/*.fspec"))):
        a = api.check_file(path, limits=Limits(reduction=False, symmetry=False))
        b = api.check_file(path, limits=over(symmetry=False))
        assert a.stats.core == "native", path
        assert NATIVE in b.stats.core, (path, b.stats.core)
        assert summary(a) == summary(b), path


@needs_core
def test_native_and_python_partitions_agree_without_gathering(ray_cluster):
    for path in sorted(glob.glob(str(REPO / "specs/*.fspec"))):
        a = api.check_file(path, limits=over(gather=False, core="python"))
        b = api.check_file(path, limits=over(gather=False))
        assert "python partitions (asked for)" in a.stats.core and NATIVE in b.stats.core, path
        assert summary(a) == summary(b), path
        assert [(f.kind, f.trace) for f in a.findings] == [(f.kind, f.trace) for f in b.findings], path


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(generate.specs())
def test_generated_specs_on_native_partitions_agree(ray_cluster, text):
    a = api.check_source(text, limits=Limits(reduction=False, symmetry=False, core="python"))
    b = api.check_source(text, limits=over(symmetry=False))
    assert NATIVE in b.stats.core or "python partitions" in b.stats.core
    assert summary(a) == summary(b)


@needs_core
def test_symmetry_keeps_python_partitions_and_says_so(ray_cluster):
    path = str(REPO / "specs/pagefault_dedicated_engines.fspec")
    r = api.check_file(path, limits=over())
    assert "python partitions (symmetry on)" in r.stats.core


@needs_core
def test_the_state_limit_cuts_native_partitions_where_one_process_cuts(ray_cluster):
    path = str(REPO / "specs/xe_preempt_fence_vm_lock_fixed.fspec")
    for cap in (1, 40, 117):
        a = api.check_file(path, limits=Limits(reduction=False, max_states=cap))
        b = api.check_file(path, limits=over(max_states=cap))
        assert NATIVE in b.stats.core and summary(a) == summary(b) and not b.complete


@needs_core
def test_the_memory_cap_is_per_worker_on_native_partitions(ray_cluster):
    path = str(REPO / "specs/ttm_evict_wait_busy.fspec")
    for gather in (True, False):
        r = api.check_file(path, limits=over(gather=gather, max_memory_mb=1))
        assert NATIVE in r.stats.core
        assert not r.complete and "memory limit reached (1 MB per worker, partition" in r.stopped
        assert "found safe" not in r.verdict()


@needs_core
def test_native_partitions_say_what_they_hold_a_state(ray_cluster):
    r = api.check_file(str(REPO / "specs/ttm_evict_wait_busy.fspec"), limits=over(gather=False))
    assert "bytes exchanged" in r.stats.core and "bytes a state" in r.stats.core


@needs_core
def test_one_partition_and_python_partitions_on_request(ray_cluster):
    path = str(REPO / "specs/ttm_evict_wait_busy.fspec")
    a = api.check_file(path, limits=Limits(reduction=False, symmetry=False))
    for parts, core in ((1, "auto"), (2, "python")):
        for gather in (True, False):
            b = api.check_file(path, limits=over(parts, gather=gather, symmetry=False, core=core))
            assert (NATIVE in b.stats.core) == (core == "auto"), b.stats.core
            assert (b.stats.states, b.stats.transitions, b.stats.depth) == \
                (a.stats.states, a.stats.transitions, a.stats.depth)
            if gather:
                assert summary(a) == summary(b)


@needs_core
def test_past_127_actors_the_steps_name_the_right_actor(ray_cluster):
    """Native partitions hold up to 62 actors (their masks); past that the
    Python partitions run, and past 127 the driver keeps a step's actor in
    two bytes."""
    text = """
        var x = 0 in 0..130
        thread t[i in 0..129] { await x == i; x = x + 1 }
        thread last { await x == 130; assert x < 130 }
    """
    a = api.check_source(text, limits=Limits(reduction=False, symmetry=False))
    b = api.check_source(text, limits=over(symmetry=False))
    assert "python partitions (over 62 actors)" in b.stats.core, b.stats.core
    assert summary(a) == summary(b)
    (fa,), (fb,) = a.findings, b.findings
    assert fa.kind == "assert" and fa.trace[-3].actor == "t[129]" and fa.trace[-1].actor == "last"
    assert [step.actor for step in fa.trace] == [step.actor for step in fb.trace]
