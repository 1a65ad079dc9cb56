"""The command palette, the alarm bell and the debrief screen on a recorded file."""

from __future__ import annotations

import pytest

from drivers.errors import OxiError
from oxi_assist.ui.debrief_screen import DebriefApp, DebriefScreen
from tests.oxi_assist.ui.fixtures import ScriptedSource, falling, make_app


async def test_command_palette_offers_responder_actions() -> None:
    app, clock = make_app(lambda c: ScriptedSource(c))
    async with app.run_test(size=(100, 30)) as pilot:
        await clock.run_for(3)
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"naloxone (injection)")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await pilot.pause()
        assert app.session.doses == 1


async def test_high_alarm_rings_until_acknowledged() -> None:
    app, clock = make_app(lambda c: ScriptedSource(c, spo2=falling(97, 2, 2.0, floor=70)))
    async with app.run_test(size=(80, 24)) as pilot:
        rung = 0
        for _ in range(40):  # 40 s, redrawing each second as the poll would
            await clock.run_for(1)
            app.redraw()
            alarm = app.model.alarm if app.model else None
            if alarm is not None and alarm.priority.label == "high":
                rung = app.bells
        assert rung >= 2  # repeated while unanswered (about every 10 s)
        await pilot.press("k")
        await pilot.pause()
        after = app.bells
        for _ in range(25):
            await clock.run_for(1)
            app.redraw()
        assert app.bells == after


async def test_debrief_screen_on_a_recorded_file(tmp_path) -> None:  # type: ignore[no-untyped-def]
    app, clock = make_app(lambda c: ScriptedSource(c, spo2=falling(97, 10, 1.0, floor=80)),
                          record=True, sessions_dir=str(tmp_path), debrief_on_end=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await clock.run_for(10)
        await pilot.press("9", "b", "n")
        await clock.run_for(30)
        await pilot.press("q", "E")
    files = sorted(tmp_path.glob("*.jsonl"))
    assert len(files) == 1
    dapp = DebriefApp.for_path(files[0])
    async with dapp.run_test(size=(100, 40)) as pilot:
        await pilot.pause()
        screen = dapp.screen
        assert isinstance(screen, DebriefScreen)
        summary = str(screen.query_one("#debrief-summary").render())
        assert "911 called          at 0:10" in summary and "Lowest SpO2" in summary
        assert "R – Recognition" in str(screen.query_one("#debrief-rose").render())
        await pilot.press("s")
        await pilot.press("t")
        await pilot.pause()
        svg, txt = screen.exported
        assert svg.suffix == ".svg" and svg.read_text().lstrip().startswith("<svg")
        assert txt.read_text().startswith("oxi-assist debrief")
        txt.write_text("notes added by hand")  # a second export never replaces the first
        await pilot.press("t")
        await pilot.pause()
        again = screen.exported[-1]
        assert again.name == txt.name.replace(".txt", "-2.txt")
        assert txt.read_text() == "notes added by hand"
        assert again.read_text().startswith("oxi-assist debrief")
        await pilot.press("q")
    assert dapp.return_value == 0


def test_debrief_of_a_bad_file_fails_before_the_screen(tmp_path) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "broken.jsonl"
    bad.write_text("this is not a recording\n")
    with pytest.raises(OxiError):
        DebriefApp.for_path(bad)
