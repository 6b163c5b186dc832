"""What `make lesson` says, in Chinese and in English.

Each step: its title, the seed's own words for the problem (the course is
Chinese: the Chinese text quotes it, the English one says the same), the
mistake, the fix, and what the learner should take away.  The lines in
between (who asked what, which node answered) are templates filled in as
the lesson runs.  Terms are the course's: 集群 session 共享, 验证码,
登录拦截器, 刷新 token 有效期.
"""

# ruff: noqa: E501  (prose: a sentence on one line reads and translates better than a split one)
from __future__ import annotations

from scripts.lab.language import Lang

STEPS: dict[Lang, dict[int, dict[str, str]]] = {
    "zh": {
        1: {
            "title": "session 存在每台服务器自己的内存里，nginx 轮询",
            "seed": "每一个 Tomcat 都有自己的 session 空间……当用户第二次被负载均衡到了第二台 Tomcat，"
            "它自身的 session 内存空间空无一物。",
            "take": "session 在哪台服务器上，登录状态就只在哪台服务器上有效：这就是 session 共享问题。",
        },
        2: {
            "title": "session 拷贝：每台服务器都存一份",
            "seed": "多台 Tomcat 保存相同的数据，浪费内存空间；拷贝数据需要时间，"
            "在这个延迟之间如果有服务来访问，依旧会造成数据不一致。",
            "take": "拷贝能让每台服务器都认识用户，但有时间差，而且内存占用 × 服务器台数。",
        },
        3: {
            "title": "用 Redis 代替 session：所有服务器共享",
            "seed": "Redis 在 Tomcat 以外，任意一台 Tomcat 都能访问到 Redis，所以就可以实现数据共享。",
            "take": "验证码和用户都放在 Redis，任何一台服务器都能读到：登录在哪都有效。",
        },
        4: {
            "title": "验证码的 key 固定为 code（错误），改为 login:code:{手机号}",
            "seed": "Redis 是一个共享的内存空间……如果每个服务使用的 key 都是 code，就会相互覆盖，"
            "就会造成数据丢失。",
            "take": "共享的存储里，key 必须每个用户不同：用手机号区分验证码。",
        },
        5: {
            "title": "用手机号当 token（错误），改为随机 token",
            "seed": "如果我们使用手机号码作为 key 去保存，将来返回到前端直接保存在浏览器会有泄漏的风险。",
            "take": "token 会交给浏览器、每次请求都带着：它必须是猜不到的随机字符串。",
        },
        6: {
            "title": "用户存成 JSON 字符串 vs Hash 结构",
            "seed": "String 类型用 json 字符串保存，比较直观，但是无法针对单个字段作出修改，只能修改整个字段；"
            "Hash 结构可以将对象中的每个字段独立存储，并且内存占用更少。",
            "take": "量出来两者的内存相差无几（Hash 省掉了 JSON 的格式，却多了字段名）；Hash 真正的好处是可以只改一个字段。",
        },
        7: {
            "title": "有效期只在登录时设置（错误），改为每次请求刷新 token 有效期",
            "seed": "session 的有效期是只要一直在访问就一直是 30 分钟；但是 redis 的有效时间就是从新建到移除的时间，"
            "不在乎是否访问。",
            "take": "只要用户在访问，就要刷新 token 有效期（这里把 30 分钟缩短为几秒来演示）。",
        },
        8: {
            "title": "一个登录拦截器（错误），改为两个：刷新拦截器 + 登录拦截器",
            "seed": "如果用户一直访问的是不需要登录的页面，比如首页或者商户详情页，这些就不会去刷新有效期，"
            "过了有效期后，即使用户还在访问，token 也会被移除。",
            "take": "第一个拦截器拦截一切路径、只刷新；第二个只拦截需要登录的路径。",
        },
    },
    "en": {
        1: {
            "title": "Sessions in each server's own memory, behind a round robin",
            "seed": "Each Tomcat has its own session space... when the user's next request is balanced "
            "to the second Tomcat, its session memory holds nothing.",
            "take": "A session lives on the server that made it, and nowhere else: the session-sharing problem.",
        },
        2: {
            "title": "Session copy: every server keeps a copy",
            "seed": "Every Tomcat stores the same data, wasting memory; copying takes time, and a request "
            "that arrives in between still sees the data out of step.",
            "take": "A copy lets every server know the user, but late, and with the memory times the servers.",
        },
        3: {
            "title": "Redis instead of the session: shared by every server",
            "seed": "Redis lives outside Tomcat, every Tomcat can reach it, so the data is shared.",
            "take": "The code and the user are in Redis, which every server reads: a login works everywhere.",
        },
        4: {
            "title": "Every code under one key, `code` (the mistake); then login:code:{phone}",
            "seed": "Redis is one memory shared by all... if every request used the key `code`, they "
            "would overwrite each other, and data would be lost.",
            "take": "In a shared store each user's key must differ: the phone number tells the codes apart.",
        },
        5: {
            "title": "The phone number as the token (the mistake); then a random token",
            "seed": "If we kept the user under the phone number, it would go back to the front end and sit "
            "in the browser: a leak waiting to happen.",
            "take": "The token goes to the browser and comes back on every request: it must be unguessable.",
        },
        6: {
            "title": "The user as a JSON string, or as a hash",
            "seed": "A JSON string is easy to read but cannot change one field, only the whole; a hash "
            "stores each field on its own, and takes less memory.",
            "take": "Measured, the two weigh about the same (the hash drops the JSON's syntax but keeps field names); the hash's real gain is changing one field alone.",
        },
        7: {
            "title": "The TTL set once at login (the mistake); then refreshed on every request",
            "seed": "A session lasts 30 minutes from the last access; a Redis TTL counts from creation, "
            "whether the key is read or not.",
            "take": "As long as the user is active, push the token's TTL back (30 minutes shortened to seconds).",
        },
        8: {
            "title": "One interceptor (the mistake); then two: refresh everywhere, check where needed",
            "seed": "A user who only browses pages that need no login, the home page or a shop, never "
            "refreshes the TTL: once it runs out the token is gone, though the user is still there.",
            "take": "The first interceptor runs on every path and only refreshes; the second guards protected ones.",
        },
    },
}

