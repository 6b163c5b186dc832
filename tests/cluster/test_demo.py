"""The teaching demo: the page at / driven in a real browser (Debian's
Chromium through Playwright, no browser download), in English and in
Chinese (中文), its X-ray endpoint, and `make demo`.  The browser tests
write the screenshots in docs/."""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterator

import aiohttp
import pytest
from playwright.sync_api import Browser, Page

from node.routes import PATHS
from node.sessions import LOGIN_CODE_KEY, LOGIN_USER_KEY, phone_tag
from node.tokens import session_id
from node.xray import TOKEN_HEADER
from scripts.cluster import ROOT, ClusterConfig
from scripts.lab import journey
from tests.conftest import Client, MakeClient
from tests.helpers import chromium, random_phone

DOCS = ROOT / "docs"


# The API tests first: the browser fixture below runs Playwright's own event
# loop in this thread for the rest of the module.


async def xray(client: Client, phone: str, token: str | None = None) -> tuple[int, dict[str, object], str]:
    headers = {TOKEN_HEADER: token} if token else {}
    resp = await client.get(PATHS["dev.xray"], params={"phone": phone}, headers=headers)
    text = await resp.text()
    return resp.status, json.loads(text), text


@pytest.mark.parametrize("store", ["redis", "memory"])
async def test_the_xray_names_the_keys_and_never_shows_a_code_a_token_or_a_hmac(
    make_client: MakeClient, store: str
) -> None:
    client = await make_client(store)
    base, phone = str(client.make_url("")).rstrip("/"), random_phone()
    assert (await journey.send_code(client.session, base, phone)).status == 200
    code = str((await journey.read_sms(client.session, base, phone)).body["data"]["code"])
    status, body, text = await xray(client, phone)
    assert status == 200 and body["success"] is True
    data = body["data"]
    assert isinstance(data, dict) and data["node"] == "inproc" and data["store"] == store
    if store == "redis":
        keys = {e["key"]: e for e in data["redis"]}
        code_key = LOGIN_CODE_KEY + phone_tag(phone)
        assert keys[code_key]["type"] == "hash" and 0 < keys[code_key]["ttlMs"] <= 120_000
        assert keys[code_key]["fields"]["tries"] == "0"
        assert data["memory"] == {"codes": 0, "sessions": 0, "other": 0, "entries": []}
    else:
        keys = {e["key"]: e for e in data["memory"]["entries"]}
        assert 0 < keys[f"code:{phone}"]["ttlMs"] <= 120_000 and data["memory"]["codes"] >= 1
    assert keys and all(e["key"].count(phone) for e in keys.values())  # only this phone's entries
    assert f'"{code}"' not in text  # not the code (six digits may well turn up inside a TTL)
    assert re.search(r"[0-9a-f]{64}", text) is None  # not its HMAC (nor any SHA-256)
    assert re.search(r'"mac":\s*"\(hidden\)"', text)  # however the JSON is spaced
    login = await journey.submit_code(client.session, base, phone, code)
    token = login.body["data"]
    status, body, text = await xray(client, phone, token)
    entries = body["data"]["redis" if store == "redis" else "memory"]  # type: ignore[index]
    if store == "memory":
        entries = entries["entries"]
    names = [e["key"] for e in entries]
    prefix = LOGIN_USER_KEY if store == "redis" else "token:"
    assert prefix + session_id(token) in names
    assert not any(n.startswith(("login:code:", "code:")) for n in names)  # the login took the code
    assert token not in text
    # Without the token, no session is named.
    status, body, text = await xray(client, phone)
    assert session_id(token) not in text


@pytest.mark.parametrize("store", ["redis", "memory"])
async def test_the_xray_names_the_session_of_a_token_sent_as_authorization_too(
    make_client: MakeClient, store: str
) -> None:
    client = await make_client(store)
    token = await journey.log_in(client.session, str(client.make_url("")).rstrip("/"))
    resp = await client.get(
        PATHS["dev.xray"], params={"phone": random_phone()}, headers={"authorization": token}
    )
    assert resp.status == 200
    assert session_id(token) in await resp.text()


