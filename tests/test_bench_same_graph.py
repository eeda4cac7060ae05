"""The bench's same-graph claim beyond the smallest sizes, and early-bug
mode against SPIN: with its reduction off pan stores exactly our states at
the next sizes too, and our early-mode deadlock trace is as long as pan's
first BFS error.  Skipped without SPIN and gcc (`.ci/run` installs them)."""
import shutil
import subprocess

import pytest

import modelcheck
from test_bench import bench

needs_gcc = pytest.mark.skipif(not (shutil.which("spin") and shutil.which("gcc")),
                               reason="spin or gcc not installed")
SIZES = [("pipeline", "fixed", (3,)), ("pipeline", "buggy", (3,)), ("ring", "deadlock", (3,)),
         ("pagefault", "shared", (2, 2))]


def pan(fam, variant, size, tmp_path, *flags):
    (tmp_path / "model.pml").write_text(bench.promela_for(fam, variant, size))
    subprocess.run(["spin", "-a", "model.pml"], cwd=tmp_path, check=True, capture_output=True)
    subprocess.run(["gcc", "-O0", "-DSAFETY", "-DBFS", *flags, "-o", "pan", "pan.c"], cwd=tmp_path,
                   check=True, capture_output=True)
    out = subprocess.run(["./pan", "-c0"] if "-DNOREDUCE" in flags else ["./pan"], cwd=tmp_path,
                         capture_output=True, text=True).stdout
    return bench.parse_pan(out), out


def spec(fam, variant, size):
    f = bench.FAMILIES[fam]
    return bench.SPECS / f.variants[variant][0], dict(zip(f.params, size))


@needs_gcc
@pytest.mark.parametrize("fam,variant,size", SIZES)
def test_the_same_graph_at_a_larger_size(fam, variant, size, tmp_path):
    path, params = spec(fam, variant, size)
    r = modelcheck.check_file(path, params, modelcheck.Limits(reduction=False, symmetry=False))
    d, out = pan(fam, variant, size, tmp_path, "-DNOREDUCE")
    assert r.stats.states == d["states"], out
    assert d["transitions"] == r.stats.transitions + 1, out


@needs_gcc
@pytest.mark.parametrize("fam,variant,size", [s for s in SIZES if s[1] != "fixed"])
def test_early_mode_stops_where_pan_stops(fam, variant, size, tmp_path):
    path, params = spec(fam, variant, size)
    r = modelcheck.check_file(path, params, modelcheck.Limits(early=True))
    d, out = pan(fam, variant, size, tmp_path)
    assert r.mode == "early" and "deadlock" in r.kinds
    assert min(len(f.trace) for f in r.findings if f.kind == "deadlock") == d["error_depth"], out
