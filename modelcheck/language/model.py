"""Lark tree -> checked model: names resolved, params folded, arrays and actor
copies expanded.  Every user mistake found here becomes a positioned
diagnostic; all of them are collected before one SpecError is raised.

The model is plain data: object tables (locks, fences, engines, vars), the
actors with their statement lists, the hooks, invariants and expectations.
Statements keep their resolved object ids, so the semantics never sees a name.
"""
from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from itertools import product
from typing import Optional

from lark import Token, Tree

from .errors import Diagnostic, Source, SpecError
from .syntax import MAX_ERRORS
from ..search import budget

FINDING_KINDS = ("deadlock", "indefinite-fence", "lock-order", "timeout-hang",
                 "sleep-in-atomic", "signal-before-deps", "publish-without-lock",
                 "unlock-not-held", "lock-held-at-exit", "assert", "invariant", "unreachable",
                 "irq-unsafe-lock")
EXPECT_KINDS = FINDING_KINDS + ("safe",)
HOOK_EVENTS = ("reclaim", "fork", "munmap", "fault")
# what dma_resv_lockdep() primes at boot (the contract's default chain)
PRIMED_CHAIN = ("mmap_lock", "resv", "fs_reclaim", "mmu_notifier", "dma_fence_map")
PSEUDO_CLASSES = frozenset(PRIMED_CHAIN + ("resv_ctx",))
FENCE_EVENTS = ("signal", "enable_signaling")   # hooks of one fence: `on signal F`
USAGES = ("kernel", "write", "read", "bookkeep")   # dma_resv_usage, strongest first
RECLAIMING_GFP = ("kernel", "nofs", "noio")    # may enter direct reclaim
from .bounds import (MAX_ACTORS, MAX_COPIES, MAX_ELEMENTS, MAX_INT, MAX_INT_DIGITS, MAX_OBJECTS,
                     MAX_STATEMENTS)


# ----------------------------------------------------------------- model data

@dataclass(frozen=True)
class Lock:
    name: str
    kind: str           # mutex | spinlock | rwsem | resv
    cls: str            # lockdep class: the declaration's name, or "resv"
    line: int
    resv: int = -1      # index into the fence-list table for a resv


@dataclass(frozen=True)
class Fence:
    name: str
    after: tuple[int, ...]
    line: int
    kind: str = ""              # "" or a container: all | any | chain
    parts: tuple[int, ...] = ()  # a container's fences


@dataclass(frozen=True)
class Engine:
    name: str
    slots: int
    line: int


@dataclass(frozen=True)
class Workqueue:
    name: str
    ordered: bool       # alloc_ordered_workqueue: one item at a time, in queueing order
    line: int


@dataclass(frozen=True)
class Var:
    name: str
    init: int
    lo: int
    hi: int
    line: int


@dataclass(frozen=True)
class Stmt:
    """One statement, resolved.  `op` names its semantics (see semantics.py)."""
    op: str
    line: int
    text: str
    objs: tuple = ()            # object ids; what they index depends on `op`
    mode: str = ""              # shared / error / timeout / interruptible / gfp / event
    expr: object = None         # resolved expression (see `Expr`)
    bodies: tuple = ()          # nested statement lists (tuple of tuples)
    col: int = 0                # where the statement starts: with `line`, its place in
                                # the source (one place for every copy and every call)
    usage: str = ""             # publish_in / wait_resv: a dma_resv usage (USAGES)
    source: str = ""            # the statement as written (`text` names the objects)


@dataclass(frozen=True)
class Actor:
    name: str
    kind: str                   # thread | job | work | irq
    body: tuple
    line: int
    engine: int = -1            # jobs: the engine whose slot they hold
    preemptible: bool = False
    wq: int = -1                # work items: their workqueue
    deps: tuple = ()            # jobs: fences that must signal before it takes a slot


@dataclass
class Model:
    path: str
    source: Source
    title: str = ""
    params: dict = field(default_factory=dict)
    locks: list = field(default_factory=list)
    fences: list = field(default_factory=list)
    resvs: list = field(default_factory=list)        # lock id of each resv
    engines: list = field(default_factory=list)
    vars: list = field(default_factory=list)
    workqueues: list = field(default_factory=list)
    actors: list = field(default_factory=list)
    hooks: dict = field(default_factory=dict)        # event -> [statement tuple]
    uses_usage: bool = False                         # some publish/wait names a usage
    hook_at: dict = field(default_factory=dict)      # event -> (line, col) of its first hook
    invariants: list = field(default_factory=list)   # (name, expr, line)
    reachables: list = field(default_factory=list)   # (name, expr, line)
    expects: list = field(default_factory=list)      # (kind, line)
    prime: Optional[list] = None     # `prime` lines: the boot edges [(A, B)]; None: the default
    uses_ww: bool = False                            # some `ww { }` block
    uses_flush: bool = False                         # some flush_work / flush_workqueue

    def fence_event(self, kind: str, f: int) -> str:
        """The hook event of fence f: "signal F" or "enable_signaling F"."""
        return f"{kind} {self.fences[f].name}"

    def containers_of(self, f: int) -> list:
        """The containers that f is a part of, directly or through other
        containers, each after its parts (declaration order otherwise)."""
        out, todo = [], [f]
        while todo:
            g = todo.pop(0)
            for c, fc in enumerate(self.fences):
                if g in fc.parts and c not in out:
                    out.append(c)
                    todo.append(c)
        return sorted(out, key=self.container_depth)

    def container_depth(self, c: int) -> int:
        parts = self.fences[c].parts
        return 1 + max(map(self.container_depth, parts)) if parts else 0

    def parts_of(self, f: int) -> list:
        """f's parts, transitively (the fences waiting for f enables)."""
        out = []
        for p in self.fences[f].parts:
            for q in [p] + self.parts_of(p):
                if q not in out:
                    out.append(q)
        return out

    @property
    def expected(self) -> frozenset:
        kinds = {k for k, _ in self.expects}
        return frozenset(kinds - {"safe"})


