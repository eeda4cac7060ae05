"""The explorer records, for every step that acquires a lock class or a
pseudo-lock, what the actor holds at that moment: the raw material of the
lock-order model (lockdep with the dma_fence annotations)."""
import textwrap

from modelcheck.api import load
from modelcheck.search.explorer import explore
from modelcheck.semantics import MEMALLOC, System


def contexts(text):
    """{statement text: the lock contexts (held locks, oldest first) seen when it was reached}."""
    sys = System(load(textwrap.dedent(text)))
    g = explore(sys)
    out = {}
    for (held, pc), (src, actor) in g.deps.items():
        assert 0 <= src < len(g.states) and g.states[src][sys.L.PC + actor] == pc
        out.setdefault(sys.code[pc].stmt.text, set()).add(held)
    return out


def test_wait_under_a_lock_in_a_signalling_section():
    seen = contexts("""
        lock m
        fence f
        thread a { signalling { lock m; unlock m; signal f } }
        thread b { lock m; wait f; unlock m }
    """)
    assert (("m", "w"),) in seen["wait f"]
    assert (("dma_fence_map", "tr"),) in seen["lock m"]        # a read trylock


def test_reclaim_holds_fs_reclaim_only_for_gfp_kernel():
    seen = contexts("""
        resv bo
        lock l
        thread a { alloc kernel }
        thread b { alloc nofs }
        on reclaim { lock l; unlock l; wait bo }
    """)
    held = seen["lock l"]
    assert (MEMALLOC, ("fs_reclaim", "w")) in held      # entered from alloc kernel
    assert (MEMALLOC,) in held                            # entered from alloc nofs
    assert (MEMALLOC, ("fs_reclaim", "w"), ("l", "w")) not in seen["wait bo"]


def test_fork_hooks_run_under_mmap_lock_and_mmu_notifier():
    seen = contexts("""
        resv bo
        thread a { fork }
        on fork { wait bo }
    """)
    assert seen["wait bo"] == {(("mmap_lock", "w"), ("mmu_notifier", "w"))}


def test_resv_objects_share_one_class_and_read_locks_are_marked():
    seen = contexts("""
        resv a
        resv b
        lock sem : rwsem
        thread t { lock a; lock b; lock sem shared; unlock sem shared; unlock b; unlock a }
    """)
    assert seen["lock b"] == {(("resv", "w"),)}
    assert seen["lock sem shared"] == {(("resv", "w"), ("resv", "w"))}


def test_trylock_and_interruptible_waits_add_no_acquisition():
    seen = contexts("""
        lock m
        fence f
        thread t { trylock m else { }; wait f interruptible else { } }
        thread s { signal f }
    """)
    assert "trylock m else { }" not in seen
    assert not any(k.startswith("wait f") for k in seen)


def test_every_acquisition_in_every_state_is_recorded_at_its_first_state():
    """The explorer records a lock context only for the actor that moved
    (the others stand where they stood); the result is the same as looking
    at every actor in every state."""
    from helpers import REPO
    from modelcheck.search.explorer import Limits
    for path in sorted((REPO / "specs").glob("*.fspec")):
        sys = System(load(path.read_text(), str(path)))
        g = explore(sys, Limits(reduction=False, symmetry=False))
        every = {}
        for i, s in enumerate(g.states):
            for a in range(sys.L.A):
                pc = s[sys.L.PC + a]
                if pc >= 0 and sys.acquiring[pc]:
                    every.setdefault((sys.lock_context(s, a), pc), (i, a))
        assert g.deps == every, path.name
