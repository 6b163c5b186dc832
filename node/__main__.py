"""``python -m node``: the only place that reads the environment."""

from __future__ import annotations

import logging
import os
import sys

import uvloop

from .server import serve
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
    logging.getLogger("node").info("starting with %s", settings.redacted())
    uvloop.run(serve(settings))
    return 0


if __name__ == "__main__":
    sys.exit(main())
