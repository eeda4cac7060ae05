"""States are stored packed; every state read back is the one stored."""
import pytest

from modelcheck.api import load
from modelcheck.explorer import explore
from modelcheck.semantics import System
from modelcheck.store import Codec
from helpers import REPO

SPECS = sorted((REPO / "specs").glob("*.fspec"))


@pytest.mark.parametrize("path", SPECS, ids=lambda p: p.stem)
def test_every_stored_state_reads_back(path):
    sys = System(load(path.read_text(), str(path)))
    g = explore(sys)
    codec = g.states.codec
    assert codec.packer is not None
    seen = set()
    for i, s in enumerate(g.states):
        assert len(s) == sys.L.size and s not in seen
        seen.add(s)
        assert codec.pack(s) == g.states.records[i]
    assert g.states[0] == sys.initial()


def test_too_many_actors_for_a_fixed_width_are_stored_as_tuples():
    sys = System(load("lock l\nthread t[i in 1..70] { lock l; unlock l }\n"))
    codec = Codec(sys)
    s = sys.initial()
    assert codec.packer is None and codec.unpack(codec.pack(s)) == s
