"""The course's read API, in-process on the test cluster's Postgres (the
seed rows): every field each of the course's pages reads is there, of the
type the page uses it as; which paths need a login follows the course; its
later chapters say so; and a refusal reaches the course's front end the
way it shows one (HTTP 200, success false) when the request asks for it."""

from __future__ import annotations

import datetime
import math
import posixpath
import secrets
from typing import Any

import aiohttp
import asyncpg
import pytest

from node import db, later
from node.catalog_db import NEARBY_METRES
from node.envelope import CONVENTION_HEADER, COURSE, STATUS_HEADER
from node.routes import PATHS, is_public
from node.typedefs import METRICS
from scripts.cluster import ClusterConfig
from scripts.lab.journey import walk_login
from tests.conftest import Client, MakeClient
from tests.helpers import random_phone

# The map point the course's shop-list.html sends.
COURSE_POINT = {"x": "120.149993", "y": "30.334229"}
TYPE_ICONS = {"ms", "KTV", "lrmf", "jsyd", "amzl", "spa", "qzyl", "mjmj", "jiuba", "hpg"}
# Seed users, by the phone they were made with (node/schema.sql).
XIAOYU, KEKE, MAO, AZHE, ZHOUMO = "13686869696", "13838411438", "13600001001", "13600001002", "13600001003"
COURSE_HEADERS = {CONVENTION_HEADER: COURSE}

# What each page reads of what it is answered, and as what.
SHOP_FIELDS = {
    "id": int, "name": str, "typeId": int, "images": str, "area": str, "address": str, "x": float,
    "y": float, "avgPrice": int, "sold": int, "comments": int, "score": int, "openHours": str,
}  # fmt: skip
BLOG_FIELDS = {
    "id": int, "shopId": int, "userId": int, "icon": str, "name": str, "title": str, "images": str,
    "content": str, "liked": int, "comments": int, "createTime": str, "isLike": bool,
}  # fmt: skip
USER_FIELDS = {"id": int, "nickName": str, "icon": str}
INFO_FIELDS = {
    "userId": int, "city": str, "introduce": str, "fans": int, "followee": int, "gender": int,
    "birthday": str, "credits": int, "level": int,
}  # fmt: skip
VOUCHER_FIELDS = {
    "id": int, "shopId": int, "title": str, "subTitle": str, "rules": str, "payValue": int,
    "actualValue": int, "type": int,
}  # fmt: skip
FLASH_SALE_FIELDS = {"stock": int, "beginTime": str, "endTime": str}


def has_fields(item: dict[str, Any], fields: dict[str, type]) -> None:
    for name, kind in fields.items():
        assert name in item, f"{name} missing from {item}"
        assert isinstance(item[name], kind), f"{name}={item[name]!r} is not {kind.__name__}"


def moment(text: str) -> datetime.datetime:
    """A time as the course's pages read it (`new Date(...)`): with its zone."""
    value = datetime.datetime.fromisoformat(text)
    assert value.tzinfo is not None, text
    return value


async def get(
    client: Client, path: str, token: str | None = None, **params: str
) -> tuple[int, dict[str, Any]]:
    headers = {"authorization": token} if token else {}
    resp = await client.get(path, params=params, headers=headers)
    return resp.status, await resp.json()


async def data(client: Client, path: str, token: str | None = None, **params: str) -> Any:
    status, body = await get(client, path, token, **params)
    assert status == 200 and body["success"] is True, body
    return body.get("data")


async def log_in(client: Client) -> tuple[str, int]:
    walk = await walk_login(client.session, str(client.make_url("")).rstrip("/"), random_phone())
    token = walk.token
    return token, (await data(client, PATHS["user.me"], token))["id"]


@pytest.fixture
async def client(make_client: MakeClient) -> Client:
    return await make_client()


