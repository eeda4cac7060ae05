"""Results -> one self-contained HTML page: per spec its verdict, the
counterexample tables and an SVG sequence diagram of each trace.

The diagram has one lifeline per actor, the steps top to bottom (each box
names its statement, so the locks and fences it touches, and its effect),
the actors stuck at the end in red, and the wait-for chain at the end drawn
as arrows between lifelines: red where it closes a cycle, grey otherwise.
The SVG is written with drawsvg (see README); every piece of spec text goes
through `printable` and is escaped, in the HTML by `html.escape` and in the
SVG by drawsvg itself.
"""
from __future__ import annotations

import html
import os
import textwrap
from dataclasses import dataclass

import drawsvg as dw

from . import report
from ..api import Result
from ..language.errors import printable
from ..verdicts.coverage import places_count
from ..verdicts.trace import Finding

ROW, TOP, GUTTER, CHAR = 40, 56, 90, 7.5      # px: separator row, header, left column, char width
WRAP, STMT = 30, 56                            # chars: effects wrap at, box text clipped at
RED, GREY, INK = "#c0392b", "#7f8c8d", "#222"
BAR, LANE = 9, 110                             # px: a lock-held bar, a fence lane
FONT = "DejaVu Sans Mono, Menlo, Consolas, monospace"


@dataclass(frozen=True)
class Edge:
    waiter: str
    target: str
    label: str
    cycle: bool           # part of the cycle that closes the chain


def wait_edges(chain: str, actors: list[str]) -> list[Edge]:
    """A wait-for chain as `trace.waits_for` words it, back into edges:
    `a waits bo → held by b → b waits f → only a signals f → back to a: a cycle`
    -> a→b ("a waits bo → held by b") and b→a, both in the cycle."""
    nodes, closing = [], None                   # [(actor, [what it waits for])]
    for seg in chain.split(" → "):
        if seg.startswith("back to ") and seg.endswith(": a cycle"):
            closing = seg[len("back to "):-len(": a cycle")]
            break
        # "w waits to write first" (writer preference) says why the reader
        # before it waits: the arrow goes from that reader to the queued writer
        name = next((a for a in actors if seg.startswith(a + " waits ")
                     and seg != a + " waits to write first"), None)
        end = next((a for a in actors if seg in (a + " has finished", a + " can still move")), None)
        if name is not None:
            nodes.append((name, [seg[len(name + " waits "):]]))
        elif end is not None:                   # the chain ends at an actor that is not stuck
            nodes.append((end, []))
            break
        elif nodes:
            nodes[-1][1].append(seg)
    targets = [n for n, _ in nodes[1:]] + ([closing] if closing else [])
    names = [n for n, _ in nodes]
    start = names.index(closing) if closing in names else len(nodes)   # where the cycle begins
    return [Edge(a, t, f"{a} waits " + " → ".join(what), i >= start)
            for i, ((a, what), t) in enumerate(zip(nodes, targets))]


def _actors(f) -> tuple[list[str], list[str]]:
    """(the lifelines, the actors folded away).  The members of the wait-for
    cycle come first, then the others that take a step or are stuck; an
    actor with no step in this trace gets no lifeline."""
    names = list(f.final_state.get("actors", {}))
    for s in f.trace + f.then + f.blocked:
        if s.actor not in names:
            names.append(s.actor)
    edges = [e for c in f.waits_for for e in wait_edges(c, names)]
    cycle = [e.waiter for e in edges if e.cycle]
    busy = {s.actor for s in f.trace + f.then}
    busy |= {a for e in edges for a in (e.waiter, e.target)}
    if not cycle:                  # no cycle to show: every stuck actor is the story
        busy |= {s.actor for s in f.blocked}
    shown = list(dict.fromkeys(cycle + [a for a in names if a in busy]))
    return shown, [a for a in names if a not in busy]


