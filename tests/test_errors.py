"""Bad input: every mistake is a SpecError with positioned diagnostics
(path, line, col, message, source_line), never a traceback; and the CLI
turns them into `file:line:col: error: ...` with exit status 2."""
from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

import modelcheck
from modelcheck.api import check_file
from helpers import REPO


def errors(text, params=None):
    """The diagnostics of a spec that must be rejected."""
    with pytest.raises(modelcheck.SpecError) as exc:
        modelcheck.check_source(textwrap.dedent(text).lstrip("\n"), params=params)
    diags = exc.value.diagnostics
    assert diags, "a SpecError without diagnostics"
    return diags


def one_error(text, params=None):
    diags = errors(text, params)
    assert len(diags) == 1, [d.message for d in diags]
    return diags[0]


def where(d):
    return (d.line, d.col)


# ---------------------------------------------------------------- names

def test_undeclared_name():
    d = one_error("""
        lock L
        thread t { lock X }
    """)
    assert where(d) == (2, 17)
    assert "not declared" in d.message and "X" in d.message
    assert d.source_line == "thread t { lock X }"


def test_undeclared_name_in_an_expression():
    d = one_error("""
        thread t { assert signalled(G) }
    """)
    assert where(d) == (1, 29)
    assert "not declared" in d.message


def test_duplicate_name():
    d = one_error("""
        lock L
        fence L
        thread t { }
    """)
    assert where(d) == (2, 7)
    assert "already declared" in d.message and "line 1" in d.message


def test_duplicate_of_the_builtin_mmap_lock():
    d = one_error("""
        lock mmap_lock
        thread t { }
    """)
    assert where(d) == (1, 6)
    assert "already declared" in d.message


def test_duplicate_actor_name():
    d = one_error("""
        thread t { }
        thread t { }
    """)
    assert where(d) == (2, 8)
    assert "already declared" in d.message


# ---------------------------------------------------------------- wrong kind

def test_wait_on_a_lock():
    d = one_error("""
        lock L
        thread t { wait L }
    """)
    assert where(d) == (2, 17)
    assert "lock" in d.message and "fence" in d.message


def test_publish_into_a_lock():
    d = one_error("""
        lock L
        fence F
        thread t { publish F in L }
    """)
    assert where(d) == (3, 25)
    assert "resv" in d.message


def test_lock_shared_on_a_mutex():
    d = one_error("""
        lock L
        thread t { lock L shared }
    """)
    assert where(d) == (2, 12)
    assert "rwsem" in d.message


def test_signal_a_lock():
    d = one_error("""
        resv R
        thread t { signal R }
    """)
    assert where(d) == (2, 19)
    assert "fence" in d.message


def test_ww_context_of_mutexes():
    d = one_error("""
        lock A
        lock B
        thread t { lock A, B }
    """)
    assert where(d) == (3, 20)
    assert "resv" in d.message


def test_acquire_a_fence():
    d = one_error("""
        fence F
        thread t { acquire F }
    """)
    assert where(d) == (2, 20)
    assert "engine" in d.message


def test_job_on_a_lock():
    d = one_error("""
        lock L
        job j on L { }
    """)
    assert where(d) == (2, 10)
    assert "engine" in d.message


def test_restart_in_a_hook():
    d = one_error("""
        thread t { fault }
        on fault { restart }
    """)
    assert where(d) == (2, 12)
    assert "restart" in d.message


# ---------------------------------------------------------------- indices and values

def test_index_out_of_range_after_params_and_copies():
    d = one_error("""
        param N = 2
        fence f[0..N]
        thread w[i in 0..N] { signal f[i+1] }
    """)
    assert where(d) == (3, 32)
    assert "out of range" in d.message and "3" in d.message


def test_index_out_of_range_only_after_a_param_override():
    text = """
        param N = 2
        fence f[0..2]
        thread w[i in 0..N] { signal f[i] }
    """
    modelcheck.check_source(textwrap.dedent(text))          # fine as written
    d = one_error(text, params={"N": 3})
    assert where(d) == (3, 32)          # the index expression
    assert "out of range" in d.message


def test_index_that_is_not_a_constant():
    d = one_error("""
        var x = 0 in 0..1
        fence f[0..1]
        thread t { signal f[x] }
    """)
    assert where(d) == (3, 21)
    assert "constant" in d.message