# Expressions are small tuples: ("int", v) ("var", id) ("not", e) ("neg", e)
# ("and", [e..]) ("or", [e..]) ("bin", op, a, b)
# ("signalled"|"errored"|"published", fence) ("held", lock) ("done", (actor ids))
# ("pending"|"running", work item's actor id).


# ----------------------------------------------------------------- building

@dataclass
class _Decl:
    kind: str                       # param lock resv fence engine var thread job workqueue work
    node: Tree
    dims: list = field(default_factory=list)   # [(lo, hi)] after folding
    base: int = 0                   # first id in its table
    ready: bool = False             # actors: ids assigned
    bad: bool = False               # its declaration was refused: uses say nothing more


@dataclass(frozen=True)
class _Obj:
    """A `def` parameter bound to an object: the argument's declared name and
    the indices written at the call (`f(bo[2])`; `f(bo)` passes the array)."""
    name: str
    idx: tuple
    node: object            # the argument in the call, for positions


@dataclass(frozen=True)
class _Val:
    """A `def` parameter bound to an integer expression of the caller."""
    expr: tuple


_IDENT = re.compile(r"(?<![\w.\"])[A-Za-z_]\w*")
_INDEX = re.compile(r"\[([0-9 ()+\-*/%]*[+\-*/%][0-9 ()+\-*/%]*)\]")   # an index that is arithmetic


def _fold_index(match) -> str:
    """`tdr[1 - 0]` reads `tdr[1]` once the copy index is known: an index of
    constants is printed as the element it names (C division, as BINOPS)."""
    def value(n):
        if isinstance(n, ast.Constant) and isinstance(n.value, int):
            return n.value
        if isinstance(n, ast.UnaryOp) and isinstance(n.op, ast.USub):
            return -value(n.operand)
        if isinstance(n, ast.BinOp):
            op = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Mod: "%"}.get(type(n.op))
            a, b = value(n.left), value(n.right)
            if op is None or op in "/%" and b == 0:
                raise ValueError
            return BINOPS[op](a, b)
        raise ValueError
    try:
        return f"[{value(ast.parse(match.group(1), mode='eval').body)}]"
    except (SyntaxError, ValueError, RecursionError):
        return match.group(0)
MAX_INLINED = 10000     # calls inlined per spec: a def calling two defs calling two ...
MAX_UNROLLED = 4096     # `for` iterations per loop


class _Fail(Exception):
    """Abandon the current statement or declaration after a diagnostic."""


class _Abort(Exception):
    """Abandon the whole build: a bound on the model's size was passed."""


