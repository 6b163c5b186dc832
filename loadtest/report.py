"""What one locust run measured: read from the locustfile's summary.

Used by `make chaos` (and the load-test targets) to print one table.
"""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path

from loadtest.classes import CODE_CHECKS, OTHER, SERVER_ERROR, SESSION_CHECKS, SESSION_LOST


@dataclasses.dataclass
class Run:
    requests: int
    rps: float
    p50: float
    p95: float
    p99: float
    server_errors: dict[str, int]  # by HTTP status
    nodes: dict[str, int]  # by X-Node; adds up to requests
    # Each failure class, and "session checks" / "code checks" (the chances
    # of the loss rates): Unix second -> count.  Every other count is a sum.
    timeline: dict[str, dict[int, int]]
    rate_limited: int = 0  # nginx's 429s (LOGIN_RATE), among "other"

    def total(self, name: str, start: float = -math.inf, end: float = math.inf) -> int:
        """A class's (or chances') count in [start, end) Unix time."""
        return sum(n for second, n in self.timeline.get(name, {}).items() if start <= second < end)

    def lost(self, kind: str, start: float = -math.inf, end: float = math.inf) -> str:
        """A loss class as a share of its chances: "12 of 340 (3.5 %)"."""
        chances = SESSION_CHECKS if kind == SESSION_LOST else CODE_CHECKS
        n, of = self.total(kind, start, end), self.total(chances, start, end)
        return f"{n:,} of {of:,} ({100 * n / of:.1f} %)" if of else f"{n:,}"

    def count(self, kind: str) -> str:
        """A class's count as a table shows it: server errors with their statuses."""
        text = f"{self.total(kind):,}"
        if kind == SERVER_ERROR and self.server_errors:
            text += " (" + ", ".join(f"{n} × {status}" for status, n in self.server_errors.items()) + ")"
        if kind == OTHER and self.rate_limited:
            text += f" ({self.rate_limited:,} × nginx's 429, LOGIN_RATE)"
        return text

    @classmethod
    def read(cls, summary: Path) -> Run:
        extra = json.loads(summary.read_text())
        percentiles = extra["percentiles_ms"]
        return cls(
            requests=int(extra["requests"]),
            rps=float(extra["rps"]),
            p50=float(percentiles["0.5"]),
            p95=float(percentiles["0.95"]),
            p99=float(percentiles["0.99"]),
            server_errors={k: int(v) for k, v in extra["server_errors"].items()},
            nodes=dict(extra["nodes"]),
            rate_limited=int(extra["rate_limited"]),
            timeline={
                name: {int(second): int(n) for second, n in counts.items()}
                for name, counts in extra["timeline"].items()
            },
        )


def markdown_table(header: list[str], rows: list[list[str]]) -> str:
    lines = [
        "| " + " | ".join(header) + " |",
        "|" + "|".join("---" if i == 0 else "---:" for i in range(len(header))) + "|",
    ]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)
