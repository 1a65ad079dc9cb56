"""The Textual App: live monitor, guidance, timers, alarms, trainer controls and debrief.

Data flow (the Toolong pattern): a worker feeds every item from the source into the `Session`
(`Session.run`); the screen never redraws per sample. A timer polls at most `redraw_hz` times a
second and redraws only when `Session.version` moved, so a 100 Hz pleth stream costs one redraw
per tick, not a hundred. Everything the screen shows is computed from the session and the
injected `Clock`, so a test with a `VirtualClock` gets the same screen every run.

Entry points: `OxiApp` (live, replay, simulated or guidance-only sessions) and
`run_debrief(path)` (the debrief screen for a recorded file, used by `oxi-assist debrief`).
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, ClassVar

from textual import work
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.css.query import NoMatches
from textual.screen import Screen
from textual.widgets import Footer

from drivers.clock import Clock, RealClock
from oxi_assist.actions import Action
from oxi_assist.ui.adapter import doubtful, from_session
from oxi_assist.ui.alarm_banner import FLASH_CHECK_HZ, AlarmBanner, flashes
from oxi_assist.ui.device_picker import DevicePicker, PickingSource
from oxi_assist.ui.event_log import EventLog
from oxi_assist.ui.guidance_panel import ActionKeys, GuidancePanel
from oxi_assist.ui.help_screen import HelpScreen
from oxi_assist.ui.link_status import StatusBar
from oxi_assist.ui.model import ScreenModel
from oxi_assist.ui.pleth import PlethView
from oxi_assist.ui.timers import TimersPanel
from oxi_assist.ui.trainer import ScenarioPicker, TrainerBar, next_speed
from oxi_assist.ui.trend_chart import TrendChart
from oxi_assist.ui.vitals_panel import VitalsPanel
from oxi_assist.vitals import Priority

#: (Session-making function) clock, source URI ("" for none), opened source or None → Session
SessionMaker = Callable[[Clock, str, Any], Any]
#: (source-opening function) URI, clock → Source
SourceOpener = Callable[[str, Clock], Any]

#: Signals that end the app cleanly, and the reason the recording's end record gives.
ENDING_SIGNALS: tuple[tuple[signal.Signals, str], ...] = tuple(
    (getattr(signal, name), why) for name, why in (("SIGTERM", "terminated"),
                                                   ("SIGHUP", "hang-up"))
    if hasattr(signal, name))

BELL_EVERY = 10.0  # s between bells while a high alarm is unanswered (IEC practice ≈ 10 s)

#: (key, Action, words): the responder keys; also offered in the command palette.
RESPONDER_BINDINGS: tuple[tuple[str, Action, str], ...] = (
    ("9", Action.CALLED_911, "911 called"),
    ("n", Action.NALOXONE, "Naloxone given"),
    ("space,t", Action.BREATH_TAP, "Breath tap (count their breathing)"),
    ("y", Action.BREATHING_NORMAL, "Breathing normal"),
    ("u", Action.BREATHING_NOT_NORMAL, "Breathing NOT normal"),
    ("a", Action.AWAKE, "Awake"),
    ("r", Action.RECOVERY_POSITION, "Recovery position"),
    ("e", Action.EMS_ARRIVED, "EMS arrived"),
    ("o", Action.OXYGEN, "Oxygen given"),
    ("w", Action.RESPONSIVE, "Responds to voice or touch"),
    ("x", Action.UNRESPONSIVE, "No response"),
)


@dataclass
class DrawStats:
    """What the redraw loop did: for the benchmark and for tests of the bounded rate."""

    redraws: int = 0
    skipped: int = 0
    latencies: list[float] | None = None  # seconds from a change to the painted screen


class MainScreen(Screen[None]):
    """The live screen. Its keys send responder actions to the app (and so to the session)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        *(Binding(k, f"app.act('{a.value}')", w, show=False) for k, a, w in RESPONDER_BINDINGS),
        Binding("b", "app.breaths", "Breaths on/off", show=False),
        Binding("k", "app.acknowledge", "Ack alarm"),
        Binding("p", "app.pause_alarms", "Pause 2 min"),
        Binding("question_mark", "app.help", "Help"),
        Binding("q", "app.end", "End"),
        Binding("P", "app.sim_pause", "Sim pause", show=False),
        Binding("plus,equals_sign", "app.sim_speed(1)", "Faster", show=False),
        Binding("minus", "app.sim_speed(-1)", "Slower", show=False),
        Binding("S", "app.pick_scenario", "Scenario", show=False),
        Binding("F", "app.finger", "Finger out/in", show=False),
        Binding("M", "app.motion", "Motion on/off", show=False),
    ]

    def compose(self) -> ComposeResult:
        yield StatusBar(id="status")
        yield AlarmBanner(id="alarm")
        with Horizontal(id="main"):
            with Vertical(id="left"):
                yield VitalsPanel(id="vitals")
                yield TrendChart(id="trend")
                yield PlethView(id="pleth")
            with Vertical(id="right"):
                yield GuidancePanel(id="guidance")
                yield ActionKeys(id="keys")
                yield TimersPanel(id="timers")
                yield EventLog(id="log")
        yield TrainerBar(id="trainer")
        yield Footer()

    ready = False

    def on_mount(self) -> None:
        self.call_after_refresh(self._ready)
        self.query_one("#trend").border_title = "SpO₂ trend"
        self.query_one("#pleth").border_title = "Pleth"
        self.query_one("#guidance").border_title = "Guidance"
        self.query_one("#timers").border_title = "Timers"
        self.query_one("#log").border_title = "Event log"
        self.query_one("#trainer").display = False

    def _ready(self) -> None:
        self.ready = True


