"""modelcheck: a model checker for the concurrency designs of GPU drivers.

Pipeline, one module per arrow:
  syntax (text -> lark tree) -> model (checked model) -> semantics (compiled
  transitions) -> explorer (state graph) -> analysis (graph findings) ->
  trace (replayed, described findings) -> report (tables, JSON).
"""
__all__ = ["check_file", "check_source", "Result", "SpecError", "Limits"]
__version__ = "0.1.0"

_WHERE = {"check_file": "api", "check_source": "api", "Result": "api",
          "SpecError": "language.errors", "Limits": "search.explorer"}


def __getattr__(name):
    """The API loads on first use, so the command can start (and take
    Ctrl-C) before lark and z3 are imported."""
    if name in _WHERE:
        import importlib
        return getattr(importlib.import_module(f".{_WHERE[name]}", __name__), name)
    raise AttributeError(f"module 'modelcheck' has no attribute {name!r}")
