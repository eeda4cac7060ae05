"""A small check starts fast: the parser's tables come from a cache file,
and the heavy packages are imported only by what needs them (z3 by the
lock-order decision and the smt engine, tabulate by tables, drawsvg by
--html, numpy and scipy by the analyses of large graphs).  Times are
measured by hand (README), not here; these tests keep the means in place."""
import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
HEAVY = ("z3", "tabulate", "drawsvg", "numpy", "scipy")


def run(code: str, cache: str) -> str:
    env = dict(os.environ, MODELCHECK_CACHE_DIR=cache)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, env=env)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip().splitlines()[-1]


def loaded(code: str, cache: str) -> list:
    return json.loads(run(code + f"\nimport sys, json; print(json.dumps(sorted(m for m in sys.modules "
                                  f"if m.split('.')[0] in {HEAVY!r} and '.' not in m)))", cache))


def test_the_command_imports_nothing_heavy_before_it_checks(tmp_path):
    assert loaded("import modelcheck.cli as c; c._parser().parse_args(['check', 'x.fspec'])",
                  str(tmp_path)) == []


def test_a_summary_line_needs_no_table_no_drawing_no_arrays(tmp_path):
    code = "import modelcheck.cli as c; c.main(['check', '--summary', 'specs/proxy_fence_fork.fspec'])"
    assert loaded(code, str(tmp_path)) == ["z3"]          # the lock-order decision


def test_bad_input_imports_nothing_heavy(tmp_path):
    (tmp_path / "bad.fspec").write_text("thread t { lock }\n")
    code = f"import modelcheck.cli as c; c.main(['check', {str(tmp_path / 'bad.fspec')!r}])"
    assert loaded(code, str(tmp_path)) == []


def test_the_parser_is_built_once_then_loaded(tmp_path):
    code = ("from modelcheck.language import syntax; import lark.load_grammar as lg\n"
            "calls = []; real = lg.load_grammar\n"
            "lg.load_grammar = lambda *a, **k: calls.append(1) or real(*a, **k)\n"
            "import lark.lark; lark.lark.load_grammar = lg.load_grammar\n"
            "syntax.parser(); print(len(calls))")
    assert run(code, str(tmp_path)) == "1"                  # built, and written
    assert (tmp_path / "fspec-parser.lark-cache").exists()
    assert run(code, str(tmp_path)) == "0"                  # loaded from the file


def test_the_cache_can_be_turned_off(tmp_path):
    code = "from modelcheck.language import syntax; print(syntax.cache_path())"
    assert run(code, "") == "None"


def test_an_unwritable_cache_place_still_checks(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")                                  # a file where the folder would be
    code = "import modelcheck; print(modelcheck.check_source('thread t { }\\n').ok)"
    assert run(code, str(blocker / "sub")) == "True"
