"""The settings as docs/running.md lists them, from their declarations."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from node.settings import Declared, Settings, declarations
from scripts.cluster.config import READ_BY_LAUNCHER, SET_BY_LAUNCHER, ClusterConfig

_NOTES = {
    "REDIS_URL": "`make up`: given, its own Redis is not started",
    "DATABASE_URL": "`make up`: given, its own Postgres is not started",
    "SECRET_KEY": "`make up` makes one per run dir",
}


def _shown(default: Any) -> str:
    if isinstance(default, bool):
        return "`on`" if default else "`off`"
    if default in ((), ""):
        return "(none)"
    return f"`{default}`"


def _row(d: Declared, note: str = "") -> str:
    return f"| `{d.env}` | {_shown(d.default)} | {d.doc}{f' ({note})' if note else ''} |"


def _node_note(d: Declared) -> str:
    if d.env in _NOTES:
        return _NOTES[d.env]
    if d.env in SET_BY_LAUNCHER:
        return "`make up` sets it"
    return ""


def settings_table() -> str:
    """Markdown: the launcher's settings, then the node's."""
    head = ["| variable | default | meaning |", "|---|---|---|"]
    launcher = [_row(d) for d in declarations(ClusterConfig)]
    node = [_row(d, _node_note(d)) for d in declarations(Settings)]
    read = ", ".join(f"`{env}`" for env in READ_BY_LAUNCHER.values())
    return "\n".join(
        [
            "The launcher's (`make up`, `scripts/cluster/config.py`):",
            "",
            *head,
            *launcher,
            "",
            "Each node's (`node/settings.py`). `make up` passes every one set in its environment to every "
            f"node, but for those it sets itself; it reads {read} as well.",
            "",
            *head,
            *node,
        ]
    )


def readme_with_table(readme: Path) -> str:
    """``readme`` with the text between its settings markers replaced by the table."""
    text = readme.read_text()
    before, rest = text.split(START, 1)
    _, after = rest.split(END, 1)
    return f"{before}{START}\n{settings_table()}\n{END}{after}"


START, END = "<!-- settings -->", "<!-- /settings -->"
