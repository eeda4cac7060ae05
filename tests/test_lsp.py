"""A scripted editor session with `modelcheck lsp` over stdio: diagnostics as
you type (the CLI's messages), the verdict on save, hover, go to definition,
find references and completion."""
import asyncio
import sys
from pathlib import Path

import pytest
from lsprotocol import types as T
from pygls.lsp.client import LanguageClient

from modelcheck import api
from modelcheck.editor import symbols
from modelcheck.language.errors import SpecError

REPO = Path(__file__).resolve().parents[1]
SPEC = REPO / "specs" / "signalling_lock_inversion.fspec"
LINES = SPEC.read_text().splitlines()


def pos(line: int, word: str, nth: int = 0) -> T.Position:
    """The 0-based position of the nth `word` on 1-based `line`."""
    col = -1
    for _ in range(nth + 1):
        col = LINES[line - 1].index(word, col + 1)
    return T.Position(line - 1, col)


def line_of(text: str) -> int:
    return next(n for n, l in enumerate(LINES, 1) if l.strip().startswith(text))


class Session:
    def __init__(self):
        self.client = LanguageClient("test", "1")
        self.diagnostics: dict = {}
        self.arrived = asyncio.Event()

        @self.client.feature(T.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
        def got(params: T.PublishDiagnosticsParams):
            self.diagnostics[params.uri] = params.diagnostics
            self.arrived.set()

    async def next_diagnostics(self, uri):
        await asyncio.wait_for(self.arrived.wait(), 60)
        self.arrived.clear()
        return self.diagnostics[uri]


async def session_script():
    s = Session()
    c = s.client
    await c.start_io(sys.executable, "-m", "modelcheck", "lsp")
    await c.initialize_async(T.InitializeParams(capabilities=T.ClientCapabilities(),
                                                root_uri=REPO.as_uri()))
    c.initialized(T.InitializedParams())
    uri, text = SPEC.as_uri(), SPEC.read_text()
    out = {}
    doc = T.TextDocumentIdentifier(uri=uri)

    c.text_document_did_open(T.DidOpenTextDocumentParams(
        T.TextDocumentItem(uri=uri, language_id="fspec", version=1, text=text)))
    out["open"] = await s.next_diagnostics(uri)

    # a mistake, as typed: the CLI's message at the CLI's position
    broken = text.replace("lock obj_lock\nfence", "lock obj_lock : semaphore\nfence", 1)
    c.text_document_did_change(T.DidChangeTextDocumentParams(
        T.VersionedTextDocumentIdentifier(uri=uri, version=2),
        [T.TextDocumentContentChangeWholeDocument(text=broken)]))
    out["broken"] = await s.next_diagnostics(uri)
    out["broken_text"] = broken
    # go to definition still works from the last text that parsed
    out["def_while_broken"] = await c.text_document_definition_async(
        T.DefinitionParams(text_document=doc, position=pos(line_of("wait hw_fence"), "hw_fence")))

    c.text_document_did_change(T.DidChangeTextDocumentParams(
        T.VersionedTextDocumentIdentifier(uri=uri, version=3),
        [T.TextDocumentContentChangeWholeDocument(text=text)]))
    out["fixed"] = await s.next_diagnostics(uri)
    c.text_document_did_save(T.DidSaveTextDocumentParams(doc))
    out["saved"] = await s.next_diagnostics(uri)

    held = next(n for n, l in enumerate(LINES, 1)      # the signaller's `lock obj_lock`
                if l.strip() == "lock obj_lock" and n > line_of("thread signaller"))
    out["hover_stmt"] = await c.text_document_hover_async(T.HoverParams(text_document=doc, position=pos(held, "lock")))
    out["hover_name"] = await c.text_document_hover_async(T.HoverParams(text_document=doc, position=pos(held, "obj_lock")))
    out["hover_kind"] = await c.text_document_hover_async(
        T.HoverParams(text_document=doc, position=pos(line_of("expect lock-order"), "lock-order")))
    out["definition"] = await c.text_document_definition_async(
        T.DefinitionParams(text_document=doc, position=pos(line_of("wait hw_fence"), "hw_fence")))
    out["references"] = await c.text_document_references_async(T.ReferenceParams(
        text_document=doc, position=pos(held, "obj_lock"),
        context=T.ReferenceContext(include_declaration=True)))
    out["complete"] = await c.text_document_completion_async(
        T.CompletionParams(text_document=doc, position=T.Position(line_of("wait hw_fence") - 1, 4)))
    out["complete_expect"] = await c.text_document_completion_async(
        T.CompletionParams(text_document=doc, position=T.Position(line_of("expect deadlock") - 1, 7)))

    out["outline"] = await c.text_document_document_symbol_async(
        T.DocumentSymbolParams(text_document=doc))
    out["prepare"] = await c.text_document_prepare_rename_async(
        T.PrepareRenameParams(text_document=doc, position=pos(held, "obj_lock")))
    out["rename"] = await c.text_document_rename_async(
        T.RenameParams(text_document=doc, position=pos(held, "obj_lock"), new_name="bo_lock"))
    try:
        await c.text_document_rename_async(
            T.RenameParams(text_document=doc, position=pos(held, "obj_lock"), new_name="hw_fence"))
        out["clash"] = None
    except Exception as e:                     # the server answers with an error
        out["clash"] = str(e)

    await c.shutdown_async(None)
    c.exit(None)
    await c.stop()
    return out


@pytest.fixture(scope="module")
def session():
    return asyncio.run(session_script())


def test_a_correct_spec_opens_without_diagnostics(session):
    assert list(session["open"]) == []


def test_diagnostics_as_you_type_are_the_cli_messages(session):
    [d] = session["broken"]
    with pytest.raises(SpecError) as e:
        api.load(session["broken_text"], str(SPEC))
    [cli] = e.value.diagnostics
    assert d.message == cli.message and d.source == "modelcheck"
    assert (d.range.start.line, d.range.start.character) == (cli.line - 1, cli.col - 1)
    assert list(session["fixed"]) == []


def test_the_verdict_on_save_sits_at_the_decisive_line(session):
    by = {d.code: d for d in session["saved"]}
    assert set(by) == {"deadlock", "lock-order"}
    r = api.check_file(SPEC)
    dead = next(f for f in r.findings if f.kind == "deadlock")
    assert by["deadlock"].range.start.line == dead.blocked[0].line - 1
    assert by["deadlock"].severity == T.DiagnosticSeverity.Information     # expected by the spec
    assert "blocked forever" in by["deadlock"].message


def test_hover_statement_names_its_lockdep_class_and_finding(session):
    text = session["hover_stmt"].contents.value
    assert "lockdep: takes `obj_lock`" in text
    assert "**deadlock**" in text and "Why the kernel cares" in text


def test_hover_name_and_finding_kind(session):
    assert "lockdep class: `obj_lock`" in session["hover_name"].contents.value
    assert session["hover_kind"].contents.value.startswith("**lock-order**")


def test_definition_and_references(session):
    decl = line_of("fence hw_fence") - 1
    for key in ("definition", "def_while_broken"):
        [loc] = session[key]
        assert loc.range.start.line == decl
    refs = sorted(l.range.start.line + 1 for l in session["references"])
    assert refs == [n for n, l in enumerate(LINES, 1) if "obj_lock" in l.split("#")[0]]


def test_completion(session):
    labels = {i.label for i in session["complete"].items}
    assert {"lock", "signalling", "wait", "obj_lock", "hw_fence", "waiter"} <= labels
    kinds = {i.label for i in session["complete_expect"].items}
    assert {"deadlock", "lock-order", "safe"} <= kinds and "lock" not in kinds


def test_outline_lists_every_declaration_in_order(session):
    names = [s.name for s in session["outline"]]
    decls = [l.split()[1] for l in LINES
             if l.split() and l.split()[0] in ("lock", "fence", "resv", "thread", "job", "engine")
             and not l.startswith((" ", "\t"))]
    assert names == decls
    assert all(s.selection_range.start.line == s.range.start.line for s in session["outline"])


def test_rename_edits_the_declaration_and_every_use(session):
    edits = session["rename"].changes[SPEC.as_uri()]
    lines = sorted({e.range.start.line + 1 for e in edits})
    assert lines == [n for n, l in enumerate(LINES, 1) if "obj_lock" in l.split("#")[0]]
    assert {e.new_text for e in edits} == {"bo_lock"}
    held = next(n for n, l in enumerate(LINES, 1)
                if l.strip() == "lock obj_lock" and n > line_of("thread signaller"))
    assert session["prepare"].start == pos(held, "obj_lock")
    assert "declared already" in session["clash"]


def test_rename_refuses_what_would_not_build():
    a = symbols.analyse("lock l\nthread t { lock l; unlock l }\nexpect safe\n")
    places, why = symbols.rename(a, 2, 17, "m")
    assert why == "" and [(p.line, p.col) for p in places] == [(1, 6), (2, 17), (2, 27)]
    assert symbols.rename(a, 2, 17, "t")[1].startswith("t is declared already")
    assert symbols.rename(a, 2, 17, "9x")[1] == "'9x' is not a name"
    assert symbols.rename(a, 2, 17, "unlock")[1] == ""        # a keyword where a name may stand
    v = symbols.analyse("var x = 0 in 0..1\nthread t { x = 1 }\nexpect safe\n")
    assert "would not build" in symbols.rename(v, 2, 12, "lock")[1]   # `lock = 1` is no statement
    assert symbols.rename(a, 2, 13, "x")[1] == "no declared name here"       # on `lock`


def test_prime_lines_declare_nothing():
    a = symbols.analyse("prime fs_reclaim -> dma_fence_map\nlock l\nthread t { lock l; unlock l }\n")
    assert "fs_reclaim" not in a.symbols and [s.name for s in symbols.outline(a)] == ["l", "t"]


def test_names_of_every_kind_resolve():
    """Locks, fences, actors (and, once declared in the grammar, work items
    and procedures, by their `*_decl` rule) are found at their uses."""
    text = ("param N = 2\nlock l\nresv r\nfence f after g\nfence g\nengine e slots 1\n"
            "var x = 0 in 0..1\nthread t[i in 1..N] { lock l; unlock l; signal g; signal f }\n"
            "job j on e { await done(t[1]); x = 1 }\nexpect safe\n")
    a = symbols.analyse(text)
    assert a.diagnostics == []
    uses = {n: len(s.uses) for n, s in a.symbols.items()}
    assert uses["l"] == 2 and uses["g"] == 2 and uses["f"] == 1 and uses["e"] == 1
    assert uses["t"] == 1 and uses["x"] == 1 and uses["N"] == 1
    assert a.symbols["t"].kind == "thread" and a.symbols["j"].kind == "job"
    assert symbols.lock_classes(a.model, "r") == ["resv"]


def test_work_items_workqueues_and_procedures_resolve():
    text = ("lock l\nworkqueue wq\nwork w on wq { lock l; unlock l }\n"
            "def grab(x) { lock x; unlock x }\n"
            "thread t { grab(l); queue_work w; flush_work w }\nexpect lock-order\n")
    a = symbols.analyse(text)
    assert a.diagnostics == []
    got = {n: (s.kind, [(p.line, p.col) for p in s.uses]) for n, s in a.symbols.items()}
    assert got["wq"] == ("workqueue", [(3, 11)])
    assert got["w"] == ("work", [(5, 32), (5, 46)])
    assert got["grab"] == ("def", [(5, 12)])
    assert got["l"][1] == [(3, 21), (3, 31), (5, 17)]
    assert a.at(5, 13).name == "grab" and "def grab(x)" in symbols.hover(a, 5, 13)
