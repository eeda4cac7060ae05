"""`check --distributed` agrees with the single-process search: the same
states, edges, findings, shortest traces and lock steps, on every spec and
on generated ones; limits and lost workers make it INCOMPLETE, never safe."""
from __future__ import annotations

import glob

import pytest
from hypothesis import HealthCheck, given, settings

import generate
from helpers import REPO
from modelcheck import api
from modelcheck.cluster import distributed
from modelcheck.search.explorer import Limits

ONE = Limits(reduction=False, core="python")


def over(parts=2, **kw):
    return Limits(reduction=False, distributed=distributed.Settings("local", parts), **kw)


def summary(r):
    return (r.stats.states, r.stats.transitions, r.stats.depth, sorted(r.kinds),
            sorted((f.kind, len(f.trace)) for f in r.findings), r.lock_steps, r.complete,
            r.lock_order.status if r.lock_order else None)


def test_every_spec_agrees_with_one_process(ray_cluster):
    for path in sorted(glob.glob(str(REPO / "specs/*.fspec"))):
        a, b = api.check_file(path, limits=ONE), api.check_file(path, limits=over())
        assert summary(a) == summary(b), path
        assert b.stats.core.startswith("distributed (2 partitions")


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(generate.specs())
def test_generated_specs_agree_with_one_process(ray_cluster, text):
    a = api.check_source(text, limits=ONE)
    b = api.check_source(text, limits=over(parts=3))
    assert summary(a) == summary(b)


def test_the_state_limit_cuts_where_one_process_cuts(ray_cluster):
    path = str(REPO / "specs/xe_preempt_fence_vm_lock_fixed.fspec")
    a = api.check_file(path, limits=Limits(reduction=False, core="python", max_states=40))
    b = api.check_file(path, limits=over(max_states=40))
    assert summary(a) == summary(b) and not b.complete
    assert b.stopped == "state limit reached (40 states)"


def test_the_memory_limit_is_per_worker(ray_cluster):
    r = api.check_file(str(REPO / "specs/ttm_evict_wait_busy.fspec"), limits=over(max_memory_mb=1))
    assert not r.complete and "memory limit reached (1 MB per worker" in r.stopped
    assert "found safe" not in r.verdict() and "nothing so far" in r.verdict()


def test_a_lost_partition_makes_the_run_incomplete(ray_cluster):
    ps = distributed._pool(ray_cluster, 2)
    ray_cluster.kill(ps[1])
    r = api.check_file(str(REPO / "specs/ttm_evict_wait_busy.fspec"), limits=over())
    assert not r.complete and "a partition was lost" in r.stopped and not r.findings
    r = api.check_file(str(REPO / "specs/ttm_evict_wait_busy.fspec"), limits=over())
    assert r.complete                           # the next search starts new partitions


def test_cli_distributed_and_its_usage_errors(ray_cluster, capsys):
    from modelcheck import cli
    assert cli.main(["check", "--distributed", "--partitions", "2", "--summary",
                     str(REPO / "specs/proxy_fence_fork.fspec")]) == 0
    assert "ok: found deadlock" in capsys.readouterr().out
    with pytest.raises(SystemExit) as e:
        cli.main(["check", "--partitions", "2", str(REPO / "specs/proxy_fence_fork.fspec")])
    assert e.value.code == 2
    with pytest.raises(SystemExit) as e:
        cli.main(["check", "--distributed", "--early", str(REPO / "specs/proxy_fence_fork.fspec")])
    assert e.value.code == 2


STEP_KINDS = {"assert", "invariant", "signal-before-deps", "publish-without-lock", "unlock-not-held",
              "sleep-in-atomic", "lock-held-at-exit", "lock-order", "unreachable", "irq-unsafe-lock"}


def test_without_gathering_the_safety_kinds_agree_and_the_others_are_undecided(ray_cluster):
    for path in sorted(glob.glob(str(REPO / "specs/*.fspec"))):
        # symmetry is off without gathering: a quotient graph's findings rename actors
        a = api.check_file(path, limits=Limits(reduction=False, symmetry=False, core="python"))
        b = api.check_file(path, limits=Limits(reduction=False, distributed=distributed.Settings(
            "local", 2, gather=False)))
        assert not b.complete and "not decided in distributed mode" in b.stopped, path
        assert "found safe" not in b.verdict(), path
        assert (b.stats.states, b.stats.transitions, b.stats.depth) == \
            (a.stats.states, a.stats.transitions, a.stats.depth), path
        shortest = lambda r, k: min(len(f.trace) for f in r.findings + r.variants if f.kind == k)
        for kind in STEP_KINDS & a.kinds:
            assert kind in b.kinds and shortest(a, kind) == shortest(b, kind), (path, kind)
        assert b.kinds <= a.kinds, path
        # deadlocks, where others go on too: the fixpoint across partitions, the same first states
        assert ("deadlock" in a.kinds) == ("deadlock" in b.kinds), path
        if "deadlock" in a.kinds:
            assert shortest(a, "deadlock") == shortest(b, "deadlock"), path


def test_cli_no_gather_says_what_it_did_not_decide(ray_cluster, capsys):
    from modelcheck import cli
    status = cli.main(["check", "--distributed", "--no-gather", str(REPO / "specs/ttm_evict_wait_busy.fspec")])
    out = capsys.readouterr().out
    flat = " ".join(out.split())         # the core: line wraps where its text is long
    assert status == 1 and "found:    nothing so far" in out and "graph not gathered" in flat
    assert "not decided in distributed mode without gathering" in flat
    assert "indefinite-fence, timeout-hang" in flat and "other actors go on" not in flat


@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
@given(generate.specs())
def test_generated_specs_without_gathering_find_the_same_deadlocks(ray_cluster, text):
    a = api.check_source(text, limits=Limits(reduction=False, symmetry=False, core="python"))
    b = api.check_source(text, limits=Limits(reduction=False, distributed=distributed.Settings(
        "local", 3, gather=False)))
    assert ("deadlock" in a.kinds) == ("deadlock" in b.kinds) and b.kinds <= a.kinds
    assert (b.stats.states, b.stats.transitions) == (a.stats.states, a.stats.transitions)
