"""`make bench`: each bench family at growing sizes, with our checker and
with SPIN in the same run, in one table.

    .venv/bin/python bench/run.py                 # the quick sizes, a few minutes
    .venv/bin/python bench/run.py --full          # pipeline N=8..24 and the big sizes of the others
    .venv/bin/python bench/run.py --sizes pipeline=4,8 pagefault=3x2 ring=3
    .venv/bin/python bench/run.py --families ring --timeout 60 --no-spin
    .venv/bin/python bench/run.py --workers 2     # --workers 2 against 1, pipeline fixed N=20,24

Both sides are timed as a user runs them, whole process against whole
process: ours is `modelcheck check --format json -D N=.. SPEC`; SPIN is
`spin -a`, `gcc -O2 -DSAFETY -DBFS pan.c`, `./pan` (compile time included).
Wall seconds and CPU seconds (user + system of the child and what it waited
for, from wait4(): the machine is shared, so CPU is the figure to compare)
are both reported.  Peak memory is each child's own maximum resident set;
SPIN's is pan's.  Only the public CLI of modelcheck is used, so the bench keeps
working when the explorer changes.  See bench/README.md.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from tabulate import tabulate

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "spin"))
import promela  # noqa: E402  (bench/spin/promela.py)

SPECS = HERE / "specs"
SHARED_MODEL = HERE / "spin" / "shared"          # copy of ../shared/bench/spin/models
INSTALL_HINT = ("SPIN not found: install it with `apt-get install -y spin gcc` (Debian/Ubuntu; "
                "other systems: https://spinroot.com).  Running our side only.")


@dataclass
class Family:
    name: str
    params: tuple                  # param names, in the order of a size tuple
    variants: dict                 # variant -> (spec file, expected verdict)
    sizes: list                    # default (quick) sizes
    full: list                     # the sizes of --full
    min_size: tuple = ()           # the smallest size (the test uses it)
    early: tuple = ()              # variants also run in early-bug mode (`--early`)

    def label(self, size: tuple) -> str:
        return ",".join(f"{p}={v}" for p, v in zip(self.params, size))


FAMILIES = {
    "pipeline": Family("pipeline", ("N",),
                       {"buggy": ("pipeline_buggy.fspec", "deadlock"),
                        "fixed": ("pipeline_fixed.fspec", "safe")},
                       [(8,), (12,)], [(8,), (12,), (16,), (20,), (24,)], (1,), ("buggy",)),
    "pagefault": Family("pagefault", ("N", "M"),
                        {"shared": ("pagefault_shared.fspec", "deadlock"),
                         "preemptible": ("pagefault_preemptible.fspec", "safe")},
                        [(2, 1), (4, 2), (5, 2)], [(2, 1), (4, 2), (5, 2), (6, 3)], (1, 1), ("shared",)),
    "ring": Family("ring", ("N",),
                   {"deadlock": ("ring_deadlock.fspec", "deadlock"),
                    "fixed": ("ring_fixed.fspec", "safe")},
                   [(3,), (5,)], [(3,), (5,), (6,)], (1,), ("deadlock",)),
}


def promela_for(family: str, variant: str, size: tuple) -> str:
    return promela.FAMILIES[family](variant, *size)


# ---------------------------------------------------------------- running a child

@dataclass
class Run:
    rc: int | None                 # None when killed at the timeout
    stdout: str
    stderr: str
    seconds: float
    maxrss_mb: float
    cpu: float = 0.0               # user + system seconds of the child and its waited-for children

    @property
    def timed_out(self) -> bool:
        return self.rc is None


def run(cmd: list, cwd: Path, timeout: float) -> Run:
    """Run cmd in its own process group; wall time and the child's own peak
    RSS (wait4).  Past the timeout the group is killed and rc is None."""
    out_path, err_path = cwd / ".stdout", cwd / ".stderr"
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        t0 = time.perf_counter()
        p = subprocess.Popen(cmd, cwd=cwd, stdout=out, stderr=err, start_new_session=True)
        waited: dict = {}
        waiter = threading.Thread(target=lambda: waited.update(r=os.wait4(p.pid, 0)), daemon=True)
        waiter.start()
        try:
            waiter.join(max(timeout, 0.01))
        finally:                                   # the timeout, or Ctrl-C: end what we started
            killed = "r" not in waited
            if killed:
                try:
                    os.killpg(p.pid, signal.SIGKILL)
                except ProcessLookupError:         # it ended just now
                    pass
                waiter.join()
        seconds = time.perf_counter() - t0
    _, status, usage = waited["r"]
    p.returncode = os.waitstatus_to_exitcode(status)     # already reaped by wait4
    return Run(None if killed else p.returncode, out_path.read_text(errors="replace"),
               err_path.read_text(errors="replace"), seconds, usage.ru_maxrss / 1024,
               usage.ru_utime + usage.ru_stime)


# ---------------------------------------------------------------- our checker

def modelcheck_cmd() -> list:
    exe = Path(sys.executable).parent / "modelcheck"
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "modelcheck"]


def engine() -> str:
    """The explicit engine the bench runs: the native core where the
    installed checker has one (`--engine native`), else the Python one."""
    r = subprocess.run(modelcheck_cmd() + ["check", "--help"], capture_output=True, text=True)
    return "native" if "native" in r.stdout else "python"


@dataclass
class Outcome:
    """One side's figures for one row; verdict is deadlock / safe / timeout / error / ..."""
    verdict: str = "-"
    states: int | None = None
    transitions: int | None = None
    seconds: float | None = None   # whole process(es), wall
    cpu: float | None = None       # whole process(es), CPU (user + system)
    search_s: float | None = None  # the search alone, as the tool reports it
    mb: float | None = None
    trace: int | None = None       # shortest counterexample, in steps
    complete: bool = True
    note: str = ""
    extra: dict = field(default_factory=dict)


