"""One escaping rule per output format, for every piece of spec text and
every file name that reaches an output.

- text (tables, lockdep, diagnostics, HTML): `printable` (language/errors.py)
  shows control, bidi and other invisible characters visibly (`\\x1b`,
  `\\u202e`), so a spec cannot drive a terminal or reorder what is read.
- JSON and SARIF: `dumps` writes UTF-8 JSON in which those characters, and the
  lone surrogates that stand for the undecodable bytes of a file name, are
  `\\uXXXX` escapes: the output is valid UTF-8, a JSON reader gets the exact
  string back (`os.fsencode` of a path gives its bytes), and nothing raw
  reaches a terminal that shows the file.
- SARIF URIs: `uri` percent-encodes the bytes of the path (RFC 3986).
"""
from __future__ import annotations

import json
import os
import re
from pathlib import Path
from urllib.parse import quote

# DEL and C1 controls, bidi controls and marks, zero-width characters, line and
# paragraph separators, BOM, lone surrogates (json escapes C0 itself)
_UNSAFE = re.compile("[\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff\ud800-\udfff]")


def dumps(obj) -> str:
    text = json.dumps(obj, indent=2, ensure_ascii=False)
    # these characters only occur inside JSON strings, where \uXXXX means them
    return _UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text) + "\n"


def uri(path: str) -> str:
    """A relative path as a relative URI reference, an absolute one (or one
    outside the working directory) as a file: URI; percent-encoded."""
    rel = os.path.relpath(path) if os.path.isabs(path) else path
    if rel.startswith(".."):
        rel = str(Path(path).resolve())
        return "file://" + quote(os.fsencode(rel), safe="/")
    return quote(os.fsencode(Path(rel).as_posix()), safe="/")
