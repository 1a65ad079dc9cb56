"""Scripted sources and app builders for the UI tests: every screen state from a few lines,
on a VirtualClock, so snapshots and walkthroughs are the same on every run."""

from __future__ import annotations

import math
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

from drivers.clock import VirtualClock
from drivers.reading import LinkEvent, LinkState, Reading, Status
from oxi_assist.ui.app import OxiApp
from oxi_assist.ui.launch import LiveOptions, session_maker

DEVICE = "Test CMS50D+ (AA:BB)"


def steady(value: float) -> Callable[[float], float]:
    return lambda t: value


def falling(start: float, at: float, per_s: float, floor: float = 70.0) -> Callable[[float], float]:
    """Steady at `start`, then falling `per_s` % a second from `at` s, down to `floor`."""
    return lambda t: max(floor, start - max(0.0, t - at) * per_s)


@dataclass
class ScriptedSource:
    """Readings once a second (with a 50 Hz pleth) from simple functions of time.

    `finger_out` and `lost` are (start, end) windows in seconds since the source started;
    during `lost` the source sends LOST then RECONNECTING-free silence, then CONNECTED;
    `fail_at` makes the iterator raise, as a broken device driver would.
    """

    clock: VirtualClock
    spo2: Callable[[float], float] = field(default_factory=lambda: steady(97.0))
    pulse: Callable[[float], float] = field(default_factory=lambda: steady(72.0))
    finger_out: tuple[float, float] | None = None
    lost: tuple[float, float] | None = None
    fail_at: float | None = None
    pleth_rate: float = 50.0
    rate: float = 1.0
    name: str = "scripted"
    injected: list[tuple[str, dict[str, object]]] = field(default_factory=list)
    closed: bool = False

    async def __aiter__(self) -> AsyncIterator[Reading | LinkEvent]:
        c = self.clock
        t0 = c.now()
        yield LinkEvent(c.now(), LinkState.CONNECTED, device=DEVICE)
        was_lost = False
        k = 0
        while not self.closed:
            await c.sleep(1.0 / self.rate)
            t = c.now() - t0
            if self.fail_at is not None and t >= self.fail_at:
                raise OSError("device unplugged")
            if self.lost and self.lost[0] <= t < self.lost[1]:
                if not was_lost:
                    was_lost = True
                    yield LinkEvent(c.now(), LinkState.LOST, "no data from device", DEVICE)
                continue
            if was_lost:
                was_lost = False
                yield LinkEvent(c.now(), LinkState.CONNECTED, device=DEVICE)
            n = int(self.pleth_rate / self.rate)
            if self.finger_out and self.finger_out[0] <= t < self.finger_out[1]:
                yield Reading(c.now(), status=Status.FINGER_OUT)
                continue
            wave = tuple(50 + 40 * math.sin(2 * math.pi * (k * n + i) / 40) for i in range(n))
            k += 1
            yield Reading(c.now(), spo2=round(self.spo2(t)), pulse=round(self.pulse(t)), pi=2.4,
                          pleth=wave, pleth_rate=self.pleth_rate)

    async def close(self) -> None:
        self.closed = True


@dataclass
class ControllableScript(ScriptedSource):
    """A scripted source that records trainer calls (for the trainer-bar tests only; the real
    simulator is tested through `sim:` URIs)."""

    speed: float = 1.0
    paused: bool = False

    def inject(self, action: str, **params: object) -> None:
        self.injected.append((action, dict(params)))

    def set_speed(self, x: float) -> None:
        self.speed = x

    def pause(self) -> None:
        self.paused = True

    def resume(self) -> None:
        self.paused = False

    def patient_status(self) -> str:
        return ""  # says nothing: the trainer bar shows no words for the patient


@dataclass
class NarratedScript(ControllableScript):
    """A controllable script that also says how its patient is (`patient_status`)."""

    status: str = "breathing 4/min"

    def patient_status(self) -> str:
        return self.status


def screen_lines(app: OxiApp) -> list[str]:
    """The screen as the terminal shows it, one string per row."""
    return [strip.text for strip in app.screen._compositor.render_strips()]


def region_words(app: OxiApp, widget: object) -> str:
    """The words drawn inside `widget`'s visible region, rows joined by spaces: a sentence
    wrapped over several rows reads whole here, and a cut one does not."""
    region = widget.content_region  # type: ignore[attr-defined]
    rows = screen_lines(app)[region.y:region.bottom]
    text = " ".join(r[region.x:region.right] for r in rows)
    return " ".join(text.split())


def chip_offset(app: OxiApp, selector: str, words: str) -> tuple[int, int]:
    """Where to click to hit the chip whose text holds `words` (x, y inside the widget)."""
    w = app.screen.query_one(selector)
    region = w.content_region
    rows = screen_lines(app)[region.y:region.bottom]
    for y, row in enumerate(rows):
        x = row.find(words, region.x, region.right)
        if x >= 0:
            return x - w.region.x + 1, y + region.y - w.region.y
    raise AssertionError(f"no chip {words!r} in {selector}")


def make_app(source_factory: Callable[[VirtualClock], ScriptedSource | None], *,
             uri: str = "serial:test", simulated: bool = False, debrief_on_end: bool = True,
             record: bool = False, sessions_dir: str | None = None,
             measure_latency: bool = False, tick_every: float = 0.5,
             redraw_hz: float = 0.5, **app_kw: object) -> tuple[OxiApp, VirtualClock]:
    """The app on a VirtualClock. Tests redraw explicitly after moving the clock, so the
    real-time redraw poll runs slowly by default (the bounded-rate test sets 10 Hz)."""
    clock = VirtualClock()
    src = source_factory(clock)
    opts = LiveOptions(record=record, sessions_dir=sessions_dir)
    app = OxiApp(make_session=session_maker(opts), uri=uri if src is not None else "",
                 source=src, clock=clock, simulated=simulated, debrief_on_end=debrief_on_end,
                 measure_latency=measure_latency, tick_every=tick_every,
                 redraw_hz=redraw_hz, **app_kw)  # type: ignore[arg-type]
    return app, clock
