"""The seed's RedisConstants: where each piece of login state lives.

The braces of :func:`phone_tag` are a Redis Cluster hash tag: every key of
one phone lands in one slot, so one script can use them all.
"""

from __future__ import annotations

LOGIN_CODE_KEY = "login:code:"  # + {phone}: hash {mac, tries}
LOGIN_SENT_KEY = "login:sent:"  # + {phone}: sorted set of send times (ms)
LOGIN_FAIL_KEY = "login:fail:"  # + {phone}: wrong codes since the last success
LOGIN_LOCK_KEY = "login:lock:"  # + {phone}: present while the phone is locked out
LOGIN_USER_KEY = "login:token:"  # + session id (tokens.session_id): hash {id, nickName, icon, exp}


def phone_tag(phone: str) -> str:
    return "{" + phone + "}"
