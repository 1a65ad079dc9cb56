"""What `oxi-assist class` and `oxi-assist join` share: the optional extra, stdin lines."""

from __future__ import annotations

import asyncio
import contextlib
import sys
import threading

from drivers.errors import OxiError

EXTRA_HINT = "the classroom needs its extra: pip install 'oxi-assist[class]'"


def need_class_extra() -> None:
    """A clear one-line error (exit 2) when the classroom's packages are not installed."""
    import importlib.util

    missing = [m for m in ("aiomqtt", "amqtt", "psutil", "textual_serve", "qrcode")
               if importlib.util.find_spec(m) is None]
    if missing:
        raise OxiError(f"{EXTRA_HINT} ({', '.join(missing)} missing)")


def stdin_lines(loop: asyncio.AbstractEventLoop) -> asyncio.Queue[str | None]:
    """Lines typed on stdin, as a queue (None at the end of input). A daemon thread reads, so
    a terminal, a pipe and /dev/null all work the same on every platform."""
    q: asyncio.Queue[str | None] = asyncio.Queue()

    def read() -> None:
        try:
            for line in sys.stdin:
                loop.call_soon_threadsafe(q.put_nowait, line.strip())
        except (OSError, ValueError):
            pass
        loop.call_soon_threadsafe(q.put_nowait, None)

    threading.Thread(target=read, name="stdin", daemon=True).start()
    return q


def say(line: str) -> None:
    with contextlib.suppress(BrokenPipeError):
        print(line, flush=True)