@pytest.fixture
async def seed_users(pg: asyncpg.Connection) -> dict[str, int]:
    rows = await pg.fetch(
        "SELECT phone, id FROM tb_user WHERE phone = ANY($1::varchar[])", [XIAOYU, KEKE, MAO, AZHE, ZHOUMO]
    )
    return {r["phone"]: r["id"] for r in rows}


# --- index.html, shop-list.html, shop-detail.html: public ------------------------------


async def test_the_shop_types_are_the_course_icons_in_their_order(client: Client) -> None:
    types = await data(client, PATHS["shop-type.list"])
    for t in types:
        has_fields(t, {"id": int, "name": str, "icon": str, "sort": int})
    assert [t["sort"] for t in types] == sorted(t["sort"] for t in types)
    # index.html shows '/imgs/' + icon; nginx merges the double slash.
    shown = {posixpath.normpath("/imgs/" + t["icon"]) for t in types}
    assert shown == {f"/imgs/types/{name}.png" for name in TYPE_ICONS}


async def test_a_types_shops_near_the_course_point_come_nearest_first_with_their_distance(
    client: Client,
) -> None:
    seen: list[dict[str, Any]] = []
    for page in ("1", "2", "3"):
        shops = await data(client, PATHS["shop.of.type"], typeId="1", current=page, **COURSE_POINT)
        assert len(shops) <= 5
        seen += shops
    for shop in seen:
        has_fields(shop, {**SHOP_FIELDS, "distance": float})
        assert shop["typeId"] == 1 and 0 <= shop["distance"] <= NEARBY_METRES
    distances = [shop["distance"] for shop in seen]
    assert distances == sorted(distances) and len(seen) >= 5  # the next page carries on
    # The shop across town is further than the course's 5 km: listed without a point only.
    everything = await data(client, PATHS["shop.of.type"], typeId="1", current="2")
    assert 17 not in {shop["id"] for shop in seen}
    assert 17 in {shop["id"] for shop in everything} and "distance" not in everything[0]


async def test_a_distance_is_in_metres(client: Client) -> None:
    # Shop 2 is at (120.151505, 30.333422): about 170 m from the course's point.
    shops = await data(client, PATHS["shop.of.type"], typeId="1", **COURSE_POINT)
    assert shops[0]["id"] == 2 and 150 < shops[0]["distance"] < 190


async def test_shops_are_found_by_a_part_of_their_name(client: Client) -> None:
    ktv = await data(client, PATHS["shop.of.name"], name="KTV")
    assert {s["id"] for s in ktv} == {7, 8}
    for shop in ktv:
        has_fields(shop, SHOP_FIELDS)
    assert len(await data(client, PATHS["shop.of.name"])) == 10  # blog-edit.html asks with no name: all
    assert await data(client, PATHS["shop.of.name"], name="%") == []  # a character, not a pattern


async def test_a_shop_has_every_field_its_page_reads(client: Client) -> None:
    shop = await data(client, "/shop/1")
    has_fields(shop, SHOP_FIELDS)
    assert "distance" not in shop
    assert all(url.startswith("/imgs/") for url in shop["images"].split(","))


async def test_a_shops_vouchers_show_a_flash_sale_with_its_stock_and_window(client: Client) -> None:
    vouchers = await data(client, "/voucher/list/1")
    now = datetime.datetime.now(datetime.UTC)
    for v in vouchers:
        has_fields(v, VOUCHER_FIELDS)
        assert v["shopId"] == 1 and 0 < v["payValue"] < v["actualValue"]  # cents, and a discount
        if v["type"] == 1:
            has_fields(v, FLASH_SALE_FIELDS)
            assert moment(v["beginTime"]) < moment(v["endTime"])
        else:
            assert not set(FLASH_SALE_FIELDS) & set(v)  # left out, as the course leaves out nulls
    # The page hides a voucher whose end is past (its isEnd): one of each.
    ended = [v for v in vouchers if v["type"] == 1 and moment(v["endTime"]) < now]
    on_sale = [v for v in vouchers if v["type"] == 1 and moment(v["beginTime"]) <= now < moment(v["endTime"])]
    assert len(ended) == 1 and len(on_sale) == 1 and len(vouchers) == 3
    assert await data(client, "/voucher/list/999999") == []


