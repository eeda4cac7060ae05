"""`bench/run.py --ray`: swarm and distributed search against one process.

    .venv/bin/python bench/run.py --ray                      # the defaults below
    .venv/bin/python bench/run.py --ray --swarm-n 24 --exhaustive-timeout 600 --dist-n 6

1. Swarm time-to-first-bug against the exhaustive search on the buggy
   pipeline at a size where the exhaustive search does not finish in its
   time: `modelcheck check` (whole graph, the default mode) with
   `--timeout`, then `modelcheck swarm --first`; the swarm's trace beside
   the shortest one (`check --early`: breadth-first, stops at the first
   deadlock).
2. Distributed on a local Ray cluster with 2 and 4 partitions against one
   process (the native core without reduction: the same graph), on the
   fixed pipeline: whole-process wall and CPU seconds (Ray's start-up
   included), the overhead per state, the bytes the partitions sent each
   other per state, and which partitions ran (native or Python).
3. Memory: `check --max-memory M` stops INCOMPLETE on a pipeline size (the
   states it reached are shown), while `check --distributed --no-gather
   --partitions 4 --max-memory M` (the cap per worker) finishes a pipeline
   with at least 4x as many states: states, verdict, wall/CPU seconds, each
   worker's peak memory, the bytes exchanged and held per state.

Every figure is a whole process of the public CLI, as in bench/run.py.
"""
from __future__ import annotations

import json
import re
import time
from pathlib import Path

from tabulate import tabulate

HERE = Path(__file__).resolve().parent


def _json(r):
    try:
        return json.loads(r.stdout)["files"][0]
    except (ValueError, KeyError, IndexError):
        return None


def _trace(f) -> int | None:
    ds = [x for x in (f or {}).get("findings", []) if x.get("kind") == "deadlock"]
    return min((len(x.get("trace", [])) for x in ds), default=None)


def swarm_section(run, cmd, work: Path, n: int, timeout: float, runs: int, max_mb: int) -> list:
    spec = str(HERE / "specs" / "pipeline_buggy.fspec")
    rows = []
    ex = run(cmd + ["check", "--format", "json", "--timeout", str(timeout), "--max-memory", str(max_mb),
                    "-D", f"N={n}", spec], work, timeout + 60)
    f = _json(ex)
    verdict = "timeout" if ex.timed_out or not f else \
        f"INCOMPLETE: {f['stopped']}" if not f["complete"] else "+".join(f["found"])
    rows.append(["exhaustive (check, whole graph)", verdict, f and f["stats"]["states"],
                 f"{ex.seconds:.1f}", f"{ex.cpu:.1f}", _trace(f) if f and f["complete"] else "-"])
    early = run(cmd + ["check", "--early", "--format", "json", "-D", f"N={n}", spec], work, timeout)
    fe = _json(early)
    rows.append(["breadth-first to the first deadlock (check --early)",
                 "+".join(fe["found"]) if fe else "error", fe and fe["stats"]["states"],
                 f"{early.seconds:.1f}", f"{early.cpu:.1f}", _trace(fe)])
    sw = run(cmd + ["swarm", "--runs", str(runs), "--first", "--format", "json", "-D", f"N={n}", spec],
             work, timeout)
    fs = _json(sw)
    first = fs and fs.get("swarm", {}).get("first_finding_seconds")
    rows.append([f"swarm --runs {runs} --first (Ray start-up included)",
                 "+".join(fs["found"]) if fs else "error", fs and fs["swarm"]["states"],
                 f"{sw.seconds:.1f}", f"{sw.cpu:.1f}", _trace(fs)])
    notes = []
    if first is not None:
        notes.append(f"the first finding reached the swarm's driver {first:.1f} s after the runs started")
    if fs and fe and _trace(fs) and _trace(fe):
        notes.append(f"swarm trace {_trace(fs)} steps, shortest {_trace(fe)}: "
                     f"{_trace(fs) / _trace(fe):.2f}x")
    return rows, notes


def distributed_section(run, cmd, work: Path, n: int, timeout: float, parts: list) -> list:
    spec = str(HERE / "specs" / "pipeline_fixed.fspec")
    rows = []
    one = run(cmd + ["check", "--format", "json", "--engine", "native", "--no-reduction",
                     "-D", f"N={n}", spec], work, timeout)
    f1 = _json(one)
    if not f1:
        return [["one process (native core, no reduction)", "error", f"{one.seconds:.1f}",
                 "-", "-", "-", "-"]]
    states = f1["stats"]["states"]
    rows.append([f"one process ({f1['stats']['core']} core, no reduction)", states,
                 f"{one.seconds:.1f}", f"{one.cpu:.1f}", "-", "-", "-"])
    for p in parts:
        d = run(cmd + ["check", "--format", "json", "--distributed", "--partitions", str(p),
                       "-D", f"N={n}", spec], work, timeout)
        fd = _json(d)
        if not fd:
            rows.append([f"distributed, {p} partitions", "error", f"{d.seconds:.1f}", "-", "-", "-", "-"])
            continue
        same = "yes" if (fd["stats"]["states"], fd["stats"]["transitions"], fd["found"]) == \
            (f1["stats"]["states"], f1["stats"]["transitions"], f1["found"]) else "NO"
        sent = re.search(r"(\d+) bytes exchanged", fd["stats"]["core"])
        per = (d.seconds - one.seconds) / max(states, 1) * 1e6
        kind = "native" if "native partitions" in fd["stats"]["core"] else "python"
        rows.append([f"distributed, {p} {kind} partitions (local Ray)", fd["stats"]["states"],
                     f"{d.seconds:.1f}",
                     f"{d.cpu:.1f}", f"{per:.0f}",
                     f"{int(sent.group(1)) / max(states, 1):.0f}" if sent else "-", same])
    return rows


