"""What an editor asks about a spec, answered from the same parser and model
as `modelcheck check`: the diagnostics, the names it declares and where each
is used, what a word means (hover), and what may be typed (completion).

Plain data, no editor protocol: `lsp.py` turns it into LSP messages.
Positions are 1-based line and column, as in every diagnostic.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Optional

from lark import Token, Tree

from ..language import model, syntax
from ..language.errors import Source, SpecError
from . import words

_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")


@dataclass(frozen=True)
class Place:
    line: int
    col: int
    end: int            # column just past the word

    def covers(self, line: int, col: int) -> bool:
        return self.line == line and self.col <= col <= self.end


@dataclass
class Symbol:
    name: str
    kind: str           # lock resv fence engine var param thread job (and any new *_decl)
    place: Place
    detail: str = ""    # `lock L : spinlock`, the declaration's first line
    uses: list = field(default_factory=list)     # [Place], the declaration excluded


@dataclass
class Analysis:
    path: str
    text: str
    diagnostics: list                    # [Diagnostic]
    symbols: dict                        # name -> Symbol
    model: Optional[model.Model] = None  # None when the spec has errors

    def at(self, line: int, col: int) -> Optional[Symbol]:
        """The declared name under the cursor, at its declaration or a use."""
        for s in self.symbols.values():
            if s.place.covers(line, col) or any(p.covers(line, col) for p in s.uses):
                return s
        return None

    def word_at(self, line: int, col: int) -> str:
        src = self.text.splitlines()[line - 1] if 0 < line <= len(self.text.splitlines()) else ""
        for m in _WORD.finditer(src):
            if m.start() + 1 <= col <= m.end() + 1:
                return m.group()
        return ""


def analyse(text: str, path: str = "<spec>", params: Optional[dict] = None) -> Analysis:
    """Parse and build like `modelcheck check`; never raises for bad input."""
    src = Source(path, text)
    try:
        tree = syntax.parse(src)
    except SpecError as e:
        return Analysis(path, text, e.diagnostics, {})
    symbols = _symbols(tree, src)
    try:
        m = model.build(tree, src, params)
    except SpecError as e:
        return Analysis(path, text, e.diagnostics, symbols)
    except RecursionError:                           # pragma: no cover - guarded by the parser
        return Analysis(path, text, [src.diag(1, 1, "spec too deeply nested")], symbols)
    return Analysis(path, text, [], symbols, m)


def _symbols(tree: Tree, src: Source) -> dict:
    """Declarations are the first name of every `*_decl` item; a use is a
    reference (`ref`) or any other token that is no keyword and spells a
    declared name (a call `grab(bo)`, a `done(T)`)."""
    out: dict[str, Symbol] = {}
    decl_tokens = set()
    for node in tree.iter_subtrees_topdown():
        if not node.data.endswith("_decl") or not node.children:
            continue
        tok = node.children[0]
        if isinstance(tok, Token) and tok.type not in ("STRING", "EXPECT") and str(tok) not in out:
            kind = node.data[:-len("_decl")]
            if kind in ("hook", "prime"):            # `prime A -> B` names classes, declares none
                continue
            first = src.line(tok.line).split("#")[0].strip().rstrip("{").strip()
            out[str(tok)] = Symbol(str(tok), kind, _place(tok), first)
            decl_tokens.add(id(tok))
    if "mmap_lock" not in out:
        out["mmap_lock"] = Symbol("mmap_lock", "lock", Place(0, 0, 0), "mmap_lock : rwsem (built in)")
    plain = words.keyword_terminals() | {"STRING", "INT", "EXPECT"}    # never a name
    for node in tree.iter_subtrees():
        for i, c in enumerate(node.children):
            if not isinstance(c, Token) or id(c) in decl_tokens or str(c) not in out:
                continue
            if (node.data == "ref" and i == 0) or c.type not in plain:
                out[str(c)].uses.append(_place(c))
    for s in out.values():
        s.uses.sort(key=lambda p: (p.line, p.col))
    return out


def _place(tok: Token) -> Place:
    return Place(tok.line, tok.column, tok.column + len(str(tok)))


def outline(a: Analysis) -> list[Symbol]:
    """The declarations in source order: the editor's outline."""
    return sorted((s for s in a.symbols.values() if s.place.line),
                  key=lambda s: (s.place.line, s.place.col))


def rename(a: Analysis, line: int, col: int, new: str) -> tuple[list[Place], str]:
    """Where to write `new` to rename the name under the cursor: (places, "")
    or ([], why not).  The renamed text must build as the old one did, so a
    name that is a keyword where it stands, or clashes with another
    declaration, is refused instead of written."""
    sym = a.at(line, col)
    if sym is None or not sym.place.line:
        return [], "no declared name here" if sym is None else f"{sym.name} is built in"
    if not _WORD.fullmatch(new):
        return [], f"{new!r} is not a name"
    if new != sym.name and new in a.symbols:
        return [], f"{new} is declared already (line {a.symbols[new].place.line})"
    places = [sym.place] + sym.uses
    lines = a.text.split("\n")
    for p in sorted(places, key=lambda p: (p.line, -p.col)):        # right to left on a line
        text = lines[p.line - 1]
        lines[p.line - 1] = text[:p.col - 1] + new + text[p.end - 1:]
    after = analyse("\n".join(lines), a.path)
    if after.diagnostics and not a.diagnostics:
        d = after.diagnostics[0]
        return [], f"renamed, the spec would not build: line {d.line}: {d.message}"
    return places, ""


