"""The Textual App: live monitor, guidance, timers, alarms, trainer controls and debrief.

Data flow (the Toolong pattern): a worker feeds every item from the source into the `Session`
(`Session.run`); the screen never redraws per sample. A timer polls at most `redraw_hz` times a
second and redraws only when `Session.version` moved, so a 100 Hz pleth stream costs one redraw
per tick, not a hundred. An alarm raised, cleared or escalated, and new guidance (a step, a
prompt, a timer alert) are drawn at once instead (`Session.on_alert`): the banner does not wait
for the next tick. Everything the screen shows is computed from the session and the injected
`Clock`, so a test with a `VirtualClock` gets the same screen every run.

Keys, chips, the palette and the help screen all come from the action table
(oxi_assist.actions): a chip sends `app.press(KEY)`, exactly what the key sends. Keys that end
something ask first (`q` → a question answered with E, never `q` again).

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

from textual import events, work
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.css.query import NoMatches
from textual.screen import ModalScreen, Screen
from textual.widgets import Footer

from drivers.clock import Clock, RealClock
from drivers.reading import Trainable
from oxi_assist.actions import KEYS, Action, key_by_id
from oxi_assist.monitor.priority import Priority
from oxi_assist.ui.action_keys import ActionKeys
from oxi_assist.ui.adapter import all_key_views, from_session, key_action, start_cue
from oxi_assist.ui.alarm_banner import FLASH_CHECK_HZ, AlarmBanner, flashes
from oxi_assist.ui.confirm import ConfirmScreen
from oxi_assist.ui.cue_banner import CUE_SECONDS, CueBanner
from oxi_assist.ui.device_picker import DevicePicker, PickingSource
from oxi_assist.ui.event_log import EventLog
from oxi_assist.ui.guidance_panel import GuidancePanel, PromptPanel
from oxi_assist.ui.handout_screen import HandoutScreen
from oxi_assist.ui.help_screen import HelpScreen
from oxi_assist.ui.link_status import StatusBar
from oxi_assist.ui.model import NoteView, ScreenModel
from oxi_assist.ui.more_actions import MoreActions
from oxi_assist.ui.panel import Painted
from oxi_assist.ui.pleth import PlethView
from oxi_assist.ui.timers import TimersPanel
from oxi_assist.ui.trainer import ScenarioPicker, TrainerBar, next_speed
from oxi_assist.ui.trend_chart import TrendChart
from oxi_assist.ui.vitals_line import VitalsLine
from oxi_assist.ui.vitals_panel import VitalsPanel

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

#: Below this many columns the screen is one column, guidance first (a phone in a browser
#: through textual-serve is about 40–48 columns wide).
NARROW_BELOW = 74

#: The key that ends a response from the confirmation (a capital: never the `q` pressed twice).
END_KEY = "E"


@dataclass
class DrawStats:
    """What the redraw loop did: for the benchmark and for tests of the bounded rate."""

    redraws: int = 0
    skipped: int = 0
    latencies: list[float] | None = None  # seconds from a change to the painted screen
    #: seconds from an alarm or guidance change to the painted screen
    alert_latencies: list[float] | None = None
    alert_redraws: int = 0  # redraws made at once for an alarm or guidance change


class MainScreen(Screen[None]):
    """The live screen. Its keys send responder actions to the app (and so to the session).

    Two layouts: wide (two columns — vitals, timers, trend and pleth on the left; guidance
    with its prompts, the keys and the event log on the right) and, below `NARROW_BELOW`
    columns, one scrolling column with the guidance first, then the keys as tall chips, the
    prompts, the vitals in words, timers, the log, a short trend and the pleth. No panel is
    left out of either; crossing the width rebuilds the screen in the other layout."""

    BINDINGS: ClassVar[list[BindingType]] = [
        *(Binding(kb.keys, f"app.press('{kb.id}')", kb.label, show=False) for kb in KEYS),
        Binding("k", "app.acknowledge", "Ack alarm"),
        Binding("p", "app.pause_alarms", "Pause 2 min"),
        Binding("i", "app.handout", "Handout"),
        Binding("question_mark", "app.help", "Help"),
        Binding("q", "app.end", "End"),
        Binding("P", "app.sim_pause", "Sim pause", show=False),
        Binding("plus,equals_sign", "app.sim_speed(1)", "Faster", show=False),
        Binding("minus", "app.sim_speed(-1)", "Slower", show=False),
        Binding("S", "app.pick_scenario", "Scenario", show=False),
        Binding("F", "app.finger", "Finger out/in", show=False),
        Binding("M", "app.motion", "Motion on/off", show=False),
    ]

    #: A short terminal (24 rows) gives the trend and the pleth their least room.
    VERTICAL_BREAKPOINTS: ClassVar[list[tuple[int, str]] | None] = [(0, "-short"),
                                                                      (30, "-tall")]

    def __init__(self) -> None:
        super().__init__()
        self.narrow = False
        self.ready = False
        self.painted: list[Painted] = []

    def compose(self) -> ComposeResult:
        self.narrow = self.app.size.width < NARROW_BELOW
        yield StatusBar(id="status")
        yield AlarmBanner(id="alarm")
        if self.narrow:
            with VerticalScroll(id="column"):
                yield GuidancePanel(id="guidance", with_prompts=False)
                yield ActionKeys(id="keys", tall=True)
                yield PromptPanel(id="prompts")
                yield CueBanner(id="cue")
                yield VitalsLine(id="vitals-line")
                yield TimersPanel(id="timers")
                yield EventLog(id="log", events=8)
                yield TrendChart(id="trend")
                yield PlethView(id="pleth")
        else:
            yield CueBanner(id="cue")
            with Horizontal(id="main"):
                with Vertical(id="left"):
                    yield VitalsPanel(id="vitals")
                    yield TimersPanel(id="timers")
                    yield TrendChart(id="trend")
                    yield PlethView(id="pleth")
                with VerticalScroll(id="right"):
                    yield GuidancePanel(id="guidance")
                    yield ActionKeys(id="keys")
                    yield EventLog(id="log")
        yield TrainerBar(id="trainer")
        yield Footer()

    def on_mount(self) -> None:
        self._composed()

    def _composed(self) -> None:
        self.set_class(self.narrow, "-narrow")
        titles = {"#trend": "SpO₂ trend", "#pleth": "Pleth", "#guidance": "Guidance",
                  "#timers": "Timers", "#log": "Event log"}
        for sel, title in titles.items():
            self.query_one(sel).border_title = title
        self.query_one("#trainer").display = False
        self.query_one("#cue").display = False
        self.painted = [w for w in self.query("*") if isinstance(w, Painted)]
        self.call_after_refresh(self._ready)

    def _ready(self) -> None:
        if (self.size.width < NARROW_BELOW) != self.narrow:
            self._start_relayout()  # the width crossed back while this layout was built
            return
        self.ready = True
        app = self.app
        if isinstance(app, OxiApp):
            app.redraw()

    def on_resize(self, event: events.Resize) -> None:
        if (event.size.width < NARROW_BELOW) != self.narrow and self.ready:
            self._start_relayout()

    def _start_relayout(self) -> None:
        self.ready = False
        self.run_worker(self._relayout(), exclusive=True, group="layout")

    async def _relayout(self) -> None:
        await self.recompose()
        self._composed()
        self.refresh_bindings()  # the new footer lists the keys again


def _live(screen: Screen[Any]) -> bool:
    """Screens under or over which the live screen keeps being drawn: the main screen itself
    and anything shown over it (the device picker, the end question, help, the handout)."""
    return isinstance(screen, MainScreen | ModalScreen)


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
                 redraw_on_alert: bool = True, handle_signals: bool = False,
                 mark: str = "") -> None:
        super().__init__()
        self.mark = mark  # the status line's mode, when not the source's (see ScreenModel)
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
        # an alarm or a guidance change is drawn at once, not at the next poll (off only for
        # the benchmark's poll-only baseline)
        self.redraw_on_alert = redraw_on_alert
        self.session: Any = None
        self.model: ScreenModel | None = None
        self.stats = DrawStats(latencies=[] if measure_latency else None,
                               alert_latencies=[] if measure_latency else None)
        self.bells = 0
        self._drawn_version = -1
        self._pending_since: float | None = None
        self._alert_since: float | None = None
        self._alert_queued = False
        self._last_bell: float | None = None
        self._finger_out = False
        self._motion = False
        self._cue: NoteView | None = None
        self._cue_taken = False
        self._cue_hidden = False
        self.end_reason = ""
        self._device_choice = device_choice  # None: DeviceChoice() on first use
        self.handle_signals = handle_signals  # the process's own app: SIGTERM/SIGHUP end it

    # -- lifecycle ------------------------------------------------------------------------

    def on_mount(self) -> None:
        if self.handle_signals:
            self._catch_ending_signals()
        self.set_interval(1.0 / self.redraw_hz, self.poll)
        self.set_interval(1.0 / FLASH_CHECK_HZ, self.flash)
        self.begin()

    def begin(self) -> None:
        """The first screen and the session (a class station begins otherwise)."""
        self.push_screen(MainScreen())
        self._start(self.source)

    def _start(self, source: Any) -> None:
        if source is not None and self.uri.lower().startswith("ble:") and \
                not isinstance(source, PickingSource):
            source = PickingSource(source, uri=self.uri, clock=self.clock,
                                   ask=self._ask_device, reopen=self._reopen,
                                   choice=self._choice())
        self.source = source
        self.session = self._make_session(self.clock, self.uri, source)
        self.session.on_change = self._on_change
        self.session.on_alert = self._on_alert
        self._drawn_version = -1
        self._cue, self._cue_taken, self._cue_hidden = None, False, False
        self._drive(self.session, source)

    def _on_change(self) -> None:
        if self._pending_since is None:
            self._pending_since = time.perf_counter()
        if self.redraw_every_change:
            self.redraw()

    def _on_alert(self) -> None:
        """An alarm or the guidance changed: drawn as soon as the session's work returns to
        the event loop (once, however many changes came together)."""
        if self._alert_since is None:
            self._alert_since = time.perf_counter()
        if self.redraw_on_alert and not self._alert_queued:
            self._alert_queued = True
            self.call_next(self._alert_redraw)

    def _alert_redraw(self) -> None:
        self._alert_queued = False
        if self.session is not None and _live(self.screen):
            self.stats.alert_redraws += 1
            self.redraw(urgent_only=True)

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
        if s is None or not _live(self.screen):
            return
        if s.version == self._drawn_version:
            self.stats.skipped += 1
            return
        self.redraw()

    def _main(self) -> MainScreen | None:
        for screen in reversed(self.screen_stack):
            if isinstance(screen, MainScreen):
                return screen
        return None

    def flash(self) -> None:
        """Between redraws, moves a flashing alarm banner to the phase the clock gives now
        (only the banner; nothing else on screen changes with the flash)."""
        m = self.model
        if m is None or not flashes(m) or not _live(self.screen):
            return
        m = replace(m, flash_t=self.clock.now())
        screen = self._main()
        if screen is not None and screen.ready:
            with contextlib.suppress(NoMatches):
                screen.query_one(AlarmBanner).paint(m)
        self.model = m

    def build_model(self) -> ScreenModel:
        s = self.session
        scenario = self.uri.partition(":")[2].partition("?")[0] if self.simulated else ""
        if not self._cue_taken:  # the placement cue of the step the session starts on
            self._cue_taken = True
            self._cue = start_cue(s.guide_state)
        show_cue = (bool(s.source_label) and not self._cue_hidden
                    and s.elapsed() < CUE_SECONDS)
        m = from_session(s, simulated=self.simulated, replay=self.replay,
                         source=self.source, scenario=scenario, cue=self._cue,
                         show_cue=show_cue)
        return replace(m, flash_t=self.clock.now(), mark=self.mark)

    def redraw(self, urgent_only: bool = False) -> None:
        """Draws the whole main screen from the session now (tests call it after moving the
        virtual clock; the timer calls it when something changed). An alarm or a guidance
        change draws at once what it concerns (`urgent_only`: the banner, the figures, the
        guidance, the keys and the log); the trend, the pleth and the timers follow at the next
        tick."""
        if self.session is None:
            return
        screen = self._main()
        if screen is None or not screen.ready:
            return  # still composing; it draws when ready
        m = self.build_model()
        try:
            for w in screen.painted:
                if w.URGENT or not urgent_only:
                    w.paint(m)
        except NoMatches:
            return  # a widget is still being mounted; the next poll draws
        self.model = m
        if not urgent_only:
            self._drawn_version = self.session.version
        self._maybe_bell(m)
        self.stats.redraws += 1
        now = time.perf_counter
        if self.stats.latencies is not None and self._pending_since is not None \
                and not urgent_only:
            since = self._pending_since
            self.call_after_refresh(
                lambda: self.stats.latencies.append(now() - since)  # type: ignore[union-attr]
            )
        if self.stats.alert_latencies is not None and self._alert_since is not None:
            since_alert = self._alert_since
            self.call_after_refresh(
                lambda: self.stats.alert_latencies.append(  # type: ignore[union-attr]
                    now() - since_alert))
        if not urgent_only:
            self._pending_since = None
        self._alert_since = None

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

    def action_press(self, key_id: str) -> None:
        """A responder key, a tap on its chip or its palette command: the same action."""
        kb = key_by_id(key_id)
        s = self.session
        if kb is None or s is None or s.closed:
            return
        s.on_action(key_action(kb, s), **dict(kb.params))
        self.redraw()

    def action_more_actions(self) -> None:
        if isinstance(self.screen, MoreActions) or self.session is None:
            return
        self.push_screen(MoreActions(all_key_views(self.session)),
                         lambda key_id: self.action_press(key_id) if key_id else None)

    def action_acknowledge(self) -> None:
        self.session.acknowledge()
        self.redraw()

    def action_pause_alarms(self) -> None:
        self.session.pause_alarms(120.0)
        self.redraw()

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(trainer=self.simulated))

    def action_handout(self) -> None:
        if isinstance(self.screen, HandoutScreen):
            return
        m = self.model or self.build_model()
        self.push_screen(HandoutScreen(m.guide.handout or ((m.guide.cue,) if m.guide.cue
                                                           else ())))

    def action_hide_cue(self) -> None:
        self._cue_hidden = True
        self.redraw()

    def action_end(self) -> None:
        """q: asks whether to end (never ends on one press), then the debrief."""
        s = self.session
        if s is None or s.closed:
            self._after_end()
            return
        if isinstance(self.screen, ConfirmScreen):
            return
        if s.response_active:
            question = "End this response?"
            detail = ("The response is still under way. Ending it stops the guidance and the "
                      "timers and opens the debrief.")
            yes = "End response"
        else:
            question = "End this session?"
            detail = "The guidance and the timers stop and the debrief opens."
            yes = "End session"
        self.push_screen(ConfirmScreen(question, detail, yes=yes, yes_key=END_KEY),
                         self._end_answer)

    async def action_quit(self) -> None:
        """ctrl+q and the palette's "Quit" ask first too while a session runs."""
        s = self.session
        if s is not None and not s.closed:
            self.action_end()
            return
        self.exit(0)

    def _end_answer(self, yes: bool | None) -> None:
        if not yes:
            return
        s = self.session
        if s is not None and not s.closed:
            s.on_action(Action.END)
            s.stop()
            s.close("responder ended the session")
            self.end_reason = "ended"
        self._after_end()

    def _after_end(self) -> None:
        if not self.debrief_on_end:
            self.exit(0)
            return
        from oxi_assist.ui.debrief_screen import DebriefScreen

        self.push_screen(DebriefScreen.for_session(self.session, ask_to_leave=True),
                         lambda _: self.exit(0))

    # -- trainer --------------------------------------------------------------------------

    def _trainer(self) -> Trainable | None:
        src = self.source
        return src if self.simulated and isinstance(src, Trainable) else None

    def action_sim_pause(self) -> None:
        src = self._trainer()
        if src is None:
            return
        (src.resume if src.paused else src.pause)()
        self.redraw()

    def action_sim_speed(self, step: int) -> None:
        src = self._trainer()
        if src is None:
            return
        src.set_speed(next_speed(float(src.speed), int(step)))
        self.redraw()

    def action_finger(self) -> None:
        if self._trainer() is None:
            return
        self._finger_out = not self._finger_out
        self.session.on_action("finger_out" if self._finger_out else "finger_in")
        self.redraw()

    def action_motion(self) -> None:
        if self._trainer() is None:
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
        trainer = self._trainer()
        new = self._open_source(self.uri, self.clock)
        if trainer is not None and isinstance(new, Trainable):
            new.set_speed(float(trainer.speed))  # the trainer keeps the speed they chose
        self._start(new)
        self.redraw()

    # -- command palette ------------------------------------------------------------------

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        for kb in KEYS:
            yield SystemCommand(kb.label, f"responder action (key {kb.shown})",
                                lambda key_id=kb.id: self.action_press(key_id))
        yield SystemCommand("Every action", "a button for each (the … chip)",
                            self.action_more_actions)
        yield SystemCommand("Oximeter handout", "key i", self.action_handout)
        yield SystemCommand("Acknowledge alarm", "key k", self.action_acknowledge)
        yield SystemCommand("Pause alarms 2 min", "key p", self.action_pause_alarms)
        yield SystemCommand("End session", "asks first, then the debrief (key q)",
                            self.action_end)
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
