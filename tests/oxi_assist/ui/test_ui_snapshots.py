"""Screenshots of the main states at 80×24 and 120×40, and of a response under way at 80×24,
60×30 (the one-column layout) and 45×40 (a phone), on a VirtualClock with scripted sources, so
every run draws the same screen (no wall-clock text anywhere on it).

Update after checking by eye: `pytest tests/oxi_assist/ui --snapshot-update`.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

import pytest
from textual.pilot import Pilot

from oxi_assist.ui.app import OxiApp
from tests.oxi_assist.ui.fixtures import (
    ControllableScript,
    ScriptedSource,
    falling,
    make_app,
)

SIZES = [(80, 24), (120, 40)]


@pytest.fixture
def utc(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """The debrief prints the session's start in local time: pin it for the snapshot."""
    if not hasattr(time, "tzset"):
        pytest.skip("needs time.tzset (POSIX) to pin the time zone")
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def advance(app: OxiApp, clock, seconds: float, keys: tuple[str, ...] = (),  # type: ignore[no-untyped-def]
            after: float = 0.0) -> Callable[[Pilot], Awaitable[None]]:
    async def run_before(pilot: Pilot) -> None:
        await clock.run_for(seconds)
        for k in keys:
            await pilot.press(k)
            await clock.run_for(1.0)
        if after:
            await clock.run_for(after)
        app.redraw()
        await pilot.pause()

    return run_before


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_snapshot_normal(snap_compare, size) -> None:  # type: ignore[no-untyped-def]
    app, clock = make_app(lambda c: ScriptedSource(c))
    assert snap_compare(app, terminal_size=size, run_before=advance(app, clock, 12))


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_snapshot_low_spo2_alarm(snap_compare, size) -> None:  # type: ignore[no-untyped-def]
    app, clock = make_app(lambda c: ScriptedSource(c, spo2=falling(97, 5, 1.0)))
    assert snap_compare(app, terminal_size=size, run_before=advance(app, clock, 36))


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_snapshot_finger_out(snap_compare, size) -> None:  # type: ignore[no-untyped-def]
    app, clock = make_app(lambda c: ScriptedSource(c, finger_out=(10.0, 90.0)))
    assert snap_compare(app, terminal_size=size, run_before=advance(app, clock, 22))


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_snapshot_link_lost(snap_compare, size) -> None:  # type: ignore[no-untyped-def]
    app, clock = make_app(lambda c: ScriptedSource(c, fail_at=10.0))
    assert snap_compare(app, terminal_size=size, run_before=advance(app, clock, 16))


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_snapshot_naloxone_timer(snap_compare, size) -> None:  # type: ignore[no-untyped-def]
    app, clock = make_app(lambda c: ScriptedSource(c, spo2=falling(95, 4, 0.5, floor=86)))
    assert snap_compare(app, terminal_size=size,
                        run_before=advance(app, clock, 10, ("9", "b", "n"), after=37))


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_snapshot_trainer_controls(snap_compare, size) -> None:  # type: ignore[no-untyped-def]
    app, clock = make_app(lambda c: ControllableScript(c), uri="sim:opioid-overdose",
                          simulated=True)
    assert snap_compare(app, terminal_size=size,
                        run_before=advance(app, clock, 8, ("plus", "plus", "P", "F"), after=2))


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_snapshot_debrief(snap_compare, size, utc) -> None:  # type: ignore[no-untyped-def]
    app, clock = make_app(lambda c: ScriptedSource(c, spo2=falling(97, 10, 1.0, floor=80)))
    inner = advance(app, clock, 20, ("9", "b", "n"), after=20)

    async def run_before(pilot: Pilot) -> None:
        await inner(pilot)
        await pilot.press("q", "E")
        await pilot.pause()

    assert snap_compare(app, terminal_size=size, run_before=run_before)


RESPONSE_SIZES = [(80, 24), (60, 30), (45, 40)]


@pytest.mark.parametrize("size", RESPONSE_SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_snapshot_response_under_way(snap_compare, size) -> None:  # type: ignore[no-untyped-def]
    """No response, 911, breaths, naloxone; SpO2 falling below 90 and a finger out at 50 s:
    guidance, the core keys, prompts with their origins, timers, a high alarm and the log."""
    app, clock = make_app(lambda c: ControllableScript(c, spo2=falling(95, 5, 0.4, floor=82),
                                                       finger_out=(50.0, 90.0)),
                          uri="sim:opioid-overdose", simulated=True)
    assert snap_compare(app, terminal_size=size,
                        run_before=advance(app, clock, 8, ("x", "9", "b", "n"), after=45))


@pytest.mark.parametrize("size", [(80, 24), (60, 30)], ids=lambda s: f"{s[0]}x{s[1]}")
def test_snapshot_end_question(snap_compare, size) -> None:  # type: ignore[no-untyped-def]
    app, clock = make_app(lambda c: ScriptedSource(c))
    inner = advance(app, clock, 5, ("x", "9"), after=2)

    async def run_before(pilot: Pilot) -> None:
        await inner(pilot)
        await pilot.press("q")
        await pilot.pause()

    assert snap_compare(app, terminal_size=size, run_before=run_before)
