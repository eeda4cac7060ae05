"""Past one process: swarm verification (`modelcheck swarm`) and the
distributed exhaustive search (`modelcheck check --distributed`), on Ray.

Ray is an optional extra (`pip install 'modelcheck[ray]'`), imported only
here and only by those two commands: `modelcheck check` without
`--distributed` never loads it.  Ray gives tasks (one per swarm run),
actors (one per state partition), object transfer between them, and the
same code on one machine (a local cluster started for the run) or on many
(`ray start --head` on one, `ray start --address HEAD:6379` on the others,
then `--address HEAD:6379` or `ray://HEAD:10001` here).
"""
from __future__ import annotations

import os
import sys

MISSING = ("Ray is not installed: these commands need the ray extra "
           "(pip install 'modelcheck[ray]')")


class ClusterError(Exception):
    """Ray missing, or the cluster cannot be reached: exit 2 with one line."""


def ray_module():
    try:
        import ray
    except ImportError as e:
        raise ClusterError(f"{MISSING}; {e}") from None
    return ray


def connect(address: str | None = "local", cpus: int | None = None):
    """The ray module, connected: `local` (or None) starts a local cluster
    with `cpus` worker processes (default: this machine's cores), anything
    else is the address of a running cluster.  A connection already open in
    this process (tests open one per session) is reused."""
    if address in (None, "", "local") and "ray" not in sys.modules:
        # A new local cluster turns token authentication on by default and
        # says so on stderr; asking for it explicitly keeps it on without
        # that line.  Ray reads the mode when it is imported, hence here; a
        # mode set by the user is kept, and a remote cluster's is its own.
        os.environ.setdefault("RAY_AUTH_MODE", "token")
    ray = ray_module()
    if ray.is_initialized():
        return ray
    quiet = dict(include_dashboard=False, log_to_driver=False, logging_level="ERROR",
                 configure_logging=False)
    try:
        if address in (None, "", "local"):
            ray.init(num_cpus=cpus or os.cpu_count() or 1, **quiet)
        else:
            ray.init(address=address, **{k: v for k, v in quiet.items() if k != "include_dashboard"})
    except Exception as e:                       # ConnectionError, RuntimeError, ValueError...
        raise ClusterError(f"cannot reach the Ray cluster at {address}: {e}") from None
    return ray


def worker_cpus(ray) -> int:
    """CPUs the cluster offers (at least 1)."""
    try:
        return max(int(ray.cluster_resources().get("CPU", 1)), 1)
    except Exception:
        return 1
