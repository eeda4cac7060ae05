"""`modelcheck lsp`: a language server over stdio (pygls, the `lsp` extra).

As you type: the diagnostics of `modelcheck check` (same parser, same model,
same messages).  On save (unless the client sets `checkOnSave: false` in its
initialization options): the verdict, each finding at its decisive line, as
warnings (expected findings as information), searched in a worker thread so
the editor's other requests are answered meanwhile.  Hover, go to
definition, find references, the outline, rename and completion come from
`symbols.py`.
"""
from __future__ import annotations

import sys
from urllib.parse import unquote, urlparse

from lsprotocol import types as T
from pygls.exceptions import JsonRpcInvalidParams
from pygls.lsp.server import LanguageServer

from .. import __version__
from ..search.explorer import Limits
from . import symbols

CHECK_SECONDS = 20          # the on-save check never runs longer than this

SYMBOL_KINDS = {"lock": T.CompletionItemKind.Variable, "resv": T.CompletionItemKind.Variable,
                "fence": T.CompletionItemKind.Event, "engine": T.CompletionItemKind.Unit,
                "var": T.CompletionItemKind.Variable, "param": T.CompletionItemKind.Constant,
                "thread": T.CompletionItemKind.Class, "job": T.CompletionItemKind.Class,
                "keyword": T.CompletionItemKind.Keyword, "kind": T.CompletionItemKind.EnumMember}

OUTLINE_KINDS = {"lock": T.SymbolKind.Variable, "resv": T.SymbolKind.Object,
                 "fence": T.SymbolKind.Event, "engine": T.SymbolKind.Module,
                 "var": T.SymbolKind.Variable, "param": T.SymbolKind.Constant,
                 "thread": T.SymbolKind.Class, "job": T.SymbolKind.Class, "work": T.SymbolKind.Class,
                 "irq": T.SymbolKind.Class, "workqueue": T.SymbolKind.Module,
                 "def": T.SymbolKind.Function}


class FspecServer(LanguageServer):
    def __init__(self):
        super().__init__("modelcheck", __version__)
        self.docs: dict[str, symbols.Analysis] = {}      # uri -> the latest analysis
        self.good: dict[str, symbols.Analysis] = {}      # uri -> the latest one that built
        self.verdicts: dict[str, list] = {}              # uri -> [Verdict] of the last save
        self.check_on_save = True

    def analyse(self, uri: str) -> symbols.Analysis:
        doc = self.workspace.get_text_document(uri)
        a = symbols.analyse(doc.source, _path(uri))
        self.docs[uri] = a
        if a.symbols:
            self.good[uri] = a
        return a

    def lookup(self, uri: str) -> symbols.Analysis:
        """Names from the latest text that parsed: a half-typed line does
        not lose go-to-definition for the rest of the file."""
        a = self.docs.get(uri) or self.analyse(uri)
        return a if a.symbols else self.good.get(uri, a)

    def publish(self, uri: str) -> None:
        a = self.docs[uri]
        diags = [_diagnostic(a, d) for d in a.diagnostics]
        if not a.diagnostics:
            diags += [_verdict(a, v) for v in self.verdicts.get(uri, [])]
        self.text_document_publish_diagnostics(T.PublishDiagnosticsParams(uri=uri, diagnostics=diags))


def _path(uri: str) -> str:
    u = urlparse(uri)
    return unquote(u.path) if u.scheme == "file" else uri


def _range(a: symbols.Analysis, line: int, col: int) -> T.Range:
    """A diagnostic's line:col, widened to the word there (0-based for LSP)."""
    if line <= 0:
        return T.Range(T.Position(0, 0), T.Position(0, 0))
    text = a.text.splitlines()[line - 1] if line <= len(a.text.splitlines()) else ""
    word = a.word_at(line, col) if col <= len(text) else ""
    start = max(col - 1, 0)
    end = start + (len(word) if word and text[start:start + len(word)] == word else 1)
    return T.Range(T.Position(line - 1, start), T.Position(line - 1, min(end, max(len(text), start + 1))))


def _diagnostic(a, d) -> T.Diagnostic:
    return T.Diagnostic(range=_range(a, d.line, d.col), message=d.message,
                        severity=T.DiagnosticSeverity.Error, source="modelcheck")


def _verdict(a, v: symbols.Verdict) -> T.Diagnostic:
    text = a.text.splitlines()[v.line - 1] if 0 < v.line <= len(a.text.splitlines()) else ""
    lead = len(text) - len(text.lstrip())
    sev = T.DiagnosticSeverity.Information if v.expected else T.DiagnosticSeverity.Warning
    return T.Diagnostic(range=T.Range(T.Position(max(v.line - 1, 0), lead),
                                      T.Position(max(v.line - 1, 0), len(text))),
                        message=f"{v.kind}: {v.message}" + (" (expected)" if v.expected else ""),
                        severity=sev, source="modelcheck", code=v.kind)


def _loc(uri: str, p: symbols.Place) -> T.Location:
    return T.Location(uri=uri, range=T.Range(T.Position(p.line - 1, p.col - 1),
                                             T.Position(p.line - 1, p.end - 1)))


