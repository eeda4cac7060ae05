"""`--format ktap` is KTAP version 1 (Documentation/dev-tools/ktap.rst): checked
line by line against the format's grammar, for every spec and for bad input."""
import re

import pytest

from every_spec import SPECS, result
from modelcheck import cli
from modelcheck.reports import ktap

VERSION = re.compile(r"(?:K?TAP) version [0-9]+$")
PLAN = re.compile(r"1\.\.([0-9]+)$")
RESULT = re.compile(r"(ok|not ok) ([0-9]+)(?: ([^#]*?))?(?: # ?(?:(SKIP|TODO|XFAIL|TIMEOUT|ERROR)\b)?(.*))?$")


class KTest:
    def __init__(self, name=""):
        self.name, self.ok, self.subtests, self.diagnostics = name, None, [], []


def parse(text: str) -> list:
    """The KTAP grammar: a version line, a plan, then at each level results
    numbered from 1 and matching the plan, each nested test's lines indented
    two more spaces and starting with its own version line and plan.  Every
    line is one of the four kinds (no unknown lines in our output).  A parent
    fails when a subtest fails.  Returns the top-level tests."""
    lines = text.rstrip("\n").split("\n")
    pos = 0

    def level(indent: int) -> list:
        nonlocal pos
        assert VERSION.match(lines[pos][indent:]) and lines[pos].startswith(" " * indent), lines[pos]
        assert lines[pos][indent:] == "KTAP version 1"
        pos += 1
        while lines[pos][indent:].startswith("# "):        # `# Subtest: name` and the like
            pos += 1
        plan = PLAN.match(lines[pos][indent:])
        assert plan and lines[pos][:indent] == " " * indent, f"no plan: {lines[pos]!r}"
        pos += 1
        tests, pending, diags = [], None, []
        while pos < len(lines):
            line = lines[pos]
            lead = len(line) - len(line.lstrip(" "))
            if lead < indent:
                break
            body = line[indent:]
            if lead > indent:
                assert lead == indent + 2, f"indentation: {line!r}"
                assert pending is None, "two nested tests before one result"
                pending = level(indent + 2)
                continue
            pos += 1
            if body.startswith("# "):
                diags.append(body[2:])
                continue
            m = RESULT.match(body)
            assert m, f"not a KTAP line: {line!r}"
            assert int(m.group(2)) == len(tests) + 1, f"numbering: {line!r}"
            t = KTest((m.group(3) or "").strip())
            t.ok, t.diagnostics, t.directive = m.group(1) == "ok", diags, m.group(4)
            if pending is not None:
                t.subtests = pending
                assert t.ok == all(s.ok for s in pending), f"parent result {line!r} disagrees with its subtests"
            tests.append(t)
            pending, diags = None, []
        assert pending is None, "nested test without a result"
        assert len(tests) == int(plan.group(1)), "plan and results disagree"
        return tests

    tests = level(0)
    assert pos == len(lines), f"trailing line {lines[pos]!r}"
    return tests


@pytest.mark.parametrize("path", SPECS, ids=lambda p: p.name)
def test_every_spec_is_one_valid_ktap_test(path):
    r = result(path)
    [t] = parse(ktap.render([r]))
    assert t.name == path.stem and t.ok == r.ok
    kinds = sorted(r.expected | r.kinds) or ["safe"]
    assert [s.name for s in t.subtests] == kinds
    for s in t.subtests:
        assert s.ok
        if s.name != "safe":
            assert any(d.startswith(f"{s.name}: ") for d in s.diagnostics)


def test_a_failing_spec_names_each_kind(tmp_path, capsys):
    spec = tmp_path / "abba.fspec"
    spec.write_text("lock a\nlock b\nthread t { lock a; lock b; unlock b; unlock a }\n"
                    "thread u { lock b; lock a; unlock a; unlock b }\nexpect timeout-hang\n")
    assert cli.main(["check", "--format", "ktap", str(spec)]) == 1
    [t] = parse(capsys.readouterr().out)
    assert not t.ok
    by = {s.name: s for s in t.subtests}
    assert set(by) == {"deadlock", "lock-order", "timeout-hang"}
    assert not by["deadlock"].ok and not by["timeout-hang"].ok and not by["lock-order"].ok
    assert any("shortest trace of deadlock" in d for d in by["deadlock"].diagnostics)
    assert any(re.search(r"1 (t|u) abba.fspec:3|1 u abba.fspec:4", d) for d in by["deadlock"].diagnostics)


def test_bad_input_is_an_error_directive(tmp_path, capsys):
    bad = tmp_path / "bad.fspec"
    bad.write_text("thread t {\n  lock nowhere\n}\n")
    good = tmp_path / "good.fspec"
    good.write_text("thread t {\n}\n")
    assert cli.main(["check", "--format", "ktap", str(bad), str(good)]) == 2
    out = capsys.readouterr().out
    first, second = parse(out)
    assert not first.ok and first.directive == "ERROR" and "bad.fspec:2:" in out
    assert second.ok and second.name == "good"


def test_the_grammar_refuses_what_is_not_ktap():
    with pytest.raises(AssertionError):
        parse("KTAP version 1\n1..2\nok 1 a\n")
    with pytest.raises(AssertionError):
        parse("KTAP version 1\n1..1\n  KTAP version 1\n  1..1\n  not ok 1 x\nok 1 parent\n")
    with pytest.raises(AssertionError):
        parse("KTAP version 1\n1..1\nok 2 a\n")