# ----------------------------------------------------------------- hover

def lock_classes(m: model.Model, name: str) -> list[str]:
    """The lockdep classes of a declared lock (every element of an array shares one)."""
    return sorted({l.cls for l in m.locks if l.name == name or l.name.startswith(name + "[")})


def hover(a: Analysis, line: int, col: int, findings: Optional[list] = None) -> Optional[str]:
    """Markdown for the word under the cursor: a finding kind (its `explain`
    text), a declared name (its declaration and lockdep class), or a
    statement keyword (the lockdep classes the statement takes, and the
    explanation of each finding the last check reported at that line)."""
    from ..reports import explain

    word = a.word_at(line, col)
    src_line = a.text.splitlines()[line - 1] if 0 < line <= len(a.text.splitlines()) else ""
    if word in explain.KINDS and src_line.lstrip().startswith("expect"):
        return explain.markdown(word)
    sym = a.at(line, col)
    if sym is not None:
        out = [f"**{sym.kind}** `{sym.name}`", "", f"`{sym.detail}`"]
        if sym.place.line:
            out.append(f"declared at line {sym.place.line}; used {len(sym.uses)} time"
                       + ("s" if len(sym.uses) != 1 else ""))
        if a.model is not None and sym.kind in ("lock", "resv"):
            cls = lock_classes(a.model, sym.name)
            if cls:
                out.append(f"lockdep class: `{', '.join(cls)}`")
        return "\n".join(out)
    if word not in words.keywords():
        return None
    out = [f"`{src_line.strip()}`"]
    taken = statement_classes(a, line)
    if taken:
        out.append("lockdep: takes " + ", ".join(f"`{c}`" + (" (read)" if mode == "r" else "")
                                               for c, mode in taken))
    for f in findings or []:
        if f.line == line:
            out += ["", f"**{f.kind}**: {f.message}", "", explain.markdown(f.kind)]
    return "\n".join(out) if len(out) > 1 else None


def statement_classes(a: Analysis, line: int) -> list[tuple[str, str]]:
    """(class, mode) the statement on `line` acquires, as lockdep records it."""
    if a.model is None:
        return []
    from ..semantics import System
    try:
        sys = System(a.model)
    except Exception:                               # pragma: no cover - hover must never fail
        return []
    out = []
    for ins in sys.code:
        if getattr(ins, "stmt", None) is not None and ins.stmt.line == line:
            for acq in ins.acquires:
                if acq not in out:
                    out.append(acq)
    return out


# ----------------------------------------------------------------- completion

@dataclass(frozen=True)
class Completion:
    label: str
    kind: str           # keyword | kind | a symbol kind (lock, fence, thread...)
    detail: str = ""


def complete(a: Analysis, line: int, col: int) -> list[Completion]:
    """Finding kinds after `expect`; otherwise keywords and declared names."""
    src = a.text.splitlines()[line - 1] if 0 < line <= len(a.text.splitlines()) else ""
    before = src[: col - 1]
    if re.match(r"\s*expect\b", before):
        return [Completion(k, "kind") for k in words.finding_kinds()]
    out = [Completion(k, "keyword") for k in words.keywords()]
    out += [Completion(s.name, s.kind, s.detail) for s in a.symbols.values()]
    return out


# ----------------------------------------------------------------- verdicts

@dataclass(frozen=True)
class Verdict:
    """One finding of a check, placed at its decisive line."""
    kind: str
    line: int
    message: str
    expected: bool


def verdicts(a: Analysis, limits=None) -> list[Verdict]:
    """Check the spec as `modelcheck check` would and place each finding at
    the line of its decisive step (as in SARIF); a kind expected but not
    found sits at its `expect` line."""
    from .. import api
    from ..reports.sarif import decisive

    if a.model is None:
        return []
    r = api.check_source(a.text, path=a.path, limits=limits)
    out = []
    for f in r.findings:
        step = decisive(f)
        if f.kind == "lock-order" and f.cycle:
            step = f.trace[-1] if f.trace else None
        out.append(Verdict(f.kind, step.line if step and step.line else _expect_line(a, f.kind),
                           f.message, f.kind in r.expected))
    for kind in sorted(r.expected - r.kinds):
        if r.complete:
            out.append(Verdict(kind, _expect_line(a, kind), f"expected {kind}, not found", False))
    if not r.complete:
        out.append(Verdict("incomplete", 1, f"search incomplete: {r.stopped}", True))
    return out


def _expect_line(a: Analysis, kind: str) -> int:
    for n, line in enumerate(a.text.splitlines(), 1):
        ws = re.split(r"[\s,]+", line.split("#")[0].strip())
        if ws and ws[0] == "expect" and kind in ws[1:]:
            return n
    return 1
