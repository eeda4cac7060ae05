"""`modelcheck matrix`: every combination of param values, one row each; the
seed-003 remedies judged as the document and the single-remedy specs do."""
from __future__ import annotations

import argparse

import pytest

import modelcheck
from modelcheck import cli, matrix

REMEDY_SPECS = ["pagefault_shared_engine", "pagefault_preemptible", "pagefault_dedicated_engines",
                "pagefault_reserve_in_flight", "pagefault_flush_on_switch"]


def test_values_lists_and_ranges():
    assert matrix.values("N=1..3") == ("N", [1, 2, 3])
    assert matrix.values("N=0,2,5") == ("N", [0, 2, 5])
    assert matrix.values("N=0..2,5,1") == ("N", [0, 1, 2, 5])
    for bad in ("N", "N=a", "N=1..x", "1N=2", "N=3..1"):
        with pytest.raises(argparse.ArgumentTypeError):
            matrix.values(bad)


def test_each_remedy_is_judged_as_its_own_spec_and_the_seed_say(repo_root):
    rows = matrix.run("specs/pagefault_remedies.fspec", [("REMEDY", [0, 1, 2, 3, 4])])
    assert [r.params for r in rows] == [{"REMEDY": v} for v in range(5)]
    assert [r.result.kinds for r in rows] == [{"deadlock"}] + [frozenset()] * 4
    assert all(r.result.complete for r in rows)
    for row, name in zip(rows, REMEDY_SPECS):
        assert row.result.kinds == modelcheck.check_file(f"specs/{name}.fspec").expected
    assert [r.checked for r in rows] == [True, False, False, False, False]
    assert matrix.status(rows) == 0


def test_the_table(capsys, repo_root):
    assert cli.main(["matrix", "specs/pagefault_remedies.fspec", "-D", "REMEDY=0..4"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0].startswith("specs/pagefault_remedies.fspec (page faults") and "5 combinations" in lines[0]
    assert lines[1].split() == ["REMEDY", "found", "states", "shortest", "trace", "expect", "lines"]
    body = [l.split() for l in lines[3:8]]
    assert [b[:2] for b in body] == [["0", "deadlock"], ["1", "safe"], ["2", "safe"], ["3", "safe"],
                                     ["4", "safe"]]
    assert body[0][3:] == ["deadlock", body[0][4], "ok"] and int(body[0][4]) > 0
    assert all(b[-2:] == ["-", "-"] for b in body[1:])


def test_two_params_every_combination(capsys, tmp_path):
    spec = tmp_path / "two.fspec"
    spec.write_text("param A = 0\nparam B = 1\nthread t {\n    if A == 1 and B == 1 {\n"
                    "        assert false\n    }\n}\n")
    rows = matrix.run(str(spec), [("A", [0, 1]), ("B", [0, 1])])
    assert [tuple(r.params.values()) for r in rows] == [(0, 0), (0, 1), (1, 0), (1, 1)]
    assert [r.result.kinds for r in rows] == [frozenset()] * 3 + [{"assert"}]
    assert [r.checked for r in rows] == [False, True, False, False]
    assert cli.main(["matrix", str(spec), "-D", "A=0,1", "-D", "B=0..1"]) == 0
    assert "assert 1" in capsys.readouterr().out      # the shortest assert trace has one step


def test_a_failing_checked_row_fails_the_run(tmp_path, capsys):
    spec = tmp_path / "f.fspec"
    spec.write_text("param A = 1\nthread t {\n    if A == 1 {\n        assert false\n    }\n}\n")
    assert cli.main(["matrix", str(spec), "-D", "A=0..1"]) == 1
    assert "FAIL: expected safe" in capsys.readouterr().out


def test_bad_usage_and_unknown_params(capsys, repo_root):
    assert cli.main(["matrix", "specs/pagefault_remedies.fspec", "-D", "NOPE=1"]) == 2
    assert "declares no param NOPE" in capsys.readouterr().err
    with pytest.raises(SystemExit) as e:
        cli.main(["matrix", "specs/pagefault_remedies.fspec", "-D", "REMEDY=x"])
    assert e.value.code == 2
    assert cli.main(["matrix", "no/such.fspec", "-D", "A=1"]) == 2


def test_a_limit_marks_rows_incomplete(capsys, repo_root):
    assert cli.main(["matrix", "specs/pagefault_remedies.fspec", "-D", "REMEDY=0,1", "--max-states", "5"]) == 1
    out = capsys.readouterr().out
    assert out.count("nothing so far (INCOMPLETE: state limit reached (5 states))") == 2
    assert "FAIL: expected deadlock" in out
