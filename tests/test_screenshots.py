"""Every spec's HTML rendered in headless Chromium (when installed; CI
installs it): the page loads, and the diagrams carry what a reader looks
for: lock-held bars, hook frames, fence lanes with a "never signalled" mark,
writer preference as an arrow between two actors, and no diagram wider than
the page (it scales instead of scrolling)."""
from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from helpers import REPO
from modelcheck import cli

SEEDS = {                                    # the five seed pictures looked at by hand
    "hook": "specs/proxy_fence_fork.fspec",
    "lock-order": "specs/signalling_lock_inversion.fspec",
    "indefinite-fence": "specs/userspace_fence.fspec",
    "timeout-hang": "specs/userspace_fence_timeout.fspec",
    "wide": "tests/pictures/wide.fspec",
}


def _html(tmp_path, name, *paths):
    out = tmp_path / f"{name}.html"
    cli.main(["check", "--summary", "--html", str(out), *paths])
    return out


def test_seed_pictures_show_locks_hooks_and_fences(tmp_path, repo_root):
    hook = _html(tmp_path, "hook", SEEDS["hook"]).read_text()
    assert 'class="held"' in hook and "mmap_lock held" in hook
    assert 'class="frame"' in hook and "in the fork notifier" in hook
    assert "fence proxy" in hook and "published in bo" in hook
    fence = _html(tmp_path, "fence", SEEDS["indefinite-fence"]).read_text()
    assert 'class="never"' in fence and "never signalled" in fence
    wide = _html(tmp_path, "wide", SEEDS["wide"]).read_text()
    assert "idle[1]</text>" not in wide and "blocked outside the cycle): idle[1]" in wide
    assert ".diagram svg { max-width: 100%; height: auto; }" in wide


@pytest.mark.skipif(not shutil.which("chromium"), reason="chromium is not installed")
@pytest.mark.parametrize("name", sorted(SEEDS) + ["every-spec"])
def test_headless_chromium_renders(tmp_path, repo_root, name):
    paths = sorted(str(p.relative_to(REPO)) for p in (REPO / "specs").glob("*.fspec")) \
        if name == "every-spec" else [SEEDS[name]]
    html = _html(tmp_path, name, *paths)
    png = tmp_path / f"{name}.png"
    subprocess.run([str(REPO / "scripts/render_report.sh"), str(html), str(png), "1200x1600"],
                   check=True, capture_output=True, timeout=180)
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width = int.from_bytes(data[16:20], "big")
    assert width == 1200
