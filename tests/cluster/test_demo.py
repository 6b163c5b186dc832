"""The teaching demo: the page at / driven in a real browser (Debian's
Chromium through Playwright, no browser download), and `make demo`."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from scripts.cluster import ROOT, ClusterConfig

CHROMIUM = Path("/usr/bin/chromium")
REPORTS = ROOT / "reports"


@pytest.fixture(scope="module")
def browser(redis_cluster: ClusterConfig, memory_cluster: ClusterConfig) -> Iterator[Browser]:
    # The clusters first: Playwright's sync API runs an event loop in this
    # thread, inside which the launcher cannot run its own.
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            # As root, and on a machine that may reach no network: no sandbox,
            # no background fetches, no first-run work.
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        try:
            yield browser
        finally:
            browser.close()


def log_in_and_ask_ten_times(page: Page, url: str) -> tuple[str, list[str]]:
    """As a person would: send a code, take it from the phone, log in, call
    /user/me ten times.  Returns the login result and the rows' classes."""
    page.goto(url)
    page.wait_for_function("document.querySelector('#nodes span') !== null")
    page.click("#send")
    page.wait_for_selector("#use-code:not([hidden])")  # the SMS reached the phone
    page.click("#use-code")
    assert re.fullmatch(r"[0-9]{6}", page.input_value("#code"))
    page.click("#login")
    page.wait_for_function("document.querySelector('#login-result').textContent.length > 0")
    page.click("#me10")
    page.wait_for_function("document.querySelectorAll('#rows tbody tr').length === 10")
    page.wait_for_function("document.querySelector('#tally').textContent.length > 0")
    rows = [row.get_attribute("class") or "" for row in page.query_selector_all("#rows tbody tr")]
    return page.inner_text("#login-result"), rows


def test_in_redis_mode_every_row_is_green(browser: Browser, redis_cluster: ClusterConfig) -> None:
    page = browser.new_page(viewport={"width": 1200, "height": 1000})
    login, rows = log_in_and_ask_ten_times(page, redis_cluster.url + "/")
    assert page.inner_text("#store") == "redis"
    assert page.inner_text("#strategy") == "shared session store (Redis)"
    assert [chip.inner_text() for chip in page.query_selector_all("#nodes span")] == [
        "node1",
        "node2",
        "node3",
    ]
    assert login.startswith("logged in by node")
    assert rows == ["ok"] * 10
    nodes = {cell.inner_text() for cell in page.query_selector_all("#rows tbody td:nth-child(2)")}
    assert nodes == {"node1", "node2", "node3"}
    assert "All ten requests found your session" in page.inner_text("#explain")
    REPORTS.mkdir(exist_ok=True)
    page.screenshot(path=str(REPORTS / "demo-redis.png"), full_page=True)
    page.close()


def test_in_memory_mode_the_login_fails_or_most_rows_are_red(
    browser: Browser, memory_cluster: ClusterConfig
) -> None:
    page = browser.new_page(viewport={"width": 1200, "height": 1000})
    login, rows = log_in_and_ask_ten_times(page, memory_cluster.url + "/")
    assert page.inner_text("#store") == "memory"
    assert page.inner_text("#strategy") == "in-process sessions, round robin (the bug)"
    if "wrong code" in login:  # the code went to one node, the login to another
        assert rows == ["bad"] * 10
        assert "never saw that code" in page.inner_text("#explain")
    else:  # the login happened to land where the code was: only that node knows the user
        assert rows.count("bad") >= 6 and rows.count("ok") >= 1
        assert "Only" in page.inner_text("#explain")
    REPORTS.mkdir(exist_ok=True)
    page.screenshot(path=str(REPORTS / "demo-memory.png"), full_page=True)
    page.close()


def test_make_demo_tells_the_story_and_ends_with_the_fix() -> None:
    result = subprocess.run(
        ["make", "--no-print-directory", "demo"], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    out = result.stdout
    assert "\033[" not in out  # no colour codes when not on a terminal
    assert "node2 said: 'wrong code'" in out and "to node2 the user is a stranger" in out
    assert "node2 accepted the code and logged the user in" in out
    assert "Strategy: in-process sessions, round robin (the bug)" in out
    assert "Strategy: shared session store (Redis)" in out
    table = out.split("Side by side", 1)[1]
    assert re.search(r"code sent via node1, login via node2\s+fails\s+works", table)
    assert re.search(r"logout on node2 seen by node1\s+fails\s+works", table)
    assert re.search(r"user page on node1\s+works\s+works", table)
