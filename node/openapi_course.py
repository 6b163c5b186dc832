"""The OpenAPI document's part for the course's read API (node/catalog.py,
node/social.py) and its later chapters (node/later.py): the fields are
those the course's pages read, in its camelCase."""

from __future__ import annotations

from typing import Any

from . import catalog, later, params
from .catalog_db import NEARBY_METRES
from .openapi_parts import AUTH, REF, STORE_DOWN, UNAUTHORIZED, fail_answer, ok_answer

_INT = {"type": "integer"}
_STR = {"type": "string"}
_ID = {"type": "integer", "minimum": 1, "maximum": params.MAX_ID}


def _obj(fields: dict[str, Any], *, optional: tuple[str, ...] = ()) -> dict[str, Any]:
    return {
        "type": "object",
        "required": [name for name in fields if name not in optional],
        "properties": fields,
    }


SCHEMAS: dict[str, Any] = {
    "ShopType": _obj({"id": _INT, "name": _STR, "icon": _STR, "sort": _INT}),
    "Shop": _obj(
        {
            "id": _INT,
            "name": _STR,
            "typeId": _INT,
            "images": {"type": "string", "description": "picture URLs, comma-separated (may be empty)"},
            "area": _STR,
            "address": _STR,
            "x": {"type": "number", "description": "longitude"},
            "y": {"type": "number", "description": "latitude"},
            "avgPrice": {"type": "integer", "description": "yuan a head"},
            "sold": _INT,
            "comments": _INT,
            "score": {"type": "integer", "description": "tenths of a star: 47 is 4.7"},
            "openHours": _STR,
            "distance": {"type": "number", "description": "metres from x, y: only when they were given"},
        },
        optional=("distance",),
    ),
    "Voucher": _obj(
        {
            "id": _INT,
            "shopId": _INT,
            "title": _STR,
            "subTitle": _STR,
            "rules": _STR,
            "payValue": {"type": "integer", "description": "cents"},
            "actualValue": {"type": "integer", "description": "cents"},
            "type": {
                "type": "integer",
                "enum": [0, 1],
                "description": "1: a flash sale, with the three below",
            },
            "stock": _INT,
            "beginTime": {"type": "string", "format": "date-time"},
            "endTime": {"type": "string", "format": "date-time"},
        },
        optional=("stock", "beginTime", "endTime"),
    ),
    "Blog": _obj(
        {
            "id": _INT,
            "shopId": _INT,
            "userId": _INT,
            "icon": {"type": "string", "description": "its author's"},
            "name": {"type": "string", "description": "its author's nickname"},
            "title": _STR,
            "images": {"type": "string", "description": "picture URLs, comma-separated"},
            "content": {"type": "string", "description": "HTML, as the course's page shows it"},
            "liked": _INT,
            "comments": _INT,
            "createTime": {"type": "string", "format": "date-time"},
            "isLike": {"type": "boolean", "description": "whether the logged-in user liked it"},
        }
    ),
    "UserInfo": _obj(
        {
            "userId": _INT,
            "city": _STR,
            "introduce": _STR,
            "fans": _INT,
            "followee": _INT,
            "gender": {"type": "integer", "enum": [0, 1], "description": "0 male, 1 female"},
            "birthday": {"type": "string", "format": "date"},
            "credits": _INT,
            "level": {"type": "integer", "minimum": 0, "maximum": 9},
        },
        optional=("birthday",),
    ),
}


def _path_id(name: str = "id") -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": _ID}


def _query(name: str, schema: dict[str, Any], *, required: bool = False) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": required, "schema": schema}


_CURRENT = _query("current", {"type": "integer", "minimum": 1, "maximum": params.MAX_PAGE, "default": 1})
_BAD_ID = fail_answer("not a whole number from 1 up")
_NO_ROUTE = "no route for this path (an empty path parameter, say)"


def _list(name: str) -> dict[str, Any]:
    return ok_answer({"type": "array", "items": {"$ref": REF + name}})


def _get(
    summary: str, parameters: list[dict[str, Any]], answer: dict[str, Any], **more: Any
) -> dict[str, Any]:
    """A GET of the course's read API; ``more``: its other answers by
    status, and ``login=True`` for those that need one."""
    login = more.pop("login", False)
    responses = {"200": answer, **{status: fail_answer(text) for status, text in more.items()}}
    if login:
        responses["401"] = UNAUTHORIZED
    responses["503"] = STORE_DOWN
    op: dict[str, Any] = {"summary": summary, "parameters": parameters, "responses": responses}
    if login:
        op["security"] = AUTH
    return {"get": op}


