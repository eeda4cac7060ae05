"""`modelcheck step` driven by scripted stdin: a deadlock's shortest trace
walked step by step in the words of the tables, picking steps by number,
undo, back, the whole state, and JSON events for tools."""
import io
import json

import pytest

from every_spec import REPO, SPECS as ALL, result
from modelcheck import api, cli, step

DEADLOCKS = [p for p in ALL if "expect deadlock" in p.read_text()]


def run(spec, script: str, *args) -> tuple[int, str]:
    out = io.StringIO()
    code = step.run(str(spec), {}, *args, inp=io.StringIO(script), out=out) if args else \
        step.run(str(spec), {}, None, "text", inp=io.StringIO(script), out=out)
    return code, out.getvalue()


def events(text: str) -> list:
    return [json.loads(l) for l in text.splitlines()]


@pytest.mark.parametrize("spec", DEADLOCKS, ids=lambda p: p.stem)
def test_walking_a_deadlock_trace_reproduces_it_step_by_step(spec):
    r = result(spec)
    dead = next(f for f in r.findings if f.kind == "deadlock")
    rows = dead.trace + dead.then
    code, out = run(spec, "next\n" * len(rows) + "state\n", "deadlock", "json")
    assert code == 0
    evs = events(out)
    assert all(e["schema_version"] for e in evs)
    moved = [e for e in evs if e["event"] == "moved"]
    assert [{k: e[k] for k in ("step", "actor", "line", "statement", "effect")} for e in moved] == \
        [vars(s) for s in rows]
    last = [e for e in evs if e["event"] == "enabled"][-1]
    assert {b["actor"] for b in last["blocked"]} >= {s.actor for s in dead.blocked}
    if dead.message.endswith("(no actor can move)"):
        assert last["choices"] == []
    state = [e for e in evs if e["event"] == "state"][-1]["state"]
    assert state == dead.final_state


def test_the_text_session_reads_like_the_tables():
    spec = REPO / "specs" / "proxy_fence_fork.fspec"
    code, out = run(spec, "1\n1\nstate\nundo\nback 0\n1\n1\n1\n1\ntrace\nq\n")
    assert code == 0
    assert "  1  app  proxy_fence_fork.fspec:19  lock bo: takes bo" in out
    assert "  2  app  proxy_fence_fork.fspec:20  publish proxy in bo: bo += proxy" in out
    assert "state after step 2:\n  app: at line 21: unlock bo" in out
    assert "fences: job_fence unsignalled; proxy unsignalled (in bo)" in out
    assert "back to the initial state" in out
    assert "  4  app  proxy_fence_fork.fspec:22  fork: takes mmap_lock; runs the fork hooks" in out
    assert "-)  app  proxy_fence_fork.fspec:37  wait bo: blocks: proxy unsignalled" in out
    assert "who waits for whom: app waits bo" in out


def test_choosing_another_actor_and_findings_on_a_step(tmp_path):
    spec = tmp_path / "s.fspec"
    spec.write_text("lock a\nthread t { unlock a }\nthread u { lock a; unlock a }\nexpect unlock-not-held\n")
    code, out = run(spec, "2\n1\n")
    assert " 1)  t  s.fspec:2  unlock a" in out and " 2)  u  s.fspec:3  lock a" in out
    assert "  1  u  s.fspec:3  lock a: takes a" in out
    assert "finding: unlock-not-held:" in out


def test_a_trace_file_from_check_json(tmp_path, capsys, repo_root):
    cli.main(["check", "--format", "json", "specs/signalling_lock_inversion.fspec"])
    doc = tmp_path / "out.json"
    doc.write_text(capsys.readouterr().out)
    code, out = run(repo_root / "specs" / "signalling_lock_inversion.fspec", "n\nn\nn\n",
                    str(doc), "text")
    assert code == 0 and "loaded 2 steps of deadlock" in out
    assert "  2  signaller  signalling_lock_inversion.fspec:16  publish hw_fence" in out
    assert "no trace step left" in out


def test_mistakes_are_said_not_raised():
    spec = REPO / "specs" / "proxy_fence_fork.fspec"
    code, out = run(spec, "9\nundo\nback 7\nfly\nnext\n")
    assert code == 0
    for msg in ("no step 9: pick 1..1", "nothing to undo", "back takes a step number 0..0",
                "unknown command 'fly'", "no trace loaded"):
        assert msg in out
    assert run(spec, "", "sleep-in-atomic", "text")[0] == 2


def test_command_line(capsys, repo_root, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO("1\nq\n"))
    assert cli.main(["step", "specs/proxy_fence_fork.fspec", "--format", "json"]) == 0
    evs = events(capsys.readouterr().out)
    assert [e["event"] for e in evs] == ["enabled", "moved", "enabled"]
    assert cli.main(["step", "specs/nope.fspec"]) == 2
