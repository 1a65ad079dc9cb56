"""One live response: a source → `Monitor` → `Guide` → recorder, and what the screen needs.

The Textual UI and the headless commands drive the same `Session`, so what the screen shows is
exactly what gets recorded. The core is synchronous (each call does a bounded amount of work and
never waits); `run()` is the async driver that feeds it from a source.

API (stable; the UI codes against it)::

    s = Session(clock=clock, monitor=monitor, guide=guide, writer=writer,
                source_label="sim:opioid-overdose", controllable=source_or_None)
    s.on_item(item)              # Reading | LinkEvent → Monitor, guide, recorder, history
    s.on_action(Action.NALOXONE, route="im")   # responder key → guide, recorder, simulator
    s.on_action("finger_out")    # a trainer cue (TRAINER_CUES) → recorder and simulator only
    s.acknowledge(); s.pause_alarms()          # alarm keys → Monitor, recorded
    s.tick()                     # time passes: no-data alarms, guide timers, writer flush
    await s.run(source, tick_every=0.25, stay=False)
                                 # feed from an async source, ticking meanwhile; returns
                                 # "closed" | "ended" | "stopped" | "failed: …";
                                 # `run(None)` = guidance only, until stop()
    s.stop()                     # ends `run()` (also interrupts a silent source); then
    s.close(reason="")           # writes the `end` record (idempotent)

What the screen reads (never mutate it):

- `s.version: int` grows on every change; redraw when it differs from the last drawn value, at
  whatever bounded rate suits (≤ 10 Hz). `s.on_change`, if set, is called after each change
  (from the thread that drives the session; a Textual app would post a message from it).
  `s.on_alert`, if set, is called after a change that must reach the screen at once: an
  alarm raised, cleared or escalated, or new guidance (a step, a prompt, a timer alert).
- `s.response_active: bool` — an overdose response is under way (actions.response_after):
  from the first "no response", 911, breaths, compressions or naloxone until EMS arrive or the
  response ends. The Monitor is told (`Monitor.set_response_active`), so low SpO2 and "no
  reading" alarms are high priority meanwhile.
- `s.vitals: VitalsState | None` (None until the Monitor has spoken, and always None without a
  Monitor); `s.guide_state` (the Guide's `state`, None without a Guide).
- `s.trend: TrendHistory` — `s.trend.arrays(seconds=None)` → (t, spo2, pulse, raw_spo2) numpy
  arrays, oldest first, NaN where there was no trustworthy value (a gap, never a number).
- `s.pleth: PlethHistory` — `s.pleth.arrays(seconds=5.0)` → (t, values) of the last samples.
- `s.elapsed() -> float` seconds since the session began; every time the session stores
  (history `t`, log `t`, recorded `t`) is on this base.
- `s.now() -> float` the same instant on the clock's scale (`s.t0 + s.elapsed()`): the time
  the Monitor and the guide are given, so compare `vitals.paused_until`, `vitals.t` and
  `guide_state.t` with `s.now()`, not with `clock.now()`.
- `s.link: LinkState | None`, `s.device: str`, `s.source_label`, `s.recording_path`
  (Path | None), `s.actions` (list of `ActionRecord`), `s.doses` (naloxone doses recorded),
  `s.readings` (count), `s.dropped` (items without a usable time), `s.running`, `s.closed`,
  `s.error` (last source failure text or ""),
  `s.link_reason` (text of the last link event), `s.start_wall` (epoch seconds at t0),
  `s.record_error` ("" unless writing the recording failed; the session itself goes on;
  pass `record_error=` with `writer=None` when `recordings.try_open_writer` could not start
  one).
- `s.recording() -> Recording`: the session so far (vitals up to 4/s, links, alarms, events,
  times from the start) for the debrief of an unrecorded session (`--no-record`).
- `s.log`: a bounded `SessionLog` of `LogLine(t, kind, text)` (oxi_assist.session.log) — one
  plain line per event, sorted by time, oldest first; kind is a `LogKind` ("action",
  "trainer", "alarm", "link", "guide" or "event").

Times: each source stamps items on its own timeline; the session maps them onto one session
timeline (timeline.py), so a 10× training run or replay is recorded in scenario or recording
time, and the guide's timers and the Monitor's alarm delays run in that same time.

The jobs beside the routing each have a module: `timeline` (session time), `recorder` (the
file and the in-memory copy behind one `Recorder`), `history` (what the Monitor and the Guide
said, as records), `simulator` (what passes to and from a simulated patient), `loop` (the
async driver), `log` (the screen's lines), `traces` (the trend and the pleth the screen
draws).

Safety: the guidance never depends on the oximeter. A source that fails only adds a link-lost
record; the guide and its timers keep going, and `run(None)` runs them with no device at all.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from drivers.clock import Clock
from drivers.formats._base import Recording
from drivers.formats.native import SessionWriter
from drivers.printable import printable
from drivers.reading import Controllable, LinkEvent, LinkState, Reading, Source
from oxi_assist.actions import ACTIONS, SIM_INTERVENTIONS, Action, log_line, response_after
from oxi_assist.monitor.alarm_config import MAX_PAUSE_S
from oxi_assist.monitor.vitals import VitalsState
from oxi_assist.session.history import History
from oxi_assist.session.log import LogKind, SessionLog, link_line, trainer_line
from oxi_assist.session.loop import Hooks, Loop
from oxi_assist.session.recorder import FileRecorder, MemoryRecorder, Recorder, Tee
from oxi_assist.session.simulator import TRAINER_CUES, SimulatorLink
from oxi_assist.session.timeline import Timeline, shifted
from oxi_assist.session.traces import PlethHistory, TrendHistory

if TYPE_CHECKING:
    from oxi_assist.guide.engine import Guide
    from oxi_assist.guide.state import GuideState
    from oxi_assist.monitor.monitor import Monitor

__all__ = ["ActionRecord", "Session"]

#: How often `tick()` makes the writer flush when no data arrives: the native format promises
#: that a crash loses at most the last second.
FLUSH_EVERY = 1.0


@dataclass(frozen=True)
class ActionRecord:
    t: float  # session time (seconds since start)
    name: str  # Action value ("911", "naloxone", …) or a trainer cue
    params: dict[str, Any] = field(default_factory=dict)
    trainer: bool = False


class Session:
    """Wires one source to the Monitor, the guide and the recorder. See the module docstring."""

    def __init__(self, *, clock: Clock, monitor: Monitor | None = None,
                 guide: Guide | None = None, writer: SessionWriter | None = None,
                 source_label: str = "", controllable: Controllable | None = None,
                 history_seconds: float = 600.0, pleth_seconds: float = 5.0,
                 log_lines: int = 500, record_error: str = "") -> None:
        self.clock = clock
        self.monitor = monitor
        self.guide = guide
        self.writer = writer
        self.source_label = source_label
        self.controllable = controllable
        # session time (see `now()`), following the pace (speed, pause) of `controllable`
        self._timeline = Timeline(clock, controllable)
        self.t0 = self._timeline.t0
        self.start_wall = clock.wall()
        self.trend = TrendHistory(history_seconds)
        self.pleth = PlethHistory(pleth_seconds)
        self.vitals: VitalsState | None = None
        self.version = 0
        self.on_change: Callable[[], None] | None = None
        self.on_alert: Callable[[], None] | None = None
        self.response_active = False
        self.link: LinkState | None = None
        self.link_reason = ""
        self.device = ""
        self.log = SessionLog(log_lines)
        self.actions: list[ActionRecord] = []
        self.doses = 0
        self.readings = 0
        self.dropped = 0  # items that were not items or had no usable time
        self.running = False
        self.closed = False
        self.error = ""
        # why recording stopped or never started (disk full, …); the session goes on
        self.record_error = record_error
        self._memory = MemoryRecorder()  # the whole session, for `recording()` and the summary
        self.recorder: Recorder = (self._memory if writer is None else
                                   Tee(self._memory, FileRecorder(writer, self._record_failed)))
        self._history = History(self.recorder, self.log, self._timeline, guide)
        self._simulator = SimulatorLink(controllable, self.recorder, self.elapsed)
        # looked up at each call, so a wrapped `tick` or `on_item` is the one that runs
        self._loop = Loop(self._timeline, Hooks(feed=lambda item: self.on_item(item),
                                                tick=lambda: self.tick(),
                                                fault=self._internal_error,
                                                failed=self._source_failed))
        self.recorder.event(0.0, "session_start", source=source_label)
        self._flushed_at = clock.now()
        self._history.guide_log()

    # -- time -----------------------------------------------------------------------------

    def now(self) -> float:
        """Session time on the clock's scale (`t0` + seconds since the start): what the
        Monitor and the guide are given, and what `vitals.paused_until` compares with."""
        return self._timeline.to_clock(self._timeline.now())

    def elapsed(self) -> float:
        """Seconds since the session began (the recorded `t`). Runs at the pace of the
        source's stamps (10× in a simulation at 10× speed) and stops while a simulation is
        paused."""
        return self._timeline.now()

    @property
    def recording_path(self) -> Path | None:
        return self.writer.path if self.writer is not None else None

    # -- input ----------------------------------------------------------------------------

    def on_item(self, item: Reading | LinkEvent) -> None:
        """One item from the source. Never raises for odd data: a live session must not crash."""
        if self.closed:
            return
        if not isinstance(item, Reading | LinkEvent):
            self.dropped += 1
            return
        try:
            t = float(item.t)
        except (TypeError, ValueError):
            t = math.nan
        if not math.isfinite(t):  # a time that cannot be placed: never let it move the clock
            self.dropped += 1
            return
        s = self._timeline.map(t)
        if isinstance(item, LinkEvent):
            self._on_link(LinkEvent(self.t0 + s, item.state, item.reason, item.device))
        elif isinstance(item, Reading):
            self._on_reading(shifted(item, self.t0 + s - item.t))
        self._simulator.record_events(self._timeline.offset or 0.0)
        self._changed()

    def _on_reading(self, r: Reading) -> None:
        """`r.t` is on the session clock (see `now()`)."""
        self.readings += 1
        rel_r = shifted(r, -self.t0)
        self.recorder.reading(rel_r)
        rel = self._timeline.to_session(r.t)
        if r.pleth:
            self.pleth.extend(rel, r.pleth, r.pleth_rate)
        if self.monitor is not None:
            vs = self.monitor.update(r)
            # a waveform-only packet (up to 100 a second on some devices) changes no vitals:
            # the guide hears of it only when the Monitor says something happened
            self._on_vitals(vs, to_guide=not r.wave_only or bool(vs.changes))
        if not r.wave_only:
            v = self.vitals
            self.trend.append(rel, v.spo2 if v else None, v.pulse if v else None,
                              r.spo2 if r.valid else None)

    def _on_link(self, e: LinkEvent) -> None:
        """`e.t` is on the session clock (see `now()`)."""
        self.link = e.state
        # what the screen shows: a device's name and a driver's reason are outside text
        self.link_reason = printable(e.reason)
        if e.device:
            self.device = printable(e.device)
        rel = self._timeline.to_session(e.t)
        self.log.add(rel, LogKind.LINK, link_line(e.state, self.link_reason))
        self.recorder.link(LinkEvent(rel, e.state, e.reason, e.device))
        if e.state is not LinkState.CONNECTED:
            self.pleth.mark_gap()
        if self.monitor is not None:
            self._on_vitals(self.monitor.update(e))

    def _on_vitals(self, vs: VitalsState, *, to_guide: bool = True) -> None:
        self.vitals = vs
        self._history.monitor_changes(vs)
        if self.guide is not None and to_guide:
            self.guide.take_vitals(vs, t=vs.t)
            self._history.guide_log(throttle=True)

    def on_action(self, action: Action | str, **params: Any) -> None:
        """A responder key (an `Action`) or a trainer cue (a name in `TRAINER_CUES`)."""
        if self.closed:
            return
        now = self._timeline.to_clock(self._timeline.reanchor())
        rel = self._timeline.to_session(now)
        if isinstance(action, str) and action in TRAINER_CUES:
            self.actions.append(ActionRecord(rel, action, dict(params), trainer=True))
            self.log.add(rel, LogKind.TRAINER, trainer_line(action, params))
            self.recorder.event(rel, action, by="trainer", **params)
            self._simulator.inject(action, params)
            self._changed()
            return
        if isinstance(action, str):
            from oxi_assist.actions import parse_action
            action = parse_action(action)
        params = {k: v for k, v in params.items() if v is not None}
        if action is Action.NALOXONE:
            self.doses += 1
            params.setdefault("dose", self.doses)
        self.actions.append(ActionRecord(rel, action.value, dict(params)))
        if ACTIONS[action].shown_in_log:
            self.log.add(rel, LogKind.ACTION, log_line(action, params))
        self.recorder.event(rel, action.value, by="responder", **params)
        active = response_after(self.response_active, action)
        if active != self.response_active:
            self.response_active = active
            if self.monitor is not None:
                self._on_vitals(self.monitor.set_response_active(now, active), to_guide=False)
        if self.guide is not None:
            self.guide.on_action(action, t=now, **params)
            self._history.guide_log()
        sim = SIM_INTERVENTIONS.get(action)
        if sim is not None:
            self._simulator.inject(sim, params)
        self._changed()

    def acknowledge(self, kind: str | None = None) -> None:
        """The responder acknowledged the alarms (or one kind)."""
        if self.monitor is not None:
            self._on_vitals(self.monitor.acknowledge(self.now(), kind))
        self.recorder.event(self.elapsed(), "alarms_acknowledged", by="responder_alarm",
                            **({"kind": kind} if kind else {}))
        self.log.add(self.elapsed(), LogKind.ALARM, "Alarms acknowledged")
        self._changed()

    def pause_alarms(self, seconds: float = 120.0) -> None:
        """Pauses alarm signals (the Monitor caps it at 2 minutes)."""
        if self.monitor is not None:
            self._on_vitals(self.monitor.pause(self.now(), seconds))
        self.recorder.event(self.elapsed(), "alarms_paused", by="responder_alarm",
                            seconds=seconds)
        shown = min(max(float(seconds), 0.0), MAX_PAUSE_S)
        self.log.add(self.elapsed(), LogKind.ALARM,
                     f"Alarm signals paused for {shown / 60:g} min")
        self._changed()

    def tick(self) -> None:
        """Time passes: the Monitor's no-data alarms, the guide's timers, a quiet flush."""
        if self.closed:
            return
        now = self._timeline.to_clock(self._timeline.reanchor())
        if self.monitor is not None:
            self._on_vitals(self.monitor.tick(now))
        if self.guide is not None:
            self.guide.tick(now)
            self._history.guide_log()
        wall = self.clock.now()  # flushing follows the clock: it is about crash loss
        if self.writer is not None and wall - self._flushed_at >= FLUSH_EVERY:
            self.recorder.flush()
            self._flushed_at = wall
        self._changed()

    # -- what the screen reads ------------------------------------------------------------

    @property
    def guide_state(self) -> GuideState | None:
        """The guide's current `GuideState` (built when asked: the guide builds it lazily, and
        the screen asks at most a few times a second); None without a guide."""
        return self.guide.state if self.guide is not None else None

    def recording(self) -> Recording:
        """The session so far as a `Recording` (times from the session start), for the debrief
        of a session that was not written to disk. Vitals are kept at up to 4 a second; pleth
        is not kept."""
        return self._memory.recording(
            str(self.recording_path) if self.recording_path else "(not recorded)",
            source=self.source_label, device=self.device, start_wall=self.start_wall,
            interrupted=not self.closed)

    def _record_failed(self, why: str) -> None:
        """Writing the recording failed: the screen says so, the session goes on."""
        self.record_error = why
        self.log.add(self.elapsed(), LogKind.EVENT, why)

    def _changed(self) -> None:
        self.version += 1
        cb = self.on_change
        if cb is not None:
            cb()
        if self._history.take_alert():
            alert = self.on_alert
            if alert is not None:
                alert()

    # -- the async driver -----------------------------------------------------------------

    async def run(self, source: Source | None, *, tick_every: float | None = 0.25,
                  stay: bool = False) -> str:
        """Feeds the session from `source` until it closes, ends or fails (loop.py).

        A tick runs every `tick_every` s meanwhile (None: the caller ticks). With `source=None`
        (guidance only, no device) or `stay=True`, it keeps ticking after the source is gone
        until `stop()`. Returns why it ended: "closed", "ended", "stopped" or "failed: …".
        """
        self.running = True
        try:
            return await self._loop.run(source, tick_every=tick_every, stay=stay)
        finally:
            self.running = False
            self._changed()

    def _internal_error(self, text: str) -> None:
        """A fault of ours on an item (loop.py): recorded, and the response goes on."""
        self.log.add(self.elapsed(), LogKind.EVENT, text)
        self.recorder.event(self.elapsed(), "internal_error", text=text)

    def _source_failed(self, e: Exception) -> str:
        self.error = str(e) or type(e).__name__
        if not self.closed:
            self._on_link(LinkEvent(self.now(), LinkState.LOST,
                                    reason=f"source failed: {self.error}", device=self.device))
            self._changed()
        return f"failed: {self.error}"

    def stop(self) -> None:
        """Ends `run()` (at its next turn of the event loop)."""
        self._loop.stop()

    def close(self, reason: str = "") -> None:
        """Writes the `end` record and closes the file. Idempotent."""
        if self.closed:
            return
        self._history.guide_log()
        self.closed = True
        self.stop()
        end = self.elapsed()
        self.recorder.event(end, "session_end", reason=reason or "closed")
        # what `oxi-assist sessions` lists, so a long recording is listed without reading it
        self.recorder.event(end, "session_summary", **self._memory.summary(end),
                            readings=self.readings, device=self.device)
        self.recorder.close(t=self.elapsed(), reason=reason)
        self.version += 1
