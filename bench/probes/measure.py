"""Explorer figures on the probes: states, states/s (CPU time of the search
alone; the Python explorer, then the native core on the same graph), bytes per stored state (resident memory the search adds, divided by
the states; and what the visited table and the graph arrays hold), and the
states each reduction leaves.

    .venv/bin/python bench/probes/measure.py [N...]      (default N = 6 8)

Timings are CPU seconds of this process, so other load on the machine
matters less; they still vary by some 10%.  Not a test: nothing is asserted.
"""
from __future__ import annotations

import gc
import sys
import time
from pathlib import Path

from modelcheck import api
from modelcheck.search import explorer
from modelcheck.semantics import System

HERE = Path(__file__).resolve().parent
PROBES = ["stages_reclaim.fspec", "stages_reclaim_once.fspec", "copies.fspec",
          "copies_reclaim_loop.fspec"]
MODES = {"plain": dict(reduction=False, symmetry=False), "reduction": dict(symmetry=False),
         "symmetry": dict(reduction=False), "both": {}}


def measure(path: Path, n: int, mode: str, core: str = "python") -> dict:
    sys_ = System(api.load(path.read_text(), str(path), {"N": n}))
    gc.collect()
    before = explorer.memory_mb()
    cpu, wall = time.process_time(), time.monotonic()
    g = explorer.explore(sys_, explorer.Limits(**MODES[mode], core=core))
    cpu, wall = time.process_time() - cpu, time.monotonic() - wall
    grown = (explorer.memory_mb() - before) * 2**20
    st = g.states
    if g.core == "native":          # records, plus the C table's hash and slot (half full)
        table = len(st.data) + 12 * len(st)
    else:
        table = len(st.data) + st.hashes.itemsize * len(st.hashes) + st.slots.itemsize * len(st.slots)
    arrays = sum(a.itemsize * len(a) for a in (g.parent, g.via, g.depth, g.switches, g.offsets,
                                               g.edges, g.edge_actor, g.edge_perm))
    return {"states": len(g.states), "edges": len(g.edges), "cpu": cpu, "wall": wall, "core": g.core,
            "rate": len(g.states) / cpu if cpu else 0.0, "bytes": grown / len(g.states),
            "table": table / len(g.states), "arrays": arrays / len(g.states),
            "reduction": g.reduction, "symmetry": g.symmetry}


def main(sizes: list[int]) -> None:
    for name in PROBES:
        for n in sizes:
            rows = {mode: measure(HERE / name, n, mode) for mode in MODES}
            plain = rows["plain"]
            print(f"{name} N={n}: {plain['states']} states, {plain['edges']} transitions, "
                  f"{plain['rate']:,.0f} states/s, {plain['bytes']:.0f} B/state resident "
                  f"(visited table {plain['table']:.0f} + graph arrays {plain['arrays']:.0f} B/state)")
            nat = measure(HERE / name, n, "plain", "native")
            if nat["core"] == "native":
                print(f"    native    {nat['states']:>8} states, {nat['rate']:,.0f} states/s "
                      f"({plain['cpu'] / nat['cpu']:.1f}x), {nat['cpu']:.3f} s cpu, "
                      f"{nat['wall']:.3f} s wall, {nat['bytes']:.0f} B/state resident "
                      f"(visited table {nat['table']:.0f} + graph arrays {nat['arrays']:.0f} B/state)")
            else:
                print(f"    native core not used: {nat['core']}")
            for mode in ("reduction", "symmetry", "both"):
                r = rows[mode]
                print(f"    {mode:9} {r['states']:>8} states ({plain['states'] / r['states']:.2f}x fewer)"
                      f" {r['cpu']:.2f} s cpu   reduction: {r['reduction']}; symmetry: {r['symmetry']}")


if __name__ == "__main__":
    main([int(x) for x in sys.argv[1:]] or [6, 8])
