"""A recorded file played back as a live source (`replay:night.csv?speed=10&loop=1`).

Any format `drivers.formats.load` reads can be replayed. The source behaves like a device:
CONNECTING, CONNECTED, then the readings paced by their recorded times divided by `speed` on
the injected clock, and CLOSED at the end of the file or on `close()`. Like the simulator's
scenario seconds, every item is stamped with the recording's own time (seconds of the file,
carried on across loops), not the clock's: the session follows the stamps, so a 3:32 file
played at `speed=10` is a 3:32 session in its record, alarm delays and timers, whatever the
speed. Gaps in the file arrive as gap readings (no values + a flag with the reason) at their
place in time, so the Monitor sees what the device saw.

Parameters: `speed` (default 1; `max` or 0 = as fast as the consumer takes them), `loop`
(1/true: start again at the end), `start` (seconds into the file to begin at), `format`
(force a reader), `columns` (mapping for a headerless table).
"""

from __future__ import annotations

import asyncio
import dataclasses
import math
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

from drivers.clock import Clock
from drivers.errors import SourceError
from drivers.formats import load
from drivers.options import number_option
from drivers.reading import LinkEvent, LinkState, Reading, SourceItem

TRUE = {"1", "true", "yes", "on", ""}
FALSE = {"0", "false", "no", "off"}


class ReplaySource:
    """Plays a list of Readings (times from the file) on `clock` at `speed`."""

    def __init__(self, readings: Sequence[Reading], clock: Clock, *, speed: float = 1.0,
                 loop: bool = False, name: str = "replay", device: str = "",
                 interval: float | None = None) -> None:
        if not len(readings):
            raise SourceError(f"{name}: the recording holds no readings to replay")
        self.readings = readings
        self.clock = clock
        self.speed = speed  # 0 or inf: no pacing
        self.loop = loop
        self.name = name
        self.device = device or name
        self.interval = interval or 0.0
        self._closed = False
        self._sleeper: asyncio.Future[None] | None = None
        self.delivered = 0

    def __aiter__(self) -> AsyncIterator[SourceItem]:
        return self._run()

    async def close(self) -> None:
        self._closed = True
        if self._sleeper is not None and not self._sleeper.done():
            self._sleeper.cancel()

    async def _sleep(self, dt: float) -> None:
        self._sleeper = asyncio.ensure_future(self.clock.sleep(dt))
        try:
            await self._sleeper
        except asyncio.CancelledError:
            if not self._closed:
                raise
        finally:
            self._sleeper = None

    def _paced(self) -> bool:
        return 0 < self.speed < math.inf

    async def _run(self) -> AsyncIterator[SourceItem]:
        first = self.readings[0].t
        last = self.readings[-1].t
        yield LinkEvent(first, LinkState.CONNECTING, device=self.device)
        if self._closed:
            yield LinkEvent(first, LinkState.CLOSED, "closed", self.device)
            return
        yield LinkEvent(first, LinkState.CONNECTED, device=self.device)
        span = (last - first) + (self.interval or 0.0)
        base = self.clock.now()
        offset = 0.0  # file seconds added per completed loop
        stamp = first  # the recording time of the last item handed out
        reason = "end of recording"
        while not self._closed:
            for r in self.readings:
                if self._closed:
                    break
                if self._paced():
                    due = base + (r.t - first + offset) / self.speed
                    wait = due - self.clock.now()
                    if wait > 0:
                        await self._sleep(wait)
                        if self._closed:
                            break
                else:
                    await asyncio.sleep(0)  # let the consumer and the loop breathe
                self.delivered += 1
                stamp = r.t + offset
                yield r if not offset else dataclasses.replace(r, t=stamp)
            if not self.loop:
                break
            offset += span if span > 0 else 1.0
        if self._closed:
            reason = "closed"
        yield LinkEvent(stamp, LinkState.CLOSED, reason, self.device)


def _flag(params: dict[str, str], key: str) -> bool:
    v = params.get(key)
    if v is None:
        return False
    if v.lower() in TRUE:
        return True
    if v.lower() in FALSE:
        return False
    raise SourceError(f"replay: {key}={v!r} is not a yes/no value (use 1 or 0)")


#: The fastest paced replay (faster than this, use speed=max: no pacing at all).
MAX_SPEED = 1000.0


def _speed(v: str | None) -> float:
    if v is None or v == "":
        return 1.0
    if v.lower() in ("max", "fast", "inf", "0"):
        return math.inf
    try:
        x = float(v.rstrip("xX"))
    except ValueError:
        x = math.nan
    if not (math.isfinite(x) and 0 < x <= MAX_SPEED):
        raise SourceError(f"replay: bad speed={v!r}: expected a number above 0 up to "
                          f"{MAX_SPEED:g}, or max (no pacing)")
    return x


def open_replay(target: str, params: dict[str, str], clock: Clock) -> ReplaySource:
    """`replay:FILE?speed=X&loop=1&start=S&format=NAME&columns=MAP` → a live Source."""
    known = {"speed", "loop", "start", "format", "columns"}
    unknown = sorted(set(params) - known)
    if unknown:
        raise SourceError(f"replay: unknown option {unknown[0]!r} "
                          f"(known: {', '.join(sorted(known))})")
    speed = _speed(params.get("speed"))
    loop = _flag(params, "loop")
    rec = load(target, params.get("format") or None, columns=params.get("columns") or None)
    readings: Sequence[Reading] = rec.readings
    if params.get("start"):
        start = number_option(params, "start", 0.0, 0.0, 10 * 365 * 86400.0, scheme="replay",
                              unit=" s")
        if len(readings):
            t0 = readings[0].t
            ts = getattr(readings, "t", None)
            if ts is not None:  # columnar: find the place without building Readings
                import numpy as np

                i = int(np.searchsorted(ts - t0, start))
                idx = i if i < len(readings) else None
            else:
                idx = next((i for i, r in enumerate(readings) if r.t - t0 >= start), None)
            if idx is None:
                raise SourceError(f"replay: start={start:g} s is past the end of the recording")
            readings = readings[idx:]
    name = Path(target).name
    device = f"replay {name}" + (f" ({rec.device})" if rec.device else "")
    if not _ordered(readings):
        readings = sorted(readings, key=lambda r: r.t)
    interval = rec.interval
    if not interval and len(readings) > 1:
        interval = max(readings[1].t - readings[0].t, 0.0) or None
    return ReplaySource(readings, clock, speed=speed, loop=loop, name=f"replay:{name}",
                        device=device, interval=interval)


def _ordered(readings: Sequence[Reading]) -> bool:
    ts = getattr(readings, "t", None)
    if ts is not None:  # columnar: check without building Readings
        import numpy as np

        return bool(np.all(np.diff(ts) >= 0))
    prev = -math.inf
    for r in readings:
        if r.t < prev:
            return False
        prev = r.t
    return True
