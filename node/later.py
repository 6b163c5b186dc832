"""The course's later chapters: calls its pages make that this lab, about
the login and its session, does not build.  Each answers a refusal that
says so (403 by default, the course's Result.fail with the course's own
convention: node/envelope.py), never a 404 page or a 500, so the course's
front end shows the reason.  Those the course protects still need a login."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

from .envelope import ApiError

View = Callable[[web.Request], Awaitable[web.StreamResponse]]
STATUS = 403  # understood, and refused: the reason is in errorMsg

CHAPTERS: tuple[tuple[str, str, str, str], ...] = (
    # (route name, method, path, what it is)
    ("later.blog.like", "PUT", "/blog/like/{id}", "liking a blog (点赞)"),
    ("later.blog.post", "POST", "/blog", "posting a blog (发布笔记)"),
    ("later.blog.of.follow", "GET", "/blog/of/follow", "the feed of the people you follow (关注推送)"),
    ("later.follow", "PUT", "/follow/{id}/{isFollow}", "following a user (关注)"),
    ("later.upload", "POST", "/upload/blog", "uploading a picture (上传图片)"),
    ("later.upload.delete", "GET", "/upload/blog/delete", "deleting an uploaded picture"),
    ("later.seckill.order", "POST", "/voucher-order/seckill/{id}", "the flash sale (秒杀下单)"),
    ("later.voucher.add", "POST", "/voucher", "adding a voucher"),
    ("later.seckill.add", "POST", "/voucher/seckill", "adding a flash-sale voucher (秒杀券)"),
    ("later.shop.add", "POST", "/shop", "adding a shop"),
    ("later.shop.update", "PUT", "/shop", "updating a shop (缓存更新)"),
    ("later.sign", "POST", "/user/sign", "signing in (签到)"),
    ("later.sign.count", "GET", "/user/sign/count", "counting sign-ins (签到统计)"),
)


def message(what: str) -> str:
    return f"{what} is a later chapter of the course, not part of this lab"


def _refusal(what: str) -> View:
    async def handler(request: web.Request) -> web.StreamResponse:
        # Nothing is read: an upload's body is never looked at.
        raise ApiError(STATUS, message(what))

    return handler


ROUTES: tuple[tuple[str, str, str, View], ...] = tuple(
    (name, method, path, _refusal(what)) for name, method, path, what in CHAPTERS
)
