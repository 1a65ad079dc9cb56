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
import os
import re
import shlex
import sys
from typing import Any

DEFAULT_PORT = 8000
TITLE = "oxi-assist class station (training)"


def station_command(broker: str, *, extra: tuple[str, ...] = ()) -> str:
    """The shell command each browser connection runs (this Python, this package). Its error
    output goes nowhere: textual-serve copies it onto the trainer's terminal, where the console
    is drawn (the station says its problems on its own screen)."""
    cmd = shlex.join([sys.executable, "-m", "oxi_assist", "join", broker, *extra])
    return cmd if os.name == "nt" else f"{cmd} 2>/dev/null"


#: A phone lays the page out at its own width (without it, a phone browser lays it out 980 px
#: wide, shrinks it, and the station gets a wide terminal in tiny type).
VIEWPORT = '<meta name="viewport" content="width=device-width, initial-scale=1">'
#: The terminal in textual-serve 1.1's page draws its text at the screen's pixel ratio into a
#: canvas sized in CSS pixels: on a phone (ratio 2–3) the screen came out two or three times
#: too large, most of it off the edge. Told a ratio of 1, it draws at the right size (the
#: browser scales it up; the text is a little softer on a sharp screen).
PIXEL_RATIO_ONE = ("<script>Object.defineProperty(window, 'devicePixelRatio', "
                   "{get: () => 1});</script>")


def fit_page(html: str, own_url: str) -> str:
    """textual-serve's page, fitted to a phone, and asking nothing of any server but ours (its
    template loads a web font from the internet: a trainee's browser would tell a third party
    it joined a class; the browser's own monospace font is used instead)."""
    def keep_ours(m: re.Match[str]) -> str:
        return m.group(0) if m.group(1).startswith(own_url) else ""

    html = re.sub(r'<link\s+rel="stylesheet"\s+href="([^"]*)"\s*/?>', keep_ours, html)
    return html.replace("<head>", f"<head>\n    {VIEWPORT}\n    {PIXEL_RATIO_ONE}", 1)


class StationWeb:
    """textual-serve's server, started and stopped from a running event loop."""

    def __init__(self, broker: str, *, host: str = "127.0.0.1", port: int = DEFAULT_PORT,
                 extra: tuple[str, ...] = ()) -> None:
        from textual_serve.server import Server

        class QuietServer(Server):
            async def on_startup(self, app: Any) -> None:  # no banner over the console
                return None

            async def handle_index(self, request: Any) -> Any:
                response = await super().handle_index(request)
                response.text = fit_page(response.text, self.public_url)
                return response

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
