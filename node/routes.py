"""Every route, by name, in one place.

The tests and the load test take their paths from ``PATHS`` instead of
retyping them.  ``PUBLIC`` is the seed's MvcConfig exclusion list: the
paths the login check lets through without a user.  The course's read API
(node/catalog.py, node/social.py) and its later chapters (node/later.py)
are routes like the others.
"""

from __future__ import annotations

from aiohttp import web

from . import catalog, later, replication, social, views, xray
from .pipeline import Pipeline
from .sessions.replicated import REPLICATION_PATH

ROUTES: tuple[tuple[str, str, str, views.View], ...] = (
    # (name, method, path, handler)
    ("user.code", "POST", "/user/code", views.send_code),
    ("user.login", "POST", "/user/login", views.login),
    ("user.me", "GET", "/user/me", views.me),
    ("user.me.update", "PATCH", "/user/me", views.update_me),
    ("user.logout", "POST", "/user/logout", views.logout),
    ("user.logout.all", "POST", "/user/logout/all", views.logout_all),
    # The course's read API: what its pages show besides the login.
    ("shop-type.list", "GET", "/shop-type/list", catalog.shop_types),
    ("shop.get", "GET", "/shop/{id}", catalog.get_shop),
    ("shop.of.type", "GET", "/shop/of/type", catalog.shops_of_type),
    ("shop.of.name", "GET", "/shop/of/name", catalog.shops_by_name),
    ("voucher.list", "GET", "/voucher/list/{shopId}", catalog.vouchers_of_shop),
    ("blog.hot", "GET", "/blog/hot", social.hot_blogs),
    ("blog.get", "GET", "/blog/{id}", social.get_blog),
    ("blog.of.me", "GET", "/blog/of/me", social.blogs_of_me),
    ("blog.of.user", "GET", "/blog/of/user", social.blogs_of_user),
    ("blog.likes", "GET", "/blog/likes/{id}", social.blog_likes),
    ("user.get", "GET", "/user/{id}", social.get_user),
    ("user.info", "GET", "/user/info/{id}", social.user_info),
    ("follow.or_not", "GET", "/follow/or/not/{id}", social.follows),
    ("follow.common", "GET", "/follow/common/{id}", social.common_follows),
    *later.ROUTES,
    ("cluster.info", "GET", "/cluster/info", views.cluster_info),
    ("healthz", "GET", "/healthz", views.healthz),
    ("readyz", "GET", "/readyz", views.readyz),
    ("dev.sms.latest", "GET", "/dev/sms/latest", views.latest_sms),
    ("dev.xray", "GET", "/dev/xray", xray.xray),
    ("openapi", "GET", "/openapi.json", views.openapi),
)
# For the machine's own monitoring: on each node's port, refused by nginx.
OPS_ROUTES: tuple[tuple[str, str, str, views.View], ...] = (("metrics", "GET", "/metrics", views.metrics),)
# Between the nodes of SESSION_STORE=replicated only: not the API, not in
# the OpenAPI document, refused by nginx.
PEER_ROUTES: tuple[tuple[str, str, str, views.View], ...] = (
    ("replication.changes", "POST", REPLICATION_PATH, replication.receive_changes),
    ("replication.state", "GET", REPLICATION_PATH, replication.send_state),
)
# A user id is digits, so a GET of /user/login or /user/code stays those
# routes' 405 instead of reaching /user/{id}.
_DIGITS_ONLY = frozenset({"user.get"})
PATHS: dict[str, str] = {name: path for name, _, path, _ in ROUTES + OPS_ROUTES + PEER_ROUTES}

# "/x/**" means /x and everything below it, as in Spring's path patterns.
PUBLIC: tuple[str, ...] = (
    "/user/code",
    "/user/login",
    "/blog/hot",
    "/voucher/**",
    "/shop/**",
    "/shop-type/**",
    "/upload/**",
    "/blog/query/hot",
    "/cluster/info",
    "/healthz",
    "/readyz",
    "/dev/**",
    "/openapi.json",
    "/metrics",
    "/internal/**",  # the peer key is checked instead
)


def is_public(path: str) -> bool:
    for pattern in PUBLIC:
        if pattern.endswith("/**"):
            prefix = pattern[:-3]
            if path == prefix or path.startswith(prefix + "/"):
                return True
        elif path == pattern:
            return True
    return False


# The routes that need no login, by name: decided once, not per request.
PUBLIC_ROUTES: frozenset[str] = frozenset(
    name for name, _, path, _ in ROUTES + OPS_ROUTES + PEER_ROUTES if is_public(path)
)


def setup_routes(app: web.Application, pipeline: Pipeline, *, sms_outbox: bool, peers: bool = False) -> None:
    """Every route, its handler inside the request pipeline (node/pipeline.py)."""
    for name, method, path, view in ROUTES + OPS_ROUTES + (PEER_ROUTES if peers else ()):
        if name.startswith("dev.") and not sms_outbox:  # development only: the outbox's switch
            continue
        if name in _DIGITS_ONLY:
            path = path.replace("{id}", "{id:[0-9]+}")
        public = name in PUBLIC_ROUTES
        resource = app.router.add_resource(path, name=name)
        # A GET route answers HEAD too, from the same view (aiohttp sends no
        # body), counted as HEAD: each method's handler knows its own.
        for each in ("GET", "HEAD") if method == "GET" else (method,):
            resource.add_route(each, pipeline.guard(name, view, public=public, method=each))
