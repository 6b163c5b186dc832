"""What one locust run measured: read from its CSV and the locustfile's summary.

Used by `make chaos` (and the load-test targets) to print one table.
"""

from __future__ import annotations

import csv
import dataclasses
import json
from pathlib import Path

from loadtest.classes import CLASSES, SERVER_ERROR, SESSION_LOST


@dataclasses.dataclass
class Run:
    requests: int
    failures: int
    rps: float
    p50: float
    p95: float
    p99: float
    classes: dict[str, int]
    server_errors: dict[str, int]  # by HTTP status
    nodes: dict[str, int]
    session_checks: int  # requests sent with a token believed valid
    code_checks: int  # logins tried with a code just received
    # Per class (and "session checks", "code checks"): Unix second -> count.
    timeline: dict[str, dict[int, int]] = dataclasses.field(default_factory=dict)

    def lost(self, kind: str) -> str:
        """A loss class as a share of its chances: "12 of 340 (3.5 %)"."""
        of = self.session_checks if kind == SESSION_LOST else self.code_checks
        n = self.classes[kind]
        return f"{n:,} of {of:,} ({100 * n / of:.1f} %)" if of else f"{n:,}"

    def lost_between(self, kind: str, start: float, end: float) -> str:
        """A loss class as a share of its chances, in [start, end) Unix time."""
        chances = "session checks" if kind == SESSION_LOST else "code checks"

        def total(name: str) -> int:
            return sum(n for second, n in self.timeline.get(name, {}).items() if start <= second < end)

        n, of = total(kind), total(chances)
        return f"{n:,} of {of:,} ({100 * n / of:.1f} %)" if of else f"{n:,}"

    def count(self, kind: str) -> str:
        """A class's count as a table shows it: server errors with their statuses."""
        text = f"{self.classes[kind]:,}"
        if kind == SERVER_ERROR and self.server_errors:
            text += " (" + ", ".join(f"{n} × {status}" for status, n in self.server_errors.items()) + ")"
        return text

    @classmethod
    def read(cls, csv_prefix: Path, summary: Path) -> Run:
        with open(f"{csv_prefix}_stats.csv", newline="") as handle:
            total = next(row for row in csv.DictReader(handle) if row["Name"] == "Aggregated")
        extra = json.loads(summary.read_text())
        return cls(
            requests=int(total["Request Count"]),
            failures=int(total["Failure Count"]),
            rps=float(total["Requests/s"]),
            p50=float(total["50%"]),
            p95=float(total["95%"]),
            p99=float(total["99%"]),
            classes={kind: int(extra["failures"].get(kind, 0)) for kind in CLASSES},
            server_errors={k: int(v) for k, v in extra.get("server_errors", {}).items()},
            nodes=dict(extra["nodes"]),
            session_checks=int(extra.get("tries", {}).get("session checks", 0)),
            code_checks=int(extra.get("tries", {}).get("code checks", 0)),
            timeline={
                name: {int(second): int(n) for second, n in counts.items()}
                for name, counts in extra.get("timeline", {}).items()
            },
        )


def markdown_table(header: list[str], rows: list[list[str]]) -> str:
    lines = [
        "| " + " | ".join(header) + " |",
        "|" + "|".join("---" if i == 0 else "---:" for i in range(len(header))) + "|",
    ]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)
