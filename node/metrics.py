"""What each node counts, for Prometheus: GET /metrics on the node's own port
(nginx answers 404 for it, so only the machine's own side can read it).

The counts on every request's path are plain integers in dicts, turned into
Prometheus families only when /metrics is read: prometheus-client's own
Counter and Histogram take a lock on every increment, which `make bench`
showed costing a tenth of a request.  A node is one thread, so nothing here
needs one.  One registry per app, not the library's global one, so that
several apps in one process (the tests) count apart.
"""

from __future__ import annotations

import bisect
import collections
import itertools
from collections.abc import Iterator

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.registry import Collector

CONTENT_TYPE = CONTENT_TYPE_LATEST
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
# Seconds; a Redis round trip on loopback is well under a millisecond.
STORE_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
# load_user runs on every request: the pipeline times its first call and
# one in this many after it (reading the clock twice and filing the time
# was 2.5 % of a memory-mode request, `make bench-instr`); every call is
# still counted.  The other operations are timed at every call.
LOAD_USER_TIMED_EVERY = 16


class Timing:
    """One operation's calls, and the histogram of those timed, as plain
    integers: bisect into the bucket, add to the sum."""

    __slots__ = ("buckets", "calls", "total")

    def __init__(self) -> None:
        self.calls = 0
        self.buckets = [0] * (len(STORE_BUCKETS) + 1)  # the last is +Inf
        self.total = 0.0

    def observe(self, seconds: float) -> None:
        self.buckets[bisect.bisect_left(STORE_BUCKETS, seconds)] += 1
        self.total += seconds


# A route's counts: method -> status -> requests.
RouteCounts = dict[str, dict[int, int]]


class Metrics(Collector):
    def __init__(self, node_name: str) -> None:
        self.node_name = node_name
        # route -> its counts, each made once: a request adds to a dict it
        # already holds, with no tuple key to build (`make bench-instr`).
        self.requests: dict[str, RouteCounts] = {}
        self.store_timings: dict[str, Timing] = {}
        self.store_errors: collections.Counter[tuple[str, str]] = collections.Counter()
        self.logins: collections.Counter[str] = collections.Counter()
        self.codes_sent = 0
        self.sessions_missed = 0
        self.registry = CollectorRegistry()
        self.registry.register(self)

    # --- counting (on the request path) ---------------------------------------
    def route(self, name: str) -> RouteCounts:
        """The counts of route ``name``, for its handler to hold.  A client
        chooses the method: only known ones get counts of their own, or
        anyone could grow this node's memory with made-up methods."""
        counts = self.requests.get(name)
        if counts is None:
            counts = self.requests[name] = {method: {} for method in (*_METHODS, "other")}
        return counts

    def request(self, route: str, method: str, status: int) -> None:
        count(self.route(route), method, status)

    def timing(self, op: str) -> Timing:
        timing = self.store_timings.get(op)
        if timing is None:
            timing = self.store_timings[op] = Timing()
        return timing

    def store_time(self, op: str, seconds: float) -> None:
        """One call of ``op``, timed."""
        timing = self.timing(op)
        timing.calls += 1
        timing.observe(seconds)

    def store_error(self, op: str, exc: Exception) -> None:
        self.store_errors[op, type(exc).__name__] += 1

    # --- exposition ---------------------------------------------------------------
    def collect(self) -> Iterator[Metric]:
        requests = CounterMetricFamily(
            "sessionlab_http_requests",
            "Requests answered, by route name, method and status.",
            labels=["route", "method", "status"],
        )
        for route, by_method in sorted(self.requests.items()):
            for method, by_status in sorted(by_method.items()):
                for status, n in sorted(by_status.items()):
                    requests.add_metric([route, method, str(status)], n)
        yield requests
        latency = HistogramMetricFamily(
            "sessionlab_session_store_seconds",
            f"Time of session-store calls, by operation: each call, but load_user's "
            f"first and one in {LOAD_USER_TIMED_EVERY} after it.",
            labels=["op"],
        )
        bounds = [*map(str, STORE_BUCKETS), "+Inf"]
        for op, timing in sorted(self.store_timings.items()):
            cumulative = itertools.accumulate(timing.buckets)
            latency.add_metric([op], list(zip(bounds, cumulative, strict=True)), timing.total)
        yield latency
        calls = CounterMetricFamily(
            "sessionlab_session_store_calls",
            "Session-store calls, by operation: every call, timed or not.",
            labels=["op"],
        )
        for op, timing in sorted(self.store_timings.items()):
            calls.add_metric([op], timing.calls)
        yield calls
        errors = CounterMetricFamily(
            "sessionlab_session_store_errors",
            "Session-store calls that raised, by operation and error class.",
            labels=["op", "kind"],
        )
        for (op, kind), n in sorted(self.store_errors.items()):
            errors.add_metric([op, kind], n)
        yield errors
        logins = CounterMetricFamily("sessionlab_logins", "Logins, by result.", labels=["result"])
        for result, n in sorted(self.logins.items()):
            logins.add_metric([result], n)
        yield logins
        yield CounterMetricFamily("sessionlab_codes_sent", "SMS codes sent.", value=self.codes_sent)
        yield CounterMetricFamily(
            "sessionlab_sessions_missed",
            "Requests with a well-formed token that has no session here: what a load test "
            "counts as a lost session when the token was valid.",
            value=self.sessions_missed,
        )

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


def count(counts: RouteCounts, method: str, status: int) -> None:
    """One request of ``method`` answered ``status``, in a route's ``counts``."""
    by_status = counts.get(method)
    if by_status is None:
        by_status = counts["other"]
    by_status[status] = by_status.get(status, 0) + 1