async def test_hot_blogs_carry_their_pictures_and_whether_the_reader_liked_them(
    client: Client, pg: asyncpg.Connection
) -> None:
    blogs = await data(client, PATHS["blog.hot"], current="1")
    for blog in blogs:
        has_fields(blog, BLOG_FIELDS)
        assert blog["images"].split(",")[0].startswith("/imgs/blogs/")  # index.html's picture
        assert blog["isLike"] is False  # nobody logged in
        moment(blog["createTime"])
    assert [b["liked"] for b in blogs] == sorted((b["liked"] for b in blogs), reverse=True)
    token, me = await log_in(client)
    await pg.execute("INSERT INTO tb_blog_like (blog_id, user_id) VALUES (2, $1)", me)
    mine = {b["id"]: b["isLike"] for b in await data(client, PATHS["blog.hot"], token)}
    assert mine[2] is True and mine[1] is False


# --- blog-detail.html, info.html, other-info.html: logged in --------------------------


async def test_a_blog_has_every_field_its_page_reads(client: Client) -> None:
    token, _ = await log_in(client)
    blog = await data(client, "/blog/1", token)
    has_fields(blog, BLOG_FIELDS)
    assert len(blog["images"].split(",")) == 6
    shop = await data(client, f"/shop/{blog['shopId']}")  # the page's next call
    has_fields(shop, SHOP_FIELDS)
    status, body = await get(client, "/blog/999999", token)
    assert (status, body["errorMsg"]) == (404, "blog not found")


async def test_a_blogs_likes_are_its_first_five_likers_in_order(
    client: Client, seed_users: dict[str, int]
) -> None:
    token, _ = await log_in(client)
    likers = await data(client, "/blog/likes/1", token)
    for user in likers:
        has_fields(user, USER_FIELDS)
    assert [u["id"] for u in likers] == [seed_users[p] for p in (KEKE, MAO, AZHE, ZHOUMO)]
    assert (await get(client, "/blog/likes/999999", token))[0] == 404


async def test_a_new_user_has_no_blogs_and_reads_another_users_newest_first(
    client: Client, seed_users: dict[str, int]
) -> None:
    token, _ = await log_in(client)
    assert await data(client, PATHS["blog.of.me"], token) == []
    blogs = await data(client, PATHS["blog.of.user"], token, id=str(seed_users[KEKE]), current="1")
    for blog in blogs:
        has_fields(blog, BLOG_FIELDS)
        assert blog["userId"] == seed_users[KEKE]
    times = [moment(b["createTime"]) for b in blogs]
    assert len(blogs) == 3 and times == sorted(times, reverse=True)


async def test_a_user_and_their_profile_as_other_info_reads_them(
    client: Client, seed_users: dict[str, int]
) -> None:
    token, _ = await log_in(client)
    xiaoyu = seed_users[XIAOYU]
    user = await data(client, f"/user/{xiaoyu}", token)
    has_fields(user, USER_FIELDS)
    assert user["nickName"] == "小鱼同学"
    info = await data(client, f"/user/info/{xiaoyu}", token)
    has_fields(info, INFO_FIELDS)
    # Counted from the follows: 可可 and 阿哲 follow her; she follows 可可, the cat and 阿哲.
    assert (info["userId"], info["fans"], info["followee"]) == (xiaoyu, 2, 3)
    assert info["birthday"] == "1998-06-12"
    # 阿哲 filled in no profile: no data, which the page checks for.
    status, body = await get(client, f"/user/info/{seed_users[AZHE]}", token)
    assert (status, body) == (200, {"success": True})
    assert (await get(client, "/user/999999999", token))[1]["errorMsg"] == "user not found"


