"""The API as an OpenAPI 3 document, served at /openapi.json (through nginx:
/api/openapi.json).  tests/cluster/test_openapi.py checks that it names
exactly the routes of node/routes.py, and runs schemathesis against it."""

from __future__ import annotations

from typing import Any

from .validation import PHONE_RE

_REF = "#/components/schemas/"


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"application/json": {"schema": schema}}


def _ok(data: dict[str, Any] | None = None, description: str = "done") -> dict[str, Any]:
    props: dict[str, Any] = {"success": {"type": "boolean", "enum": [True]}}
    if data is not None:
        props["data"] = data
    return {
        "description": description,
        "content": _json(
            {"type": "object", "required": ["success"], "properties": props, "additionalProperties": False}
        ),
    }


def _fail(description: str, *, retry: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {"description": description, "content": _json({"$ref": _REF + "Failure"})}
    if retry:
        out["headers"] = {
            "Retry-After": {
                "description": "seconds until it may be asked again",
                "schema": {"type": "string"},
            }
        }
    return out


_UNAUTHORIZED = _fail("no session for this request: no token, or an unknown or expired one")
_STORE_DOWN = _fail("a store is down: `session store unavailable` or `database unavailable`")
_TOO_LARGE = _fail("request body over 16 KiB")
_TOO_MANY = _fail("too many codes for this phone, a locked phone, or (nginx) too many requests", retry=True)
_AUTH: list[dict[str, list[str]]] = [{"token": []}]


def document() -> dict[str, Any]:
    phone = {"type": "string", "pattern": "^" + PHONE_RE.pattern + "$"}
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "Session sharing lab",
            "version": "1.0.0",
            "description": (
                "The seed project's SMS login, on nodes that share their sessions through Redis "
                "(or, to show the bug, keep them in memory). Every answer is the envelope "
                "{success, errorMsg, data, total}, with null fields left out."
            ),
        },
        "servers": [{"url": "/api"}],
        "components": {
            "securitySchemes": {
                "token": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "authorization",
                    "description": (
                        "the token from /user/login, bare (as the seed's front end sends it) "
                        "or `Bearer <token>`"
                    ),
                }
            },
            "schemas": {
                "Failure": {
                    "type": "object",
                    "required": ["success", "errorMsg"],
                    "properties": {
                        "success": {"type": "boolean", "enum": [False]},
                        "errorMsg": {"type": "string"},
                        "data": {"type": "object"},
                    },
                },
                "XrayEntry": {
                    "type": "object",
                    "required": ["key", "ttlMs", "fields"],
                    "properties": {
                        "key": {"type": "string", "description": "the key as stored"},
                        "type": {"type": "string", "description": "its Redis type (redis mode)"},
                        "ttlMs": {"type": "integer", "description": "ms left"},
                        "fields": {"type": "object"},
                    },
                },
                "User": {
                    "type": "object",
                    "required": ["id", "nickName", "icon"],
                    "properties": {
                        "id": {"type": "integer"},
                        "nickName": {"type": "string"},
                        "icon": {"type": "string"},
                    },
                },
                "Shop": {
                    "type": "object",
                    "required": ["id", "name", "typeId", "area", "address", "avgPrice", "score", "openHours"],
                    "properties": {
                        "id": {"type": "integer"},
                        "name": {"type": "string"},
                        "typeId": {"type": "integer"},
                        "area": {"type": "string"},
                        "address": {"type": "string"},
                        "avgPrice": {"type": "integer"},
                        "score": {"type": "integer"},
                        "openHours": {"type": "string"},
                    },
                },
                "Blog": {
                    "type": "object",
                    "required": [
                        "id",
                        "shopId",
                        "userId",
                        "title",
                        "content",
                        "liked",
                        "comments",
                        "name",
                        "icon",
                    ],
                    "properties": {
                        "id": {"type": "integer"},
                        "shopId": {"type": "integer"},
                        "userId": {"type": "integer"},
                        "title": {"type": "string"},
                        "content": {"type": "string"},
                        "liked": {"type": "integer"},
                        "comments": {"type": "integer"},
                        "name": {"type": "string"},
                        "icon": {"type": "string"},
                    },
                },
            },
        },
        "paths": {
            "/user/code": {
                "post": {
                    "summary": "Send a login code by SMS (one answer, account or not)",
                    "parameters": [{"name": "phone", "in": "query", "required": True, "schema": phone}],
                    "responses": {
                        "200": _ok(description="sent"),
                        "400": _fail("invalid phone number"),
                        "413": _TOO_LARGE,
                        "429": _TOO_MANY,
                        "503": _STORE_DOWN,
                    },
                }
            },
            "/user/login": {
                "post": {
                    "summary": "Log in with the code: answers a new token",
                    "requestBody": {
                        "required": True,
                        "content": _json(
                            {
                                "type": "object",
                                "required": ["phone", "code"],
                                "properties": {
                                    "phone": phone,
                                    "code": {"type": "string", "pattern": "^[0-9]{6}$"},
                                    "password": {
                                        "type": "string",
                                        "description": "not supported: answered 400",
                                    },
                                },
                            }
                        ),
                    },
                    "responses": {
                        "200": _ok(
                            {"type": "string", "pattern": "^[0-9a-f]{32}$"}, "logged in: data is the token"
                        ),
                        "400": _fail(
                            "invalid phone, wrong or burned code, not a JSON object, password login"
                        ),
                        "413": _TOO_LARGE,
                        "429": _TOO_MANY,
                        "503": _STORE_DOWN,
                    },
                }
            },
            "/user/me": {
                "get": {
                    "summary": "The logged-in user",
                    "security": _AUTH,
                    "responses": {
                        "200": _ok({"$ref": _REF + "User"}),
                        "401": _UNAUTHORIZED,
                        "503": _STORE_DOWN,
                    },
                },
                "patch": {
                    "summary": "Rename the user: every live session of theirs shows it at once",
                    "security": _AUTH,
                    "requestBody": {
                        "required": True,
                        "content": _json(
                            {
                                "type": "object",
                                "required": ["nickName"],
                                "properties": {
                                    "nickName": {"type": "string", "minLength": 1, "maxLength": 32}
                                },
                                "additionalProperties": False,
                            }
                        ),
                    },
                    "responses": {
                        "200": _ok({"$ref": _REF + "User"}),
                        "400": _fail("not a JSON object with nickName alone, or a nickName too long"),
                        "401": _UNAUTHORIZED,
                        "413": _TOO_LARGE,
                        "503": _STORE_DOWN,
                    },
                },
            },
            "/user/logout": {
                "post": {
                    "summary": "End this session, on every node at once",
                    "security": _AUTH,
                    "responses": {"200": _ok(), "401": _UNAUTHORIZED, "503": _STORE_DOWN},
                }
            },
            "/user/logout/all": {
                "post": {
                    "summary": "End every session of this user",
                    "security": _AUTH,
                    "responses": {
                        "200": _ok(
                            {
                                "type": "object",
                                "required": ["ended"],
                                "properties": {"ended": {"type": "integer"}},
                            }
                        ),
                        "401": _UNAUTHORIZED,
                        "503": _STORE_DOWN,
                    },
                }
            },
            "/shop/{id}": {
                "get": {
                    "summary": "A shop (public; a valid token still has its TTL pushed back)",
                    "parameters": [
                        {
                            "name": "id",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "integer", "minimum": 1},
                        }
                    ],
                    "responses": {
                        "200": _ok({"$ref": _REF + "Shop"}),
                        "400": _fail("not a whole number from 1 up"),
                        "404": _fail("shop not found"),
                        "503": _STORE_DOWN,
                    },
                }
            },
            "/blog/hot": {
                "get": {
                    "summary": "The most liked blogs, ten a page (public)",
                    "parameters": [
                        {
                            "name": "current",
                            "in": "query",
                            "required": False,
                            "schema": {"type": "integer", "minimum": 1, "maximum": 10000, "default": 1},
                        }
                    ],
                    "responses": {
                        "200": _ok({"type": "array", "items": {"$ref": _REF + "Blog"}}),
                        "400": _fail("not a page number"),
                        "503": _STORE_DOWN,
                    },
                }
            },
            "/cluster/info": {
                "get": {
                    "summary": "Which node answered, and where it keeps sessions (redis or memory)",
                    "responses": {
                        "200": _ok(
                            {
                                "type": "object",
                                "required": ["node", "store"],
                                "properties": {
                                    "node": {"type": "string"},
                                    "store": {"type": "string"},
                                    "mistakes": {"type": "array", "items": {"type": "string"}},
                                },
                            }
                        )
                    },
                }
            },
            "/healthz": {
                "get": {
                    "summary": "The process is alive",
                    "responses": {
                        "200": _ok(
                            {
                                "type": "object",
                                "required": ["node", "status"],
                                "properties": {"node": {"type": "string"}, "status": {"type": "string"}},
                            }
                        )
                    },
                }
            },
            "/readyz": {
                "get": {
                    "summary": "Its stores answer (and it is not stopping)",
                    "responses": {
                        "200": _ok(
                            {"type": "object", "required": ["node", "store", "postgres", "sessionStore"]}
                        ),
                        "503": _fail("not ready, or stopping; data says which store"),
                    },
                }
            },
            "/dev/sms/latest": {
                "get": {
                    "summary": "The last SMS sent to a phone: the user's phone, outside the cluster",
                    "parameters": [{"name": "phone", "in": "query", "required": True, "schema": phone}],
                    "responses": {
                        "200": _ok(
                            {
                                "type": "object",
                                "required": ["phone", "code", "body", "node", "sentAt"],
                                "properties": {
                                    "phone": {"type": "string"},
                                    "code": {"type": "string"},
                                    "body": {"type": "string"},
                                    "node": {"type": "string"},
                                    "sentAt": {"type": "string"},
                                },
                            }
                        ),
                        "400": _fail("invalid phone number"),
                        "404": _fail("no SMS has been sent to this phone"),
                        "503": _STORE_DOWN,
                    },
                }
            },
            "/dev/xray": {
                "get": {
                    "summary": (
                        "What this node holds (its memory) and, in redis mode, the shared keys of a phone "
                        "and of the caller's session, with their TTLs: the demo page's X-ray. "
                        "Never a code, a token or a code's HMAC"
                    ),
                    "parameters": [
                        {"name": "phone", "in": "query", "required": True, "schema": phone},
                        {
                            "name": "X-Xray-Token",
                            "in": "header",
                            "required": False,
                            "description": (
                                "the caller's own token: selects its session's entry without pushing its "
                                "TTL back (a token in `authorization` is pushed back, as on every request)"
                            ),
                            "schema": {"type": "string", "pattern": "^[0-9a-f]{32}$"},
                        },
                    ],
                    "responses": {
                        "200": _ok(
                            {
                                "type": "object",
                                "required": ["node", "store", "memory"],
                                "properties": {
                                    "node": {"type": "string"},
                                    "store": {"type": "string"},
                                    "memory": {
                                        "type": "object",
                                        "required": ["codes", "sessions", "other", "entries"],
                                        "properties": {
                                            "codes": {"type": "integer"},
                                            "sessions": {"type": "integer"},
                                            "other": {"type": "integer"},
                                            "entries": {
                                                "type": "array",
                                                "items": {"$ref": _REF + "XrayEntry"},
                                            },
                                        },
                                    },
                                    "redis": {"type": "array", "items": {"$ref": _REF + "XrayEntry"}},
                                },
                            }
                        ),
                        "400": _fail("invalid phone number, or an X-Xray-Token that is not a token"),
                        "503": _STORE_DOWN,
                    },
                }
            },
            "/openapi.json": {
                "get": {
                    "summary": "This document",
                    "responses": {
                        "200": {"description": "the document", "content": _json({"type": "object"})}
                    },
                }
            },
        },
    }
