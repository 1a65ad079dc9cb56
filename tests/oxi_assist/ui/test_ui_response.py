"""The live screen through a whole response, key by key and tap by tap, on a VirtualClock with
the real Session, Monitor and guide: ending never takes one key, every guidance line and core
key is whole at 80×24, a narrow screen keeps guidance and keys first, a tap sends what a key
sends, the log reads plainly, and alarms reach the banner without waiting for the next tick."""

from __future__ import annotations

import re

import pytest
from textual.widgets import Static

from oxi_assist.actions import KEYS
from oxi_assist.ui.action_keys import ActionKeys
from oxi_assist.ui.alarm_banner import AlarmBanner
from oxi_assist.ui.app import OxiApp
from oxi_assist.ui.confirm import ConfirmScreen
from oxi_assist.ui.cue_banner import CUE_SECONDS, CueBanner
from oxi_assist.ui.debrief_screen import DebriefScreen
from oxi_assist.ui.guidance_panel import GuidancePanel
from oxi_assist.ui.handout_screen import HandoutScreen
from oxi_assist.ui.help_screen import HelpScreen
from oxi_assist.ui.live_screen import MainScreen
from oxi_assist.ui.more_actions import MoreActions
from oxi_assist.ui.trainer import TrainerBar
from oxi_assist.ui.trend_chart import TrendChart
from oxi_assist.vitals import Priority
from tests.oxi_assist.ui.fixtures import (
    ControllableScript,
    NarratedScript,
    ScriptedSource,
    chip_offset,
    falling,
    make_app,
    region_words,
    screen_lines,
)


async def step(app: OxiApp, clock, pilot, seconds: float) -> None:  # type: ignore[no-untyped-def]
    await clock.run_for(seconds)
    app.redraw()
    await pilot.pause()


async def keys(app: OxiApp, clock, pilot, *pressed: str, gap: float = 2.0) -> None:  # type: ignore[no-untyped-def]
    for k in pressed:
        await pilot.press(k)
        await clock.run_for(gap)
    app.redraw()
    await pilot.pause()


# ---------------------------------------------------------------- ending takes two choices

async def test_a_single_q_does_not_end_an_active_response() -> None:
    app, clock = make_app(lambda c: ScriptedSource(c))
    async with app.run_test(size=(80, 24)) as pilot:
        await step(app, clock, pilot, 3)
        await keys(app, clock, pilot, "x", "9")  # no response, 911 called: under way
        assert app.session.response_active
        await pilot.press("q")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        assert "response is still under way" in str(app.screen.query_one("#confirm-detail")
                                                     .render())
        await pilot.press("q")  # q again: keep going, never "yes"
        await pilot.pause()
        assert isinstance(app.screen, MainScreen) and not app.session.closed
        for second in ("enter", "e", "y", "escape"):  # Enter is on "Keep going"
            await pilot.press("q", second)
            await pilot.pause()
            assert not app.session.closed, second
            if isinstance(app.screen, ConfirmScreen):
                await pilot.press("escape")
                await pilot.pause()
        await pilot.press("q", "E")
        await pilot.pause()
        assert app.session.closed and isinstance(app.screen, DebriefScreen)


async def test_ctrl_q_and_the_palette_quit_ask_first_too() -> None:
    app, clock = make_app(lambda c: ScriptedSource(c))
    async with app.run_test(size=(80, 24)) as pilot:
        await step(app, clock, pilot, 3)
        await pilot.press("ctrl+q")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen) and not app.session.closed
        assert "End this session?" in str(app.screen.query_one("#confirm-question").render())
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, MainScreen) and app.return_value is None


async def test_q_in_help_neither_closes_it_nor_ends_the_response() -> None:
    app, clock = make_app(lambda c: ScriptedSource(c))
    async with app.run_test(size=(80, 24)) as pilot:
        await keys(app, clock, pilot, "x")
        await pilot.press("question_mark", "q", "q")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen) and not app.session.closed
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, MainScreen) and not app.session.closed


async def test_escape_on_the_debrief_does_not_quit() -> None:
    app, clock = make_app(lambda c: ScriptedSource(c))
    async with app.run_test(size=(80, 24)) as pilot:
        await keys(app, clock, pilot, "x", "b")
        await pilot.press("q", "E")
        await pilot.pause()
        assert isinstance(app.screen, DebriefScreen)
        await pilot.press("escape", "escape")
        await pilot.pause()
        assert isinstance(app.screen, DebriefScreen) and app.return_value is None
        await pilot.press("q")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        assert "not recorded" in str(app.screen.query_one("#confirm-detail").render())
        await pilot.press("q")  # q twice stays on the debrief
        await pilot.pause()
        assert isinstance(app.screen, DebriefScreen) and app.return_value is None
        await pilot.press("q", "Q")
        await pilot.pause()
    assert app.return_value == 0