def test_two_spec_titles():
    d = one_error("""
        spec "a"
        spec "b"
        thread t { }
    """)
    assert d.line == 2
    assert "title" in d.message


def test_var_initial_value_outside_its_range():
    d = one_error("""
        var x = 5 in 0..3
        thread t { }
    """)
    assert where(d) == (1, 9)
    assert "outside" in d.message and "range" in d.message


def test_unknown_expect_kind():
    d = one_error("""
        thread t { }
        expect deadlok
    """)
    assert where(d) == (2, 8)
    assert "unknown finding kind" in d.message and "deadlok" in d.message


def test_unknown_param_override():
    d = one_error("""
        param N = 1
        thread t { }
    """, params={"NOPE": 1})
    assert where(d) == (0, 0)
    assert "NOPE" in d.message and "param" in d.message


def test_fence_after_itself():
    d = one_error("""
        fence F after F
        thread t { }
    """)
    assert where(d) == (1, 15)
    assert "itself" in d.message


def test_no_actor_at_all():
    d = one_error("""
        lock L
    """)
    assert "thread" in d.message


# ---------------------------------------------------------------- syntax

def test_unterminated_string():
    d = one_error("""
        spec "abc
        thread t { }
    """)
    assert where(d) == (1, 6)
    assert "unterminated" in d.message


def test_missing_name_after_lock():
    d = one_error("""
        thread t { lock }
    """)
    assert where(d) == (1, 17)
    assert "unexpected" in d.message


def test_binary_garbage(tmp_path):
    p = tmp_path / "garbage.fspec"
    p.write_bytes(b"\x00\xff\xfe\x00\x01\x02binary")
    with pytest.raises(modelcheck.SpecError) as exc:
        check_file(p)
    [d] = exc.value.diagnostics
    assert d.path == str(p)
    assert where(d) == (1, 2)
    assert "UTF-8" in d.message


def test_nul_byte_in_otherwise_valid_text(tmp_path):
    p = tmp_path / "nul.fspec"
    p.write_bytes(b"thread t { }\nlock \x00L\n")
    with pytest.raises(modelcheck.SpecError) as exc:
        check_file(p)
    [d] = exc.value.diagnostics
    assert where(d) == (2, 6)
    assert "NUL" in d.message or "binary" in d.message


def test_missing_file(tmp_path):
    with pytest.raises(modelcheck.SpecError) as exc:
        check_file(tmp_path / "nope.fspec")
    [d] = exc.value.diagnostics
    assert "cannot read" in d.message


def test_very_deeply_nested_blocks():
    text = "thread t {\n" + "if 1 {\n" * 500 + "}\n" * 500 + "}\n"
    d = one_error(text)
    assert d.line > 1 and d.col >= 1
    assert "nested" in d.message


def test_very_deeply_nested_expression():
    text = "var x = 0 in 0..1\nthread t { assert " + "not " * 2000 + "x }\n"
    d = one_error(text)
    assert d.line == 2
    assert "nested" in d.message


def no_crash(text):
    """Accepted and checked, or rejected with diagnostics: never another exception."""
    try:
        return modelcheck.check_source(text)
    except modelcheck.SpecError as e:
        assert e.diagnostics
        return None


def test_deeply_nested_parentheses_do_not_crash():
    r = no_crash("var x = 0 in 0..1\nthread t { assert " + "(" * 2000 + "x" + ")" * 2000 + " == 0 }\n")
    assert r is None or r.kinds == frozenset()


def test_long_flat_expression_does_not_crash():
    r = no_crash("var x = 0 in 0..1\nthread t { assert " + "x + " * 1500 + "x == 0 }\n")
    assert r is None or r.kinds == frozenset()


def test_several_errors_reported_at_once():
    diags = errors("""
        thread t {
            lock X
            wait Y
        }
    """)
    assert [(d.line, d.col) for d in diags] == [(2, 10), (3, 10)]
    assert all("not declared" in d.message for d in diags)


def test_several_syntax_errors_reported_at_once():
    diags = errors("""
        thread t {
            lock L L
        }
        thread u {
            signal F G
        }
    """)
    assert [(d.line, d.col) for d in diags] == [(2, 12), (5, 14)]


def test_a_missing_name_gives_no_spurious_errors_later():
    diags = errors("""
        thread t {
            lock
        }
        thread u {
            signal
        }
    """)
    assert [d.line for d in diags] == [2, 5]


