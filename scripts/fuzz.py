"""A long fuzzing campaign: `make fuzz` (FUZZ_ARGS="--inputs 20000").

The grammar-aware hypothesis mutator of tests/fuzzing.py over specs/, run in
worker processes; every input goes through the whole command with
`--max-memory 500` (and a state and time limit), in a rotating output
format.  Prints the number of inputs, the failures (exit status outside
0/1/2, a traceback, an internal error), the slowest input and the largest
resident memory of a worker, and saves every failing input (and the
slowest ones) under --out.
"""
from __future__ import annotations

import argparse
import json
import multiprocessing
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))


def worker(args) -> dict:
    n, seed, out = args
    from hypothesis import HealthCheck, Phase, given, seed as hseed, settings
    from hypothesis import strategies as st
    from fuzzing import FORMATS, mutated, run_one

    stats = {"inputs": 0, "failures": [], "slowest": (0.0, ""), "rss_mb": 0.0, "statuses": {},
             "large_slow": 0}
    tmp = Path(tempfile.mkdtemp(prefix="fuzz"))

    @hseed(seed)
    @settings(max_examples=n, deadline=None, database=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(text=mutated(), fmt=st.sampled_from(FORMATS))
    def one(text, fmt):
        p = tmp / "m.fspec"
        data = text.encode("utf-8", "surrogateescape")
        p.write_bytes(data)
        r = run_one(str(p), fmt)
        stats["inputs"] += 1
        stats["statuses"][str(r["status"])] = stats["statuses"].get(str(r["status"]), 0) + 1
        stats["rss_mb"] = max(stats["rss_mb"], r["rss_mb"])
        if r["seconds"] > stats["slowest"][0]:
            stats["slowest"] = (r["seconds"], f"{len(data)} bytes, {fmt}")
            (out / f"slowest-{seed}.fspec").write_bytes(data)
        if r["seconds"] > 30 and len(data) < 10_000:
            stats["large_slow"] += 1
        if r["bad"]:
            k = len(stats["failures"])
            (out / f"fail-{seed}-{k}.fspec").write_bytes(data)
            stats["failures"].append(f"fail-{seed}-{k}.fspec ({fmt}): {r['bad'][:300]}")

    one()
    return stats


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--inputs", type=int, default=20000)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", type=Path, default=Path("fuzz-out"))
    args = ap.parse_args()
    args.out.mkdir(exist_ok=True)
    per = -(-args.inputs // args.workers)
    started = time.monotonic()
    with multiprocessing.get_context("spawn").Pool(args.workers) as pool:
        parts = pool.map(worker, [(per, args.seed + k, args.out) for k in range(args.workers)])
    total = {"inputs": sum(p["inputs"] for p in parts),
             "failures": [f for p in parts for f in p["failures"]],
             "slowest_seconds": max(p["slowest"][0] for p in parts),
             "slowest_input": max(p["slowest"] for p in parts)[1],
             "max_rss_mb_per_worker": max(p["rss_mb"] for p in parts),
             "over_30s_under_10kB": sum(p["large_slow"] for p in parts),
             "exit_statuses": {k: sum(p["statuses"].get(k, 0) for p in parts)
                               for k in sorted({k for p in parts for k in p["statuses"]})},
             "wall_seconds": round(time.monotonic() - started, 1)}
    print(json.dumps(total, indent=2))
    return 1 if total["failures"] or total["over_30s_under_10kB"] else 0


if __name__ == "__main__":
    sys.exit(main())