# The lines in between, filled in as the lesson runs.
SAY: dict[Lang, dict[str, str]] = {
    "zh": {
        "lesson": "集群 session 共享：种子课程的每一步，先犯错，再修正",
        "step": "第 {n}/{of} 步",
        "seed": "课程原文",
        "mistake": "错误做法",
        "fix": "正确做法",
        "code_sent": "{who} 请求验证码",
        "logs_in": "{who} 用验证码登录",
        "me_on": "{who} 在 {node} 上查询 /user/me",
        "next_node": "轮询把下一个请求交给下一台服务器：这里直接发到 {node}，结果不靠运气",
        "holder_login": "在收到验证码的 {node} 上登录",
        "copy_now": "{node} 刚登录完，立刻在 {other} 上查询",
        "copy_later": "{ms} ms 后（拷贝到达）再在 {other} 上查询",
        "copies": "{n} 个用户登录后，每台服务器的 session 数：{counts}（内存 × {nodes}）",
        "redis_holds": "Redis 里有：{keys}",
        "stranger": "陌生人把 {who} 的手机号当 token 发送",
        "token_is": "登录返回的 token：{token}",
        "token_random": "登录返回的 token 是 32 位随机十六进制字符串（不打印）",
        "usage": "一个 session 占用（MEMORY USAGE）：Hash {hash} 字节，JSON 字符串 {json} 字节",
        "used": "{n} 个 session 的 used_memory 增量：Hash {hash}，JSON 字符串 {json}（每个约 {hash_each} / {json_each} 字节）",
        "rename": "改昵称（PATCH /user/me）时，到达 Redis 的写命令：",
        "rename_bytes": "共 {bytes} 字节",
        "active": "用户每 {every} 秒请求一次 {path}，持续 {for_} 秒（有效期 {ttl} 秒）",
        "at": "第 {t:.1f} 秒",
        "browse": "用户只浏览公开页面（{paths}），每 {every} 秒一次，持续 {for_} 秒（有效期 {ttl} 秒）",
        "then_me": "然后查询 /user/me",
        "shown": "✔ 这一步展示了它该展示的",
        "not_shown": "✘ 这一步没有展示出它该展示的：{why}",
        "done": "{of} 步中的 {n} 步已演示完，用时 {secs:.0f} 秒。",
        "failed": "有 {n} 步没有展示出该展示的：{steps}",
    },
    "en": {
        "lesson": "Cluster session sharing: every step of the seed's story, the mistake then the fix",
        "step": "Step {n}/{of}",
        "seed": "The seed says",
        "mistake": "The mistake",
        "fix": "The fix",
        "code_sent": "{who} asks for a code",
        "logs_in": "{who} logs in with the code",
        "me_on": "{who} asks /user/me on {node}",
        "next_node": "round robin hands the next request to the next node: sent to {node} here, so luck plays no part",
        "holder_login": "logs in on {node}, which got the code",
        "copy_now": "just logged in on {node}; at once, asked on {other}",
        "copy_later": "{ms} ms later (the copy has arrived), asked on {other}",
        "copies": "after {n} logins, sessions on each node: {counts} (memory × {nodes})",
        "redis_holds": "Redis holds: {keys}",
        "stranger": "a stranger sends {who}'s phone number as the token",
        "token_is": "the token the login answered: {token}",
        "token_random": "the token the login answered is 32 random hex digits (not printed)",
        "usage": "one session (MEMORY USAGE): hash {hash} bytes, JSON string {json} bytes",
        "used": "used_memory for {n} sessions: hash {hash}, JSON string {json} (about {hash_each} / {json_each} bytes each)",
        "rename": "renaming the user (PATCH /user/me), the writes that reach Redis:",
        "rename_bytes": "{bytes} bytes in all",
        "active": "the user asks {path} every {every} s for {for_} s (TTL {ttl} s)",
        "at": "at {t:.1f} s",
        "browse": "the user only browses public pages ({paths}), every {every} s for {for_} s (TTL {ttl} s)",
        "then_me": "then asks /user/me",
        "shown": "✔ this step showed what it should",
        "not_shown": "✘ this step did not show what it should: {why}",
        "done": "{n} of {of} steps shown, in {secs:.0f} s.",
        "failed": "{n} steps did not show what they should: {steps}",
    },
}