@dataclass
class Budget:
    """What each run may take: wall seconds, memory (MB), and how many times
    it is repeated (the run of median time is reported)."""
    timeout: float = 300
    max_mb: int = 4096
    reps: int = 1


def repeat(fn, reps: int) -> Outcome:
    outs = [fn()]
    while len(outs) < reps and outs[-1].verdict not in ("timeout", "error"):
        outs.append(fn())
    outs.sort(key=lambda o: o.seconds or 0)
    return outs[(len(outs) - 1) // 2]


def ours(family: Family, variant: str, size: tuple, work: Path, budget: Budget,
         early: bool = False, native: bool = False, workers: int = 1) -> Outcome:
    spec = SPECS / family.variants[variant][0]
    cmd = modelcheck_cmd() + ["check", "--format", "json", "--max-memory", str(budget.max_mb)]
    cmd += (["--early"] if early else []) + (["--engine", "native"] if native else [])
    cmd += ["--workers", str(workers)] if workers > 1 else []
    for p, v in zip(family.params, size):
        cmd += ["-D", f"{p}={v}"]
    r = run(cmd + [str(spec)], work, budget.timeout)
    if r.timed_out:
        return Outcome("timeout", seconds=r.seconds, cpu=r.cpu, mb=r.maxrss_mb)
    try:
        f = json.loads(r.stdout)["files"][0]
    except (ValueError, KeyError, IndexError):
        return Outcome("error", seconds=r.seconds, cpu=r.cpu,
                       note=(r.stderr.strip().splitlines() or ["?"])[-1])
    st = f.get("stats", {})
    deadlocks = [x for x in f.get("findings", []) if x.get("kind") == "deadlock"]
    trace = min((len(x.get("trace", [])) + len(x.get("then", [])) for x in deadlocks), default=None)
    found = sorted(k for k in f.get("found", []) if k != "lock-order")   # SPIN has no lockdep model
    verdict = "safe" if not found else "+".join(found)
    f["stats"] = {k: v for k, v in st.items() if "seconds" not in k and "memory" not in k}
    complete = bool(f.get("complete", True))
    if early and f.get("mode") == "early" and not complete:
        complete = True           # stopped at its first finding, as pan does: that is the verdict
    if not complete:
        verdict += " (incomplete)"
    return Outcome(verdict, st.get("states"), st.get("transitions"), r.seconds, r.cpu, st.get("seconds"),
                   r.maxrss_mb, trace, complete, "" if f.get("ok") else "not as expected",
                   {"result": json.dumps(f, sort_keys=True)})


def workers_table(sizes: list, workers: int, work: Path, budget: Budget) -> int:
    """`--workers W` against one thread on the fixed pipeline: wall and CPU
    seconds of the search alone (as the report gives it) and of the whole
    process, both speed-ups, and whether the two JSON results are the same
    (timings left out).  The load average is printed beside: the machine is
    shared, and other work on the cores is time the threads wait."""
    fam, rows, bad = FAMILIES["pipeline"], [], 0
    for size in sizes:
        print(f"pipeline fixed {fam.label(size)}, workers 1 and {workers} ...", file=sys.stderr, flush=True)
        load = os.getloadavg()[0]
        one = repeat(lambda: ours(fam, "fixed", size, work, budget, native=True), budget.reps)
        many = repeat(lambda: ours(fam, "fixed", size, work, budget, native=True, workers=workers),
                      budget.reps)
        load = (load + os.getloadavg()[0]) / 2
        done = all(o.verdict not in ("timeout", "error", "skipped") for o in (one, many))
        same = done and one.extra.get("result") == many.extra.get("result")
        bad += done and not same
        speed = lambda a, b: f"{a / b:.2f}" if a and b else "-"
        rows.append([fam.label(size), fmt(one.states), fmt(one.search_s, "{:.2f}"),
                     fmt(many.search_s, "{:.2f}"), speed(one.search_s, many.search_s),
                     fmt(one.seconds, "{:.2f}"), fmt(one.cpu, "{:.2f}"),
                     fmt(many.seconds, "{:.2f}"), fmt(many.cpu, "{:.2f}"),
                     speed(one.seconds, many.seconds), f"{load:.1f}",
                     ("yes" if same else "MISMATCH") if done else "-"])
    reps = f"median of {budget.reps} runs" if budget.reps > 1 else "one run each"
    print(f"modelcheck bench: --workers {workers} against 1, native core; {os.cpu_count()} cores; {reps}")
    print("search s: the search alone, wall (the report's searched: line); whole: the process, "
          "wall and CPU (user + system); load: 1-minute load average during the pair\n")
    print(tabulate(rows, headers=["pipeline fixed", "states", "search s (1)", f"search s ({workers})",
                                  "search speed-up", "whole s (1)", "whole CPU s (1)",
                                  f"whole s ({workers})", f"whole CPU s ({workers})",
                                  "whole speed-up", "load", "same result"],
                   tablefmt="simple", disable_numparse=True))
    if bad:
        print(f"\n{bad} size(s) where the results differ")
    return 1 if bad else 0


# ---------------------------------------------------------------- SPIN

def spin_available() -> bool:
    return bool(shutil.which("spin") and shutil.which("gcc"))


def parse_pan(text: str) -> dict:
    d: dict = {}
    for key, pat in (("states", r"([\d.e+]+) states, stored"),
                     ("transitions", r"([\d.e+]+) transitions \(= stored\+matched\)"),
                     ("errors", r"errors: (\d+)"),
                     ("error_depth", r"invalid end state \(at depth (\d+)\)"),
                     ("pan_s", r"pan: elapsed time ([\d.e+]+) seconds")):
        m = re.search(pat, text)
        if m:
            d[key] = float(m.group(1))
    d["incomplete"] = "max search depth too small" in text or "Search not completed" in text \
        or "out of memory" in text
    return d


def spin(pml_name: str, text: str | None, defines: list, work: Path, budget: Budget,
         copy_from: Path | None = None) -> Outcome:
    """spin -a, gcc, pan in `work`, each timed; the three times add up.
    -DMEMLIM only bounds pan's memory as --max-memory bounds ours."""
    work.mkdir(parents=True, exist_ok=True)
    if copy_from is not None:
        for f in copy_from.iterdir():
            shutil.copy(f, work / f.name)
    else:
        (work / pml_name).write_text(text)
    for stale in work.glob("*.trail"):
        stale.unlink()
    total, cpu, deadline = 0.0, 0.0, time.perf_counter() + budget.timeout
    steps = ([["spin", *defines, "-a", pml_name]],
             [["gcc", "-O2", "-DSAFETY", "-DBFS", f"-DMEMLIM={budget.max_mb}", "-o", "pan", "pan.c"]],
             [["./pan"]])
    build = 0.0
    for (cmd,) in steps:
        r = run(cmd, work, deadline - time.perf_counter())
        total += r.seconds
        cpu += r.cpu
        if r.timed_out:
            return Outcome("timeout", seconds=total, cpu=cpu)
        if cmd[0] != "./pan":
            build += r.seconds
            if r.rc != 0:
                return Outcome("error", seconds=total, cpu=cpu, note=(r.stdout + r.stderr).strip()[-200:])
    d = parse_pan(r.stdout)
    if "states" not in d:
        return Outcome("error", seconds=total, note=r.stdout.strip()[-200:])
    dead = d.get("errors", 0) > 0             # pan stops at the first one: that is the verdict
    incomplete = d["incomplete"] and not dead
    verdict = "deadlock" if dead else "safe (incomplete)" if incomplete else "safe"
    return Outcome(verdict, int(d["states"]), int(d.get("transitions", 0)), total, cpu, r.seconds,
                   r.maxrss_mb, int(d["error_depth"]) if dead and "error_depth" in d else None,
                   not incomplete, extra={"build_s": build})


# ---------------------------------------------------------------- the table

def fmt(x, spec="{:,}") -> str:
    return "-" if x is None else spec.format(x)


def per_state(o: Outcome, base_mb: float) -> str:
    """Bytes per stored state above the tool's start-up footprint; '-' where
    the states are too few for the difference to mean anything."""
    if o.states is None or o.mb is None or o.states < 10_000 or o.mb <= base_mb:
        return "-"
    return f"{(o.mb - base_mb) * 2**20 / o.states:,.0f}"


def rate(o: Outcome) -> str:
    """States per second of search (ours: the search as the checker times it;
    SPIN: pan's wall time); '-' below 0.2 s, where start-up and timer
    resolution make it noise."""
    if o.states is None or not o.search_s or o.search_s < 0.2:
        return "-"
    return f"{o.states / o.search_s:,.0f}"


def agreement(a: Outcome, b: Outcome | None, traces: bool = True) -> str:
    """yes / MISMATCH: what differs / - (one side has no answer)."""
    if b is None or {a.verdict, b.verdict} & {"-", "timeout", "skipped", "error"}:
        return "-"
    if not (a.complete and b.complete) and a.verdict.split(" ")[0] != b.verdict.split(" ")[0]:
        return "-"                                 # a cut-short search claims nothing
    if a.verdict != b.verdict:
        return f"MISMATCH: verdict {a.verdict} vs {b.verdict}"
    if traces and a.trace != b.trace:
        return f"MISMATCH: trace {a.trace} vs {b.trace} steps"
    return "yes"


COLUMNS = ["family", "variant", "size", "verdict", "states", "transitions", "s", "CPU s", "states/s",
           "MB", "B/state", "trace", "SPIN verdict", "SPIN states", "SPIN s", "SPIN CPU s",
           "SPIN build s", "SPIN states/s", "SPIN MB", "SPIN B/state", "SPIN trace",
           "ours/SPIN", "ours/SPIN CPU", "agree"]
C = {name: i for i, name in enumerate(COLUMNS)}


def targets(rows: list) -> list:
    """The figures issue 11 sets targets for, read off the table (nothing is
    asserted: the targets are for the explorer, this only reports)."""
    out = []
    find = lambda variant, n: next((r for r in rows if r[:3] == ["pipeline", variant, f"N={n}"]), None)
    for n in (12, 20):
        r = find("fixed", n)
        if r and r[C["ours/SPIN CPU"]] != "-":
            x = float(r[C["ours/SPIN CPU"]])
            out.append(f"pipeline fixed N={n}: ours/SPIN {x:.2f} in CPU, {r[C['ours/SPIN']]} in wall "
                       f"({'met' if x <= 0.5 else 'missed'}: target <= 0.5 in CPU)")
    for variant, goal, what in (("buggy (early)", 1.0, "faster than SPIN in early-bug mode"),
                                ("buggy", 1.0, "ours/SPIN <= 1 in the default mode")):
        for n in (8, 10, 12):
            r = find(variant, n)
            if r and r[C["ours/SPIN CPU"]] != "-":
                x = float(r[C["ours/SPIN CPU"]])
                out.append(f"pipeline {variant} N={n}: ours/SPIN {x:.2f} in CPU, {r[C['ours/SPIN']]} in "
                           f"wall, trace {r[C['trace']]} against SPIN's {r[C['SPIN trace']]} "
                           f"({'met' if x <= goal else 'missed'}: {what})")
                break
    r = find("fixed", 24)
    if r and r[C["CPU s"]] != "-":
        ok = r[C["verdict"]] == "safe" and float(r[C["CPU s"]]) <= 60 and float(r[C["MB"]]) <= 4096
        out.append(f"pipeline fixed N=24: {r[C['verdict']]} after {r[C['CPU s']]} s CPU, {r[C['MB']]} MB "
                   f"({'met' if ok else 'missed'}: target within 60 s CPU and 4 GB)")
    elif r:
        out.append(f"pipeline fixed N=24: {r[C['verdict']]} (missed: target within 60 s CPU and 4 GB)")
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="the quick sizes (the default)")
    ap.add_argument("--full", action="store_true",
                    help="pipeline N=8,12,16,20,24 and the big sizes of the others (an hour on Python)")
    ap.add_argument("--sizes", nargs="*", default=[], metavar="FAMILY=S,S",
                    help="sizes per family: pipeline=4,8  pagefault=3x2,4x2 (N x M)  ring=3")
    ap.add_argument("--families", nargs="*", choices=sorted(FAMILIES), help="only these families")
    ap.add_argument("--timeout", type=float, default=300, metavar="S",
                    help="per run and side (default 300 s); a size past it shows 'timeout' "
                         "and the larger sizes of that side are skipped")
    ap.add_argument("--max-memory", type=int, default=4096, metavar="MB",
                    help="memory bound of each run (default 4096): ours --max-memory, pan -DMEMLIM")
    ap.add_argument("--reps", type=int, default=1, metavar="R",
                    help="run each measurement R times and report the run of median time")
    ap.add_argument("--no-spin", action="store_true", help="our side only")
    ap.add_argument("--no-shared", action="store_true",
                    help="skip the second table (SPIN on the shared pipeline model)")
    ap.add_argument("--work", type=Path, default=HERE / "out", help="scratch directory (default bench/out)")
    ap.add_argument("--workers", type=int, metavar="W",
                    help="instead of the tables above: --workers W against 1 on the fixed pipeline "
                         "(sizes: --sizes pipeline=..., default 20,24), speed-ups and same results")
    ray = ap.add_argument_group("--ray: swarm and distributed search on a local Ray cluster "
                                "(bench/cluster.py; needs the ray extra), instead of the tables above")
    ray.add_argument("--ray", action="store_true")
    ray.add_argument("--swarm-n", type=int, default=24, metavar="N",
                     help="pipeline_buggy size for swarm against exhaustive (default 24)")
    ray.add_argument("--swarm-runs", type=int, default=4, metavar="K", help="swarm runs (default 4)")
    ray.add_argument("--exhaustive-timeout", type=float, default=600, metavar="S",
                     help="time of the exhaustive search that does not finish (default 600)")
    ray.add_argument("--dist-n", type=int, default=16, metavar="N",
                     help="pipeline_fixed size for distributed against one process (default 16)")
    ray.add_argument("--mem-cap", type=int, default=420, metavar="MB",
                     help="--max-memory of one process and of each distributed worker (default 420)")
    ray.add_argument("--mem-single-n", type=int, default=26, metavar="N",
                     help="pipeline_fixed size one process cannot finish under the cap (default 26)")
    ray.add_argument("--mem-dist-n", type=int, default=28, metavar="N",
                     help="pipeline_fixed size 4 capped workers finish (default 28: 13.1 M states, "
                          "about 3 minutes on a quiet 2-core machine)")
    ray.add_argument("--only-memory", action="store_true", help="only the 4x-memory table")
    ray.add_argument("--only-distributed", action="store_true",
                     help="only the table of distributed against one process (--dist-n)")
    ray.add_argument("--swarm-deep", action="store_true",
                     help="instead: swarm against exhaustive search on a deep bug (bench/swarm_deep.py; "
                          "two exhaustive runs of --exhaustive-timeout each, then the swarm)")
    ray.add_argument("--deep-n", type=int, default=16, metavar="N",
                     help="pipeline_deep_buggy stages for --swarm-deep (default 16)")
    ray.add_argument("--deep-j", type=int, default=4, metavar="J",
                     help="pipeline_deep_buggy jobs per stage for --swarm-deep (default 4)")
    args = ap.parse_args(argv)
    # the package's bytecode written once, as `pip install` does: every run
    # below is a user's run, not a first import compiling ~40 modules (which
    # is what every run would pay where PYTHONDONTWRITEBYTECODE is set)
    import compileall
    import modelcheck
    compileall.compile_dir(str(Path(modelcheck.__file__).parent), quiet=1)
    if args.ray and args.swarm_deep:
        import swarm_deep                   # bench/swarm_deep.py
        return swarm_deep.main(run, modelcheck_cmd(), args.work / "ray", args)
    if args.ray:
        import cluster                      # bench/cluster.py
        return cluster.main(run, modelcheck_cmd(), args.work / "ray", args)
    if args.quick and args.full:
        ap.error("--quick and --full: choose one")

    sizes = {name: (f.full if args.full else f.sizes) for name, f in FAMILIES.items()}
    for item in args.sizes:
        name, _, vals = item.partition("=")
        if name not in FAMILIES or not vals:
            ap.error(f"--sizes takes FAMILY=S,S with FAMILY one of {', '.join(FAMILIES)}, not '{item}'")
        try:
            sizes[name] = [tuple(int(v) for v in s.split("x")) for s in vals.split(",")]
        except ValueError:
            ap.error(f"--sizes {item}: sizes are integers, NxM for pagefault")
        if any(len(s) != len(FAMILIES[name].params) for s in sizes[name]):
            ap.error(f"--sizes {item}: {name} takes {'x'.join(FAMILIES[name].params)}")
    families = args.families or list(FAMILIES)
    budget = Budget(args.timeout, args.max_memory, max(1, args.reps))
    if args.workers is not None:
        if args.workers < 2:
            ap.error("--workers takes a number of threads >= 2 (compared with 1)")
        args.work.mkdir(parents=True, exist_ok=True)
        chosen = sizes["pipeline"] if any(i.startswith("pipeline=") for i in args.sizes) else [(20,), (24,)]
        return workers_table(chosen, args.workers, args.work, budget)

    use_spin = not args.no_spin and spin_available()
    if not args.no_spin and not use_spin:
        print(INSTALL_HINT, file=sys.stderr)
    args.work.mkdir(parents=True, exist_ok=True)
    eng = engine()
    native = eng == "native"

    # start-up footprints, subtracted for bytes/state
    base = ours(FAMILIES["ring"], "fixed", (1,), args.work, budget, native=native)
    base_spin = spin("m.pml", promela_for("ring", "fixed", (1,)), [], args.work / "spin" / "base",
                     budget) if use_spin else None
    spin_version = subprocess.run(["spin", "-V"], capture_output=True, text=True).stdout.strip() \
        if use_spin else "SPIN not installed"

    rows, shared, bad, t_start = [], [], 0, time.perf_counter()
    for name in families:
        fam = FAMILIES[name]
        runs = [(v, False) for v in fam.variants] + [(v, True) for v in fam.early]
        for variant, early in runs:
            gave_up = {"ours": False, "spin": False, "shared": False}
            shown = f"{variant} (early)" if early else variant
            for size in sizes[name]:
                label = fam.label(size)
                print(f"{name} {shown} {label} ...", file=sys.stderr, flush=True)

                def side(key: str, fn) -> Outcome:
                    out = Outcome("skipped") if gave_up[key] else repeat(fn, budget.reps)
                    gave_up[key] |= out.verdict == "timeout"
                    return out

                a = side("ours", lambda: ours(fam, variant, size, args.work, budget, early, native))
                b = None
                if use_spin:
                    key = f"{name}_{variant}_{label.replace(',', '_').replace('=', '')}"
                    b = side("spin", lambda: spin("model.pml", promela_for(name, variant, size), [],
                                                  args.work / "spin" / key, budget))
                agree = agreement(a, b)
                if a.note:
                    agree = f"ours {a.note}" if agree in ("-", "yes") else f"{agree}; ours {a.note}"
                bad += "MISMATCH" in agree or bool(a.note)
                rows.append([name, shown, label, a.verdict, fmt(a.states), fmt(a.transitions),
                             fmt(a.seconds, "{:.2f}"), fmt(a.cpu, "{:.2f}"), rate(a), fmt(a.mb, "{:.0f}"),
                             per_state(a, base.mb or 0), fmt(a.trace),
                             b.verdict if b else "-", fmt(b.states) if b else "-",
                             fmt(b.seconds, "{:.2f}") if b else "-", fmt(b.cpu, "{:.2f}") if b else "-",
                             fmt(b.extra.get("build_s"), "{:.2f}") if b else "-",
                             rate(b) if b else "-", fmt(b.mb, "{:.0f}") if b else "-",
                             per_state(b, base_spin.mb or 0) if b and base_spin else "-",
                             fmt(b.trace) if b else "-", ratio(a, b), ratio(a, b, cpu=True), agree])
                if use_spin and not args.no_shared and not early and name == "pipeline" \
                        and SHARED_MODEL.is_dir():
                    defines = [f"-DN={size[0]}", "-DK=2"] + (["-DFIXED"] if variant == "fixed" else [])
                    c = side("shared", lambda: spin("pipeline.pml", None, defines,
                                                    args.work / "spin" / f"shared_{variant}_{size[0]}",
                                                    budget, copy_from=SHARED_MODEL))
                    same = agreement(a, c, traces=False)
                    bad += "MISMATCH" in same
                    shared.append([variant, label, a.verdict, fmt(a.seconds, "{:.2f}"),
                                   fmt(a.cpu, "{:.2f}"), fmt(a.trace), c.verdict, fmt(c.states),
                                   fmt(c.seconds, "{:.2f}"), fmt(c.cpu, "{:.2f}"),
                                   fmt(c.extra.get("build_s"), "{:.2f}"), fmt(c.mb, "{:.0f}"),
                                   fmt(c.trace), ratio(a, c), ratio(a, c, cpu=True), same])

    reps = f"median of {budget.reps} runs" if budget.reps > 1 else "one run each"
    print(f"modelcheck bench: engine {eng}; {os.cpu_count()} cores, {spin_version}; {reps}; "
          f"per-run timeout {budget.timeout:.0f} s, memory {budget.max_mb} MB; "
          f"total {time.perf_counter() - t_start:.0f} s")
    print("s: wall seconds, CPU s: user + system seconds, whole process(es) each; "
          "ours/SPIN: both ratios")
    print(f"start-up footprint subtracted for B/state: ours {fmt(base.mb, '{:.0f}')} MB, "
          f"SPIN {fmt(base_spin.mb if base_spin else None, '{:.0f}')} MB\n")
    print(tabulate(rows, headers=COLUMNS, tablefmt="simple", disable_numparse=True))
    if shared:
        print("\npipeline against SPIN on ../shared/bench/spin/models/pipeline.pml (K=2; its own, "
              "finer steps, so traces and states differ)\n")
        print(tabulate(shared, headers=["variant", "size", "verdict", "s", "CPU s", "trace",
                                        "SPIN verdict", "SPIN states", "SPIN s", "SPIN CPU s",
                                        "SPIN build s", "SPIN MB", "SPIN trace", "ours/SPIN",
                                        "ours/SPIN CPU", "verdicts agree"],
                       tablefmt="simple", disable_numparse=True))
    notes = targets(rows)
    if notes:
        print("\nissue 11 targets, as measured in this run:\n" + "\n".join(f"  {n}" for n in notes))
    if not use_spin and not args.no_spin:
        print("\n" + INSTALL_HINT)
    if bad:
        print(f"\n{bad} row(s) disagree or are not as expected: see the agree columns")
    return 1 if bad else 0


def ratio(a: Outcome, b: Outcome | None, cpu: bool = False) -> str:
    """ours / SPIN, wall or CPU seconds, where both sides finished."""
    done = lambda o: o is not None and (o.cpu if cpu else o.seconds) and \
        o.verdict not in ("timeout", "skipped", "error")
    if not (done(a) and done(b)):
        return "-"
    return f"{a.cpu / b.cpu:.2f}" if cpu else f"{a.seconds / b.seconds:.2f}"


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:                      # the running child is already killed
        print("bench interrupted", file=sys.stderr)
        sys.exit(130)
