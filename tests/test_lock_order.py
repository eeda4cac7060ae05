"""The lock-order model, rule by rule of the contract's "lock-order model"
section: small specs with the cycle (or the order) lockdep with the
dma_fence annotations would give.  Certificates and cycles are checked here
without z3, so the decision procedure is tested, not trusted.
"""
from __future__ import annotations

import itertools

import pytest
from hypothesis import HealthCheck, given, note, settings, strategies as st

import generate

from helpers import REPO, check, finding
import modelcheck
from modelcheck.verdicts import lockorder
from modelcheck.verdicts.trace import replay

PRIMED = ["mmap_lock", "resv", "fs_reclaim", "mmu_notifier", "dma_fence_map"]


def cycle_of(text):
    """The classes of the first lock-order cycle, in order, or None when an order is proved."""
    r = check(text)
    assert r.complete
    if r.lock_order.status == "proved":
        assert_certificate(r)
        assert "lock-order" not in r.kinds
        return None
    assert r.lock_order.status == "cycle" and "lock-order" in r.kinds
    cycle = finding(r, "lock-order").cycle
    assert_closed(cycle)
    return rotated([e.frm for e in cycle])


def rotated(classes):
    """A cycle read from its smallest class, so tests can name it one way."""
    i = classes.index(min(classes))
    return classes[i:] + classes[:i]


def assert_certificate(r):
    """Every dependency goes forward in the order: checkable by anyone."""
    order = r.lock_order.order
    assert len(order) == len(set(order))
    pos = {c: i for i, c in enumerate(order)}
    for e in r.lock_order.edges:
        assert pos[e.frm] < pos[e.to], f"{e.frm} -> {e.to} goes backwards in {order}"
    assert [c for c in order if c in PRIMED] == PRIMED          # the boot-primed chain


def assert_closed(cycle):
    for e, nxt in zip(cycle, cycle[1:] + cycle[:1]):
        assert e.to == nxt.frm


# ---------------------------------------------------------------- declared locks

def test_abba_in_one_thread_is_a_cycle_without_a_deadlock():
    r = check("""
        lock A
        lock B
        thread t { lock A; lock B; unlock B; unlock A; lock B; lock A; unlock A; unlock B }
    """)
    assert r.kinds == {"lock-order"}
    f = finding(r, "lock-order")
    # lockdep's order: t holds B and tries A (the attempted dependency first)
    assert f.message == "possible circular locking dependency: B -> A -> B"
    b_a, a_b = f.cycle
    assert (a_b.actor, a_b.line, a_b.statement) == ("t", 4, "lock B")
    assert [s.statement for s in a_b.trace] == ["lock A", "lock B"]     # shortest trace
    assert [s.statement for s in b_a.trace] == ["lock A", "lock B", "unlock B", "unlock A",
                                                "lock B", "lock A"]


def test_abba_over_two_threads_is_a_deadlock_lockdep_also_sees():
    r = check("""
        lock A
        lock B
        thread t1 { lock A; lock B; unlock B; unlock A }
        thread t2 { lock B; lock A; unlock A; unlock B }
    """)
    assert r.kinds == {"deadlock", "lock-order"}
    assert finding(r, "deadlock").lockdep == "lockdep would report it too: A -> B -> A"


def test_a_consistent_order_is_proved():
    assert cycle_of("""
        lock A
        lock B
        thread t1 { lock A; lock B; unlock B; unlock A }
        thread t2 { lock A; lock B; unlock B; unlock A }
    """) is None


def test_an_order_through_three_classes():
    assert cycle_of("""
        lock A
        lock B
        lock C
        thread t1 { lock A; lock B; unlock B; unlock A }
        thread t2 { lock B; lock C; unlock C; unlock B }
        thread t3 { lock C; lock A; unlock A; unlock C }
    """) == ["A", "B", "C"]


