"""`modelcheck explain KIND`: every finding kind explained, with its source."""
from __future__ import annotations

import pytest

from modelcheck import cli
from modelcheck.language.model import FINDING_KINDS


@pytest.mark.parametrize("kind", FINDING_KINDS)
def test_every_kind_is_explained(kind, capsys):
    assert cli.main(["explain", kind]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"{kind}: ")
    for part in ("What it means:", "Why the kernel cares:", "Where it comes from:", "Usual fixes:"):
        assert part in out


@pytest.mark.parametrize("kind, source", [
    ("deadlock", "Recoverable Hardware Page Faults"),
    ("indefinite-fence", '"Indefinite DMA Fences"'),
    ("timeout-hang", "randomly hangs workloads until the"),
    ("lock-order", "dma_fence_begin_signalling()"),
    ("lock-order", '"DMA Fence Signalling Annotations"'),
])
def test_sources_are_cited(kind, source, capsys):
    cli.main(["explain", kind])
    assert source in " ".join(capsys.readouterr().out.split())


def test_unknown_kind(capsys):
    assert cli.main(["explain", "livelock\x1b[2J"]) == 2
    err = capsys.readouterr().err
    assert "unknown finding kind 'livelock\\x1b[2J'" in err
    assert all(k in err for k in FINDING_KINDS)
