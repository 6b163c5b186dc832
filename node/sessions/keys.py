"""The seed's RedisConstants: where each piece of login state lives.

The braces of :func:`phone_tag` are a Redis Cluster hash tag: every key of
one phone lands in one slot, so one script can use them all.
"""

from __future__ import annotations

LOGIN_CODE_KEY = "login:code:"  # + {phone}: hash {mac, tries}
FIXED_CODE_KEY = "login:code"  # MISTAKE=fixed-code-key: every phone's code, one at a time
LOGIN_SENT_KEY = "login:sent:"  # + {phone}[:source]: sorted set of sends (mac by time in ms)
LOGIN_FAIL_KEY = "login:fail:"  # + {phone}:source: wrong codes since the last success
LOGIN_LOCK_KEY = "login:lock:"  # + {phone}:source: present while that address is locked out
SMS_BUDGET_KEY = "login:sms:"  # + minute since the epoch: codes the cluster sent in it
LOGIN_USER_KEY = "login:token:"  # + session id (tokens.session_id): hash {id, nickName, icon, exp}


def phone_tag(phone: str) -> str:
    return "{" + phone + "}"


def phone_source(phone: str, source: str) -> str:
    """The part of a key that counts one phone from one address."""
    return phone_tag(phone) + ":" + source