def test_all_elements_of_a_lock_array_are_one_class():
    # lockdep's recursive locking: two locks of one class, taken one by one
    assert cycle_of("""
        lock l[0..1]
        thread t { lock l[0]; lock l[1]; unlock l[1]; unlock l[0] }
    """) == ["l"]


def test_every_resv_is_of_the_class_resv():
    r = check("""
        resv R1
        resv R2
        thread t { lock R1; lock R2; unlock R2; unlock R1 }
    """)
    assert r.kinds == {"lock-order"}
    assert finding(r, "lock-order").message == "possible recursive locking: resv taken again while held"


def test_one_ww_context_takes_its_resvs_together():
    assert cycle_of("""
        resv R1
        resv R2
        thread a { lock R1, R2; unlock R2; unlock R1 }
        thread b { lock R2, R1; unlock R1; unlock R2 }
    """) is None


def test_trylock_adds_no_dependency():
    assert cycle_of("""
        lock A
        lock B
        thread t1 { lock A; lock B; unlock B; unlock A }
        thread t2 { lock B; trylock A else { }; unlock B }
    """) is None


def test_a_lock_taken_after_a_trylock_depends_on_it():
    assert cycle_of("""
        lock A
        lock B
        thread t1 { lock A; lock B; unlock B; unlock A }
        thread t2 { trylock B else { return }; lock A; unlock A; unlock B }
    """) == ["A", "B"]


def test_rwsem_read_sides_still_order():
    assert cycle_of("""
        lock M : rwsem
        lock L
        thread t1 { lock M shared; lock L; unlock L; unlock M shared }
        thread t2 { lock L; lock M shared; unlock M shared; unlock L }
    """) == ["L", "M"]


# ---------------------------------------------------------------- dma_fence_map

SIGNALLER = "thread gpu { publish f; signalling { signal f } }"


def test_a_lock_in_a_signalling_section_held_around_a_wait_is_a_cycle():
    assert cycle_of(f"""
        lock L
        fence f
        thread a {{ publish f; signalling {{ lock L; unlock L; signal f }} }}
        thread b {{ lock L; wait f; unlock L }}
    """) == ["L", "dma_fence_map"]


def test_read_read_on_dma_fence_map_closes_no_cycle():
    # a: dma_fence_map(r) -> L; b enters a section holding L: L -> dma_fence_map(r)
    assert cycle_of("""
        lock L
        fence f
        fence g
        thread a { publish f; signalling { lock L; unlock L; signal f } }
        thread b { publish g; lock L; signalling { signal g }; unlock L }
    """) is None


def test_a_wait_directly_in_a_signalling_section_is_allowed():
    assert cycle_of(f"""
        fence f
        fence g
        {SIGNALLER}
        thread worker {{ publish g; signalling {{ wait f; signal g }} }}
    """) is None


def test_a_wait_in_a_signalling_section_under_a_lock_taken_since_is_a_cycle():
    assert cycle_of(f"""
        lock L
        fence f
        fence g
        {SIGNALLER}
        thread worker {{ publish g; signalling {{ lock L; wait f; unlock L; signal g }} }}
    """) == ["L", "dma_fence_map"]


def test_a_lock_taken_before_the_section_does_not_close_the_upgrade():
    assert cycle_of(f"""
        lock L
        fence f
        fence g
        {SIGNALLER}
        thread worker {{ publish g; lock L; signalling {{ wait f; signal g }}; unlock L }}
    """) is None


def test_an_interruptible_wait_adds_nothing():
    assert cycle_of("""
        lock L
        fence f
        thread a { publish f; signalling { lock L; unlock L; signal f } }
        thread b { lock L; wait f interruptible else { }; unlock L }
        thread irq { interrupt_waits }
    """) is None


def test_a_wait_with_timeout_keeps_its_edge():
    assert cycle_of("""
        lock L
        fence f
        thread a { publish f; signalling { lock L; unlock L; signal f } }
        thread b { lock L; wait f timeout; unlock L }
    """) == ["L", "dma_fence_map"]