@pytest.mark.parametrize(
    ("query", "headers", "message"),
    [
        ({}, {}, "invalid phone number"),
        ({"phone": "1"}, {}, "invalid phone number"),
        ({"phone": "１３８００００００００"}, {}, "invalid phone number"),
        (
            {"phone": "13800000000", "x": "y"},
            {TOKEN_HEADER: "not-a-token"},
            f"{TOKEN_HEADER} must be a token",
        ),
        ({"phone": "13800000000"}, {TOKEN_HEADER: "A" * 32}, f"{TOKEN_HEADER} must be a token"),
    ],
)
async def test_the_xray_answers_bad_input_with_a_400_envelope(
    make_client: MakeClient, query: dict[str, str], headers: dict[str, str], message: str
) -> None:
    client = await make_client()
    resp = await client.get(PATHS["dev.xray"], params=query, headers=headers)
    assert resp.status == 400
    body = await resp.json()
    assert body["success"] is False and body["errorMsg"].startswith(message)


async def test_with_the_outbox_off_every_dev_endpoint_is_gone(make_client: MakeClient) -> None:
    client = await make_client(sms_outbox=False)
    for name in ("dev.sms.latest", "dev.xray"):
        resp = await client.get(PATHS[name], params={"phone": random_phone()})
        assert resp.status == 404, name


async def test_the_xray_is_served_through_nginx(
    redis_cluster: ClusterConfig, http: aiohttp.ClientSession
) -> None:
    async with http.get(
        redis_cluster.url + "/api" + PATHS["dev.xray"], params={"phone": random_phone()}
    ) as resp:
        assert resp.status == 200
        assert (await resp.json())["data"]["store"] == "redis"


@pytest.fixture(scope="module")
def browser(redis_cluster: ClusterConfig, memory_cluster: ClusterConfig) -> Iterator[Browser]:
    # The clusters first: Playwright's sync API runs an event loop in this
    # thread, inside which the launcher cannot run its own.
    with chromium() as browser:
        yield browser


def idle(page: Page) -> None:
    """Wait until the page's action (and the X-ray after it) is done."""
    page.wait_for_function("document.body.dataset.idle === '1'")


def click(page: Page, selector: str) -> None:
    page.click(selector)
    idle(page)


def xray_keys(page: Page, where: str) -> dict[str, int]:
    """The X-ray's keys in one box (a node, or Redis): name -> TTL in ms as read."""
    items = page.query_selector_all(f"{where} li.xkey")
    return {
        item.get_attribute("data-key") or "": int(
            item.query_selector(".ttl").get_attribute("data-ttl-ms") or "0"
        )
        for item in items
    }  # type: ignore[union-attr]


def wait_for_time_to_pass(page: Page, selector: str, ms: int) -> None:
    """Until the page has counted ``ms`` down on a TTL since it was read."""
    page.wait_for_function(
        "([sel, ms]) => performance.now() - Number(document.querySelector(sel).dataset.at) > ms",
        arg=[selector, ms],
    )


def log_in_and_ask_ten_times(page: Page, url: str) -> tuple[str, list[str]]:
    """As a person would: send a code, take it from the phone, log in, call
    /user/me ten times.  Returns the login result and the rows' classes."""
    page.goto(url)
    idle(page)
    page.wait_for_function("document.querySelector('#nodes span') !== null")
    click(page, "#send")
    page.wait_for_selector("#use-code:not([hidden])")  # the SMS reached the phone
    page.click("#use-code")
    assert re.fullmatch(r"[0-9]{6}", page.input_value("#code"))
    click(page, "#login")
    page.wait_for_function("document.querySelector('#login-result').textContent.length > 0")
    click(page, "#me10")
    page.wait_for_function("document.querySelectorAll('#rows tbody tr').length === 10")
    page.wait_for_function("document.querySelector('#tally').textContent.length > 0")
    return page.inner_text("#login-result"), rows_of(page)


