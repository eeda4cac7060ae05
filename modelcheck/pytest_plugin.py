"""pytest plugin (entry point `pytest11`): specs as test items, and a fixture
for inline spec text.  The rest of modelcheck never imports pytest.

    pytest --fspec specs/                  # every *.fspec found is a test
    pytest --fspec specs/ --fspec-param N=3
    # or in the ini file:  fspec_paths = specs

A spec passes when its findings equal its `expect` lines (as `modelcheck
check` decides); a failing one shows the counterexample tables, and bad
input shows the file:line:col diagnostics, never a Python traceback.

    def test_design(fspec):
        fspec.assert_ok('''
            lock a
            thread t { lock a; unlock a }
        ''')
"""
from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from .reports import report
from .api import Result, check_file, check_source, load
from .language.errors import SpecError
from .language.syntax import read


def pytest_addoption(parser):
    group = parser.getgroup("fspec", "modelcheck .fspec specs")
    group.addoption("--fspec", action="store_true",
                    help="collect every *.fspec file found as a test")
    group.addoption("--fspec-param", action="append", default=[], metavar="NAME=VALUE",
                    help="set param NAME of the specs that declare it (repeatable, like -D)")
    parser.addini("fspec_paths", type="paths", default=[],
                  help="directories or files whose *.fspec files are tests, with or without --fspec")


def pytest_configure(config):
    config._fspec_params = _params(config.getoption("fspec_param"))
    roots = [Path(p).resolve() for p in config.getini("fspec_paths")]
    config._fspec_roots = roots
    # run with no path arguments: collect the fspec paths beside testpaths (or
    # the current directory), also those outside it, which nothing else reaches
    if roots and config.args_source in (pytest.Config.ArgsSource.TESTPATHS,
                                        pytest.Config.ArgsSource.INVOCATION_DIR):
        given = [Path(a).resolve() for a in config.args]
        config.args = list(config.args) + [str(p) for p in roots if p.exists() and not any(
            p == g or g in p.parents for g in given)]
    missing = [str(p) for p in roots if not p.exists()]
    if missing:
        raise pytest.UsageError("fspec_paths: no such file or directory: " + ", ".join(missing))


def _params(items: list[str]) -> dict:
    out = {}
    for text in items:
        name, sep, value = text.partition("=")
        if not sep or not name.isidentifier():
            raise pytest.UsageError(f"--fspec-param takes NAME=VALUE, not '{text}'")
        try:
            out[name] = int(value)
        except ValueError:
            raise pytest.UsageError(f"--fspec-param {name}: '{value}' is not an integer")
    return out


def pytest_collect_file(file_path: Path, parent):
    if file_path.suffix != ".fspec":
        return None
    config = parent.config
    here = file_path.resolve()
    if config.getoption("fspec") or any(here == r or r in here.parents for r in config._fspec_roots):
        return FspecFile.from_parent(parent, path=file_path)
    return None


def pytest_collection_modifyitems(session, config, items):
    """A --fspec-param that no collected spec declares is a mistyped name."""
    wanted = set(config._fspec_params)
    specs = [it for it in items if isinstance(it, FspecItem)]
    if not wanted or not specs:
        return
    for it in specs:
        try:
            wanted -= set(it.declared())
        except SpecError:
            pass                              # reported when the item runs
    if wanted:
        raise pytest.UsageError("--fspec-param: no collected spec declares param "
                                + ", ".join(sorted(wanted)))


class FspecFile(pytest.File):
    def collect(self):
        yield FspecItem.from_parent(self, name=self.path.name)


class FspecFailure(Exception):
    """A spec whose findings differ from its expect lines."""

    def __init__(self, result: Result):
        super().__init__(result.verdict())
        self.result = result


class FspecItem(pytest.Item):
    def runtest(self):
        result = check_file(self.path, self._params())
        if not result.ok:
            raise FspecFailure(result)

    def declared(self) -> dict:
        """The params the spec declares, with their own values."""
        return load(read(str(self.path)), str(self.path)).params

    def _params(self) -> dict:
        """The --fspec-param values for the params this spec declares."""
        wanted = self.config._fspec_params
        if not wanted:
            return {}
        declared = self.declared()
        return {k: v for k, v in wanted.items() if k in declared}

    def repr_failure(self, excinfo):
        if isinstance(excinfo.value, FspecFailure):
            return report.table(excinfo.value.result)
        if isinstance(excinfo.value, SpecError):
            return str(excinfo.value)
        return super().repr_failure(excinfo)

    def reportinfo(self):
        return self.path, None, f"fspec: {self.path.name}"


# ----------------------------------------------------------------- inline specs

def fspec_check(text: str, **params) -> Result:
    """Check inline spec text (indentation removed); bad input fails the test
    with its diagnostics."""
    try:
        return check_source(textwrap.dedent(text), params=params or None, path="<inline spec>")
    except SpecError as e:
        error = str(e)
    pytest.fail(error, pytrace=False)       # outside `except`: no chained traceback


def assert_fspec_ok(result: Result) -> Result:
    """Fail the test with the counterexample tables unless the findings equal
    the spec's expect lines."""
    if not result.ok:
        pytest.fail(report.table(result), pytrace=False)
    return result


class Fspec:
    """The `fspec` fixture: `fspec.check(text, **params)` returns the Result,
    `fspec.assert_ok(text, **params)` also fails the test with the tables."""

    check = staticmethod(fspec_check)

    def assert_ok(self, text: str, **params) -> Result:
        return assert_fspec_ok(fspec_check(text, **params))


@pytest.fixture
def fspec() -> Fspec:
    return Fspec()