def memory_section(run, cmd, work: Path, cap: int, n1: int, n4: int, timeout: float) -> tuple:
    """One process capped at `cap` MB against 4 workers capped at `cap` MB each."""
    spec = str(HERE / "specs" / "pipeline_fixed.fspec")
    rows, notes = [], []
    one = run(cmd + ["check", "--format", "json", "--max-memory", str(cap), "-D", f"N={n1}", spec],
              work, timeout)
    f1 = _json(one)
    s1 = f1 and f1["stats"]["states"]
    verdict = "error" if not f1 else f"INCOMPLETE: {f1['stopped']}" if not f1["complete"] \
        else "+".join(f1["found"]) or "safe"
    rows.append([f"one process, N={n1}, --max-memory {cap}", verdict, s1, "-", f"{one.seconds:.1f}",
                 f"{one.cpu:.1f}", f"{one.maxrss_mb:.0f} (the process)", "-", "-"])
    d = run(cmd + ["check", "--format", "json", "--distributed", "--partitions", "4", "--no-gather",
                   "--max-memory", str(cap), "-D", f"N={n4}", spec], work, timeout)
    fd = _json(d)
    if not fd:
        rows.append([f"distributed, 4 workers, N={n4}", "error", "-", "-", f"{d.seconds:.1f}",
                     "-", "-", "-", "-"])
        return rows, [(d.stdout + d.stderr)[-500:]]
    s4, core = fd["stats"]["states"], fd["stats"]["core"]
    limit = "limit reached" in (fd["stopped"] or "")
    verdict = f"INCOMPLETE: {fd['stopped']}" if limit else \
        ("+".join(fd["found"]) or "no finding") + " (search finished; fair-cycle kinds not decided)"
    peaks = re.search(r"workers' peak memory ([\d, ]+) MB", core)
    sent = re.search(r"(\d+) bytes exchanged", core)
    held = re.search(r"partitions hold ([\d-]+) bytes a state", core)
    rows.append([f"distributed --no-gather, 4 workers, N={n4}, --max-memory {cap} each", verdict, s4,
                 f"{s4 / max(s1 or 1, 1):.2f}x", f"{d.seconds:.1f}", f"{d.cpu:.1f}",
                 peaks.group(1) if peaks else "-",
                 f"{int(sent.group(1)) / max(s4, 1):.0f}" if sent else "-", held.group(1) if held else "-"])
    if s1 and not limit:
        notes.append(f"4 workers capped at {cap} MB each finished {s4:,} states: {s4 / s1:.2f}x the "
                     f"{s1:,} one process capped at {cap} MB reached before stopping")
    return rows, notes


def main(run, cmd, work: Path, args) -> int:
    work.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    if args.only_distributed:
        return _distributed_table(run, cmd, work, args)
    mrows, mnotes = memory_section(run, cmd, work, args.mem_cap, args.mem_single_n, args.mem_dist_n,
                                   max(args.exhaustive_timeout, 1800))
    print(f"memory: one process against 4 workers, each capped at {args.mem_cap} MB "
          "(pipeline_fixed; a worker's memory is its RSS without Ray's shared object store)\n")
    print(tabulate(mrows, headers=["search", "verdict", "states", "x one", "s", "CPU s",
                                   "peak MB per worker", "bytes sent/state", "bytes held/state"],
                   tablefmt="simple", disable_numparse=True))
    for note in mnotes:
        print(f"  {note}")
    if args.only_memory:
        return 0
    rows, notes = swarm_section(run, cmd, work, args.swarm_n, args.exhaustive_timeout, args.swarm_runs,
                                args.max_memory)
    print(f"swarm against the exhaustive search: pipeline_buggy N={args.swarm_n} "
          f"(exhaustive --timeout {args.exhaustive_timeout:g} s --max-memory {args.max_memory})\n")
    print(tabulate(rows, headers=["search", "verdict", "states", "s", "CPU s", "deadlock trace"],
                   tablefmt="simple", disable_numparse=True))
    for note in notes:
        print(f"  {note}")
    print()
    _distributed_table(run, cmd, work, args)
    print(f"\ntotal {time.perf_counter() - t0:.0f} s; CPU s counts the processes the CLI waited for: "
          "Ray's workers run apart, so their CPU is in wall time only")
    return 0


def _distributed_table(run, cmd, work: Path, args) -> int:
    drows = distributed_section(run, cmd, work, args.dist_n, args.exhaustive_timeout, [2, 4])
    print(f"distributed against one process: pipeline_fixed N={args.dist_n}\n")
    print(tabulate(drows, headers=["search", "states", "s", "CPU s", "overhead us/state",
                                   "bytes sent/state", "same graph"],
                   tablefmt="simple", disable_numparse=True))
    return 0 if all(row[-1] in ("-", "yes") for row in drows) else 1
