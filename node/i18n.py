# ruff: noqa: E501  (a message and its translation on one line read side by side)
"""The API's refusals in Chinese, for a client whose Accept-Language prefers
it (the course's front end runs in a Chinese browser).

The handlers raise their messages in English, once each; the error step
translates an answer's ``errorMsg`` here, at the last moment, so that the
logs, the metrics and the tests keep one language.  Exact messages first,
then the few that carry a value (a limit, a parameter's name).  A message
without a translation stays English rather than fail: a test lists them.
"""

from __future__ import annotations

import re

# The course's own words where it has them: 手机号格式错误, 验证码错误.
EXACT: dict[str, str] = {
    "invalid phone number": "手机号格式错误",
    "wrong code": "验证码错误",
    "code is required": "请输入验证码",
    "password login is not supported: log in with an SMS code": "不支持密码登录：请用短信验证码登录",
    "too many wrong tries for this code: ask for a new one": "这个验证码输错次数太多，已失效：请重新获取验证码",
    "logged out everywhere while this login ran: log in again with the same code": (
        "登录过程中这个账号已在所有设备退出登录：请用同一个验证码重新登录"
    ),
    "request body is not a valid form": "请求体不是有效的表单",
    "request body must be a JSON object": "请求体必须是一个 JSON 对象",
    "request body could not be decoded": "请求体无法解码",
    "request body too large": "请求体太大",
    "a code was sent to this phone a moment ago: ask again later": "刚刚已向这个手机号发送过验证码：请稍后再试",
    "too many codes for this phone this hour: ask again later": "这个手机号本小时获取验证码的次数太多：请稍后再试",
    "too many codes for this phone today: ask again later": "这个手机号今天获取验证码的次数太多：请稍后再试",
    "too many codes for this phone today: ask again tomorrow": "这个手机号今天获取验证码的次数已用完：请明天再试",
    "too many wrong codes for this phone from this address: it is locked for a while": (
        "从这个地址输错验证码的次数太多：这个手机号已被暂时锁定"
    ),
    "too many codes are being sent right now: ask again in a minute": "现在发送验证码的人太多：请一分钟后再试",
    "not logged in: send the token from /user/login in the authorization header": (
        "未登录：请把 /user/login 返回的 token 放在 authorization 请求头中"
    ),
    "not logged in: this token has no session here (expired, logged out, unknown)": (
        "未登录：这个 token 没有对应的登录状态（已过期、已退出或不存在）"
    ),
    'only nickName can be changed: send {"nickName": "..."}': '只能修改昵称：请发送 {"nickName": "..."}',
    "x and y go together: the longitude and latitude of one point": "x 和 y 要一起给出：同一个点的经度和纬度",
    "name must be printable text": "名称必须是可显示的文字",
    "shop not found": "商户不存在",
    "blog not found": "笔记不存在",
    "user not found": "用户不存在",
    "no SMS has been sent to this phone": "还没有向这个手机号发送过短信",
    "not a peer of this node": "不是本节点的同伴节点",
    "not found": "资源不存在",
    "method not allowed": "不支持这个请求方法",
    "session store unavailable": "session 存储（Redis）暂时不可用",
    "database unavailable": "数据库暂时不可用",
    "internal server error": "服务器内部错误",
    "the client closed the connection": "客户端已断开连接",
    "stopping": "节点正在停止",
    "not ready": "节点尚未就绪",
}

# (pattern of the English, its Chinese with the same named values)
PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(english), chinese)
    for english, chinese in (
        (r"(?P<what>.+) must be a whole number from 1 to (?P<max>\d+)", "{what} 必须是 1 到 {max} 的整数"),
        (r"(?P<what>\S+) is required: (?P<why>.+)", "缺少 {what}：{why}"),
        (
            r"(?P<what>\S+) must be a number of degrees from (?P<low>\S+) to (?P<high>\S+)",
            "{what} 必须是 {low} 到 {high} 之间的度数",
        ),
        (r"name must be at most (?P<max>\d+) characters", "名称最多 {max} 个字"),
        (r"nickName must be 1 to (?P<max>\d+) printable characters", "昵称必须是 1 到 {max} 个可显示的字"),
        (r"(?P<header>\S+) must be a token from /user/login", "{header} 必须是 /user/login 返回的 token"),
        (r"not a batch of changes: (?P<why>.+)", "不是一批有效的变更：{why}"),
        (
            r"(?P<what>.+) is a later chapter of the course, not part of this lab",
            "{what}是课程后面章节的内容，本实验不包含",
        ),
    )
)
_IN_CHINESE = re.compile(r"\(([^()]*[\u4e00-\u9fff][^()]*)\)")  # "liking a blog (点赞)" -> 点赞


def translate(message: str) -> str:
    """``message`` in Chinese; as it is if it has no translation."""
    found = EXACT.get(message)
    if found is not None:
        return found
    for pattern, chinese in PATTERNS:
        match = pattern.fullmatch(message)
        if match:
            values = {k: _chinese_name(v) for k, v in match.groupdict().items()}
            return chinese.format(**values)
    return message


def wait(seconds: int, *, zh: bool) -> str:
    """How long to wait, said after a refusal for the course's pages (they
    show the message alone): " (wait 58 s)", or in Chinese."""
    amount, english, chinese = seconds, "s", "秒"
    if seconds >= 2 * 3600:
        amount, english, chinese = -(-seconds // 3600), "h", "小时"
    elif seconds >= 2 * 60:
        amount, english, chinese = -(-seconds // 60), "min", "分钟"
    return f"（请 {amount} {chinese}后再试）" if zh else f" (wait {amount} {english})"


def prefers_chinese(accept_language: str) -> bool:
    """Whether the first language of an Accept-Language header (by its
    q-values, ties in order) is Chinese: ``zh-CN,zh;q=0.9,en;q=0.8``."""
    best, best_q = "", -1.0
    for part in accept_language.split(",")[:20]:  # a header can be long; the first few decide
        tag, _, params = part.strip().partition(";")
        q = 1.0
        name, _, value = params.strip().partition("=")
        if name.strip() == "q":
            try:
                q = float(value)
            except ValueError:
                continue
        if tag and q > best_q:
            best, best_q = tag.strip().lower(), q
    return best_q > 0 and (best == "zh" or best.startswith("zh-"))


def _chinese_name(value: str) -> str:
    found = _IN_CHINESE.search(value)
    return found.group(1) if found else value
