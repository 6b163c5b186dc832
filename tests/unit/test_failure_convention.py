"""The two ways to answer a refusal (node/envelope.py): by its HTTP status,
or as the course's Result.fail (HTTP 200, success false) for a request that
asks, which is how the course's front end shows a reason."""

from __future__ import annotations

import json

import pytest
from aiohttp.test_utils import make_mocked_request

from node.envelope import CONVENTION_HEADER, STATUS_HEADER, fail, http_status, wants_course


def body(response: object) -> dict[str, object]:
    return json.loads(response.text)  # type: ignore[attr-defined, no-any-return]


@pytest.mark.parametrize("status", [400, 403, 404, 409, 429])
def test_a_refusal_the_course_way_is_a_200_that_says_its_status(status: int) -> None:
    response = fail(status, "wrong code", course=True)
    assert (response.status, response.headers[STATUS_HEADER], http_status(response)) == (
        200,
        str(status),
        status,
    )
    assert body(response) == {"success": False, "errorMsg": "wrong code"}


@pytest.mark.parametrize("status", [401, 500, 503])
def test_a_401_and_a_server_error_keep_their_status_either_way(status: int) -> None:
    response = fail(status, "no", course=True)
    assert response.status == http_status(response) == status and STATUS_HEADER not in response.headers


@pytest.mark.parametrize(("seconds", "shown"), [(1, "1 s"), (60, "60 s"), (900, "15 min"), (86_000, "24 h")])
def test_a_limit_the_course_way_puts_the_wait_in_its_message(seconds: int, shown: str) -> None:
    response = fail(429, "ask again later", retry_after=seconds, course=True)
    assert body(response)["errorMsg"] == f"ask again later (wait {shown})"
    assert response.headers["Retry-After"] == str(seconds)
    # The HTTP way has it in its header and data, the message as it was.
    assert body(fail(429, "ask again later", retry_after=seconds))["errorMsg"] == "ask again later"


@pytest.mark.parametrize(
    ("value", "course"), [("course", True), (" Course ", True), ("http", False), ("", False)]
)
def test_a_request_asks_for_the_course_way_by_its_header(value: str, course: bool) -> None:
    assert wants_course(make_mocked_request("GET", "/", headers={CONVENTION_HEADER: value})) is course
    assert wants_course(make_mocked_request("GET", "/")) is False
