"""Postgres: the schema and every query the node runs."""

from __future__ import annotations

import secrets
import string
from importlib import resources
from typing import Any

import asyncpg

from .models import UserDTO

# Any fixed number: the key of the advisory lock that serialises the
# schema step when several nodes start at once (concurrent CREATE TABLE IF
# NOT EXISTS can still fail on the catalog's unique indexes).
_SCHEMA_LOCK = 0x5E5510

USER_NICK_NAME_PREFIX = "user_"
_NICK_ALPHABET = string.ascii_lowercase + string.digits
BLOG_PAGE_SIZE = 10


async def apply_schema(pool: asyncpg.Pool) -> None:
    sql = resources.files(__package__).joinpath("schema.sql").read_text(encoding="utf-8")
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock($1)", _SCHEMA_LOCK)
        await conn.execute(sql)


def random_nick_name() -> str:
    return USER_NICK_NAME_PREFIX + "".join(secrets.choice(_NICK_ALPHABET) for _ in range(10))


async def find_or_create_user(pool: asyncpg.Pool, phone: str) -> UserDTO:
    """The user with this phone, created on first login.

    Race-safe without a lock: two first logins for one phone on two nodes
    both reach the INSERT, the unique index lets one row in, and the loser
    (whose INSERT ... DO NOTHING returns nothing) reads the winner's row in
    a new statement, which sees it once it is committed.
    """
    select = "SELECT id, nick_name, icon FROM tb_user WHERE phone = $1"
    row = await pool.fetchrow(select, phone)
    if row is None:
        row = await pool.fetchrow(
            "INSERT INTO tb_user (phone, nick_name) VALUES ($1, $2) "
            "ON CONFLICT (phone) DO NOTHING RETURNING id, nick_name, icon",
            phone,
            random_nick_name(),
        )
    if row is None:
        row = await pool.fetchrow(select, phone)
    if row is None:  # deleted between the INSERT and the SELECT
        raise LookupError(f"user for {phone} vanished during login")
    return UserDTO(id=row["id"], nick_name=row["nick_name"], icon=row["icon"])


async def add_session(pool: asyncpg.Pool, sid: str, user_id: int, *, max_age: float) -> list[str]:
    """Record a new session of the user; return the user's other sessions
    still young enough to be alive, oldest first.  Older rows go: their
    sessions ended at ``max_age`` whatever happened to them.

    One statement, one round trip (a transaction with a row lock cost a
    third of the login rate in `make bench`).  Its one race: two logins of
    one user at the same instant do not see each other, so under a cap the
    user may hold one session too many until the next login.
    """
    rows = await pool.fetch(
        """
        WITH fresh AS (SELECT now() - make_interval(secs => $3) AS since),
        pruned AS (
            DELETE FROM tb_session WHERE user_id = $1 AND create_time < (SELECT since FROM fresh)
        ),
        added AS (INSERT INTO tb_session (sid, user_id) VALUES ($2, $1))
        SELECT sid FROM tb_session
        WHERE user_id = $1 AND create_time >= (SELECT since FROM fresh)
        ORDER BY id
        """,
        user_id,
        sid,
        float(max_age),
    )
    return [row["sid"] for row in rows]


async def end_sessions(pool: asyncpg.Pool, sids: list[str]) -> None:
    if sids:
        await pool.execute("DELETE FROM tb_session WHERE sid = ANY($1::varchar[])", sids)


async def take_sessions(pool: asyncpg.Pool, user_id: int) -> list[str]:
    """Forget every session of the user; return their ids."""
    rows = await pool.fetch("DELETE FROM tb_session WHERE user_id = $1 RETURNING sid", user_id)
    return [row["sid"] for row in rows]


async def get_shop(pool: asyncpg.Pool, shop_id: int) -> dict[str, Any] | None:
    row = await pool.fetchrow(
        "SELECT id, name, type_id, area, address, avg_price, score, open_hours FROM tb_shop WHERE id = $1",
        shop_id,
    )
    if row is None:
        return None
    return {
        "id": row["id"],
        "name": row["name"],
        "typeId": row["type_id"],
        "area": row["area"],
        "address": row["address"],
        "avgPrice": row["avg_price"],
        "score": row["score"],
        "openHours": row["open_hours"],
    }


async def hot_blogs(pool: asyncpg.Pool, page: int) -> list[dict[str, Any]]:
    rows = await pool.fetch(
        "SELECT b.id, b.shop_id, b.user_id, b.title, b.content, b.liked, b.comments, "
        "       u.nick_name, u.icon "
        "FROM tb_blog b JOIN tb_user u ON u.id = b.user_id "
        "ORDER BY b.liked DESC, b.id LIMIT $1 OFFSET $2",
        BLOG_PAGE_SIZE,
        (page - 1) * BLOG_PAGE_SIZE,
    )
    return [
        {
            "id": r["id"],
            "shopId": r["shop_id"],
            "userId": r["user_id"],
            "title": r["title"],
            "content": r["content"],
            "liked": r["liked"],
            "comments": r["comments"],
            "name": r["nick_name"],
            "icon": r["icon"],
        }
        for r in rows
    ]


async def record_sms(pool: asyncpg.Pool, *, phone: str, code: str, body: str, node: str) -> None:
    await pool.execute(
        "INSERT INTO sms_outbox (phone, code, body, node) VALUES ($1, $2, $3, $4)",
        phone,
        code,
        body,
        node,
    )


async def latest_sms(pool: asyncpg.Pool, phone: str) -> dict[str, Any] | None:
    row = await pool.fetchrow(
        "SELECT phone, code, body, node, sent_at FROM sms_outbox WHERE phone = $1 ORDER BY id DESC LIMIT 1",
        phone,
    )
    if row is None:
        return None
    return {
        "phone": row["phone"],
        "code": row["code"],
        "body": row["body"],
        "node": row["node"],
        "sentAt": row["sent_at"].isoformat(),
    }
