"""Hostile and huge input, limits, signals and broken output: each defect
of the reliability campaign as an example that must stay fixed.  Bad input
is a positioned SpecError naming the bound; nothing is a traceback."""
from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import textwrap

import pytest

import modelcheck
from modelcheck import cli, matrix
from modelcheck.language import bounds
from modelcheck.language.errors import Source
from helpers import REPO

SAFE = "lock a\nthread t { lock a; unlock a }\n"


def error_of(text, params=None):
    with pytest.raises(modelcheck.SpecError) as exc:
        modelcheck.check_source(textwrap.dedent(text).lstrip("\n"), params=params)
    return exc.value.diagnostics


def one(text, params=None):
    diags = error_of(text, params)
    assert len(diags) == 1, [d.message for d in diags]
    return diags[0]


def run_cli(*args, env=None, **kw):
    return subprocess.run([sys.executable, "-m", "modelcheck", *args], capture_output=True,
                          env={**os.environ, **(env or {})}, **kw)


# ------------------------------------------------------------------ bounds

def test_integer_literal_of_thousands_of_digits_is_a_positioned_error():
    d = one("param N = " + "9" * 5000 + "\nthread t { }\n")
    assert (d.line, d.col) == (1, 11) and "MAX_INT" in d.message


@pytest.mark.parametrize("text", [
    "param N = 100000000000000000000\nthread t { }\n",
    "var x = 0 in 0..100000000000000000000\nthread t { x = 1 }\n",
    "param N = 2147483647\nvar x = 0 in 0..N * 2\nthread t { x = 1 }\n",
    "param N = 46341\nfence f[0..N * N]\nthread t { }\n",
])
def test_huge_params_and_var_ranges_are_refused_before_any_search(text):
    d = one(text)
    assert "MAX_INT" in d.message and d.line >= 1


def test_huge_param_from_the_command_line(tmp_path, capsys):
    p = tmp_path / "p.fspec"
    p.write_text("param N = 1\nvar x = 0 in 0..N\nthread t { x = N }\n")
    for fmt in ("table", "json"):
        assert cli.main(["check", "--format", fmt, "-D", "N=100000000000000000000", str(p)]) == 2
        assert "MAX_INT" in capsys.readouterr().err


def test_else_if_chain_past_the_nesting_bound_is_an_error_not_a_recursion_error():
    chain = "".join(f" else if x == {i} {{ x = 1 }}" for i in range(400))
    d = one(f"var x = 0 in 0..1\nthread t {{\n if x == 0 {{ x = 1 }}{chain}\n}}\n")
    assert "MAX_NESTING" in d.message and d.line == 3


def test_an_else_if_chain_within_the_bound_is_checked():
    chain = "".join(f" else if x == {i} {{ x = 1 }}" for i in range(2, 95))
    r = modelcheck.check_source(f"var x = 0 in 0..1\nthread t {{\n if x == 0 {{ x = 1 }}{chain}\n}}\n")
    assert r.ok


def test_actor_count_is_bounded_before_the_actors_exist():
    text = "".join(f"thread t{i}[i in 0..200] {{ }}\n" for i in range(200))
    d = one(text)
    assert "MAX_ACTORS" in d.message and d.line == 1 + bounds.MAX_ACTORS // 201


def test_object_count_is_bounded_across_arrays():
    text = "".join(f"fence f{i}[0..4000]\n" for i in range(10)) + "thread t { }\n"
    d = one(text)
    assert "MAX_OBJECTS" in d.message


def test_statement_count_is_bounded_copies_counted():
    body = "x = 1\n" * 300
    d = one(f"var x = 0 in 0..1\nthread t[i in 0..255] {{\n{body}}}\n")
    assert "MAX_STATEMENTS" in d.message


def test_a_huge_fence_array_gives_one_error_and_no_follow_on():
    d = one("fence f[0..100000]\nthread t { signal f[3]; wait f[2] }\nthread u { await signalled(f[1]) }\n")
    assert "MAX_ELEMENTS" in d.message and d.line == 1


