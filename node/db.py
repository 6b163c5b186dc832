"""Postgres: the schema, and the queries of the login, the sessions and
the SMS outbox (the course's read API has its own: catalog_db, social_db).

Every query a handler runs goes through node.pg, so none of them waits
on a hung database for more than a couple of seconds (node/pg.py says why
asyncpg's own timeouts are not enough)."""

from __future__ import annotations

import contextlib
import random
import string
from collections.abc import AsyncIterator
from importlib import resources
from typing import Any, NamedTuple

from . import pg
from .models import UserDTO

# Any fixed number: the key of the advisory lock that serialises the
# schema step when several nodes start at once (concurrent CREATE TABLE IF
# NOT EXISTS can still fail on the catalog's unique indexes).
_SCHEMA_LOCK = 0x5E5510

USER_NICK_NAME_PREFIX = "user_"
_NICK_ALPHABET = string.ascii_lowercase + string.digits
# The outbox keeps its newest rows only: it stands for phones, read within
# a code's two minutes of life, and 100,000 is two minutes at over 800 codes/s.
SMS_OUTBOX_ROWS = 100_000


async def apply_schema(pool: pg.Pool) -> None:
    sql = resources.files(__package__).joinpath("schema.sql").read_text(encoding="utf-8")
    async with pool.acquire() as conn, conn.transaction():
        # Bounded by the connection's command_timeout alone: the pool's
        # statement_timeout is for a request's statements, not a start-up's.
        await conn.execute("SET LOCAL statement_timeout = 0")
        await conn.execute("SELECT pg_advisory_xact_lock($1)", _SCHEMA_LOCK)
        await conn.execute(sql)


def random_nick_name() -> str:
    # Not a secret (it is shown to everyone), so not the secrets module,
    # which reads the kernel's random source once per character.
    return USER_NICK_NAME_PREFIX + "".join(random.choices(_NICK_ALPHABET, k=10))


# A login's whole Postgres step, one statement: the user of $1 (read under
# a shared lock of their row, or created by this statement with the
# nickname $2), their other sessions younger than $4 seconds (oldest
# first; older rows go) and those of them younger than $5, and a session
# row for $3: its id, and whether this statement added it.
_USER_AND_SESSION = """
WITH found AS (SELECT id, nick_name, icon FROM tb_user WHERE phone = $1 FOR SHARE),
created AS (
    INSERT INTO tb_user (phone, nick_name) SELECT $1, $2 WHERE NOT EXISTS (SELECT FROM found)
    ON CONFLICT (phone) DO NOTHING RETURNING id, nick_name, icon
),
usr AS (SELECT * FROM found UNION ALL SELECT * FROM created),
fresh AS (SELECT now() - make_interval(secs => $4) AS since),
pruned AS (
    DELETE FROM tb_session
    WHERE user_id = (SELECT id FROM usr) AND create_time < (SELECT since FROM fresh)
),
-- ON CONFLICT: a token made of the phone (MISTAKE=phone-token) is the
-- same at every login, and its row is the one already there; a random one
-- never meets itself.
added AS (
    INSERT INTO tb_session (sid, user_id) SELECT $3, id FROM usr ON CONFLICT (sid) DO NOTHING RETURNING id
)
SELECT id, nick_name, icon, o.others, o.in_flight,
    COALESCE((SELECT id FROM added), (SELECT id FROM tb_session WHERE sid = $3), 0) AS session_row,
    EXISTS (SELECT FROM added) AS added
FROM usr, LATERAL (
    SELECT COALESCE(array_agg(sid ORDER BY tb_session.id), '{}') AS others,
        COALESCE(array_agg(sid) FILTER (WHERE create_time >= now() - make_interval(secs => $5)), '{}')
        AS in_flight
    FROM tb_session
    WHERE user_id = usr.id AND create_time >= (SELECT since FROM fresh) AND sid <> $3
) AS o
"""


class NewSession(NamedTuple):
    user: UserDTO
    others: list[str]  # the user's other sessions still young enough to be alive, oldest first
    in_flight: set[str]  # those of them younger than ``in_flight``: maybe not stored yet
    row: int  # the session's row in tb_session
    added: bool  # by this login (not: MISTAKE=phone-token's row of an earlier login)


