"""`modelcheck splat` on damaged reports: every real report of the corpus
with lines dropped, duplicated or cut, and shuffled wrappings, parses to a
report or to NoReport, and every generated spec is one the checker takes
(never a SpecError, never a traceback)."""
from __future__ import annotations

import random

import pytest

from helpers import REPO
from modelcheck.splat import model, parse, verdict

DIR = REPO / "tests" / "splats"
NAMES = sorted(p.stem for p in DIR.glob("*.txt"))


def _damaged(text: str, rng: random.Random) -> str:
    lines = text.splitlines()
    for _ in range(rng.randint(1, 6)):
        if not lines:
            break
        k = rng.randrange(len(lines))
        what = rng.choice(("drop", "dup", "cut", "quote", "swap"))
        if what == "drop":
            del lines[k]
        elif what == "dup":
            lines.insert(k, lines[k])
        elif what == "cut":
            lines[k] = lines[k][:rng.randrange(len(lines[k]) + 1)]
        elif what == "quote":
            lines[k] = "> " + lines[k]
        elif k + 1 < len(lines):
            lines[k], lines[k + 1] = lines[k + 1], lines[k]
    if rng.random() < 0.3:
        lines = lines[:rng.randrange(len(lines) + 1)]
    return "\n".join(lines)


@pytest.mark.parametrize("name", NAMES)
def test_damaged_reports_give_a_spec_the_checker_takes(name):
    rng = random.Random(name)
    text = (DIR / f"{name}.txt").read_text()
    for _ in range(8):
        try:
            r = parse.parse(_damaged(text, rng))
        except parse.NoReport:
            continue
        spec = model.generate(r, "damaged.txt")
        v = verdict.check(r, spec)                  # raises on a spec the checker refuses
        assert v.result.complete


@pytest.mark.parametrize("junk", ['"', "\x00", "\x1b[31m", "\u2028", "#", "{", "}", ";", "é", "lock"])
def test_odd_characters_in_names_and_tasks(junk):
    text = (DIR / "nouveau_cursor_pin_cli_mutex.txt").read_text()
    text = text.replace("X/2064", f"X{junk}/2064").replace("&cli->mutex", f"&cli->mutex{junk}")
    r = parse.parse(text)
    v = verdict.check(r, model.generate(r, f"t{junk}.txt"))
    assert v.reproduced


def test_a_class_named_like_the_models_own_objects():
    text = (DIR / "nouveau_cursor_pin_cli_mutex.txt").read_text().replace("&cli->mutex", "mmap_lock")
    r = parse.parse(text)
    v = verdict.check(r, model.generate(r, "t.txt"))
    assert v.reproduced and v.cycle_classes == ["reservation_ww_class_mutex", "mmap_lock"]


@pytest.mark.parametrize("seed", range(6))
def test_hostile_input_never_gives_a_traceback(seed):
    import subprocess
    import sys
    rng = random.Random(seed)
    junk = bytes(rng.randrange(256) for _ in range(2000))
    header = b"WARNING: possible circular locking dependency detected\n"
    text = (DIR / "msm_gmu_prepare_lock.txt").read_bytes()
    data = [junk, header + junk, text[:rng.randrange(len(text))] + junk,
            header + b"x/1 is trying to acquire lock:\n" + b"(" * 5000 + b"\n",
            header + b"-> #99999999999999999999 (a){+.+.}:\n", text.replace(b"\n", b"\r\n")][seed]
    p = subprocess.run([sys.executable, "-m", "modelcheck", "splat", "-"], input=data, capture_output=True,
                       cwd=REPO)
    assert p.returncode in (0, 1, 2), p.stderr
    assert b"Traceback" not in p.stderr
