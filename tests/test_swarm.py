"""Swarm verification: diversified bitstate runs find real bugs, replayed and
shortened, and never claim a proof."""
from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from helpers import REPO
from modelcheck import api
from modelcheck.cluster import swarm, swarming
from modelcheck.reports import report
from modelcheck.search.explorer import Limits
from modelcheck.semantics import System

ABBA = textwrap.dedent("""
    spec "ABBA"
    lock a
    lock b
    thread t1 { lock a
                lock b
                unlock b
                unlock a }
    thread t2 { lock b
                lock a
                unlock a
                unlock b }
    expect deadlock
    expect lock-order
""")

SAFE = textwrap.dedent("""
    spec "one order"
    lock a
    lock b
    thread t[i in 0..1] { lock a
                          lock b
                          unlock b
                          unlock a }
""")

PIPELINE = (REPO / "bench/specs/pipeline_buggy.fspec").read_text()


def system(text, params=None):
    return System(api.load(text, "<t>", params))


@pytest.mark.parametrize("order", ["in order", "reversed", "shuffled"])
def test_every_order_finds_the_abba_deadlock_and_its_path_replays(order):
    sys_ = system(ABBA)
    r = swarm.run(sys_, 0, order, None, seed=3, bits=16)
    deadlocks = [(k, p) for (kind, k), (_m, p) in r.findings.items() if kind == "deadlock"]
    assert deadlocks and r.stopped == "searched everything it could reach"
    key, path = deadlocks[0]
    assert swarm.holds(sys_, "deadlock", key, path)
    assert r.deps                                  # the lock steps it stood at


def test_a_depth_bound_hides_what_lies_beyond_it():
    r = swarm.run(system(ABBA), 0, "in order", 1, seed=0, bits=16)
    assert not any(kind == "deadlock" for kind, _k in r.findings)
    assert r.stopped == "searched everything within its bound"


def test_shortening_reaches_the_shortest_deadlock_of_a_long_path():
    sys_ = system(PIPELINE, {"N": 4})
    r = swarm.run(sys_, 0, "reversed", None, seed=0, bits=20)
    (key, path), *_ = sorted(((k, p) for (kind, k), (_m, p) in r.findings.items() if kind == "deadlock"),
                             key=lambda kp: -len(kp[1]))
    best = {("deadlock", key): ("", path)}
    (how,) = swarming._shorten_all(sys_, best, None, 0.0).values()
    short = best[("deadlock", key)][1]
    assert "a shortest trace" in how and swarm.holds(sys_, "deadlock", key, short)
    bfs, _n = swarm.shortest(sys_, "deadlock", key, len(short))
    assert len(short) == len(bfs) <= len(path)


def test_a_path_that_does_not_replay_is_never_shown():
    with pytest.raises(swarm.Lost):
        swarm.replay(system(ABBA), [(0, 5)])


def test_swarm_finds_the_pipeline_deadlock_at_a_large_size_without_a_proof(ray_cluster, monkeypatch):
    monkeypatch.setattr(swarm, "SHORTEN_STATES", 30_000)
    n = 14
    r = swarming.check_source(PIPELINE, "pipeline_buggy.fspec", runs=2, params={"N": n},
                              max_states=5_000, bits=20)
    assert {"deadlock", "lock-order"} <= r.kinds and not r.complete and r.engine == "swarm"
    assert r.ok                                    # found what it expects; incomplete still
    text = report.table(r)
    assert "no proof" in text and "safe" not in text.split("expected:")[0]
    # the swarm's trace against the shortest one (breadth-first, early-bug mode)
    shortest = api.check_source(PIPELINE, {"N": n}, limits=Limits(early=True))
    best = min(len(f.trace) for f in shortest.findings if f.kind == "deadlock")
    mine = min(len(f.trace) for f in r.findings if f.kind == "deadlock")
    assert best <= mine <= 2 * best, (mine, best)


def test_a_safe_design_is_never_called_safe(ray_cluster):
    r = swarming.check_source(SAFE, "safe.fspec", runs=2, bits=16)
    assert not r.findings and not r.complete
    assert r.ok                                    # nothing expected, nothing found: not a failure
    assert "found nothing so far" in r.verdict() and "no proof" in r.verdict()
    assert "found:    nothing so far" in report.table(r)
    assert "swarm:    2 runs, about" in report.table(r)


def test_cli_swarm_json(ray_cluster, tmp_path):
    from modelcheck import cli
    import io
    import contextlib
    spec = tmp_path / "abba.fspec"
    spec.write_text(ABBA)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        status = cli.main(["swarm", str(spec), "--runs", "2", "--format", "json"])
    import json
    doc = json.loads(out.getvalue())["files"][0]
    assert status == 0 and doc["engine"] == "swarm" and doc["complete"] is False
    assert set(doc["found"]) == {"deadlock", "lock-order"} and doc["swarm"]["runs"] == 2
    import jsonschema
    from modelcheck.reports import schema
    jsonschema.Draft202012Validator(schema.schema()).validate(json.loads(out.getvalue()))


def test_the_timeout_stops_every_run_with_what_it_found(ray_cluster, monkeypatch):
    monkeypatch.setattr(swarm, "SHORTEN_STATES", 20_000)
    r = swarming.check_source(PIPELINE, "pipeline_buggy.fspec", runs=2, params={"N": 20},
                              max_states=10**9, bits=20, timeout=2)
    assert not r.complete and r.stopped.startswith("time limit reached (2 s)")
    assert set(r.swarm["ended"]) <= {"time limit reached", "stopped",
                                     "searched everything within its bound"}
    assert "deadlock" in r.kinds                   # the bug is shallow: found within the time


def test_without_ray_the_commands_say_how_to_get_it():
    code = ("import sys; sys.modules['ray'] = None\n"
            "from modelcheck import cli\n"
            "sys.exit(cli.main(['swarm', 'specs/proxy_fence_fork.fspec', '--runs', '1']))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO)
    assert out.returncode == 2 and "pip install 'modelcheck[ray]'" in out.stderr, out.stderr


def test_check_does_not_import_ray():
    code = ("import sys, modelcheck.cli as c\n"
            "c.main(['check', '--summary', 'specs/proxy_fence_fork.fspec'])\n"
            "print('ray' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO)
    assert out.stdout.strip().splitlines()[-1] == "False", out.stdout + out.stderr