class Builder:
    def __init__(self, source: Source, params: Optional[dict] = None):
        self.src = source
        self.diags: list[Diagnostic] = []
        self.seen: set[Diagnostic] = set()
        self.overrides = dict(params or {})
        self.m = Model(source.path, source)
        self.decls: dict[str, _Decl] = {}
        self.env_stack: list[dict] = [{}]       # copy / dim / for binders and def parameters in scope
        self.calls: list[tuple] = []           # (def name, call node) being inlined
        self.inlined = 0
        self.param_state: dict[str, object] = {}
        self.statements = 0                     # built so far, copies expanded (MAX_STATEMENTS)
        self.objects = 0                        # array elements so far (MAX_OBJECTS)
        self.in_ww = False                     # building the body of a `ww { }` block

    # -- diagnostics
    def error(self, where, message: str) -> None:
        line, col = _pos(where)
        if self.calls and line not in {_pos(n)[0] for _, n in self.calls}:
            name, call = self.calls[-1]
            message += f" (in {name}(), called on line {_pos(call)[0]})"
        d = self.src.diag(line, col, message)
        if d not in self.seen:               # the same mistake in every copy of an actor
            self.seen.add(d)
            self.diags.append(d)
            if len(self.diags) >= MAX_ERRORS:
                raise _Abort()

    def fail(self, where, message: str):
        self.error(where, message)
        raise _Fail()

    def abort(self, where, message: str):
        self.error(where, message)
        raise _Abort()

    # -- entry point
    def build(self, tree: Tree) -> Model:
        try:
            self._build(tree)
        except _Abort:
            pass
        if self.diags:
            raise SpecError(self.diags)
        return self.m

    def _build(self, tree: Tree) -> None:
        items = tree.children
        self.decls["mmap_lock"] = _Decl("lock", None)
        self.m.locks.append(Lock("mmap_lock", "rwsem", "mmap_lock", 0))
        for item in items:                     # pass 1: names
            self._declare(item)
        for name in list(self.overrides):
            if name not in self.decls or self.decls[name].kind != "param":
                self.diags.append(Diagnostic(self.src.path, 0, 0,
                                             f"-D {name}: the spec declares no param {name}"))
            elif abs(self.overrides[name]) > MAX_INT:
                self.diags.append(Diagnostic(self.src.path, 0, 0, f"-D {name}: {self.overrides[name]} "
                                             f"is out of range: constants are at most MAX_INT = {MAX_INT}"
                                             " in magnitude"))
                self.overrides.pop(name)
        for item in items:                     # pass 2: params and objects, in file order
            self._guard(self._object, item)
        for item in items:                     # pass 3: actors, hooks, properties
            self._guard(self._behaviour, item)
        kinds = {k for k, _ in self.m.expects}
        if "safe" in kinds and len(kinds) > 1:
            line = next(l for k, l in self.m.expects if k == "safe")
            self.error((line, 1), "`expect safe` means no finding at all; it cannot stand beside "
                       + ", ".join(sorted(kinds - {"safe"})))
        if not self.m.actors and not self.diags:
            self.diags.append(Diagnostic(self.src.path, 0, 0, "the spec declares no thread or job"))

    def _guard(self, fn, *args):
        try:
            return fn(*args)
        except _Fail:
            return None

    # -- pass 1
    def _declare(self, item: Tree) -> None:
        kind = item.data.removesuffix("_decl")
        if kind in ("spec_title", "hook", "invariant", "expect", "reachable", "prime"):
            if kind == "spec_title":
                if self.m.title:
                    self.error(item, "a spec has at most one `spec` title")
                self.m.title = item.children[0][1:-1]
            return
        name_tok = item.children[0]
        name = str(name_tok)
        if name in self.decls:
            prev = self.decls[name].node
            where = f" (first declared on line {_pos(prev)[0]})" if prev is not None else " (built in)"
            self.error(name_tok, f"'{name}' is already declared{where}")
            return
        self.decls[name] = _Decl(kind, item)
        if kind == "def":
            seen = set()
            for p in item.children[1:-1]:
                if str(p) in seen:
                    self.error(p, f"'{p}' is already a parameter of '{name}'")
                seen.add(str(p))

    # -- params
    def param(self, name: str, where) -> int:
        state = self.param_state.get(name)
        if isinstance(state, int):
            return state
        if state == "busy":
            self.fail(where, f"param '{name}' is defined in terms of itself")
        if state == "bad":
            raise _Fail()
        decl = self.decls[name]
        if name in self.overrides:
            value = self.overrides[name]
        else:
            self.param_state[name] = "busy"
            try:
                value = self.const(decl.node.children[1])
            except _Fail:
                self.param_state[name] = "bad"
                raise
        self.param_state[name] = value
        self.m.params[name] = value
        return value

    # -- pass 2: objects
    def _object(self, item: Tree) -> None:
        kind = item.data
        if kind == "param_decl":
            self.param(str(item.children[0]), item)
            return
        if kind in ("thread_decl", "job_decl", "work_decl", "irq_decl"):
            self._actor_ids(item)
            return
        if kind == "workqueue_decl":
            name = str(item.children[0])
            if self.decls[name].node is item:
                self.decls[name].base = len(self.m.workqueues)
                ordered = any(isinstance(c, Token) and c.type == "ORDERED" for c in item.children)
                self.m.workqueues.append(Workqueue(name, ordered, item.meta.line))
            return
        if kind not in ("lock_decl", "resv_decl", "fence_decl", "engine_decl", "var_decl"):
            return
        name = str(item.children[0])
        decl = self.decls.get(name)
        if decl is None or decl.node is not item:
            return                              # a duplicate, already reported
        dim_nodes = [c for c in item.children if isinstance(c, Tree) and c.data == "dim"]
        decl.bad = True                         # until its elements exist
        dims = [(self.const(d.children[-2]), self.const(d.children[-1])) for d in dim_nodes]
        for (lo, hi), d in zip(dims, dim_nodes):
            if hi < lo:
                self.fail(d, f"empty range {lo}..{hi}")
        size = 1
        for lo, hi in dims:
            size *= hi - lo + 1
        if size > MAX_ELEMENTS:
            self.fail(dim_nodes[0], f"'{name}' would have {size} elements; "
                      f"at most MAX_ELEMENTS = {MAX_ELEMENTS} per array")
        self.objects += size
        if self.objects > MAX_OBJECTS:
            self.abort(item, f"'{name}' takes the spec past MAX_OBJECTS = {MAX_OBJECTS} "
                       "locks, fences, engines and vars in all")
        decl.dims = dims
        binders = [str(d.children[0]) if len(d.children) == 3 else None for d in dim_nodes]
        rest = [c for c in item.children[1:] if not (isinstance(c, Tree) and c.data == "dim")]
        table = {"lock_decl": self.m.locks, "resv_decl": self.m.locks, "fence_decl": self.m.fences,
                 "engine_decl": self.m.engines, "var_decl": self.m.vars}[kind]
        decl.base = len(table)
        for idx in (product(*[range(lo, hi + 1) for lo, hi in dims]) if dims else [()]):
            budget.tick("building the model")
            elem = name + "".join(f"[{i}]" for i in idx)
            env = {b: i for b, i in zip(binders, idx) if b}
            self.env_stack.append(env)
            try:
                table.append(self._element(kind, name, elem, item, rest))
            finally:
                self.env_stack.pop()
        decl.bad = False

    def _element(self, kind, name, elem, item, rest):
        line = item.meta.line
        if kind == "lock_decl":
            kinds = [c for c in rest if isinstance(c, Tree) and c.data == "lock_kind"]
            lk = str(kinds[0].children[0]) if kinds else "mutex"
            named = [c for c in rest if isinstance(c, Tree) and c.data == "lock_class"]
            cls = str(named[0].children[0]) if named else name
            if named:
                self._lock_class(named[0].children[0], cls, lk, name)
            return Lock(elem, lk, cls, line)
        if kind == "resv_decl":
            self.m.resvs.append(len(self.m.locks))
            return Lock(elem, "resv", "resv", line, resv=len(self.m.resvs) - 1)
        if kind == "fence_decl":
            box = [c for c in rest if isinstance(c, Tree) and c.data == "container"]
            kind = str(box[0].children[0]) if box else ""
            return Fence(elem, (), line, kind)  # `after` and parts resolved once all fences exist
        if kind == "engine_decl":
            slots = self.const(rest[0])
            if slots < 1:
                self.fail(rest[0], f"an engine needs at least one slot, not {slots}")
            return Engine(elem, slots, line)
        init, lo, hi = (self.const(e) for e in rest)
        if hi < lo:
            self.fail(rest[1], f"empty range {lo}..{hi}")
        if not lo <= init <= hi:
            self.fail(rest[0], f"initial value {init} of '{elem}' is outside its range {lo}..{hi}")
        return Var(elem, init, lo, hi, line)

    def _lock_class(self, tok, cls: str, kind: str, name: str) -> None:
        """`lock a : KIND class C` (lockdep_set_class): declarations naming one
        class share it; a class is of one kind and is not a kernel pseudo-lock."""
        if cls in PSEUDO_CLASSES:
            self.fail(tok, f"'{cls}' is a lock class of the kernel's own; name another class")
        decl = self.decls.get(cls)
        if decl is not None and decl.kind not in ("lock",):
            self.fail(tok, f"'{cls}' is declared as a {decl.kind}, not a lock class")
        for other in self.m.locks:
            if other.cls == cls and other.kind != kind:
                self.fail(tok, f"class '{cls}' is a {other.kind} class (line {other.line}); "
                          f"'{name}' is a {kind}")

    def _prime(self, item: Tree) -> None:
        """`prime A -> B -> C` / `prime default` / `prime none`: with any prime
        line, exactly the listed boot edges hold."""
        if self.m.prime is None:
            self.m.prime = []
        toks = [c for c in item.children if isinstance(c, Token)]
        if toks[0].type == "PRIME_NONE":
            return
        if toks[0].type == "PRIME_DEFAULT":
            chain = list(PRIMED_CHAIN)
            edges = list(zip(chain, chain[1:])) + [("mmap_lock", "resv_ctx"), ("resv_ctx", "resv")]
        else:
            names = [str(t) for t in toks]
            for t in toks:
                if str(t) not in PSEUDO_CLASSES and not any(l.cls == str(t) for l in self.m.locks):
                    self.fail(t, f"'{t}' is no lock class: a declared lock, its `class`, "
                              f"or one of {', '.join(sorted(PSEUDO_CLASSES))}")
            edges = list(zip(names, names[1:]))
        for e in edges:
            if e not in self.m.prime:
                self.m.prime.append(e)

    # -- pass 3: behaviour
    def _behaviour(self, item: Tree) -> None:
        kind = item.data
        if kind == "prime_decl":
            self._prime(item)
        if kind == "fence_decl":
            self._fence_deps(item)
        elif kind in ("thread_decl", "job_decl", "work_decl", "irq_decl"):
            self._actor(item)
        elif kind == "hook_decl":
            event = str(item.children[0].children[0])
            if item.children[0].data == "fence_event":
                if isinstance(item.children[2], Tree) and item.children[2].data == "copies":
                    self._fence_hook_copies(item, event)
                    return
                f = self.obj(item.children[1], ("fence",), "a fence")
                if event == "enable_signaling" and self.m.fences[f].kind:
                    self.fail(item.children[1], f"'{self.m.fences[f].name}' is a container fence: "
                              "its enable_signaling is the kernel's (it enables its parts)")
                event = self.m.fence_event(event, f)
            body = self.block(item.children[-1], in_hook=True)
            self.m.hooks.setdefault(event, []).append(body)
            self.m.hook_at.setdefault(event, (item.meta.line, item.meta.column))
        elif kind == "invariant_decl":
            name = item.children[0][1:-1]
            self.m.invariants.append((name, self.expr(item.children[1]), item.meta.line))
        elif kind == "reachable_decl":
            name = item.children[0][1:-1]
            if any(n == name for n, _e, _l in self.m.reachables):
                self.fail(item.children[0], f'reachable "{name}" is already declared')
            self.m.reachables.append((name, self.expr(item.children[1]), item.meta.line))
        elif kind == "expect_decl":
            self._expect(item.children[0])

    def _fence_deps(self, item: Tree) -> None:
        name = str(item.children[0])
        decl = self.decls.get(name)
        if decl is None or decl.node is not item:
            return
        refs = [c for c in item.children if isinstance(c, Tree) and c.data == "ref"]
        if not refs:
            return
        if any(isinstance(c, Tree) and c.data == "container" for c in item.children):
            self._parts(decl, refs)
            return
        dim_nodes = [c for c in item.children if isinstance(c, Tree) and c.data == "dim"]
        binders = [str(d.children[0]) if len(d.children) == 3 else None for d in dim_nodes]
        for n, idx in enumerate(product(*[range(lo, hi + 1) for lo, hi in decl.dims]) if decl.dims else [()]):
            self.env_stack.append({b: i for b, i in zip(binders, idx) if b})
            try:
                deps = []
                for r in refs:
                    fid = self._guard(self.obj, r, ("fence",), "a fence")
                    if fid is not None:
                        if fid == decl.base + n:
                            self.error(r, f"fence '{self.m.fences[fid].name}' cannot come after itself")
                        deps.append(fid)
                f = self.m.fences[decl.base + n]
                self.m.fences[decl.base + n] = Fence(f.name, tuple(deps), f.line)
            finally:
                self.env_stack.pop()

    def _fence_hook_copies(self, item: Tree, kind: str) -> None:
        """`on signal f[i in a..b] { }`: one hook per element of a fence
        array, i a constant in each (as in an actor's copies)."""
        name, copies = item.children[1], item.children[2]
        decl = self.decls.get(str(name))
        if decl is None:
            self.fail(name, f"'{name}' is not declared" + _hint(str(name), self.decls))
        if decl.kind != "fence" or len(decl.dims) != 1:
            self.fail(name, f"'{name}' must be a one-dimensional fence array here")
        var = str(copies.children[0])
        lo, hi = self.const(copies.children[1]), self.const(copies.children[2])
        (dlo, dhi), = decl.dims
        if not dlo <= lo <= hi <= dhi:
            self.fail(copies, f"{lo}..{hi} is not a non-empty part of '{name}' ({dlo}..{dhi})")
        for i in range(lo, hi + 1):
            f = decl.base + i - dlo
            event = self.m.fence_event(kind, f)
            self.env_stack.append({var: i})
            try:
                body = self.block(item.children[-1], in_hook=True)
            finally:
                self.env_stack.pop()
            self.m.hooks.setdefault(event, []).append(body)
            self.m.hook_at.setdefault(event, (item.meta.line, item.meta.column))

    def _parts(self, decl: _Decl, refs: list) -> None:
        """A container's parts; a whole array stands for all its elements."""
        parts = []
        for r in refs:
            d = self.decls.get(str(r.children[0]))
            if d is not None and d.kind == "fence" and d.dims and len(r.children) == 1:
                n = 1
                for lo, hi in d.dims:
                    n *= hi - lo + 1
                ids = list(range(d.base, d.base + n))
            else:
                fid = self._guard(self.obj, r, ("fence",), "a fence")
                ids = [] if fid is None else [fid]
            for fid in ids:
                if fid == decl.base or decl.base in self._guard_parts(fid):
                    self.error(r, f"container fence '{self.m.fences[decl.base].name}' cannot "
                               "contain itself")
                elif fid in parts:
                    self.error(r, f"'{self.m.fences[fid].name}' is already a part")
                else:
                    parts.append(fid)
        f = self.m.fences[decl.base]
        self.m.fences[decl.base] = Fence(f.name, (), f.line, f.kind, tuple(parts))

    def _guard_parts(self, f: int, seen=None) -> set:
        """f's parts, transitively, as far as they are resolved yet."""
        seen = set() if seen is None else seen
        for p in self.m.fences[f].parts:
            if p not in seen:
                seen.add(p)
                self._guard_parts(p, seen)
        return seen

    def _actor_ids(self, item: Tree) -> None:
        """Pass 2: give every actor (and copy) its id before any body is
        read, so done(T) resolves whatever the order of declarations."""
        name = str(item.children[0])
        decl = self.decls.get(name)
        if decl is None or decl.node is not item:
            return
        copies = item.children[1] if isinstance(item.children[1], Tree) and \
            item.children[1].data == "copies" else None
        if copies is not None:
            decl.bad = True
            lo, hi = self.const(copies.children[1]), self.const(copies.children[2])
            if hi < lo:
                self.fail(copies, f"empty range {lo}..{hi}")
            if hi - lo + 1 > MAX_COPIES:
                self.fail(copies, f"{hi - lo + 1} copies of '{name}'; at most MAX_COPIES = {MAX_COPIES}")
            decl.dims = [(lo, hi)]
            decl.bad = False
        decl.base = len(self.m.actors)
        count = decl.dims[0][1] - decl.dims[0][0] + 1 if decl.dims else 1
        if decl.base + count > MAX_ACTORS:
            self.abort(item, f"'{name}' takes the spec past MAX_ACTORS = {MAX_ACTORS} "
                       "threads and jobs in all, copies counted")
        self.m.actors.extend([None] * count)
        decl.ready = True

    def _actor(self, item: Tree) -> None:
        name = str(item.children[0])
        decl = self.decls.get(name)
        if decl is None or decl.node is not item or not decl.ready:
            return
        rest = item.children[1:]
        if isinstance(rest[0], Tree) and rest[0].data == "copies":
            var = str(rest[0].children[0])
            rest = rest[1:]
            indices = [(var, i) for i in range(decl.dims[0][0], decl.dims[0][1] + 1)]
        else:
            indices = [(None, None)]
        for n, (var, i) in enumerate(indices):
            self.env_stack.append({var: i} if var else {})
            try:
                actor_name = name if var is None else f"{name}[{i}]"
                if item.data == "job_decl":
                    engine = self._guard(self.obj, rest[0], ("engine",), "an engine")
                    preemptible = any(isinstance(c, Token) and c.type == "PREEMPTIBLE" for c in rest)
                    deps = [c for c in rest if isinstance(c, Tree) and c.data == "job_deps"]
                    deps = tuple(self.obj(r, ("fence",), "a fence")
                                 for r in (deps[0].children if deps else ()))
                    body = self.block(rest[-1])
                    actor = Actor(actor_name, "job", body, item.meta.line,
                                  engine if engine is not None else -1, preemptible, deps=deps)
                elif item.data == "work_decl":
                    wq = self._guard(self.obj, rest[0], ("workqueue",), "a workqueue")
                    actor = Actor(actor_name, "work", self.block(rest[-1]), item.meta.line,
                                  wq=wq if wq is not None else -1)
                elif item.data == "irq_decl":
                    actor = Actor(actor_name, "irq", self.block(rest[-1]), item.meta.line)
                else:
                    actor = Actor(actor_name, "thread", self.block(rest[-1]), item.meta.line)
                self.m.actors[decl.base + n] = actor
            finally:
                self.env_stack.pop()

    def _expect(self, tok: Token) -> None:
        """Kinds are separated by blanks (spaces, tabs...) or commas."""
        words = tok[len("expect"):]
        found = False
        for m in re.finditer(r"[^\s,]+", words):
            found = True
            part = m.group()
            at = (tok.line, tok.column + len("expect") + m.start())
            if part not in EXPECT_KINDS:
                self.error(at, f"unknown finding kind '{part}'; expected one of "
                           + ", ".join(EXPECT_KINDS))
            else:
                self.m.expects.append((part, tok.line))
        if not found:
            self.error((tok.line, tok.column + len(tok)), "expected a finding kind after `expect`")

    # -- statements
    def block(self, node: Tree, in_hook: bool = False) -> tuple:
        out = []
        for st in node.children:
            s = self._guard(self.stmt, st, in_hook)
            if isinstance(s, tuple):           # a constant `if`, already decided
                out.extend(s)
            elif s is not None:
                out.append(s)
        return tuple(out)

    def stmt(self, node: Tree, in_hook: bool) -> Stmt:
        budget.tick("building the model")
        self.statements += 1
        if self.statements > MAX_STATEMENTS:
            self.abort(node, f"the spec passes MAX_STATEMENTS = {MAX_STATEMENTS} statements "
                       "in all actors and hooks, copies counted")
        op = node.data.removesuffix("_stmt")
        line, text = node.meta.line, self.text_of(node)
        ch = node.children
        toks = {c.type for c in ch if isinstance(c, Token)}
        refs = [c for c in ch if isinstance(c, Tree) and c.data == "ref"]
        blocks = [c for c in ch if isinstance(c, Tree) and c.data == "block"]

        usage = [c for c in ch if isinstance(c, Tree) and c.data == "usage"]
        usage = str(usage[0].children[0].children[0]) if usage else ""
        if usage:
            self.m.uses_usage = True
        if self.calls:                         # a def's statement: where it was called from
            name, call = self.calls[-1]
            text += f"  (in {name}(), called on line {_pos(call)[0]})"

        def S(op, objs=(), mode="", expr=None, bodies=()):
            return Stmt(op, line, text, tuple(objs), mode, expr, tuple(bodies), node.meta.column,
                        usage, self.source_of(node))

        if op == "ww":
            if self.in_ww:
                self.fail(node, "`ww` blocks do not nest: one acquire context at a time")
            self.in_ww = True
            try:
                body = self.block(blocks[0], in_hook)
            finally:
                self.in_ww = False
            self.m.uses_ww = True
            return S(op, bodies=[body])
        if op in ("lock", "unlock", "trylock"):
            shared = "SHARED" in toks
            ids = [self.obj(r, ("lock", "resv"), "a lock") for r in refs]
            kinds = {self.m.locks[i].kind for i in ids}
            if "NESTED" in toks:
                if len(ids) > 1 or kinds == {"resv"}:
                    self.fail(node, "`lock L nested` takes one mutex, spinlock or rwsem; "
                              "several resvs are taken in a `ww { }` block")
                return S(op, ids, "nested")
            if shared and kinds != {"rwsem"}:
                self.fail(node, f"`{op} ... shared` needs an rwsem")
            if len(ids) > 1 and kinds != {"resv"}:
                self.fail(refs[1], f"`{op} A, B` takes resv objects in one ww context; "
                          "take other locks one by one")
            if len(set(ids)) != len(ids):
                self.fail(node, "the same lock appears twice")
            irq = "IRQSAVE" in toks or "IRQRESTORE" in toks
            if irq and kinds != {"spinlock"}:
                word = "irqsave" if op == "lock" else "irqrestore"
                self.fail(node, f"`{op} ... {word}` is spin_{op}_{word}: it needs a spinlock, "
                          f"and '{self.m.locks[ids[0]].name}' is "
                          f"{_article(self.m.locks[ids[0]].kind)}")
            bodies = [self.block(blocks[0], in_hook)] if op == "trylock" else []
            return S(op, ids, "shared" if shared else "irqsave" if irq else "", bodies=bodies)
        if op == "signal":
            f = self.obj(refs[0], ("fence",), "a fence")
            if self.m.fences[f].kind:
                self.fail(refs[0], f"'{self.m.fences[f].name}' is a container fence "
                          f"({self.m.fences[f].kind}(...)): it signals by itself when its parts do")
            return S(op, [f], "error" if "ERROR" in toks else "")
        if op == "wait":
            mode = "timeout" if "TIMEOUT" in toks else "interruptible" if "INTERRUPTIBLE" in toks else ""
            bodies = [self.block(blocks[0], in_hook)] if blocks else []
            if usage and ("ANY" in toks or self._kind_of(refs[0]) != "resv"):
                self.fail(node, "`wait ... usage` needs a resv: it waits for that resv's "
                          "fences of a usage")
            if "ANY" in toks:
                return S("wait_any", (), mode, bodies=bodies)
            kind = self._kind_of(refs[0])
            if kind == "resv":
                return S("wait_resv", [self.obj(refs[0], ("resv",), "a fence or a resv")], mode, bodies=bodies)
            return S("wait_fence", [self.obj(refs[0], ("fence",), "a fence or a resv")], mode, bodies=bodies)
        if op == "publish":
            fid = self.obj(refs[0], ("fence",), "a fence")
            if len(refs) > 1:
                rid = self.obj(refs[1], ("resv",), "a resv")
                return S("publish_in", [fid, rid])
            return S("publish", [fid])
        if op == "signalling":
            return S(op, bodies=[self.block(blocks[0], in_hook)])
        if op == "alloc":
            return S(op, mode=str(ch[0].children[0]))
        if op in ("fault", "fork", "munmap", "interrupt", "end_interrupt"):
            return S({"interrupt": "interrupt_waits", "end_interrupt": "end_interrupt_waits"}.get(op, op))
        if op in ("acquire", "release"):
            return S(op, [self.obj(refs[0], ("engine",), "an engine")])
        if op in ("flush_work", "flush_workqueue"):
            self.m.uses_flush = True
        if op in ("queue_work", "flush_work", "cancel_work_sync"):
            return S(op, [self.obj(refs[0], ("work",), "a work item")])
        if op == "flush_workqueue":
            return S(op, [self.obj(refs[0], ("workqueue",), "a workqueue")])
        if op in ("noreclaim", "nofs", "noio"):        # memalloc_*_save() .. _restore()
            return S(op, bodies=[self.block(blocks[0], in_hook)])
        if op == "assign":
            vid = self.obj(refs[0], ("var",), "a var")
            return S(op, [vid], expr=self.expr(ch[1]))
        if op in ("await", "assert"):
            return S(op, expr=self.expr(ch[0]))
        if op == "if":
            cond = self.expr(ch[0])
            if cond[0] == "int":               # params and copy indices: decided now,
                if cond[1]:                    # and the other branch is never resolved
                    return self.block(ch[1], in_hook)
                if len(ch) < 3:
                    return ()
                return self._else(ch[2], in_hook)
            then = self.block(ch[1], in_hook)
            other = ()
            if len(ch) > 2:
                other = self._else(ch[2], in_hook)
            return S(op, expr=cond, bodies=[then, other])
        if op == "while":
            cond = self.expr(ch[0])
            if cond == ("int", 0):
                return ()
            return S(op, expr=cond, bodies=[self.block(ch[1], in_hook)])
        if op == "choose":
            return S(op, bodies=[self.block(b, in_hook) for b in blocks])
        if op == "restart":
            if in_hook:
                self.fail(node, "`restart` restarts an actor; a hook can only `return`")
            return S(op)
        if op == "return":
            return S(op)
        if op == "call":
            return S(op, bodies=[self._call(node, in_hook)])
        if op == "for":
            return self._for(node, in_hook)
        self.fail(node, f"unknown statement {op}")           # pragma: no cover

    def _call(self, node: Tree, in_hook: bool) -> tuple:
        """Inline a `def`: its body, built with the parameters bound to the
        arguments (objects, or integer expressions read in the caller)."""
        name_tok, args = node.children[0], node.children[1:]
        name = str(name_tok)
        decl = self.decls.get(name)
        if decl is None:
            self.fail(name_tok, f"'{name}' is not declared" + _hint(name, self.decls))
        if decl.kind != "def":
            self.fail(name_tok, f"'{name}' is {_article(decl.kind)}; only a def can be called")
        params = [str(p) for p in decl.node.children[1:-1]]
        if len(args) != len(params):
            self.fail(node, f"'{name}' takes {len(params)} argument(s), not {len(args)}")
        chain = [c for c, _ in self.calls]
        if name in chain:
            cycle = " -> ".join(chain[chain.index(name):] + [name])
            self.fail(name_tok, f"recursive call ({cycle}): a def is inlined at each call, "
                      "so it cannot call itself")
        self.inlined += 1
        if self.inlined > MAX_INLINED:
            self.fail(node, f"more than {MAX_INLINED} calls to inline")
        env = {p: self._arg(a) for p, a in zip(params, args)}
        saved, self.env_stack = self.env_stack, [env]    # the body sees its parameters only
        self.calls.append((name, node))
        try:
            return self.block(decl.node.children[-1], in_hook)
        finally:
            self.calls.pop()
            self.env_stack = saved

    def _arg(self, node: Tree):
        """What a def parameter stands for: an object named by the argument,
        or the argument's integer value."""
        if node.data == "ref":
            name = str(node.children[0])
            b = self._bound(name)
            idx = tuple(self.const(e) for e in node.children[1:]) if b is None or \
                isinstance(b, _Obj) else ()
            if isinstance(b, _Obj):
                return _Obj(b.name, b.idx + idx, node)
            decl = self.decls.get(name)
            if b is None and decl is not None and decl.kind not in ("param", "def"):
                return _Obj(name, idx, node)
        return _Val(self.expr(node))

    def _for(self, node: Tree, in_hook: bool) -> tuple:
        """`for k in a..b { body }`: the body once per value, k a constant."""
        var, lo_node, hi_node, body = node.children
        bounds = []
        for e in (lo_node, hi_node):
            v = self.expr(e)
            if v[0] != "int":
                self.fail(e, "a `for` range must be constant (numbers, params, copy and "
                          "`for` indices); it is unrolled when the model is built")
            bounds.append(v[1])
        lo, hi = bounds
        if hi - lo + 1 > MAX_UNROLLED:
            self.fail(node, f"{hi - lo + 1} iterations; a `for` unrolls at most {MAX_UNROLLED}")
        out = []
        for k in range(lo, hi + 1):
            self.env_stack.append({str(var): k})
            try:
                out.extend(self.block(body, in_hook))
            finally:
                self.env_stack.pop()
        return tuple(out)

    def _bound(self, name: str):
        """The binding of a name in scope (an index value, or a def parameter)."""
        for env in reversed(self.env_stack):
            if name in env:
                return env[name]
        return None

    def _else(self, node: Tree, in_hook: bool) -> tuple:
        """The else part: a block, or the `if` of an `else if`."""
        if node.data == "block":
            return self.block(node, in_hook)
        s = self._guard(self.stmt, node, in_hook)
        return s if isinstance(s, tuple) else (s,) if s is not None else ()

    def source_of(self, node: Tree) -> str:
        """The statement as written (its first line)."""
        m = node.meta
        line = self.src.line(m.line)
        return (line[m.column - 1:m.end_column - 1] if m.end_line == m.line
                else line[m.column - 1:]).strip()

    def text_of(self, node: Tree) -> str:
        """The statement as written, with copy indices, `for` variables and
        object parameters of a `def` replaced by what they stand for here
        (`await sw_sig[2] == 1`, not `sw_sig[i]`): every trace row names the
        real object."""
        m = node.meta
        line = self.src.line(m.line)
        if m.end_line == m.line:
            text = line[m.column - 1:m.end_column - 1].strip()
        else:
            text = line[m.column - 1:].strip()
        return _INDEX.sub(_fold_index, _IDENT.sub(self._substitute, text))

    def _substitute(self, match) -> str:
        word = match.group(0)
        b = self._bound(word)
        if isinstance(b, bool) or b is None:
            return word
        if isinstance(b, int):
            return str(b)
        if isinstance(b, _Obj):
            return b.name + "".join(f"[{i}]" for i in b.idx)
        return word

    # -- references and expressions
    def _target(self, ref: Tree):
        """(declared name, its _Decl or None, indices given by a call, the
        argument node) of a reference, following a def parameter to the
        object it stands for."""
        name = str(ref.children[0])
        b = self._bound(name)
        if isinstance(b, _Obj):
            return b.name, self.decls.get(b.name), b.idx, b.node
        return name, self.decls.get(name), (), None

    def _kind_of(self, ref: Tree) -> Optional[str]:
        _, d, _, _ = self._target(ref)
        return d.kind if d else None

    def obj(self, ref: Tree, kinds: tuple, what: str) -> int:
        """Resolve a reference to an object id of one of `kinds`."""
        name, decl, pre, arg = self._target(ref)
        b = self._bound(str(ref.children[0]))
        if isinstance(b, _Val):
            self.fail(ref, f"'{ref.children[0]}' stands for a number here, but {what} is needed")
        if decl is None:
            self.fail(ref, f"'{name}' is not declared" + _hint(name, self.decls))
        if decl.bad:                            # refused already: one error is enough
            raise _Fail()
        if b is not None and arg is None:
            self.fail(ref, f"'{name}' is an index here and hides the {decl.kind} of that name")
        if decl.kind not in kinds:
            if arg is not None:          # a call passed the wrong kind of object: say so there
                self.fail(arg, f"'{name}' is {_article(decl.kind)}, but {what} is needed for "
                          f"'{ref.children[0]}' (`{self.text_of_line(ref)}`, line {_pos(ref)[0]})")
            self.fail(ref, f"'{name}' is {_article(decl.kind)}, but {what} is needed here")
        idx = list(pre) + [self.const(e) for e in ref.children[1:]]
        if len(idx) != len(decl.dims):
            self.fail(arg if arg is not None and not ref.children[1:] else ref,
                      f"'{name}' has {len(decl.dims)} index(es), not {len(idx)}")
        nodes = [arg] * len(pre) + list(ref.children[1:])
        off = 0
        for i, ((lo, hi), e) in enumerate(zip(decl.dims, nodes)):
            if not lo <= idx[i] <= hi:
                self.fail(e, f"index {idx[i]} is out of range for '{name}' ({lo}..{hi})")
            off = off * (hi - lo + 1) + (idx[i] - lo)
        return decl.base + off

    def text_of_line(self, node) -> str:
        return self.src.line(_pos(node)[0]).strip()

    def actors_of(self, ref: Tree) -> tuple:
        name, decl, pre, arg = self._target(ref)
        if isinstance(self._bound(str(ref.children[0])), _Val):
            self.fail(ref, f"'{ref.children[0]}' stands for a number here, but done() needs "
                      "a thread or job")
        if decl is None:
            self.fail(ref, f"'{name}' is not declared" + _hint(name, self.decls))
        if decl.bad:
            raise _Fail()
        if decl.kind not in ("thread", "job", "irq"):
            self.fail(arg if arg is not None else ref,
                      f"'{name}' is {_article(decl.kind)}, but done() needs a thread or job")
        if len(ref.children) == 1 and not pre:
            n = (decl.dims[0][1] - decl.dims[0][0] + 1) if decl.dims else 1
            return tuple(range(decl.base, decl.base + n))
        return (self.obj(ref, (decl.kind,), "a thread or job"),)

    def _bounded(self, node, e: tuple) -> tuple:
        """Constants stay within MAX_INT, so every value fits the packed
        state and prints as a number."""
        if e[0] == "int" and abs(e[1]) > MAX_INT:
            self.fail(node, f"constant out of range: constants are at most MAX_INT = {MAX_INT} "
                      "in magnitude")
        return e

    def const(self, node) -> int:
        e = self.expr(node)
        if e[0] != "int":
            self.fail(node, "must be a constant here (params, numbers and copy indices only)")
        return e[1]

    def expr(self, node) -> tuple:
        d = node.data
        ch = node.children
        if d == "number":
            if len(ch[0]) > MAX_INT_DIGITS:     # before int(): no conversion of a digit bomb
                self.fail(node, f"integer literal of {len(ch[0])} digits; constants are at most "
                          f"MAX_INT = {MAX_INT}")
            return self._bounded(node, ("int", int(ch[0])))
        if d == "true_lit":
            return ("int", 1)
        if d == "false_lit":
            return ("int", 0)
        if d == "ref":
            name = str(ch[0])
            b = self._bound(name)
            if isinstance(b, (int, _Val)):
                if len(ch) > 1:
                    self.fail(node, f"'{name}' is " + ("a copy index" if isinstance(b, int)
                                                       else "a number") + ", not an array")
                return ("int", b) if isinstance(b, int) else b.expr
            if isinstance(b, _Obj):
                name = b.name
            decl = self.decls.get(name)
            if decl is None:
                self.fail(node, f"'{name}' is not declared" + _hint(name, self.decls))
            if decl.kind == "param":
                if len(ch) > 1:
                    self.fail(node, f"'{name}' is a param, not an array")
                return ("int", self.param(name, node))
            if decl.kind == "var":
                return ("var", self.obj(node, ("var",), "a var"))
            self.fail(node, f"'{name}' is {_article(decl.kind)}; only vars, params and "
                      "predicates such as signalled(F) have a value")
        if d == "call":
            pred = str(ch[0].children[0])
            ref = ch[1]
            if pred in ("signalled", "errored", "published"):
                return (pred, self.obj(ref, ("fence",), "a fence"))
            if pred == "held":
                return (pred, self.obj(ref, ("lock", "resv"), "a lock"))
            if pred in ("pending", "running"):
                return (pred, self.obj(ref, ("work",), "a work item"))
            return (pred, self.actors_of(ref))
        if d == "not_op":
            return _fold(("not", self.expr(ch[0])))
        if d == "neg":
            return self._bounded(node, _fold(("neg", self.expr(ch[0]))))
        if d in ("or_expr", "and_expr"):
            return _fold((d[:-5], [self.expr(c) for c in ch]))
        if d in ("cmp_expr", "sum_expr", "prod_expr"):
            acc = self.expr(ch[0])
            for i in range(1, len(ch), 2):
                op = str(ch[i].children[0])
                rhs = self.expr(ch[i + 1])
                if op in ("/", "%") and rhs == ("int", 0):
                    self.fail(ch[i + 1], "division by zero")
                acc = self._bounded(node, _fold(("bin", op, acc, rhs)))
            return acc
        self.fail(node, f"unexpected expression {d}")     # pragma: no cover