def test_spec_error_str_is_the_full_report():
    with pytest.raises(modelcheck.SpecError) as exc:
        modelcheck.check_source("thread t { lock X }\n", path="demo.fspec")
    text = str(exc.value)
    assert text.startswith("demo.fspec:1:17: error: ")
    assert "thread t { lock X }" in text
    assert text.splitlines()[-1].strip() == "^"


# ---------------------------------------------------------------- the CLI

def run_cli(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "modelcheck", *map(str, args)],
                          capture_output=True, text=True, cwd=cwd or REPO, timeout=120)


def write(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(textwrap.dedent(text).lstrip("\n"))
    return p


DEADLOCK = """
    spec "abba"
    lock A
    lock B
    thread t1 { lock A; lock B; unlock B; unlock A }
    thread t2 { lock B; lock A; unlock A; unlock B }
    expect deadlock lock-order
"""

SAFE_SPEC = """
    param N = 2
    lock L
    thread w[i in 1..N] { lock L; unlock L }
    expect safe
"""


def test_cli_bad_input_exit_2_with_position_and_no_traceback(tmp_path):
    p = write(tmp_path, "bad.fspec", """
        lock L
        thread t { wait L }
    """)
    r = run_cli("check", p)
    assert r.returncode == 2
    assert f"{p}:2:17:" in r.stderr
    assert "Traceback" not in r.stderr + r.stdout


def test_cli_binary_input_exit_2(tmp_path):
    p = tmp_path / "bin.fspec"
    p.write_bytes(b"\x00\xff\xfe\x80\x81")
    r = run_cli("check", p)
    assert r.returncode == 2
    assert f"{p}:1:2:" in r.stderr
    assert "Traceback" not in r.stderr + r.stdout


def test_cli_exit_1_when_findings_differ_from_expect(tmp_path):
    p = write(tmp_path, "wrong.fspec", DEADLOCK.replace("expect deadlock lock-order", "expect safe"))
    r = run_cli("check", p)
    assert r.returncode == 1
    assert "FAIL" in r.stdout


def test_cli_exit_0_when_findings_equal_expect(tmp_path):
    p = write(tmp_path, "abba.fspec", DEADLOCK)
    q = write(tmp_path, "safe.fspec", SAFE_SPEC)
    r = run_cli("check", p, q)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "Traceback" not in r.stderr


def test_cli_bad_input_wins_over_a_failing_spec(tmp_path):
    bad = write(tmp_path, "bad.fspec", "thread t { lock X }\n")
    failing = write(tmp_path, "wrong.fspec", DEADLOCK.replace("expect deadlock lock-order", ""))
    r = run_cli("check", failing, bad)
    assert r.returncode == 2


def test_cli_json_schema(tmp_path):
    p = write(tmp_path, "abba.fspec", DEADLOCK)
    q = write(tmp_path, "safe.fspec", SAFE_SPEC)
    r = run_cli("check", "--format", "json", p, q)
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert set(doc) == {"schema_version", "files"}
    assert [f["path"] for f in doc["files"]] == [str(p), str(q)]
    for f in doc["files"]:
        assert {"path", "ok", "expected", "findings", "stats"} <= set(f)
        assert f["ok"] is True
        assert set(f["stats"]) >= {"states", "transitions", "depth", "seconds"}
        assert all(isinstance(f["stats"][k], int) for k in ("states", "transitions", "depth"))
        assert isinstance(f["stats"]["seconds"], (int, float))
        for finding in f["findings"]:
            assert {"kind", "message", "trace", "final_state", "waits_for"} <= set(finding)
            for step in finding["trace"]:
                assert {"step", "actor", "line", "statement", "effect"} <= set(step)
    abba, safe = doc["files"]
    assert "deadlock" in abba["expected"]
    assert [x["kind"] for x in abba["findings"]] == ["deadlock", "lock-order"]
    assert len(abba["findings"][0]["trace"]) == 2
    assert [s["step"] for s in abba["findings"][0]["trace"]] == [1, 2]
    assert safe["findings"] == []
    assert abba["lock_order"]["status"] == "cycle" and abba["lock_order"]["order"] == []
    assert {(e["from"], e["to"]) for e in abba["lock_order"]["cycle"]} == {("A", "B"), ("B", "A")}
    for e in abba["lock_order"]["cycle"]:
        assert {"from", "to", "actor", "line", "trace"} <= set(e) and e["trace"]
    assert safe["lock_order"]["status"] == "proved"
    order = safe["lock_order"]["order"]
    assert all(order.index(e["from"]) < order.index(e["to"]) for e in safe["lock_order"]["edges"])


def test_cli_max_states_never_passes_a_safe_spec(tmp_path):
    p = write(tmp_path, "safe.fspec", SAFE_SPEC)
    r = run_cli("check", "--max-states", "3", p)
    assert r.returncode != 0
    assert "INCOMPLETE" in r.stdout or "incomplete" in r.stdout


@pytest.mark.parametrize("args", [
    ["check"],                                  # no files
    ["check", "-D", "N", "{spec}"],             # -D without =VALUE
    ["check", "-D", "N=two", "{spec}"],         # -D with a non-integer
    ["check", "--format", "xml", "{spec}"],
    [],                                         # no command
])
def test_cli_usage_errors_exit_2(tmp_path, args):
    p = write(tmp_path, "safe.fspec", SAFE_SPEC)
    r = run_cli(*[a.format(spec=p) for a in args])
    assert r.returncode == 2
    assert "Traceback" not in r.stderr


def test_cli_define_overrides_a_param(tmp_path):
    p = write(tmp_path, "n.fspec", """
        param N = 2
        var x = 0 in 0..5
        thread t { x = N; assert x == 2 }
    """)
    assert run_cli("check", p).returncode == 0
    assert run_cli("check", "-D", "N=3", p).returncode == 1


def test_cli_define_of_an_unknown_param_exit_2(tmp_path):
    p = write(tmp_path, "safe.fspec", SAFE_SPEC)
    r = run_cli("check", "-D", "NOPE=1", p)
    assert r.returncode == 2
    assert "NOPE" in r.stderr
    assert "Traceback" not in r.stderr


ESC = "\x1b[31m"


@pytest.mark.parametrize("fmt", ["table", "json", "summary"])
def test_escape_characters_never_reach_stdout_raw(tmp_path, fmt):
    p = tmp_path / "esc.fspec"
    p.write_text(f'spec "{ESC}red title"\n'
                 'var x = 0 in 0..1\n'
                 f'invariant "{ESC}inv": x == 0\n'
                 f'thread t {{ x = 1 }}   # {ESC} in a comment\n')
    extra = ["--summary"] if fmt == "summary" else ["--format", fmt]
    r = run_cli("check", *extra, p)
    assert r.returncode == 1
    assert "\x1b" not in r.stdout
    assert "\x1b" not in r.stderr
    if fmt == "json":
        doc = json.loads(r.stdout)
        assert doc["files"][0]["title"] == f"{ESC}red title"    # escaped by JSON, intact when parsed
    else:
        assert "red title" in r.stdout


def test_escape_character_in_a_syntax_error_is_escaped(tmp_path):
    p = tmp_path / "esc.fspec"
    p.write_text(f"thread t {{ lock {ESC} }}\n")
    r = run_cli("check", p)
    assert r.returncode == 2
    assert "\x1b" not in r.stdout + r.stderr
    assert f"{p}:1:17:" in r.stderr


def test_escape_character_in_an_expect_line_is_escaped(tmp_path):
    p = tmp_path / "esc.fspec"
    p.write_text(f"thread t {{ }}\nexpect deadlock{ESC}\n")
    r = run_cli("check", p)
    assert r.returncode == 2
    assert "\x1b" not in r.stdout + r.stderr


def test_a_mistake_in_copied_threads_is_reported_once():
    diags = errors("""
        thread t[i in 1..3] { signal nope }
    """)
    assert [(d.line, d.col) for d in diags] == [(1, 30)]


def test_a_copy_index_hiding_an_object_is_named_as_such():
    diags = errors("""
        fence i
        thread t[i in 1..2] { signal i }
    """)
    assert len(diags) == 1 and "index" in diags[0].message and (diags[0].line, diags[0].col) == (2, 30)


def test_cli_output_into_a_closed_pipe_is_no_traceback(repo_root):
    import subprocess
    import sys
    p = subprocess.run(f"'{sys.executable}' -m modelcheck check specs/*.fspec | head -1",
                       shell=True, capture_output=True, text=True, cwd=repo_root)
    assert "Traceback" not in p.stderr and "BrokenPipe" not in p.stderr
