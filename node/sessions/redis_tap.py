"""The replies on the session batch's own Redis connection, parsed in the
transport's callback (node/sessions/redis_io.py: TickBatch).

redis-py reads a reply an await at a time, through its stream; the batch
only needs all of a batch's replies at once.  Put in place of the stream's
protocol on a connection redis-py has connected (authenticated, Sentinel's
master found), a tap hands every byte to a hiredis reader configured as
redis-py's own and answers when the batch's last reply is in.  What the
stream must still hear (the connection lost, writes paused) goes on to it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, NamedTuple, cast

import hiredis
from redis.asyncio.connection import AbstractConnection
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import InvalidResponse


class Replies(NamedTuple):
    """A batch's replies in order, error replies as values, and those errors."""

    all: list[Any]
    errors: list[Exception]


# What a batch hears: its replies, or the connection's failure.
Answer = Callable[[Replies | BaseException], None]


class Tap(asyncio.Protocol):
    def __init__(self, conn: AbstractConnection, transport: asyncio.WriteTransport) -> None:
        encoder = conn.encoder
        # As redis-py's hiredis parser reads: its error classes, its decoding.
        options: dict[str, Any] = {"protocolError": InvalidResponse, "replyError": conn._parser.parse_error}
        if encoder.decode_responses:
            options.update(encoding=encoder.encoding, errors=encoder.encoding_errors)
        self._reader = hiredis.Reader(**options)
        self.transport = transport
        self._stream = cast(asyncio.Protocol, transport.get_protocol())
        self._replies: list[Any] = []
        self._count = 0
        self._answer: Answer | None = None
        self.lost = False
        transport.set_protocol(self)

    def usable(self) -> bool:
        """Open, and no batch in flight on it."""
        return not self.lost and self._answer is None and not self.transport.is_closing()

    def expect(self, count: int, answer: Answer) -> None:
        """``answer`` hears the next ``count`` replies, or the connection
        lost.  One batch at a time."""
        self._replies, self._count, self._answer = [], count, answer

    def forget(self) -> None:
        """The batch in flight no longer wants its answer (its time ran out)."""
        self._answer = None

    def data_received(self, data: bytes) -> None:
        self._reader.feed(data)
        replies, gets = self._replies, self._reader.gets
        while (reply := gets()) is not False:
            replies.append(reply)
        if self._answer is not None and len(replies) >= self._count:
            # A reply that is a ConnectionError (e.g. LOADING) fails the
            # batch, as redis-py's read_response raises it.  Looked for
            # only among the error replies: usually there are none.
            errors = [r for r in replies if isinstance(r, Exception)]
            lost = next((r for r in errors if isinstance(r, RedisConnectionError)), None)
            self._settle(lost if lost is not None else Replies(replies, errors))

    def _settle(self, result: Replies | BaseException) -> None:
        answer, self._answer = self._answer, None
        if answer is not None:
            answer(result)

    def eof_received(self) -> bool | None:
        self.lost = True
        self._settle(RedisConnectionError("Redis closed the connection"))
        return self._stream.eof_received()

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = True
        self._settle(RedisConnectionError(f"Redis connection lost: {exc!r}"))
        self._stream.connection_lost(exc)

    def pause_writing(self) -> None:
        self._stream.pause_writing()

    def resume_writing(self) -> None:
        self._stream.resume_writing()