async def test_who_follows_whom_and_the_follows_in_common(
    client: Client, pg: asyncpg.Connection, seed_users: dict[str, int]
) -> None:
    token, me = await log_in(client)
    await pg.executemany(
        "INSERT INTO tb_follow (user_id, follow_user_id) VALUES ($1, $2)",
        [(me, seed_users[MAO]), (me, seed_users[AZHE])],
    )
    assert await data(client, f"/follow/or/not/{seed_users[MAO]}", token) is True
    assert await data(client, f"/follow/or/not/{seed_users[KEKE]}", token) is False
    # 小鱼 follows 可可, the cat and 阿哲; this user the cat and 阿哲.
    common = await data(client, f"/follow/common/{seed_users[XIAOYU]}", token)
    for user in common:
        has_fields(user, USER_FIELDS)
    assert [u["id"] for u in common] == sorted([seed_users[MAO], seed_users[AZHE]])
    assert await data(client, f"/follow/common/{seed_users[ZHOUMO]}", token) == [
        {"id": seed_users[MAO], "nickName": "运河边的猫", "icon": "/imgs/icons/user5-icon.png"}
    ]


# --- who may call what -----------------------------------------------------------------

READS = [
    "/shop-type/list", "/shop/1", "/shop/of/type?typeId=1", "/shop/of/name?name=", "/voucher/list/1",
    "/blog/hot", "/blog/1", "/blog/of/me", "/blog/of/user?id=1", "/blog/likes/1", "/user/1",
    "/user/info/1", "/follow/or/not/1", "/follow/common/1",
]  # fmt: skip


@pytest.mark.parametrize("path", READS)
async def test_only_what_the_course_lets_through_is_read_without_a_login(client: Client, path: str) -> None:
    # The course's MvcConfig: /shop/**, /shop-type/**, /voucher/**, /blog/hot and the login.
    public = path.startswith(("/shop", "/voucher/", "/blog/hot"))
    resp = await client.get(path)
    assert resp.status == (200 if public else 401), await resp.text()
    assert is_public(path.split("?")[0]) is public


@pytest.mark.parametrize(
    ("name", "method", "path", "what"), later.CHAPTERS, ids=[c[0] for c in later.CHAPTERS]
)
async def test_a_later_chapter_says_so_and_a_protected_one_needs_a_login_first(
    client: Client, name: str, method: str, path: str, what: str
) -> None:
    url = path.replace("{id}", "1").replace("{isFollow}", "true")
    if not is_public(path):
        resp = await client.request(method, url)
        assert resp.status == 401
    token, _ = await log_in(client)
    for headers, status in (({}, later.STATUS), (COURSE_HEADERS, 200)):
        resp = await client.request(method, url, headers={"authorization": token, **headers})
        body = await resp.json()
        assert (resp.status, body["success"]) == (status, False), body
        assert body["errorMsg"] == f"{what} is a later chapter of the course, not part of this lab"


@pytest.mark.parametrize(
    ("path", "params", "message"),
    [
        ("/shop/of/type", {}, "typeId is required"),
        ("/shop/of/type", {"typeId": "0"}, "typeId must be"),
        ("/shop/of/type", {"typeId": "ms"}, "typeId must be"),
        ("/shop/of/type", {"typeId": "1", "x": "120.1"}, "x and y go together"),
        ("/shop/of/type", {"typeId": "1", "x": "200", "y": "30"}, "x must be"),
        ("/shop/of/type", {"typeId": "1", "x": "nan", "y": "30"}, "x must be"),
        ("/shop/of/type", {"typeId": "1", "x": "120", "y": "inf"}, "y must be"),
        ("/shop/of/type", {"typeId": "1", "current": "0"}, "current must be"),
        ("/shop/of/name", {"name": "店" * 129}, "name must be at most"),
        ("/shop/of/name", {"name": "a\x00b"}, "name must be printable"),
        ("/voucher/list/abc", {}, "shop id must be"),
        ("/voucher/list/" + "9" * 30, {}, "shop id must be"),
    ],
)
async def test_bad_input_to_the_read_api_gets_a_clear_400(
    client: Client, path: str, params: dict[str, str], message: str
) -> None:
    status, body = await get(client, path, **params)
    assert status == 400 and body["success"] is False and body["errorMsg"].startswith(message), body