#: Screens under which the live screen keeps being drawn: the device picker sits over a live
#: response (guidance, timers and alarms stay current beneath it).
LIVE_SCREENS: tuple[type[Screen[Any]], ...] = (MainScreen, DevicePicker)


class OxiApp(App[int]):
    CSS_PATH = "oxi.tcss"
    TITLE = "oxi-assist"
    ENABLE_COMMAND_PALETTE = True


    def __init__(self, *, make_session: SessionMaker, uri: str = "", source: Any = None,
                 clock: Clock | None = None, open_source: SourceOpener | None = None,
                 simulated: bool = False, replay: bool = False,
                 scenarios: Sequence[str] = (), scenario_uri: Callable[[str], str] | None = None,
                 debrief_on_end: bool = True, redraw_hz: float = 10.0,
                 tick_every: float = 0.25, measure_latency: bool = False,
                 redraw_every_change: bool = False, device_choice: Any = None,
                 handle_signals: bool = False) -> None:
        super().__init__()
        self.clock: Clock = clock or RealClock()
        self._make_session = make_session
        self._open_source = open_source
        self.uri = uri
        self.source = source
        self.simulated = simulated
        self.replay = replay
        self.scenarios = list(scenarios)
        self._scenario_uri = scenario_uri or (lambda name: f"sim:{name}")
        self.debrief_on_end = debrief_on_end
        self.redraw_hz = max(0.5, min(redraw_hz, 10.0))
        self.tick_every = tick_every
        # the naive design, kept only as the benchmark's baseline: a redraw per sample
        self.redraw_every_change = redraw_every_change
        self.session: Any = None
        self.model: ScreenModel | None = None
        self.stats = DrawStats(latencies=[] if measure_latency else None)
        self.bells = 0
        self._drawn_version = -1
        self._pending_since: float | None = None
        self._last_bell: float | None = None
        self._finger_out = False
        self._motion = False
        self.end_reason = ""
        self._device_choice = device_choice  # None: DeviceChoice() on first use
        self.handle_signals = handle_signals  # the process's own app: SIGTERM/SIGHUP end it

    # -- lifecycle ------------------------------------------------------------------------

    def on_mount(self) -> None:
        self.push_screen(MainScreen())
        if self.handle_signals:
            self._catch_ending_signals()
        self._start(self.source)
        self.set_interval(1.0 / self.redraw_hz, self.poll)
        self.set_interval(1.0 / FLASH_CHECK_HZ, self.flash)

    def _start(self, source: Any) -> None:
        if source is not None and self.uri.lower().startswith("ble:") and \
                not isinstance(source, PickingSource):
            source = PickingSource(source, uri=self.uri, clock=self.clock,
                                   ask=self._ask_device, reopen=self._reopen,
                                   choice=self._choice())
        self.source = source
        self.session = self._make_session(self.clock, self.uri, source)
        self.session.on_change = self._on_change
        self._drawn_version = -1
        self._drive(self.session, source)

    def _on_change(self) -> None:
        if self._pending_since is None:
            self._pending_since = time.perf_counter()
        if self.redraw_every_change:
            self.redraw()

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

    # -- drawing --------------------------------------------------------------------------

    def poll(self) -> None:
        """The bounded-rate redraw: draws only when the session changed since the last draw."""
        s = self.session
        if s is None or not isinstance(self.screen, LIVE_SCREENS):
            return
        if s.version == self._drawn_version:
            self.stats.skipped += 1
            return
        self.redraw()

    def flash(self) -> None:
        """Between redraws, moves a flashing alarm banner to the phase the clock gives now
        (only the banner; nothing else on screen changes with the flash)."""
        m = self.model
        if m is None or not flashes(m) or not isinstance(self.screen, LIVE_SCREENS):
            return
        m = replace(m, flash_t=self.clock.now())
        for screen in self.screen_stack:
            if isinstance(screen, MainScreen):
                with contextlib.suppress(NoMatches):
                    screen.query_one(AlarmBanner).show(m)
        self.model = m

    def build_model(self) -> ScreenModel:
        scenario = self.uri.partition(":")[2].partition("?")[0] if self.simulated else ""
        m = from_session(self.session, simulated=self.simulated, replay=self.replay,
                         source=self.source, scenario=scenario)
        return replace(m, flash_t=self.clock.now())

    def redraw(self) -> None:
        """Draws the whole main screen from the session now (tests call it after moving the
        virtual clock; the timer calls it when something changed)."""
        if self.session is None:
            return
        screen = self.screen if isinstance(self.screen, MainScreen) else None
        if screen is None:
            for s in self.screen_stack:
                if isinstance(s, MainScreen):
                    screen = s
            if screen is None:
                return
        if not screen.ready:
            return  # still composing; the next poll draws
        m = self.build_model()
        try:
            self._paint(screen, m)
        except NoMatches:
            return  # a widget is still being mounted; the next poll draws
        self.model = m
        self._drawn_version = self.session.version
        self._maybe_bell(m)
        self.stats.redraws += 1
        if self.stats.latencies is not None and self._pending_since is not None:
            since = self._pending_since
            self.call_after_refresh(
                lambda: self.stats.latencies.append(time.perf_counter() - since)  # type: ignore[union-attr]
            )
        self._pending_since = None

    def _paint(self, screen: MainScreen, m: ScreenModel) -> None:
        screen.query_one(StatusBar).show(m)
        screen.query_one(AlarmBanner).show(m)
        screen.query_one(VitalsPanel).show(m)
        screen.query_one(TrendChart).show(m.trend_t, m.trend_spo2, m.elapsed, m.trend_window)
        screen.query_one(PlethView).show(m.pleth, doubtful(m))
        screen.query_one(GuidancePanel).show(m.guide)
        screen.query_one(ActionKeys).show(m.guide)
        screen.query_one(TimersPanel).show(m.guide)
        screen.query_one(EventLog).show(m.log)
        screen.query_one(TrainerBar).show(m.trainer)

    def _maybe_bell(self, m: ScreenModel) -> None:
        a = m.alarm
        if a is None or a.priority is not Priority.HIGH or a.acknowledged or \
                (m.alarm_paused_for is not None and m.alarm_paused_for > 0):
            return
        now = self.clock.now()
        if self._last_bell is None or now - self._last_bell >= BELL_EVERY:
            self._last_bell = now
            self.bells += 1
            self.bell()

    # -- responder actions ----------------------------------------------------------------

    def action_act(self, name: str) -> None:
        action = Action(name)
        params: dict[str, Any] = {}
        st = getattr(self.session, "guide_state", None)
        for oa in getattr(st, "offered", ()) or ():
            if oa.action is action:
                params = oa.params_dict
                break
        self.session.on_action(action, **params)
        self.redraw()

    def action_breaths(self) -> None:
        st = getattr(self.session, "guide_state", None)
        on = bool(getattr(st, "breaths_on", False))
        self.action_act(Action.BREATHS_STOP.value if on else Action.BREATHS_START.value)

    def action_acknowledge(self) -> None:
        self.session.acknowledge()
        self.redraw()

    def action_pause_alarms(self) -> None:
        self.session.pause_alarms(120.0)
        self.redraw()

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(trainer=self.simulated))

    def action_end(self) -> None:
        """q: ends the response and shows the debrief (or quits when there is none)."""
        s = self.session
        if s is not None and not s.closed:
            s.on_action(Action.END)
            s.stop()
            s.close("responder ended the session")
            self.end_reason = "ended"
        if not self.debrief_on_end:
            self.exit(0)
            return
        from oxi_assist.ui.debrief_screen import DebriefScreen

        self.push_screen(DebriefScreen.for_session(s), lambda _: self.exit(0))

    # -- trainer --------------------------------------------------------------------------

    def _controllable(self) -> Any:
        src = self.source
        return src if self.simulated and callable(getattr(src, "inject", None)) else None

    def action_sim_pause(self) -> None:
        src = self._controllable()
        if src is None:
            return
        paused = getattr(src, "paused", False)
        paused = paused() if callable(paused) else paused
        (src.resume if paused else src.pause)()

        self.redraw()

    def action_sim_speed(self, step: int) -> None:
        src = self._controllable()
        if src is None:
            return
        speed = getattr(src, "speed", 1.0)
        speed = speed() if callable(speed) else speed
        src.set_speed(next_speed(float(speed), int(step)))
        self.redraw()

    def action_finger(self) -> None:
        if self._controllable() is None:
            return
        self._finger_out = not self._finger_out
        self.session.on_action("finger_out" if self._finger_out else "finger_in")
        self.redraw()

    def action_motion(self) -> None:
        if self._controllable() is None:
            return
        self._motion = not self._motion
        self.session.on_action("motion" if self._motion else "motion_off")
        self.redraw()

    def action_pick_scenario(self) -> None:
        if not self.simulated or not self.scenarios or self._open_source is None:
            return
        current = self.uri.partition(":")[2].partition("?")[0]
        self.push_screen(ScenarioPicker(self.scenarios, current), self._switch_scenario)

    def _switch_scenario(self, name: str | None) -> None:
        if not name or self._open_source is None:
            return
        old = self.session
        old.stop()
        old.close("trainer switched scenario")
        self.uri = self._scenario_uri(name)
        self._finger_out = self._motion = False
        speed = getattr(self.source, "speed", None)
        new = self._open_source(self.uri, self.clock)
        if isinstance(speed, int | float) and callable(getattr(new, "set_speed", None)):
            new.set_speed(float(speed))  # the trainer keeps the speed they chose
        self._start(new)
        self.redraw()

    # -- command palette ------------------------------------------------------------------

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        for key, action, words in RESPONDER_BINDINGS:
            yield SystemCommand(words, f"responder action (key {key.split(',')[0]})",
                                lambda a=action: self.action_act(a.value))
        yield SystemCommand("Breaths on/off", "start or stop rescue breaths (key b)",
                            self.action_breaths)
        yield SystemCommand("Acknowledge alarm", "key k", self.action_acknowledge)
        yield SystemCommand("Pause alarms 2 min", "key p", self.action_pause_alarms)
        yield SystemCommand("End session", "debrief follows (key q)", self.action_end)
        if self.simulated:
            yield SystemCommand("Trainer: pause/resume", "key P", self.action_sim_pause)
            yield SystemCommand("Trainer: faster", "key +", lambda: self.action_sim_speed(1))
            yield SystemCommand("Trainer: slower", "key -", lambda: self.action_sim_speed(-1))
            yield SystemCommand("Trainer: choose scenario", "key S", self.action_pick_scenario)
            yield SystemCommand("Trainer: finger out/in", "key F", self.action_finger)
            yield SystemCommand("Trainer: motion on/off", "key M", self.action_motion)

    # -- how the app ends: signals and failures ---------------------------------------------

    def _catch_ending_signals(self) -> None:
        """SIGTERM (a shutdown, `kill`) and SIGHUP (the terminal closed) end the session with
        its recording closed and saying why, instead of leaving it "interrupted"."""
        loop = asyncio.get_running_loop()
        for sig, why in ENDING_SIGNALS:
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.add_signal_handler(sig, self.end_by_signal, int(sig), why)

    def end_by_signal(self, signum: int, why: str) -> None:
        s = self.session
        if s is not None and not s.closed:
            s.stop()
            s.close(why)
        self.end_reason = why
        self.exit(return_code=128 + signum)

    def _close_reason(self) -> str:
        """Why the app is closing with the session still open: a failure of ours (Textual keeps
        the exception that ended the app and sets a non-zero return code) or a plain close."""
        err = getattr(self, "_exception", None)
        if err is not None:
            return f"failed: {type(err).__name__}: {err}"
        if self.return_code:
            return f"failed (exit code {self.return_code})"
        return "app closed"

    async def on_unmount(self) -> None:
        s = self.session
        if s is not None and not s.closed:
            s.stop()
            s.close(self._close_reason())


def run_debrief(path: str | Path) -> int:
    """Shows the debrief screen for a recorded file on the terminal (used by
    `oxi-assist debrief FILE` when stdout is a terminal). Raises OxiError on a bad file, before
    the UI starts."""
    from oxi_assist.ui.debrief_screen import DebriefApp

    app = DebriefApp.for_path(path)
    result = app.run()
    return int(result or 0)