def _spans(rows: list, actors: list) -> tuple[list, list, dict]:
    """From the steps' effects: lock-held spans [(actor, lock, first row, last
    row or None)], hook frames [(actor, what, first row, last row or None)],
    and per fence its events [(row, "published" | "signalled" | ...)]."""
    locks, frames, fences = [], [], {}
    open_locks, open_frames = {}, {}
    for i, row in enumerate(rows):
        if row == "then":
            continue
        for s, n, _lines in row:
            if n == "-":
                continue
            for part in _t(s.effect).split("; "):
                words = part.split()
                if len(words) >= 2 and words[0] == "takes" and words[1] not in ("a", "branch"):
                    open_locks[(s.actor, words[1])] = len(locks)
                    locks.append([s.actor, words[1], i, None])
                elif len(words) >= 2 and words[0] == "releases":
                    k = open_locks.pop((s.actor, words[1]), None)
                    if k is not None:
                        locks[k][3] = i
                elif part == "enters reclaim" or part == "enters the fault handler" or \
                        (part.startswith("runs the ") and part.endswith(" hooks")):
                    what = {"enters reclaim": "in reclaim", "enters the fault handler":
                            "in the fault handler"}.get(part) or \
                        f"in the {part[len('runs the '):-len(' hooks')]} notifier"
                    open_frames.setdefault(s.actor, []).append(len(frames))
                    frames.append([s.actor, what, i + 1, None])
                elif part.startswith("publishes ") or " += " in part:
                    fence = words[-1]
                    fences.setdefault(fence, []).append((i, "published" + (
                        f" in {words[0]}" if " += " in part else "")))
                elif words and words[0] == "signals" and len(words) >= 2:
                    fences.setdefault(words[1], []).append(
                        (i, "signalled" + (" (error)" if "error" in part else "")))
            if "(leaving the " in _t(s.statement) and open_frames.get(s.actor):
                frames[open_frames[s.actor].pop()][3] = i
    return locks, frames, fences


def _t(s) -> str:
    return printable(str(s))


def _lines(s, stuck: bool, wrap: int) -> list[str]:
    """A step box's text: the statement, then the effect wrapped to `wrap`."""
    what = f"line {s.line}: {_t(s.statement)}" if stuck else _t(s.statement)
    effect = textwrap.wrap(_t(s.effect), wrap, break_long_words=False, break_on_hyphens=False)
    if len(effect) > 3:
        effect = effect[:2] + [effect[2] + " …"]          # at most three lines; "…" marks the cut
    return [_clip(what, STMT)] + [_clip(e, STMT) for e in effect]


def _height(lines: list[str]) -> float:
    return 14 * len(lines) + 12