def rows_of(page: Page) -> list[str]:
    return [row.get_attribute("class") or "" for row in page.query_selector_all("#rows tbody tr")]


def row_nodes(page: Page) -> list[str]:
    return [cell.inner_text() for cell in page.query_selector_all("#rows tbody td:nth-child(2)")]


def screenshot(page: Page, name: str) -> None:
    DOCS.mkdir(exist_ok=True)
    page.screenshot(path=str(DOCS / name), full_page=True)


def test_in_redis_mode_every_row_is_green(browser: Browser, redis_cluster: ClusterConfig) -> None:
    page = browser.new_page(viewport={"width": 1200, "height": 1000}, locale="en-US")
    page.goto(redis_cluster.url + "/")
    idle(page)
    phone = page.input_value("#phone")
    click(page, "#send")
    # The code, in Redis under the seed's key: a hash, 2 minutes.
    code_key = f"login:code:{{{phone}}}"
    redis_keys = xray_keys(page, "#xray-redis")
    assert 0 < redis_keys[code_key] <= 120_000
    assert f"login:sent:{{{phone}}}" in redis_keys
    assert "(hidden)" in page.inner_text("#xray-redis")  # the code's HMAC is not shown
    for node in ("node1", "node2", "node3"):
        assert "holds nothing" in page.inner_text(f'.xnode[data-node="{node}"]')

    # Again from the start (a new phone), as the memory test does.
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
    assert page.is_disabled("#login-holder")  # the plain login worked: nothing to steer
    # The session: login:token:<session id>, and its TTL counts down in Redis
    # (the X-ray does not refresh it) until a request pushes it back.
    token = page.evaluate("sessionStorage.getItem('token')")
    token_key = "login:token:" + session_id(token)
    assert token not in page.content()
    first = xray_keys(page, "#xray-redis")[token_key]
    assert first > 1_790_000
    assert not any(key.startswith("login:code:") for key in xray_keys(page, "#xray-redis"))
    wait_for_time_to_pass(page, f'#xray-redis li[data-key="{token_key}"] .ttl', 1500)
    click(page, "#xray-refresh")
    counted_down = xray_keys(page, "#xray-redis")[token_key]
    assert counted_down < first - 1000
    click(page, "#me10")
    assert rows_of(page) == ["ok"] * 10
    assert xray_keys(page, "#xray-redis")[token_key] > counted_down + 1000
    assert page.is_visible(f'#xray-redis li.bumped[data-key="{token_key}"]')
    screenshot(page, "demo-redis.png")
    # A logout on any node is a logout on every node.
    click(page, "#logout")
    assert page.inner_text("#logout-result").startswith("logged out by node")
    assert token_key not in xray_keys(page, "#xray-redis")
    click(page, "#me10")
    assert rows_of(page) == ["bad"] * 10
    assert "you logged out, and every node knows it" in page.inner_text("#explain")
    page.close()


