"""Text -> lark tree.  Owns the grammar and the syntax errors.

The parser keeps going after a syntax error: it pops back to where a
statement may end and drops the offending token, so one run reports the
errors of every top-level item (thread, job, hook, declaration).  Within one
item only the first is kept: what follows a mistake mostly echoes it.
"""
from __future__ import annotations

import functools
import os
import re
from importlib import resources
from pathlib import Path

from lark import Lark, Token, Tree
from lark.lexer import LexerThread
from lark.exceptions import UnexpectedCharacters, UnexpectedInput, UnexpectedToken

from .bounds import MAX_INPUT_BYTES, MAX_NESTING, MAX_TREE_DEPTH
from .errors import Diagnostic, Source, SpecError, normalize_lines

MAX_ERRORS = 20


def grammar_text() -> str:
    try:
        return resources.files("modelcheck.grammar").joinpath("fspec.lark").read_text()
    except (ModuleNotFoundError, FileNotFoundError):   # running from a bare checkout
        return (Path(__file__).resolve().parents[2] / "grammar" / "fspec.lark").read_text()


def cache_path() -> str | None:
    """Where the built parser is kept between runs: building the LALR tables
    is most of a small check's start-up.  lark names the grammar, its options,
    lark's and Python's versions in the file and rebuilds when any differ.
    MODELCHECK_CACHE_DIR overrides the place; set to "" it turns the cache off."""
    where = os.environ.get("MODELCHECK_CACHE_DIR")
    if where is None:
        base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
        where = os.path.join(base, "modelcheck")
    if not where:
        return None
    try:
        os.makedirs(where, mode=0o700, exist_ok=True)
    except OSError:
        return None
    return os.path.join(where, "fspec-parser.lark-cache")


@functools.lru_cache(maxsize=1)
def parser() -> Lark:
    # The contextual lexer only tries the terminals the parser can take in its
    # current state: a keyword is a keyword only where the grammar expects it,
    # and elsewhere the same word lexes as a NAME (`fence job`, `lock wait`).
    # lark writes the cache file (or silently does not, if it cannot).
    return Lark(grammar_text(), parser="lalr", lexer="contextual",
                propagate_positions=True, maybe_placeholders=False, cache=cache_path() or False)


@functools.lru_cache(maxsize=1)
def _basic_lexer():
    """Every terminal everywhere: for the scans that need no parser state."""
    return parser()._build_lexer()


@functools.lru_cache(maxsize=1)
def keywords() -> frozenset:
    """Every word the grammar uses as a keyword somewhere."""
    return frozenset(t.pattern.value for t in parser().terminals
                     if t.pattern.type == "str" and t.pattern.value.isidentifier()) | {"expect"}


@functools.lru_cache(maxsize=1)
def _top_terminals() -> frozenset:
    """The terminals that may start a top-level item (spec, lock, thread, ...)."""
    return frozenset(parser().parse_interactive("").accepts()) - {"_NL", "$END"}


# How lark's terminal names read in an error message.
_WORDS = {"NAME": "a name", "INT": "a number", "STRING": 'a "string"', "_NL": "end of line",
          "$END": "end of file", "EXPECT": "expect"}


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
    tokens = _tokens(src.text)
    # A var, param or index named after a keyword cannot be read back in an
    # expression; say so at its declaration rather than at each confusing use.
    diags: list[Diagnostic] = _keyword_binders(tokens, src)
    bad_names = {d.message.split("'")[1] for d in diags}
    seen_lines: set[int] = set()
    # After a mistake the parser resynchronises at a newline, but the rest of
    # the broken item mostly echoes it: keep one error per top-level item.
    tops = _item_lines(tokens)

    def item_of(line: int) -> int:
        return max((t for t in tops if t <= line), default=0)

    def on_error(e: UnexpectedInput) -> bool:
        line, col = e.line, e.column
        if isinstance(e, UnexpectedToken) and e.token.type == "$END":
            line, col = _end_position(src)
        if bad_names and bad_names & set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", src.line(line))):
            pass                          # the use of a keyword-named var, reported above
        elif line not in seen_lines and item_of(line) not in {item_of(l) for l in seen_lines}:
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
        raise SpecError(sorted(diags, key=lambda d: (d.line, d.col)))
    _check_nesting(tree, src)
    return tree


