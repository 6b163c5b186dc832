# ruff: noqa: E501  (prose: a sentence on one line reads and translates better than a split one)
"""What `make demo` says, in Chinese and in English (`make demo LANG=zh`).
The values ({phone}, {node}...) are filled in as the story runs."""

from __future__ import annotations

from scripts.lab.language import Lang

SAY: dict[Lang, dict[str, str]] = {
    "en": {
        "title": "The cluster session-sharing problem, and its fix (集群 session 共享问题)",
        "starting": "Starting a throwaway cluster: 3 nodes behind nginx, sessions in each node's memory",
        "banner.memory": "SESSION_STORE=memory: each node is a Tomcat with its own HttpSession",
        "banner.redis": "Now the same cluster keeps sessions in Redis (用 Redis 代替 session)…",
        "strategy": "Strategy: {strategy}",
        "where.memory": "in its own memory",
        "where.redis": "in Redis, which every node shares",
        "held.memory": "in its memory",
        "held.redis": "in Redis",
        "ask": "The user asks for a code. nginx sends the request to node1. (phone {phone})",
        "stored": "node1 stored code {code} {where}, and the phone got it",
        "login": "The user logs in with that code. Round robin: this request goes to node2.",
        "login.ok": "node2 accepted the code and logged the user in",
        "login.ok.why": "it read the code node1 stored in Redis",
        "login.bad": "node2 said: '{message}' (验证码错误)",
        "login.bad.why": "node2's memory holds no code for this phone: node1 has it",
        "retry": "The user tries again, and this time the login lands on node1, where the code is.",
        "retry.ok": "node1 accepted it: the code was right all along",
        "retry.ok.why": "only node1 could check it",
        "page": "Logged in, the user opens their page. Round robin: node1, node2, node3.",
        "page.ok": "node{node}: 200, the user is {nick}",
        "page.ok.why": "the session is {held}",
        "page.bad": "node{node}: {status}, '{message}'",
        "page.bad.why": "its memory holds no session for this token: to node{node} the user is a stranger",
        "logout": "The user logs out on node2, then comes back to node1.",
        "logout.ok": "logged out on node2, and node1 knows it at once (401)",
        "logout.ok.why": "the session was deleted in Redis",
        "logout.bad": "node2 could not log the user out ({status}); node1 still says {again}",
        "logout.bad.why": "the session lives in node1's memory, out of node2's reach",
        "side": "Side by side",
        "step": "step",
        "works": "works",
        "fails": "fails",
        "step.login elsewhere": "code sent via node1, login via node2",
        "step.page on node1": "user page on node1",
        "step.page on node2": "user page on node2",
        "step.page on node3": "user page on node3",
        "step.logout seen": "logout on node2 seen by node1",
        "moral": (
            "In memory each node sees only what it stored itself, so behind round robin a code is\n"
            "'wrong' and a logged-in user a stranger on most requests. With Redis every node reads\n"
            "the same store: the fix the seed course teaches.\n"
            "The other answers, sticky sessions and session replication, are run and measured\n"
            "side by side by `make compare`; every wrong turn of the course, by `make lesson`."
        ),
    },
    "zh": {
        "title": "集群 session 共享问题，以及它的解决方案",
        "starting": "启动一个临时集群：nginx 后面 3 个节点，session 存在各节点自己的内存里",
        "banner.memory": "SESSION_STORE=memory：每个节点就像一台有自己 HttpSession 的 Tomcat",
        "banner.redis": "现在同一个集群把 session 存进 Redis（用 Redis 代替 session）……",
        "strategy": "方案：{strategy}",
        "where.memory": "在自己的内存里",
        "where.redis": "在所有节点共享的 Redis 里",
        "held.memory": "在它自己的内存里",
        "held.redis": "在 Redis 里",
        "ask": "用户请求验证码，nginx 把这个请求交给 node1。（手机号 {phone}）",
        "stored": "node1 把验证码 {code} 存{where}，手机也收到了它",
        "login": "用户用这个验证码登录。轮询：这个请求交给了 node2。",
        "login.ok": "node2 认可了验证码，用户登录成功",
        "login.ok.why": "它读到了 node1 存在 Redis 里的验证码",
        "login.bad": "node2 回答：{message}",
        "login.bad.why": "node2 的内存里没有这个手机号的验证码：验证码在 node1 上",
        "retry": "用户再试一次，这次登录请求落到了存着验证码的 node1 上。",
        "retry.ok": "node1 认可了：验证码本来就是对的",
        "retry.ok.why": "只有 node1 能校验它",
        "page": "登录后，用户打开自己的页面。轮询：node1、node2、node3。",
        "page.ok": "node{node}：200，用户是 {nick}",
        "page.ok.why": "session {held}",
        "page.bad": "node{node}：{status}，{message}",
        "page.bad.why": "它的内存里没有这个 token 的 session：对 node{node} 来说，这个用户是陌生人",
        "logout": "用户在 node2 上退出登录，然后又回到 node1。",
        "logout.ok": "在 node2 退出登录，node1 立刻就知道了（401）",
        "logout.ok.why": "session 已经从 Redis 里删除",
        "logout.bad": "node2 没能让用户退出登录（{status}）；node1 仍然回答 {again}",
        "logout.bad.why": "session 在 node1 的内存里，node2 够不着",
        "side": "对比",
        "step": "步骤",
        "works": "成功",
        "fails": "失败",
        "step.login elsewhere": "验证码经 node1 发送，经 node2 登录",
        "step.page on node1": "在 node1 上打开用户页面",
        "step.page on node2": "在 node2 上打开用户页面",
        "step.page on node3": "在 node3 上打开用户页面",
        "step.logout seen": "在 node2 退出登录，node1 是否知道",
        "moral": (
            "session 存在内存里时，每个节点只看得到自己存的东西，所以在轮询之下，验证码大多会“错误”，\n"
            "登录过的用户在大多数请求上都是陌生人。用 Redis 后，所有节点读同一个存储：这正是课程教的解决方案。\n"
            "另外两种做法，粘性会话和 session 拷贝，由 `make compare` 放在一起运行和测量；\n"
            "课程里每一个错误的做法，由 `make lesson` 一步步演示。"
        ),
    },
}
