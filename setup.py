"""The C extensions; pyproject.toml stays the metadata source.

Both are optional: with no compiler (or CC=false) the package still
installs and every search runs on the Python engines."""
from setuptools import Extension, setup

setup(ext_modules=[
    # the native search core (modelcheck/search/native/)
    Extension("modelcheck.search._vm", ["modelcheck/search/native/vm.c"],
              extra_compile_args=["-O2", "-std=c99", "-Wall"], optional=True),
])