# ---------------------------------------------------------------- 80×24: nothing cut

#: A response that visits the steps a real one does: stimulate → call 911 → airway →
#: ventilate → medication → evaluate and support.
RESPONSE = ("x", "9", "u", "b", "u", "n", "u")


def _guidance_sentences(app: OxiApp) -> list[str]:
    st = app.session.guide_state
    prompts = [p.text for p in (*st.warnings, *st.suggestions)]
    return [st.step.title, *st.step.lines, *prompts]


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=lambda s: f"{s[0]}x{s[1]}")
async def test_every_guidance_line_prompt_and_core_key_is_whole(size) -> None:  # type: ignore[no-untyped-def]
    app, clock = make_app(lambda c: ControllableScript(c, spo2=falling(97, 20, 0.3, floor=84)),
                          uri="sim:opioid-overdose", simulated=True)
    async with app.run_test(size=size) as pilot:
        await step(app, clock, pilot, 5)
        seen_steps = set()
        for k in ("", *RESPONSE):
            if k:
                await keys(app, clock, pilot, k, gap=3.0)
            seen_steps.add(app.session.guide_state.step.id)
            words = region_words(app, app.screen.query_one(GuidancePanel))
            for sentence in _guidance_sentences(app):
                assert " ".join(sentence.split()) in words, (k, sentence)
            chips = region_words(app, app.screen.query_one(ActionKeys)).lower()
            for core in ("9 911", "b st", "n naloxone", "m ", "c st"):
                assert core in chips, (k, core)
            log = app.screen.query_one("#log")
            assert log.content_region.height >= 2  # the event log keeps rows
        assert {"stimulate", "call-911", "ventilate", "medication",
                "evaluate-support"} <= seen_steps


# ---------------------------------------------------------------- the narrow layout

@pytest.mark.parametrize("size", [(45, 40), (60, 30)], ids=lambda s: f"{s[0]}x{s[1]}")
async def test_narrow_screen_shows_guidance_then_the_core_keys(size) -> None:  # type: ignore[no-untyped-def]
    app, clock = make_app(lambda c: ScriptedSource(c))
    async with app.run_test(size=size) as pilot:
        await step(app, clock, pilot, 3)
        await keys(app, clock, pilot, "x")
        screen = app.screen
        assert isinstance(screen, MainScreen) and screen.narrow
        lines = screen_lines(app)
        text = "\n".join(lines)
        st = app.session.guide_state
        guidance = screen.query_one(GuidancePanel)
        keys_w = screen.query_one(ActionKeys)
        # guidance first, then the keys, both on the first screenful
        assert guidance.region.y < keys_w.region.y
        assert keys_w.region.bottom <= size[1]
        words = region_words(app, guidance)
        assert all(" ".join(s.split()) in words for s in (st.step.title, *st.step.lines))
        for core in (" 9  911", " b  Start breaths", " n  naloxone", " m  nasal", " c  Start CPR"):
            assert core in text, core
        chip_rows = [ln for ln in lines if " 9  911" in ln]
        y = lines.index(chip_rows[0])
        assert lines[y - 1].strip() == "" and lines[y + 1].strip() == ""  # 3 rows a chip
        # no panel left out, and the trend chart is short, not the whole screen
        for sel in ("#vitals-line", "#timers", "#log", "#trend", "#pleth", "#prompts"):
            assert screen.query(sel), sel
        assert screen.query_one(TrendChart).region.height <= 10


async def test_the_layout_follows_the_terminal_width() -> None:
    app, clock = make_app(lambda c: ScriptedSource(c))
    async with app.run_test(size=(80, 24)) as pilot:
        await step(app, clock, pilot, 3)
        assert not app.screen.narrow  # type: ignore[attr-defined]
        await pilot.resize_terminal(45, 40)
        for _ in range(10):
            await pilot.pause()
        assert app.screen.narrow  # type: ignore[attr-defined]
        await step(app, clock, pilot, 1)
        assert "911" in region_words(app, app.screen.query_one(ActionKeys))
        # back and forth faster than a layout is built: it ends in the layout of the last size
        await pilot.resize_terminal(100, 30)
        await pilot.resize_terminal(45, 40)
        await pilot.resize_terminal(100, 30)
        for _ in range(20):
            await pilot.pause()
        assert not app.screen.narrow and app.screen.ready  # type: ignore[attr-defined]


# ---------------------------------------------------------------- taps send what keys send

