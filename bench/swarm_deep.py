"""`bench/run.py --ray --swarm-deep`: swarm against exhaustive search on a
bug too deep for breadth-first search (opt-in: it takes two exhaustive runs
of `--exhaustive-timeout` seconds each, 10 minutes by default).

    .venv/bin/python bench/run.py --ray --swarm-deep                 # N=16, J=4, 600 s
    .venv/bin/python bench/run.py --ray --swarm-deep --deep-n 6 --deep-j 2 --exhaustive-timeout 60

The design is specs/pipeline_deep_buggy.fspec: its deadlock needs every job
of every stage to have run, and its shortest trace has exactly
D(N, J) = 6*J*N - 2*J + 2 steps (derived in the spec's header, checked
against breadth-first search at small sizes by tests/test_swarm_deep.py).

1. `check` (whole graph, the native core) with `--timeout` and `--max-memory`;
2. `check --early` (breadth-first, stops at the first deadlock), the same limits;
3. `swarm --runs K --first`: time to the first finding, its trace against D,
   and that `safe` is never printed.

Every figure is a whole process of the public CLI, as in bench/run.py.
"""
from __future__ import annotations

import json
import time
from pathlib import Path

from tabulate import tabulate

HERE = Path(__file__).resolve().parent
SPEC = HERE / "specs" / "pipeline_deep_buggy.fspec"


def shortest(n: int, j: int) -> int:
    return 6 * j * n - 2 * j + 2


def _file(r):
    try:
        return json.loads(r.stdout)["files"][0]
    except (ValueError, KeyError, IndexError):
        return None


def _deadlock_trace(f):
    ds = [x for x in (f or {}).get("findings", []) if x.get("kind") == "deadlock"]
    return min((len(x.get("trace", [])) for x in ds), default=None)


def _verdict(r, f) -> str:
    if r.timed_out:
        return "killed at the bench's timeout"
    if not f:
        return f"error (exit {r.rc})"
    found = "+".join(f["found"]) or "nothing"
    return found if f["complete"] else f"{found}; INCOMPLETE: {f['stopped'].split(';')[0]}"


def main(run, cmd, work: Path, args) -> int:
    work.mkdir(parents=True, exist_ok=True)
    n, j, t, mb = args.deep_n, args.deep_j, args.exhaustive_timeout, args.max_memory
    d = shortest(n, j)
    params = ["-D", f"N={n}", "-D", f"J={j}"]
    rows, notes = [], []
    t0 = time.perf_counter()
    for label, extra in (("exhaustive (check, whole graph, native core)", []),
                         ("breadth-first to the first deadlock (check --early)", ["--early"])):
        r = run(cmd + ["check", *extra, "--format", "json", "--timeout", str(t), "--max-memory", str(mb),
                       *params, str(SPEC)], work, t + 300)
        f = _file(r)
        st = (f or {}).get("stats", {})
        rows.append([label, _verdict(r, f), st.get("states", "-"), st.get("depth", "-"),
                     f"{r.seconds:.0f}", f"{r.cpu:.0f}", f"{r.maxrss_mb:.0f}", _deadlock_trace(f) or "-"])
        if st.get("states"):
            notes.append(f"{label.split(' (')[0]}: {r.cpu / st['states'] * 1e6:.1f} us CPU and "
                         f"{r.maxrss_mb * 2**20 / st['states']:.0f} bytes (peak RSS) a state")
    sw = run(cmd + ["swarm", "--runs", str(args.swarm_runs), "--first", "--format", "json", *params, str(SPEC)],
             work, t + 300)
    fs = _file(sw)
    mine = _deadlock_trace(fs)
    rows.append([f"swarm --runs {args.swarm_runs} --first (Ray start-up included)", _verdict(sw, fs),
                 f"about {fs['swarm']['states']:,}" if fs else "-", fs and fs["stats"]["depth"],
                 f"{sw.seconds:.0f}", f"{sw.cpu:.0f}", f"{sw.maxrss_mb:.0f}", mine or "-"])
    if fs:
        first = fs["swarm"].get("first_finding_seconds")
        if first is not None:
            notes.append(f"the swarm's first finding reached its driver {first:.1f} s after its runs started")
        for what, how in fs["swarm"].get("shortening", {}).items():
            notes.append(f"{what}: {how}")
    if mine:
        notes.append(f"swarm deadlock trace {mine} steps, shortest {d} (by construction): {mine / d:.2f}x")
    if fs:
        notes.append("the swarm claims no proof: " + ("yes (complete: false, safe not among what it found)"
                     if not fs["complete"] and "safe" not in fs["found"] else "NO"))
    notes.append("a whole-graph check's deadlock trace ends where the deadlock can no longer be "
                 "avoided; early-bug mode's and the swarm's end in the deadlock itself (D steps at best)")
    print(f"swarm against exhaustive search on a deep bug: pipeline_deep_buggy N={n} J={j}, "
          f"shortest deadlock trace D = {d} steps (exhaustive runs: --timeout {t:g} --max-memory {mb})\n")
    print(tabulate(rows, headers=["search", "verdict", "states", "depth", "s", "CPU s", "peak MB",
                                  "deadlock trace"], tablefmt="simple", disable_numparse=True))
    for note in notes:
        print(f"  {note}")
    print(f"\ntotal {time.perf_counter() - t0:.0f} s; CPU s counts the processes the CLI waited for "
          "(the swarm's Ray workers run apart: their CPU is in wall time only)")
    return 0
