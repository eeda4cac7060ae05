"""The Python API: check_source / check_file -> Result; nothing printed."""
from __future__ import annotations

import textwrap

import pytest

import modelcheck
from modelcheck.verdicts.trace import Step

from helpers import REPO

ABBA = """
    spec "abba"
    lock A
    lock B
    thread t1 { lock A; lock B; unlock B; unlock A }
    thread t2 { lock B; lock A; unlock A; unlock B }
"""

FIXED = """
    spec "lock inversion, fixed: both take A first"
    lock A
    lock B
    thread t1 { lock A; lock B; unlock B; unlock A }
    thread t2 { lock A; lock B; unlock B; unlock A }
    expect safe
"""


def src(text, *expects):
    return textwrap.dedent(text) + "".join(f"expect {e}\n" for e in expects)


def test_check_source_prints_nothing(capsys):
    r = modelcheck.check_source(src(ABBA, "deadlock", "lock-order"))
    with pytest.raises(modelcheck.SpecError):
        modelcheck.check_source("thread t { lock X }")
    out = capsys.readouterr()
    assert out.out == "" and out.err == ""
    assert r.ok


def test_result_fields():
    r = modelcheck.check_source(src(ABBA, "deadlock", "lock-order"))
    assert r.title == "abba"
    assert r.kinds == frozenset({"deadlock", "lock-order"})
    assert isinstance(r.kinds, frozenset)
    assert r.expected == frozenset({"deadlock", "lock-order"})
    assert r.complete and r.ok
    assert r.stats.states > 0 and r.stats.transitions > 0 and r.stats.depth > 0
    assert r.stats.seconds >= 0
    f, cycle = r.findings
    assert cycle.kind == "lock-order" and r.lock_order.status == "cycle"
    assert f.kind == "deadlock" and f.message
    assert len(f.trace) == 2
    assert all(isinstance(s, Step) for s in f.trace)
    assert [s.step for s in f.trace] == [1, 2]
    assert {s.actor for s in f.trace} == {"t1", "t2"}
    assert all(s.line == 5 or s.line == 6 for s in f.trace)
    assert all(s.statement.startswith("lock") for s in f.trace)
    assert all(s.effect for s in f.trace)
    assert sorted(s.actor for s in f.blocked) == ["t1", "t2"]
    assert f.final_state["actors"]["t1"].startswith("blocked")
    assert f.waits_for and all(isinstance(w, str) for w in f.waits_for)
    assert "ok" in r.summary()


def test_check_file(tmp_path):
    p = tmp_path / "abba.fspec"
    p.write_text(src(ABBA, "deadlock", "lock-order"))
    r = modelcheck.check_file(p)
    assert r.path == str(p)
    assert r.ok and r.kinds == {"deadlock", "lock-order"}
    r2 = modelcheck.check_file(str(p))
    assert r2.kinds == r.kinds


def test_params_override():
    text = """
        param N = 1
        var x = 0 in 0..9
        thread w[i in 1..N] { x = x + 1 }
        thread c { await done(w); assert x == 1 }
    """
    assert modelcheck.check_source(textwrap.dedent(text)).kinds == frozenset()
    r = modelcheck.check_source(textwrap.dedent(text), params={"N": 2})
    assert r.kinds == {"assert"}
    assert r.params == {"N": 2}


def test_params_override_of_an_unknown_name_is_an_error():
    with pytest.raises(modelcheck.SpecError) as exc:
        modelcheck.check_source("thread t { }", params={"NOPE": 1})
    assert "NOPE" in exc.value.diagnostics[0].message


@pytest.mark.parametrize("expects, ok", [
    ([], False),                            # no expect: must be safe
    (["safe"], False),
    (["deadlock", "lock-order"], True),
    (["deadlock"], False),                  # the sets must be equal
    (["deadlock", "lock-order", "assert"], False),
    (["assert"], False),
])
def test_ok_compares_expect_lines_with_findings(expects, ok):
    r = modelcheck.check_source(src(ABBA, *expects))
    assert r.kinds == {"deadlock", "lock-order"}
    assert r.ok is ok
    assert ("ok" if ok else "FAIL") in r.summary()


@pytest.mark.parametrize("expects, ok", [
    ([], True),
    (["safe"], True),
    (["deadlock"], False),
])
def test_ok_on_a_safe_spec(expects, ok):
    r = modelcheck.check_source(src(FIXED.replace("expect safe", ""), *expects))
    assert r.kinds == frozenset()
    assert r.ok is ok


def test_several_expect_lines_and_kinds_on_one_line():
    text = """
        fence F
        thread t { publish F; wait any }
    """
    assert modelcheck.check_source(src(text, "deadlock", "indefinite-fence")).ok
    assert modelcheck.check_source(textwrap.dedent(text) + "expect deadlock indefinite-fence\n").ok


def test_incomplete_search_never_passes_as_safe():
    r = modelcheck.check_source(textwrap.dedent(FIXED), limits=modelcheck.Limits(max_states=3))
    assert not r.complete
    assert r.stopped
    assert not r.ok
    assert "incomplete" in r.summary()


def test_incomplete_search_may_confirm_an_expected_bug():
    text = src("""
        var x = 0 in 0..9
        var y = 0 in 0..9
        thread t { assert x == 1 }
        thread spin { while 1 { y = (y + 1) % 10 } }
    """, "assert")
    r = modelcheck.check_source(text, limits=modelcheck.Limits(max_states=5))
    assert not r.complete
    assert r.kinds == {"assert"}
    assert r.ok


def test_findings_are_ordered_shortest_trace_first_per_kind():
    r = modelcheck.check_source(textwrap.dedent("""
        var x = 0 in 0..3
        thread t { x = 1; x = 2; assert x == 0; assert x == 1 }
    """))
    lengths = [len(f.trace) for f in r.findings if f.kind == "assert"]
    assert lengths == sorted(lengths) and lengths[0] == 3


def test_readme_pytest_embedding(tmp_path, monkeypatch):
    # the five-line example of the README, against a spec of our own
    (tmp_path / "specs").mkdir()
    (tmp_path / "specs" / "lock_inversion_fixed.fspec").write_text(textwrap.dedent(FIXED))
    monkeypatch.chdir(tmp_path)

    def test_my_design():
        result = modelcheck.check_file("specs/lock_inversion_fixed.fspec")
        assert result.ok, result.summary()

    test_my_design()


def test_readme_pytest_embedding_fails_with_the_summary(tmp_path, monkeypatch):
    (tmp_path / "specs").mkdir()
    (tmp_path / "specs" / "lock_inversion.fspec").write_text(src(ABBA, "safe"))
    monkeypatch.chdir(tmp_path)
    result = modelcheck.check_file("specs/lock_inversion.fspec")
    with pytest.raises(AssertionError) as exc:
        assert result.ok, result.summary()
    assert "deadlock" in str(exc.value)
    assert "lock_inversion.fspec" in str(exc.value)


def test_public_names():
    for name in ("check_file", "check_source", "Result", "SpecError", "Limits"):
        assert hasattr(modelcheck, name)
    d = modelcheck.SpecError([]).diagnostics
    assert d == []


def test_same_input_same_output():
    """Deterministic: two runs give the same findings, traces and counts."""
    import json
    from modelcheck.reports import report
    spec = (REPO / "specs" / "proxy_fence_fork_mt.fspec")
    runs = []
    for _ in range(2):
        r = modelcheck.check_file(spec)
        r.stats.seconds = r.stats.z3_seconds = 0.0
        runs.append(json.loads(report.as_json([r])))
    assert runs[0] == runs[1]