def test_a_long_body_builds_in_linear_work():
    """8,000 statements: the reduction's futures are one pass, not one walk
    per statement (that was minutes)."""
    r = modelcheck.check_source("var x = 0 in 0..1\nthread t {\n" + "x = 1\n" * 8000 + "}\n",
                                limits=modelcheck.Limits(max_states=50))
    assert r.stats.states == 50 and not r.complete


# ------------------------------------------------------------------ lines

def test_crlf_spec_with_comment_and_blank_runs_is_the_same_spec():
    text = "# a\n\n# b\n\nlock a\n\n# c\nthread t {\n  lock a\n\n  # c\n\n  lock a\n}\n" \
        "expect deadlock, lock-order\n"
    lf = modelcheck.check_source(text)
    for eol in ("\r\n", "\r"):
        r = modelcheck.check_source(text.replace("\n", eol))
        assert r.ok and r.kinds == lf.kinds
        assert [s.line for s in r.findings[0].trace] == [s.line for s in lf.findings[0].trace]


def test_a_megabyte_crlf_spec_is_lexed_without_backtracking():
    """Comment and blank-line runs with CRLF made the newline terminals
    backtrack exponentially (an 86-byte spec took 107 s).  The lexer sees
    LF only: its work is linear, so a 1 MB spec goes through at once."""
    chunk = "# comment line with words\r\n\r\n   \r\n# another; one\r\n\r\n"
    text = "lock a\r\n" + chunk * (2**20 // len(chunk)) + "thread t { lock a\r\n" + chunk * 10 + \
        "unlock a }\r\nexpect safe\r\n"
    assert len(text) > 2**20
    src = Source("big", text)
    assert "\r" not in src.text                  # the parser never sees a CR
    r = modelcheck.check_source(text)
    assert r.ok and r.stats.states == 3


def test_expect_with_crlf_or_a_tab_is_accepted():
    base = "lock a\nthread t { lock a; lock a }\n"
    for line in ("expect deadlock, lock-order\r\n", "expect\tdeadlock\tlock-order\n",
                 "expect \t deadlock,lock-order \t\r\n"):
        r = modelcheck.check_source(base + line)
        assert r.expected == {"deadlock", "lock-order"} and r.ok


def test_form_feed_and_nel_do_not_shift_lines_or_statement_text():
    text = "lock a\f\n# note\x85 more\nthread t {\n  lock a\f; lock a\n}\nexpect deadlock, lock-order\n"
    r = modelcheck.check_source(text)
    dl = next(f for f in r.findings if f.kind == "deadlock")
    assert [(s.line, s.statement) for s in dl.trace] == [(4, "lock a")]
    assert dl.blocked[0].statement == "lock a"
    d = one("thread t {\n  lock\x85 b\n}\n")
    assert d.line == 2 and d.source_line == "  lock\x85 b"


# ------------------------------------------------------------------ limits

def test_max_states_counts_exactly_the_states_searched():
    text = "var x = 0 in 0..3\nthread t { x = 1; x = 2 }\nthread u { x = 3; x = 0 }\n"
    for n in (1, 2, 5):
        r = modelcheck.check_source(text, limits=modelcheck.Limits(max_states=n))
        assert r.stats.states == n and r.stopped == f"state limit reached ({n} states)"


def test_max_states_zero_is_refused_not_unlimited(tmp_path, capsys):
    p = tmp_path / "s.fspec"
    p.write_text(SAFE)
    with pytest.raises(SystemExit) as exc:
        cli.main(["check", "--max-states", "0", str(p)])
    assert exc.value.code == 2 and "--max-states" in capsys.readouterr().err
    with pytest.raises(ValueError, match="max_states"):
        modelcheck.Limits(max_states=0)


def test_lockdep_format_of_a_run_cut_short_says_incomplete(tmp_path, capsys):
    p = tmp_path / "s.fspec"
    p.write_text("var x = 0 in 0..3\nthread t { x = 1; x = 2 }\nthread u { x = 3 }\n")
    assert cli.main(["check", "--format", "lockdep", "--max-states", "2", str(p)]) == 1
    out = capsys.readouterr().out
    assert out.splitlines()[0].endswith("INCOMPLETE: state limit reached (2 states); what follows is "
                                        "what was found so far, and no absence of others is claimed")


def test_input_is_read_with_a_size_cap(tmp_path, capsys):
    assert cli.main(["check", "/dev/zero"]) == 2
    assert "input size cap" in capsys.readouterr().err
    p = tmp_path / "s.fspec"
    p.write_text(SAFE + "#" * 3000 + "\n")
    assert cli.main(["check", "--max-input", "0.001", str(p)]) == 2
    assert "--max-input" in capsys.readouterr().err
    assert cli.main(["check", "--max-input", "1", str(p)]) == 0


def test_matrix_grid_is_bounded_before_it_is_expanded():
    import argparse
    with pytest.raises(argparse.ArgumentTypeError, match="MAX_COMBINATIONS"):
        matrix.values("REMEDY=0..300000000000")
    with pytest.raises(argparse.ArgumentTypeError, match="not a list"):
        matrix.values("REMEDY=0.." + "9" * 5000)


def test_matrix_names_the_combination_that_failed(tmp_path, capsys):
    p = tmp_path / "m.fspec"
    p.write_text("param N = 1\nfence f[1..N]\nthread t { signal f[1] }\n")
    assert cli.main(["matrix", str(p), "-D", "N=3,0,2"]) == 2
    err = capsys.readouterr().err
    assert "empty range 1..0" in err and "(in the combination -D N=0)" in err


# ------------------------------------------------------------------ output

def test_json_and_sarif_escape_control_and_bidi_characters(tmp_path, capsys):
    p = tmp_path / "s.fspec"
    evil = "evil \u202e\x7f\x85 \x1b]0;x\x07"
    p.write_text(f'spec "{evil}"\nvar x = 0 in 0..1\nthread t {{ x = 1 }}\n'
                 f'invariant "{evil}": x == 0\nexpect invariant\n')
    for fmt in ("json", "sarif"):
        assert cli.main(["check", "--format", fmt, str(p)]) == 0
        out = capsys.readouterr().out
        for ch in "\u202e\x7f\x85\x1b\x07":
            assert ch not in out
        assert "\\u202e" in out and "\\u001b" in out
        if fmt == "json":
            assert json.loads(out)["files"][0]["title"] == evil
    assert cli.main(["check", str(p)]) == 0
    out = capsys.readouterr().out
    assert "\\u202e" in out and "\\x1b" in out and "\x1b" not in out


def test_sarif_uris_are_percent_encoded(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    name = "my spec #1 100%.fspec"
    (tmp_path / name).write_text(SAFE + "expect deadlock\n")
    cli.main(["check", "--format", "sarif", name])
    log = json.loads(capsys.readouterr().out)
    uris = {loc["physicalLocation"]["artifactLocation"]["uri"]
            for res in log["runs"][0]["results"] for loc in res["locations"]}
    uris |= {loc["physicalLocation"]["artifactLocation"]["uri"]
             for n in log["runs"][0]["invocations"][0]["toolExecutionNotifications"] for loc in n["locations"]}
    assert uris == {"my%20spec%20%231%20100%25.fspec"}


def test_file_names_in_lockdep_text_are_escaped(tmp_path, capsys):
    p = tmp_path / "x\x1b]0;pwn\x07.fspec"
    p.write_text("lock a\nthread t { lock a; lock a }\nexpect deadlock, lock-order\n")
    assert cli.main(["check", "--format", "lockdep", str(p)]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\x07" not in out and "\\x1b]0;pwn\\x07.fspec" in out


@pytest.mark.skipif(sys.platform != "linux", reason="needs bytes file names")
def test_non_utf8_file_name_gives_valid_utf8_everywhere(tmp_path, monkeypatch):
    p = os.path.join(os.fsencode(tmp_path), b"bad\xff.fspec")
    with open(p, "w") as f:
        f.write(SAFE)
    for fmt in ("table", "json", "sarif", "lockdep"):     # as with PYTHONIOENCODING=utf-8
        buf = io.BytesIO()
        monkeypatch.setattr(sys, "stdout", io.TextIOWrapper(buf, encoding="utf-8", errors="strict"))
        assert cli.main(["check", "--format", fmt, os.fsdecode(p)]) == 0
        sys.stdout.flush()
        out = buf.getvalue().decode("utf-8")                  # strict: valid UTF-8
        if fmt == "json":
            assert os.fsencode(json.loads(out)["files"][0]["path"]) == p
    r = run_cli("check", "--format", "json", p)             # the locale's own stdout
    assert r.returncode == 0 and b"Traceback" not in r.stderr
    r.stdout.decode("utf-8")


# ------------------------------------------------------------------ OS errors and signals

def test_full_disk_is_one_line_and_exit_2():
    for fmt in ("table", "json"):
        with open("/dev/full", "w") as full:
            r = subprocess.run([sys.executable, "-m", "modelcheck", "check", "--format", fmt,
                                str(REPO / "specs" / "proxy_fence_fork.fspec")],
                               stdout=full, stderr=subprocess.PIPE)
        assert r.returncode == 2, r.stderr
        assert r.stderr.decode().strip() == "modelcheck: error: cannot write the output: No space left on device"


def test_closed_stdout_is_an_error_not_silence():
    for fmt in ("table", "json"):
        r = subprocess.run([sys.executable, "-m", "modelcheck", "check", "--format", fmt,
                            str(REPO / "specs" / "proxy_fence_fork.fspec")],
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                           preexec_fn=lambda: os.close(1))
        assert r.returncode == 2 and b"Traceback" not in r.stderr
        assert b"standard output is closed" in r.stderr


def test_broken_pipe_is_quiet():
    spec = str(REPO / "specs" / "proxy_fence_fork.fspec")
    p = subprocess.Popen([sys.executable, "-m", "modelcheck", "check", "--format", "json", spec, spec, spec],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    p.stdout.close()                                     # the reader leaves at once
    err = p.stderr.read()
    assert p.wait() == 141 and b"Traceback" not in err


def test_unreadable_file_is_one_line_and_exit_2(tmp_path, capsys):
    p = tmp_path / "s.fspec"
    p.write_text(SAFE)
    p.chmod(0)
    if os.access(p, os.R_OK):
        pytest.skip("running as root")
    assert cli.main(["check", str(p)]) == 2
    assert capsys.readouterr().err.strip().endswith("cannot read: Permission denied")


def test_ctrl_c_during_the_second_search_ends_the_run_with_130(monkeypatch, tmp_path, capsys):
    """The re-search without reductions (for shortest traces) took a real
    SIGINT as "that search stopped" and went on to the next file."""
    from modelcheck.search import explorer
    real = explorer.explore
    calls = []

    def explore(sys_, limits=explorer.Limits(), progress=None):
        calls.append(limits)
        if len(calls) == 2:                         # the second search of the first file
            def interrupt(*a):
                raise KeyboardInterrupt
            progress = interrupt
            monkeypatch.setattr(explorer.time, "monotonic", iter(range(0, 10**6, 2)).__next__)
        return real(sys_, limits, progress)
    monkeypatch.setattr(explorer, "explore", explore)
    spec = "lock a\nlock b\nthread t { lock a; lock b; unlock b; unlock a }\n" \
           "thread u { lock b; lock a; unlock a; unlock b }\nexpect deadlock, lock-order\n"
    p = tmp_path / "ab.fspec"
    p.write_text(spec)
    q = tmp_path / "next.fspec"
    q.write_text(SAFE)
    assert cli.main(["check", str(p), str(q)]) == 130
    assert len(calls) == 2 and "next.fspec" not in capsys.readouterr().out


# ------------------------------------------------------------------ API at the door

@pytest.mark.parametrize("call, exc, word", [
    (lambda: modelcheck.check_source(None), TypeError, "text"),
    (lambda: modelcheck.check_source(b"thread t { }"), TypeError, "text"),
    (lambda: modelcheck.check_source(SAFE, params=[("N", 1)]), TypeError, "params"),
    (lambda: modelcheck.check_source(SAFE, params={"N": "1"}), TypeError, "params"),
    (lambda: modelcheck.check_source(SAFE, path=3), TypeError, "path"),
    (lambda: modelcheck.check_source(SAFE, limits={"max_states": 3}), TypeError, "limits"),
    (lambda: modelcheck.check_source(SAFE, engine="spin"), ValueError, "engine"),
    (lambda: modelcheck.check_source(SAFE, engine="smt", depth=-1), ValueError, "depth"),
    (lambda: modelcheck.check_source(SAFE, progress=3), TypeError, "progress"),
    (lambda: modelcheck.check_file(None), TypeError, "path"),
    (lambda: modelcheck.Limits(max_states="3"), TypeError, "max_states"),
    (lambda: modelcheck.Limits(timeout=-1), ValueError, "timeout"),
    (lambda: modelcheck.Limits(max_states=3, bogus=1), TypeError, "bogus"),
])
def test_api_arguments_are_checked_at_the_door(call, exc, word):
    with pytest.raises(exc, match=word):
        call()


def test_a_directory_given_to_check_file_is_a_spec_error(tmp_path):
    with pytest.raises(modelcheck.SpecError, match="directory"):
        modelcheck.check_file(tmp_path)


def test_timeout_and_memory_limits_apply_while_the_model_is_built(monkeypatch):
    """3000 declarations or 20,000 statements took minutes before the search,
    where the limits lived, even began."""
    from modelcheck.search import budget
    text = "var x = 0 in 0..1\n" + "".join(f"thread t{i}[i in 0..9] {{\n" + "x = 1\n" * 40 + "}\n"
                                         for i in range(12))
    calls = iter(range(10**7))                        # the clock jumps once building has begun
    monkeypatch.setattr(budget.time, "monotonic", lambda: 0.0 if next(calls) < 3 else 1000.0)
    r = modelcheck.check_source(text, limits=modelcheck.Limits(timeout=5))
    assert not r.complete and r.stopped == "time limit reached (5 s) while building the model"
    assert r.stats.states == 0 and not r.ok


def test_the_search_timeout_counts_from_the_first_byte(monkeypatch):
    from modelcheck.search import budget, explorer
    seen = []
    real = explorer._limit_hit
    monkeypatch.setattr(explorer, "_limit_hit", lambda lim, n, sec: seen.append(sec) or real(lim, n, sec))
    t0 = [1000.0]
    monkeypatch.setattr(budget.time, "monotonic", lambda: t0[0])
    with budget.running(modelcheck.Limits(timeout=50)):
        t0[0] = 1040.0                                # 40 s spent reading and building
        monkeypatch.setattr(explorer.time, "monotonic", lambda: 1040.0)
        r = modelcheck.check_source(SAFE, limits=modelcheck.Limits(timeout=50))
    assert seen and min(seen) == 40.0 and r.complete


def test_the_time_limit_is_looked_at_between_states_not_only_every_1024(monkeypatch):
    """256 interchangeable faulting jobs: a few thousand states, each taking
    milliseconds to expand, ran for minutes past `--timeout 20` because the
    limits were looked at only every 1024 states.  (The Python explorer: the
    native core expands a state in microseconds and looks every 1024.)"""
    from modelcheck.search import explorer
    text = textwrap.dedent("""
        engine cu slots 1
        fence f
        job c[i in 1..3] on cu {
            choose { signal f } or { wait f }
        }
        thread t { wait f }
    """)
    assert modelcheck.check_source(text).stats.states < 1024
    clock = iter(range(0, 10**7, 1))                     # one second per look at the clock
    monkeypatch.setattr(explorer.time, "monotonic", lambda: float(next(clock)))
    r = modelcheck.check_source(text, limits=modelcheck.Limits(timeout=5, core="python"))
    assert not r.complete and r.stopped.startswith("time limit reached (5 s)")
