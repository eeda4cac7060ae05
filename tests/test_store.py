"""States are stored packed; every state read back is the one stored, and
the visited table finds each by its packed record."""
import pytest

from modelcheck.api import load
from modelcheck.search.explorer import Limits, explore
from modelcheck.semantics import System
from modelcheck.search.store import Codec, States
from helpers import REPO

SPECS = sorted((REPO / "specs").glob("*.fspec"))


@pytest.mark.parametrize("path", SPECS, ids=lambda p: p.stem)
def test_every_stored_state_reads_back(path):
    sys = System(load(path.read_text(), str(path)))
    g = explore(sys, Limits(reduction=False, symmetry=False, core="python"))   # the Python store
    codec = g.states.codec
    assert codec.packer is not None
    seen = set()
    for i, s in enumerate(g.states):
        assert len(s) == sys.L.size and s not in seen
        seen.add(s)
        assert codec.pack(s) == g.states.record(i)
        assert g.states.find(codec.pack(s)) == i
    assert g.states[0] == sys.initial()


def test_the_table_grows_and_forgets():
    sys = System(load("var x = 0 in 0..5000\nthread t { x = 1 }\n"))
    codec = Codec(sys)
    table = States(codec)
    s = list(sys.initial())
    keys = []
    for v in range(5000):
        s[sys.L.VR] = v
        keys.append(codec.pack(tuple(s)))
        assert table.find(keys[-1]) is None
        assert table.add(keys[-1]) == v
    assert all(table.find(k) == v for v, k in enumerate(keys))
    del table[100:]
    assert len(table) == 100 and table.find(keys[100]) is None and table.find(keys[99]) == 99


def test_too_many_actors_for_a_fixed_width_are_stored_as_tuples():
    sys = System(load("lock l\nthread t[i in 1..70] { lock l; unlock l }\n"))
    codec = Codec(sys)
    s = sys.initial()
    assert codec.packer is None and codec.unpack(codec.pack(s)) == s
    table = States(codec)
    assert table.find(s) is None and table.add(s) == 0 and table.find(s) == 0 and table[0] == s


@pytest.mark.parametrize("cache", [0, 1, 3])
def test_the_level_cache_only_saves_time(cache, monkeypatch):
    """With any size of the tuple cache of BFS levels, the same graph."""
    from modelcheck.search import explorer
    path = REPO / "specs" / "pagefault_dedicated_engines.fspec"
    sys = System(load(path.read_text(), str(path)))
    plain = explore(sys, Limits(reduction=False, symmetry=False))
    monkeypatch.setattr(explorer, "LEVEL_CACHE", cache)
    small = explore(sys, Limits(reduction=False, symmetry=False))
    assert list(small.states) == list(plain.states)
    assert (small.edges, small.offsets, small.parent) == (plain.edges, plain.offsets, plain.parent)
    assert small.deps == plain.deps


def test_states_read_like_a_list():
    sys = System(load("lock l\nthread t { lock l; unlock l }\n"))
    g = explore(sys, Limits(reduction=False, symmetry=False))
    every = list(g.states)
    assert len(every) == 3 and g.states[-1] == every[-1] and g.states[1:] == every[1:]
    with pytest.raises(IndexError):
        g.states[3]