def _tokens(text: str) -> list[Token]:
    """The text lexed with every keyword a keyword (up to a bad character)."""
    out = []
    try:
        for tok in LexerThread.from_text(_basic_lexer(), text).lex(None):
            out.append(tok)
    except (UnexpectedInput, EOFError):   # a bad character: tokens up to it are known
        pass
    return out


def _item_lines(tokens: list[Token]) -> list[int]:
    """Lines where a top-level item starts: an item keyword first on its line,
    outside braces."""
    lines, depth, last_line = [], 0, 0
    top = _top_terminals()
    for tok in tokens:
        if tok.type == "LBRACE":
            depth += 1
        elif tok.type == "RBRACE":
            depth = max(0, depth - 1)
        elif depth == 0 and tok.type in top and tok.line != last_line:
            lines.append(tok.line)
        last_line = tok.line
    return lines


_BINDERS = {"VAR": "a var", "PARAM": "a param"}


def _keyword_binders(tokens: list[Token], src: Source) -> list[Diagnostic]:
    """Names that stand for a value in expressions (vars, params, copy and
    `for` indices, `def` parameters) may not be keywords: in an expression
    the keyword would win (`not`, `done(...)`, a statement's first word)."""
    kw = keywords()
    out = []

    def bad(tok: Token, what: str) -> None:
        out.append(src.diag(tok.line, tok.column,
                            f"'{tok}' is a keyword and cannot name {what}; choose another name"))

    for i, tok in enumerate(tokens[:-1]):
        nxt = tokens[i + 1]
        if nxt.type == "NAME" or str(nxt) not in kw:
            continue
        first = i == 0 or tokens[i - 1].type in ("_NL", "LBRACE")   # the statement's first word
        if tok.type in _BINDERS and first:
            bad(nxt, _BINDERS[tok.type])
        elif (tok.type == "LSQB" or tok.type == "FOR" and first) \
                and i + 2 < len(tokens) and tokens[i + 2].type == "IN":
            bad(nxt, "an index")
        elif tok.type in ("LPAR", "COMMA") and _in_def_params(tokens, i):
            bad(nxt, "a def parameter")
    return out


def _in_def_params(tokens: list[Token], i: int) -> bool:
    """Token i is inside the parameter list of `def name(...)`."""
    j = i
    while j >= 0 and tokens[j].type not in ("LPAR", "RPAR", "_NL", "LBRACE", "RBRACE"):
        j -= 1
    return j >= 2 and tokens[j].type == "LPAR" and tokens[j - 2].type == "DEF"


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
        prev = _last_shifted(e)
        if e.token.type == "EQUAL" and prev is not None and str(prev) in keywords():
            return (f"'{prev}' is a keyword here and cannot name a var; "
                    "a var may not be named after a keyword")
        expected = sorted({_describe(t) for t in expected if not t.startswith("__")},
                          key=lambda w: (w.startswith("'"), w))
        if e.token.type == "$END" and "'}'" in expected:
            return "unexpected end of file: a block opened with '{' is never closed; expected '}'"
        if len(expected) > 10:
            expected = expected[:10] + ["..."]
        return f"unexpected {_found(e.token)}; expected " + (
            ", ".join(expected) if expected else "something else")
    return str(e).splitlines()[0]


def _last_shifted(e: UnexpectedToken):
    """The token shifted just before the error, if the parser still has it."""
    if e.interactive_parser is None:
        return None
    values = e.interactive_parser.parser_state.value_stack
    return values[-1] if values and isinstance(values[-1], Token) else None


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
