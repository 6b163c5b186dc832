"""What each node counts, for Prometheus: GET /metrics on the node's own port
(nginx answers 404 for it, so only the machine's own side can read it).

One registry per app, not prometheus-client's global one, so that several
apps in one process (the tests) count apart.
"""

from __future__ import annotations

from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

CONTENT_TYPE = CONTENT_TYPE_LATEST


class Metrics:
    def __init__(self, node_name: str) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "sessionlab_http_requests",
            "Requests answered, by route name, method and status.",
            ["route", "method", "status"],
            registry=self.registry,
        )
        self.store_seconds = Histogram(
            "sessionlab_session_store_seconds",
            "Time of each session-store call, by operation.",
            ["op"],
            registry=self.registry,
            buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
        )
        self.store_errors = Counter(
            "sessionlab_session_store_errors",
            "Session-store calls that raised, by operation and error class.",
            ["op", "kind"],
            registry=self.registry,
        )
        self.logins = Counter("sessionlab_logins", "Logins, by result.", ["result"], registry=self.registry)
        self.codes_sent = Counter("sessionlab_codes_sent", "SMS codes sent.", registry=self.registry)
        self.sessions_missed = Counter(
            "sessionlab_sessions_missed",
            "Requests with a well-formed token that has no session here: what a load test "
            "counts as a lost session when the token was valid.",
            registry=self.registry,
        )
        # labels() takes a lock and builds a key on every call: remember the
        # children of the hot path instead.
        self._request_children: dict[tuple[str, str, int], Any] = {}
        self._store_children: dict[str, Any] = {}

    def request(self, route: str, method: str, status: int) -> None:
        key = (route, method, status)
        child = self._request_children.get(key)
        if child is None:
            child = self._request_children[key] = self.requests.labels(route, method, str(status))
        child.inc()

    def store_time(self, op: str, seconds: float) -> None:
        child = self._store_children.get(op)
        if child is None:
            child = self._store_children[op] = self.store_seconds.labels(op)
        child.observe(seconds)

    def store_error(self, op: str, exc: Exception) -> None:
        self.store_errors.labels(op, type(exc).__name__).inc()

    def exposition(self) -> bytes:
        return generate_latest(self.registry)
