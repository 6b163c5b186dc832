"""The failure classes of the load tests.

Kept apart from the locustfile, which cannot be imported by asyncio code
(importing locust patches the standard library for gevent).
"""

CODE_LOST = "code lost"  # a code the phone had just received was refused
SESSION_LOST = "session lost"  # a 401 on a token that was valid
SERVER_ERROR = "server error"  # a 5xx (a 503 while a store is down counts here)
CONNECTION_ERROR = "connection error"  # no HTTP answer at all
OTHER = "other"

# The chances of the two loss rates, counted beside the classes.
SESSION_CHECKS = "session checks"  # requests sent with a token believed valid
CODE_CHECKS = "code checks"  # logins tried with a code the phone had just received

# nginx's answer (nginx/nginx.conf.template) when a client address goes over
# LOGIN_RATE: counted apart from the node's own 429s (its per-phone rules).
NGINX_RATE_LIMITED = "too many requests from this address: slow down"
