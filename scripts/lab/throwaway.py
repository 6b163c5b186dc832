"""A cluster of its own for one command: free ports, a temporary dir, removed afterwards."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from scripts.cluster import ClusterConfig, clean, down, new_run_dir, up


@contextlib.contextmanager
def throwaway(store: str, *, nodes: int, name: str, **kwargs: Any) -> Iterator[ClusterConfig]:
    """A running cluster with ``store`` sessions.  Every locust user is
    127.0.0.1: nginx's per-address login limit is lifted."""
    run_dir = new_run_dir(name)
    cfg = ClusterConfig.on_free_ports(
        run_dir, nodes=nodes, session_store=store, login_rate="10000r/s", **kwargs
    )
    try:
        up(cfg, quiet=True)
        yield cfg
    finally:
        down(cfg, quiet=True)
        clean(run_dir)
