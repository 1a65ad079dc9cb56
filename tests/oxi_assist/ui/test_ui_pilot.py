"""Key-by-key walkthroughs on a VirtualClock through the real Session, Monitor and Guide."""

from __future__ import annotations

import time

from textual.widgets import Digits

from drivers.reading import LinkState
from oxi_assist.monitor.priority import Priority
from oxi_assist.ui.alarm_banner import AlarmBanner
from oxi_assist.ui.app import OxiApp
from oxi_assist.ui.debrief_screen import DebriefScreen
from oxi_assist.ui.help_screen import HelpScreen
from oxi_assist.ui.live_screen import MainScreen
from oxi_assist.ui.vitals_panel import VitalsPanel
from tests.oxi_assist.ui.fixtures import ScriptedSource, falling, make_app, steady


def spo2_text(app: OxiApp) -> str:
    return app.screen.query_one(VitalsPanel).query_one("#spo2-digits", Digits).value


def band_text(app: OxiApp) -> str:
    return str(app.screen.query_one("#band-line").render())


async def step(app: OxiApp, clock, pilot, seconds: float) -> None:  # type: ignore[no-untyped-def]
    await clock.run_for(seconds)
    app.redraw()
    await pilot.pause()


async def test_whole_walkthrough_by_keys(tmp_path) -> None:  # type: ignore[no-untyped-def]
    app, clock = make_app(lambda c: ScriptedSource(c, spo2=falling(97, 20, 0.5)),
                          record=True, sessions_dir=str(tmp_path))
    async with app.run_test(size=(80, 24)) as pilot:
        await step(app, clock, pilot, 5)
        assert spo2_text(app) == "97"
        assert "Normal range" in band_text(app) and "✓" in band_text(app)

        await pilot.press("9")
        await step(app, clock, pilot, 1)
        assert app.session.guide_state.called_911
        await pilot.press("b")
        await step(app, clock, pilot, 1)
        assert app.session.guide_state.breaths_on
        assert app.model is not None and app.model.guide.breaths_on
        await pilot.press("n")
        await step(app, clock, pilot, 1)
        assert app.session.doses == 1
        assert any("naloxone" in tv.label.lower() for tv in app.model.guide.timers)
        for _ in range(5):  # the person's breaths, one every 6 s → about 10/min
            await pilot.press("space")
            await clock.run_for(6)
        assert app.model.breath_rate is not None and 8 <= app.model.breath_rate <= 13

        await step(app, clock, pilot, 10)  # SpO2 has fallen well below 90
        assert app.model.alarm is not None
        assert int(spo2_text(app)) < 90
        banner = app.screen.query_one(AlarmBanner)
        assert "HIGH" in str(banner.render()) or "MEDIUM" in str(banner.render())
        await pilot.press("k")
        await step(app, clock, pilot, 1)
        await pilot.press("p")
        await step(app, clock, pilot, 5)
        left = app.model.alarm_paused_for
        assert left is not None and 100 < left <= 120
        assert "ALARM PAUSED" in str(app.screen.query_one(AlarmBanner).render())
        await step(app, clock, pilot, 120)
        assert app.model.alarm_paused_for is None  # a pause never outlasts 2 minutes

        for key in ("u", "y", "a", "r", "e"):
            await pilot.press(key)
            await clock.run_for(1)
        names = [a.name for a in app.session.actions]
        for want in ("911", "breaths", "naloxone", "tap", "breathing_not_normal",
                     "breathing_normal", "awake", "recovery", "ems"):
            assert want in names

        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, MainScreen)

        await pilot.press("q", "E")  # ending asks first: E ends
        await pilot.pause()
        assert isinstance(app.screen, DebriefScreen)
        assert app.session.closed
        text = str(app.screen.query_one("#debrief-summary").render())
        assert "911 called" in text and "Naloxone doses      1" in text
        await pilot.press("t")
        await pilot.pause()
        assert app.screen.exported and app.screen.exported[0].read_text().startswith(
            "oxi-assist debrief")
        await pilot.press("q", "Q")  # leaving the debrief asks too: Q leaves
        await pilot.pause()
    assert app.return_value == 0


async def test_source_failure_mid_response_keeps_guidance_going() -> None:
    app, clock = make_app(lambda c: ScriptedSource(c, fail_at=20.0))
    async with app.run_test(size=(80, 24)) as pilot:
        await step(app, clock, pilot, 10)
        assert spo2_text(app) == "97"
        await pilot.press("b")
        await step(app, clock, pilot, 15)
        assert app.session.link is LinkState.LOST
        assert spo2_text(app) == "--"
        assert "NO READING" in band_text(app)
        assert "LINK LOST" in str(app.screen.query_one("#status").render())
        before = app.model.guide.breath_due_in
        await pilot.press("n")
        await step(app, clock, pilot, 2)
        assert app.session.doses == 1  # actions still work with the device gone
        await step(app, clock, pilot, 60)
        timers = {tv.label: tv.seconds for tv in app.model.guide.timers}
        assert any("naloxone" in k.lower() and v >= 60 for k, v in timers.items())
        assert app.model.guide.breaths_on and before is not None


