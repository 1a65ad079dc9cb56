"""Soak with the screen on: the real Textual app, headless, on a long simulated stretch.

The app is built as `oxi-assist demo` builds it (`build_app` on a `sim:baseline` URI, so the
same `SimSource`, `session_maker` and `Session` wiring), recording to a temporary folder. The
patient is the quiet `baseline` scenario at a 100 Hz pleth with finger-out stretches injected
(the simulator of the other soak rows). Simulated time is driven by a `VirtualClock`.

Timers and the two clocks: the app's redraw poll (`OxiApp.poll`, `redraw_hz` = 10) and the alarm
flash check are Textual `set_interval` timers, and Textual times them on the real monotonic
clock, not on the injected `Clock`. Live (real clock, speed 1) that is one poll per 0.1 s of
patient time; here, where an hour of patient time passes in a few minutes of wall time, those
timers alone would poll only a few times per simulated hour. So the soak calls the app's own
`poll()` every `redraw_every` simulated seconds (0.1 s: the live rate) and then lets Textual run
(`pilot.pause()`), so the compositor lays out and renders the changed widgets as it does live.
The real-time timers keep running as well; their polls are counted apart. "Redraws" is the
app's own count (`DrawStats.redraws`: model built and widgets updated); "screen updates" is the
number of compositor updates handed to the (headless) driver, which renders the widgets' lines
but writes no bytes to a terminal.
"""

from __future__ import annotations

import asyncio
import math
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from benchmarks.reliability_common import count_recording, rss_mb
from benchmarks.reliability_soak import _simulator
from drivers.clock import VirtualClock
from drivers.reading import Reading

PLETH_HZ = 100


class _Tap:
    """Passes the source through unchanged, counting what it hands to the session: readings
    that carry vitals (wave-only chunks are not separate records in the count) and gaps (runs
    of readings without a valid value). Everything else is the wrapped source's."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self.readings = 0
        self.gaps = 0
        self.in_gap = False

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def __aiter__(self) -> AsyncIterator[Any]:
        return self._count(aiter(self._inner))

    async def _count(self, it: AsyncIterator[Any]) -> AsyncIterator[Any]:
        async for item in it:
            if isinstance(item, Reading) and not item.wave_only:
                self.readings += 1
                bad = not item.valid
                if bad and not self.in_gap:
                    self.gaps += 1
                self.in_gap = bad
            yield item

    async def close(self) -> None:
        await self._inner.close()


def _spo2_shown(app: Any) -> str:
    from textual.widgets import Digits

    from oxi_assist.ui.vitals_panel import VitalsPanel

    return str(app.screen.query_one(VitalsPanel).query_one("#spo2-digits", Digits).value)


async def _soak(seconds: float, gap_every: float, gap_len: float, seed: int,
                size: tuple[int, int], redraw_every: float, folder: Path) -> dict[str, Any]:
    from oxi_assist.ui.launch import LiveOptions, build_app

    clock = VirtualClock()
    uri = f"sim:baseline?seed={seed}&duration={math.ceil(seconds)}"
    app = build_app(uri, LiveOptions(sessions_dir=str(folder)), clock=clock,
                    debrief_on_end=False)
    sim, cues = _simulator(seconds, PLETH_HZ, gap_every, gap_len, seed)
    app.source.sim = sim  # the same patient as the other soak rows, gaps scheduled
    tap = _Tap(app.source)
    app.source = tap

    updates = 0
    display = app._display

    def counted_display(screen: Any, renderable: Any) -> None:
        nonlocal updates
        if renderable is not None:
            updates += 1
        display(screen, renderable)

    app._display = counted_display  # type: ignore[method-assign]
    driven = 0
    poll = app.poll

    timer_polls = 0  # polls from the app's own interval timer (real time)

    def counted_timer_poll() -> None:
        nonlocal timer_polls
        timer_polls += 1
        poll()

    app.poll = counted_timer_poll  # type: ignore[method-assign]

    rss_warm = None
    warm_at = min(600.0, seconds / 10)
    shown: list[str] = []
    gap_shown: list[str] = []
    next_look = 0.0
    async with app.run_test(headless=True, size=size) as pilot:
        await pilot.pause()
        for _ in range(100):  # the main screen composes on the first refreshes
            if app.screen.ready:
                break
            await pilot.pause(0.01)
        session = app.session
        end = seconds + 2.0  # the source's last second and its CLOSED event
        while clock.now() < end:
            await clock.run_for(redraw_every)
            poll()  # what the 10 Hz timer does live, once per redraw period of patient time
            driven += 1
            # the app's messages processed, then the screen's pending update composed; delay 0
            # (not "wait for CPU idle", which sleeps real time on every step)
            await pilot.pause(0)
            if rss_warm is None and clock.now() >= warm_at:
                rss_warm = rss_mb()
            if tap.in_gap and len(gap_shown) < tap.gaps:
                gap_shown.append(_spo2_shown(app))  # what the screen says in a finger-out
            if session.vitals is not None and session.vitals.spo2 is not None and \
                    (not shown or clock.now() >= next_look):
                shown.append(_spo2_shown(app))  # what the screen says while a value is valid
                next_look = clock.now() + 60.0
        app.redraw()
        await pilot.pause(0)
        final_spo2 = _spo2_shown(app)  # the source has ended: no value now
        redraws, skipped = app.stats.redraws, app.stats.skipped
        session.stop()
        session.close("soak done")
        path = session.recording_path
        await pilot.exit(0)
    fc = count_recording(path)
    return {
        "simulated_s": clock.now(), "generated": tap.readings, "recorded": fc.readings,
        "gaps_injected": cues, "gaps_generated": tap.gaps, "gaps_recorded": fc.gaps,
        "rss_warm": rss_warm, "ended": fc.ended, "redraws": redraws, "polls_skipped": skipped,
        "polls_driven": driven, "polls_timer": timer_polls, "screen_updates": updates,
        "spo2_shown": shown, "spo2_after_end": final_spo2,
        "spo2_in_gaps": gap_shown, "file_mb": path.stat().st_size / 1e6,
    }


def soak_ui(seconds: float, *, gap_every: float = 600.0, gap_len: float = 20.0, seed: int = 4,
            size: tuple[int, int] = (80, 24), redraw_every: float = 0.1) -> dict[str, Any]:
    """`seconds` of simulated patient through the headless app, the screen polled every
    `redraw_every` simulated seconds. Returns a soak row (see `reliability.soak_section`)."""
    t_wall = time.perf_counter()
    rss0 = rss_mb()
    with tempfile.TemporaryDirectory() as d:
        r = asyncio.run(_soak(seconds, gap_every, gap_len, seed, size, redraw_every, Path(d)))
    return {
        "path": "UI headless (sim source → Session → Textual app, redrawn "
                f"every {redraw_every:g} s simulated)",
        "clock": "virtual", **r, "rss_start": rss0, "rss_warm": r["rss_warm"] or rss0,
        "rss_end": rss_mb(), "wall_s": time.perf_counter() - t_wall, "size": size,
        "redraw_every": redraw_every,
    }


if __name__ == "__main__":  # python -m benchmarks.reliability_ui [SECONDS [REDRAW_EVERY]]
    import sys

    secs = float(sys.argv[1]) if len(sys.argv) > 1 else 600.0
    every = float(sys.argv[2]) if len(sys.argv) > 2 else 0.1
    row = soak_ui(secs, gap_every=120.0 if secs < 3600 else 600.0,
                  gap_len=10.0 if secs < 3600 else 20.0, redraw_every=every)
    for k, v in row.items():
        print(f"{k}: {v}")
