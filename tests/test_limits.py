"""Limits end a search with "incomplete" and the findings so far; the
progress line is drawn from the graph as it grows."""
import json
import textwrap

import modelcheck
from modelcheck import cli
from modelcheck.search import explorer
from modelcheck.api import load
from modelcheck.semantics import System
from test_errors import write

# an early assert, then a long tail of states
EARLY_BUG = textwrap.dedent("""
    var x = 0 in 0..1
    var y = 0 in 0..9
    thread t { assert x == 1 }
    thread spin { while 1 { y = (y + 1) % 10 } }
    thread u { y = 5; y = 6; y = 7 }
    expect assert
""")


def test_max_states_ends_incomplete_with_the_findings_so_far():
    for reduction in (True, False):
        r = modelcheck.check_source(EARLY_BUG, limits=modelcheck.Limits(max_states=6, reduction=reduction))
        assert not r.complete and r.stopped.startswith("state limit")
        assert r.kinds == {"assert"} and r.ok
        assert r.stats.states <= 6


def test_timeout_ends_incomplete():
    r = modelcheck.check_source(EARLY_BUG, limits=modelcheck.Limits(timeout=0))
    assert not r.complete and r.stopped.startswith("time limit")
    assert "incomplete" in r.summary()


def test_cli_timeout_and_max_states_say_incomplete(tmp_path, capsys):
    p = write(tmp_path, "early.fspec", EARLY_BUG.replace("expect assert", ""))
    for flag in (["--timeout", "0"], ["--max-states", "4"]):
        assert cli.main(["check", *flag, str(p)]) == 1
        assert "INCOMPLETE" in capsys.readouterr().out


def test_cli_no_reduction(tmp_path, capsys):
    p = write(tmp_path, "two.fspec", "lock a\nlock b\nthread t { lock a; unlock a }\n"
                                      "thread u { lock b; unlock b }\n")
    runs = []
    for flags in ([], ["--no-reduction"]):
        cli.main(["check", "--format", "json", *flags, str(p)])
        runs.append(json.loads(capsys.readouterr().out)["files"][0]["stats"])
    on, off = runs
    assert on["reduction"] == "on" and off["reduction"] == "off"
    assert on["states"] < off["states"] == 9


def test_progress_is_reported_from_the_growing_graph(monkeypatch):
    clock = iter(range(0, 10**6))                   # every reading one second later
    monkeypatch.setattr(explorer.time, "monotonic", lambda: float(next(clock)))
    seen = []
    sys = System(load(EARLY_BUG))
    explorer.explore(sys, explorer.Limits(), lambda g, seconds: seen.append((len(g.states), seconds)))
    assert seen and all(n > 0 and t > 0 for n, t in seen)


def test_progress_line_names_states_depth_rate_and_memory(monkeypatch, capsys):
    monkeypatch.setattr(cli.sys.stderr, "isatty", lambda: True)
    show = cli._progress("spec.fspec")
    g = explorer.explore(System(load(EARLY_BUG)))
    show(g, 2.0)
    line = capsys.readouterr().err
    assert line.startswith("\rspec.fspec: ") and "states, depth" in line
    assert "states/s" in line and line.rstrip().endswith("MB")
