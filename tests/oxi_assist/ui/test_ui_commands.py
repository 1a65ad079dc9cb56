"""The commands' paths: the README's `oxi-assist demo` builds the real app on the simulator and
shows readings within a second; bad input is one line and exit 2 before any screen appears."""

from __future__ import annotations

import pytest
from textual.widgets import Digits

from drivers.clock import VirtualClock
from oxi_assist.cli import main
from oxi_assist.commands.demo import DEFAULT_SCENARIO, demo_uri
from oxi_assist.commands.replay import replay_uri
from oxi_assist.ui.debrief_screen import DebriefScreen
from oxi_assist.ui.launch import LiveOptions, build_app


async def test_demo_shows_readings_within_a_second_and_quits_on_q(tmp_path) -> None:  # type: ignore[no-untyped-def]
    clock = VirtualClock()
    opts = LiveOptions(seed=1, sessions_dir=str(tmp_path))
    app = build_app(demo_uri(DEFAULT_SCENARIO, opts), opts, clock=clock)
    assert app.simulated and app.scenarios and DEFAULT_SCENARIO in app.scenarios
    async with app.run_test(size=(80, 24)) as pilot:
        await clock.run_for(1.0)
        app.redraw()
        await pilot.pause()
        value = app.screen.query_one("#spo2-digits", Digits).value
        assert value.isdigit() and 50 <= int(value) <= 100
        assert "TRAINING / SIMULATED" in str(app.screen.query_one("#status").render())
        assert app.session.pleth and len(app.session.pleth) > 50  # 100 Hz waveform arriving
        await pilot.press("q", "E")
        await pilot.pause()
        assert isinstance(app.screen, DebriefScreen)
        await pilot.press("q", "Q")
        await pilot.pause()
    assert app.return_value == 0
    files = list((tmp_path).glob("*.jsonl"))
    assert len(files) == 1 and files[0].stat().st_size > 0


async def test_trainer_injects_reach_the_simulated_patient() -> None:
    clock = VirtualClock()
    opts = LiveOptions(seed=2, record=False)
    app = build_app(demo_uri(DEFAULT_SCENARIO, opts), opts, clock=clock, debrief_on_end=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await clock.run_for(5.0)
        await pilot.press("F")  # trainer: finger out of the probe
        await clock.run_for(15.0)
        app.redraw()
        await pilot.pause()
        assert app.screen.query_one("#spo2-digits", Digits).value == "--"
        assert "finger out" in str(app.screen.query_one("#band-line").render())
        await pilot.press("plus")
        assert app.source.speed == 2.0
        await pilot.press("P")
        assert app.source.paused
        await pilot.press("P")
        assert not app.source.paused
        await pilot.press("q", "E")
    assert app.return_value == 0


async def test_replay_command_path_plays_a_real_file(vectors) -> None:  # type: ignore[no-untyped-def]
    clock = VirtualClock()
    opts = LiveOptions(record=False)
    uri = replay_uri(str(vectors / "contec-cms50e-live.csv"), 10.0)
    app = build_app(uri, opts, clock=clock, debrief_on_end=False)
    assert app.replay and not app.simulated
    async with app.run_test(size=(80, 24)) as pilot:
        await clock.run_for(5.0)
        app.redraw()
        await pilot.pause()
        assert app.session.readings > 0
        assert "REPLAY" in str(app.screen.query_one("#status").render())
        await pilot.press("q", "E")
    assert app.return_value == 0


@pytest.mark.parametrize("argv, needle", [
    (["demo", "no-such-scenario"], "unknown scenario"),
    (["demo", "--speed", "50"], "--speed"),
    (["monitor", "nonsense"], "bad source URI"),
    (["monitor", "warp:x"], "unknown source scheme"),
    (["replay", "/no/such/file.csv"], "no such file"),
    (["guide", "--guidance", "no-such-guidance"], "guidance"),
])
def test_bad_input_is_one_line_and_exit_2(argv, needle, capsys) -> None:  # type: ignore[no-untyped-def]
    try:
        code = main(argv)
    except SystemExit as e:  # a bad option value is argparse's usage error
        code = e.code
    assert code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("oxi-assist") and needle in err
    assert ": error: " in err


async def test_guide_command_path_runs_without_any_source() -> None:
    clock = VirtualClock()
    app = build_app("", LiveOptions(record=False), clock=clock, debrief_on_end=False)
    assert app.source is None and not app.simulated
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("9")
        await clock.run_for(12.0)
        app.redraw()
        await pilot.pause()
        assert "GUIDE ONLY" in str(app.screen.query_one("#status").render())
        assert "NO OXIMETER" in str(app.screen.query_one("#band-line").render())
        assert any("911" in t.label for t in app.model.guide.timers)
        await pilot.press("q", "E")
    assert app.return_value == 0