def test_in_memory_mode_the_login_fails_or_most_rows_are_red(
    browser: Browser, memory_cluster: ClusterConfig
) -> None:
    page = browser.new_page(viewport={"width": 1200, "height": 1000}, locale="en-US")
    login, rows = log_in_and_ask_ten_times(page, memory_cluster.url + "/")
    assert page.inner_text("#store") == "memory"
    assert page.inner_text("#strategy") == "in-process sessions, round robin (the bug)"
    if "wrong code" in login:  # the code went to one node, the login to another
        assert rows == ["bad"] * 10
        assert "never saw that code" in page.inner_text("#explain")
    else:  # the login happened to land where the code was: only that node knows the user
        assert rows.count("bad") >= 6 and rows.count("ok") >= 1
        assert "Only" in page.inner_text("#explain")
    # Round robin: the login reached another node than the sender, always.
    assert "wrong code" in login
    assert "try again with a new phone number" not in page.inner_text("#explain").lower()
    phone = page.input_value("#phone")
    holder = page.inner_text("#send-result").split()[0]
    assert holder in {"node1", "node2", "node3"}
    # The X-ray: the code is in the holder's memory only.
    for node in ("node1", "node2", "node3"):
        keys = xray_keys(page, f'.xnode[data-node="{node}"]')
        assert (f"code:{phone}" in keys) == (node == holder), node
    assert f"code:{phone}" in page.inner_text("#explain")
    # Said again in Chinese: the switch rewrites what the page wrote after each action.
    page.click("#lang-zh")
    explained = page.inner_text("#explain")
    assert "存在每个节点自己的内存里" in explained and f"key 是 code:{phone}" in explained
    assert "它从没见过这个验证码，所以回答“验证码错误”" in explained and f"只有 {holder} 存着它" in explained
    assert page.inner_text("#send-result") == f"{holder} 生成了验证码，存了起来，并发出了短信"
    page.click("#lang-en")

    # Steered to the holder, the same code logs in.
    click(page, "#login-holder")
    assert page.inner_text("#login-result") == f"logged in by {holder}: your token is kept in sessionStorage"
    token = page.evaluate("sessionStorage.getItem('token')")
    token_key = "token:" + session_id(token)
    for node in ("node1", "node2", "node3"):
        keys = xray_keys(page, f'.xnode[data-node="{node}"]')
        assert (token_key in keys) == (node == holder), node
        assert f"code:{phone}" not in keys
    first = xray_keys(page, f'.xnode[data-node="{holder}"]')[token_key]

    # The mixed table: green exactly where the session is.
    # Its TTL counts down in the holder's memory, until a request to it pushes it back up.
    wait_for_time_to_pass(page, f'.xnode[data-node="{holder}"] .ttl', 1500)
    click(page, "#xray-refresh")
    counted_down = xray_keys(page, f'.xnode[data-node="{holder}"]')[token_key]
    assert counted_down < first - 1000
    click(page, "#me10")
    rows, nodes = rows_of(page), row_nodes(page)
    assert rows == ["ok" if node == holder else "bad" for node in nodes]
    assert set(nodes) == {"node1", "node2", "node3"} and "ok" in rows and "bad" in rows
    assert f"Only {holder} knew you" in page.inner_text("#explain")
    assert xray_keys(page, f'.xnode[data-node="{holder}"]')[token_key] > counted_down + 1000
    assert page.is_visible(f'.xnode[data-node="{holder}"] li.bumped[data-key="{token_key}"]')
    screenshot(page, "demo-memory.png")

    # A logout that reaches another node: the holder never hears of it.
    click(page, "#logout")
    logout = page.inner_text("#logout-result")
    by = logout.split()[0] if logout.startswith("node") else logout.split()[2]
    if by == holder:
        assert logout == f"logged out by {holder}"
        assert "The other nodes never hear of a logout" in page.inner_text("#explain")
        expected = ["bad"] * 10
    else:
        assert logout.startswith(f"{by} said: 401")
        assert f"{holder} never hears of the logout" in page.inner_text("#explain")
        assert token_key in xray_keys(page, f'.xnode[data-node="{holder}"]')
        expected = None
    click(page, "#me10")
    rows, nodes = rows_of(page), row_nodes(page)
    assert rows == (expected or ["ok" if node == holder else "bad" for node in nodes])
    page.close()


def test_on_a_phone_sized_screen_the_page_fits(browser: Browser, memory_cluster: ClusterConfig) -> None:
    page = browser.new_page(viewport={"width": 390, "height": 844}, is_mobile=True, locale="en-US")
    page.goto(memory_cluster.url + "/")
    idle(page)
    click(page, "#send")
    page.click("#use-code")
    click(page, "#login")
    click(page, "#login-holder")
    click(page, "#me10")
    # Nothing wider than the screen: no sideways scrolling.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(page, "demo-phone.png")
    page.click("#lang-zh")  # and in Chinese, the switch included
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.close()


