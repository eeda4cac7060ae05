"""A Pygments lexer for `.fspec`, registered through the `pygments.lexers`
entry point: `pygmentize -l fspec FILE`, and ```` ```fspec ```` or
`.. code-block:: fspec` in Sphinx.

Its words come from the grammar (`words.py`), so it follows the language as
it grows.  A word right after a keyword is a name wherever the grammar puts a
name there and not a keyword (`fence done`, `thread fault`), as the parser
reads it.
"""
from __future__ import annotations

import re

from pygments.lexer import RegexLexer, bygroups, default, words as _words
from pygments.token import (Comment, Keyword, Name, Number, Operator, Punctuation,
                            String, Text, Whitespace)

from . import words

_NAME = r"[A-Za-z_][A-Za-z0-9_]*"


def _tokens() -> dict:
    preds = words.predicates()
    plain = [w for w in words.keywords() if w not in preds and w != "expect"]
    root = [
        (r"\n", Whitespace),
        (r"[ \t\f\r]+", Whitespace),
        (r"#.*?$", Comment.Single),
        (r'"[^"\n]*"?', String.Double),
        (r"(expect)\b([ \t]*)([^;#\n]*)", bygroups(Keyword.Declaration, Whitespace, Name.Constant)),
    ]
    after = words.after_keyword()
    states = {}
    for kw, (follow, named) in after.items():
        if not named:
            continue
        # `lock wait`: a word after `lock` is the lock's name, not a statement
        state = "after_" + kw
        states[state] = [(r"[ \t]+", Whitespace),
                         (_words(preds, suffix=r"\b(?=\s*\()"), Name.Builtin, "#pop")]
        if follow:
            states[state].append((_words(sorted(follow), suffix=r"\b"), Keyword, "#pop"))
        states[state] += [(_NAME + r"\b", Name.Variable, "#pop"), default("#pop")]
        root.append((r"(%s)\b" % re.escape(kw),
                     Keyword.Builtin if kw in preds else Keyword, state))
    root += [
        (_words(preds, suffix=r"\b(?=\s*\()"), Name.Builtin),
        (_words(plain + list(preds), suffix=r"\b"), Keyword),
        (r"[0-9]+", Number.Integer),
        (_NAME, Name),
        (r"\.\.|==|!=|<=|>=|[-+*/%<>=]", Operator),
        (r"[{}()\[\],:;]", Punctuation),
        (r".", Text),                  # anything else: never an error token
    ]
    return {"root": root, **states}


class FspecLexer(RegexLexer):
    """modelcheck's .fspec specs of GPU-driver concurrency designs."""
    name = "fspec"
    aliases = ["fspec"]
    filenames = ["*.fspec"]
    mimetypes = ["text/x-fspec"]
    flags = re.MULTILINE
    tokens = _tokens()
