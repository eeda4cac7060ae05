"""Text -> lark tree.  Owns the grammar and the syntax errors.

The parser keeps going after a syntax error: it pops back to where a
statement may end and drops the offending token, so one run reports the
errors of every top-level item (thread, job, hook, declaration).  Within one
item only the first is kept: what follows a mistake mostly echoes it.
"""
from __future__ import annotations

import functools
from importlib import resources
from pathlib import Path

from lark import Lark, Token, Tree
from lark.exceptions import UnexpectedCharacters, UnexpectedInput, UnexpectedToken

from .bounds import MAX_INPUT_BYTES, MAX_NESTING, MAX_TREE_DEPTH
from .errors import Diagnostic, Source, SpecError, normalize_lines

MAX_ERRORS = 20
_TOP = {"SPEC", "PARAM", "LOCK", "RESV", "FENCE", "ENGINE", "VAR", "THREAD", "JOB", "ON",
        "INVARIANT", "EXPECT"}


def grammar_text() -> str:
    try:
        return resources.files("modelcheck.grammar").joinpath("fspec.lark").read_text()
    except (ModuleNotFoundError, FileNotFoundError):   # running from a bare checkout
        return (Path(__file__).resolve().parents[2] / "grammar" / "fspec.lark").read_text()


@functools.lru_cache(maxsize=1)
def parser() -> Lark:
    return Lark(grammar_text(), parser="lalr", lexer="basic",
                propagate_positions=True, maybe_placeholders=False)


# How lark's terminal names read in an error message.
_WORDS = {"NAME": "a name", "INT": "a number", "STRING": 'a "string"', "_NL": "end of line",
          "$END": "end of file", "EXPECT": "expect"}


_SOFT = {"RECLAIM", "MUNMAP", "KERNEL", "NOFS", "NOIO", "NOWAIT", "ATOMIC", "SPINLOCK", "RWSEM",
         "MUTEX", "SHARED", "ERROR", "INTERRUPTIBLE", "TIMEOUT", "PREEMPTIBLE", "SLOTS"}


def _describe(term: str) -> str:
    if term in _WORDS:
        return _WORDS[term]
    for t in parser().terminals:
        if t.name == term and t.pattern.type == "str":
            return f"'{t.pattern.value}'"
    return term.lower()


def _found(tok: Token) -> str:
    if tok.type == "$END":
        return "end of file"
    if tok.type == "_NL":
        return "end of line"
    return f"'{tok.value}'"


def read(path: str, max_bytes: int = MAX_INPUT_BYTES) -> str:
    """A spec file's text, read with a size cap (`/dev/zero` or a huge file is
    an error after max_bytes, not gigabytes read)."""
    try:
        with open(path, "rb") as f:
            data = f.read(max_bytes + 1)
    except OSError as e:
        raise SpecError([Diagnostic(path, 0, 0, f"cannot read: {e.strerror or e}")])
    if len(data) > max_bytes:
        raise SpecError([Diagnostic(path, 0, 0, f"larger than {max_bytes} bytes, the input size cap "
                                    "(MAX_INPUT_BYTES; `--max-input MB` raises it)")])
    return decode(data, path)


