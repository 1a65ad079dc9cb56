"""A clock that runs a restored station's patient forward instantly, then carries on in real time.

A station that drops and rejoins rebuilds its patient from its saved state: the same scenario
and seed, and every action and trainer cue at the time it happened. Under this clock the
simulator, the Monitor and the guide live through those minutes in a moment (as under a
`VirtualClock`, stepping from one sleeper's deadline to the next), and `go_live()` then hands
every pending sleeper to the real clock, with time continuing from where the catch-up left it,
so the running session never sees time jump or go back.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools

from drivers.clock import Clock


class HandoffClock:
    """Virtual until `go_live()`, then `real` shifted to continue the virtual time."""

    def __init__(self, real: Clock, start: float = 0.0) -> None:
        self._real = real
        self._virtual = True
        self._now = float(start)
        self._offset = 0.0
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._seq = itertools.count()
        self._wakers: set[asyncio.Task[None]] = set()

    @property
    def live(self) -> bool:
        return not self._virtual

    def now(self) -> float:
        return self._now if self._virtual else self._real.now() + self._offset

    def wall(self) -> float:
        return self._real.wall()

    async def sleep(self, seconds: float) -> None:
        if not self._virtual:
            await self._real.sleep(seconds)
            return
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self._now + seconds, next(self._seq), fut))
        await fut

    async def run_until(self, t: float, *, settle: int = 5) -> None:
        """Virtual time to `t`, waking each sleeper at its deadline, in order."""
        await _settle(settle)
        while self._sleepers:
            while self._sleepers and self._sleepers[0][2].done():
                heapq.heappop(self._sleepers)
            if not self._sleepers or self._sleepers[0][0] > t:
                break
            deadline, _, fut = heapq.heappop(self._sleepers)
            self._now = max(self._now, deadline)
            fut.set_result(None)
            await _settle(settle)
        self._now = max(self._now, t)

    def go_live(self) -> None:
        """From now on time is the real clock's, continuing from the virtual time reached."""
        if not self._virtual:
            return
        self._offset = self._now - self._real.now()
        self._virtual = False
        loop = asyncio.get_running_loop()
        for deadline, _, fut in self._sleepers:
            if not fut.done():
                task = loop.create_task(self._wake(deadline - self._now, fut))
                self._wakers.add(task)
                task.add_done_callback(self._wakers.discard)
        self._sleepers.clear()

    async def _wake(self, delay: float, fut: asyncio.Future[None]) -> None:
        await self._real.sleep(max(0.0, delay))
        if not fut.done():
            fut.set_result(None)


async def _settle(turns: int) -> None:
    for _ in range(turns):
        await asyncio.sleep(0)
