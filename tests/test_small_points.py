"""Small things a new user trips over."""
from __future__ import annotations

import subprocess
import sys

from helpers import REPO, check


def test_a_failing_summary_shows_the_counterexample():
    r = check("""
        lock a
        thread t { lock a; lock a }
    """)
    assert not r.ok
    text = r.summary()
    assert text.splitlines()[0] == r.verdict()
    assert "blocks: a already held by t itself" in text


def test_an_ok_summary_is_one_line():
    r = check("lock a\nthread t { lock a; unlock a }\n")
    assert r.ok and r.summary() == r.verdict() and "\n" not in r.summary()


def test_fspec_paths_outside_the_rootdir_are_collected(tmp_path):
    proj, specs = tmp_path / "proj", tmp_path / "specs"
    proj.mkdir()
    specs.mkdir()
    (specs / "one.fspec").write_text((REPO / "specs" / "proxy_fence_fork.fspec").read_text())
    (proj / "pytest.ini").write_text("[pytest]\nfspec_paths = ../specs\n")
    p = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
                       cwd=proj, capture_output=True, text=True)
    assert "1 passed" in p.stdout, p.stdout + p.stderr


def test_a_missing_fspec_path_is_an_error_not_silence(tmp_path):
    (tmp_path / "pytest.ini").write_text("[pytest]\nfspec_paths = nowhere\n")
    p = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
                       cwd=tmp_path, capture_output=True, text=True)
    assert p.returncode != 0 and "fspec_paths: no such file or directory" in p.stderr


def test_the_readme_make_matrix_figures_are_current():
    readme = (REPO / "README.md").read_text()
    start = readme.index("`make matrix` prints:\n\n```\n") + len("`make matrix` prints:\n\n```\n")
    shown = readme[start:readme.index("```\n", start)]
    p = subprocess.run([sys.executable, "-m", "modelcheck", "matrix", "specs/pagefault_remedies.fspec",
                        "-D", "REMEDY=0..4"], cwd=REPO, capture_output=True, text=True)
    assert shown == p.stdout


def test_a_chain_does_not_send_the_reader_to_code_that_can_never_signal():
    r = check("""
        fence f
        thread app { publish f; choose { signal f } or { return } }
        thread waiter { await published(f); wait f timeout }
        expect timeout-hang
        expect indefinite-fence
    """)
    chain = next(f for f in r.findings if f.kind == "timeout-hang").waits_for[0]
    assert "no path from here signals it (app can never reach that signal)" in chain
    assert "can still move" not in chain