async def new_session(pool: pg.Pool, phone: str, sid: str, *, max_age: float, in_flight: float) -> NewSession:
    """Find or create the user of ``phone`` and record a new session of
    theirs: one statement, committed alone.  Older rows of theirs go (their
    sessions ended at ``max_age``).

    The user's row is read under a shared lock, so a logout-all or a
    rename, which take it exclusively, runs wholly before the statement
    (the login reads the new name, and is not among the ended) or wholly
    after (it lists this row, and leaves its mark for the session's save:
    SessionStore.end_for_good, update_user).  Two logins of one user at
    the same instant do not see each other, so under a cap the user may
    hold one session too many until the next.

    Race-safe without a lock of ours: two first logins for one phone on two
    nodes both reach the INSERT, the unique index lets one row in and holds
    the other INSERT until it is committed, and the loser (whose INSERT ...
    DO NOTHING returns nothing, so it adds no session) runs the statement
    again, which finds the winner's row.
    """
    async with pg.connection(pool) as conn:
        for _ in range(2):
            row = await conn.fetchrow(
                _USER_AND_SESSION, phone, random_nick_name(), sid, float(max_age), float(in_flight)
            )
            if row is not None:
                user = UserDTO(id=row["id"], nick_name=row["nick_name"], icon=row["icon"])
                others, young = list(row["others"]), set(row["in_flight"])
                return NewSession(user, others, young, row["session_row"], row["added"])
    raise LookupError("the user vanished during login")  # created, then deleted before we read it


@contextlib.asynccontextmanager
async def renamed_user(pool: pg.Pool, user_id: int, nick_name: str) -> AsyncIterator[list[str]]:
    """Rename the user, holding their row until the block (which renames
    their sessions in the store) ends; yields their sessions.  A block that
    raises leaves the name as it was."""
    async with pg.connection(pool) as conn, conn.transaction():
        await conn.execute(
            "UPDATE tb_user SET nick_name = $2, update_time = now() WHERE id = $1", user_id, nick_name
        )
        rows = await conn.fetch("SELECT sid FROM tb_session WHERE user_id = $1 ORDER BY id", user_id)
        yield [row["sid"] for row in rows]


async def end_sessions(pool: pg.Pool, sids: list[str]) -> None:
    if sids:
        await pg.execute(pool, "DELETE FROM tb_session WHERE sid = ANY($1::varchar[])", sids)


async def forget_row(pool: pg.Pool, row: int) -> None:
    """The session row of a login that failed: by its id, which no other
    login's row has (a session id may be another's: MISTAKE=phone-token)."""
    await pg.execute(pool, "DELETE FROM tb_session WHERE id = $1", row)


@contextlib.asynccontextmanager
async def all_sessions(pool: pg.Pool, user_id: int) -> AsyncIterator[dict[str, int]]:
    """Every session of the user (session id: row id), forgotten when the
    block ends without an error (the block ends them in the store).  The
    user's row is held exclusively: a login's statement comes wholly before
    (its row is among these) or after the block.  Each statement, and the
    commit, is bounded (node.pg); the block's work is not."""
    async with pg.connection(pool) as conn, conn.transaction():
        await conn.execute("SELECT 1 FROM tb_user WHERE id = $1 FOR UPDATE", user_id)
        rows = await conn.fetch("DELETE FROM tb_session WHERE user_id = $1 RETURNING sid, id", user_id)
        yield {row["sid"]: row["id"] for row in rows}


async def record_sms(pool: pg.Pool, *, phone: str, code: str, body: str, node: str) -> None:
    """One SMS into the outbox, and, in the same statement, the rows
    SMS_OUTBOX_ROWS ids or more before it out (a range of the primary key).

    ``id > 0`` is always true (ids start at 1): with a bound it knows and
    one it does not, Postgres plans a narrow range of the primary key.  With
    the unknown bound alone it read the whole outbox on every send, a cost
    that grew with the outbox (a login's Postgres CPU doubled over three
    runs of `make bench`'s login rate)."""
    await pg.execute(
        pool,
        """
        WITH added AS (
            INSERT INTO sms_outbox (phone, code, body, node) VALUES ($1, $2, $3, $4) RETURNING id
        )
        DELETE FROM sms_outbox WHERE id > 0 AND id <= (SELECT id FROM added) - $5
        """,
        phone,
        code,
        body,
        node,
        SMS_OUTBOX_ROWS,
    )


async def latest_sms(pool: pg.Pool, phone: str) -> dict[str, Any] | None:
    row = await pg.fetchrow(
        pool,
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
