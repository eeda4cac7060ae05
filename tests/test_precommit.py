"""The pre-commit hook runs `modelcheck check` on the staged specs: its entry,
run as pre-commit runs it (entry + file names), passes a good spec and
refuses a wrong one."""
import re
import shlex
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def hook() -> dict:
    text = (ROOT / ".pre-commit-hooks.yaml").read_text()
    return dict(re.findall(r"^\s*-?\s*(id|entry|files|language): (.*)$", text, re.M))


def test_hook_checks_staged_specs(tmp_path):
    h = hook()
    assert h["id"] == "modelcheck-check" and h["language"] == "python"
    assert re.search(h["files"], "specs/a.fspec") and not re.search(h["files"], "a.py")
    cmd = shlex.split(h["entry"])
    assert cmd[0] == "modelcheck"
    exe = [str(Path(sys.executable).with_name("modelcheck"))] + cmd[1:]
    good = subprocess.run(exe + [str(ROOT / "specs" / "proxy_fence_fork.fspec")], capture_output=True, text=True)
    assert good.returncode == 0, good.stdout + good.stderr
    wrong = tmp_path / "wrong.fspec"
    wrong.write_text("lock a\nthread t { lock a }\nexpect safe\n")
    bad = subprocess.run(exe + [str(wrong)], capture_output=True, text=True)
    assert bad.returncode == 1 and "lock-held-at-exit" in bad.stdout
