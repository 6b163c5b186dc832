"""Reports under reports/: a file per run, headed with its date and machine."""

from __future__ import annotations

import datetime
import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
REPORTS = ROOT / "reports"


def stamp() -> str:
    return datetime.datetime.now().strftime("%Y%m%d-%H%M%S")


def save(name: str, title: str, text: str, *, show: bool = False) -> Path:
    """The report under reports/, headed with its date and machine; with
    ``show``, printed as saved."""
    REPORTS.mkdir(exist_ok=True)
    when = datetime.datetime.now().strftime("%Y-%m-%d %H:%M")
    out = REPORTS / f"{name}.md"
    report = f"## {title}, {when}, {os.uname().nodename}, {os.cpu_count()} cores\n\n{text}\n"
    out.write_text(report)
    if show:
        print(f"\n{report}\nsaved {out.relative_to(ROOT)}")
    return out