def test_wait_any_is_a_wait():
    assert cycle_of("""
        lock L
        fence f
        thread a { publish f; signalling { lock L; unlock L; signal f } }
        thread b { lock L; wait any; unlock L }
    """) == ["L", "dma_fence_map"]


def test_nested_signalling_sections_take_nothing_new():
    assert cycle_of(f"""
        fence f
        fence g
        {SIGNALLER}
        thread worker {{ publish g; signalling {{ signalling {{ wait f }}; signal g }} }}
    """) is None


# ---------------------------------------------------------------- fs_reclaim, mmu_notifier, mmap_lock

@pytest.mark.parametrize("gfp, cycle", [
    # fs_reclaim is taken first: lockdep finds it reaches dma_fence_map through the boot chain
    ("kernel", ["dma_fence_map", "fs_reclaim", "mmu_notifier"]),   # then the notifier map
    ("nofs", ["dma_fence_map", "mmu_notifier"]),     # no fs_reclaim, still the notifier map
    ("noio", ["dma_fence_map", "mmu_notifier"]),
    ("nowait", None),
    ("atomic", None),
])
def test_allocations_in_a_signalling_section(gfp, cycle):
    assert cycle_of(f"""
        fence f
        thread sched {{ publish f; signalling {{ alloc {gfp}; signal f }} }}
    """) == cycle


def test_alloc_kernel_in_signalling_also_closes_through_fs_reclaim():
    r = check("""
        resv bo
        fence f
        thread sched { lock bo; publish f in bo; unlock bo; signalling { alloc kernel; signal f } }
        on reclaim { wait bo }
    """)
    cycles = [rotated([e.frm for e in c]) for c in r.lock_order.cycles]
    # fs_reclaim_acquire() takes the notifier map under fs_reclaim: lockdep records
    # fs_reclaim -> mmu_notifier, not dma_fence_map -> mmu_notifier (check_prevs_add)
    assert cycles == [["dma_fence_map", "fs_reclaim", "mmu_notifier"]]
    assert finding(r, "deadlock").lockdep.startswith("lockdep would report it too")


def test_alloc_nofs_in_signalling_closes_through_the_notifier_map_alone():
    r = check("""
        resv bo
        fence f
        thread sched { lock bo; publish f in bo; unlock bo; signalling { alloc nofs; signal f } }
        on reclaim { wait bo }
    """)
    cycles = [rotated([e.frm for e in c]) for c in r.lock_order.cycles]
    assert cycles == [["dma_fence_map", "mmu_notifier"]]


def test_a_lock_held_around_alloc_kernel_and_taken_in_reclaim():
    assert cycle_of("""
        lock L
        thread shrinker_user { lock L; alloc kernel; unlock L }
        thread other { alloc kernel }
        on reclaim { trylock L else { return }; unlock L }
    """) is None       # trylock in the shrinker: the usual fix
    assert cycle_of("""
        lock L
        thread user { lock L; alloc nowait; unlock L }
        thread other { alloc kernel }
        on reclaim { lock L; unlock L }
    """) is None       # nothing allocates under L with reclaim
    assert cycle_of("""
        lock L
        lock M
        thread user { lock M; alloc kernel; unlock M }
        thread other { lock L; lock M; unlock M; unlock L }
        thread reclaimer { alloc kernel }
        on reclaim { lock L; unlock L }
    """) == ["L", "M", "fs_reclaim"]     # the reclaimer closes it first: lockdep's choice,
    # not the shorter L -> M -> L (user holds M and takes L in reclaim) found after it


def test_allocating_in_reclaim_takes_nothing():
    assert cycle_of("""
        thread t { alloc kernel }
        on reclaim { alloc kernel }
    """) is None


