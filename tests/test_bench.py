"""The bench families (bench/, `make bench`) at their smallest size: each
spec gives its expected verdict, and each generated Promela model is
accepted by SPIN and, when SPIN and gcc are installed, gives the same
verdict and shortest deadlock as our checker, on the same state graph (as
many states as pan stores with its reduction off, unless ours is reduced).  No timing here: timings are `make bench`'s job."""
import importlib.util
import re
import shutil
import sys
import subprocess
from pathlib import Path

import pytest

import modelcheck

REPO = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("bench_run", REPO / "bench" / "run.py")
bench = importlib.util.module_from_spec(_spec)
sys.modules["bench_run"] = bench          # dataclasses look their module up there
_spec.loader.exec_module(bench)

CASES = [(fam, variant) for fam, f in bench.FAMILIES.items() for variant in f.variants]
needs_spin = pytest.mark.skipif(not shutil.which("spin"), reason="spin not installed "
                                "(apt-get install -y spin)")
needs_gcc = pytest.mark.skipif(not (shutil.which("spin") and shutil.which("gcc")),
                               reason="spin or gcc not installed")


def smallest(fam: str, variant: str):
    f = bench.FAMILIES[fam]
    spec, expected = f.variants[variant]
    result = modelcheck.check_file(bench.SPECS / spec, dict(zip(f.params, f.min_size)))
    return f, result, expected


@pytest.mark.parametrize("fam,variant", CASES)
def test_spec_gives_its_verdict_at_the_smallest_size(fam, variant):
    f, result, expected = smallest(fam, variant)
    assert result.ok and result.complete, result.summary()
    # lock-order is ours alone (SPIN has no lockdep model): the ring's is expected in the spec
    assert result.kinds - {"lock-order"} == (frozenset() if expected == "safe" else {expected})


def test_every_family_has_a_deadlocking_and_a_safe_variant():
    for f in bench.FAMILIES.values():
        assert sorted(v[1] for v in f.variants.values()) == ["deadlock", "safe"]


def test_promela_files_exist():
    assert (REPO / "bench" / "spin" / "promela.py").is_file()
    assert (bench.SHARED_MODEL / "pipeline.pml").is_file()
    assert (bench.SHARED_MODEL / "common.h").is_file()


@needs_spin
@pytest.mark.parametrize("fam,variant", CASES)
def test_spin_accepts_the_generated_model(fam, variant, tmp_path):
    f = bench.FAMILIES[fam]
    (tmp_path / "model.pml").write_text(bench.promela_for(fam, variant, f.min_size))
    r = subprocess.run(["spin", "-a", "model.pml"], cwd=tmp_path, capture_output=True, text=True)
    assert r.returncode == 0 and (tmp_path / "pan.c").exists(), r.stdout + r.stderr


@needs_spin
def test_spin_accepts_the_shared_pipeline_model(tmp_path):
    for f in bench.SHARED_MODEL.iterdir():
        shutil.copy(f, tmp_path)
    r = subprocess.run(["spin", "-DN=2", "-DK=2", "-DFIXED", "-a", "pipeline.pml"], cwd=tmp_path,
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr


@needs_gcc
@pytest.mark.parametrize("fam,variant", CASES)
def test_spin_explores_the_same_graph(fam, variant, tmp_path):
    """-DNOREDUCE: no partial-order reduction; -c0: go on past errors, so
    pan stores the whole reachable graph, as our checker does."""
    f, _reduced, expected = smallest(fam, variant)
    result = modelcheck.check_file(bench.SPECS / f.variants[variant][0], dict(zip(f.params, f.min_size)),
                                   modelcheck.Limits(reduction=False, symmetry=False))
    (tmp_path / "model.pml").write_text(bench.promela_for(fam, variant, f.min_size))
    for cmd in (["spin", "-a", "model.pml"],
                ["gcc", "-O0", "-DSAFETY", "-DBFS", "-DNOREDUCE", "-o", "pan", "pan.c"]):
        subprocess.run(cmd, cwd=tmp_path, check=True, capture_output=True)
    out = subprocess.run(["./pan", "-c0"], cwd=tmp_path, capture_output=True, text=True).stdout
    pan = bench.parse_pan(out)
    deadlocks = [len(x.trace) + len(x.then) for x in result.findings if x.kind == "deadlock"]
    if expected == "deadlock":
        assert pan["errors"] > 0 and pan["error_depth"] == min(deadlocks), out
    else:
        assert pan.get("errors") == 0 and not deadlocks, out
    # without reduction or symmetry it is SPIN's graph, edge for edge
    assert result.stats.states == pan["states"], out
    assert pan["transitions"] == result.stats.transitions + 1, out   # pan counts the initial state
    assert re.search(r"depth reached (\d+)", out).group(1) == str(result.stats.depth), out
    assert _reduced.stats.states <= pan["states"]                     # a reduction only shrinks it
