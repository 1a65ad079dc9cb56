"""The async driver of a session: read a source, tick meanwhile, stop on request.

The session's core is synchronous (each call does a bounded amount of work and never waits);
this loop is the one place that waits. It reads the source in a task of its own, so `stop()`
can interrupt a source that waits forever, and ticks on the session's clock in another, so the
guide's timers run on with a silent source or with none at all.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass

from drivers.reading import LinkEvent, LinkState, Source, SourceItem
from oxi_assist.session.timeline import Timeline


@dataclass(frozen=True)
class Hooks:
    """What the loop calls: `feed` with each item, `tick` every so often, `fault` with the
    words of a fault of `feed` on an item (each new fault once in a row; the reading goes
    on), and `failed` with what a source raised (it records it and returns the words of why
    the run ended, "failed: …")."""

    feed: Callable[[SourceItem], None]
    tick: Callable[[], None]
    fault: Callable[[str], None]
    failed: Callable[[Exception], str]


class Loop:
    """Feeds items from a source and ticks meanwhile, through `hooks`; session time follows
    the source while it is read."""

    def __init__(self, timeline: Timeline, hooks: Hooks) -> None:
        self._timeline = timeline
        self._hooks = hooks
        self._last_fault = ""
        self._stop = asyncio.Event()  # set by stop(): a run without a source ends
        self._read_task: asyncio.Task[str] | None = None

    async def run(self, source: Source | None, *, tick_every: float | None, stay: bool) -> str:
        """Feeds from `source` until it closes, ends or fails, ticking every `tick_every` s
        meanwhile (None: the caller ticks). With no source or `stay`, goes on ticking after
        the source is gone until `stop()`. Returns "closed", "ended", "stopped" or
        "failed: …"."""
        self._stop.clear()
        ticker = (asyncio.create_task(self._tick_loop(tick_every))
                  if tick_every is not None else None)
        why = ""
        try:
            if source is not None:
                why = await self._read(source)
            if (source is None or stay) and why != "stopped":
                await self._stop.wait()
                why = why or "stopped"
        finally:
            if ticker is not None:
                ticker.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await ticker
        return why

    async def _read(self, source: Source) -> str:
        """Reads in its own task so that `stop()` can interrupt a source that waits forever;
        items are taken with a plain `async for`, so no sample waits on extra loop turns."""
        self._timeline.follow(source)
        task = asyncio.create_task(self._read_items(source))
        self._read_task = task
        try:
            return await task
        except asyncio.CancelledError:
            me = asyncio.current_task()
            if me is not None and me.cancelling():
                raise  # the caller cancelled run(): not ours to swallow
            await _close_quietly(source)
            return "stopped"
        finally:
            self._read_task = None
            self._timeline.follow(None)  # from here on, session time runs with the clock

    async def _read_items(self, source: Source) -> str:
        try:
            async for item in source:
                self._feed(item)
                if isinstance(item, LinkEvent) and item.state is LinkState.CLOSED:
                    return "closed"
        except asyncio.CancelledError:
            raise
        except Exception as e:  # any source failure: record it, keep guiding
            why = self._hooks.failed(e)
            await _close_quietly(source)
            return why
        return "ended"

    def _feed(self, item: SourceItem) -> None:
        try:
            self._hooks.feed(item)
        except Exception as e:  # a fault of ours must not end the response either
            text = f"internal error on an item: {type(e).__name__}: {e}"
            if text != self._last_fault:
                self._last_fault = text
                self._hooks.fault(text)

    async def _tick_loop(self, every: float) -> None:
        while True:
            await self._timeline.clock.sleep(every)
            self._hooks.tick()

    def stop(self) -> None:
        """Ends `run()` (at its next turn of the event loop)."""
        self._stop.set()
        if self._read_task is not None and not self._read_task.done():
            self._read_task.cancel()


async def _close_quietly(source: Source) -> None:
    """Closes a source that is done with; a source that cannot close is left as it is."""
    with contextlib.suppress(Exception):
        await source.close()
