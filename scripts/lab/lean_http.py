"""The least HTTP/1.1 client a login-rate benchmark needs: one keep-alive
connection, a request written as one bytes object, an answer read by its
Content-Length.

Why not aiohttp's client: the benchmark shares the machine's cores with
the cluster it measures, and aiohttp's client took 0.7 ms of CPU a login
(three requests), as much as Postgres did.  wrk, in C, does this job for
the GET benchmarks; a login is three requests in a row, each needing the
last one's answer, which wrk's scripts cannot chain per connection.
This client is for our own nodes on 127.0.0.1: it reads answers with a
Content-Length (every answer of a node has one) and nothing chunked."""

from __future__ import annotations

import asyncio
import json
from typing import Any
from urllib.parse import urlsplit

# A line or a header block longer than this is not one of our answers.
_LIMIT = 1 << 16


class LeanConnection:
    """One keep-alive connection to ``base`` (``http://host:port``)."""

    def __init__(self, base: str) -> None:
        parts = urlsplit(base)
        if parts.scheme != "http" or parts.hostname is None or parts.port is None:
            raise ValueError(f"an http://host:port URL is needed, not {base!r}")
        self.host, self.port = parts.hostname, parts.port
        self._prefix = parts.path.rstrip("/")
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def __aenter__(self) -> LeanConnection:
        self._reader, self._writer = await asyncio.open_connection(self.host, self.port, limit=_LIMIT)
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._writer is not None:
            self._writer.close()
            await self._writer.wait_closed()

    async def request(self, method: str, target: str, json_body: Any = None) -> tuple[int, Any]:
        """Send one request (``target``: path and query); the status and
        the answer's JSON."""
        assert self._reader is not None and self._writer is not None, "use `async with`"
        body = b"" if json_body is None else json.dumps(json_body).encode()
        head = (
            f"{method} {self._prefix}{target} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        )
        self._writer.write(head.encode("latin-1") + body)
        header = await self._reader.readuntil(b"\r\n\r\n")
        status_line, _, rest = header.partition(b"\r\n")
        status = int(status_line.split(b" ", 2)[1])
        length = None
        for line in rest.split(b"\r\n"):
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        if length is None:
            raise ValueError(f"an answer without a Content-Length from {method} {target}")
        return status, json.loads(await self._reader.readexactly(length))
