"""The Sphinx extension: a page includes a spec, highlighted, with its
checked verdict; a spec that is not as expected fails a `-W` build."""
import shutil

import pytest

pytest.importorskip("sphinx")
from sphinx.cmd.build import build_main  # noqa: E402

from every_spec import REPO  # noqa: E402


def build(tmp_path, page: str, *extra) -> tuple[int, str]:
    src = tmp_path / "src"
    src.mkdir()
    (src / "conf.py").write_text('extensions = ["modelcheck.sphinx"]\nproject = "t"\n')
    (src / "index.rst").write_text(page)
    shutil.copy(REPO / "specs" / "proxy_fence_fork.fspec", src / "proxy.fspec")
    code = build_main(["-q", "-b", "html", *extra, str(src), str(tmp_path / "out")])
    return code, (tmp_path / "out" / "index.html").read_text() if code == 0 else ""


def test_a_page_carries_the_spec_and_its_verdict(tmp_path):
    code, html = build(tmp_path, "Design\n======\n\n.. fspec-check:: proxy.fspec\n\n"
                                 ".. code-block:: fspec\n\n   wait bo timeout\n", "-W")
    assert code == 0
    assert '<span class="k">fork</span>' in html and '<span class="k">wait</span>' in html
    assert "proxy.fspec: ok (proxy fence" in html and "found:    deadlock" in html
    assert "who waits for whom" in html


def test_a_spec_not_as_expected_fails_a_strict_build(tmp_path, capsys):
    src_text = (REPO / "specs" / "proxy_fence_fork.fspec").read_text().replace("expect deadlock", "expect safe")
    code, _ = build(tmp_path, "D\n=\n\n.. fspec-check:: wrong.fspec\n", "-W")
    assert code != 0                           # wrong.fspec does not exist yet: a warning too
    shutil.rmtree(tmp_path / "src")
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "conf.py").write_text('extensions = ["modelcheck.sphinx"]\n')
    (tmp_path / "src" / "wrong.fspec").write_text(src_text)
    (tmp_path / "src" / "index.rst").write_text("D\n=\n\n.. fspec-check:: wrong.fspec\n")
    assert build_main(["-q", "-b", "html", "-W", str(tmp_path / "src"), str(tmp_path / "o2")]) != 0
    assert "FAIL: found deadlock; expected safe" in capsys.readouterr().err
