"""A grammar-aware mutator over the specs in `specs/`, driven by hypothesis,
and the one check every mutated input must pass: the command ends with exit
status 0, 1 or 2, never prints a traceback or an internal error, and stays
within its limits.  Used by tests/test_fuzz.py (a few hundred inputs inside
`make test`) and scripts/fuzz.py (long campaigns, `make fuzz`).

The mutations work on tokens (words, numbers, strings, operators, blanks,
comments, line ends), so most inputs get past the lexer and reach the
parser, the model builder, the search and the reports; a few are byte-level
(control and bidi characters, other line ends, huge literals, deep nesting).
"""
from __future__ import annotations

import contextlib
import io
import re
import resource
import time
from pathlib import Path

from hypothesis import strategies as st

REPO = Path(__file__).resolve().parent.parent
CORPUS = sorted((REPO / "specs").glob("*.fspec"))
TEXTS = [p.read_text() for p in CORPUS]

TOKEN = re.compile(r'\r\n|\n|[ \t]+|#[^\n]*|"[^"\n]*"|[A-Za-z_][A-Za-z0-9_]*|[0-9]+|\.\.|->|[=!<>]=|\S')
POOL = sorted({t for text in TEXTS for t in TOKEN.findall(text) if not t.isspace() and not t.startswith("#")})
WORDS = [t for t in POOL if t[0].isalpha() or t[0] == "_"]
NUMBERS = ["0", "1", "-1", "2", "255", "256", "4096", "32768", "2147483647", "2147483648",
           "100000000000000000000", "9" * 5000]
ODD = ["\r\n", "\r", "\t", "\f", "\v", "\x85", "\u2028", "\x1b[31m", "\u202e", "\x7f", "\x00",
       "\ufeff", "\udcff", "é", ";", ";;", "{", "}", "(", ")", "[", "]", ",", "..", "#", '"']
FORMATS = ("table", "json", "sarif", "lockdep")


def tokens(text: str) -> list[str]:
    return TOKEN.findall(text)


@st.composite
def mutated(draw, max_mutations: int = 3) -> str:
    """One spec of the corpus with a few token-level mutations."""
    base = draw(st.sampled_from(TEXTS))
    toks = tokens(base)
    for _ in range(draw(st.integers(1, max_mutations))):
        if not toks:
            toks = [""]
        i = draw(st.integers(0, len(toks) - 1))
        how = draw(st.integers(0, 13))
        if how == 0:                                    # drop a token
            del toks[i]
        elif how == 1:                                  # repeat a token
            toks.insert(i, toks[i])
        elif how == 2:                                  # swap two tokens
            j = draw(st.integers(0, len(toks) - 1))
            toks[i], toks[j] = toks[j], toks[i]
        elif how == 3:                                  # another word of the language
            toks[i] = draw(st.sampled_from(WORDS))
        elif how == 4:                                  # any token of the corpus, inserted
            toks.insert(i, " " + draw(st.sampled_from(POOL)) + " ")
        elif how == 5:                                  # a number at a boundary
            nums = [k for k, t in enumerate(toks) if t.isdigit()] or [i]
            toks[draw(st.sampled_from(nums))] = draw(st.sampled_from(NUMBERS))
        elif how == 6:                                  # odd characters and line ends
            toks.insert(i, draw(st.sampled_from(ODD)))
        elif how == 7:                                  # duplicate a run of tokens (a line, a block)
            j = min(len(toks), i + draw(st.integers(1, 40)))
            toks[i:i] = toks[i:j] * draw(st.integers(1, 4))
        elif how == 8:                                  # splice in a run from another spec
            other = tokens(draw(st.sampled_from(TEXTS)))
            a = draw(st.integers(0, max(len(other) - 1, 0)))
            toks[i:i] = other[a:a + draw(st.integers(1, 60))]
        elif how == 9:                                  # every line end another way
            eol = draw(st.sampled_from(["\r\n", "\r"]))
            toks = [eol if t in ("\n", "\r\n") else t for t in toks]
        elif how == 10:                                 # deep nesting
            depth = draw(st.sampled_from([5, 99, 101, 300]))
            toks.insert(i, draw(st.sampled_from(["(", "{", "if x {", "else if x {"])) * depth)
        elif how == 11:                                 # cut the text short
            del toks[i:]
        elif how == 12:                                 # a huge copy count or array
            toks.insert(i, draw(st.sampled_from(["thread z[i in 0..5000] { }\n", "fence zz[0..99999]\n",
                                                 "var zv = 0 in 0..2147483647\n",
                                                 "param ZP = 2147483647 * 2\n"])))
        else:                                           # a blank or a comment
            toks.insert(i, draw(st.sampled_from([" ", "\n", "\t", "# c\n", "\n\n"])))
    return "".join(toks)


def run_one(path: str, fmt: str, extra: tuple = ()) -> dict:
    """Run the command in this process on one file: its status, how long it
    took, what it wrote, and whether anything went wrong."""
    from modelcheck import cli
    out, err = io.StringIO(), io.StringIO()
    argv = ["check", "--format", fmt, "--max-memory", "500", "--max-states", "20000",
            "--timeout", "20", *extra, path]
    start = time.monotonic()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            status = cli.main(argv)
        except SystemExit as e:                      # usage errors: argparse exits
            status = e.code
        except BaseException as e:                   # noqa: BLE001 - the point is to see it
            status = f"raised {type(e).__name__}: {e}"
    seconds = time.monotonic() - start
    text = err.getvalue()
    bad = ""
    if status not in (0, 1, 2):
        bad = f"exit status {status}"
    elif "Traceback" in text or "internal error" in text:
        bad = "traceback or internal error: " + text[-500:]
    return {"status": status, "seconds": seconds, "bad": bad, "stderr": text,
            "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
