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

This module holds the app's drawing; its other jobs are parts it is built from (see
`live_app_base`): key handling, ending, the trainer's controls and the source's lifecycle. The
screen itself is `live_screen.MainScreen`.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from textual.css.query import NoMatches

from drivers.clock import Clock, RealClock
from oxi_assist.monitor.priority import Priority
from oxi_assist.ui.adapter import from_session, start_cue
from oxi_assist.ui.alarm_banner import FLASH_CHECK_HZ, AlarmBanner, flashes
from oxi_assist.ui.cue_banner import CUE_SECONDS
from oxi_assist.ui.ending import Ending
from oxi_assist.ui.key_actions import KeyActions
from oxi_assist.ui.live_app_base import SessionMaker, SourceOpener
from oxi_assist.ui.live_screen import MainScreen, is_live
from oxi_assist.ui.model import NoteView, ScreenModel
from oxi_assist.ui.source_lifecycle import SourceLifecycle
from oxi_assist.ui.trainer_controls import TrainerControls

BELL_EVERY = 10.0  # s between bells while a high alarm is unanswered (IEC practice ≈ 10 s)


@dataclass
class DrawStats:
    """What the redraw loop did: for the benchmark and for tests of the bounded rate."""

    redraws: int = 0
    skipped: int = 0
    latencies: list[float] | None = None  # seconds from a change to the painted screen
    #: seconds from an alarm or guidance change to the painted screen
    alert_latencies: list[float] | None = None
    alert_redraws: int = 0  # redraws made at once for an alarm or guidance change


class OxiApp(KeyActions, Ending, TrainerControls, SourceLifecycle):
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
        self._artefacts_on: set[str] = set()
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
        if self.session is not None and is_live(self.screen):
            self.stats.alert_redraws += 1
            self.redraw(urgent_only=True)

    # -- drawing --------------------------------------------------------------------------

    def poll(self) -> None:
        """The bounded-rate redraw: draws only when the session changed since the last draw."""
        s = self.session
        if s is None or not is_live(self.screen):
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
        if m is None or not flashes(m) or not is_live(self.screen):
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
        guidance and the keys); the log, the trend, the pleth and the timers follow at the next
        tick (the log's new row may reflow the screen, which would hold the banner back)."""
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

def run_debrief(path: str | Path) -> int:
    """Shows the debrief screen for a recorded file on the terminal (used by
    `oxi-assist debrief FILE` when stdout is a terminal). Raises OxiError on a bad file, before
    the UI starts."""
    from oxi_assist.ui.debrief_screen import DebriefApp

    app = DebriefApp.for_path(path)
    result = app.run()
    return int(result or 0)
