"""What a native partition keeps a state (cluster/native.py, vm.c's part_*),
without Ray: one partition driven through the levels as the coordinator
drives it.  At the fixpoint its records are put in row order in place, and
the sweep marks the rows whose value changed; the deadlocks it reports are
the single-process search's."""
from __future__ import annotations

import numpy as np
import pytest

from helpers import REPO
from modelcheck import api
from modelcheck.cluster import native as part
from modelcheck.search import explorer, native
from modelcheck.search.explorer import Limits
from modelcheck.semantics import System
from modelcheck.verdicts import analysis

pytestmark = pytest.mark.skipif(not native.available(), reason="the C extension is not built")

# the pipeline beside a shrinker that loops forever: the buggy one's
# deadlocks leave the shrinker going on, so only the "never moves again"
# fixpoint finds them
BUGGY = (REPO / "bench/specs/pipeline_buggy.fspec").read_text()
FIXED = (REPO / "bench/specs/pipeline_fixed.fspec").read_text()


def searched(text: str, parts: int = 2, n: int = 2) -> list:
    """`parts` partitions holding every state of the spec, expanded, driven
    level by level as distributed._explore drives them (no gathering)."""
    sys = System(api.load(text, "<t>", {"N": n}))
    ps = [part.NativePart(sys, q, parts, False) for q in range(parts)]
    for p in ps:
        p.start()
    n = 1
    while True:
        one = (lambda x: [x]) if parts == 1 else (lambda x: x)     # one partition: one value
        outs = [one(p.expand()) for p in ps]
        got = [p.receive(*[outs[src][q] for src in range(parts)]) for q, p in enumerate(ps)]
        F = [np.asarray(f, np.int64).reshape(-1, 2) for f, _b, _m in got]
        allf = np.concatenate(F)
        order = np.lexsort((allf[:, 1], allf[:, 0]))   # the k-th first position gets the k-th id
        ids = np.empty(len(allf), np.int64)
        ids[order] = n + np.arange(len(allf))
        cuts = np.cumsum([0] + [len(f) for f in F])
        answers = [one(p.assign(ids[cuts[q]:cuts[q + 1]])) for q, p in enumerate(ps)]
        for src, p in enumerate(ps):
            p.resolve(*[answers[q][src] for q in range(parts)])
        n += len(allf)
        if not len(allf):
            return ps


def fixpoint(ps: list) -> list:
    """The "never moves again" rounds, as _never_moves_native runs them."""
    asks = [p.fix_start() for p in ps]
    outs = [p.fix_subscribe(*[asks[src][q + 1] for src in range(len(ps))]) for q, p in enumerate(ps)]
    while sum(o[0][0] for o in outs):
        outs = [p.fix_round(*[outs[src][q + 1] for src in range(len(ps))]) for q, p in enumerate(ps)]
    return sorted(x for p in ps for x in p.dead(1000))


def test_the_records_are_put_in_row_order_in_place():
    ps = searched(FIXED)
    for p in ps:
        gids, recs = p.records_out()
        W = p.W
        before = {int(g): recs[t * W:(t + 1) * W] for t, g in enumerate(gids)}
        assert list(gids) != sorted(gids)     # the store's order is not the ids' order
        p.fix_start()
        gids, recs = p.records_out()
        assert list(gids) == sorted(before)
        assert all(recs[t * W:(t + 1) * W] == before[int(g)] for t, g in enumerate(gids))


def test_seal_refuses_an_order_that_is_not_a_permutation():
    p = searched(FIXED)[0]
    with pytest.raises(ValueError):
        native._vm.part_seal(p.h, np.zeros(len(p.counts), np.int32).tobytes())


def test_the_sweep_marks_the_rows_it_changes():
    # rows 0 -> 1 -> 2, row 2 steps to remote value 0
    counts = np.array([1, 1, 1], np.int16)
    targets = np.array([1, 2, -1], np.int32)
    remote = np.array([4], np.uint32)
    R = np.array([1, 0, 2], np.uint32)
    dirty = np.zeros(3, np.uint8)
    changed = native._vm.fix_sweep(counts, targets, remote, R, False, dirty)
    assert list(R) == [7, 6, 6] and list(dirty) == [1, 1, 1] and changed == 3
    dirty[:] = 0
    assert native._vm.fix_sweep(counts, targets, remote, R, False, dirty) == 0
    assert list(dirty) == [0, 0, 0]


@pytest.mark.parametrize("text", [BUGGY, FIXED])
@pytest.mark.parametrize("parts", [1, 3])
def test_the_fixpoint_finds_what_one_process_finds(text, parts):
    dead = fixpoint(searched(text, parts))
    sys = System(api.load(text, "<t>", {"N": 2}))
    g = explorer.explore_python(sys, Limits(reduction=False, symmetry=False))
    one, where = analysis.Analysis(sys, g).dead_states()
    assert dead == [(i, one[i]) for i in where][:len(dead)]
    assert bool(where) == bool(dead) == (text is BUGGY)
