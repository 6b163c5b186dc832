"""What a handler reads from a path or a query string, checked: a bad value
is a 400 that names it, never a 500 and never a silent default."""

from __future__ import annotations

import math
from collections.abc import Mapping

from .envelope import ApiError

MAX_ID = 2**63 - 1  # Postgres bigint
MAX_PAGE = 10_000


def positive_int(raw: str, what: str, maximum: int = MAX_ID) -> int:
    # The length check first: int() refuses strings of over 4300 digits.
    if len(raw) > 19 or not raw.isascii() or not raw.isdigit() or not 0 < int(raw) <= maximum:
        raise ApiError(400, f"{what} must be a whole number from 1 to {maximum}")
    return int(raw)


def path_id(match_info: Mapping[str, str], what: str, key: str = "id") -> int:
    return positive_int(match_info[key], what)


def query_id(query: Mapping[str, str], key: str, what: str) -> int:
    raw = query.get(key)
    if raw is None:
        raise ApiError(400, f"{key} is required: {what}")
    return positive_int(raw, key)


def page(query: Mapping[str, str]) -> int:
    """``current``, the course's page number: 1 if absent."""
    return positive_int(query.get("current", "1"), "current", MAX_PAGE)


def _degrees(raw: str, name: str, limit: float) -> float:
    try:
        value = float(raw) if len(raw) <= 32 else math.nan
    except ValueError:
        value = math.nan
    if not -limit <= value <= limit:  # NaN fails too
        raise ApiError(400, f"{name} must be a number of degrees from -{limit:g} to {limit:g}")
    return value


def map_point(query: Mapping[str, str]) -> tuple[float, float] | None:
    """``x`` (longitude) and ``y`` (latitude), both or neither."""
    x, y = query.get("x"), query.get("y")
    if x is None and y is None:
        return None
    if x is None or y is None:
        raise ApiError(400, "x and y go together: the longitude and latitude of one point")
    return _degrees(x, "x", 180), _degrees(y, "y", 90)