def _read_api() -> dict[str, Any]:
    blogs = _list("Blog")
    return {
        "/shop-type/list": _get("The shop types: the home page's icons (public)", [], _list("ShopType")),
        "/shop/{id}": _get(
            "A shop (public; a valid token still has its TTL pushed back)",
            [_path_id()],
            ok_answer({"$ref": REF + "Shop"}),
            **{"400": "not a whole number from 1 up", "404": f"shop not found, or {_NO_ROUTE}"},
        ),
        "/shop/of/type": _get(
            f"A page of a type's shops, five a page: by id, or given x and y those within {NEARBY_METRES} m, "
            "nearest first, each with its distance (public)",
            [
                _query("typeId", _ID, required=True),
                _CURRENT,
                _query("x", {"type": "number", "minimum": -180, "maximum": 180}),
                _query("y", {"type": "number", "minimum": -90, "maximum": 90}),
            ],
            _list("Shop"),
            **{"400": "no typeId, or a bad one, a bad page, or x without y (or out of range)"},
        ),
        "/shop/of/name": _get(
            "A page of the shops whose name holds `name` (all if empty), ten a page (public)",
            [_query("name", {"type": "string", "maxLength": catalog.NAME_MAX}), _CURRENT],
            _list("Shop"),
            **{"400": "a name too long or not printable, or a bad page"},
        ),
        "/voucher/list/{shopId}": _get(
            "A shop's vouchers; a flash sale's with its stock and window (public)",
            [_path_id("shopId")],
            _list("Voucher"),
            **{"400": "not a whole number from 1 up", "404": _NO_ROUTE},
        ),
        "/blog/hot": _get(
            "The most liked blogs, ten a page (public)",
            [_CURRENT],
            blogs,
            **{"400": "not a page number"},
        ),
        "/blog/{id}": _get(
            "A blog",
            [_path_id()],
            ok_answer({"$ref": REF + "Blog"}),
            login=True,
            **{"400": "not a whole number from 1 up", "404": f"blog not found, or {_NO_ROUTE}"},
        ),
        "/blog/of/me": _get(
            "The logged-in user's blogs, newest first, ten a page",
            [_CURRENT],
            blogs,
            login=True,
            **{"400": "not a page number"},
        ),
        "/blog/of/user": _get(
            "A user's blogs, newest first, ten a page",
            [_query("id", _ID, required=True), _CURRENT],
            blogs,
            login=True,
            **{"400": "no id, or a bad one, or a bad page"},
        ),
        "/blog/likes/{id}": _get(
            "The first five users to like a blog, in that order",
            [_path_id()],
            _list("User"),
            login=True,
            **{"400": "not a whole number from 1 up", "404": f"blog not found, or {_NO_ROUTE}"},
        ),
        "/user/{id}": _get(
            "What anyone may see of a user",
            [_path_id()],
            ok_answer({"$ref": REF + "User"}),
            login=True,
            **{"400": "not a whole number from 1 up", "404": "user not found, or an id not all digits"},
        ),
        "/user/info/{id}": _get(
            "A user's profile: no data if they have none",
            [_path_id()],
            ok_answer({"$ref": REF + "UserInfo"}),
            login=True,
            **{"400": "not a whole number from 1 up", "404": _NO_ROUTE},
        ),
        "/follow/or/not/{id}": _get(
            "Whether the logged-in user follows this one",
            [_path_id()],
            ok_answer({"type": "boolean"}),
            login=True,
            **{"400": "not a whole number from 1 up", "404": _NO_ROUTE},
        ),
        "/follow/common/{id}": _get(
            "The users both the logged-in user and this one follow",
            [_path_id()],
            _list("User"),
            login=True,
            **{"400": "not a whole number from 1 up", "404": _NO_ROUTE},
        ),
    }


def _later_chapters() -> dict[str, Any]:
    # Here, not at import: node.routes imports the handlers, whose module
    # imports this one.
    from .routes import is_public

    out: dict[str, Any] = {}
    for _, method, path, what in later.CHAPTERS:
        responses = {str(later.STATUS): fail_answer(later.message(what))}
        op: dict[str, Any] = {"summary": f"{what}: a later chapter of the course, refused with that reason"}
        parameters = [
            {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
            for name in ("id", "isFollow")
            if "{" + name + "}" in path
        ]
        if parameters:
            op["parameters"] = parameters
            responses["404"] = fail_answer(_NO_ROUTE)
        if not is_public(path):
            op["security"] = AUTH
            responses["401"] = UNAUTHORIZED
        op["responses"] = responses
        out.setdefault(path, {})[method.lower()] = op
    return out


def paths() -> dict[str, Any]:
    return {**_read_api(), **_later_chapters()}