#: (key, its chip's words on a wide screen, on a narrow one), in the order pressed
PRESSES = (("x", "x No response", " x  no response"), ("9", "9 911", " 9  911"),
           ("b", "b Start breaths", " b  Start breaths"), ("c", "c Start CPR", " c  Start CPR"),
           ("n", "n Naloxone (injection)", " n  naloxone"),
           ("m", "m Naloxone (nasal)", " m  nasal"), ("b", "b Stop breaths", " b  Stop breaths"),
           ("c", "c Stop CPR", " c  Stop CPR"))


async def _press_all(app: OxiApp, clock, pilot) -> list[tuple[str, dict]]:  # type: ignore[no-untyped-def]
    for k, _, _ in PRESSES:
        await keys(app, clock, pilot, k, gap=1.0)
    return [(a.name, a.params) for a in app.session.actions]


async def _click_all(app: OxiApp, clock, pilot, selector: str = "#keys") -> list[tuple[str, dict]]:  # type: ignore[no-untyped-def]
    for _, wide, tall in PRESSES:
        words = tall if app.screen.query_one(ActionKeys).tall else wide
        await pilot.click(selector, offset=chip_offset(app, selector, words))
        await clock.run_for(1.0)
        app.redraw()
        await pilot.pause()
    return [(a.name, a.params) for a in app.session.actions]


@pytest.mark.parametrize("size", [(120, 40), (45, 40)], ids=lambda s: f"{s[0]}x{s[1]}")
async def test_clicking_a_chip_sends_exactly_what_its_key_sends(size) -> None:  # type: ignore[no-untyped-def]
    typed_app, clock = make_app(lambda c: ScriptedSource(c))
    async with typed_app.run_test(size=size) as pilot:
        await step(typed_app, clock, pilot, 2)
        typed = await _press_all(typed_app, clock, pilot)
    tapped_app, clock = make_app(lambda c: ScriptedSource(c))
    async with tapped_app.run_test(size=size) as pilot:
        await step(tapped_app, clock, pilot, 2)
        tapped = await _click_all(tapped_app, clock, pilot)
    assert tapped == typed
    assert [n for n, _ in typed] == ["unresponsive", "911", "breaths", "compressions",
                                     "naloxone", "naloxone", "breaths_stop", "compressions_stop"]
    assert typed[4][1]["route"] == "im" and typed[5][1]["route"] == "nasal"


async def test_every_action_is_a_tap_away_through_more() -> None:
    app, clock = make_app(lambda c: ScriptedSource(c))
    async with app.run_test(size=(45, 40)) as pilot:
        await step(app, clock, pilot, 2)
        await pilot.click("#keys", offset=chip_offset(app, "#keys", " …  more"))
        await pilot.pause()
        sheet = app.screen
        assert isinstance(sheet, MoreActions)
        words = str(sheet.query_one("#more-keys", Static).content)
        for kb in KEYS:
            assert re.search(rf"(^|\s){re.escape(kb.shown)}  ?[A-Za-z0-9]", words), kb.id
        await pilot.click("#more-keys", offset=chip_offset(app, "#more-keys", " 0  no pulse"))
        await pilot.pause()
        assert isinstance(app.screen, MainScreen)
        assert app.session.actions[-1].name == "no_pulse"


# ---------------------------------------------------------------- the event log

async def test_the_log_on_screen_is_plain_in_order_and_without_echoes() -> None:
    app, clock = make_app(lambda c: ScriptedSource(c, spo2=falling(97, 10, 1.0, floor=75),
                                                   finger_out=(60.0, 80.0)))
    async with app.run_test(size=(120, 40)) as pilot:
        await step(app, clock, pilot, 5)
        await keys(app, clock, pilot, "x", "9", "b", "n")
        await step(app, clock, pilot, 70)
        log = app.model.log
        texts = [ln.text for ln in log]
        assert [ln.t for ln in log] == sorted(ln.t for ln in log)
        for want in ("911 called", "Rescue breaths started", "Naloxone dose 1 (injection)"):
            assert texts.count(want) == 1
        assert "Alarm (high): Finger out / probe off" in texts  # high: during the response
        for t in texts:
            assert not re.search(r"=|desat|_|^(high|medium|low)\b|^\w+: \w+ raised", t), t
        assert not any(t.lower() in ("911", "naloxone dose 1 (injection)") and t != "911 called"
                       and not t.startswith("Naloxone") for t in texts)
        shown = region_words(app, app.screen.query_one("#log"))
        assert "Alarm (high): Finger out / probe off" in shown


# ---------------------------------------------------------------- alarms: priority, speed

