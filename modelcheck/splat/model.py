"""`Report` -> `.fspec` text: one lock per class, one actor per context
that created a dependency of the reported chain, boot edges as `prime`.

How lockdep's chain reads (kernel/locking/lockdep.c, print_circular_bug()):
the entry `-> #i (C)` carries the stack that recorded the dependency
`class(#i-1) -> C`; `#0` is the lock being acquired, and the task holds the
class of the highest entry, so the task's own acquisition is the dependency
`class(#N) -> class(#0)` that closes the cycle.  Each dependency becomes an
actor that takes the held class, then the new one, with the construct the
language has for it:

| class | held (around the rest) | taken |
|---|---|---|
| a lock | `lock L` / `lock L shared` / `lock L nested` | the same, then `unlock` |
| `dma_fence_map` | `signalling { ... signal job_fence }` | `wait job_fence` |
| `fs_reclaim` | `alloc kernel` entering `on reclaim { ... }` | `alloc kernel` |
| `mmu_notifier_invalidate_range_start` | `munmap` entering `on munmap { ... }` | `alloc nofs` (`alloc kernel` after `fs_reclaim`) |
| `reservation_ww_class_mutex` | `lock bo` | `lock bo` (`bo2` under another resv) |
| `reservation_ww_class_acquire` | `ww { ... }` | `ww { }` |
| `&mm->mmap_lock` / `mmap_sem` | `lock mmap_lock [shared]` | the same |
| `(work_completion)(W)` | the actor is `work W on WQ` | `flush_work W` / `cancel_work_sync W` |
| `(wq_completion)Q` | the actor is a work item on `Q` | `flush_workqueue Q` |

The task's own actor takes every lock its "locks held by" list shows, in
that order; those above the lock lockdep names as held were trylocks
(check_prevs_add() walks down through trylocks only), and are written so.
Dependencies whose stack runs through dma_resv_lockdep() were primed at
boot: they become `prime` lines, exactly as the report shows them.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from . import parse as P

FENCE = "job_fence"

# what each kernel pseudo-lock is called in the model
PSEUDO = {"dma_fence_map": "dma_fence_map", "fs_reclaim": "fs_reclaim",
          "mmu_notifier_invalidate_range_start": "mmu_notifier",
          "reservation_ww_class_mutex": "resv", "reservation_ww_class_acquire": "resv_ctx"}
_MMAP = re.compile(r"^&mm->mmap_(?:lock|sem)(?:#\d+)?$")
_WORK = re.compile(r"^\(work_completion\)(?P<w>.+)$")
_WQ = re.compile(r"^\(wq_completion\)(?P<q>.+)$")
_SUB = re.compile(r"^(?P<base>.+)/(?P<sub>\d+)$")

# stack frames that say how, not who: skipped when naming an actor
_MACHINERY = re.compile(
    r"^(?:_*lock_acquire|lock_acquired|_*mutex_lock\w*|_*ww_mutex_lock\w*|_*raw_\w+|_*spin_lock\w*|"
    r"_*down_(?:read|write)\w*|_*up_\w+|_*dma_fence_might_wait|dma_fence_wait\w*|dma_resv_wait\w*|"
    r"dma_resv_lock\w*|_*fs_reclaim_acquire|slab_\w+|_*kmem_cache_alloc\w*|_*kmalloc\w*|kzalloc\w*|"
    r"kvmalloc\w*|kmalloc_trace|might_alloc|_*alloc_pages\w*|_*folio_alloc|_*might_fault|might_sleep|"
    r"__might_resched|__might_sleep|_*flush_work\w*|_*cancel_\w*work\w*|_*flush_workqueue|drain_workqueue|"
    r"start_flush_work|dump_\w+|show_stack|check_\w+|print_\w+|validate_chain|mark_\w+|lockdep_\w+|"
    r"lock_map_acquire\w*|do_raw_\w+|queued_\w+|rt_mutex\w*|__rt_mutex\w*|rwsem_\w+|__rwsem\w*|"
    r"down_\w+|kthread|ret_from_fork\w*|worker_thread|process_one_work|mmap_(?:read|write)_lock\w*|"
    r"console_lock|ttm_bo_reserve\w*|__ttm_bo_reserve|drm_gem_lock\w*|dma_resv_lockdep|el\w+_svc\w*|"
    r"\w+_sys_\w+|do_syscall_\w+|entry_\w+|invoke_syscall|x64_sys_call|el0\w+|do_el0_\w+|"
    r"dma_fence_begin_signalling|dma_fence_end_signalling)$")
_SUFFIX = re.compile(r"\.(?:part|constprop|isra|cold|llvm)(?:\.\d+)?.*$")
_READ_FRAMES = re.compile(r"^(?:_*down_read\w*|mmap_read_lock\w*|_*might_fault|lock_mm_and_find_vma|"
                          r"do_user_addr_fault|do_page_fault|_*get_user_pages\w*|_raw_read_lock\w*|"
                          r"lock_map_acquire_read)$")
_SPIN_FRAMES = re.compile(r"^_*raw_spin_lock\w*|^_*spin_lock\w*")
_RWSEM_FRAMES = re.compile(r"^_*down_(?:read|write)\w*")
_WAIT_FRAMES = re.compile(r"^(?:_*dma_fence_might_wait|dma_fence_wait\w*|dma_resv_wait\w*)$")
_SIGNALLING_FRAMES = re.compile(r"^dma_fence_begin_signalling$")
_CANCEL_FRAMES = re.compile(r"^_*cancel_\w*work\w*$")
_BOOT = "dma_resv_lockdep"


class Unsupported(ValueError):
    """The report says something the language cannot (yet) say."""


@dataclass
class Spec:
    text: str
    names: dict                    # model class -> the report's class name
    warnings: list = field(default_factory=list)
    trylocks: list = field(default_factory=list)   # (report class, actor): held by trylock
    primed: list = field(default_factory=list)     # (report class, report class) boot edges


def ident(kernel: str) -> str:
    """A spec name for a kernel class: `&a6xx_gpu->gmu.lock` -> `a6xx_gpu_gmu_lock`."""
    s = re.sub(r"[^A-Za-z0-9]+", "_", kernel).strip("_") or "lock"
    if s[0].isdigit():
        s = "l_" + s
    return s


def _fn(frame: str) -> str:
    return _SUFFIX.sub("", frame)


def who(frames: list, fallback: str) -> str:
    """An actor's name: the first stack frame that is not locking or
    allocation machinery (the function that wanted the lock)."""
    for f in frames:
        f = _fn(f)
        if not _MACHINERY.match(f):
            return ident(f)
    return ident(fallback)


class _Builder:
    def __init__(self, report: P.Report):
        self.r = report
        self.locks: dict[str, tuple[str, str]] = {}   # spec name -> (kind, kernel class)
        self.lock_of: dict[str, str] = {}             # kernel class -> spec name
        self.resvs: list[str] = []
        self.queues: dict[str, str] = {}              # spec name -> kernel class
        self.works: dict[str, tuple[str, str]] = {}   # spec name -> (queue, kernel class)
        self.work_bodies: dict[str, list] = {}
        self.actors: list[tuple[str, list, list]] = []  # (name, comment lines, body lines)
        self.hooks: list[tuple[str, list, str]] = []    # (event, body, comment)
        self.names: dict[str, str] = {}                 # model class -> report class
        self.fence = False
        self.signals = False
        self.warnings: list[str] = []
        self.trylocks: list = []
        self.primed: list = []
        # the model's own names: built-ins, pseudo-locks, the fence, the resvs, placeholders
        self.used_names: set[str] = {"mmap_lock", FENCE, "nobody", "signaller", "wq", *PSEUDO.values(),
                                     "bo", *(f"bo{k}" for k in range(2, 10))}
        self.fork = False                               # an MMU notifier held by fork(), not munmap()
        self.frames_of: dict[str, list] = {}            # kernel class -> every stack that takes it
        for e in report.chain:
            self.frames_of.setdefault(e.cls, []).extend(e.frames)
        if report.trying:
            self.frames_of.setdefault(report.trying.cls, []).extend(report.backtrace)

    # -- declarations ---------------------------------------------------------------

    def unique(self, name: str) -> str:
        base, k = name, 2
        while name in self.used_names:
            name = f"{base}_{k}"
            k += 1
        self.used_names.add(name)
        return name

    def lock(self, cls: str, frames: list, wait: str) -> tuple[str, str]:
        """(spec lock, modifier) for an ordinary kernel class."""
        m = _SUB.match(cls)
        base, sub = (m.group("base"), int(m.group("sub"))) if m else (cls, 0)
        if base not in self.lock_of:
            kind = "mutex"
            frames = list(frames) + self.frames_of.get(base, []) + self.frames_of.get(cls, [])
            if any(_SPIN_FRAMES.match(f) for f in frames) or wait in ("2:2", "1:1"):
                kind = "spinlock"
            elif any(_RWSEM_FRAMES.match(f) for f in frames):
                kind = "rwsem"
            name = self.unique(ident(base))
            self.lock_of[base] = name
            self.locks[name] = (kind, base)
            self.names[name] = base
        name = self.lock_of[base]
        if sub:
            self.names[f"{name}/1"] = cls
            return name, " nested"
        read = any(_READ_FRAMES.match(f) for f in frames) and self.locks[name][0] == "rwsem"
        return name, " shared" if read else ""

    def queue(self, kernel: str | None) -> str:
        """The workqueue of a `(wq_completion)` class; None: the one for work
        items whose queue the report does not show."""
        for name, k in self.queues.items():
            if k == kernel:
                return name
        name = "wq" if kernel is None else self.unique(ident(kernel))
        self.queues[name] = kernel
        self.names[f"(wq_completion){name}"] = f"(wq_completion){kernel or name}"
        return name

    def work(self, kernel: str, queue: str | None) -> str:
        for name, (q, k) in self.works.items():
            if k == kernel:
                return name
        name = self.unique(ident(kernel))
        q = queue or self.queue(None)
        self.works[name] = (q, kernel)
        self.names[f"(work_completion)({name})"] = f"(work_completion){kernel}"
        return name

    def resv(self, k: int) -> str:
        while len(self.resvs) <= k:
            self.resvs.append("bo" if not self.resvs else f"bo{len(self.resvs) + 1}")
        return self.resvs[k]

    # -- what one acquisition reads as ------------------------------------------------

    def kind(self, cls: str) -> str:
        if cls in PSEUDO:
            self.names[PSEUDO[cls]] = cls
            return PSEUDO[cls]
        if _MMAP.match(cls):
            self.names["mmap_lock"] = cls
            return "mmap_lock"
        if _WORK.match(cls):
            return "work"
        if _WQ.match(cls):
            return "wq"
        return "lock"

    def nest(self, held: list, leaf: tuple | None, context: dict) -> list[str]:
        """Body lines for: take each of `held` [(class, frames, wait, trylock)]
        in order, keep them, take `leaf`, release all.  Reclaim and munmap
        hooks get the rest of the nest as their body."""
        if not held:
            return self.take(*leaf, context) if leaf else []
        (cls, frames, wait, trylock), rest = held[0], held[1:]
        k = self.kind(cls)
        inner = lambda: self.nest(rest, leaf, context)        # noqa: E731
        if k == "lock":
            name, mod = self.lock(cls, frames, wait)
            if trylock:
                self.trylocks.append((cls, context))
                open_ = f"trylock {name}{mod} else {{ return }}"
            else:
                open_ = f"lock {name}{mod}"
            return [open_] + inner() + [f"unlock {name}{' shared' if mod == ' shared' else ''}"]
        if k == "mmap_lock":
            read = any(_READ_FRAMES.match(f) for f in frames) or context.get("read_mmap")
            mod = " shared" if read else ""
            return [f"lock mmap_lock{mod}"] + inner() + [f"unlock mmap_lock{mod}"]
        if k == "resv":
            if context.get("in_ww"):
                bo = self.resv(context.setdefault("resv", 0))
                context["resv"] += 1
                return [f"lock {bo}"] + inner() + [f"unlock {bo}"]
            bo = self.resv(context.get("resv", 0))
            context["resv"] = context.get("resv", 0) + 1
            return [f"lock {bo}"] + inner() + [f"unlock {bo}"]
        if k == "resv_ctx":
            if context.get("in_ww"):                   # one acquire context at a time
                self.warnings.append(f"{cls} held twice in {context['actor']}: one ww block")
                return inner()
            context["in_ww"] = True
            return ["ww {"] + _indent(inner()) + ["}"]
        if k == "dma_fence_map":
            self.fence = self.signals = True
            return ["signalling {"] + _indent(inner() + [f"signal {FENCE}"]) + ["}"]
        if k == "fs_reclaim":
            self.hooks.append(("reclaim", inner(), context["actor"]))
            return ["alloc kernel"]
        if k == "mmu_notifier":
            event = "fork" if self.fork else "munmap"
            self.hooks.append((event, inner(), context["actor"]))
            return [event]
        if k in ("work", "wq"):
            # only the outermost context can be a work item; further in, it is not expressible
            if context.get("outer"):
                m = _WORK.match(cls) or _WQ.match(cls)
                if k == "wq":
                    context["queue"] = self.queue(m.group("q"))
                    return inner()
                context["work"] = self.work(m.group("w"), context.get("queue"))
                return inner()
            self.warnings.append(f"{cls} held inside another context: left out of {context['actor']}")
            return inner()
        raise AssertionError(k)

    def take(self, cls: str, frames: list, wait: str, context: dict) -> list[str]:
        k = self.kind(cls)
        if k == "lock":
            name, mod = self.lock(cls, frames, wait)
            return [f"lock {name}{mod}", f"unlock {name}{' shared' if mod == ' shared' else ''}"]
        if k == "mmap_lock":
            mod = " shared" if any(_READ_FRAMES.match(f) for f in frames) else ""
            return [f"lock mmap_lock{mod}", f"unlock mmap_lock{mod}"]
        if k == "resv":
            bo = self.resv(context.get("resv", 0))
            return [f"lock {bo}", f"unlock {bo}"]
        if k == "resv_ctx":
            return [] if context.get("in_ww") else ["ww { }"]
        if k == "dma_fence_map":
            self.fence = True
            if any(_SIGNALLING_FRAMES.match(f) for f in frames) and \
                    not any(_WAIT_FRAMES.match(f) for f in frames):
                self.warnings.append(f"{context['actor']} enters a signalling section (a read of "
                                     "dma_fence_map), which the model records no dependency for")
                self.signals = True
                return ["signalling {", f"    signal {FENCE}", "}"]
            return [f"wait {FENCE}"]
        if k == "fs_reclaim":
            return ["alloc kernel"]
        if k == "mmu_notifier":
            return ["alloc kernel" if context.get("after") == "fs_reclaim" else "alloc nofs"]
        if k == "work":
            w = self.work(_WORK.match(cls).group("w"), None)
            verb = "cancel_work_sync" if any(_CANCEL_FRAMES.match(_fn(f)) for f in frames) else "flush_work"
            return [f"{verb} {w}"]
        if k == "wq":
            return [f"flush_workqueue {self.queue(_WQ.match(cls).group('q'))}"]
        raise AssertionError(k)

    def actor(self, name: str, comment: list, held: list, leaf: tuple | None) -> None:
        context = {"actor": name, "outer": True}
        if held and self.kind(held[0][0]) == "fs_reclaim" and leaf and self.kind(leaf[0]) == "mmu_notifier":
            context["after"] = "fs_reclaim"            # the allocation itself records both
            held = []
        body = self._nest_outer(held, leaf, context)
        if "queue" in context and "work" not in context:
            context["work"] = self.work(name, context["queue"])
        if "work" in context:
            self.work_bodies[context["work"]] = (comment, body)
        else:
            self.actors.append((name, comment, body))

    def _nest_outer(self, held, leaf, context):
        """The work-item classes first (process_one_work() takes them
        outermost: they make the actor a work item), then the rest."""
        rest = []
        for h in held:
            if self.kind(h[0]) in ("wq", "work") and not rest:
                self.nest([h], None, context)
            else:
                rest.append(h)
        context["outer"] = False
        return self.nest(rest, leaf, context)


def _indent(lines: list[str]) -> list[str]:
    return ["    " + ln for ln in lines]


def _cite(report: P.Report, e: P.Entry) -> str:
    return f"lines {e.line}-{e.last}" if e.last and e.last != e.line else f"line {e.line}"


def generate(report: P.Report, source: str = "") -> Spec:
    """The spec for a parsed report (a skeleton when parts are missing)."""
    b = _Builder(report)
    if report.kind == P.CIRCULAR:
        _circular(b, report)
    elif report.kind == P.RECURSIVE:
        _recursive(b, report)
    elif report.kind == P.INCONSISTENT:
        _inconsistent(b, report)
    elif report.kind == P.INVERSION:
        _inversion(b, report)
    else:
        _sleeping(b, report)
    trylocks = [(cls, ctx.get("work") or ctx["actor"]) for cls, ctx in b.trylocks]
    return Spec(_render(b, report, source), b.names,
                b.warnings + [f"the report lacks {m}" for m in report.missing], trylocks, b.primed)


def _held_chain(b: _Builder, report: P.Report, upto: P.Lock | None) -> list:
    """The task's held locks, in order.  In a circular report the ones above
    the lock lockdep names as held were trylocks (check_prevs_add() walks
    down past trylocks only); a recursive report names the held lock of the
    same class wherever it is (check_deadlock() looks at all of them)."""
    held = report.held
    if not held:
        return [(upto.cls, [upto.at], upto.wait, False)] if upto else []
    idx = None
    if upto:
        for i in range(len(held) - 1, -1, -1):
            if held[i].cls == upto.cls:
                idx = i
                break
    if upto and idx is None:
        return [(h.cls, [h.at], h.wait, False) for h in held] + [(upto.cls, [upto.at], upto.wait, False)]
    out = []
    for i, h in enumerate(held):
        above = idx is not None and i > idx and report.kind == P.CIRCULAR
        out.append((h.cls, [h.at], h.wait, above and b.kind(h.cls) == "lock"))
    return out


_FORK = re.compile(r"^(?:copy_process|dup_mmap|copy_page_range|kernel_clone)$")


def _address_space(b: _Builder, held: list) -> list:
    """An MMU notifier held under mmap_lock is fork() or munmap(), which take
    mmap_lock themselves: the mmap_lock entries before it go (the child's
    `mmap_lock/1` of fork has no object in the model), and the notifier
    becomes `fork` when the stacks say copy_process."""
    idx = next((i for i, h in enumerate(held) if b.kind(h[0]) == "mmu_notifier"), None)
    out = []
    for i, h in enumerate(held):
        if idx is not None and i < idx and (_MMAP.match(_SUB.sub(r"\g<base>", h[0]))):
            continue
        if _MMAP.match(_SUB.sub(r"\g<base>", h[0])) and _SUB.match(h[0]):
            b.warnings.append(f"{h[0]} (another mm's mmap_lock) has no object in the model: left out")
            continue
        out.append(h)
    if idx is not None and any(_FORK.match(_fn(f)) for h in held for f in h[1]):
        b.fork = True
    return out


def _circular(b: _Builder, r: P.Report) -> None:
    chain = sorted(r.chain, key=lambda e: e.n)            # #0 first
    by_n = {e.n: e for e in chain}
    top = max(by_n) if by_n else None
    # the dependencies class(#i-1) -> class(#i), i >= 1
    for e in sorted(chain, key=lambda e: -e.n):
        if e.n == 0:
            continue
        prev = by_n.get(e.n - 1)
        if prev is None:
            b.warnings.append(f"-> #{e.n} ({e.cls}): the entry below it is missing; its holder is unknown")
            continue
        if e.boot:
            b.primed.append((prev.cls, e.cls))
            continue
        name = b.unique(who(e.frames, e.cls))
        comment = [f"-> #{e.n} ({e.cls}), report {_cite(r, e)}: takes {e.cls} holding {prev.cls}"]
        b.actor(name, comment, [(prev.cls, prev.frames, "", False)], (e.cls, e.frames, ""))
    # the task: holding class(#N) (and what its held list shows), taking #0
    trying = r.trying or (P.Lock(by_n[0].cls) if 0 in by_n else None)
    holding = r.holding or (P.Lock(by_n[top].cls) if top is not None else None)
    if trying is None or holding is None:
        return
    frames = by_n[0].frames if 0 in by_n else r.backtrace
    name = b.unique(who(frames, r.task.split("/")[0] or trying.cls))
    first = [f"the task {r.task}: takes {trying.cls} holding {holding.cls}, report line "
             f"{trying.line}" + (f", -> #0 {_cite(r, by_n[0])}" if 0 in by_n else "")]
    if r.held:
        first.append(f"held locks as listed at lines {r.held[0].line}-{r.held[-1].line}")
    b.actor(name, first, _address_space(b, _held_chain(b, r, holding)), (trying.cls, frames, trying.wait))


def _recursive(b: _Builder, r: P.Report) -> None:
    trying, holding = r.trying, r.holding
    if trying is None and holding is None:
        return
    trying = trying or holding
    name = b.unique(who(r.backtrace, r.task.split("/")[0] or trying.cls))
    comment = [f"the task {r.task}: takes {trying.cls} holding {holding.cls if holding else '?'}, "
               f"report line {trying.line}"]
    b.actor(name, comment, _held_chain(b, r, holding), (trying.cls, r.backtrace, trying.wait))


def _inconsistent(b: _Builder, r: P.Report) -> None:
    """{IN-HARDIRQ-W} -> {HARDIRQ-ON-W}: a handler and a task with interrupts
    on.  Softirq usage reads the same way (a handler that lands in a task
    holding the lock); the old {IN-RECLAIM_FS-W} -> {RECLAIM_FS-ON-W} is the
    lock taken in reclaim and held across an allocation."""
    if r.trying is None:
        return
    lk = r.trying
    states = " -> ".join(r.states) or "?"
    name = b.unique(ident(lk.cls))
    b.lock_of[lk.cls] = name
    b.names[name] = lk.cls
    task = b.unique(who(r.backtrace, r.task.split("/")[0] or "task"))
    if any("RECLAIM" in st for st in r.states):
        b.locks[name] = ("mutex", lk.cls)
        b.hooks.append(("reclaim", [f"lock {name}", f"unlock {name}"], f"reclaim ({r.states[0]})"))
        b.actors.append((task, [f"the task {r.task}: {states} at report line {lk.line}"],
                         [f"lock {name}", "alloc kernel", f"unlock {name}"]))
        return
    if not any("HARDIRQ" in st for st in r.states):
        b.warnings.append(f"usage {states}: a softirq is modelled as an irq handler (the model has "
                          "hard-irq handlers only); the finding names HARDIRQ states")
    b.locks[name] = ("spinlock", lk.cls)
    irq = b.unique(who(r.registered, "handler"))
    b.hooks.append(("irq " + irq, [f"lock {name}", f"unlock {name}"],
                    f"{r.states[0] if r.states else 'IN-HARDIRQ'}: the usage registered first"))
    b.actors.append((task, [f"the task {r.task}: {states} at report line {lk.line}"],
                     [f"lock {name}", f"unlock {name}"]))


def _inversion(b: _Builder, r: P.Report) -> None:
    """The lock that "just changed state" is taken in the handler (or in
    reclaim); it depends on the other, "unsafe" one, taken with interrupts
    on (or held across an allocation) elsewhere.  ("was taken by another,
    safe lock" reads the other way round.)"""
    if r.trying is None or r.other is None:
        return
    a, o = r.trying, r.other
    reclaim = r.states == ["RECLAIM_FS"]
    for lk in (a, o):
        n = b.unique(ident(lk.cls))
        b.locks[n] = ("mutex" if reclaim else "spinlock", lk.cls)
        b.lock_of[lk.cls] = n
        b.names[n] = lk.cls
    safe, unsafe = (b.lock_of[a.cls], b.lock_of[o.cls]) if r.unsafe else (b.lock_of[o.cls], b.lock_of[a.cls])
    if reclaim:
        b.hooks.append(("reclaim", [f"lock {safe}", f"unlock {safe}"], "reclaim (the safe lock)"))
        b.actors.append((b.unique("nests"), ["the reclaim-safe lock, then the unsafe one"],
                         [f"lock {safe}", f"lock {unsafe}", f"unlock {unsafe}", f"unlock {safe}"]))
        b.actors.append((b.unique(who(r.backtrace, "task")), ["the unsafe lock held across an allocation"],
                         [f"lock {unsafe}", "alloc kernel", f"unlock {unsafe}"]))
        return
    if r.states and r.states != ["HARDIRQ"]:
        b.warnings.append(f"{r.states[0]}: a softirq is modelled as an irq handler (the model has "
                          "hard-irq handlers only)")
    irq = b.unique("handler")
    b.hooks.append(("irq " + irq, [f"lock {safe}", f"unlock {safe}"], "takes the irq-safe lock"))
    b.actors.append((b.unique("nests"), ["the irq-safe lock, then the irq-unsafe one (irqs off)"],
                     [f"lock {safe} irqsave", f"lock {unsafe}", f"unlock {unsafe}", f"unlock {safe} irqrestore"]))
    b.actors.append((b.unique(who(r.backtrace, "task")), ["the irq-unsafe lock with interrupts on"],
                     [f"lock {unsafe}", f"unlock {unsafe}"]))


def _sleeping(b: _Builder, r: P.Report) -> None:
    name = b.unique(who(r.backtrace, r.task.split("/")[0] or "task"))
    what = "alloc kernel"
    if any(_WAIT_FRAMES.match(_fn(f)) for f in r.backtrace):
        what = f"wait {FENCE}"
        b.fence = True
    elif any(re.match(r"^_*mutex_lock", _fn(f)) for f in r.backtrace):
        what = "lock sleeping_mutex"
        b.locks["sleeping_mutex"] = ("mutex", "the mutex in the call trace")
    held = [(h.cls, [h.at], h.wait, False) for h in r.held if b.kind(h.cls) == "lock"]
    context = {"actor": name}
    body = b.nest(held, None, context)
    if not any(b.locks[b.lock_of[h[0]]][0] == "spinlock" for h in held if _SUB.sub(r"\g<base>", h[0]) in b.lock_of):
        b.warnings.append("no spinlock among the held locks: the atomic context (preempt or irqs off, "
                          "rcu) is not modelled; the skeleton takes the held locks as spinlocks")
        for h in held:
            n = b.lock_of.get(h[0])
            if n:
                b.locks[n] = ("spinlock", b.locks[n][1])
    k = len(body) // 2
    body = body[:k] + [what] + body[k:]
    if what.startswith("lock "):
        body.insert(k + 1, "unlock sleeping_mutex")
    b.actors.append((name, [f"the task {r.task}: might sleep at {r.at}"], body))


def _render(b: _Builder, r: P.Report, source: str) -> str:
    out = [f"# Generated by `modelcheck splat` from {source or 'a kernel log'}: {r.kind}"
           + (f", task {r.task}" if r.task else "") + f", report lines {r.line}-{max(r.end, r.line)}.",
           "# A skeleton of what the report shows: every actor is one context that created a",
           "# dependency of the chain; the rest of the driver is not here."]
    for m in r.missing:
        out.append(f"# MISSING from the report: {m}")
    out.append(f'spec "{_title(r)}"')
    out.append("")
    if r.kind == P.CIRCULAR:
        if b.primed:
            for frm, to in _chains(b.primed):
                out.append(f"prime {' -> '.join(_model_name(b, c) for c in [frm] + to)}"
                           f"    # recorded at boot by dma_resv_lockdep(), as the report shows it")
        else:
            out.append("prime none    # the report shows no dependency recorded at boot")
    for name, (kind, kernel) in b.locks.items():
        out.append(f"lock {name} : {kind}    # {kernel}")
    for bo in b.resvs:
        out.append(f"resv {bo}    # reservation_ww_class_mutex")
    if b.fence:
        out.append(f"fence {FENCE}    # the fence the signalling sections signal and the waits wait for")
    for q, kernel in b.queues.items():
        out.append(f"workqueue {q}    # " + (f"(wq_completion){kernel}" if kernel else "the report shows no queue"))
    out.append("")
    for w, (q, kernel) in b.works.items():
        comment, body = b.work_bodies.get(w, ([f"(work_completion){kernel}"], []))
        for c in comment:
            out.append(f"# {c}")
        out.append(f"work {w} on {q} {{" + ("" if body else " }"))
        if body:
            out.extend(_indent(body))
            out.append("}")
        out.append(f"thread queue_{w} {{ queue_work {w} }}    # whoever queues it")
        out.append("")
    for name, comment, body in b.actors:
        for c in comment:
            out.append(f"# {c}")
        out.append(f"thread {name} {{")
        out.extend(_indent(body))
        out.append("}")
        out.append("")
    if not b.actors and not b.works and not any(e.startswith("irq ") for e, _, _ in b.hooks):
        out.append("thread nobody { }    # the report shows no context that took a lock")
        out.append("")
    if b.fence and not b.signals:
        out.append(f"thread signaller {{ signalling {{ signal {FENCE} }} }}    # whoever signals it")
        out.append("")
    for event, body, why in b.hooks:
        head = event if event.startswith("irq ") else f"on {event}"
        out.append(f"# {why}" if event.startswith("irq ") else f"# entered from {why}")
        out.append(f"{head} {{")
        out.extend(_indent(body))
        out.append("}")
        out.append("")
    return "\n".join(out).rstrip() + "\n"


def _title(r: P.Report) -> str:
    """A spec string has no escapes: the task's name loses its quotes."""
    return f"{r.kind}" + (f" ({r.task.replace(chr(34), '')})" if r.task else "")


def _model_name(b: _Builder, cls: str) -> str:
    k = b.kind(cls)
    if k == "lock":
        return b.lock(cls, [], "")[0]
    if k in ("work", "wq"):
        return cls
    return k


def _chains(edges: list) -> list:
    """Boot edges joined into chains: [(a, [b, c])] for a -> b -> c."""
    out: list = []
    for frm, to in edges:
        for c in out:
            if c[1][-1] == frm:
                c[1].append(to)
                break
        else:
            out.append((frm, [to]))
    return out
