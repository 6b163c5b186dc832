"""Postgres: the catalogue the course's pages browse (shop types, shops,
their vouchers), as the course's camelCase fields.  Every query goes
through node.pg, bounded in time."""

from __future__ import annotations

from typing import Any

import asyncpg

from . import pg

SHOPS_PER_PAGE = 5  # the course's DEFAULT_PAGE_SIZE: shops of a type
SHOPS_PER_SEARCH = 10  # its MAX_PAGE_SIZE: shops by name
NEARBY_METRES = 5000  # its GEOSEARCH radius: shops of a type near a point
# Metres, the radius Redis GEO computes its distances with, so a later
# chapter's GEOSEARCH finds what this does.
EARTH_RADIUS = 6372797.560856

_SHOP = (
    "s.id, s.name, s.type_id, s.images, s.area, s.address, s.x, s.y, "
    "s.avg_price, s.sold, s.comments, s.score, s.open_hours"
)
# Haversine, from the point ($x, $y) to the shop's.
_DISTANCE = (
    f"{EARTH_RADIUS} * 2 * asin(sqrt(power(sin(radians(s.y - $3) / 2), 2) "
    "+ cos(radians($3)) * cos(radians(s.y)) * power(sin(radians(s.x - $2) / 2), 2)))"
)


async def shop_types(pool: pg.Pool) -> list[dict[str, Any]]:
    rows = await pg.fetch(pool, "SELECT id, name, icon, sort FROM tb_shop_type ORDER BY sort, id")
    return [{"id": r["id"], "name": r["name"], "icon": r["icon"], "sort": r["sort"]} for r in rows]


async def shop(pool: pg.Pool, shop_id: int) -> dict[str, Any] | None:
    row = await pg.fetchrow(pool, f"SELECT {_SHOP} FROM tb_shop s WHERE s.id = $1", shop_id)
    return None if row is None else _shop(row)


async def shops_of_type(
    pool: pg.Pool, type_id: int, page: int, near: tuple[float, float] | None
) -> list[dict[str, Any]]:
    """A page of the type's shops: by id, or, given a point, those within
    NEARBY_METRES of it, nearest first, each with its distance."""
    if near is None:
        rows = await pg.fetch(
            pool,
            f"SELECT {_SHOP} FROM tb_shop s WHERE s.type_id = $1 ORDER BY s.id LIMIT $2 OFFSET $3",
            type_id,
            SHOPS_PER_PAGE,
            (page - 1) * SHOPS_PER_PAGE,
        )
    else:
        rows = await pg.fetch(
            pool,
            f"SELECT * FROM (SELECT {_SHOP}, {_DISTANCE} AS distance "
            "               FROM tb_shop s WHERE s.type_id = $1) AS s "
            "WHERE s.distance <= $4 ORDER BY s.distance, s.id LIMIT $5 OFFSET $6",
            type_id,
            *near,
            float(NEARBY_METRES),
            SHOPS_PER_PAGE,
            (page - 1) * SHOPS_PER_PAGE,
        )
    return [_shop(r) for r in rows]


async def shops_by_name(pool: pg.Pool, name: str, page: int) -> list[dict[str, Any]]:
    """A page of the shops whose name holds ``name`` (every shop if empty)."""
    # strpos, not LIKE: a % or _ the user typed is a character, not a pattern.
    rows = await pg.fetch(
        pool,
        f"SELECT {_SHOP} FROM tb_shop s WHERE strpos(s.name, $1) > 0 ORDER BY s.id LIMIT $2 OFFSET $3",
        name,
        SHOPS_PER_SEARCH,
        (page - 1) * SHOPS_PER_SEARCH,
    )
    return [_shop(r) for r in rows]


async def vouchers_of_shop(pool: pg.Pool, shop_id: int) -> list[dict[str, Any]]:
    """Every voucher of the shop, a flash sale's with its stock and window
    (the page itself hides those that have ended)."""
    rows = await pg.fetch(
        pool,
        "SELECT v.id, v.shop_id, v.title, v.sub_title, v.rules, v.pay_value, v.actual_value, v.type, "
        "       sv.stock, sv.begin_time, sv.end_time "
        "FROM tb_voucher v LEFT JOIN tb_seckill_voucher sv ON sv.voucher_id = v.id "
        "WHERE v.shop_id = $1 ORDER BY v.id",
        shop_id,
    )
    vouchers = []
    for r in rows:
        voucher = {
            "id": r["id"],
            "shopId": r["shop_id"],
            "title": r["title"],
            "subTitle": r["sub_title"],
            "rules": r["rules"],
            "payValue": r["pay_value"],
            "actualValue": r["actual_value"],
            "type": r["type"],
        }
        if r["stock"] is not None:  # a flash sale; the others leave these out, as the course does
            voucher |= {
                "stock": r["stock"],
                "beginTime": r["begin_time"].isoformat(),
                "endTime": r["end_time"].isoformat(),
            }
        vouchers.append(voucher)
    return vouchers


def _shop(r: asyncpg.Record) -> dict[str, Any]:
    out = {
        "id": r["id"],
        "name": r["name"],
        "typeId": r["type_id"],
        "images": r["images"],
        "area": r["area"],
        "address": r["address"],
        "x": r["x"],
        "y": r["y"],
        "avgPrice": r["avg_price"],
        "sold": r["sold"],
        "comments": r["comments"],
        "score": r["score"],
        "openHours": r["open_hours"],
    }
    if "distance" in r.keys():  # noqa: SIM118 (a Record is no dict)
        out["distance"] = round(r["distance"], 1)
    return out
