"""`--format sarif`: SARIF 2.1.0 with one result per finding at the spec line
of its decisive step; checked on real specs by a hand check of the fields
the SARIF 2.1.0 schema requires."""
from __future__ import annotations

import json

from helpers import REPO
from modelcheck import cli
from modelcheck.reports import explain
from modelcheck.language.model import FINDING_KINDS
from modelcheck.reports.sarif import decisive

SPECS = ["specs/proxy_fence_fork.fspec", "specs/userspace_fence_timeout.fspec",
         "specs/signalling_alloc_kernel.fspec", "specs/ok_fair_spin.fspec",
         "specs/pagefault_shared_engine.fspec"]


def sarif(capsys, *args) -> tuple[int, dict]:
    status = cli.main(["check", "--format", "sarif", *args])
    return status, json.loads(capsys.readouterr().out)


def well_formed(log: dict) -> None:
    """The parts of the SARIF 2.1.0 schema a code-scanning upload relies on."""
    assert log["version"] == "2.1.0" and log["$schema"].endswith("sarif-2.1.0.json")
    for run in log["runs"]:
        driver = run["tool"]["driver"]
        assert isinstance(driver["name"], str) and driver["name"]
        ids = [r["id"] for r in driver["rules"]]
        for result in run["results"]:
            assert result["message"]["text"]
            assert ids[result["ruleIndex"]] == result["ruleId"]
            assert result["level"] in ("none", "note", "warning", "error")
            for loc in result["locations"]:
                phys = loc["physicalLocation"]
                assert phys["artifactLocation"]["uri"]
                assert isinstance(phys["region"]["startLine"], int) and phys["region"]["startLine"] >= 1
            for flow in result.get("codeFlows", []):
                for tf in flow["threadFlows"]:
                    assert tf["locations"], "a threadFlow has at least one location"
                    for tfl in tf["locations"]:
                        assert tfl["location"]["physicalLocation"]["region"]["startLine"] >= 1
        for inv in run["invocations"]:
            assert isinstance(inv["executionSuccessful"], bool)


def test_one_result_per_finding_at_the_decisive_line(capsys, repo_root):
    import modelcheck
    status, log = sarif(capsys, *SPECS)
    assert status == 0
    well_formed(log)
    results = log["runs"][0]["results"]
    expected = [(p, f) for p in SPECS for f in modelcheck.check_file(p).findings]
    assert len(results) == len(expected) > 3
    for res, (path, f) in zip(results, expected):
        loc = res["locations"][0]["physicalLocation"]
        assert loc["artifactLocation"]["uri"] == path
        line = loc["region"]["startLine"]
        step = decisive(f)
        assert line == step.line
        source = (REPO / path).read_text().splitlines()[line - 1]
        assert step.statement.split("\n")[0].split()[0] in source
        assert res["ruleId"] == f.kind and res["level"] == "note"      # expected by the spec
        flow = res["codeFlows"][0]["threadFlows"][0]["locations"]
        assert len(flow) == len(f.trace) + len(f.then) + len(f.blocked)


def test_deadlock_points_at_the_stuck_statement(capsys, repo_root):
    _, log = sarif(capsys, "specs/pagefault_shared_engine.fspec")
    (res,) = log["runs"][0]["results"]
    line = res["locations"][0]["physicalLocation"]["region"]["startLine"]
    assert (REPO / "specs/pagefault_shared_engine.fspec").read_text().splitlines()[line - 1] \
        .strip().startswith("job gfx on cu")


def test_rules_are_the_finding_kinds_with_the_explanations(capsys, repo_root):
    _, log = sarif(capsys, "specs/ok_fair_spin.fspec")
    rules = log["runs"][0]["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == list(FINDING_KINDS)
    for r in rules:
        assert r["help"]["text"] == explain.text(r["id"])
        assert r["shortDescription"]["text"] == explain.KINDS[r["id"]].summary
    assert log["runs"][0]["results"] == []


def test_unexpected_and_missing_findings_are_errors(capsys, tmp_path, monkeypatch):
    spec = tmp_path / "flipped.fspec"
    text = (REPO / "specs/proxy_fence_fork_fixed.fspec").read_text()
    assert "expect safe" in text
    spec.write_text(text.replace("expect safe", "expect timeout-hang"))
    bad = tmp_path / "abba.fspec"
    bad.write_text("lock a\nlock b\nthread t1 { lock a; lock b; unlock b; unlock a }\n"
                   "thread t2 { lock b; lock a; unlock a; unlock b }\n")
    monkeypatch.chdir(tmp_path)
    status, log = sarif(capsys, "flipped.fspec", "abba.fspec")
    assert status == 1
    well_formed(log)
    missing, found, cycle = log["runs"][0]["results"]
    assert cycle["ruleId"] == "lock-order" and cycle["level"] == "error"
    assert missing["ruleId"] == "timeout-hang" and missing["level"] == "error"
    line = missing["locations"][0]["physicalLocation"]["region"]["startLine"]
    assert spec.read_text().splitlines()[line - 1] == "expect timeout-hang"
    assert found["ruleId"] == "deadlock" and found["level"] == "error"
    assert "not expected" in found["message"]["text"]


def test_an_incomplete_run_is_a_notification(capsys, repo_root):
    _, log = sarif(capsys, "--max-states", "3", "specs/pagefault_remedies.fspec")
    well_formed(log)
    (note,) = log["runs"][0]["invocations"][0]["toolExecutionNotifications"]
    assert "INCOMPLETE" in note["message"]["text"]


def test_bad_input_is_an_error_notification(capsys, tmp_path, repo_root):
    bad = tmp_path / "bad.fspec"
    bad.write_text("thread t {\n    lock nosuch\n}\n")
    status, log = sarif(capsys, str(bad), "specs/ok_fair_spin.fspec")
    assert status == 2
    well_formed(log)
    (inv,) = log["runs"][0]["invocations"]
    assert inv["executionSuccessful"] is False
    (note,) = inv["toolExecutionNotifications"]
    assert note["level"] == "error" and note["message"]["text"] == "'nosuch' is not declared"
    region = note["locations"][0]["physicalLocation"]["region"]
    assert (region["startLine"], region["startColumn"]) == (2, 10)
