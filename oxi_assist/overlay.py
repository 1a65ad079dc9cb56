"""Training on a real oximeter: the scenario's numbers, the real device's state.

The trainee wears a real fingertip oximeter while a scenario plays. `OverlaySource` merges two
sources into one that the session reads like any other:

- from the **device**: its link state (connecting, connected, lost, …), finger out / searching /
  sensor faults, motion, low perfusion and its perfusion index;
- from the **scenario**: SpO2, pulse and the pleth, and everything the trainer drives (pause,
  speed, cues: it is `Trainable` and `ReportsEvents` through to the scenario).

The device's own SpO2 and pulse are read and dropped here: they never reach the session, the
recording or the network. A reading is passed on with the scenario's values only while the
device is connected with a finger in and has sent at least one reading; otherwise the session
gets the device's link state, or a reading with no values and the device's reason (finger out,
searching), so no reading is ever shown as a good one. Every item is stamped on the scenario's
timeline (the device's clock is another one).

While a station rebuilds its patient after a drop (`passthrough = True`), the scenario's own
readings pass unchanged: that part of the patient is history, replayed instantly.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from typing import Any

from drivers.clock import Clock
from drivers.reading import (
    DOUBTFUL,
    INVALIDATING,
    LinkEvent,
    LinkState,
    Reading,
    SourceEvent,
    SourceItem,
    Status,
)

#: The flags the device decides (the rest of a scenario reading's flags pass as they are).
DEVICE_FLAGS = INVALIDATING | DOUBTFUL
#: Words the screen shows beside the device's name.
SIMULATED_NOTE = "SpO₂ and pulse simulated"


@dataclass(frozen=True)
class DeviceState:
    """What the overlay knows of the real device: never a number it measured but its
    perfusion index."""

    link: LinkState = LinkState.CONNECTING
    reason: str = ""
    label: str = ""
    status: Status = Status.NONE
    pi: float | None = None
    readings: int = 0  # readings seen since the last connection

    @property
    def usable(self) -> bool:
        """Connected, a reading seen, and no flag that makes a value unusable."""
        return (self.link is LinkState.CONNECTED and self.readings > 0
                and not self.status & INVALIDATING)

    def words(self) -> str:
        """The device in a few words ("connected", "finger out", "lost", …), the only thing
        about it a classroom station may send over the network."""
        if self.link is not LinkState.CONNECTED:
            return self.link.value
        if self.readings == 0:
            return "waiting for a reading"
        for flag, word in ((Status.FINGER_OUT, "finger out"), (Status.NO_SENSOR, "no sensor"),
                           (Status.SENSOR_FAULT, "sensor fault"),
                           (Status.SEARCHING, "searching"), (Status.MOTION, "motion"),
                           (Status.LOW_PERFUSION, "low perfusion")):
            if self.status & flag:
                return word
        return "finger in"


class OverlaySource:
    """The scenario's values on the real device's state (see the module docstring)."""

    def __init__(self, scenario: Any, device: Any, *, clock: Clock) -> None:
        self.scenario = scenario
        self.device = device
        self.clock = clock
        self.name = f"{getattr(scenario, 'name', 'sim')} on {getattr(device, 'name', 'device')}"
        self.state = DeviceState()
        self.passthrough = False
        self._t = 0.0  # scenario time of the last item handed on
        self._queue: asyncio.Queue[tuple[bool, SourceItem] | None] = asyncio.Queue()
        self._tasks: list[asyncio.Task[None]] = []
        self._gen: AsyncIterator[SourceItem] | None = None
        self._closed = False

    # -- the trainer's controls and the scenario's events go to the scenario ------------------

    @property
    def paused(self) -> bool:
        return bool(self.scenario.paused)

    @property
    def speed(self) -> float:
        return float(self.scenario.speed)

    def set_speed(self, x: float) -> None:
        self.scenario.set_speed(x)

    def pause(self) -> None:
        self.scenario.pause()

    def resume(self) -> None:
        self.scenario.resume()

    def inject(self, action: str, **params: object) -> None:
        self.scenario.inject(action, **params)

    def patient_status(self) -> str:
        return str(self.scenario.patient_status())

    def take_events(self) -> list[SourceEvent]:
        return list(self.scenario.take_events())

    @property
    def t(self) -> float:
        return float(self.scenario.t)

    @property
    def duration(self) -> float:
        return float(self.scenario.duration)

    # -- merging ------------------------------------------------------------------------------

    def _device_label(self, label: str) -> str:
        base = label or self.state.label or getattr(self.device, "name", "oximeter")
        return f"{base} · {SIMULATED_NOTE}"

    def on_device(self, item: SourceItem) -> LinkEvent | None:
        """Takes one item from the device; returns the link event to pass on, if any."""
        s = self.state
        if isinstance(item, LinkEvent):
            label = item.device or s.label
            self.state = replace(s, link=item.state, reason=item.reason, label=label,
                                 readings=0 if item.state is not LinkState.CONNECTED
                                 else s.readings)
            return LinkEvent(self._t, item.state, item.reason, self._device_label(label))
        if isinstance(item, Reading) and not item.wave_only:
            # only the flags and the perfusion index are kept; SpO2 and pulse are dropped here
            self.state = replace(s, status=item.status & DEVICE_FLAGS, pi=item.pi,
                                 readings=s.readings + 1)
        return None

    def merge(self, r: Reading) -> Reading | None:
        """A scenario reading as the session gets it now (None: the device has no link, so
        there is nothing to show but its link state)."""
        if self.passthrough:
            return r
        s = self.state
        if s.link is not LinkState.CONNECTED:
            return None
        if r.wave_only:
            return r if s.usable else None
        if not s.usable:
            why = s.status & INVALIDATING or Status.SEARCHING
            return Reading(r.t, status=why | (s.status & DOUBTFUL))
        # the trainer's own cues (finger out, motion) in the scenario still play
        return replace(r, pi=s.pi if s.pi is not None else r.pi, status=r.status | s.status)

    def go_live(self) -> None:
        """Ends `passthrough`: from now on the device decides, starting with its link now."""
        self.passthrough = False
        s = self.state
        self._queue.put_nowait((True, LinkEvent(self._t, s.link, s.reason,
                                                self._device_label(s.label))))

    # -- the stream ---------------------------------------------------------------------------

    def __aiter__(self) -> AsyncIterator[SourceItem]:
        if self._gen is None:
            self._gen = self._run()
        return self._gen

    async def _pump_device(self) -> None:
        try:
            async for item in self.device:
                ev = self.on_device(item)
                if ev is not None:
                    self._queue.put_nowait((True, ev))
        except Exception as e:  # a broken driver: its link is lost, the scenario goes on
            self.state = replace(self.state, link=LinkState.LOST, reason=str(e)[:80],
                                 readings=0)
            self._queue.put_nowait((True, LinkEvent(self._t, LinkState.LOST, str(e)[:80],
                                                    self._device_label(""))))

    async def _pump_scenario(self) -> None:
        try:
            async for item in self.scenario:
                self._queue.put_nowait((False, item))
        finally:
            self._queue.put_nowait(None)

    async def _run(self) -> AsyncIterator[SourceItem]:
        self._tasks = [asyncio.ensure_future(self._pump_device()),
                       asyncio.ensure_future(self._pump_scenario())]
        yield LinkEvent(0.0, LinkState.CONNECTING, "waiting for the oximeter",
                        self._device_label(""))
        try:
            while True:
                got = await self._queue.get()
                if got is None:
                    break
                from_device, item = got
                if from_device:
                    if not self.passthrough:
                        yield replace(item, t=self._t)
                elif isinstance(item, Reading):
                    self._t = max(self._t, item.t)
                    out = self.merge(item)
                    if out is not None:
                        yield out
                elif isinstance(item, LinkEvent) and item.state is LinkState.CLOSED:
                    # the scenario's own link: only its end is news
                    yield LinkEvent(max(self._t, item.t), LinkState.CLOSED, item.reason,
                                    self._device_label(""))
                    break
        finally:
            await self._stop_tasks()

    async def _stop_tasks(self) -> None:
        for t in self._tasks:
            t.cancel()
        for t in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await t
        self._tasks = []

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        for src in (self.scenario, self.device):
            with contextlib.suppress(Exception):
                await src.close()
        await self._stop_tasks()
        self._queue.put_nowait(None)


def open_overlay(scenario_uri: str, device_uri: str, clock: Clock, *,
                 device_clock: Clock | None = None) -> OverlaySource:
    """The scenario (`sim:…`) on a real device (`ble:auto`, `serial:/dev/ttyUSB0`, …).
    `device_clock`: the device's own clock when the scenario runs on another (a station that
    catches up)."""
    from drivers.errors import SourceError
    from oxi_assist.uris import open_source, parse_uri

    if parse_uri(scenario_uri).scheme != "sim":
        raise SourceError(f"{scenario_uri}: an overlay plays a scenario (sim:NAME)")
    if parse_uri(device_uri).scheme in ("sim", "replay"):
        raise SourceError(f"--overlay {device_uri}: expected a real oximeter "
                          f"(ble:auto, serial:PORT, hid:auto)")
    scenario = open_source(scenario_uri, clock)
    device = open_source(device_uri, device_clock or clock)
    return OverlaySource(scenario, device, clock=clock)
