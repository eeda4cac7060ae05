"""Symmetry's tables for the native core (`sym.c`).

`search/symmetry.py` keeps every description: the groups of
interchangeable copies, their pc maps, the objects each copy owns, the
wait-any repointing.  This flattens them into one int array that `sym.c`
reads to do what `Symmetry.canon` does to each successor: sort the copies
of each group by the same key, with the same tie-breaks, and rename the
state the same way (`Symmetry.apply`).

Layout (all ints):
  header: A, NCODE, NLOCKS, NFENCES, NRESVS, NENGINES, NVARS, NWQ, US_N, FLUSH,
          PC, STK, LK, FN, RV, EN, VR, WQ, US, XL, WW, HO, FB, NGROUPS, NWA
  wq_ordered[NWQ], actor_wq[A]
  frame_j[NCODE], frame_p1[NCODE]     (Symmetry.frame: pc of unit j -> j, pc of unit 1; -1: none)
  per group: U, WIDTH, units[U * WIDTH], NOWN, own_kind[NOWN], own_obj[U * NOWN],
             per unit j: NITEMS, (p1, pj) * NITEMS   (pcmaps[j] in its dict order)
             per unit k: dense[NCODE]                (pcmaps[k][p1], -1: none)
  per wait any: pc, NPICKED, (fence, w, woken pc of w or -1) * NPICKED
"""
from __future__ import annotations

KIND = {"lock": 0, "fence": 1, "resv": 2, "engine": 3, "var": 4}


class Unrenamable(Exception):
    """A symmetric spec with something the native renaming does not cover."""


def table(sys, sym) -> list:
    L, m = sys.L, sys.m
    n = len(sys.code)
    out = [L.A, n, len(m.locks), len(m.fences), len(m.resvs), len(m.engines), len(m.vars),
           len(m.workqueues), L.US_N, int(bool(m.uses_flush)),
           L.PC, L.STK, L.LK, L.FN, L.RV, L.EN, L.VR, L.WQ, L.US, L.XL, L.WW, L.HO, L.FB,
           len(sym.groups), len(sym.wait_any)]
    out += [int(q.ordered) for q in m.workqueues]
    out += [actor.wq for actor in m.actors]
    frame_j, frame_p1 = [-1] * n, [-1] * n
    for p, (_g, j, p1) in sym.frame.items():
        if not 0 <= p < n:
            raise Unrenamable("a copy's pc outside the code")
        frame_j[p], frame_p1[p] = j, p1
    out += frame_j + frame_p1
    for units, pcmaps, own in sym.groups:
        width = len(units[0])
        out += [len(units), width]
        for unit in units:
            out += list(unit)
        kinds = [k for k, _x in own[0]]
        for objs in own:
            if [k for k, _x in objs] != kinds:
                raise Unrenamable("copies owning objects of different kinds")
        if any(k not in KIND for k in kinds):
            bad = next(k for k in kinds if k not in KIND)
            raise Unrenamable(f"copies owning a {bad} (not renamed by symmetry)")
        out += [len(kinds)] + [KIND[k] for k in kinds]
        for objs in own:
            out += [x for _k, x in objs]
        for pm in pcmaps:
            out.append(len(pm))
            for p1, pj in pm.items():
                out += [p1, pj]
        for pm in pcmaps:
            dense = [-1] * n
            for p1, pj in pm.items():
                dense[p1] = pj
            out += dense
    for pc in sym.wait_any:
        ins = sys.code[pc]
        out += [pc, len(ins.picked)]
        for f, w in ins.picked.items():
            out += [f, w, getattr(sys.code[w], "woken_pc", -1)]
    return out

