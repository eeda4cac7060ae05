"""Golden files for the table output: tests/golden/NAME.fspec is checked
from the repository root and `modelcheck.reports.report.table(result)` must equal
tests/golden/NAME.txt, with the search time replaced by `<seconds>`.

Regenerate after an intended change with

    UPDATE_GOLDEN=1 .venv/bin/python -m pytest -q tests/test_report.py

and review the diff: the golden files are the specification of the tables.
"""
from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

import modelcheck
from modelcheck.reports import report

GOLDEN = Path("tests") / "golden"
SPECS = sorted(p.stem for p in (Path(__file__).parent / "golden").glob("*.fspec"))
SECONDS = re.compile(r"^(  searched: .*), \d+(\.\d+)? s$", re.M)
CORE = re.compile(r"^  core: .*\n", re.M)      # native, or python and why: per install
Z3 = re.compile(r"z3 \d+\.\d+ s")


def normalise(text: str) -> str:
    return CORE.sub("", Z3.sub("z3 <seconds> s", SECONDS.sub(r"\1, <seconds> s", text)))


def test_there_are_golden_specs():
    assert len(SPECS) >= 3


@pytest.mark.parametrize("name", SPECS)
def test_table_matches_golden(name, repo_root):
    spec = GOLDEN / f"{name}.fspec"
    result = modelcheck.check_file(str(spec))
    got = normalise(report.table(result))
    assert "<seconds> s" in got, "the timing line was not found"
    golden = GOLDEN / f"{name}.txt"
    if os.environ.get("UPDATE_GOLDEN") == "1":
        golden.write_text(got)
    assert golden.exists(), f"missing {golden}; run with UPDATE_GOLDEN=1"
    assert got == golden.read_text()


def test_table_names_the_file_relative_to_the_current_directory(repo_root):
    result = modelcheck.check_file(str((repo_root / GOLDEN / "abba.fspec").resolve()))
    assert report.table(result).startswith("tests/golden/abba.fspec: ok")


def test_incomplete_table_says_so(repo_root):
    result = modelcheck.check_file(str(GOLDEN / "fair_spin.fspec"),
                                   limits=modelcheck.Limits(max_states=2))
    text = report.table(result)
    assert "INCOMPLETE" in text
    assert text.splitlines()[0].endswith("FAIL (busy-wait on a fence beside its signaller)")


def test_json_report(repo_root):
    results = [modelcheck.check_file(str(GOLDEN / f"{n}.fspec")) for n in SPECS]
    doc = json.loads(report.as_json(results))
    assert [f["path"] for f in doc["files"]] == [str(GOLDEN / f"{n}.fspec") for n in SPECS]
    for f, r in zip(doc["files"], results):
        assert f["ok"] == r.ok
        assert sorted(x["kind"] for x in f["findings"]) == sorted(x.kind for x in r.findings)
        for x, y in zip(f["findings"], r.findings):
            assert len(x["trace"]) == len(y.trace)


def test_table_escapes_control_characters():
    text = 'spec "\x1b[2J title"\nvar x = 0 in 0..1\ninvariant "\x07bell": x == 0\nthread t { x = 1 }\n'
    out = report.table(modelcheck.check_source(text, path="ctl\x1b.fspec"))
    assert "\x1b" not in out and "\x07" not in out
    assert "title" in out and "bell" in out
