"""The clusters `make lesson`'s steps start beside its Redis and Postgres:
which each step needs, started in the background while the first steps
run, and all stopped together at the end."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from scripts.cluster import ClusterConfig, clean, down, new_run_dir, up
from scripts.lab.throwaway import beside_config

SHORT_TTL = 3  # seconds: the seed's 30 minutes, shortened so that a step outlasts it
REPLICATION_DELAY_MS = 1500  # the copy's window, long enough to be seen every time

_SHORT = {"LOGIN_USER_TTL": str(SHORT_TTL)}
# The clusters the steps start beside the base (the fix), by name.
# One node where the step is about Redis, not about round robin: a cluster
# starts in half the time.
CLUSTERS: dict[str, dict[str, Any]] = {
    "memory": {"session_store": "memory", "nodes": 2},
    "replicated": {"session_store": "replicated", "replication_delay_ms": REPLICATION_DELAY_MS, "nodes": 3},
    "fixed-code-key": {"node_env": {"MISTAKE": "fixed-code-key"}, "nodes": 1},
    "phone-token": {"node_env": {"MISTAKE": "phone-token"}, "nodes": 1},
    "json-string": {"node_env": {"MISTAKE": "json-string"}, "nodes": 1},
    "no-refresh": {"node_env": {"MISTAKE": "no-refresh", **_SHORT}, "nodes": 1},
    "one-interceptor": {"node_env": {"MISTAKE": "one-interceptor", **_SHORT}, "nodes": 1},
    "short-ttl": {"node_env": _SHORT, "nodes": 1},
}
STEP_CLUSTERS: dict[int, tuple[str, ...]] = {
    1: ("memory",),
    2: ("replicated",),
    4: ("fixed-code-key",),
    5: ("phone-token",),
    6: ("json-string",),
    7: ("no-refresh", "short-ttl"),
    8: ("one-interceptor", "short-ttl"),
}


class LessonClusters:
    """The clusters of CLUSTERS beside ``base`` (a running redis-mode cluster:
    the fix), each started once for the whole lesson."""

    def __init__(self, base: ClusterConfig) -> None:
        self.base = base
        self._clusters: dict[str, asyncio.Future[ClusterConfig]] = {}
        self._starting = asyncio.Semaphore(2)  # two at a time: the steps running meanwhile keep their pace

    def prepare(self, steps: list[int]) -> None:
        """Start the clusters of ``steps`` in the background, a few at a time,
        while the first steps run: the lesson waits for its clusters only once."""
        for n in steps:
            for name in STEP_CLUSTERS.get(n, ()):
                self._start(name)

    def _start(self, name: str) -> asyncio.Future[ClusterConfig]:
        if name not in self._clusters:
            cfg = beside_config(self.base, new_run_dir(f"lesson-{name}"), **CLUSTERS[name])
            self._clusters[name] = asyncio.ensure_future(self._up(cfg))
        return self._clusters[name]

    async def _up(self, cfg: ClusterConfig) -> ClusterConfig:
        async with self._starting:
            await asyncio.to_thread(up, cfg, quiet=True)
        return cfg

    async def get(self, name: str) -> ClusterConfig:
        """The cluster ``name`` of CLUSTERS, beside the base, started once for the whole lesson."""
        return await self._start(name)

    async def all_started(self) -> None:
        await asyncio.gather(*self._clusters.values())

    async def close(self) -> None:
        """Every cluster stopped and removed, all at once."""
        await asyncio.gather(*(self._down(started) for started in self._clusters.values()))

    @staticmethod
    async def _down(started: asyncio.Future[ClusterConfig]) -> None:
        with contextlib.suppress(Exception):  # one that never started has nothing to stop
            cfg = await started
            await asyncio.to_thread(down, cfg, quiet=True)
            clean(cfg.run_dir)
