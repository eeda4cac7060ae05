"""A Sphinx extension: a design note carries its model, checked when the
documentation is built.

    extensions = ["modelcheck.sphinx"]            # conf.py

    .. fspec-check:: models/proxy_fence_fork.fspec
       :params: N=2

includes the spec (highlighted by the `fspec` lexer) and the verdict of
`modelcheck check` on it: the summary line and, when there are findings,
the tables.  A spec that is not as its `expect` lines say, or does not
parse, is also a Sphinx warning at the directive, so `sphinx-build -W`
(the kernel's `make htmldocs` with warnings as errors) fails on it.
The path is relative to the document, as for `literalinclude`.
"""
from __future__ import annotations

import os

from docutils import nodes
from docutils.parsers.rst import directives
from sphinx.util.docutils import SphinxDirective

from . import __version__


def _params(text: str) -> dict:
    out = {}
    for item in text.replace(",", " ").split():
        name, _, value = item.partition("=")
        out[name] = int(value)
    return out


class FspecCheck(SphinxDirective):
    required_arguments = 1
    has_content = False
    option_spec = {"params": directives.unchanged, "verdict-only": directives.flag}

    def run(self):
        from .api import check_file
        from .language.errors import SpecError
        from .reports import report

        rel, path = self.env.relfn2path(self.arguments[0])
        self.env.note_dependency(rel)
        try:
            params = _params(self.options.get("params", ""))
        except ValueError:
            return [self.state.document.reporter.warning(
                f"fspec-check: :params: takes NAME=VALUE pairs, not {self.options['params']!r}",
                line=self.lineno)]
        try:
            text = open(path, encoding="utf-8").read()
        except OSError as e:
            return [self.state.document.reporter.warning(
                f"fspec-check: cannot read {rel}: {e.strerror or e}", line=self.lineno)]
        out = []
        if "verdict-only" not in self.options:
            spec = nodes.literal_block(text, text, language="fspec")
            spec["source"] = path
            out.append(spec)
        try:
            result = check_file(path, params)
        except SpecError as e:
            out.append(nodes.literal_block(str(e), str(e)))
            out.append(self.state.document.reporter.warning(
                f"fspec-check: {os.path.basename(path)} has errors:\n{e}", line=self.lineno))
            return out
        result.path = self.arguments[0]               # as the page names it, not this machine's path
        verdict = report.table(result) if result.findings or not result.ok else result.verdict() + "\n"
        block = nodes.literal_block(verdict, verdict, language="none")
        block["classes"].append("fspec-verdict")
        out.append(block)
        if not result.ok:
            out.append(self.state.document.reporter.warning(
                f"fspec-check: {result.verdict()}", line=self.lineno))
        return out


def setup(app):
    app.add_directive("fspec-check", FspecCheck)
    return {"version": __version__, "parallel_read_safe": True, "parallel_write_safe": True}
