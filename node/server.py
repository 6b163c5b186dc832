"""How a node starts, and how it stops without losing a request.

On SIGTERM (or SIGINT) the node drains before it shuts down:

1. It closes its listening socket.  nginx's new connections are refused,
   and nginx passes those requests to another node; that is safe even for
   a POST, which has reached nobody.
2. It keeps serving requests that arrive on connections already open,
   each answered with ``Connection: close`` so nginx drops the connection
   afterwards, and waits until nginx has closed every connection (it
   closes idle upstream connections after its ``keepalive_timeout``), at
   most ``drain_timeout`` seconds.  The node never closes an idle
   connection itself while nginx might be writing a request into it:
   that race is how a POST gets lost in a restart (nginx may not resend
   it).
   One race is left: a connection nginx opened just before the listening
   socket closed, still in the kernel's accept queue, is reset; if nginx
   had written a POST into it, that POST gets a 502.  Under steady load
   nginx reuses its kept-alive connections and opens new ones rarely, so
   this is rare (the fault tests and `make chaos` have not met it).
3. Then aiohttp's own shutdown: wait for the handlers still running (at
   most ``shutdown_timeout``), and close the pools (the cleanup contexts).
"""

from __future__ import annotations

import asyncio
import logging
import signal

from aiohttp import web

from .app import create_app
from .protocol import JsonErrorRunner
from .settings import Settings
from .typedefs import LIFECYCLE, PIPELINE

log = logging.getLogger(__name__)


async def serve(settings: Settings) -> None:
    app = create_app(settings)
    # Not web.AppRunner: what aiohttp's parser refuses gets the envelope too.
    runner = JsonErrorRunner(
        app,
        app[PIPELINE],
        handle_signals=False,
        access_log=None,
        shutdown_timeout=settings.shutdown_timeout,
    )
    await runner.setup()
    site = web.TCPSite(runner, settings.host, settings.port)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    try:
        await site.start()
        log.info("listening on http://%s:%s", settings.host, settings.port)
        await stop.wait()
        log.info("stopping: draining connections")
        app[LIFECYCLE].draining = True
        await site.stop()
        await _drain(runner, settings.drain_timeout)
    finally:
        await runner.cleanup()
        log.info("stopped")


async def _drain(runner: web.AppRunner, within: float) -> None:
    server = runner.server
    if server is None:
        return
    try:
        async with asyncio.timeout(within):
            # aiohttp has no event for "the last connection closed".
            while server.connections:  # noqa: ASYNC110
                await asyncio.sleep(0.05)
    except TimeoutError:
        log.warning(
            "drain: %d connection(s) still open after %.1f s; closing them", len(server.connections), within
        )
