"""A hung Postgres: every process of a cluster's own Postgres stopped, so
connections stay open and nobody answers (what a frozen VM or a stalled
disk look like from a node)."""

from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import Iterator
from pathlib import Path

from scripts.cluster import ClusterConfig, LaunchError, process_pid


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            # The name, in parentheses, may hold spaces: the fields after it.
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):  # exited meanwhile
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def _signal(pids: list[int], sig: signal.Signals) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)


@contextlib.contextmanager
def postgres_frozen(cfg: ClusterConfig) -> Iterator[None]:
    """SIGSTOP the postmaster, then its children (the backends, the
    writers); SIGCONT them all when the block ends, however it ends."""
    postmaster = process_pid(cfg, "postgres")
    if postmaster <= 0:  # kill(0) would hit our own process group
        raise LaunchError("postgres is not running: cannot freeze it")
    # The postmaster first: stopped, it forks no new backend meanwhile.
    stopped = [postmaster]
    try:
        _signal(stopped, signal.SIGSTOP)
        stopped += _children(postmaster)
        _signal(stopped[1:], signal.SIGSTOP)
        yield
    finally:
        _signal(stopped[::-1], signal.SIGCONT)
