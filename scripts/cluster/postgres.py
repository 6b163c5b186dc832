"""The launcher's own Postgres: its data dir (initdb once) and the project database."""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import tempfile
from pathlib import Path

import asyncpg

from scripts.cluster.common import LaunchError, is_root, say, write
from scripts.cluster.config import DB_NAME, ClusterConfig
from scripts.lab.waiting import until


def as_postgres(cmd: list[str]) -> list[str]:
    # initdb and postgres refuse to run as root; as root they run as the
    # postgres user that Debian's package creates.
    return ["runuser", "-u", "postgres", "--", *cmd] if is_root() else cmd


def pg_bin() -> Path:
    candidates = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/postgres"),
        key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0,
    )
    if candidates:
        return candidates[-1].parent
    found = shutil.which("postgres")
    if found:
        return Path(found).parent
    raise LaunchError("PostgreSQL server binaries not found: run scripts/setup.sh (make setup)")


def _postgres_can_reach(path: Path) -> bool:
    if not is_root():
        return True
    return subprocess.run(as_postgres(["test", "-x", str(path)]), capture_output=True).returncode == 0


def _make_pgdata(cfg: ClusterConfig) -> None:
    if cfg.pgdata.exists() or cfg.pgdata.is_symlink():
        return
    if _postgres_can_reach(cfg.run_dir):
        cfg.pgdata.mkdir(mode=0o700)
    else:
        # The postgres user cannot enter the run dir (a checkout under
        # root's private home): the data goes to a fresh dir of ours that it
        # can reach, linked from the run dir so that `clean` finds it.
        cfg.pgdata.symlink_to(Path(tempfile.mkdtemp(prefix="sessionlab-pg-", dir="/var/tmp")))


def init_postgres(cfg: ClusterConfig, *, quiet: bool = False) -> None:
    """initdb once per run dir, with a random superuser password."""
    password_file = cfg.run_dir / "pg-password"
    if (cfg.pgdata / "PG_VERSION").exists() and password_file.exists():
        return
    _make_pgdata(cfg)
    if is_root():
        shutil.chown(cfg.pgdata.resolve(), "postgres", "postgres")
    password = secrets.token_hex(16)
    with tempfile.NamedTemporaryFile("w", delete=False, prefix="pgpw-") as handle:
        handle.write(password + "\n")
    try:
        if is_root():
            shutil.chown(handle.name, "postgres", "postgres")
        if not quiet:
            say("initialising Postgres data dir")
        initdb = [str(pg_bin() / "initdb"), "-D", str(cfg.pgdata.resolve()), "-U", "postgres",
                  "-E", "UTF8", "--no-locale", "--auth-local=peer", "--auth-host=scram-sha-256",
                  f"--pwfile={handle.name}"]  # fmt: skip
        result = subprocess.run(as_postgres(initdb), capture_output=True, text=True)
    finally:
        os.unlink(handle.name)
    if result.returncode != 0:
        raise LaunchError(f"initdb failed:\n{result.stdout}{result.stderr}")
    write(password_file, password + "\n", 0o600)


def remove_outside_data(run_dir: Path) -> None:
    """The data dir `init_postgres` made outside ``run_dir``, if it made one (and only that)."""
    pgdata = run_dir / "pgdata"
    if not pgdata.is_symlink():
        return
    target = Path(os.readlink(pgdata))
    if (
        target.parent == Path("/var/tmp")
        and target.name.startswith("sessionlab-pg-")
        and not target.is_symlink()
    ):
        shutil.rmtree(target, ignore_errors=True)


async def ensure_database(cfg: ClusterConfig, wait: float) -> None:
    """Wait for Postgres, then create the project database if it is missing."""
    if not cfg.own_postgres:
        return
    admin_url = cfg.effective_database_url().rsplit("/", 1)[0] + "/postgres"
    conns: list[asyncpg.Connection] = []
    last_error = ["no answer"]

    async def connected() -> bool:
        try:
            conns.append(await asyncpg.connect(admin_url, timeout=2))
        except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
            last_error[0] = repr(exc)
            return False
        return True

    await until(
        connected,
        wait,
        lambda: f"Postgres did not start: {last_error[0]} (see {cfg.log_dir}/postgres.log)",
        error=LaunchError,
    )
    conn = conns[0]
    try:
        if not await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", DB_NAME):
            await conn.execute(f"CREATE DATABASE {DB_NAME}")
    finally:
        await conn.close()
