"""`sim:SCENARIO` as a live source: the simulator paced on a clock, controllable while it runs.

It yields the same `Reading`s and link events as a real oximeter, so the whole app (Monitor,
guide, UI, recorder) can be exercised without hardware. Under a `VirtualClock` a test runs a
30-minute scenario instantly; under the real clock it runs in real time × `speed`.

Reading times are scenario seconds (0 = scenario start): with speed 10 the patient's minute
passes in 6 s of wall time, and the readings say a minute passed.

URI options: `seed` (integer, default 0), `speed` (1–20, default 1), `chunk` (seconds of pleth
per reading, 0.02–1, default 0.1: smooth waveform on screen), `pleth` (Hz, 0 = none, default
100), `duration` (e.g. `30m`; default the scenario's own).

It is `Trainable` (drivers.reading): `paused` and `speed` are properties, `set_speed`, `pause`,
`resume`, `inject` and `patient_status()` (the trainer's words for the patient's true state:
"breathing 4/min · unresponsive", "CARDIAC ARREST · CPR: compressions on"). It also
`ReportsEvents`: `take_events()` hands over, once each, the patient's cardiac arrest and return
of circulation as the readings reach their time, for the session to record.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncIterator
from typing import Any

from drivers.clock import Clock
from drivers.errors import SourceError
from drivers.options import number_option
from drivers.reading import LinkEvent, LinkState, SourceEvent, SourceItem
from simulators.patient_status import patient_status
from simulators.physiology import PatientState
from simulators.scenario import MAX_DURATION, Scenario, load_scenario, parse_duration
from simulators.simulator import MAX_SEED, Simulator

OPTIONS = ("seed", "speed", "chunk", "pleth", "duration")


class SimSource:
    """A running scenario. Also `Controllable` (`inject("naloxone", route="im")`),
    `Trainable` and `ReportsEvents` (drivers.reading)."""

    def __init__(self, scenario: Scenario, clock: Clock, *, seed: int = 0, speed: float = 1.0,
                 chunk: float = 0.1, pleth: float = 100.0,
                 duration: float | None = None) -> None:
        if not 0.02 <= chunk <= 1.0:
            raise ValueError("chunk must be within 0.02–1 s")
        self.scenario = scenario
        self.sim = Simulator(scenario, seed=seed, pleth_rate=pleth)
        self.name = f"sim:{scenario.name}"
        self.device = f"Simulator ({scenario.name})"
        self.duration = float(duration if duration is not None else scenario.duration)
        self._clock = clock
        self._anchor_clock: float | None = None
        self._anchor_sim = 0.0
        self._last_t = 0.0
        self._speed = 1.0
        self.set_speed(speed)
        self._chunk = chunk
        self._paused = False
        self._resumed = asyncio.Event()
        self._resumed.set()
        self._closed = False
        self._gen: AsyncIterator[SourceItem] | None = None
        self._events_taken = 0  # how many of the simulator's events were handed over

    # -- control ------------------------------------------------------------------------------

    def inject(self, action: str, **params: Any) -> None:
        """A responder action or trainer cue; acts from the next simulated second.
        Unknown actions raise ValueError (the caller logs and carries on)."""
        self.sim.inject(action, **params)

    @property
    def speed(self) -> float:
        return self._speed

    def set_speed(self, x: float) -> None:
        if not (isinstance(x, int | float) and 1.0 <= x <= 20.0):
            raise ValueError(f"speed must be within 1–20, not {x!r}")
        self._reanchor()
        self._speed = float(x)

    def pause(self) -> None:
        self._paused = True
        self._resumed.clear()

    def resume(self) -> None:
        if self._paused:
            self._paused = False
            self._anchor_clock = None  # pacing restarts from now
            self._resumed.set()

    @property
    def paused(self) -> bool:
        return self._paused

    @property
    def state(self) -> PatientState:
        """The patient as they truly are (breathing rate, responsiveness…): for the trainer's
        view and tests; a real oximeter measures none of this."""
        return self.sim.state()

    def patient_status(self) -> str:
        """The trainer's words for how the patient truly is now (see simulators.patient_status)."""
        return patient_status(self.sim.state())

    def take_events(self) -> list[SourceEvent]:
        """The patient's events (cardiac arrest, circulation returned) up to the last item
        handed out, each once: the simulator runs a second ahead of what has been shown."""
        events = self.sim.events
        i = self._events_taken
        out: list[SourceEvent] = []
        while i < len(events) and events[i].t <= self._last_t:
            out.append(events[i])
            i += 1
        self._events_taken = i
        return out

    @property
    def t(self) -> float:
        """Scenario seconds of the last item handed out."""
        return self._last_t

    async def close(self) -> None:
        self._closed = True
        self._resumed.set()

    # -- the stream ---------------------------------------------------------------------------

    def _reanchor(self) -> None:
        if self._anchor_clock is not None:
            self._anchor_clock = self._clock.now()
            self._anchor_sim = self._last_t

    async def _pace(self, t: float) -> None:
        if self._anchor_clock is None:
            self._anchor_clock = self._clock.now()
            self._anchor_sim = self._last_t
        due = self._anchor_clock + (t - self._anchor_sim) / self._speed
        delay = due - self._clock.now()
        if delay > 0:
            await self._clock.sleep(delay)

    async def _wait_if_paused(self) -> None:
        while self._paused and not self._closed:
            await self._resumed.wait()

    def __aiter__(self) -> AsyncIterator[SourceItem]:
        if self._gen is None:
            self._gen = self._run()
        return self._gen

    async def _run(self) -> AsyncIterator[SourceItem]:
        yield LinkEvent(0.0, LinkState.CONNECTING, device=self.device)
        yield LinkEvent(0.0, LinkState.CONNECTED, device=self.device)
        end = math.ceil(self.duration)
        reason = "scenario ended"
        while self.sim.t < end and not self._closed:
            block = self.sim.step(1)
            for r in block.readings(self._chunk):
                await self._wait_if_paused()
                await self._pace(r.t)
                if self._closed:
                    break
                self._last_t = r.t
                yield r
            else:
                await self._wait_if_paused()
                await self._pace(float(self.sim.t))  # a dropped second still takes its time
                self._last_t = max(self._last_t, float(self.sim.t))
        if self._closed:
            reason = "closed"
        yield LinkEvent(self._last_t, LinkState.CLOSED, reason=reason, device=self.device)


