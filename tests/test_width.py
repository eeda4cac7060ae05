"""Tables fit a mail to dri-devel: 100 columns unless `--wide`."""
from __future__ import annotations

import subprocess
import sys

from helpers import REPO


def _run(*args):
    return subprocess.run([sys.executable, "-m", "modelcheck", "check", *args],
                          capture_output=True, text=True, cwd=REPO)


def test_no_line_of_every_spec_table_exceeds_100_columns():
    specs = sorted(str(p.relative_to(REPO)) for p in (REPO / "specs").glob("*.fspec"))
    p = _run(*specs)
    assert p.returncode == 0, p.stdout[-2000:] + p.stderr
    long = [l for l in p.stdout.splitlines() if len(l) > 100]
    assert not long, "\n".join(long[:5])


def test_wide_keeps_one_line_per_step_with_the_file_in_the_line_column():
    p = _run("--wide", "specs/proxy_fence_fork_mt.fspec")
    assert "proxy_fence_fork_mt.fspec:18" in p.stdout
    assert any(len(l) > 100 for l in p.stdout.splitlines())
    note = next(l for l in p.stdout.splitlines() if "no path avoids" in l)
    assert note.startswith(" " * 20)                # in the statement column, as before


def test_the_point_of_no_return_note_has_a_row_of_its_own():
    p = _run("specs/proxy_fence_fork_mt.fspec")
    assert "\n  (no path avoids the deadlock from here; one way on:)\n" in p.stdout


def test_the_summary_counts_rejected_files(tmp_path):
    bad = tmp_path / "bad.fspec"
    bad.write_text("thread t { lock nowhere }\n")
    p = _run("--summary", "specs/proxy_fence_fork.fspec", str(bad))
    assert p.returncode == 2
    assert p.stdout.splitlines()[-1].startswith("1 of 2 specs as expected; 1 rejected: ")
