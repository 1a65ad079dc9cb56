"""The one place time comes from.

Every time-dependent piece (drivers' keep-alives and stale detection, the simulator, the Monitor's
alarm delays, the guide's timers) takes a `Clock`, so a 30-minute scenario runs in milliseconds
under a `VirtualClock` and a replay is deterministic. `now()` is monotonic seconds; `wall()` is
epoch seconds, only for labelling recordings.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from typing import Protocol, runtime_checkable


@runtime_checkable
class Clock(Protocol):
    def now(self) -> float:
        """Monotonic seconds."""
        ...

    def wall(self) -> float:
        """Seconds since the Unix epoch (for timestamps people read)."""
        ...

    async def sleep(self, seconds: float) -> None: ...


class RealClock:
    """The machine's clocks. Portable: `time.monotonic` and `time.time` exist everywhere."""

    def now(self) -> float:
        return time.monotonic()

    def wall(self) -> float:
        return time.time()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))


class VirtualClock:
    """A clock that moves only when told to.

    Synchronous code calls `advance(dt)`. Async code that sleeps on this clock is driven by
    `await run_for(dt)` / `await run_until(t)`, which step from one sleeper's deadline to the
    next, letting the event loop run the woken tasks at each step, so ordering is exactly as it
    would be in real time but without waiting.
    """

    def __init__(self, start: float = 0.0, wall_start: float = 1_700_000_000.0) -> None:
        self._now = float(start)
        self._wall_offset = wall_start - start
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._seq = itertools.count()

    def now(self) -> float:
        return self._now

    def wall(self) -> float:
        return self._now + self._wall_offset

    def advance(self, seconds: float) -> None:
        """Move time forward and wake due sleepers (they run at the loop's next turn)."""
        if seconds < 0:
            raise ValueError("a clock cannot go backwards")
        self._now += seconds
        self._wake_due()

    def set(self, t: float) -> None:
        if t < self._now:
            raise ValueError("a clock cannot go backwards")
        self._now = t
        self._wake_due()

    async def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self._now + seconds, next(self._seq), fut))
        await fut

    def next_deadline(self) -> float | None:
        while self._sleepers and self._sleepers[0][2].done():
            heapq.heappop(self._sleepers)
        return self._sleepers[0][0] if self._sleepers else None

    async def run_until(self, t: float, *, settle: int = 5) -> None:
        """Advance to `t`, stopping at each sleeper's deadline so woken tasks run in order."""
        await _settle(settle)
        while True:
            nxt = self.next_deadline()
            if nxt is None or nxt > t:
                break
            self._now = max(self._now, nxt)
            self._wake_due()
            await _settle(settle)
        if t > self._now:
            self._now = t
        self._wake_due()
        await _settle(settle)

    async def run_for(self, seconds: float, *, settle: int = 5) -> None:
        await self.run_until(self._now + seconds, settle=settle)

    def _wake_due(self) -> None:
        while self._sleepers and self._sleepers[0][0] <= self._now:
            _, _, fut = heapq.heappop(self._sleepers)
            if not fut.done():
                fut.set_result(None)


async def _settle(turns: int) -> None:
    for _ in range(turns):
        await asyncio.sleep(0)
