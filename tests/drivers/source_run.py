"""A live source consumed in the background, as a session would, for transport tests."""

from __future__ import annotations

import asyncio
from typing import Any

from drivers.reading import LinkEvent, LinkState, Reading


class SourceRun:
    """Collects everything `src` yields (and what ended it); with a `monitor` every item is
    also fed to it, as a live session does."""

    def __init__(self, src: Any, monitor: Any = None) -> None:
        self.src = src
        self.monitor = monitor
        self.items: list[Any] = []
        self.error: BaseException | None = None
        self.task = asyncio.create_task(self._consume())

    async def _consume(self) -> None:
        try:
            async for it in self.src:
                self.items.append(it)
                if self.monitor is not None:
                    self.monitor.update(it)
        except BaseException as e:
            self.error = e

    def events(self, state: LinkState | None = None) -> list[LinkEvent]:
        return [i for i in self.items if isinstance(i, LinkEvent)
                and (state is None or i.state is state)]

    def vitals(self) -> list[Reading]:
        return [i for i in self.items if isinstance(i, Reading) and not i.wave_only]

    async def finish(self) -> None:
        await self.src.close()
        await asyncio.wait_for(self.task, 2)
