"""Joining from a browser with nothing installed: the trainer's machine serves the station
screen with textual-serve.

Each browser that opens the page gets its own process running `oxi-assist join ADDRESS` (that is
how textual-serve works: one command per connection, its screen streamed to the page), which
asks for the trainee's name and the join code on its first screen. The web server is bound like
the broker: to 127.0.0.1, or to the one interface the trainer named with `--lan`. It runs in the
console's event loop (aiohttp's runner), and says nothing on the terminal the console draws on.
"""

from __future__ import annotations

import logging
import shlex
import sys
from typing import Any

DEFAULT_PORT = 8000
TITLE = "oxi-assist class station (training)"


def station_command(broker: str, *, extra: tuple[str, ...] = ()) -> str:
    """The shell command each browser connection runs (this Python, this package)."""
    return shlex.join([sys.executable, "-m", "oxi_assist", "join", broker, *extra])


class StationWeb:
    """textual-serve's server, started and stopped from a running event loop."""

    def __init__(self, broker: str, *, host: str = "127.0.0.1", port: int = DEFAULT_PORT,
                 extra: tuple[str, ...] = ()) -> None:
        from textual_serve.server import Server

        class QuietServer(Server):
            async def on_startup(self, app: Any) -> None:  # no banner over the console
                return None

        self.command = station_command(broker, extra=extra)
        self.host, self.port = host, port
        self.server = QuietServer(self.command, host=host, port=port, title=TITLE)
        self._runner: Any = None
        # textual-serve logs through "textual-serve"; the console owns the terminal
        log = logging.getLogger("textual-serve")
        log.addHandler(logging.NullHandler())
        log.propagate = False

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/"

    async def start(self) -> None:
        """Binds and serves; raises OSError when the port cannot be had."""
        from aiohttp import web

        app = await self.server._make_app()
        self._runner = web.AppRunner(app, handle_signals=False, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        try:
            await site.start()
        except OSError:
            await self._runner.cleanup()
            self._runner = None
            raise

    async def stop(self) -> None:
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()
