from __future__ import annotations

import pytest

from helpers import REPO

pytest_plugins = ["pytester"]


@pytest.fixture
def repo_root(monkeypatch):
    """Run from the repository root, as the README and CI do."""
    monkeypatch.chdir(REPO)
    return REPO
