"""Which language a command tells its story in: zh or en."""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from typing import Literal

Lang = Literal["zh", "en"]
LANGS: tuple[Lang, ...] = ("zh", "en")


def user_locale(env: Mapping[str, str]) -> str:
    """The language the user's environment asks for, as gettext reads it."""
    for name in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        if env.get(name):
            return env[name]
    return ""


def pick_lang(given: str, locale: str) -> Lang:
    """``given`` (``LESSON_LANG``: zh or en) if set, else the locale's
    language (``zh_CN.UTF-8``, or plain ``zh`` as in ``make demo LANG=zh``:
    Chinese), else English."""
    if given:
        if given not in LANGS:
            raise ValueError(f"LESSON_LANG must be zh or en, not {given!r}")
        return given
    return "zh" if locale.lower().startswith("zh") else "en"


def lang_from(env: Mapping[str, str]) -> Lang:
    return pick_lang(env.get("LESSON_LANG", ""), user_locale(env))


def pad(text: str, width: int, *, right: bool = False) -> str:
    """``text`` padded to ``width`` terminal columns (a Chinese character
    takes two), on the right or, with ``right``, on the left."""
    columns = sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)
    space = " " * max(0, width - columns)
    return space + text if right else text + space
