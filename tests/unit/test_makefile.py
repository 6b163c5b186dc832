"""`make help` reads as one aligned list in 100 columns, and the targets
that use a running cluster never rebuild or grow the venv under it."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent


def make_help() -> list[str]:
    out = subprocess.run(
        ["make", "--no-print-directory", "help"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    return out.splitlines()


def prerequisites(target: str) -> list[str]:
    match = re.search(rf"^{re.escape(target)}:([^#\n]*)", (ROOT / "Makefile").read_text(), re.M)
    assert match, target
    return match.group(1).split()


def test_help_is_aligned_and_fits_in_100_columns() -> None:
    lines = make_help()
    assert len(lines) > 10
    assert all(len(line) <= 100 for line in lines), [line for line in lines if len(line) > 100]
    # Every description starts in the same column.
    starts = {re.match(r"  make \S+ +", line).end() for line in lines}  # type: ignore[union-attr]
    assert len(starts) == 1


def test_try_follows_up_and_needs_no_test_tools() -> None:
    names = [line.split()[1] for line in make_help()]
    assert names[names.index("up") + 1] == "try"
    assert "setup-dev" not in prerequisites("try")
    for target in ("status", "stop-node", "start-node", "restart", "down"):
        assert prerequisites(target) == [], target
