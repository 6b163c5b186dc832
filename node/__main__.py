"""``python -m node``: the only place that reads the environment."""

from __future__ import annotations

import logging
import os
import sys

import uvloop
from aiohttp import web

from .app import create_app
from .settings import Settings, SettingsError


def main() -> int:
    try:
        settings = Settings.from_env(os.environ)
    except SettingsError as exc:
        print(f"node: bad setting: {exc}", file=sys.stderr)
        return 2
    logging.basicConfig(
        level=settings.log_level.upper(),
        format=f"%(asctime)s %(levelname)s {settings.node_name} %(name)s: %(message)s",
        stream=sys.stdout,
    )
    log = logging.getLogger("node")
    log.info("starting with %s", settings.redacted())
    web.run_app(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        shutdown_timeout=settings.shutdown_timeout,
        # nginx logs every request with the node that served it.
        access_log=None,
        print=lambda *_: log.info("listening on http://%s:%s", settings.host, settings.port),
        loop=uvloop.new_event_loop(),
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