def diagram(f, base: str, ident: str = "d") -> dw.Drawing:
    """The sequence diagram of one finding; `ident` prefixes its element ids,
    which must be unique in a page of several diagrams."""
    actors, folded = _actors(f)
    stmt = {a: 0 for a in actors}
    for s in f.trace + f.then:
        stmt[s.actor] = max(stmt[s.actor], len(_t(s.statement)))
    blocked = [s for s in f.blocked if s.actor in stmt]
    for s in blocked:
        stmt[s.actor] = max(stmt[s.actor], len(f"line {s.line}: {_t(s.statement)}"))
    wrap = {a: max(WRAP, min(stmt[a], STMT)) for a in actors}   # effects wrap at this width
    rows = [[(s, s.step, _lines(s, False, wrap[s.actor]))] for s in f.trace]
    if f.then:
        rows.append("then")
        rows += [[(s, s.step, _lines(s, False, wrap[s.actor]))] for s in f.then]
    if blocked:
        rows.append([(s, "-", _lines(s, True, wrap[s.actor])) for s in blocked])
    rows = [row if row == "then" else [c for c in row if c[0].actor in actors] for row in rows]
    locks, frames, fences = _spans(rows, actors)
    depth = {a: 0 for a in actors}                       # lock bars side by side, right of the boxes
    for k, (a, _l, i, j) in enumerate(locks):
        depth[a] = max(depth[a], 1 + sum(1 for b, _m, i2, j2 in locks[:k] if b == a and
                                           (j2 is None or j2 >= i)))
    width = {a: 140.0 for a in actors}
    for row in rows:
        for s, _n, lines in ([] if row == "then" else row):
            width[s.actor] = max(width[s.actor], max(map(len, lines)) * CHAR + 24)
    x, left = {}, GUTTER
    for a in actors:
        x[a] = left + width[a] / 2
        left += width[a] + 16 + BAR * depth[a]
    lanes, lane_w = {}, {}
    for name in fences:                                   # one lane per fence that changes
        lane_w[name] = max(LANE, len(_t(name)) * 7 + 60)
        lanes[name] = left + lane_w[name] / 2
        left += lane_w[name]
    edges = [e for c in f.waits_for for e in wait_edges(c, actors)]
    heights = [ROW if row == "then" else max([_height(l) for _s, _n, l in row] or [ROW - 6]) + 6
               for row in rows]
    tops = [TOP + sum(heights[:i]) for i in range(len(rows))]
    height = TOP + sum(heights) + len(edges) * 34 + 30 + (24 if folded else 0) + (20 if fences else 0)
    right = left + 10
    for e in edges:                                       # room for the arrows' labels
        start = x[e.waiter] + width[e.waiter] / 2 if e.waiter == e.target else min(x[e.waiter], x[e.target]) + 14
        right = max(right, start + len(_clip(_t(e.label), 80)) * 6.8 + 10)
    d = dw.Drawing(right, height, id_prefix=ident, font_family=FONT, font_size=12)
    d.append(dw.Rectangle(0, 0, right, height, fill="white"))
    arrow = {c: dw.Marker(-0.1, -0.5, 1, 0.5, scale=8, orient="auto") for c in (RED, GREY)}
    for c, m in arrow.items():
        m.append(dw.Lines(-0.1, -0.5, -0.1, 0.5, 0.9, 0, fill=c, close=True))
    for a in actors:                                      # lifelines with their heads
        d.append(dw.Line(x[a], TOP - 8, x[a], height - 20, stroke=GREY, stroke_dasharray="4 4"))
        d.append(dw.Rectangle(x[a] - width[a] / 2, 8, width[a], 30, rx=4, fill="#eef2f7", stroke=INK))
        d.append(dw.Text(_t(a), 13, x[a], 28, text_anchor="middle", font_weight="bold", fill=INK))
    d.append(dw.Text("step", 11, 8, 28, fill=GREY))
    d.append(dw.Text("line", 11, 42, 28, fill=GREY))
    last = len(rows) - 1
    slot = {}
    for a, lock, i, j in locks:                           # lock-held spans: activation bars
        k = slot.get(a, 0)
        slot[a] = k + 1
        bx = x[a] + width[a] / 2 - 2 + BAR * (1 + (k % max(depth[a], 1)))
        y0 = tops[i] + 10
        y1 = (tops[j] + heights[j] - 10) if j is not None else height - 24 - len(edges) * 34
        g = dw.Group(class_="held")
        g.append(dw.Rectangle(bx - 3, y0, 6, max(y1 - y0, 6), fill="#f5cba7" if j is not None else "#e59866",
                              stroke="#a04000", stroke_width=0.8))
        g.append(dw.Text(f"{lock} held", 9, bx + 5, y0 + 2, fill="#a04000",
                         transform=f"rotate(90 {bx + 5} {y0 + 2})"))
        g.append(dw.Title(f"{a} holds {lock}" + ("" if j is not None else " to the end")))
        d.append(g)
    end = TOP + sum(heights) + 6
    finals = f.final_state.get("fences", {})
    for name, lx in lanes.items():                        # fence lanes
        d.append(dw.Line(lx, TOP - 8, lx, end + 8, stroke="#2471a3", stroke_dasharray="2 3"))
        w = lane_w[name]
        d.append(dw.Rectangle(lx - w / 2 + 6, 8, w - 12, 30, rx=12, fill="#eaf2f8", stroke="#2471a3"))
        d.append(dw.Text(f"fence {_t(name)}", 11, lx, 27, text_anchor="middle", fill="#2471a3"))
        for i, what in fences[name]:
            cy = tops[i] + heights[i] / 2
            signalled = what.startswith("signalled")
            d.append(dw.Circle(lx, cy, 5, fill="#1e8449" if signalled else "white",
                               stroke="#1e8449" if signalled else "#2471a3", stroke_width=2))
            d.append(dw.Text(what, 9, lx, cy + 15, text_anchor="middle", fill=INK))
        state = _t(finals.get(name, ""))
        if state.startswith("unsignalled"):
            d.append(dw.Text("never signalled", 10, lx, end + 20, text_anchor="middle", fill=RED,
                             font_weight="bold", class_="never"))
    y = TOP
    for row, h in zip(rows, heights):
        if row == "then":
            note = "no path avoids the deadlock from here; one way on:" if f.trace else \
                "certain from the initial state; one way on:"
            d.append(dw.Line(GUTTER - 10, y + h / 2, left, y + h / 2, stroke=RED, stroke_dasharray="6 3"))
            d.append(dw.Text(note, 11, GUTTER, y + h / 2 - 4, fill=RED))
        else:
            for s, n, lines in row:
                d.append(_box(s, n, lines, x[s.actor], width[s.actor] - 8, y, h - 6))
        y += h
    for a, what, i, j in frames:                          # hook frames: a box around their steps
        if i > last:
            continue
        y0, y1 = tops[i], tops[last if j is None else j] + heights[last if j is None else j]
        w = width[a] + 6
        g = dw.Group(class_="frame")
        g.append(dw.Rectangle(x[a] - w / 2, y0 - 4, w, y1 - y0 + 4, rx=6, fill="none",
                              stroke="#8e44ad", stroke_width=1.5, stroke_dasharray="5 3"))
        g.append(_label(what, 10, x[a] - w / 2 + 8, y0 + 3, "#8e44ad"))
        d.append(g)
    for e in edges:                                       # the wait-for chain at the end
        colour = RED if e.cycle else GREY
        y += 34
        x1, x2 = x[e.waiter], x[e.target]
        if x1 == x2:                                      # waits for itself: a loop
            w = width[e.waiter] / 2 - 6
            d.append(dw.Path(stroke=colour, fill="none", stroke_width=2, marker_end=arrow[colour])
                     .M(x1, y - 22).h(w).v(14).H(x1 + 6))
            d.append(_label(_clip(_t(e.label), 80), 11, x1 + w + 6, y - 12, colour))
        else:
            d.append(dw.Line(x1, y, x2 + (-6 if x2 > x1 else 6), y, stroke=colour, stroke_width=2,
                             marker_end=arrow[colour]))
            d.append(_label(_clip(_t(e.label), 80), 11, min(x1, x2) + 14, y - 6, colour))
    if folded:
        d.append(dw.Text(f"not drawn (no step here, or blocked outside the cycle): {', '.join(map(_t, folded))}", 11, 8,
                         height - 10, fill=GREY))
    return d


