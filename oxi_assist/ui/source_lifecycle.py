"""The live app's source: opening the session on it, choosing among several Bluetooth
oximeters in range (the device picker over the live screen), and the worker that feeds the
session until it stops."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from textual import work

from drivers.clock import Clock
from oxi_assist.ui.device_picker import DevicePicker, PickingSource
from oxi_assist.ui.live_app_base import LiveAppBase


class SourceLifecycle(LiveAppBase):
    """Starts the session on a source and keeps it fed (see the module docstring)."""

    def _start(self, source: Any) -> None:
        if source is not None and self.uri.lower().startswith("ble:") and \
                not isinstance(source, PickingSource):
            source = PickingSource(source, uri=self.uri, clock=self.clock,
                                   ask=self._ask_device, reopen=self._reopen,
                                   choice=self._choice())
        self.source = source
        self._follow(self._make_session(self.clock, self.uri, source))
        self._drive(self.session, source)

    def _follow(self, session: Any) -> None:
        """Draws `session` from now on (its changes and alerts reach the screen), from its
        first screen with its own placement cue."""
        self.session = session
        session.on_change = self._on_change
        session.on_alert = self._on_alert
        self._drawn_version = -1
        self._cue, self._cue_taken, self._cue_hidden = None, False, False

    # -- choosing the BLE device -----------------------------------------------------------

    def _choice(self) -> Any:
        if self._device_choice is None:
            from oxi_assist.device_choice import DeviceChoice

            self._device_choice = DeviceChoice()
        return self._device_choice

    def _reopen(self, uri: str, clock: Clock) -> Any:
        if self._open_source is not None:
            return self._open_source(uri, clock)
        from oxi_assist.uris import open_source

        return open_source(uri, clock)

    async def _ask_device(self, candidates: list[Any]) -> Any:
        """Shows the picker over the live screen and waits for the responder's key."""
        done: asyncio.Future[Any] = asyncio.get_running_loop().create_future()

        def answer(picked: Any) -> None:
            if not done.done():
                done.set_result(picked)

        picker = DevicePicker(candidates)
        self.push_screen(picker, answer)
        try:
            return await done
        finally:
            if not done.done() and picker.is_current:  # the session stopped meanwhile
                with contextlib.suppress(Exception):
                    picker.dismiss(None)

    @work(exclusive=True, group="session", exit_on_error=False)
    async def _drive(self, session: Any, source: Any) -> None:
        """Feeds the session until it is stopped; guidance keeps ticking after a source ends."""
        await session.run(source, tick_every=self.tick_every, stay=True)
