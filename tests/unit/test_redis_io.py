"""The batch's commands packed by hand are the bytes redis-py would send."""

from __future__ import annotations

import asyncio

from redis.asyncio.connection import Connection

from node.sessions.redis_io import OnKey, _Call

KEY = "login:token:0123456789abcdef0123456789abcdef"
READ = OnKey(("HMGET", "id", "nickName", "icon", "exp"), ("PEXPIRE", 1_800_000))


def by_redis_py(*argvs: tuple[object, ...]) -> bytes:
    conn = Connection()
    return b"".join(b"".join(conn.pack_command(*argv)) for argv in argvs)


def test_a_command_on_a_key_packs_as_redis_py_packs_it() -> None:
    argvs = READ.argvs(KEY)
    assert argvs == (("HMGET", KEY, "id", "nickName", "icon", "exp"), ("PEXPIRE", KEY, 1_800_000))
    assert READ.packed(KEY) == by_redis_py(*argvs)
    assert READ.packed("其他") == by_redis_py(*READ.argvs("其他"))  # a length in bytes, not characters


def test_plain_commands_and_scripts_pack_as_redis_py_packs_them() -> None:
    loop = asyncio.new_event_loop()
    try:
        argvs = (("EVALSHA", "ab" * 20, 1, KEY, 3, 2.5, "值"), ("DEL", KEY))
        assert _Call(argvs, loop.create_future()).packed == by_redis_py(*argvs)
    finally:
        loop.close()
