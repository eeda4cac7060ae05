"""Real lockdep splats from public sources (tests/splats/NAME.txt, the
source in NAME.source): the generated skeleton equals the golden
NAME.fspec, and checking it reproduces the report's cycle, with the
verdict on a real deadlock pinned here."""
from __future__ import annotations

import importlib.util

import pytest

from helpers import REPO
from modelcheck.splat import model, parse, verdict

DIR = REPO / "tests" / "splats"
NAMES = sorted(p.stem for p in DIR.glob("*.txt"))

# NAME -> is a real deadlock reachable in the generated model?
DEADLOCK = {
    "amdgpu_tdr_console_lock": False,     # fs_reclaim -> dma_fence_map only primed; lock_reset a trylock
}


def _golden():
    spec = importlib.util.spec_from_file_location("splat_goldens", REPO / "scripts" / "splat_goldens.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.golden


def test_every_splat_has_a_source_a_golden_and_a_verdict():
    for n in NAMES:
        assert (DIR / f"{n}.source").read_text().startswith("http"), n
        assert (DIR / f"{n}.fspec").exists(), f"{n}: run scripts/splat_goldens.py {n}"
    assert sorted(DEADLOCK) == NAMES


@pytest.mark.parametrize("name", NAMES)
def test_generated_spec_is_the_golden(name):
    assert _golden()(DIR / f"{name}.txt") == (DIR / f"{name}.fspec").read_text(encoding="utf-8")


@pytest.mark.parametrize("name", NAMES)
def test_the_report_is_reproduced(name):
    r = parse.parse((DIR / f"{name}.txt").read_text(encoding="utf-8"))
    assert not r.missing, r.missing
    v = verdict.check(r, model.generate(r, f"{name}.txt"))
    assert v.reproduced, "\n".join(v.lines)
    assert ("deadlock" in v.result.kinds) == DEADLOCK[name], "\n".join(v.lines)
    said = "\n".join(v.lines)
    assert ("a real deadlock is reachable" in said) == DEADLOCK[name]
    assert ("only a lockdep-level cycle" in said) != DEADLOCK[name] or r.kind not in (parse.CIRCULAR,
                                                                                     parse.RECURSIVE)
