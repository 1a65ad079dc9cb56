"""The generic live loop of a byte-pipe device: a reconnecting `Source` over a `Port`.

Why a reader thread: pyserial's blocking `read` with a short timeout works the same on Linux,
macOS and Windows COM ports, while its asyncio transport is POSIX-only; hidraw and hidapi block
the same way. The thread only moves bytes; decoding, keep-alives, stale detection and
reconnecting happen in the event loop, timed by the injected `Clock`. The serial and USB-HID
transports each supply a `connect` that opens their port and returns a `Link`.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from drivers.clock import Clock
from drivers.protocols.codec import Codec
from drivers.reading import LinkEvent, LinkState, Reading, SourceItem

READ_TIMEOUT = 0.1  # s: how long the reader thread blocks before checking for a stop
TICK = 0.25  # s: how often keep-alive and staleness are checked
BACKOFF = (0.25, 0.5, 1.0, 2.0)  # s between reopen attempts, last one repeats
#: What the `stale=` and `lost=` options accept (seconds): a silent device must be noticed (the
#: alarm standard allows at most 30 s of old data, alarms.toml).
STALE_RANGE = (0.5, 30.0)
LOST_RANGE = (1.0, 120.0)


class Port(Protocol):
    """A byte pipe to a device. `read` blocks at most `timeout` and raises OSError (or
    pyserial's SerialException, an OSError) when the device is gone."""

    def read(self, timeout: float) -> bytes: ...

    def write(self, data: bytes) -> None: ...

    def close(self) -> None: ...


@dataclass
class Link:
    """One open connection: the port, the codec decoding it, what to send when."""

    port: Port
    codec: Codec
    device: str
    rate: float
    keepalive: bytes | None = None
    stop: bytes | None = None
    protocol: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def error_reason(e: BaseException) -> str:
    """An exception as the one line a link event or a message shows."""
    msg = str(e).strip() or type(e).__name__
    return msg.splitlines()[0]


class _Reader(threading.Thread):
    """Moves bytes from a port into the event loop; stops on a flag or when the port fails."""

    def __init__(self, link: Link, gen: int, loop: asyncio.AbstractEventLoop,
                 q: asyncio.Queue[tuple[str, int, Any]]) -> None:
        super().__init__(daemon=True, name=f"oxi-reader-{link.device}")
        self.link, self.gen, self.loop, self.q = link, gen, loop, q
        self.stop_flag = threading.Event()

    def _post(self, kind: str, payload: Any) -> None:
        with contextlib.suppress(RuntimeError):  # loop closed during shutdown
            self.loop.call_soon_threadsafe(self.q.put_nowait, (kind, self.gen, payload))

    def run(self) -> None:
        port = self.link.port
        while not self.stop_flag.is_set():
            try:
                data = port.read(READ_TIMEOUT)
            except Exception as e:  # the device is gone (unplugged, port closed)
                if not self.stop_flag.is_set():
                    self._post("error", error_reason(e))
                return
            if data:
                self._post("data", data)


class LinkSource:
    """A device link as a `Source`: connects (retrying with backoff), decodes, keeps the device
    streaming, and reports every change as a `LinkEvent`: CONNECTING, CONNECTED, STALE (no data
    for `stale_after` s), LOST (an error, or no data for `lost_after` s), RECONNECTING, CLOSED.
    """

    def __init__(self, name: str, clock: Clock, connect: Callable[[], Link], *,
                 stale_after: float = 3.0, lost_after: float = 10.0,
                 keepalive_every: float = 5.0) -> None:
        self.name = name
        self.clock = clock
        self._connect = connect
        self.stale_after = stale_after
        self.lost_after = lost_after
        self.keepalive_every = keepalive_every
        self.link: Link | None = None
        self.keepalives_sent = 0
        self._closed = False
        self._wake: asyncio.Event | None = None
        self._q: asyncio.Queue[tuple[str, int, Any]] | None = None
        self._reader: _Reader | None = None

    @property
    def codec(self) -> Codec | None:
        return self.link.codec if self.link else None

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._q is not None:
            self._q.put_nowait(("close", -1, None))
        if self._wake is not None:
            self._wake.set()
        await asyncio.to_thread(self._teardown)

    def _teardown(self) -> None:
        reader, link = self._reader, self.link
        self._reader = None
        if reader is not None:
            reader.stop_flag.set()
        if link is not None:
            if link.stop:
                with contextlib.suppress(Exception):
                    link.port.write(link.stop)
            link.port.close()
        if reader is not None and reader is not threading.current_thread():
            reader.join(timeout=1.0)

    def _event(self, state: LinkState, reason: str = "") -> LinkEvent:
        return LinkEvent(self.clock.now(), state, reason,
                         self.link.device if self.link else self.name)

    async def _ticker(self) -> None:
        assert self._q is not None
        while not self._closed:
            await self.clock.sleep(TICK)
            self._q.put_nowait(("tick", -1, None))

    async def _sleep_or_close(self, seconds: float) -> None:
        assert self._wake is not None
        sleeper = asyncio.ensure_future(self.clock.sleep(seconds))
        waker = asyncio.ensure_future(self._wake.wait())
        try:
            await asyncio.wait({sleeper, waker}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            sleeper.cancel()
            waker.cancel()

    async def __aiter__(self) -> AsyncIterator[SourceItem]:
        loop = asyncio.get_running_loop()
        self._q = q = asyncio.Queue()
        self._wake = asyncio.Event()
        ticker = asyncio.ensure_future(self._ticker())
        gen = 0
        try:
            yield self._event(LinkState.CONNECTING)
            attempt = 0
            announced = False  # LOST/RECONNECTING already said for this outage
            while not self._closed:
                # ---- connect, with backoff ----
                try:
                    self.link = await asyncio.to_thread(self._connect)
                except Exception as e:  # any failure to open is retried, never fatal
                    if not announced:
                        announced = True
                        yield self._event(LinkState.LOST, error_reason(e))
                        yield self._event(LinkState.RECONNECTING, "retrying")
                    await self._sleep_or_close(BACKOFF[min(attempt, len(BACKOFF) - 1)])
                    attempt += 1
                    continue
                if self._closed:
                    break
                attempt = 0
                announced = False
                gen += 1
                self._reader = _Reader(self.link, gen, loop, q)
                self._reader.start()
                yield self._event(LinkState.CONNECTED, self.link.protocol)
                # ---- stream ----
                now = self.clock.now()
                last_data = last_ka = now
                last_t = float("-inf")
                stale = False
                lost_reason = ""
                while not self._closed and not lost_reason:
                    kind, g, payload = await q.get()
                    if kind == "close":
                        break
                    if g not in (-1, gen):
                        continue  # left over from an earlier connection
                    now = self.clock.now()
                    if kind == "tick":
                        link = self.link
                        if link.keepalive and now - last_ka >= self.keepalive_every:
                            last_ka = now
                            try:
                                link.port.write(link.keepalive)
                                self.keepalives_sent += 1
                            except Exception as e:
                                lost_reason = error_reason(e)
                                continue
                        if now - last_data >= self.lost_after:
                            lost_reason = f"no data for {self.lost_after:g} s"
                        elif not stale and now - last_data >= self.stale_after:
                            stale = True
                            yield self._event(LinkState.STALE,
                                              f"no data for {self.stale_after:g} s")
                    elif kind == "error":
                        lost_reason = str(payload)
                    elif kind == "data":
                        readings: list[Reading] = self.link.codec.feed(payload)
                        if not readings:
                            continue
                        last_data = now
                        if stale:
                            stale = False
                            yield self._event(LinkState.CONNECTED, "data again")
                        n = len(readings)
                        step = 1.0 / self.link.rate
                        for i, r in enumerate(readings):
                            t = max(now - (n - 1 - i) * step, last_t)
                            last_t = t
                            yield replace(r, t=t)
                if self._closed:
                    break
                yield self._event(LinkState.LOST, lost_reason)
                await asyncio.to_thread(self._teardown)
                self.link = None
                announced = True
                yield self._event(LinkState.RECONNECTING, "reopening")
            yield LinkEvent(self.clock.now(), LinkState.CLOSED, "closed", self.name)
        finally:
            ticker.cancel()
            self._closed = True
            await asyncio.to_thread(self._teardown)
