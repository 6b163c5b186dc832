"""What every part of the launcher shares: where things are, its error, how it speaks."""

from __future__ import annotations

import os
import secrets
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
VENV_BIN = Path(sys.executable).parent


class LaunchError(RuntimeError):
    """The cluster could not be started as asked; the message says why."""


def colour(code: str, text: str) -> str:
    return f"\033[{code}m{text}\033[0m" if sys.stdout.isatty() and "NO_COLOR" not in os.environ else text


def say(message: str) -> None:
    print(f"{colour('1', '==>')} {message}", flush=True)


def is_root() -> bool:
    return os.geteuid() == 0


def new_run_dir(name: str) -> Path:
    """A fresh temporary run dir for a throwaway cluster.  0755, not
    mkdtemp's 0700: as root, Postgres runs as the postgres user, which must
    be able to enter it."""
    path = Path(tempfile.mkdtemp(prefix=f"sessionlab-{name}-"))
    path.chmod(0o755)
    return path


def write(path: Path, text: str, mode: int = 0o644) -> None:
    path.write_text(text)
    path.chmod(mode)


def secret_file(path: Path) -> str:
    """A random secret kept in ``path`` (made once, readable by us only)."""
    if not path.exists():
        write(path, secrets.token_hex(16) + "\n", 0o600)
    return path.read_text().strip()


def nginx_bin() -> str:
    found = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
    if not found:
        raise LaunchError("nginx not found: run scripts/setup.sh (make setup)")
    return found


def redis_bin() -> str:
    found = shutil.which("redis-server")
    if not found:
        raise LaunchError("redis-server not found: run scripts/setup.sh (make setup)")
    return found
