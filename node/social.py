"""The handlers of what the course's pages show of people: blogs, their
likes, users' public profiles, who follows whom.  All but /blog/hot need a
login, as in the course (its MvcConfig lets /blog/hot alone through)."""

from __future__ import annotations

from aiohttp import web

from . import params, social_db
from .envelope import ApiError, ok
from .models import UserDTO
from .typedefs import PG, USER


async def hot_blogs(request: web.Request) -> web.StreamResponse:
    """GET /blog/hot?current= : the most liked blogs (public)."""
    page = params.page(request.query)
    return ok(await social_db.hot_blogs(request.app[PG], page, _viewer(request)))


async def get_blog(request: web.Request) -> web.StreamResponse:
    blog_id = params.path_id(request.match_info, "blog id")
    blog = await social_db.blog(request.app[PG], blog_id, _viewer(request))
    if blog is None:
        raise ApiError(404, "blog not found")
    return ok(blog)


async def blogs_of_me(request: web.Request) -> web.StreamResponse:
    """GET /blog/of/me?current= : the logged-in user's blogs, newest first."""
    me = _me(request)
    page = params.page(request.query)
    return ok(await social_db.blogs_of_user(request.app[PG], me.id, page, me.id))


async def blogs_of_user(request: web.Request) -> web.StreamResponse:
    """GET /blog/of/user?id=&current= : a user's blogs, newest first."""
    user_id = params.query_id(request.query, "id", "the user whose blogs to list")
    page = params.page(request.query)
    return ok(await social_db.blogs_of_user(request.app[PG], user_id, page, _viewer(request)))


async def blog_likes(request: web.Request) -> web.StreamResponse:
    """GET /blog/likes/{id}: the first five to like it, in that order."""
    blog_id = params.path_id(request.match_info, "blog id")
    users = await social_db.blog_likes(request.app[PG], blog_id)
    if users is None:
        raise ApiError(404, "blog not found")
    return ok(users)


async def get_user(request: web.Request) -> web.StreamResponse:
    """GET /user/{id}: what anyone may see of a user."""
    user = await social_db.user(request.app[PG], params.path_id(request.match_info, "user id"))
    if user is None:
        raise ApiError(404, "user not found")
    return ok(user)


async def user_info(request: web.Request) -> web.StreamResponse:
    """GET /user/info/{id}: the user's profile; no data if they have none
    (the course's pages check for that)."""
    return ok(await social_db.user_info(request.app[PG], params.path_id(request.match_info, "user id")))


async def follows(request: web.Request) -> web.StreamResponse:
    """GET /follow/or/not/{id}: whether the logged-in user follows them."""
    other = params.path_id(request.match_info, "user id")
    return ok(await social_db.follows(request.app[PG], _me(request).id, other))


async def common_follows(request: web.Request) -> web.StreamResponse:
    """GET /follow/common/{id}: the users both the logged-in user and they follow."""
    other = params.path_id(request.match_info, "user id")
    return ok(await social_db.common_follows(request.app[PG], _me(request).id, other))


def _me(request: web.Request) -> UserDTO:
    user = request[USER]
    assert user is not None  # a protected route: the login middleware guarantees it
    return user


def _viewer(request: web.Request) -> int:
    """Whose likes ``isLike`` says: the logged-in user's, or nobody's."""
    user = request[USER]
    return user.id if user is not None else social_db.NOBODY
