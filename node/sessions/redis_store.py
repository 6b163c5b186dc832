"""The fix: sessions in Redis, shared by every node."""

from __future__ import annotations

from redis.asyncio import Redis
from redis.typing import EncodableT

from ..models import UserDTO
from .base import LOGIN_CODE_KEY, LOGIN_USER_KEY, SessionStore

# Read the hash and push its TTL back in one round trip.  A script rather
# than a pipeline so that a key which expires between the two steps is not
# given a TTL again, and because one EVALSHA costs the client less work
# than a two-command pipeline.
_LOAD_AND_TOUCH = """
local fields = redis.call('HGETALL', KEYS[1])
if #fields > 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
end
return fields
"""


class RedisSessionStore(SessionStore):
    kind = "redis"

    def __init__(self, redis: Redis, *, code_ttl: float, user_ttl: float) -> None:
        super().__init__(code_ttl=code_ttl, user_ttl=user_ttl)
        self._redis = redis
        self._load_and_touch = redis.register_script(_LOAD_AND_TOUCH)

    async def save_code(self, phone: str, code: str) -> None:
        await self._redis.set(LOGIN_CODE_KEY + phone, code, px=_ms(self.code_ttl))

    async def get_code(self, phone: str) -> str | None:
        value = await self._redis.get(LOGIN_CODE_KEY + phone)
        return None if value is None else str(value)

    async def save_user(self, token: str, user: UserDTO) -> None:
        key = LOGIN_USER_KEY + token
        # MULTI/EXEC: the hash never exists without its TTL, even if this
        # node dies between the two commands.
        async with self._redis.pipeline(transaction=True) as pipe:
            fields: dict[EncodableT, EncodableT] = {k: v for k, v in user.to_hash().items()}
            pipe.hset(key, mapping=fields)
            pipe.pexpire(key, _ms(self.user_ttl))
            await pipe.execute()

    async def load_user(self, token: str) -> UserDTO | None:
        flat = await self._load_and_touch(keys=[LOGIN_USER_KEY + token], args=[_ms(self.user_ttl)])
        if not flat:
            return None
        return UserDTO.from_hash(dict(zip(flat[::2], flat[1::2], strict=True)))

    async def delete_user(self, token: str) -> None:
        await self._redis.delete(LOGIN_USER_KEY + token)

    async def ping(self) -> None:
        await self._redis.ping()


def _ms(seconds: float) -> int:
    return max(1, round(seconds * 1000))
