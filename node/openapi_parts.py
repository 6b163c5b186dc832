"""The building blocks of the OpenAPI document (node/openapi.py and
node/openapi_course.py): the envelope's answers, the common failures."""

from __future__ import annotations

from typing import Any

REF = "#/components/schemas/"
AUTH: list[dict[str, list[str]]] = [{"token": []}]


def json_body(schema: dict[str, Any]) -> dict[str, Any]:
    return {"application/json": {"schema": schema}}


def ok_answer(data: dict[str, Any] | None = None, description: str = "done") -> dict[str, Any]:
    props: dict[str, Any] = {"success": {"type": "boolean", "enum": [True]}}
    if data is not None:
        props["data"] = data
    return {
        "description": description,
        "content": json_body(
            {"type": "object", "required": ["success"], "properties": props, "additionalProperties": False}
        ),
    }


def fail_answer(description: str, *, retry: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {"description": description, "content": json_body({"$ref": REF + "Failure"})}
    if retry:
        out["headers"] = {
            "Retry-After": {
                "description": "seconds until it may be asked again",
                "schema": {"type": "string"},
            }
        }
    return out


UNAUTHORIZED = fail_answer("no session for this request: no token, or an unknown or expired one")
STORE_DOWN = fail_answer("a store is down: `session store unavailable` or `database unavailable`")
TOO_LARGE = fail_answer("request body over 16 KiB")
TOO_MANY = fail_answer(
    "too many codes for this phone, a locked phone, or (nginx) too many requests", retry=True
)
