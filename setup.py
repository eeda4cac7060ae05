"""The C extensions; pyproject.toml stays the metadata source.

Both are optional: with no compiler (or CC=false) the package still
installs, every search runs on the Python engines and the whole-graph
analyses on numpy and scipy (or the pure Python reference)."""
from setuptools import Extension, setup

setup(ext_modules=[
    # the native search core (modelcheck/search/native/)
    Extension("modelcheck.search._vm", ["modelcheck/search/native/vm.c", "modelcheck/search/native/sym.c"],
              extra_compile_args=["-O2", "-std=c99", "-Wall", "-pthread"],
              extra_link_args=["-pthread"], optional=True),
    # the whole-graph analyses (modelcheck/verdicts/native.py)
    Extension("modelcheck.search._graph", ["modelcheck/search/native/graph.c"],
              extra_compile_args=["-O2", "-std=c99", "-Wall"], optional=True),
])
