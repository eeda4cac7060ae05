"""`--html`: one self-contained page, checked by parsing it: well-formed
HTML and SVG, every step named in its diagram, the wait-for cycle in red,
spec text escaped."""
from __future__ import annotations

import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from html.parser import HTMLParser

import pytest

import modelcheck
from modelcheck.verdicts.trace import Finding
from helpers import REPO
from modelcheck import cli
from modelcheck.reports import picture

SVG = "{http://www.w3.org/2000/svg}"
SPECS = ["specs/proxy_fence_fork.fspec", "specs/pagefault_shared_engine.fspec",
         "specs/userptr_cross_device.fspec", "specs/userspace_fence_timeout.fspec",
         "specs/tdr_modeset_alloc.fspec", "specs/ok_fair_spin.fspec", "specs/pagefault_remedies.fspec"]
VOID = {"meta", "br", "hr", "img", "input", "link"}


class Nesting(HTMLParser):
    """Fails on a tag closed out of order: the page must nest properly."""

    def __init__(self):
        super().__init__()
        self.stack, self.text = [], []

    def handle_starttag(self, tag, attrs):
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        pass

    def handle_endtag(self, tag):
        assert self.stack and self.stack[-1] == tag, f"</{tag}> closes {self.stack[-1:]}"
        self.stack.pop()

    def handle_data(self, data):
        self.text.append(data)


def page(tmp_path, *paths) -> str:
    out = tmp_path / "report.html"
    cli.main(["check", "--summary", "--html", str(out), *paths])
    return out.read_text()


def svgs(text: str) -> list[ET.Element]:
    return [ET.fromstring(s) for s in re.findall(r"<svg\b.*?</svg>", text, re.S)]


def texts(svg: ET.Element) -> list[str]:
    return ["".join(t.itertext()) for t in svg.iter(SVG + "text")]


def test_page_and_diagrams_are_well_formed_and_name_every_step(tmp_path, repo_root):
    text = page(tmp_path, *SPECS)
    parser = Nesting()
    parser.feed(text)
    parser.close()
    assert parser.stack == []
    assert text.startswith("<!DOCTYPE html>") and "<script" not in text and "http" not in \
        text.replace('xmlns="http://www.w3.org/2000/svg"', "").replace(
            'xmlns:xlink="http://www.w3.org/1999/xlink"', "")      # self-contained
    results = [modelcheck.check_file(p) for p in SPECS]
    findings = []                  # a lock-order cycle gets one diagram per edge's trace
    for f in (f for r in results for f in r.findings):
        findings += [Finding(f.kind, "", e.trace) for e in f.cycle if e.trace] or [f]
    diagrams = svgs(text)
    assert len(diagrams) == len(findings) > 5
    assert any(f.kind == "lock-order" for f in findings)
    for f, svg in zip(findings, diagrams):
        boxes = [(g.get("class"), texts(g)) for g in svg.iter(SVG + "g")
                 if g.get("class") in ("step", "stuck")]
        steps = f.trace + f.then
        drawn = set(texts(svg))
        blocked = [s for s in f.blocked if s.actor in drawn]       # bystanders are folded
        assert [c for c, _ in boxes] == ["step"] * len(steps) + ["stuck"] * len(blocked)
        for s, (_c, words) in zip(steps, boxes):
            assert words[0] == s.statement and words[-2:] == [str(s.step), str(s.line)]
            assert " ".join(words[1:-2]) == s.effect
        for s, (_c, words) in zip(blocked, boxes[len(steps):]):
            assert words[0] == f"line {s.line}: {s.statement}" and words[-1] == "-"
            assert " ".join(words[1:-1]) == s.effect
        actors = {s.actor for s in f.trace + f.then}
        assert actors <= drawn                            # a lifeline head per actor that steps
    for r in results:
        assert f"{'ok' if r.ok else 'FAIL'}</span> {r.path}" in text


def test_the_final_cycle_is_drawn_in_red(tmp_path, repo_root):
    text = page(tmp_path, "specs/pagefault_shared_engine.fspec")
    (svg,) = svgs(text)
    red = [e for e in svg.iter() if e.get("stroke") == picture.RED and e.get("marker-end")]
    assert len(red) == 2                                  # gfx → compute → gfx
    labels = [t for t in texts(svg) if " waits " in t]
    assert labels == ["gfx waits a slot of cu → held by compute",
                      "compute waits bo → gfx_fence unsignalled → only gfx signals gfx_fence"]


def test_wait_edges():
    chain = "a waits x → held by b → b waits f → only c signals f → c waits y → held by b → back to b: a cycle"
    edges = picture.wait_edges(chain, ["a", "b", "c"])
    assert [(e.waiter, e.target, e.cycle) for e in edges] == [("a", "b", False), ("b", "c", True),
                                                              ("c", "b", True)]
    assert edges[1].label == "b waits f → only c signals f"
    (edge,) = picture.wait_edges("a waits x → held by b → b has finished", ["a", "b"])
    assert (edge.waiter, edge.target, edge.cycle) == ("a", "b", False)
    assert picture.wait_edges("a waits f → nobody signals f", ["a"]) == []


def test_spec_text_is_escaped(tmp_path):
    spec = tmp_path / "evil.fspec"
    spec.write_text('spec "<script>alert(1)</script> & \'q\'"\nvar x = 0 in 0..3\n'
                    "thread t {\n    await x > 1 and x < 3\n}\n")
    result = modelcheck.check_file(spec)
    assert result.kinds == {"deadlock"}
    text = picture.page([result])
    assert "<script>" not in text and "&lt;script&gt;alert(1)&lt;/script&gt; &amp;" in text
    Nesting().feed(text)
    (svg,) = svgs(text)
    assert texts(svg).count("line 4: await x > 1 and x < 3") == 1


@pytest.mark.skipif(not shutil.which("chromium"), reason="chromium is not installed")
def test_headless_chromium_renders_the_page(tmp_path, repo_root):
    html = tmp_path / "report.html"
    cli.main(["check", "--summary", "--html", str(html), "specs/pagefault_shared_engine.fspec"])
    png = tmp_path / "report.png"
    subprocess.run([str(REPO / "scripts/render_report.sh"), str(html), str(png), "1000x1200"],
                   check=True, capture_output=True, timeout=120)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_an_unwritable_report_is_an_error(capsys, repo_root):
    assert cli.main(["check", "--html", "/nonexistent/dir/r.html", "specs/ok_fair_spin.fspec"]) == 2
    assert "/nonexistent/dir/r.html: error: cannot write" in capsys.readouterr().err


def test_element_ids_are_unique_in_the_page(tmp_path, repo_root):
    text = page(tmp_path, "specs/proxy_fence_fork.fspec", "specs/pagefault_shared_engine.fspec")
    ids = re.findall(r'\bid="([^"]+)"', text)
    assert ids and len(ids) == len(set(ids))
    for ref in re.findall(r'url\(#([^)]+)\)', text):
        assert ref in ids


def test_bad_input_is_on_the_page(tmp_path, repo_root):
    bad = tmp_path / "bad.fspec"
    bad.write_text("thread t {\n    lock <nosuch>\n}\n")
    out = tmp_path / "r.html"
    assert cli.main(["check", "--html", str(out), str(bad), "specs/ok_fair_spin.fspec"]) == 2
    text = out.read_text()
    Nesting().feed(text)
    assert "1 of 1 specs as expected; 1 with bad input." in text
    assert "bad.fspec:2:10: error:" in text and "lock &lt;nosuch&gt;" in text
