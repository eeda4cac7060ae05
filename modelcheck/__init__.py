"""modelcheck: a model checker for the concurrency designs of GPU drivers.

Pipeline, one module per arrow:
  syntax (text -> lark tree) -> model (checked model) -> semantics (compiled
  transitions) -> explorer (state graph) -> analysis (graph findings) ->
  trace (replayed, described findings) -> report (tables, JSON).
"""
from .api import Result, check_file, check_source
from .language.errors import SpecError
from .search.explorer import Limits

__all__ = ["check_file", "check_source", "Result", "SpecError", "Limits"]
__version__ = "0.1.0"