@pytest.mark.parametrize(
    ("path", "params", "status", "message"),
    [
        ("/blog/of/user", {}, 400, "id is required"),
        ("/blog/of/user", {"id": "-1"}, 400, "id must be"),
        ("/blog/0", {}, 400, "blog id must be"),
        ("/user/info/x", {}, 400, "user id must be"),
        ("/follow/common/1.5", {}, 400, "user id must be"),
        ("/user/abc", {}, 404, "not found"),  # a user id is digits: no such route
    ],
)
async def test_bad_input_from_a_logged_in_user_gets_a_clear_4xx(
    client: Client, path: str, params: dict[str, str], status: int, message: str
) -> None:
    token, _ = await log_in(client)
    answer, body = await get(client, path, token, **params)
    assert answer == status and body["errorMsg"].startswith(message), body


async def test_a_get_of_a_post_only_user_path_is_still_405(client: Client) -> None:
    for path in (PATHS["user.login"], PATHS["user.code"], "/user/sign"):
        assert (await client.get(path)).status == 405, path


# --- how a refusal reaches the course's front end ---------------------------------------


async def test_a_wrong_code_comes_the_course_way_with_its_reason_when_asked(client: Client) -> None:
    phone = random_phone()
    assert (await client.post(PATHS["user.code"], params={"phone": phone})).status == 200
    resp = await client.post(
        PATHS["user.login"], json={"phone": phone, "code": "000000"}, headers=COURSE_HEADERS
    )
    body = await resp.json()
    if body["success"]:  # one chance in a million that 000000 was the code
        return
    assert (resp.status, body, resp.headers[STATUS_HEADER]) == (
        200,
        {"success": False, "errorMsg": "wrong code"},
        "400",
    )
    # Counted as what it is.
    assert client.app[METRICS].requests["user.login"]["POST"].get(400, 0) >= 1


async def test_a_limit_comes_the_course_way_with_the_wait_in_its_message(client: Client) -> None:
    phone = random_phone()
    assert (await client.post(PATHS["user.code"], params={"phone": phone})).status == 200
    resp = await client.post(PATHS["user.code"], params={"phone": phone}, headers=COURSE_HEADERS)
    body = await resp.json()
    assert (resp.status, resp.headers[STATUS_HEADER], body["success"]) == (200, "429", False)
    wait = int(resp.headers["Retry-After"])
    assert body["errorMsg"].endswith(f"ask again later (wait {wait} s)") and 0 < wait <= 60
    assert body["data"] == {"retryAfter": wait}


async def test_the_course_way_keeps_a_401_and_what_is_no_refusal_of_a_handler(client: Client) -> None:
    resp = await client.get(PATHS["user.me"], headers=COURSE_HEADERS)
    assert resp.status == 401 and STATUS_HEADER not in resp.headers  # the page goes to its login
    resp = await client.get("/no/such/page", headers=COURSE_HEADERS)
    assert resp.status == 404  # the router's, as the course's own server answers it
    resp = await client.get("/shop/999999", headers={CONVENTION_HEADER: "http"})
    assert resp.status == 404  # asked for HTTP statuses


async def test_without_asking_a_refusal_keeps_its_http_status(client: Client) -> None:
    resp = await client.get("/shop/999999")
    assert resp.status == 404 and STATUS_HEADER not in resp.headers


# --- through nginx ----------------------------------------------------------------------


async def test_a_picture_upload_through_nginx_is_refused_as_a_later_chapter_not_413(
    redis_cluster: ClusterConfig, http: aiohttp.ClientSession
) -> None:
    form = aiohttp.FormData()
    form.add_field("file", b"\xff\xd8" + b"\0" * 200_000, filename="photo.jpg", content_type="image/jpeg")
    async with http.post(redis_cluster.url + "/api/upload/blog", data=form) as resp:
        body = await resp.json()
        assert (resp.status, body["success"]) == (later.STATUS, False), body
        assert "uploading a picture" in body["errorMsg"]
        assert resp.headers["X-Node"]


