"""The pytest plugin, run through pytester: specs become test items, a
failing spec shows its table, params per run, the `fspec` fixture."""
from __future__ import annotations

from helpers import REPO

DEADLOCK = """\
spec "abba"
lock a
lock b
thread t1 {
    lock a
    lock b
    unlock b
    unlock a
}
thread t2 {
    lock b
    lock a
    unlock a
    unlock b
}
"""

OK = """\
lock a
thread t { lock a; unlock a }
"""



def run(pytester, *args):
    """An in-process pytest run, without the plugins these tests do not need."""
    return pytester.runpytest(*args, "-p", "no:hypothesispytest", "-p", "no:cacheprovider")


PARAM = """\
param BAD = 0
thread t {
    if BAD == 1 {
        assert false
    }
}
"""


def test_every_spec_of_the_repository_is_a_passing_test(pytester):
    specs = sorted((REPO / "specs").glob("*.fspec"))
    result = run(pytester, "--fspec", str(REPO / "specs"))
    result.assert_outcomes(passed=len(specs))


def test_a_failing_spec_shows_the_table_not_a_traceback(pytester):
    pytester.makefile(".fspec", abba=DEADLOCK, fine=OK)
    result = run(pytester, "--fspec")
    result.assert_outcomes(passed=1, failed=1)
    out = result.stdout.str()
    assert "abba.fspec: FAIL (abba)" in out
    assert "expected: safe" in out
    result.stdout.fnmatch_lines(["step*actor*line*statement*effect", "who waits for whom:"])
    assert "Traceback" not in out and "def runtest" not in out


def test_specs_are_not_collected_without_the_option(pytester):
    pytester.makefile(".fspec", abba=DEADLOCK)
    result = run(pytester)
    result.assert_outcomes()
    assert result.ret == 5                         # nothing collected


def test_fspec_param_sets_the_param_of_the_specs_that_declare_it(pytester):
    pytester.makefile(".fspec", param=PARAM, fine=OK)
    run(pytester, "--fspec").assert_outcomes(passed=2)
    result = run(pytester, "--fspec", "--fspec-param", "BAD=1")
    result.assert_outcomes(passed=1, failed=1)
    assert "assert: " in result.stdout.str()


def test_a_bad_fspec_param_is_a_usage_error(pytester):
    pytester.makefile(".fspec", fine=OK)
    result = run(pytester, "--fspec", "--fspec-param", "BAD=one")
    assert result.ret == 4
    assert "'one' is not an integer" in result.stderr.str()
    result = run(pytester, "--fspec", "--fspec-param", "BDA=1")
    assert result.ret == 4
    assert "--fspec-param: no collected spec declares param BDA" in result.stderr.str()


def test_bad_input_shows_the_diagnostic_with_a_caret(pytester):
    pytester.makefile(".fspec", broken="thread t {\n    lock nosuch\n}\n")
    result = run(pytester, "--fspec")
    result.assert_outcomes(failed=1)
    out = result.stdout.str()
    assert "broken.fspec:2:" in out and "^" in out
    assert "Traceback" not in out


def test_ini_fspec_paths_collect_specs_beside_testpaths(pytester):
    pytester.makeini("[pytest]\ntestpaths = tests\nfspec_paths = specs\n")
    pytester.mkdir("tests")
    pytester.mkdir("specs")
    (pytester.path / "tests" / "test_x.py").write_text("def test_x():\n    pass\n")
    (pytester.path / "specs" / "fine.fspec").write_text(OK)
    (pytester.path / "other.fspec").write_text(DEADLOCK)    # not under fspec_paths
    run(pytester).assert_outcomes(passed=2)
    run(pytester, "specs").assert_outcomes(passed=1)


def test_the_fixture_checks_inline_specs(pytester):
    pytester.makepyfile(f'''
        def test_kinds(fspec):
            result = fspec.check({DEADLOCK!r})
            assert result.kinds == {{"deadlock", "lock-order"}}

        def test_params(fspec):
            assert fspec.check({PARAM!r}, BAD=1).kinds == {{"assert"}}

        def test_ok(fspec):
            fspec.assert_ok({OK!r})

        def test_fails_with_the_table(fspec):
            fspec.assert_ok({DEADLOCK!r})

        def test_bad_input(fspec):
            fspec.check("thread t {{ lock nosuch }}")
    ''')
    result = run(pytester)
    result.assert_outcomes(passed=3, failed=2)
    out = result.stdout.str()
    assert "<inline spec>: FAIL (abba)" in out and "who waits for whom:" in out
    assert "<inline spec>:1:17: error: 'nosuch' is not declared" in out
    assert "During handling" not in out
