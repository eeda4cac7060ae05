from __future__ import annotations

import pytest

from helpers import REPO

pytest_plugins = ["pytester"]


@pytest.fixture
def repo_root(monkeypatch):
    """Run from the repository root, as the README and CI do."""
    monkeypatch.chdir(REPO)
    return REPO


@pytest.fixture(scope="session")
def ray_cluster():
    """One local Ray cluster of 2 workers for the whole session (swarm and
    distributed tests); skipped when the ray extra is not installed."""
    ray = pytest.importorskip("ray", reason="the ray extra is not installed (pip install '.[ray]')")
    if not ray.is_initialized():
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level="ERROR",
                 configure_logging=False)
    yield ray
    ray.shutdown()
