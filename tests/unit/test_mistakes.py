"""MISTAKE= as a setting, and the lesson's words: checked before anything runs."""

from __future__ import annotations

import string
from pathlib import Path

import pytest

from node.mistakes import NAMES, WHAT, mistake_names
from node.sessions import Policy
from node.sessions.keys import FIXED_CODE_KEY, LOGIN_CODE_KEY
from node.settings import Settings, SettingsError
from scripts.cluster import ClusterConfig
from scripts.lab.demo_text import SAY as DEMO
from scripts.lab.language import LANGS, pick_lang, user_locale
from scripts.lab.lesson import STEP_RUNS
from scripts.lab.lesson_text import SAY, STEPS
from scripts.lesson import steps_from
from scripts.walkthrough import verdict


def test_mistakes_are_read_in_any_order_and_kept_in_the_seeds() -> None:
    assert mistake_names(" json-string,fixed-code-key ,") == ("fixed-code-key", "json-string")
    assert mistake_names("") == mistake_names("none") == ()
    assert set(WHAT) == set(NAMES)


def test_an_unknown_mistake_is_refused_with_the_list_of_known_ones() -> None:
    with pytest.raises(SettingsError, match=r"unknown mistake no-such: the mistakes are fixed-code-key, "):
        Settings.from_env({"MISTAKE": "no-refresh,no-such"})


def test_a_mistake_needs_redis_and_fixed_code_key_a_redis_without_slots() -> None:
    with pytest.raises(SettingsError, match="SESSION_STORE=redis"):
        Settings.from_env({"MISTAKE": "no-refresh", "SESSION_STORE": "memory"})
    with pytest.raises(SettingsError, match="fixed-code-key"):
        Settings.from_env({"MISTAKE": "fixed-code-key", "REDIS_CLUSTER": "on"})
    with pytest.raises(SettingsError, match="loopback"):
        Settings.from_env({"MISTAKE": "phone-token", "NODE_HOST": "0.0.0.0"})
    assert Settings.from_env({"MISTAKE": "phone-token", "NODE_HOST": "::1"}).mistakes == ("phone-token",)


def test_the_policy_carries_the_mistakes_and_places_the_code_by_them() -> None:
    fixed = Policy.from_settings(Settings(mistakes=("fixed-code-key",)))
    assert fixed.code_key("13900000000") == fixed.code_key("13900000001") == FIXED_CODE_KEY
    assert Policy().code_key("13900000000") == LOGIN_CODE_KEY + "{13900000000}"


def test_both_languages_tell_every_step_with_the_same_blanks() -> None:
    for lang in LANGS:
        assert set(STEPS[lang]) == set(STEP_RUNS)
        assert all(set(text) == {"title", "seed", "take"} for text in STEPS[lang].values())
    assert set(SAY["zh"]) == set(SAY["en"])
    for key in SAY["en"]:
        blanks = [
            sorted(name for _, name, _, _ in string.Formatter().parse(SAY[lang][key]) if name)
            for lang in LANGS
        ]
        assert blanks[0] == blanks[1], key


def test_the_language_is_lesson_lang_else_the_locales() -> None:
    assert pick_lang("", "zh_CN.UTF-8") == "zh"
    assert pick_lang("", "C.UTF-8") == pick_lang("", "") == "en"
    assert pick_lang("en", "zh_CN.UTF-8") == "en"
    with pytest.raises(ValueError, match="zh or en"):
        pick_lang("fr", "")
    assert user_locale({"LANG": "en_US.UTF-8", "LANGUAGE": "zh_CN:en"}) == "zh_CN:en"
    assert user_locale({}) == ""


def test_step_is_one_of_the_eight_or_all() -> None:
    assert steps_from("") == list(range(1, 9))
    assert steps_from("7") == [7]
    for bad in ("0", "9", "x", "-1"):
        with pytest.raises(ValueError, match="STEP must be"):
            steps_from(bad)


def test_make_try_names_the_mistakes_a_cluster_makes_and_the_step_that_shows_each(tmp_path: Path) -> None:
    cfg = ClusterConfig(run_dir=tmp_path, node_env={"MISTAKE": "one-interceptor,phone-token"})
    said = verdict(cfg, "node1", "", {"node1", "node2", "node3"}, set())
    assert said.startswith(cfg.strategy) and "MISTAKE=phone-token,one-interceptor" in cfg.strategy
    assert "MISTAKE=phone-token, on purpose: the phone number is the token" in said
    assert "(make lesson STEP=5 shows it)" in said and "(make lesson STEP=8 shows it)" in said


def test_make_demo_says_every_line_in_both_languages_with_the_same_blanks() -> None:
    assert set(DEMO["zh"]) == set(DEMO["en"])
    for key in DEMO["en"]:
        blanks = [
            sorted(n for _, n, _, _ in string.Formatter().parse(DEMO[lang][key]) if n) for lang in LANGS
        ]
        assert blanks[0] == blanks[1], key


def test_make_demo_lang_zh_is_chinese() -> None:
    from scripts.lab.language import lang_from

    assert lang_from({"LANG": "zh"}) == "zh"
    assert lang_from({"LANG": "C.UTF-8"}) == "en"
    assert lang_from({"LANG": "zh_CN.UTF-8", "LESSON_LANG": "en"}) == "en"