async def test_the_read_api_is_served_through_nginx(
    redis_cluster: ClusterConfig, http: aiohttp.ClientSession
) -> None:
    async with http.get(
        redis_cluster.url + "/api/shop/of/type", params={"typeId": "1", **COURSE_POINT}
    ) as resp:
        shops = (await resp.json())["data"]
    assert resp.status == 200 and all(not math.isnan(s["distance"]) for s in shops) and shops


# --- the schema ------------------------------------------------------------------------

SEED_COUNTS = {
    "tb_shop_type": 10, "tb_shop": 17, "tb_voucher": 6, "tb_seckill_voucher": 3, "tb_blog": 10,
    "tb_blog_like": 15, "tb_follow": 11, "tb_user_info": 4, "tb_user": 5,
}  # fmt: skip
# What the first schema made: no course tables, no new columns, two users with pictures the course lacks.
FIRST_SCHEMA = """
    DROP TABLE tb_follow, tb_blog_like, tb_user_info, tb_seckill_voucher, tb_voucher, tb_shop_type;
    DELETE FROM tb_blog WHERE id > 4;
    DELETE FROM tb_shop WHERE id > 4;
    DELETE FROM tb_user WHERE phone NOT IN ('13686869696', '13838411438');
    ALTER TABLE tb_shop DROP COLUMN images, DROP COLUMN x, DROP COLUMN y, DROP COLUMN sold,
        DROP COLUMN comments;
    ALTER TABLE tb_blog DROP COLUMN images;
    UPDATE tb_user SET icon = '/imgs/icons/user1.jpg' WHERE phone = '13686869696';
"""
# Made when the schema is applied, so not the same in two databases.
MADE_THEN = {"tb_user": {"id", "create_time", "update_time"}, "tb_blog": {"create_time"}}


async def snapshot(conn: asyncpg.pool.PoolConnectionProxy[Any]) -> dict[str, list[dict[str, Any]]]:
    """Each seed table's rows, users named by their phone (their ids are a sequence's)."""
    phones = {r["id"]: r["phone"] for r in await conn.fetch("SELECT id, phone FROM tb_user")}
    tables = {}
    for name in SEED_COUNTS:
        rows = [dict(r) for r in await conn.fetch(f"SELECT * FROM {name}")]
        for row in rows:
            for column in ("user_id", "follow_user_id"):
                if column in row:
                    row[column] = phones[row[column]]
        made_then = MADE_THEN.get(name, set())
        tables[name] = sorted(({k: v for k, v in r.items() if k not in made_then} for r in rows), key=repr)
    return tables


async def test_a_database_made_before_gets_the_course_tables_and_its_rows_their_pictures(
    redis_cluster: ClusterConfig,
) -> None:
    url = redis_cluster.effective_database_url()
    name = f"before_{secrets.token_hex(4)}"
    admin = await asyncpg.connect(url)
    await admin.execute(f"CREATE DATABASE {name}")
    try:
        pool = await asyncpg.create_pool(url.rsplit("/", 1)[0] + "/" + name, min_size=1, max_size=1)
        try:
            await db.apply_schema(pool)
            async with pool.acquire() as conn:
                fresh = await snapshot(conn)
                await conn.execute(FIRST_SCHEMA)
            await db.apply_schema(pool)
            async with pool.acquire() as conn:
                migrated = await snapshot(conn)
            await db.apply_schema(pool)  # and once more: nothing moves
            async with pool.acquire() as conn:
                again = await snapshot(conn)
        finally:
            await pool.close()
    finally:
        await admin.execute(f"DROP DATABASE {name}")
        await admin.close()
    assert {table: len(rows) for table, rows in fresh.items()} == SEED_COUNTS
    assert migrated == fresh == again