def decode(data: bytes, path: str) -> str:
    """Spec files are UTF-8 text; anything else is a positioned error, not a crash."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        good = normalize_lines(data[:e.start].decode("utf-8"))
        line = good.count("\n") + 1
        col = len(good) - (good.rfind("\n") + 1) + 1
        shown = normalize_lines(data.decode("utf-8", "replace")).split("\n")[line - 1]
        raise SpecError([Diagnostic(path, line, col, f"not UTF-8 text (byte 0x{data[e.start]:02x})",
                                    shown)])
    if "\x00" in text:
        i = text.index("\x00")
        src = Source(path, text[:i])
        line = src.text.count("\n") + 1
        col = len(src.text) - (src.text.rfind("\n") + 1) + 1
        raise SpecError([Diagnostic(path, line, col, "binary data (a NUL byte) in a spec file",
                                    Source(path, text).line(line))])
    return text


def parse(src: Source) -> Tree:
    """Parse a whole spec; raise SpecError with every syntax error reached."""
    diags: list[Diagnostic] = []
    seen_lines: set[int] = set()
    # After a mistake the parser resynchronises at a newline, but the rest of
    # the broken item mostly echoes it: keep one error per top-level item.
    tops = _item_lines(src.text)

    def item_of(line: int) -> int:
        return max((t for t in tops if t <= line), default=0)

    def on_error(e: UnexpectedInput) -> bool:
        line, col = e.line, e.column
        if isinstance(e, UnexpectedToken) and e.token.type == "$END":
            line, col = _end_position(src)
        if line not in seen_lines and item_of(line) not in {item_of(l) for l in seen_lines}:
            seen_lines.add(line)
            diags.append(src.diag(line, col, _message(e, src)))
        if isinstance(e, UnexpectedToken) and e.interactive_parser is not None:
            _panic(e.interactive_parser.parser_state)
        return len(diags) < MAX_ERRORS

    try:
        tree = parser().parse(src.text, on_error=on_error)
    except UnexpectedInput as e:          # unrecoverable (end of file, error limit)
        if len(diags) < MAX_ERRORS:
            on_error(e)
        tree = None
    if diags:
        raise SpecError(diags)
    _check_nesting(tree, src)
    return tree


def _item_lines(text: str) -> list[int]:
    """Lines where a top-level item starts: an item keyword outside braces."""
    lines, depth = [], 0
    try:
        for tok in parser().lex(text):
            if tok.type == "LBRACE":
                depth += 1
            elif tok.type == "RBRACE":
                depth = max(0, depth - 1)
            elif depth == 0 and tok.type in _TOP:
                lines.append(tok.line)
    except UnexpectedInput:              # a bad character: items up to it are known
        pass
    return lines


def _panic(state) -> None:
    """Pop the LR stacks back to where a statement may end, so the parser
    resynchronises at the next newline instead of echoing one mistake."""
    table = state.parse_conf.states
    while len(state.state_stack) > 1 and "_NL" not in table[state.state_stack[-1]]:
        state.state_stack.pop()
        state.value_stack.pop()


def _end_position(src: Source) -> tuple[int, int]:
    lines = src.text.split("\n")
    while len(lines) > 1 and not lines[-1].strip():
        lines.pop()
    return len(lines), len(lines[-1]) + 1


def _message(e: UnexpectedInput, src: Source) -> str:
    if isinstance(e, UnexpectedCharacters):
        ch = src.text[e.pos_in_stream] if e.pos_in_stream < len(src.text) else ""
        if ch == '"':
            return "unterminated string: a string must close with \" on the same line"
        shown = ch if ch.isprintable() else f"\\x{ord(ch):02x}"
        return f"unexpected character '{shown}'"
    if isinstance(e, UnexpectedToken):
        expected = e.expected
        if e.interactive_parser is not None:    # exact set: LALR merges lookaheads
            try:
                expected = e.interactive_parser.accepts() or expected
            except Exception:                    # pragma: no cover - best effort only
                pass
        if "NAME" in expected:               # keywords that may also be names add only noise
            expected = [t for t in expected if t not in _SOFT]
        expected = sorted({_describe(t) for t in expected if not t.startswith("__")},
                          key=lambda w: (w.startswith("'"), w))
        if e.token.type == "$END" and "'}'" in expected:
            return "unexpected end of file: a block opened with '{' is never closed; expected '}'"
        if len(expected) > 10:
            expected = expected[:10] + ["..."]
        keywords_expected = any(w.startswith("'") and w[1:-1].isidentifier() for w in expected)
        if "a name" in expected and not keywords_expected \
                and e.token.type not in ("NAME", "$END", "_NL") and str(e.token.value).isidentifier():
            return f"'{e.token.value}' is a reserved word and cannot be used as a name"
        return f"unexpected {_found(e.token)}; expected " + (
            ", ".join(expected) if expected else "something else")
    return str(e).splitlines()[0]


def _check_nesting(tree: Tree, src: Source) -> None:
    """Later stages walk the tree recursively; refuse absurd nesting (of
    blocks or of expressions) up front instead of overflowing the stack."""
    stack = [(tree, 0, 0)]
    while stack:
        node, blocks, depth = stack.pop()
        blocks += node.data == "block"
        if blocks > MAX_NESTING or depth > MAX_TREE_DEPTH:
            line = getattr(node.meta, "line", 1)
            col = getattr(node.meta, "column", 1)
            what = f"blocks nested more than MAX_NESTING = {MAX_NESTING} deep (an `else if` " \
                "counts as one more)" if blocks > MAX_NESTING \
                else f"nested more than MAX_TREE_DEPTH = {MAX_TREE_DEPTH} deep"
            raise SpecError([src.diag(line, col, what)])
        # a flat chain `a + b + c ...` becomes nested operations later on
        step = len(node.children) if node.data.endswith("_expr") else 1
        # an `else if` is the else block holding one more `if`
        stack.extend((c, blocks + (node.data == c.data == "if_stmt"), depth + step)
                     for c in node.children if isinstance(c, Tree))