def hook_event(st: Stmt) -> Optional[str]:
    """The event whose hooks a statement runs inline, if any."""
    if st.op == "alloc":
        return "reclaim" if st.mode in RECLAIMING_GFP else None
    return st.op if st.op in ("fork", "munmap", "fault") else None


def _pos(where) -> tuple[int, int]:
    if isinstance(where, tuple):
        return where
    if isinstance(where, Token):
        return where.line, where.column
    if isinstance(where, Tree) and not where.meta.empty:
        return where.meta.line, where.meta.column
    return 0, 0


def _article(kind: str) -> str:
    word = {"resv": "resv", "param": "param", "var": "var", "job": "job",
            "work": "work item"}.get(kind, kind)
    return ("an " if word[0] in "aeiou" else "a ") + word


def _hint(name: str, decls: dict) -> str:
    import difflib
    close = difflib.get_close_matches(name, list(decls), n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""


def cdiv(a: int, b: int) -> int:
    """C division (truncates toward zero), as in the kernel."""
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b >= 0) else -q


def cmod(a: int, b: int) -> int:
    return a - b * cdiv(a, b)


BINOPS = {
    "+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b,
    "/": cdiv, "%": cmod,
    "==": lambda a, b: int(a == b), "!=": lambda a, b: int(a != b),
    "<": lambda a, b: int(a < b), "<=": lambda a, b: int(a <= b),
    ">": lambda a, b: int(a > b), ">=": lambda a, b: int(a >= b),
}


def _fold(e: tuple) -> tuple:
    """Constant-fold, so indices and params are plain ints."""
    tag = e[0]
    if tag == "not" and e[1][0] == "int":
        return ("int", int(not e[1][1]))
    if tag == "neg" and e[1][0] == "int":
        return ("int", -e[1][1])
    if tag in ("and", "or") and all(x[0] == "int" for x in e[1]):
        vals = [bool(x[1]) for x in e[1]]
        return ("int", int(all(vals) if tag == "and" else any(vals)))
    if tag == "bin" and e[2][0] == "int" and e[3][0] == "int":
        if e[1] in ("/", "%") and e[3][1] == 0:
            return e
        return ("int", BINOPS[e[1]](e[2][1], e[3][1]))
    return e


def build(tree: Tree, source: Source, params: Optional[dict] = None) -> Model:
    return Builder(source, params).build(tree)
