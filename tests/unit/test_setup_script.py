"""scripts/setup.sh's decision about the venv, on a fake venv (--dry-run):
the dev tools go on top of the runtime venv, a rebuild happens only when a
runtime pin changed, and never under a cluster running from that venv."""

from __future__ import annotations

import contextlib
import hashlib
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent
RUNTIME = (ROOT / "requirements.txt").read_bytes()
DEV = (ROOT / "requirements-dev.txt").read_bytes()


def setup(venv: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(ROOT / "scripts" / "setup.sh"), "--dry-run", *args],
        env={**os.environ, "VENV": str(venv), "NO_COLOR": "1"},
        capture_output=True,
        text=True,
        timeout=30,
    )


def fake_venv(venv: Path, *, runtime: bytes | None, dev: bytes | None) -> None:
    """A venv dir with a python and stamps of the given requirements texts."""
    (venv / "bin").mkdir(parents=True)
    (venv / "bin" / "python").write_text("#!/bin/sh\n")
    (venv / "bin" / "python").chmod(0o755)
    if runtime is not None:
        (venv / ".built-from-requirements.txt").write_text(runtime_stamp(runtime))
    if dev is not None:
        (venv / ".built-from-requirements-dev.txt").write_text(
            hashlib.sha256(RUNTIME + dev).hexdigest() + "\n"
        )


def runtime_stamp(runtime: bytes) -> str:
    # The file twice, as the stamps have always summed it.
    return hashlib.sha256(runtime + runtime).hexdigest() + "\n"


@pytest.fixture
def venv(tmp_path: Path) -> Path:
    return tmp_path.resolve() / "venv"


@contextlib.contextmanager
def cluster_running(venv: Path) -> Iterator[None]:
    """A process whose command line is that of a supervisord started from ``venv``."""
    supervisord = venv / "bin" / "supervisord"
    supervisord.write_text("#!/bin/sh\nsleep 60\n")
    supervisord.chmod(0o755)
    proc = subprocess.Popen([str(supervisord), "-c", "/somewhere/supervisord.conf"])
    try:
        yield
    finally:
        proc.kill()
        proc.wait()


def test_no_venv_is_built_from_scratch(venv: Path) -> None:
    result = setup(venv, "--dev")
    assert result.returncode == 0, result.stderr
    assert "would build" in result.stdout and "requirements-dev.txt" in result.stdout


def test_changed_dev_pins_go_on_top_of_the_runtime_venv(venv: Path) -> None:
    fake_venv(venv, runtime=RUNTIME, dev=b"an older dev set\n")
    result = setup(venv, "--dev")
    assert result.returncode == 0, result.stderr
    assert "would install requirements-dev.txt into" in result.stdout
    assert "build" not in result.stdout


@pytest.mark.parametrize(
    ("runtime", "dev"),
    [(None, DEV), (RUNTIME, b"an older dev set\n")],
    ids=["built for tests before the runtime stamp", "dev pins changed since"],
)
def test_the_runtime_target_leaves_a_venv_built_for_tests_alone(
    venv: Path, runtime: bytes | None, dev: bytes
) -> None:
    fake_venv(venv, runtime=runtime, dev=dev)
    result = setup(venv)
    assert result.returncode == 0, result.stderr
    assert "up to date" in result.stdout


def test_changed_runtime_pins_rebuild_the_venv(venv: Path) -> None:
    fake_venv(venv, runtime=b"an older runtime set\n", dev=b"an older dev set\n")
    result = setup(venv)
    assert result.returncode == 0, result.stderr
    assert "would build" in result.stdout and "(rebuild)" in result.stdout


def test_no_rebuild_under_a_running_cluster(venv: Path) -> None:
    fake_venv(venv, runtime=b"an older runtime set\n", dev=None)
    with cluster_running(venv):
        for args in ((), ("--dev",)):
            result = setup(venv, *args)
            assert result.returncode == 1
            assert "a cluster is running from this checkout: make down first" in result.stderr
            assert "/somewhere/supervisord.conf" in result.stderr
        # Dev tools on top are fine under it.
        (venv / ".built-from-requirements.txt").write_text(runtime_stamp(RUNTIME))
        result = setup(venv, "--dev")
        assert result.returncode == 0 and "would install requirements-dev.txt" in result.stdout
