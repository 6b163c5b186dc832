"""A process of its own that serves HTTP, for one command: started, waited
for until a URL of it answers 200, stopped afterwards."""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp

from scripts.lab.waiting import until


@contextlib.contextmanager
def serving(
    command: list[str], *, ready: str, name: str, log: Path | None = None, within: float = 30, **popen: Any
) -> Iterator[subprocess.Popen[bytes]]:
    """``command`` running until the block ends, once ``ready`` (a URL)
    answers 200.  With ``log``, its output goes there, and a start that
    fails says the log's last lines (the log may go with a throwaway dir)."""
    with contextlib.ExitStack() as stack:
        out = stack.enter_context(log.open("w")) if log else None
        proc = subprocess.Popen(command, stdout=out, stderr=out, **popen)
        stack.callback(proc.wait, timeout=20)
        stack.callback(proc.terminate)

        def failed() -> str:
            return f"{name} did not start" + (f":\n{_tail(log)}" if log else "")

        async def answers() -> bool:
            try:
                async with aiohttp.ClientSession() as http, http.get(ready) as resp:
                    return resp.status == 200
            except aiohttp.ClientError:
                return proc.poll() is not None  # gone: said below

        asyncio.run(until(answers, within, failed))
        if proc.poll() is not None:
            raise SystemExit(failed())
        yield proc


def _tail(path: Path, lines: int = 20) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