def test_reclaim_in_an_mmu_notifier_is_a_cycle():
    # fs_reclaim under the notifier map inverts the boot order; then the
    # notifier map taken again while held: lockdep's recursive locking
    r = check("""
        thread t { fork }
        on fork { alloc kernel }
    """)
    assert [rotated([e.frm for e in c]) for c in r.lock_order.cycles] == \
        [["fs_reclaim", "mmu_notifier"], ["mmu_notifier"]]
    assert cycle_of("""
        thread t { fork }
        on fork { alloc nowait }
    """) is None


def test_a_resv_held_across_fork_inverts_the_primed_order():
    assert cycle_of("""
        resv bo
        thread t { lock bo; fork; unlock bo }
    """) == ["mmap_lock", "resv"]


def test_resv_inside_an_mmu_notifier_is_a_cycle():
    assert cycle_of("""
        resv bo
        thread t { munmap }
        on munmap { lock bo; unlock bo }
    """) == ["fs_reclaim", "mmu_notifier", "resv"]    # resv -> fs_reclaim is primed


def test_waiting_in_an_mmu_notifier_is_allowed():
    assert cycle_of("""
        resv bo
        fence f
        thread gpu { lock bo; publish f in bo; unlock bo; signalling { signal f } }
        thread t { fork }
        on fork { wait bo }
    """) is None


def test_the_primed_order_is_in_every_certificate():
    r = check("thread t { }")
    assert r.lock_order.status == "proved"
    assert r.lock_order.order == PRIMED
    assert [(e.frm, e.to) for e in r.lock_order.edges] == list(zip(PRIMED, PRIMED[1:]))
    assert r.stats.lock_deps == 4 and r.stats.lock_classes == 5


# ---------------------------------------------------------------- reports and limits

def test_an_unfinished_search_proves_no_order():
    r = modelcheck.check_source("""
lock A
lock B
var x = 0 in 0..3
thread t { x = 1; x = 2; x = 3; lock A; lock B; unlock B; unlock A }
""", limits=modelcheck.Limits(max_states=3))
    assert not r.complete
    assert r.lock_order.status == "incomplete"
    from modelcheck.reports import report
    assert "not a proof" in report.table(r)


def test_a_cycle_found_before_a_limit_is_still_reported():
    r = modelcheck.check_source("""
lock A
lock B
var x = 0 in 0..3
thread t { lock A; lock B; unlock B; unlock A; lock B; lock A; unlock A; unlock B; x = 1; x = 2; x = 3 }
""", limits=modelcheck.Limits(max_states=8))
    assert not r.complete and r.lock_order.status == "cycle"


def test_a_deadlock_lockdep_cannot_see():
    r = check("""
        fence f
        fence g
        thread a { publish f; wait g; signal f }
        thread b { publish g; wait f; signal g }
    """)
    assert "lock-order" not in r.kinds
    assert finding(r, "deadlock").lockdep.startswith("lockdep would not report it")


# ---------------------------------------------------------------- every shipped spec

SPECS = sorted((REPO / "specs").glob("*.fspec"))


@pytest.mark.parametrize("spec", SPECS, ids=[p.stem for p in SPECS])
def test_each_spec_has_a_checkable_order_or_a_replayable_cycle(spec):
    r = modelcheck.check_file(spec)
    lo = r.lock_order
    if lo.status == "proved":
        assert_certificate(r)
        return
    assert lo.status == "cycle"
    system = modelcheck.api.System(modelcheck.api.load(spec.read_text(), str(spec)))
    for cycle in lo.cycles:
        assert_closed(cycle)
        for e in cycle:
            if e.actor == lockorder.BOOT:
                assert (e.frm, e.to) in zip(PRIMED, PRIMED[1:])
                continue
            assert e.trace and e.trace[-1].actor == e.actor and e.trace[-1].line == e.line
            assert e.trace[-1].statement == e.statement


# ---------------------------------------------------------------- z3 against a plain graph search

def acyclic(n, edges):
    succ = {v: [b for a, b in edges if a == v] for v in range(n)}
    state = {}

    def dfs(v):
        state[v] = 1
        for w in succ[v]:
            if state.get(w) == 1 or (w not in state and not dfs(w)):
                return False
        state[v] = 2
        return True
    return all(v in state or dfs(v) for v in range(n))


