"""The handlers of the catalogue the course's pages browse: shop types,
shops, their vouchers.  Public, as in the course (its /shop/**,
/shop-type/**, /voucher/**)."""

from __future__ import annotations

from aiohttp import web

from . import catalog_db, params
from .envelope import ApiError, ok
from .typedefs import PG

NAME_MAX = 128  # tb_shop.name is varchar(128): a longer one matches nothing


async def shop_types(request: web.Request) -> web.StreamResponse:
    """GET /shop-type/list: the home page's row of icons."""
    return ok(await catalog_db.shop_types(request.app[PG]))


async def get_shop(request: web.Request) -> web.StreamResponse:
    shop_id = params.path_id(request.match_info, "shop id")
    shop = await catalog_db.shop(request.app[PG], shop_id)
    if shop is None:
        raise ApiError(404, "shop not found")
    return ok(shop)


async def shops_of_type(request: web.Request) -> web.StreamResponse:
    """GET /shop/of/type?typeId=&current=&x=&y= : with x and y, the shops
    within 5 km, nearest first, each with its distance in metres."""
    query = request.query
    type_id = params.query_id(query, "typeId", "the shop type to list")
    page, near = params.page(query), params.map_point(query)
    return ok(await catalog_db.shops_of_type(request.app[PG], type_id, page, near))


async def shops_by_name(request: web.Request) -> web.StreamResponse:
    """GET /shop/of/name?name=&current= : the shops whose name holds it
    (all of them if it is empty)."""
    name = request.query.get("name", "").strip()
    if len(name) > NAME_MAX:
        raise ApiError(400, f"name must be at most {NAME_MAX} characters")
    if not name.isprintable():  # a NUL, say, which Postgres text cannot hold
        raise ApiError(400, "name must be printable text")
    page = params.page(request.query)
    return ok(await catalog_db.shops_by_name(request.app[PG], name, page))


async def vouchers_of_shop(request: web.Request) -> web.StreamResponse:
    """GET /voucher/list/{shopId}: a shop's vouchers (none: an empty list, as the course)."""
    shop_id = params.path_id(request.match_info, "shop id", key="shopId")
    return ok(await catalog_db.vouchers_of_shop(request.app[PG], shop_id))