def server() -> FspecServer:
    ls = FspecServer()

    @ls.feature(T.INITIALIZE)
    def initialize(ls: FspecServer, params: T.InitializeParams):
        opts = params.initialization_options or {}
        if isinstance(opts, dict) and opts.get("checkOnSave") is False:
            ls.check_on_save = False

    @ls.feature(T.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: FspecServer, params: T.DidOpenTextDocumentParams):
        ls.analyse(params.text_document.uri)
        ls.publish(params.text_document.uri)

    @ls.feature(T.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: FspecServer, params: T.DidChangeTextDocumentParams):
        uri = params.text_document.uri
        ls.verdicts.pop(uri, None)                 # the verdict was of the saved text
        ls.analyse(uri)
        ls.publish(uri)

    @ls.feature(T.TEXT_DOCUMENT_DID_SAVE)
    @ls.thread()                                   # the search runs beside the editor's requests
    def did_save(ls: FspecServer, params: T.DidSaveTextDocumentParams):
        uri = params.text_document.uri
        a = ls.analyse(uri)
        if ls.check_on_save and a.model is not None:
            try:
                found = symbols.verdicts(a, Limits(timeout=CHECK_SECONDS))
            except Exception as e:                 # a checker bug must not take the editor down
                ls.window_log_message(T.LogMessageParams(T.MessageType.Error, f"modelcheck: {e!r}"))
                found = None
            if found is not None and ls.docs.get(uri) is a:    # not typed over meanwhile
                ls.verdicts[uri] = found
        if ls.docs.get(uri) is a:
            ls.publish(uri)

    @ls.feature(T.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: FspecServer, params: T.DidCloseTextDocumentParams):
        uri = params.text_document.uri
        for table in (ls.docs, ls.good, ls.verdicts):
            table.pop(uri, None)
        ls.text_document_publish_diagnostics(T.PublishDiagnosticsParams(uri=uri, diagnostics=[]))

    @ls.feature(T.TEXT_DOCUMENT_HOVER)
    def hover(ls: FspecServer, params: T.HoverParams):
        uri, pos = params.text_document.uri, params.position
        a = ls.lookup(uri)
        text = symbols.hover(a, pos.line + 1, pos.character + 1, ls.verdicts.get(uri))
        if text is None:
            return None
        return T.Hover(contents=T.MarkupContent(kind=T.MarkupKind.Markdown, value=text))

    @ls.feature(T.TEXT_DOCUMENT_DEFINITION)
    def definition(ls: FspecServer, params: T.DefinitionParams):
        uri, pos = params.text_document.uri, params.position
        sym = ls.lookup(uri).at(pos.line + 1, pos.character + 1)
        if sym is None or not sym.place.line:
            return None
        return [_loc(uri, sym.place)]

    @ls.feature(T.TEXT_DOCUMENT_REFERENCES)
    def references(ls: FspecServer, params: T.ReferenceParams):
        uri, pos = params.text_document.uri, params.position
        sym = ls.lookup(uri).at(pos.line + 1, pos.character + 1)
        if sym is None:
            return []
        places = ([sym.place] if params.context.include_declaration and sym.place.line else []) + sym.uses
        return [_loc(uri, p) for p in places]

    @ls.feature(T.TEXT_DOCUMENT_DOCUMENT_SYMBOL)
    def document_symbol(ls: FspecServer, params: T.DocumentSymbolParams):
        a = ls.lookup(params.text_document.uri)
        lines = a.text.splitlines()
        out = []
        for s in symbols.outline(a):
            whole = len(lines[s.place.line - 1]) if s.place.line <= len(lines) else s.place.end
            out.append(T.DocumentSymbol(
                name=s.name, detail=s.detail, kind=OUTLINE_KINDS.get(s.kind, T.SymbolKind.Variable),
                range=T.Range(T.Position(s.place.line - 1, 0), T.Position(s.place.line - 1, whole)),
                selection_range=_loc(params.text_document.uri, s.place).range))
        return out

    @ls.feature(T.TEXT_DOCUMENT_PREPARE_RENAME)
    def prepare_rename(ls: FspecServer, params: T.PrepareRenameParams):
        pos = params.position
        sym = ls.lookup(params.text_document.uri).at(pos.line + 1, pos.character + 1)
        if sym is None or not sym.place.line:
            return None
        place = next(p for p in [sym.place] + sym.uses if p.covers(pos.line + 1, pos.character + 1))
        return _loc(params.text_document.uri, place).range

    @ls.feature(T.TEXT_DOCUMENT_RENAME)
    def rename(ls: FspecServer, params: T.RenameParams):
        uri, pos = params.text_document.uri, params.position
        a = ls.docs.get(uri) or ls.analyse(uri)
        places, why = symbols.rename(a, pos.line + 1, pos.character + 1, params.new_name)
        if why:
            raise JsonRpcInvalidParams(why)
        return T.WorkspaceEdit(changes={uri: [T.TextEdit(range=_loc(uri, p).range,
                                                         new_text=params.new_name) for p in places]})

    @ls.feature(T.TEXT_DOCUMENT_COMPLETION, T.CompletionOptions(trigger_characters=[" "]))
    def completion(ls: FspecServer, params: T.CompletionParams):
        uri, pos = params.text_document.uri, params.position
        a = ls.docs.get(uri) or ls.analyse(uri)
        names = ls.lookup(uri)
        items = symbols.complete(a, pos.line + 1, pos.character + 1)
        if not a.symbols:                                # mid-edit: names from the last good text
            items += [c for c in symbols.complete(names, pos.line + 1, pos.character + 1)
                      if c.kind not in ("keyword", "kind") and c not in items]
        return T.CompletionList(is_incomplete=False, items=[
            T.CompletionItem(label=c.label, kind=SYMBOL_KINDS.get(c.kind, T.CompletionItemKind.Reference),
                             detail=c.detail or c.kind) for c in items])

    return ls


def main() -> int:
    server().start_io()
    return 0


if __name__ == "__main__":      # pragma: no cover
    sys.exit(main())
