"""A user's journeys through nginx, every failure named by its class.

    make loadtest-ui    (locust -f loadtest/locustfile.py --host URL)

Each simulated user asks for an SMS code, reads it from the outbox (its
phone), logs in, then browses: mostly ``/user/me`` and public pages,
sometimes logging out and starting again.  A failure is one of:

- ``code lost``: the login refused a code the phone had just received;
- ``session lost``: a 401 on a token that was valid (the user had logged in
  and not out);
- ``server error``: a 5xx (a 503 while a store is down counts here, not as a
  lost session: the user was not logged out);
- ``connection error``: no HTTP answer at all;
- ``other``: anything else unexpected.

The paths come from the node's route table, not retyped.  At the end of a
run the totals, the classes and the spread of requests over the nodes
(``X-Node``) are written as JSON to ``$LOADTEST_SUMMARY`` (if set) for
``loadtest/report.py``.  The totals are locust's own, taken here at the
end (locust writes its CSV once a second and not at the end: it misses up
to the last second), and the spread is counted from the request events
locust counts, so the two add up.
"""

from __future__ import annotations

import collections
import json
import os
import random
import sys
import time
from pathlib import Path
from typing import Any

from locust import FastHttpUser, between, events, task

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from loadtest.classes import (
    CODE_CHECKS,
    CODE_LOST,
    CONNECTION_ERROR,
    NGINX_RATE_LIMITED,
    OTHER,
    SERVER_ERROR,
    SESSION_CHECKS,
    SESSION_LOST,
)
from node.routes import PATHS
from scripts.lab.journey import new_phone

API = "/api"
PROTECTED = {PATHS["user.me"], PATHS["user.logout"]}
SHOP_IDS = (1, 2, 3, 4)

server_errors: collections.Counter[str] = collections.Counter()  # by status: 502, 503, ...
nodes: collections.Counter[str] = collections.Counter()
# nginx's own 429s by route: the client address went over LOGIN_RATE (counted in "other").
rate_limited: collections.Counter[str] = collections.Counter()
# Each failure class, and the chances of the loss rates ("session checks":
# requests sent with a token believed valid; "code checks": logins tried
# with a code the phone had just received), second by second (Unix time),
# so that a run with a fault in the middle can be split at it.
timeline: collections.defaultdict[str, collections.Counter[int]] = collections.defaultdict(
    collections.Counter
)


def classify(status: int, *, token_valid: bool, is_login: bool, message: str = "") -> str | None:
    """The failure class of an answer, or None if it is the expected one."""
    if status == 0:
        return CONNECTION_ERROR
    if status >= 500:
        return SERVER_ERROR
    if status == 401 and token_valid:
        return SESSION_LOST
    if is_login and status == 400 and message == "wrong code":
        return CODE_LOST
    if status >= 400:
        return OTHER
    return None


class SessionUser(FastHttpUser):
    """One person: log in, then mostly look around."""

    wait_time = between(0.05, 0.3)
    # Longer than nginx's own timeouts (10 s), so that a slow answer is
    # classified by the status nginx gives it, not as a connection error.
    connection_timeout = 5.0
    network_timeout = 15.0

    token: str | None = None

    def on_start(self) -> None:
        self.log_in()

    # --- the journey ------------------------------------------------------
    def log_in(self, attempts: int = 5) -> None:
        self.token = None
        for _ in range(attempts):
            # A new phone each attempt: the per-phone sending limits are for
            # people, and are not what a load test measures.
            phone = new_phone("13" + random.choice("3589"))
            if not self._ok("POST", PATHS["user.code"], params={"phone": phone}):
                continue
            code = self._read_code(phone)
            if code is None:
                continue
            token = self._login(phone, code)
            if token is not None:
                self.token = token
                return

    @task(10)
    def me(self) -> None:
        if self.token is None:
            self.log_in()
            return
        if not self._ok("GET", PATHS["user.me"], auth=True) and self.token is None:
            self.log_in()  # the session was lost: start again

    @task(4)
    def shop(self) -> None:
        path = PATHS["shop.get"].replace("{id}", str(random.choice(SHOP_IDS)))
        self._ok("GET", path, name=PATHS["shop.get"], auth=self.token is not None)

    @task(3)
    def hot_blogs(self) -> None:
        self._ok("GET", PATHS["blog.hot"], auth=self.token is not None)

    @task(1)
    def log_out_and_in_again(self) -> None:
        if self.token is not None:
            self._ok("POST", PATHS["user.logout"], auth=True)
        self.log_in()

    # --- one request --------------------------------------------------------
    def _ok(
        self,
        method: str,
        path: str,
        *,
        name: str | None = None,
        auth: bool = False,
        params: dict[str, str] | None = None,
        json_body: Any = None,
        is_login: bool = False,
    ) -> bool:
        headers = {"authorization": self.token} if auth and self.token else {}
        second = int(time.time())
        if headers and path in PROTECTED:  # a public page serves an unknown token anonymously
            timeline[SESSION_CHECKS][second] += 1
        if is_login:
            timeline[CODE_CHECKS][second] += 1
        url = API + path
        if params:
            url += "?" + "&".join(f"{k}={v}" for k, v in params.items())
        with self.client.request(
            method, url, name=name or path, headers=headers, json=json_body, catch_response=True
        ) as resp:
            message = ""
            if resp.status_code and resp.text and resp.status_code >= 400:
                try:
                    message = json.loads(resp.text).get("errorMsg", "")
                except ValueError:
                    message = ""
            kind = classify(
                resp.status_code or 0, token_valid=bool(headers), is_login=is_login, message=message
            )
            if kind is None:
                resp.success()
                self._last_body = resp.text
                return True
            timeline[kind][second] += 1
            if kind == SERVER_ERROR:
                server_errors[str(resp.status_code)] += 1
            if resp.status_code == 429 and message == NGINX_RATE_LIMITED:
                rate_limited[path] += 1
            resp.failure(kind)
            if kind == SESSION_LOST:
                self.token = None
            return False

    def _read_code(self, phone: str) -> str | None:
        if not self._ok("GET", PATHS["dev.sms.latest"], params={"phone": phone}):
            return None
        return str(json.loads(self._last_body)["data"]["code"])

    def _login(self, phone: str, code: str) -> str | None:
        body = {"phone": phone, "code": code}
        if not self._ok("POST", PATHS["user.login"], json_body=body, is_login=True):
            return None
        return str(json.loads(self._last_body)["data"])


@events.request.add_listener
def count_node(response: Any = None, **_: Any) -> None:
    """The node of every request locust counts, from the event it counts it by."""
    headers = getattr(response, "headers", None)
    nodes[(headers.get("X-Node") if headers else None) or "(none)"] += 1


@events.test_stop.add_listener
def write_summary(environment: Any, **_: Any) -> None:
    path = os.environ.get("LOADTEST_SUMMARY")
    if not path:
        return
    total = environment.stats.total
    summary = {
        "requests": total.num_requests,
        "rps": total.total_rps,
        "percentiles_ms": {str(p): total.get_response_time_percentile(p) for p in (0.5, 0.95, 0.99)},
        "rate_limited": sum(rate_limited.values()),
        "server_errors": dict(sorted(server_errors.items())),
        "nodes": dict(sorted(nodes.items())),
        "timeline": {name: dict(sorted(counts.items())) for name, counts in timeline.items()},
    }
    Path(path).write_text(json.dumps(summary, indent=2) + "\n")
