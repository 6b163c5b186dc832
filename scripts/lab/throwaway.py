"""A cluster of its own for one command: free ports, a temporary dir, removed afterwards."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from scripts.cluster import ClusterConfig, clean, down, new_run_dir, up


def load_limits(**kwargs: Any) -> dict[str, Any]:
    """``kwargs`` for a ClusterConfig that takes a load from one address:
    nginx's per-address login limit and the cluster's SMS budget lifted
    (every locust user, every test, is 127.0.0.1)."""
    kwargs.setdefault("login_rate", "10000r/s")
    kwargs["node_env"] = {"SMS_PER_MINUTE": "1000000", **kwargs.get("node_env", {})}
    return kwargs


@contextlib.contextmanager
def throwaway(store: str, *, nodes: int, name: str, **kwargs: Any) -> Iterator[ClusterConfig]:
    """A running cluster with ``store`` sessions, load limits lifted."""
    run_dir = new_run_dir(name)
    cfg = ClusterConfig.on_free_ports(run_dir, nodes=nodes, session_store=store, **load_limits(**kwargs))
    try:
        up(cfg, quiet=True)
        yield cfg
    finally:
        down(cfg, quiet=True)
        clean(run_dir)


def beside_config(shared: ClusterConfig, run_dir: Path, **kwargs: Any) -> ClusterConfig:
    """A cluster of nodes and nginx of its own, on ``shared``'s Redis and
    Postgres: started in seconds, as nothing but the nodes starts."""
    node_env = {**shared.redis_env(), **kwargs.pop("node_env", {})}
    return ClusterConfig.on_free_ports(
        run_dir,
        redis_url=shared.effective_redis_url(),
        database_url=shared.effective_database_url(),
        **load_limits(node_env=node_env, **kwargs),
    )
