"""Diagnostics for bad input: `file:line:col: error: message`, the line, a caret.

Every stage that reads user input (the parser, the model checks, `-D`
parameters) reports through `Diagnostic`, and raises one `SpecError` holding
all of them, so a user sees every problem the tool could reach in one run.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Diagnostic:
    path: str
    line: int           # 1-based; 0 when the problem has no place in the file
    col: int            # 1-based
    message: str
    source_line: str = ""

    def format(self) -> str:
        message, path = printable(self.message), printable(self.path)
        if self.line <= 0:
            return f"{path}: error: {message}"
        text = printable(self.source_line.rstrip("\r\n"))
        col = self.col
        if len(text) > 100:                  # show a window around the caret
            start = max(0, col - 60)
            text = ("..." if start else "") + text[start:start + 100] + ("..." if start + 100 < len(text) else "")
            col = col - start + (3 if start else 0)
        # the caret lines up with the text as printed (tabs kept as tabs)
        lead = "".join("\t" if ch == "\t" else " " for ch in text[: col - 1])
        return (f"{path}:{self.line}:{self.col}: error: {message}\n"
                f"    {text}\n    {lead}^")


class SpecError(Exception):
    """Raised with every diagnostic found; `str()` is the full report."""

    def __init__(self, diagnostics: list[Diagnostic]):
        self.diagnostics = list(diagnostics)
        super().__init__("\n".join(d.format() for d in self.diagnostics))


def printable(text: str) -> str:
    """Escape control characters so spec text can never drive the terminal."""
    out = []
    for ch in text:
        if ch == "\t" or (ch.isprintable() and ch not in "\x1b"):
            out.append(ch)
        else:
            out.append(f"\\x{ord(ch):02x}" if ord(ch) < 256 else f"\\u{ord(ch):04x}")
    return "".join(out)


def normalize_lines(text: str) -> str:
    """The one place line structure is decided: a line ends at LF, CRLF or a
    lone CR (a spec edited on any OS is the same spec); nothing else ends a
    line.  Form feed, vertical tab, NEL (U+0085) and U+2028/U+2029 are not
    line breaks here, so every stage (lexer, positions, the source line under
    a caret, statement text in traces) counts lines the same way."""
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text


class Source:
    """The text of one spec with its path, for positions and quoting.
    The text is stored with its line ends normalised (`normalize_lines`)."""

    def __init__(self, path: str, text: str):
        self.path = path
        self.text = normalize_lines(text)
        self.lines = self.text.split("\n")

    def line(self, n: int) -> str:
        return self.lines[n - 1] if 1 <= n <= len(self.lines) else ""

    def diag(self, line: int, col: int, message: str) -> Diagnostic:
        return Diagnostic(self.path, line, col, message, self.line(line))