def open_sim(target: str, params: dict[str, str], clock: Clock) -> SimSource:
    """The `sim:` URI opener (see oxi_assist.uris)."""
    unknown = [k for k in params if k not in OPTIONS]
    if unknown:
        raise SourceError(f"sim: unknown option {unknown[0]!r} (known: {', '.join(OPTIONS)})")
    scenario = load_scenario(target)
    seed_text = params.get("seed", "0")
    if not (seed_text.isascii() and seed_text.isdigit()) or len(seed_text) > 19 or \
            int(seed_text) > MAX_SEED:
        raise SourceError(f"sim: bad seed={seed_text!r}: expected a whole number 0–{MAX_SEED}")
    duration = None
    if "duration" in params:
        try:
            duration = parse_duration(params["duration"])
        except ValueError as e:
            raise SourceError(f"sim: {e}") from None
        if not 1 <= duration <= MAX_DURATION:
            raise SourceError(f"sim: bad duration={params['duration']!r}: expected 1 s to "
                              f"{MAX_DURATION / 3600:g} h")
    return SimSource(scenario, clock, seed=int(seed_text),
                     speed=number_option(params, "speed", 1.0, 1.0, 20.0, scheme="sim"),
                     chunk=number_option(params, "chunk", 0.1, 0.02, 1.0, scheme="sim",
                                         unit=" s"),
                     pleth=_pleth(params), duration=duration)


def _pleth(params: dict[str, str]) -> float:
    """The waveform rate: 0 (none) or 1–1000 Hz."""
    if params.get("pleth", "").strip() in ("0", "0.0"):
        return 0.0
    return number_option(params, "pleth", 100.0, 1.0, 1000.0, scheme="sim", unit=" Hz")