def _box(s, n, lines: list[str], cx: float, w: float, y: float, h: float) -> dw.Group:
    """One step on its lifeline; the stuck actors at the end (n == "-") in red."""
    stuck = n == "-"
    g = dw.Group(class_="stuck" if stuck else "step")
    g.append(dw.Rectangle(cx - w / 2, y + 2, w, h, rx=4, fill="#fdecea" if stuck else "#fdfdfd",
                          stroke=RED if stuck else INK))
    g.append(dw.Text(lines[0], 12, cx, y + 16, text_anchor="middle", fill=INK, font_weight="bold"))
    for i, line in enumerate(lines[1:]):
        g.append(dw.Text(line, 11, cx, y + 30 + 14 * i, text_anchor="middle",
                         fill=RED if stuck else "#34495e"))
    g.append(dw.Text(str(n), 11, 8, y + 20, fill=INK))
    if not stuck:
        g.append(dw.Text(str(s.line) if s.line else "-", 11, 42, y + 20, fill=INK))
    return g


def _label(text: str, size: int, x: float, y: float, colour: str) -> dw.Group:
    """Text on a white ground, readable where it crosses lifelines and frames."""
    g = dw.Group()
    g.append(dw.Rectangle(x - 2, y - size + 1, len(text) * size * 0.61 + 4, size + 3, fill="white",
                          fill_opacity=0.9))
    g.append(dw.Text(text, size, x, y, fill=colour))
    return g


def _clip(s: str, n: int) -> str:
    return s if len(s) <= n else s[: n - 1] + "…"


def _svg(d: dw.Drawing) -> str:
    svg = d.as_svg()
    return svg[svg.index("<svg"):]


_CSS = """
body { font-family: system-ui, sans-serif; margin: 2em; color: #222; }
h2 { border-bottom: 1px solid #ccc; padding-bottom: .2em; }
.ok { color: #1e8449; } .FAIL { color: #c0392b; }
table { border-collapse: collapse; font-family: monospace; font-size: 13px; margin: .5em 0; }
td, th { border: 1px solid #ddd; padding: 2px 8px; text-align: left; }
tr.blocked td { background: #fdecea; } tr.note td { color: #c0392b; font-style: italic; }
pre { background: #f6f8fa; padding: .5em; }
.diagram { margin: 1em 0 2em; }
.diagram svg { max-width: 100%; height: auto; }   /* a wide spec scales to the page, no scrolling */
"""


