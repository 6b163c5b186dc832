"""`make up FRONTEND=...`, in a real browser (Debian's Chromium through
Playwright): a stand-in for the course's front end of the project's own
(tests/frontend_standin: its pages call the API as the course's do, and
judge answers as its common.js does) logs in through nginx and walks the
course's browse journey with no failed answer; a wrong code shows its
reason, not 服务器异常; the lab's own page moves to /lab/ and keeps HTTP
statuses, as does every caller that is not one of the course's pages."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, Response

from node.envelope import STATUS_HEADER
from scripts.cluster import ROOT, ClusterConfig
from tests.conftest import RunDirs, cluster_beside
from tests.helpers import chromium, random_phone

STANDIN = ROOT / "tests" / "frontend_standin"
SERVER_ERROR = "服务器异常"
# Each page of the journey, and the calls it makes (tests/frontend_standin/js/pages.js).
JOURNEY = {
    "index.html": {"GET /shop-type/list", "GET /blog/hot"},
    "info.html": {"GET /user/me", "GET /user/info/{id}", "GET /blog/of/me"},
    "shop-list.html?type=1&name=美食": {"GET /shop-type/list", "GET /shop/of/type"},
    "shop-detail.html?id=1": {"GET /shop/{id}", "GET /voucher/list/{id}"},
    "blog-detail.html?id=1": {
        "GET /blog/{id}", "GET /shop/{id}", "GET /blog/likes/{id}", "GET /user/me", "GET /follow/or/not/{id}",
    },
    "other-info.html": {
        "GET /user/{id}", "GET /user/info/{id}", "GET /blog/of/user", "GET /follow/or/not/{id}",
        "GET /follow/common/{id}", "GET /user/me",
    },
}  # fmt: skip


@pytest.fixture(scope="module")
def cluster(run_dirs: RunDirs, redis_cluster: ClusterConfig) -> Iterator[ClusterConfig]:
    # Before the browser: Playwright's sync API runs an event loop in this
    # thread, inside which the launcher cannot run its own.
    yield from cluster_beside(redis_cluster, run_dirs("frontend"), frontend=str(STANDIN))


@pytest.fixture(scope="module")
def browser(cluster: ClusterConfig) -> Iterator[Browser]:
    with chromium() as browser:
        yield browser


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context()
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        yield page
    finally:
        context.close()
    assert not errors, errors  # a field a page reads was missing, or not what it reads it as


def visit(page: Page, url: str) -> dict[str, Any]:
    """Open a page, wait for its calls to settle; what window.stand kept."""
    page.goto(url)
    page.wait_for_function("document.body.dataset.done === '1'")
    return dict(page.evaluate("window.stand"))


def read_sms(page: Page, cluster: ClusterConfig, phone: str) -> str:
    """The phone, outside the browser's pages: the outbox."""
    answer = page.request.get(f"{cluster.url}/api/dev/sms/latest", params={"phone": phone})
    return str(answer.json()["data"]["code"])


def log_in(page: Page, cluster: ClusterConfig) -> None:
    phone = random_phone()
    visit(page, cluster.url + "/login.html")
    page.fill("#phone", phone)
    page.click("#send")
    page.wait_for_selector("#shown li")  # sent
    page.fill("#code", read_sms(page, cluster, phone))
    with page.expect_navigation(url="**/index.html"):
        page.click("#login")


def shape(call: dict[str, Any]) -> str:
    """GET /blog/1?x=y as GET /blog/{id}."""
    path = call["url"].split("?")[0]
    return f"{call['method']} " + "/".join("{id}" if part.isdigit() else part for part in path.split("/"))


