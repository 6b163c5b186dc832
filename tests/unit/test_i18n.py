"""The API's refusals in Chinese for a client that prefers it: every message
a handler can raise has its translation, and the header is read by its q-values."""

from __future__ import annotations

import re

import pytest

from node import i18n, later, outages, pipeline, views
from scripts.cluster import ROOT


@pytest.mark.parametrize(
    ("header", "chinese"),
    [
        ("zh-CN,zh;q=0.9,en;q=0.8", True),
        ("zh", True),
        ("en;q=0.5, zh-TW", True),
        ("en-US,en;q=0.9,zh-CN;q=0.8", False),
        ("zh;q=0, en", False),
        ("", False),
        ("zhx, en", False),
        ("zh;q=abc", False),
    ],
)
def test_the_first_language_by_q_value_decides(header: str, chinese: bool) -> None:
    assert i18n.prefers_chinese(header) is chinese


def literal_messages() -> set[str]:
    """Every plain-string message raised as an ApiError in node/."""
    found = set()
    for path in (ROOT / "node").glob("*.py"):
        found |= set(re.findall(r'ApiError\(\s*\d+,\s*"((?:[^"\\]|\\.)*)"', path.read_text()))
    return {m.encode().decode("unicode_escape") for m in found}


def test_every_message_a_handler_raises_has_its_chinese() -> None:
    messages = literal_messages() | set(views._REFUSALS.values()) | set(pipeline._REASONS.values())
    messages |= {views.WRONG_CODE, outages.SESSION_STORE_UNAVAILABLE, outages.DATABASE_UNAVAILABLE}
    messages |= {later.message(what) for *_, what in later.CHAPTERS}
    assert len(messages) > 30
    untranslated = sorted(m for m in messages if not re.search(r"[\u4e00-\u9fff]", i18n.translate(m)))
    assert untranslated == []


@pytest.mark.parametrize(
    ("english", "chinese"),
    [
        ("current must be a whole number from 1 to 10000", "current 必须是 1 到 10000 的整数"),
        ("typeId is required: the shop type", "缺少 typeId：the shop type"),
        ("nickName must be 1 to 32 printable characters", "昵称必须是 1 到 32 个可显示的字"),
        (
            "liking a blog (点赞) is a later chapter of the course, not part of this lab",
            "点赞是课程后面章节的内容，本实验不包含",
        ),
        ("something new", "something new"),  # no translation: as it is, never an error
    ],
)
def test_a_message_with_a_value_keeps_it(english: str, chinese: str) -> None:
    assert i18n.translate(english) == chinese