async def test_link_lost_then_back() -> None:
    app, clock = make_app(lambda c: ScriptedSource(c, lost=(10.0, 30.0)))
    async with app.run_test(size=(80, 24)) as pilot:
        await step(app, clock, pilot, 15)
        assert spo2_text(app) == "--"
        assert app.screen.query_one("#status").has_class("link-lost")
        await step(app, clock, pilot, 20)
        assert spo2_text(app) == "97"
        assert not app.screen.query_one("#status").has_class("link-lost")


async def test_finger_out_is_no_reading() -> None:
    app, clock = make_app(lambda c: ScriptedSource(c, finger_out=(10.0, 60.0)))
    async with app.run_test(size=(80, 24)) as pilot:
        await step(app, clock, pilot, 20)
        assert spo2_text(app) == "--"
        assert "NO READING" in band_text(app) and "finger out" in band_text(app)


async def test_guidance_only_without_any_source() -> None:
    app, clock = make_app(lambda c: None)
    async with app.run_test(size=(80, 24)) as pilot:
        await step(app, clock, pilot, 3)
        assert "NO OXIMETER" in band_text(app)
        await pilot.press("9")
        await pilot.press("b")
        await step(app, clock, pilot, 31)
        g = app.model.guide
        assert g.breaths_on and any("911" in tv.label for tv in g.timers)
        assert app.model.elapsed >= 34


async def test_redraw_rate_is_bounded_whatever_the_sample_rate() -> None:
    app, clock = make_app(lambda c: ScriptedSource(c, rate=100.0, pleth_rate=100.0),
                          redraw_hz=10.0)
    async with app.run_test(size=(80, 24)) as pilot:
        start = time.perf_counter()
        redraws0, alerts0 = app.stats.redraws, app.stats.alert_redraws
        await clock.run_for(5.0)
        await pilot.pause()
        real = time.perf_counter() - start
        assert app.session.readings >= 495  # the session saw every sample
        # whole-screen redraws come only from the ≤10 Hz poll (plus one per key, none here);
        # an alarm or guidance change draws its part at once, and is counted apart
        polled = (app.stats.redraws - redraws0) - (app.stats.alert_redraws - alerts0)
        assert polled <= real * 10 + 2
        assert app.stats.redraws - redraws0 < app.session.readings / 10


async def test_recording_that_cannot_start_never_blocks_the_response(tmp_path) -> None:  # type: ignore[no-untyped-def]
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    app, clock = make_app(lambda c: ScriptedSource(c), record=True, sessions_dir=str(blocker))
    async with app.run_test(size=(80, 24)) as pilot:
        await step(app, clock, pilot, 5)
        assert spo2_text(app) == "97"
        assert "RECORDING FAILED" in str(app.screen.query_one("#status").render())
        await pilot.press("9")
        await step(app, clock, pilot, 1)
        assert app.session.guide_state.called_911


async def flash_edges(app: OxiApp, clock, pilot, seconds: float, off: str) -> int:  # type: ignore[no-untyped-def]
    """Off → on edges of the alarm banner while the clock moves in 0.05 s steps; the banner
    is moved to the clock's phase as the App's flash timer does, between session redraws."""
    banner = app.screen.query_one(AlarmBanner)
    was_off, edges = banner.has_class(off), 0
    for _ in range(int(seconds / 0.05)):
        await clock.run_for(0.05)
        app.flash()
        now_off = banner.has_class(off)
        edges += was_off and not now_off
        was_off = now_off
    return edges


async def test_medium_alarm_flashes_yellow_slowly_high_fast() -> None:
    app, clock = make_app(lambda c: ScriptedSource(c, spo2=falling(86, 30, 1.0, floor=70)))
    async with app.run_test(size=(80, 24)) as pilot:
        await step(app, clock, pilot, 20)
        assert app.model is not None and app.model.alarm is not None
        assert app.model.alarm.priority is Priority.MEDIUM
        edges = await flash_edges(app, clock, pilot, 10.0, "alarm-medium-off")
        assert 4 <= edges <= 8  # 0.4–0.8 Hz over 10 s
        await step(app, clock, pilot, 30)  # SpO2 now far lower: high priority
        assert app.model.alarm is not None and app.model.alarm.priority is Priority.HIGH
        edges = await flash_edges(app, clock, pilot, 5.0, "alarm-high-off")
        assert 7 <= edges <= 14  # 1.4–2.8 Hz over 5 s
        await pilot.press("k")
        await step(app, clock, pilot, 0.1)
        edges = await flash_edges(app, clock, pilot, 2.0, "alarm-high-off")
        assert edges == 0 and app.screen.query_one(AlarmBanner).has_class("alarm-high")


async def test_steady_medium_alarm_stays_yellow_when_acknowledged() -> None:
    app, clock = make_app(lambda c: ScriptedSource(c, spo2=steady(86)))
    async with app.run_test(size=(80, 24)) as pilot:
        await step(app, clock, pilot, 20)
        assert app.model is not None and app.model.alarm is not None
        await pilot.press("k")
        await step(app, clock, pilot, 0.1)
        assert await flash_edges(app, clock, pilot, 4.0, "alarm-medium-off") == 0
        assert app.screen.query_one(AlarmBanner).has_class("alarm-medium")
