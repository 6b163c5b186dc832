"""A client that prefers Chinese (the course's front end, in a Chinese
browser) reads the API's refusals in Chinese; any other reads English."""

from __future__ import annotations

from node.routes import PATHS
from scripts.lab.journey import send_code
from tests.conftest import MakeClient
from tests.helpers import random_phone

ZH = {"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.8"}


async def test_a_wrong_code_is_the_courses_own_words_in_chinese(make_client: MakeClient) -> None:
    client = await make_client()
    phone = random_phone()
    assert (await send_code(client.session, str(client.make_url("")).rstrip("/"), phone)).status == 200
    body = {"phone": phone, "code": "000000"}
    chinese = await client.post(PATHS["user.login"], json=body, headers=ZH)
    assert (chinese.status, (await chinese.json())["errorMsg"]) == (400, "验证码错误")
    english = await client.post(PATHS["user.login"], json=body, headers={"Accept-Language": "en-US"})
    assert (await english.json())["errorMsg"] == "wrong code"
    bad = await client.post(PATHS["user.code"], params={"phone": "123"}, headers=ZH)
    assert (await bad.json())["errorMsg"] == "手机号格式错误"


async def test_a_limit_says_its_wait_in_chinese_the_courses_way(make_client: MakeClient) -> None:
    client = await make_client()
    phone = random_phone()
    await client.post(PATHS["user.code"], params={"phone": phone})
    again = await client.post(
        PATHS["user.code"], params={"phone": phone}, headers={**ZH, "X-Failure-Convention": "course"}
    )
    body = await again.json()
    assert again.status == 200 and body["success"] is False
    assert body["errorMsg"].startswith("刚刚已向这个手机号发送过验证码") and "秒后再试）" in body["errorMsg"]


async def test_the_login_check_and_the_router_answer_in_chinese_too(make_client: MakeClient) -> None:
    client = await make_client()
    me = await client.get(PATHS["user.me"], headers=ZH)
    assert (me.status, (await me.json())["errorMsg"]) == (
        401,
        "未登录：请把 /user/login 返回的 token 放在 authorization 请求头中",
    )
    missing = await client.get("/no/such/page", headers=ZH)
    assert (missing.status, (await missing.json())["errorMsg"]) == (404, "资源不存在")
