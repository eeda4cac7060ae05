"""Regenerate tests/splats/NAME.fspec from NAME.txt with the generator, as
is: the goldens are the generator's output, never edited by hand.

    .venv/bin/python scripts/splat_goldens.py [NAME...]
"""
import sys
from pathlib import Path

from modelcheck.splat import model, parse

DIR = Path(__file__).resolve().parent.parent / "tests" / "splats"


def golden(txt: Path) -> str:
    return model.generate(parse.parse(txt.read_text(encoding="utf-8")), txt.name).text


if __name__ == "__main__":
    names = sys.argv[1:] or sorted(p.stem for p in DIR.glob("*.txt"))
    for n in names:
        (DIR / f"{n}.fspec").write_text(golden(DIR / f"{n}.txt"), encoding="utf-8")
        print(f"wrote tests/splats/{n}.fspec")
