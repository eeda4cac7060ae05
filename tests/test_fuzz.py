"""The fuzzing harness, bounded for `make test`: mutated specs from
`specs/` through the whole command (parse, build, search, analysis, every
output format).  Each must end with exit status 0, 1 or 2 and no traceback.
`make fuzz` runs the same mutator for a long campaign (scripts/fuzz.py)."""
from __future__ import annotations

import time

from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from fuzzing import FORMATS, mutated, run_one

BUDGET = 25.0            # seconds of this test inside `make test`
_started: list = []


@settings(max_examples=300, deadline=None, database=None,
          suppress_health_check=list(HealthCheck))
@given(text=mutated(), fmt=st.sampled_from(FORMATS))
def test_mutated_specs_never_crash(tmp_path_factory, text, fmt):
    if not _started:
        _started.append(time.monotonic())
    if time.monotonic() - _started[0] > BUDGET:       # bounded in time, whatever the machine
        return
    p = tmp_path_factory.mktemp("fuzz") / "m.fspec"
    p.write_bytes(text.encode("utf-8", "surrogateescape"))
    note(repr(text))
    r = run_one(str(p), fmt)
    assert not r["bad"], r["bad"]