async def test_finger_out_mid_response_is_a_high_alarm_and_before_it_medium() -> None:
    app, clock = make_app(lambda c: ScriptedSource(c, finger_out=(10.0, 30.0)))
    async with app.run_test(size=(80, 24)) as pilot:
        await step(app, clock, pilot, 15)
        assert app.model.alarm is not None and app.model.alarm.kind == "finger_out"
        assert app.model.alarm.priority is Priority.MEDIUM
        await keys(app, clock, pilot, "x")  # the person does not respond: a response
        assert app.model.alarm.priority is Priority.HIGH
        assert "HIGH" in str(app.screen.query_one(AlarmBanner).render())


@pytest.mark.parametrize("at_once", [True, False])
async def test_an_alarm_reaches_the_banner_without_the_poll(at_once: bool) -> None:
    app, clock = make_app(lambda c: ScriptedSource(c, finger_out=(5.0, 60.0)),
                          redraw_on_alert=at_once)
    async with app.run_test(size=(80, 24)) as pilot:
        app.poll = lambda: None  # type: ignore[method-assign]  # no tick at all
        await clock.run_for(2)
        app.redraw()
        await pilot.pause()
        banner = app.screen.query_one(AlarmBanner)
        assert "No active alarm" in str(banner.render())
        await clock.run_for(10)  # finger out from 5 s, raised after its 2 s delay
        await pilot.pause()
        raised = "Finger out" in str(banner.render())
        assert raised is at_once
        assert (app.stats.alert_redraws > 0) is at_once


# ---------------------------------------------------------------- handout, cue, trainer

async def test_the_handout_is_one_key_away_and_the_cue_shows_at_the_start() -> None:
    app, clock = make_app(lambda c: ScriptedSource(c))
    async with app.run_test(size=(80, 24)) as pilot:
        await step(app, clock, pilot, 3)
        cue = app.screen.query_one(CueBanner)
        assert cue.display and "cleanest finger" in region_words(app, cue).lower()
        chips = region_words(app, app.screen.query_one(ActionKeys))
        assert "9 911" in chips and "n naloxone" in chips  # the cue hides no core key
        await pilot.press("i")
        await pilot.pause()
        assert isinstance(app.screen, HandoutScreen)
        text = str(app.screen.query_one("#handout-text").render())
        assert "cleanest finger" in text.lower() and "(BC)" not in text.split("\n")[0]
        await pilot.press("q")  # not a way out of the handout (nor into the end question)
        await pilot.pause()
        assert isinstance(app.screen, HandoutScreen)
        await pilot.press("escape")
        await pilot.pause()
        await step(app, clock, pilot, CUE_SECONDS)
        assert not app.screen.query_one(CueBanner).display


async def test_no_placement_cue_without_an_oximeter() -> None:
    app, clock = make_app(lambda c: None)
    async with app.run_test(size=(80, 24)) as pilot:
        await step(app, clock, pilot, 3)
        assert not app.screen.query_one(CueBanner).display


async def test_the_cue_can_be_tapped_away() -> None:
    app, clock = make_app(lambda c: ScriptedSource(c))
    async with app.run_test(size=(80, 24)) as pilot:
        await step(app, clock, pilot, 3)
        await pilot.click("#cue", offset=chip_offset(app, "#cue", "✕"))
        await step(app, clock, pilot, 1)
        assert not app.screen.query_one(CueBanner).display


async def test_trainer_bar_says_how_the_simulated_patient_is() -> None:
    app, clock = make_app(lambda c: NarratedScript(c, status="CARDIAC ARREST"),
                          uri="sim:opioid-overdose", simulated=True)
    async with app.run_test(size=(100, 30)) as pilot:
        await step(app, clock, pilot, 3)
        assert "CARDIAC ARREST" in str(app.screen.query_one(TrainerBar).render())
        await pilot.press("P")
        assert app.source.paused
    plain, clock = make_app(lambda c: ControllableScript(c), uri="sim:opioid-overdose",
                            simulated=True)
    async with plain.run_test(size=(100, 30)) as pilot:
        await step(plain, clock, pilot, 3)
        bar = str(plain.screen.query_one(TrainerBar).render())
        assert "TRAINER" in bar and "CARDIAC" not in bar


async def test_palette_and_help_list_every_key_of_the_table() -> None:
    app, _clock = make_app(lambda c: ScriptedSource(c))
    async with app.run_test(size=(100, 40)) as pilot:
        titles = {c.title for c in app.get_system_commands(app.screen)}
        assert {kb.label for kb in KEYS} <= titles
        await pilot.press("question_mark")
        await pilot.pause()
        text = " ".join(screen_lines(app))
        for kb in KEYS:
            assert kb.keys.split(",")[0] in text
        assert "rescue breaths on (metronome" in text and "no pulse (if trained)" in text