LANG_KEY = "sessionlab.lang"  # where the page keeps the learner's choice


def lang_of(page: Page) -> str:
    return page.evaluate("document.documentElement.lang")


def untranslated(page: Page) -> list[str]:
    """The names of the page's texts that have no Chinese, or are left in English."""
    return page.evaluate(
        """[...document.querySelectorAll('[data-i18n]')]
        .filter((el) => el.innerHTML === 'undefined' || !/[\u4e00-\u9fff]/.test(el.textContent))
        .map((el) => el.dataset.i18n)"""
    )


def test_the_page_switches_to_chinese_and_back_and_keeps_the_choice(
    browser: Browser, redis_cluster: ClusterConfig
) -> None:
    page = browser.new_page(viewport={"width": 1200, "height": 1000}, locale="en-US")
    languages: list[tuple[str, str | None]] = []  # (path, Accept-Language) of each API call
    page.on(
        "request",
        lambda req: (
            languages.append((req.url.split("/api", 1)[1], req.headers.get("accept-language")))
            if "/api/" in req.url
            else None
        ),
    )
    page.goto(redis_cluster.url + "/")
    idle(page)
    assert lang_of(page) == "en" and page.inner_text("#send") == "Send code"
    assert page.evaluate(f"localStorage.getItem('{LANG_KEY}')") is None  # nothing chosen yet

    page.click("#lang-zh")
    assert lang_of(page) == "zh-CN" and page.title() == "集群 session 共享问题 · 实验"
    assert page.get_attribute("#lang-zh", "aria-pressed") == "true"
    assert untranslated(page) == ["me.session"]  # the course says "session" too
    assert page.inner_text("h1").startswith("集群 session 共享问题")
    assert page.inner_text("#send") == "发送验证码" and page.inner_text("#login") == "登录"
    assert page.inner_text("#me10") == "调用 /user/me × 10" and page.inner_text("#logout") == "退出登录"
    steps = [li.inner_text() for li in page.query_selector_all("#lesson li")]
    assert len(steps) == 8 and steps[2].startswith("用 Redis 代替 session，所有节点共享")
    assert "刷新拦截器 + 登录拦截器" in steps[7] and "make up MISTAKE=one-interceptor" in steps[7]
    assert page.inner_text("#strategy") == "共享 session（存在 Redis 里）"
    assert page.inner_text("#store") == "redis"  # the store's name, as configured
    assert page.inner_text("#explain").startswith("这个集群把 session 存在 Redis 里")
    assert "什么都不存" in page.inner_text('.xnode[data-node="node1"]')

    # A journey in Chinese: what the script writes is Chinese too, and the API is asked in it.
    phone = page.input_value("#phone")
    click(page, "#send")
    sent = page.inner_text("#send-result")
    assert re.fullmatch(r"node[123] 生成了验证码，存了起来，并发出了短信", sent)
    assert f"存在 Redis 里，key 是 login:code:{{{phone}}}，有效期 2 分钟" in page.inner_text("#explain")
    assert ("/user/code?phone=" + phone, "zh-CN") in languages
    page.click("#use-code")
    click(page, "#login")
    assert page.inner_text("#login-result").endswith("让你登录了：token 存在 sessionStorage 里")
    click(page, "#me10")
    assert page.inner_text("#tally") == "10 个请求里有 10 个找到了你的 session"
    assert page.inner_text("#rows tbody tr td:last-child").startswith("找到了：")
    explained = page.inner_text("#explain")
    assert "十个请求不管落到哪个节点" in explained and "刷新了 token 有效期" in explained
    ttl_label = "getComputedStyle(document.querySelector('#xray-redis .ttl'), '::before').content"
    assert page.evaluate(ttl_label) == '"有效期 "'
    screenshot(page, "demo-redis-zh.png")
    # The code is used: the API's refusal comes in Chinese, as the page asked, and is explained.
    click(page, "#login")
    assert re.fullmatch(r"node[123] 回答：验证码错误", page.inner_text("#login-result"))
    assert "验证码不对、已经用过或者过期了" in page.inner_text("#explain")

    # The choice is kept: a reload comes back in Chinese.
    page.reload()
    idle(page)
    assert page.evaluate(f"localStorage.getItem('{LANG_KEY}')") == "zh"
    assert lang_of(page) == "zh-CN" and page.inner_text("#send") == "发送验证码"

    # Back to English: the texts, those the script wrote included, and the API's language.
    click(page, "#send")
    page.click("#lang-en")
    assert lang_of(page) == "en" and page.title() == "Session sharing lab · 集群 Session 共享"
    assert page.inner_text("h1").startswith("Session sharing lab")
    assert page.inner_text("#send") == "Send code" and page.inner_text("#login") == "Log in"
    assert page.inner_text("#lesson li:nth-child(3)").startswith("Redis, shared by every node")
    assert page.inner_text("#strategy") == "shared session store (Redis)"
    assert page.inner_text("#send-result").endswith(" made a code, stored it, and sent it")
    assert "The code was stored by" in page.inner_text("#explain")
    assert "holds nothing" in page.inner_text('.xnode[data-node="node1"]')
    languages.clear()
    click(page, "#xray-refresh")
    assert languages and all(lang == "en" for _, lang in languages)
    page.reload()
    idle(page)
    assert page.evaluate(f"localStorage.getItem('{LANG_KEY}')") == "en"
    assert lang_of(page) == "en" and page.inner_text("#send") == "Send code"
    page.close()