@settings(max_examples=60, deadline=None)
@given(st.integers(2, 6).flatmap(lambda n: st.tuples(
    st.just(n), st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), max_size=10))))
def test_z3_finds_an_order_exactly_when_the_graph_is_acyclic(graph):
    n, pairs = graph
    classes = [f"c{i}" for i in range(n)]
    edges = [lockorder.Edge(classes[a], classes[b], "t", 1, "lock") for a, b in pairs]
    order, core = lockorder.decide(classes, edges)
    if acyclic(n, pairs):
        assert not core
        pos = {c: i for i, c in enumerate(order)}
        assert all(pos[e.frm] < pos[e.to] for e in edges)
    else:
        assert not order
        cycle = lockorder.shortest_cycle(core)
        assert cycle and all(e in edges for e in cycle)
        assert_closed(cycle)
        # a minimised core need not hold the graph's shortest cycle, but
        # lockdep's choice over all the edges is a cycle too
        chosen = lockorder.lockdep_cycle(edges)
        assert chosen and all(e in edges for e in chosen)
        assert_closed(chosen)


def all_cycles(n, pairs):
    out = []
    for k in range(1, n + 1):
        for nodes in itertools.permutations(range(n), k):
            if all((nodes[i], nodes[(i + 1) % k]) in pairs for i in range(k)):
                out.append(nodes)
    return out


# ---------------------------------------------------------------- generated designs

@settings(max_examples=40, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(generate.specs())
def test_generated_specs_get_a_checkable_order_or_a_closed_cycle(text):
    """On random designs: a proved order is checked edge by edge without z3;
    a cycle closes on itself, and each of its spec edges was really met on
    the way (the last row of its trace stands at the acquisition)."""
    note(text)
    r = modelcheck.check_source(text)
    lo = r.lock_order
    assert lo.status in ("proved", "cycle")
    if lo.status == "proved":
        assert_certificate(r)
        assert acyclic_edges(lo.edges)
    else:
        assert not acyclic_edges(lo.edges)
        for cycle in lo.cycles:
            assert_closed(cycle)
            for e in cycle:
                assert e.actor == lockorder.BOOT or e.trace[-1].line == e.line


def acyclic_edges(edges) -> bool:
    names = sorted({c for e in edges for c in (e.frm, e.to)})
    return acyclic(len(names), [(names.index(e.frm), names.index(e.to)) for e in edges])


# ---------------------------------------------------------------- reductions keep lockdep's view

@pytest.mark.parametrize("text", [
    """
    lock g
    lock l[1..3]
    thread w[i in 1..3] { lock g; lock l[i]; unlock l[i]; unlock g }
    """,
    """
    lock a
    lock b
    thread w[i in 1..2] { lock a; lock b; unlock b; unlock a }
    thread v[i in 1..2] { lock b; unlock b; lock b; lock a; unlock a; unlock b }
    """,
    """
    lock m
    fence f[1..2]
    thread w[i in 1..2] { publish f[i]; signalling { lock m; unlock m; signal f[i] } }
    thread r { lock m; wait any; unlock m }
    """,
])
def test_symmetry_and_reduction_keep_the_lock_order(text):
    import textwrap
    full = modelcheck.check_source(textwrap.dedent(text),
                                   limits=modelcheck.Limits(reduction=False, symmetry=False))
    fast = modelcheck.check_source(textwrap.dedent(text))
    edges = lambda r: {(e.frm, e.to) for e in r.lock_order.edges}
    assert fast.lock_order.status == full.lock_order.status
    assert edges(fast) == edges(full)
    assert fast.kinds == full.kinds
    cycles = lambda r: [[(e.frm, e.to, e.actor, e.line, len(e.trace)) for e in c] for c in r.lock_order.cycles]
    assert cycles(fast) == cycles(full)        # a cycle is traced on the full graph
