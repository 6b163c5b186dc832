"""Postgres: what the course's pages show of people (blogs, their likes,
users' public profiles, who follows whom), as the course's camelCase
fields.  Every query goes through node.pg, bounded in time."""

from __future__ import annotations

from typing import Any

import asyncpg

from . import pg

BLOGS_PER_PAGE = 10  # the course's MAX_PAGE_SIZE
LIKES_SHOWN = 5  # the first five to like a blog, as the course's page shows them
NOBODY = 0  # no user has this id: the viewer of a page nobody is logged in to

# $1 is the viewer, whose like isLike says.
_BLOG = (
    "SELECT b.id, b.shop_id, b.user_id, b.title, b.images, b.content, b.liked, b.comments, "
    "       b.create_time, u.nick_name, u.icon, "
    "       EXISTS (SELECT 1 FROM tb_blog_like l WHERE l.blog_id = b.id AND l.user_id = $1) AS is_like "
    "FROM tb_blog b JOIN tb_user u ON u.id = b.user_id "
)


async def hot_blogs(pool: pg.Pool, page: int, viewer: int) -> list[dict[str, Any]]:
    rows = await pg.fetch(
        pool,
        _BLOG + "ORDER BY b.liked DESC, b.id LIMIT $2 OFFSET $3",
        viewer,
        BLOGS_PER_PAGE,
        (page - 1) * BLOGS_PER_PAGE,
    )
    return [_blog(r) for r in rows]


async def blog(pool: pg.Pool, blog_id: int, viewer: int) -> dict[str, Any] | None:
    row = await pg.fetchrow(pool, _BLOG + "WHERE b.id = $2", viewer, blog_id)
    return None if row is None else _blog(row)


async def blogs_of_user(pool: pg.Pool, user_id: int, page: int, viewer: int) -> list[dict[str, Any]]:
    """A page of the user's blogs, newest first."""
    rows = await pg.fetch(
        pool,
        _BLOG + "WHERE b.user_id = $2 ORDER BY b.create_time DESC, b.id DESC LIMIT $3 OFFSET $4",
        viewer,
        user_id,
        BLOGS_PER_PAGE,
        (page - 1) * BLOGS_PER_PAGE,
    )
    return [_blog(r) for r in rows]


async def blog_likes(pool: pg.Pool, blog_id: int) -> list[dict[str, Any]] | None:
    """The first users to like the blog, in the order they did; None if
    there is no such blog."""
    if await pg.fetchrow(pool, "SELECT 1 FROM tb_blog WHERE id = $1", blog_id) is None:
        return None
    rows = await pg.fetch(
        pool,
        "SELECT u.id, u.nick_name, u.icon FROM tb_blog_like l JOIN tb_user u ON u.id = l.user_id "
        "WHERE l.blog_id = $1 ORDER BY l.create_time, l.user_id LIMIT $2",
        blog_id,
        LIKES_SHOWN,
    )
    return [_user(r) for r in rows]


async def user(pool: pg.Pool, user_id: int) -> dict[str, Any] | None:
    row = await pg.fetchrow(pool, "SELECT id, nick_name, icon FROM tb_user WHERE id = $1", user_id)
    return None if row is None else _user(row)


async def user_info(pool: pg.Pool, user_id: int) -> dict[str, Any] | None:
    """The user's profile, if they filled one in."""
    r = await pg.fetchrow(
        pool,
        "SELECT i.user_id, i.city, i.introduce, i.gender, i.birthday, i.credits, i.level, "
        "       (SELECT count(*) FROM tb_follow f WHERE f.follow_user_id = i.user_id) AS fans, "
        "       (SELECT count(*) FROM tb_follow f WHERE f.user_id = i.user_id) AS followee "
        "FROM tb_user_info i WHERE i.user_id = $1",
        user_id,
    )
    if r is None:
        return None
    info = {
        "userId": r["user_id"],
        "city": r["city"],
        "introduce": r["introduce"],
        "fans": r["fans"],
        "followee": r["followee"],
        "gender": r["gender"],
        "credits": r["credits"],
        "level": r["level"],
    }
    if r["birthday"] is not None:  # left out when unknown, as the course leaves out its nulls
        info["birthday"] = r["birthday"].isoformat()
    return info


async def follows(pool: pg.Pool, user_id: int, other: int) -> bool:
    row = await pg.fetchrow(
        pool, "SELECT 1 FROM tb_follow WHERE user_id = $1 AND follow_user_id = $2", user_id, other
    )
    return row is not None


async def common_follows(pool: pg.Pool, user_id: int, other: int) -> list[dict[str, Any]]:
    """The users both follow."""
    rows = await pg.fetch(
        pool,
        "SELECT u.id, u.nick_name, u.icon FROM tb_follow mine "
        "JOIN tb_follow theirs ON theirs.follow_user_id = mine.follow_user_id AND theirs.user_id = $2 "
        "JOIN tb_user u ON u.id = mine.follow_user_id "
        "WHERE mine.user_id = $1 ORDER BY u.id",
        user_id,
        other,
    )
    return [_user(r) for r in rows]


def _user(r: asyncpg.Record) -> dict[str, Any]:
    return {"id": r["id"], "nickName": r["nick_name"], "icon": r["icon"]}


def _blog(r: asyncpg.Record) -> dict[str, Any]:
    return {
        "id": r["id"],
        "shopId": r["shop_id"],
        "userId": r["user_id"],
        "icon": r["icon"],
        "name": r["nick_name"],
        "title": r["title"],
        "images": r["images"],
        "content": r["content"],
        "liked": r["liked"],
        "comments": r["comments"],
        "createTime": r["create_time"].isoformat(),
        "isLike": r["is_like"],
    }
