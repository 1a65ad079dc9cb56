"""The serial path on a virtual clock, in lockstep: the virtual CMS50 V7.0 on a real pty, pyserial
and the serial transport (`open_serial` → `LinkSource`) feeding a live `Session`, with time
moved only by the driver here.

Each step moves the `VirtualClock` (so the transport's ticker, keep-alives, stale checks and
reopen back-off, and the Session's ticks run at their virtual times), pokes the device so it
sends every frame that fell due, then waits in REAL time, bounded, until the real threads have
finished with that instant: the device has acted, no `to_thread` job (connect, teardown) is in
flight, and the Session has every frame the device sent. Virtual time stands still while the
threads work, so thread latency is not counted and a 12 h shift costs only the pipeline's CPU.
A wait that runs out is counted (`settle_timeouts`), never hidden.

The clock is only advanced from the event loop's thread; the device thread only reads it.
"""

from __future__ import annotations

import asyncio
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from drivers.clock import VirtualClock


class CountingExecutor(ThreadPoolExecutor):
    """The loop's default executor (`asyncio.to_thread` runs on it), counting jobs in flight so
    the driver knows when a connect or a teardown is still running in real time."""

    def __init__(self) -> None:
        super().__init__(max_workers=4, thread_name_prefix="lockstep")
        self.busy = 0
        self.finished = 0  # jobs done: a change means the loop may still owe their results
        self._lock = threading.Lock()

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Future[Any]:
        with self._lock:
            self.busy += 1

        def job() -> Any:
            try:
                return fn(*args, **kwargs)
            finally:
                with self._lock:
                    self.busy -= 1
                    self.finished += 1

        return super().submit(job)


class Lockstep:
    """Drives one device + one serial `LinkSource` + one `Session` on `clock`.

    `expect_stream`: the device should stream whenever the host is connected (False for a
    device that never answers its start command). `bound`: the longest real wait per step.
    """

    POLL = 0.002  # s (real) between checks while something is in transition
    QUIET = 3  # consecutive quiet checks that end a transition

    def __init__(self, clock: VirtualClock, dev: Any, src: Any, session: Any, *,
                 expect_stream: bool = True, bound: float = 3.0) -> None:
        self.clock, self.dev, self.src, self.s = clock, dev, src, session
        self.expect_stream = expect_stream
        self.bound = bound
        self.exec = CountingExecutor()
        self.settle_timeouts = 0
        self.steps = 0
        self._target = 0
        self._caught = asyncio.Event()
        self._task: asyncio.Task[str] | None = None
        self._finished_seen = 0
        # frames sent that the host is not expected to record (eaten by injected garbage or
        # bit flips), re-based by `settle(quiet=True)`
        self.offset = 0

    def _on_change(self) -> None:
        if self.s.readings >= self._target:
            self._caught.set()

    async def start(self, tick_every: float = 0.25) -> None:
        """Installs the counting executor and starts the Session on the source; returns once
        the first connect has finished (real wait, bounded)."""
        asyncio.get_running_loop().set_default_executor(self.exec)
        self.s.on_change = self._on_change
        self._task = asyncio.create_task(self.s.run(self.src, tick_every=tick_every))
        end = time.monotonic() + self.bound
        while self.src.link is None and time.monotonic() < end:  # the first connect
            await asyncio.sleep(self.POLL)
        await self.settle()

    async def stop(self) -> str:
        self.s.stop()
        assert self._task is not None
        return await asyncio.wait_for(self._task, 10.0)

    # -- waiting for the real threads -----------------------------------------------------

    def _steady(self, count: bool = True) -> bool:
        """Nothing in transition: connected and streaming with every frame recorded, or the
        host and the device both idle in a state that only the clock can change."""
        dev, src = self.dev, self.src
        if self.exec.busy:
            return False
        if src.link is not None and dev.plugged:
            if self.expect_stream and not dev.streaming:
                return False  # the start command is on its way to the device
            return not count or self.s.readings + self.offset >= dev.frames_sent
        return src.link is None  # else the host has not noticed the pulled cable yet

    async def settle(self, quiet: bool = False) -> None:
        """The real-time part of a step: see the module docstring. `quiet`: for corrupted
        bytes, where frames sent and readings need not match: wait for the host to go quiet
        (no new item for a few polls), then re-base `offset`."""
        # blocks the loop thread briefly: the device thread never needs the loop
        if not self.dev.sync(self.bound):
            self.settle_timeouts += 1
            return
        await asyncio.sleep(0)
        end = time.monotonic() + self.bound
        calm = 0
        version = -1
        while time.monotonic() < end:
            # a to_thread job that finished since the last settle may still have its result
            # waiting in the loop (a LinkSource about to yield CONNECTED): then only a few
            # quiet loop turns in a row prove the host idle
            if not quiet and self._steady() and self.exec.finished == self._finished_seen:
                return
            # frames in flight: wait on the Session's change callback, not a poll
            lag = (not quiet and self.src.link is not None and self.dev.plugged
                   and not self.exec.busy and (self.dev.streaming or not self.expect_stream)
                   and self.s.readings + self.offset < self.dev.frames_sent)
            if lag:
                self._target = self.dev.frames_sent - self.offset
                self._caught.clear()
                try:
                    await asyncio.wait_for(self._caught.wait(), max(0.0, end - time.monotonic()))
                except TimeoutError:
                    break
                calm = 0
                continue
            await asyncio.sleep(self.POLL)
            if self._steady(not quiet) and self.s.version == version and not self.exec.busy:
                calm += 1
                if calm >= self.QUIET:
                    self._finished_seen = self.exec.finished
                    if quiet:
                        self.offset = self.dev.frames_sent - self.s.readings
                    return
            else:
                calm = 0
            version = self.s.version
        self.settle_timeouts += 1

    # -- moving the clock -----------------------------------------------------------------

    async def step(self, dt: float, quiet: bool = False) -> None:
        """Moves the clock by `dt` (timers firing in order on the way), then settles once:
        frames due in the step arrive together at its end, as a UART burst would."""
        await self.clock.run_for(dt)
        self.steps += 1
        await self.settle(quiet)

    async def fine(self, dt: float) -> None:
        """Moves the clock by `dt`, settling at every timer deadline and at the device's replug
        time on the way, so a connect starts at its back-off time and finishes (in real time)
        before the clock moves on."""
        end = self.clock.now() + dt
        while True:
            nxt = self.clock.next_deadline()
            rp = self.dev.replug_at
            now = self.clock.now()
            cands = [t for t in (nxt, rp) if t is not None and now < t <= end]
            t = min(cands) if cands else end
            await self.clock.run_until(t)
            self.steps += 1
            await self.settle()
            if t >= end:
                return


__all__ = ["CountingExecutor", "Lockstep"]
