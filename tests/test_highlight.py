"""The Pygments lexer and the TextMate grammar take their words from the
grammar: every keyword of every spec is highlighted, names that happen to be
keywords are shown as names, and nothing is an error token."""
import json
import subprocess
import sys
from pathlib import Path

import pytest
from lark import Token, Tree
from pygments.lexers import get_lexer_by_name
from pygments.token import Error, Keyword, Name

from modelcheck.editor import words
from modelcheck.editor.highlight import FspecLexer
from modelcheck.language import syntax
from modelcheck.language.errors import Source

ROOT = Path(__file__).resolve().parents[1]
SPECS = sorted((ROOT / "specs").glob("*.fspec"))
TEXTMATE = ROOT / "editors" / "vscode" / "syntaxes" / "fspec.tmLanguage.json"


def tokens(text: str) -> dict:
    """offset -> (token type, value) as the lexer gives them."""
    return {i: (t, v) for i, t, v in FspecLexer().get_tokens_unprocessed(text)}


def name_offsets(text: str) -> set:
    """Where the parser reads a name: declared names and references."""
    tree = syntax.parse(Source("<spec>", text))
    out = set()
    for node in tree.iter_subtrees():
        first = node.children[0] if node.children else None
        if isinstance(first, Token) and (node.data == "ref" or node.data.endswith("_decl")) \
                and first.type not in ("STRING", "EXPECT"):
            out.add(first.start_pos)
        out |= {c.start_pos for c in node.children if isinstance(c, Token) and c.type == "NAME"}
    return out


@pytest.mark.parametrize("path", SPECS, ids=lambda p: p.name)
def test_every_keyword_of_every_spec_is_highlighted(path):
    text = path.read_text()
    got = tokens(text)
    assert not [v for t, v in got.values() if t in Error], "error tokens"
    names = name_offsets(text)
    kinds = words.keyword_terminals()
    seen = 0
    for tok in syntax.parser().lex(text):
        if tok.start_pos in names:
            t, v = got[tok.start_pos]
            assert t in Name and v == tok.value, f"{path.name}:{tok.line}: name {tok.value} shown as {t}"
        elif tok.type in kinds:
            t, v = got.get(tok.start_pos, (None, None))
            assert t is not None and (t in Keyword or t in Name.Builtin), \
                f"{path.name}:{tok.line}:{tok.column}: keyword {tok.value!r} shown as {t}"
            seen += 1
    assert seen


def test_keywords_used_as_names_are_names():
    text = "lock reclaim\nthread t {\n  lock reclaim\n  wait any\n  alloc kernel\n}\non reclaim {\n}\n"
    got = [(t, v) for t, v in FspecLexer().get_tokens(text) if v.strip()]
    assert (Name.Variable, "reclaim") in got
    assert (Keyword, "any") in got and (Keyword, "kernel") in got
    on = got.index((Keyword, "on"))
    assert got[on + 1] == (Keyword, "reclaim")


def test_expect_line_and_predicates():
    got = [(t, v) for t, v in FspecLexer().get_tokens('expect deadlock\nassert held(L) and x > 0\n')
           if v.strip()]
    assert got[0][0] in Keyword and got[1] == (Name.Constant, "deadlock")
    assert (Name.Builtin, "held") in got


def test_keywords_come_from_the_grammar():
    text = syntax.grammar_text()
    for w in words.keywords():
        assert f'"{w}"' in text or w == "expect"
    assert {"lock", "wait", "signalling", "expect"} <= set(words.keywords())
    assert "done" in words.predicates()


def test_registered_for_pygmentize():
    assert isinstance(get_lexer_by_name("fspec"), FspecLexer)
    out = subprocess.run([sys.executable, "-m", "pygments", "-l", "fspec", "-f", "html",
                          str(ROOT / "specs" / "proxy_fence_fork.fspec")],
                         capture_output=True, text=True, check=True).stdout
    assert '<span class="k">signalling</span>' in out or '<span class="k">fork</span>' in out
    assert 'class="err"' not in out


def test_textmate_grammar_keywords_equal_the_grammar():
    """editors/vscode is generated: after a keyword is added to the grammar run
    `.venv/bin/python -m modelcheck.editor.words > editors/vscode/syntaxes/fspec.tmLanguage.json`."""
    checked_in = json.loads(TEXTMATE.read_text())
    assert words.textmate_keywords(checked_in) == set(words.keywords()), \
        "regenerate: .venv/bin/python -m modelcheck.editor.words > " + str(TEXTMATE.relative_to(ROOT))
    assert checked_in == words.textmate()