def page(results: list[Result], errors: list = ()) -> str:
    """The whole report as one HTML document (no external resources);
    `errors` are the SpecErrors of the files with bad input."""
    e = lambda s: html.escape(printable(str(s)))
    ok, n = sum(r.ok for r in results), 0
    out = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
           "<title>modelcheck report</title>", f"<style>{_CSS}</style></head><body>",
           "<h1>modelcheck report</h1>", f"<p>{ok} of {len(results)} specs as expected"
           + (f"; {len(errors)} with bad input" if errors else "") + ".</p>"]
    for err in errors:
        path = err.diagnostics[0].path if err.diagnostics else "?"
        out.append(f'<h2><span class="FAIL">bad input</span> {e(_rel(path))}</h2>'
                   f"<pre>{html.escape(str(err))}</pre>")
    for r in results:
        verdict = "ok" if r.ok else "FAIL"
        st = r.stats
        found = ", ".join(sorted(r.kinds)) or ("safe" if r.complete else "nothing so far")
        cov = r.coverage
        if cov and cov.missed and r.complete and not r.kinds:
            found = f"safe, but over code that never ran ({places_count(len(cov.missed))}, see coverage)"
        out.append(f'<h2><span class="{verdict}">{verdict}</span> {e(_rel(r.path))}'
                   + (f" ({e(r.title)})" if r.title else "") + "</h2>")
        params = ", ".join(f"{k}={v}" for k, v in r.params.items())
        out.append(f"<p>found: {e(found)}<br>expected: {e(', '.join(sorted(r.expected)) or 'safe')}<br>"
                   f"searched: {st.states} states, {st.transitions} transitions, depth {st.depth}, "
                   f"{st.seconds:.2f} s" + (f"<br>params: {e(params)}" if params else "") + "</p>")
        if not r.complete:
            out.append(f"<p class=\"FAIL\">INCOMPLETE: {e(r.stopped)}; the findings below are what "
                       "was found so far, and no absence of others is claimed</p>")
        if r.lock_order:
            out.append(f"<p>{e(r.lock_order.words())}</p>")
        if cov and not cov.missed:
            out.append(f"<p>{e(cov.lines()[0])}</p>")
        elif cov:
            out.append(f'<p class="{"FAIL" if not r.kinds else ""}">{e(cov.lines()[0])}:</p><ul>'
                       + "".join(f"<li>line {l}: {e(w)} <code>{e(t)}</code></li>"
                                 for l, _c, w, t in cov.missed) + "</ul>")
        base = os.path.basename(r.path)
        for f in r.findings:
            out.append(f"<h3>{e(f.kind)}: {e(f.message)}</h3>")
            if f.kind == "lock-order":        # the chain, then each edge's own shortest trace
                out.append("<p>the existing dependency chain:</p><ul>"
                           + "".join(f"<li>{e(x.words())}</li>" for x in f.cycle) + "</ul>")
                for x in f.cycle:
                    if x.trace:
                        edge = Finding(f.kind, x.words(), x.trace)
                        out.append(f"<h4>shortest trace creating {e(x.frm)} -&gt; {e(x.to)}</h4>")
                        out.append(_table(edge, base, e))
                        n += 1
                        out.append(f'<div class="diagram">{_svg(diagram(edge, base, f"f{n}-"))}</div>')
                continue
            if f.kind == "unreachable":      # about the whole graph: no trace, no state
                out.append("<p>every reachable state was explored; there is no trace to show</p>")
                continue
            out.append(_table(f, base, e))
            final = report._final(f.final_state).split("\n", 1)[1]   # the table output's words
            out.append(f"<details><summary>final state</summary><pre>{html.escape(final)}</pre></details>")
            if f.waits_for:
                out.append("<p>who waits for whom:</p><ul>"
                           + "".join(f"<li>{e(w)}</li>" for w in f.waits_for) + "</ul>")
            if f.lockdep:
                out.append(f"<p>{e(f.lockdep)}</p>")
            n += 1
            out.append(f'<div class="diagram">{_svg(diagram(f, base, f"f{n}-"))}</div>')
    out.append("</body></html>")
    return "\n".join(out) + "\n"


def _table(f, base: str, e) -> str:
    rows = ["<table><tr><th>step</th><th>actor</th><th>line</th><th>statement</th><th>effect</th></tr>"]
    cells = lambda n, s, cls="": (f"<tr{cls}><td>{e(n)}</td><td>{e(s.actor)}</td>"
                                  f"<td>{e(f'{base}:{s.line}' if s.line else '-')}</td>"
                                  f"<td>{e(s.statement)}</td><td>{e(s.effect)}</td></tr>")
    rows += [cells(s.step, s) for s in f.trace]
    if f.then:
        note = "(no path avoids the deadlock from here; one way on:)" if f.trace else \
            "(certain from the initial state; one way on:)"
        rows.append(f'<tr class="note"><td colspan="5">{note}</td></tr>')
        rows += [cells(s.step, s) for s in f.then]
    rows += [cells("-", s, ' class="blocked"') for s in f.blocked]
    if len(rows) == 1:
        rows.append('<tr><td colspan="5">(in the initial state)</td></tr>')
    return "".join(rows) + "</table>"


def _rel(path: str) -> str:
    rel = os.path.relpath(path) if os.path.isabs(path) else path
    return path if rel.startswith("..") else rel


def write_html(path: str, results: list[Result], errors: list = ()) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(page(results, errors))