@pytest.mark.parametrize(
    ("locale", "lang", "button"),
    [
        pytest.param("zh-CN", "zh-CN", "发送验证码", id="zh-CN"),
        pytest.param("zh-TW", "zh-CN", "发送验证码", id="zh-TW"),  # any Chinese: the course's 简体
        pytest.param("en-US", "en", "Send code", id="en-US"),
    ],
)
def test_the_browser_language_is_the_default(
    browser: Browser, redis_cluster: ClusterConfig, locale: str, lang: str, button: str
) -> None:
    context = browser.new_context(locale=locale)
    try:
        page = context.new_page()
        page.goto(redis_cluster.url + "/")
        idle(page)
        assert page.evaluate("navigator.language") == locale
        assert lang_of(page) == lang and page.inner_text("#send") == button
        assert page.evaluate(f"localStorage.getItem('{LANG_KEY}')") is None  # a default, not a choice
    finally:
        context.close()


def test_make_demo_tells_the_story_and_ends_with_the_fix_in_chinese() -> None:
    # `make demo LANG=zh`: the English words are checked against these by
    # tests/unit/test_mistakes.py (the same lines, the same blanks).
    result = subprocess.run(
        ["make", "--no-print-directory", "demo", "LANG=zh"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    out = result.stdout
    assert "\033[" not in out  # no colour codes when not on a terminal
    assert "集群 session 共享问题" in out
    assert (
        "node2 回答：验证码错误" in out and "对 node2 来说，这个用户是陌生人" in out
    )  # the API's own words, in Chinese
    assert "node2 认可了验证码，用户登录成功" in out
    assert "方案：in-process sessions, round robin (the bug)" in out
    assert "方案：shared session store (Redis)" in out
    table = out.split("对比", 1)[1]
    assert re.search(r"验证码经 node1 发送，经 node2 登录\s+失败\s+成功", table)
    assert re.search(r"在 node2 退出登录，node1 是否知道\s+失败\s+成功", table)
    assert re.search(r"在 node1 上打开用户页面\s+成功\s+成功", table)
