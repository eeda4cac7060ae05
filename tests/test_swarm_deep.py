"""Swarm on a deep bug: bench/specs/pipeline_deep_buggy.fspec, whose
deadlock is reached only after every job of every stage has run.  Its
shortest trace is known by construction (the spec's header); here it is
checked against breadth-first search at small sizes, and the swarm's
shortening must bring a depth-first run's long trace back to it."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from helpers import REPO
from modelcheck import api
from modelcheck.cluster import swarm, swarming
from modelcheck.reports import report
from modelcheck.search.explorer import Limits
from modelcheck.semantics import System

SPEC = REPO / "bench/specs/pipeline_deep_buggy.fspec"
TEXT = SPEC.read_text()


def shortest(n: int, j: int) -> int:
    """D(N, J) of the spec's header: every stage but the last finished, the
    last one at its last `lock m`, reclaim's first round up to its pick."""
    return 6 * j * n - 2 * j + 2


def system(n, j):
    return System(api.load(TEXT, str(SPEC), {"N": n, "J": j}))


@pytest.mark.parametrize("n,j", [(1, 1), (2, 1), (3, 1), (1, 2), (2, 2), (3, 2), (2, 3), (4, 2)])
def test_the_shortest_deadlock_is_the_one_the_header_derives(n, j):
    # breadth-first, stopping at the first deadlock: its trace is a shortest one
    early = api.check_source(TEXT, {"N": n, "J": j}, limits=Limits(early=True))
    (dl,) = [f for f in early.findings if f.kind == "deadlock"]
    assert len(dl.trace) == shortest(n, j)
    # and it is the only deadlock there is: the whole graph has no other
    full = api.check_source(TEXT, {"N": n, "J": j})
    assert full.ok and [f.kind for f in full.findings].count("deadlock") == 1


@pytest.mark.parametrize("order", ["reversed", "shuffled"])
def test_detours_of_a_depth_first_trace_are_cut_back_to_the_shortest(order):
    n, j = 5, 2
    sys_ = system(n, j)
    r = swarm.run(sys_, 0, order, None, seed=11, bits=20, poll=lambda r: bool(r.findings))
    ((fk, (_msg, path)),) = [(fk, v) for fk, v in r.findings.items() if fk[0] == "deadlock"]
    assert len(path) > shortest(n, j)            # reclaim's rounds in between
    import time
    short = swarm.drop_detours(sys_, fk[0], fk[1], swarm.cut_loops(sys_, path, False),
                               time.monotonic() + 60)
    assert swarm.holds(sys_, fk[0], fk[1], short)
    assert len(short) == shortest(n, j)


def test_drop_detours_keeps_a_trace_that_has_none():
    sys_ = system(3, 2)
    r = swarm.run(sys_, 0, "in order", None, seed=0, bits=20, poll=lambda r: bool(r.findings))
    ((fk, (_msg, path)),) = [(fk, v) for fk, v in r.findings.items() if fk[0] == "deadlock"]
    assert len(path) == shortest(3, 2)           # in actor order, the first path is a shortest one
    import time
    assert swarm.drop_detours(sys_, fk[0], fk[1], path, time.monotonic() + 60) == path


def test_swarm_finds_the_deep_deadlock_within_twice_the_shortest(ray_cluster, monkeypatch):
    monkeypatch.setattr(swarm, "SHORTEN_STATES", 20_000)
    n, j = 8, 2
    r = swarming.check_source(TEXT, str(SPEC), runs=2, params={"N": n, "J": j}, seed=5,
                              max_states=20_000, bits=20, first=True)
    assert "deadlock" in r.kinds and not r.complete
    mine = min(len(f.trace) for f in r.findings if f.kind == "deadlock")
    assert shortest(n, j) <= mine <= 2 * shortest(n, j), mine
    text = report.table(r)
    assert "no proof" in text and " safe" not in text.split("expected:")[0]


def test_a_safe_spec_exits_0_without_calling_it_safe_and_ray_stays_quiet(tmp_path):
    """A swarm that finds nothing on a spec expecting nothing is not a failure
    (exit 0, as `check` exits 0 when findings equal the expect lines), but it
    says `nothing so far` and `no proof`, never `safe`.  Ray's own line about
    token authentication does not reach stderr."""
    spec = tmp_path / "safe.fspec"
    spec.write_text('spec "one order"\nlock a\nlock b\n'
                    'thread t[i in 0..1] {\n lock a\n lock b\n unlock b\n unlock a\n}\n')
    env = {k: v for k, v in os.environ.items() if k != "RAY_AUTH_MODE"}
    out = subprocess.run([sys.executable, "-m", "modelcheck", "swarm", "--runs", "2", str(spec)],
                         capture_output=True, text=True, cwd=REPO, env=env, timeout=600)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "found:    nothing so far" in out.stdout and "no proof" in out.stdout
    assert "found:    safe" not in out.stdout
    assert "Token authentication" not in out.stderr and out.stderr.strip() == "", out.stderr


def test_a_buggy_spec_whose_bug_the_swarm_misses_fails(ray_cluster):
    """Expecting a deadlock the runs never reach (depth bound 3) is exit 1."""
    r = swarming.check_source(TEXT, str(SPEC), runs=1, params={"N": 2, "J": 1}, depth=3, bits=16)
    assert not r.findings and not r.ok