def test_logged_in_every_page_of_the_browse_journey_answers_without_a_failure(
    page: Page, cluster: ClusterConfig
) -> None:
    log_in(page, cluster)
    for path, calls in JOURNEY.items():
        if path == "other-info.html":  # reached as on the course's page: the blog's author
            visit(page, cluster.url + "/blog-detail.html?id=1")
            page.click("#author")
            page.wait_for_url("**/other-info.html?id=*")
            page.wait_for_function("document.body.dataset.done === '1'")
            stand = dict(page.evaluate("window.stand"))
        else:
            stand = visit(page, f"{cluster.url}/{path}")
        assert stand["toasts"] == [], (path, stand)
        assert {shape(call) for call in stand["calls"]} == calls, path
        assert all(call["status"] == 200 and call["success"] for call in stand["calls"]), stand["calls"]
        assert page.locator("#shown li").count() > 0, path
    # What the pages showed: the seed rows, their pictures under the course's /imgs/.
    visit(page, cluster.url + "/index.html")
    shown = page.locator("#shown").inner_text()
    assert "type 美食 /imgs//types/ms.png" in shown and "/imgs/blogs/" in shown


def test_a_wrong_code_shows_its_reason_not_server_error(page: Page, cluster: ClusterConfig) -> None:
    phone = random_phone()
    visit(page, cluster.url + "/login.html")
    page.fill("#phone", phone)
    page.click("#send")
    page.wait_for_selector("#shown li")
    code = read_sms(page, cluster, phone)
    page.fill("#code", f"{(int(code) + 1) % 1_000_000:06d}")
    answers: list[Response] = []
    page.on("response", lambda resp: answers.append(resp) if resp.url.endswith("/api/user/login") else None)
    page.click("#login")
    page.wait_for_selector("#toasts .toast")
    assert page.locator("#toasts .toast").all_inner_texts() == ["wrong code"]
    assert SERVER_ERROR not in page.content()
    # The course's way: HTTP 200, success false, the status it has in the header.
    assert (answers[0].status, answers[0].headers[STATUS_HEADER.lower()]) == (200, "400")
    assert page.url.endswith("/login.html")


def test_a_visitor_who_is_not_logged_in_is_sent_from_a_blog_to_the_login(
    page: Page, cluster: ClusterConfig
) -> None:
    page.goto(cluster.url + "/blog-detail.html?id=1")
    page.wait_for_url("**/login.html")


def test_a_later_chapter_shows_its_reason(page: Page, cluster: ClusterConfig) -> None:
    log_in(page, cluster)
    visit(page, cluster.url + "/blog-detail.html?id=1")
    page.click("#like")
    page.wait_for_selector("#toasts .toast")
    assert page.locator("#toasts .toast").all_inner_texts() == [
        "liking a blog (点赞) is a later chapter of the course, not part of this lab"
    ]


def test_the_lab_page_moves_to_lab_and_still_works(page: Page, cluster: ClusterConfig) -> None:
    page.goto(cluster.url + "/lab")  # without the slash too
    page.wait_for_url("**/lab/")
    idle = "document.body.dataset.idle === '1'"
    page.wait_for_function(idle)  # app.js came, and found the nodes
    assert page.inner_text("#store") == "redis"
    # Its login, which reads HTTP statuses: its calls are not the course's pages'.
    page.click("#send")
    page.wait_for_selector("#use-code:not([hidden])")
    page.click("#use-code")
    page.click("#login")
    page.wait_for_function(idle)
    page.wait_for_function("document.querySelector('#login-result').textContent.length > 0")
    assert page.inner_text("#login-result").startswith("logged in by node")


def ask(url: str, referer: str | None) -> tuple[int, dict[str, Any], str | None]:
    request = urllib.request.Request(url, headers={"Referer": referer} if referer else {})
    try:
        with urllib.request.urlopen(request, timeout=10) as resp:
            return resp.status, json.load(resp), resp.headers.get(STATUS_HEADER)
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, json.load(exc), exc.headers.get(STATUS_HEADER)


@pytest.mark.parametrize(
    ("referer", "status"),
    [
        ("{url}/shop-detail.html?id=999999", 200),  # a course page: its way
        ("{url}/lab/", 404),  # the lab's own page
        (None, 404),  # curl, make try, a script
    ],
)
def test_only_the_course_pages_calls_get_refusals_the_course_way(
    cluster: ClusterConfig, referer: str | None, status: int
) -> None:
    answer, body, own = ask(cluster.url + "/api/shop/999999", referer and referer.format(url=cluster.url))
    assert (answer, body) == (status, {"success": False, "errorMsg": "shop not found"})
    assert own == ("404" if status == 200 else None)
