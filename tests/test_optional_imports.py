"""Editor, documentation and schema support cost `modelcheck check` nothing:
their packages are imported only by their own commands."""
import subprocess
import sys

OPTIONAL = ("pygls", "lsprotocol", "jsonschema", "sphinx", "pygments", "docutils")


def test_check_imports_none_of_the_optional_packages():
    code = ("import sys, modelcheck.cli as c\n"
            "c.main(['check', '--summary', 'specs/proxy_fence_fork.fspec'])\n"
            f"print(sorted(m for m in sys.modules if m.split('.')[0] in {OPTIONAL!r}))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=__import__("pathlib").Path(__file__).resolve().parents[1])
    assert out.stdout.strip().splitlines()[-1] == "[]", out.stdout + out.stderr
