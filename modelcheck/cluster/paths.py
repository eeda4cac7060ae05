"""Found paths -> a small `Graph`, so that the usual trace, lockdep and
report code (verdicts/trace.py, lockorder.py, reports/) describes findings
that no single process holds the whole graph of.

The graph is the tree of the given paths from the initial state: no edges
are claimed (nothing is "expanded"), only states, parents and depths, which
is all `trace.build`, `lockorder.check` and `analysis.stuck` read.
"""
from __future__ import annotations

from ..search.explorer import Graph
from ..search.store import Codec, States
from ..semantics import System
from . import swarm


class Tree:
    def __init__(self, sys: System):
        self.sys = sys
        self.codec = Codec(sys)
        self.g = Graph(states=States(self.codec))
        self.g.states.add(self.codec.pack(sys.initial()))
        self.g.parent.append(-1)
        self.g.via.append(-1)
        self.g.depth.append(0)
        self.g.switches.append(0)

    def add(self, path: list) -> list[int]:
        """The ids of the states along [(actor, outcome index)], the initial one first."""
        g, ids = self.g, [0]
        for s, (a, _k) in zip(swarm.replay(self.sys, path)[1:], path):
            rec = self.codec.pack(s)
            j = g.states.find(rec)
            if j is None:
                i = ids[-1]
                j = g.states.add(rec)
                g.parent.append(i)
                g.via.append(a)
                g.depth.append(g.depth[i] + 1)
                g.switches.append(g.switches[i] + (g.via[i] not in (a, -1)))
            ids.append(j)
        return ids
