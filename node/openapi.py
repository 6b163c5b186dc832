"""The API as an OpenAPI 3 document, served at /openapi.json (through nginx:
/api/openapi.json).  tests/cluster/test_openapi.py checks that it names
exactly the routes of node/routes.py, and runs schemathesis against it."""

from __future__ import annotations

from typing import Any

from . import openapi_course
from .openapi_parts import (
    AUTH,
    REF,
    STORE_DOWN,
    TOO_LARGE,
    TOO_MANY,
    UNAUTHORIZED,
    fail_answer,
    json_body,
    ok_answer,
)
from .validation import PHONE_RE


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
                "{success, errorMsg, data, total}, with null fields left out. Beside the login, the "
                "read API the course's own pages call, and its later chapters, each refused with "
                "the reason. A refusal has its 4xx status here; a request that sends "
                "`X-Failure-Convention: course` gets refusals the course's way instead (HTTP 200, "
                "success false, the status in `X-Failure-Status`; 401 and 5xx keep theirs), as "
                "nginx asks for the course's pages when it serves them (docs/frontend.md)."
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
                **openapi_course.SCHEMAS,
            },
        },
        "paths": {
            "/user/code": {
                "post": {
                    "summary": "Send a login code by SMS (one answer, account or not)",
                    "parameters": [{"name": "phone", "in": "query", "required": True, "schema": phone}],
                    "responses": {
                        "200": ok_answer(description="sent"),
                        "400": fail_answer("invalid phone number"),
                        "413": TOO_LARGE,
                        "429": TOO_MANY,
                        "503": STORE_DOWN,
                    },
                }
            },
            "/user/login": {
                "post": {
                    "summary": "Log in with the code: answers a new token",
                    "requestBody": {
                        "required": True,
                        "content": json_body(
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
                        "200": ok_answer(
                            {"type": "string", "pattern": "^[0-9a-f]{32}$"}, "logged in: data is the token"
                        ),
                        "400": fail_answer(
                            "invalid phone, wrong or burned code, not a JSON object, password login"
                        ),
                        "409": fail_answer(
                            "a logout-all of this user came between the session's row and its store: "
                            "log in again, with the same code"
                        ),
                        "413": TOO_LARGE,
                        "429": TOO_MANY,
                        "503": STORE_DOWN,
                    },
                }
            },
            "/user/me": {
                "get": {
                    "summary": "The logged-in user",
                    "security": AUTH,
                    "responses": {
                        "200": ok_answer({"$ref": REF + "User"}),
                        "401": UNAUTHORIZED,
                        "503": STORE_DOWN,
                    },
                },
                "patch": {
                    "summary": "Rename the user: every live session of theirs shows it at once",
                    "security": AUTH,
                    "requestBody": {
                        "required": True,
                        "content": json_body(
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
                        "200": ok_answer({"$ref": REF + "User"}),
                        "400": fail_answer("not a JSON object with nickName alone, or a nickName too long"),
                        "401": UNAUTHORIZED,
                        "413": TOO_LARGE,
                        "503": STORE_DOWN,
                    },
                },
            },
            "/user/logout": {
                "post": {
                    "summary": "End this session, on every node at once",
                    "security": AUTH,
                    "responses": {"200": ok_answer(), "401": UNAUTHORIZED, "503": STORE_DOWN},
                }
            },
            "/user/logout/all": {
                "post": {
                    "summary": "End every session of this user",
                    "security": AUTH,
                    "responses": {
                        "200": ok_answer(
                            {
                                "type": "object",
                                "required": ["ended"],
                                "properties": {"ended": {"type": "integer"}},
                            }
                        ),
                        "401": UNAUTHORIZED,
                        "503": STORE_DOWN,
                    },
                }
            },
            "/cluster/info": {
                "get": {
                    "summary": "Which node answered, and where it keeps sessions (redis or memory)",
                    "responses": {
                        "200": ok_answer(
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
                        "200": ok_answer(
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
                        "200": ok_answer(
                            {"type": "object", "required": ["node", "store", "postgres", "sessionStore"]}
                        ),
                        "503": fail_answer("not ready, or stopping; data says which store"),
                    },
                }
            },
            "/dev/sms/latest": {
                "get": {
                    "summary": "The last SMS sent to a phone: the user's phone, outside the cluster",
                    "parameters": [{"name": "phone", "in": "query", "required": True, "schema": phone}],
                    "responses": {
                        "200": ok_answer(
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
                        "400": fail_answer("invalid phone number"),
                        "404": fail_answer("no SMS has been sent to this phone"),
                        "503": STORE_DOWN,
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
                        "200": ok_answer(
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
                                                "items": {"$ref": REF + "XrayEntry"},
                                            },
                                        },
                                    },
                                    "redis": {"type": "array", "items": {"$ref": REF + "XrayEntry"}},
                                },
                            }
                        ),
                        "400": fail_answer("invalid phone number, or an X-Xray-Token that is not a token"),
                        "503": STORE_DOWN,
                    },
                }
            },
            "/openapi.json": {
                "get": {
                    "summary": "This document",
                    "responses": {
                        "200": {"description": "the document", "content": json_body({"type": "object"})}
                    },
                }
            },
            **openapi_course.paths(),
        },
    }
