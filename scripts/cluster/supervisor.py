"""supervisord, which owns every process of a cluster: asking it, and the pids it reports."""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

from scripts.cluster.common import VENV_BIN, LaunchError
from scripts.cluster.config import ClusterConfig


def supervisorctl(cfg: ClusterConfig, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [str(VENV_BIN / "supervisorctl"), "-c", str(cfg.supervisor_conf), *args],
        capture_output=True,
        text=True,
    )
    if check and result.returncode not in (0, 3):  # 3: some process not running
        raise LaunchError(f"supervisorctl {' '.join(args)} failed: {result.stdout}{result.stderr}")
    return result


def start_supervisord(cfg: ClusterConfig) -> None:
    result = subprocess.run(
        [str(VENV_BIN / "supervisord"), "-c", str(cfg.supervisor_conf)], capture_output=True, text=True
    )
    if result.returncode != 0:
        raise LaunchError(f"supervisord failed to start: {result.stdout}{result.stderr}")


def process_pid(cfg: ClusterConfig, name: str) -> int:
    """The pid supervisord reports for ``name`` (e.g. "nodes:node2", "redis"); 0 if not running."""
    out = supervisorctl(cfg, "pid", name, check=False).stdout.strip()
    return int(out) if out.isdigit() else 0


def kill_process(cfg: ClusterConfig, name: str) -> int:
    """SIGKILL one of supervisord's programs (supervisord starts it again); its pid."""
    pid = process_pid(cfg, name)
    if pid <= 0:  # kill(0) would hit our own process group
        raise LaunchError(f"{name} is not running: cannot kill it")
    os.kill(pid, signal.SIGKILL)
    return pid


def pid_alive(pid: int) -> bool:
    """Whether ``pid`` runs.  A zombie does not: a daemon that exited stays
    one until init reaps it, and kill(pid, 0) still succeeds on it."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def supervisord_pid(cfg: ClusterConfig) -> int | None:
    """The pid of this run dir's supervisord if it runs.  Not the pid file
    alone: after a crash it may name another process, which `down` must not kill."""
    try:
        pid = int((cfg.run_dir / "supervisord.pid").read_text().strip())
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except (OSError, ValueError):
        return None
    ours = any(b"supervisord" in arg for arg in cmdline) and str(cfg.supervisor_conf).encode() in cmdline
    return pid if ours and pid_alive(pid) else None


def is_running(cfg: ClusterConfig) -> bool:
    return supervisord_pid(cfg) is not None
