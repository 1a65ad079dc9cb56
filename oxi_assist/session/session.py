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
- `s.log`: a bounded `SessionLog` of `LogLine(t, kind, text)` (oxi_assist.session_log) — one
  plain line per event, sorted by time, oldest first; kind is a `LogKind` ("action",
  "trainer", "alarm", "link", "guide" or "event").

Times: each source stamps items on its own timeline (a device on the clock, the simulator in
scenario seconds, a replay in the recording's seconds). The session maps them onto one
session timeline: the first item fixes the offset, each item then sets the time, and between
items time runs as fast as the source's stamps have been running (10× for a simulation or a
replay at 10× speed, the clock's pace for a device), stops while a simulation is `paused`,
and follows the clock with no source and once the source has gone. So a 10× training run or
replay is recorded in scenario or recording time, and the guide's timers and the Monitor's
alarm delays run in that same time.

Safety: the guidance never depends on the oximeter. A source that fails only adds a link-lost
record; the guide and its timers keep going, and `run(None)` runs them with no device at all.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
from array import array
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from drivers.clock import Clock
from drivers.formats._base import Recording
from drivers.formats.native import SessionWriter
from drivers.printable import printable
from drivers.reading import Controllable, LinkEvent, LinkState, Reading, ReportsEvents, Status
from drivers.safe_files import os_reason
from oxi_assist.actions import ACTIONS, SIM_INTERVENTIONS, Action, log_line, response_after
from oxi_assist.alarm_config import MAX_PAUSE_S
from oxi_assist.monitor_changes import (
    ESCALATED_EVENT,
    AlarmChange,
    AlarmState,
    PauseChange,
    PauseState,
    change_words,
    event_name,
)
from oxi_assist.session.log import (
    LogKind,
    LogLine,
    SessionLog,
    alarm_line,
    guide_line,
    link_line,
    trainer_line,
)
from oxi_assist.vitals import VitalsState

__all__ = ["TRAINER_CUES", "ActionRecord", "LogLine", "PlethHistory", "Session",
           "TrendHistory"]

#: Trainer cues: device artefacts a trainer plays into a simulation. They are recorded (so a
#: debrief shows why the reading vanished) but never reach the guide: they are not responder
#: actions.
TRAINER_CUES: tuple[str, ...] = ("finger_out", "finger_in", "motion", "motion_off",
                                 "low_perfusion", "dropout")

#: The parameters the simulator takes with each intervention; others (a UI label, a note) are
#: recorded but not passed on, so they cannot make the simulator refuse the action.
INJECT_PARAMS: dict[str, tuple[str, ...]] = {
    "naloxone": ("route", "mg"),
    "finger_out": ("seconds",), "motion": ("seconds",), "low_perfusion": ("seconds",),
    "dropout": ("seconds",),
}

#: The fastest a source's timeline is believed to run against the clock (the simulator's top
#: speed is 20×); an unpaced replay is faster, but then its items alone move session time.
MAX_PACE = 50.0

#: How often the guide's log is looked at while samples stream in (ticks look every time).
GUIDE_SYNC_EVERY = 0.2

#: How often `tick()` makes the writer flush when no data arrives: the native format promises
#: that a crash loses at most the last second.
FLUSH_EVERY = 1.0


class TrendHistory:
    """The last `seconds` of (t, smoothed SpO2, smoothed pulse, raw SpO2) in a numpy ring.

    O(1) per sample; reading it out (for a redraw, a few times a second) copies at most
    `capacity` values. A source faster than `max_rate` vitals a second (some send one with
    every frame) is binned: the slot of a bin holds its latest sample, except that a gap (NaN)
    inside the bin stays a gap, so a fast source cannot shorten the window and a moment of no
    reading is never drawn over.
    """

    def __init__(self, seconds: float = 600.0, max_rate: float = 4.0) -> None:
        self.seconds = float(seconds)
        self.capacity = max(16, math.ceil(seconds * max_rate))
        self._step = 1.0 / max_rate
        self._data = np.full((4, self.capacity), np.nan)
        self._n = 0  # slots ever filled
        self._bin_start = -math.inf

    def append(self, t: float, spo2: float | None, pulse: float | None,
               raw_spo2: float | None) -> None:
        d = self._data
        vals = (np.nan if spo2 is None else spo2, np.nan if pulse is None else pulse,
                np.nan if raw_spo2 is None else raw_spo2)
        if self._n and 0.0 <= t - self._bin_start < self._step:  # same bin: update the slot
            i = (self._n - 1) % self.capacity
            d[0, i] = t
            for k, v in enumerate(vals, start=1):
                if d[k, i] == d[k, i]:  # not already a gap in this bin
                    d[k, i] = v
            return
        i = self._n % self.capacity
        d[0, i] = t
        d[1, i], d[2, i], d[3, i] = vals
        self._n += 1
        self._bin_start = t

    def __len__(self) -> int:
        return min(self._n, self.capacity)

    def _ordered(self) -> np.ndarray:
        n, c = self._n, self.capacity
        if n <= c:
            return self._data[:, :n].copy()
        i = n % c
        return np.concatenate((self._data[:, i:], self._data[:, :i]), axis=1)

    def arrays(self, seconds: float | None = None
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(t, spo2, pulse, raw_spo2), oldest first; only the last `seconds` if given."""
        d = self._ordered()
        span = self.seconds if seconds is None else min(seconds, self.seconds)
        if d.shape[1]:
            keep = d[0] > d[0, -1] - span
            d = d[:, keep]
        return d[0], d[1], d[2], d[3]

    def last_t(self) -> float | None:
        if not self._n:
            return None
        return float(self._data[0, (self._n - 1) % self.capacity])


class PlethHistory:
    """The last few seconds of the pleth waveform (0–100 % of the device's range) with times.

    Each Reading's samples are spaced 1/rate s apart and end at the reading's `t`.
    """

    def __init__(self, seconds: float = 5.0, max_rate: float = 200.0) -> None:
        self.seconds = float(seconds)
        self.capacity = max(64, math.ceil(seconds * max_rate))
        self._t = np.full(self.capacity, np.nan)
        self._v = np.full(self.capacity, np.nan)
        self._n = 0
        self.rate: float | None = None

    def extend(self, t_end: float, values: tuple[float, ...], rate: float | None) -> None:
        k = len(values)
        if not k:
            return
        if rate and rate > 0:
            self.rate = float(rate)
        step = 1.0 / self.rate if self.rate else 0.0
        if k > self.capacity:
            values = values[-self.capacity:]
            k = self.capacity
        ts = t_end - step * np.arange(k - 1, -1, -1, dtype=float)
        vs = np.asarray(values, dtype=float)
        start = self._n % self.capacity
        first = min(k, self.capacity - start)
        self._t[start:start + first] = ts[:first]
        self._v[start:start + first] = vs[:first]
        if first < k:
            self._t[:k - first] = ts[first:]
            self._v[:k - first] = vs[first:]
        self._n += k

    def __len__(self) -> int:
        return min(self._n, self.capacity)

    def arrays(self, seconds: float | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(t, values), oldest first, the last `seconds` (default: the whole window)."""
        n, c = self._n, self.capacity
        if n <= c:
            t, v = self._t[:n].copy(), self._v[:n].copy()
        else:
            i = n % c
            t = np.concatenate((self._t[i:], self._t[:i]))
            v = np.concatenate((self._v[i:], self._v[:i]))
        if len(t):
            span = self.seconds if seconds is None else min(seconds, self.seconds)
            keep = t > t[-1] - span
            t, v = t[keep], v[keep]
        return t, v

    def mark_gap(self) -> None:
        """Breaks the trace (a NaN sample just after the last one) so a lost link is drawn as a
        gap, not a line joining old and new samples."""
        if not self._n:
            return
        i = (self._n - 1) % self.capacity
        if math.isnan(self._v[i]):
            return
        last = float(self._t[i])
        rate, self.rate = self.rate, None
        self.extend(last + 1e-6, (math.nan,), None)
        self.rate = rate


@dataclass(frozen=True)
class ActionRecord:
    t: float  # session time (seconds since start)
    name: str  # Action value ("911", "naloxone", …) or a trainer cue
    params: dict[str, Any] = field(default_factory=dict)
    trainer: bool = False


class Session:
    """Wires one source to the Monitor, the guide and the recorder. See the module docstring."""

    def __init__(self, *, clock: Clock, monitor: Any = None, guide: Any = None,
                 writer: SessionWriter | None = None, source_label: str = "",
                 controllable: Controllable | None = None, history_seconds: float = 600.0,
                 pleth_seconds: float = 5.0, log_lines: int = 500,
                 record_error: str = "") -> None:
        self.clock = clock
        self.monitor = monitor
        self.guide = guide
        self.writer = writer
        self.source_label = source_label
        self.controllable = controllable
        self.t0 = clock.now()
        self.start_wall = clock.wall()
        self.trend = TrendHistory(history_seconds)
        self.pleth = PlethHistory(pleth_seconds)
        self.vitals: VitalsState | None = None
        self.version = 0
        self.on_change: Callable[[], None] | None = None
        self.on_alert: Callable[[], None] | None = None
        self._alert = False  # an alarm or guidance change since the last _changed()
        self.response_active = False
        self.link: LinkState | None = None
        self.link_reason = ""
        self.device = ""
        self.log = SessionLog(log_lines)
        self.actions: list[ActionRecord] = []
        self.doses = 0
        self.readings = 0
        self.dropped = 0  # items that were not items or had no usable time
        self._lowest = math.inf  # the lowest valid SpO2 reading, for the summary record
        self._s_lo, self._s_hi = math.inf, -math.inf  # span of the readings' session times
        self.running = False
        self.closed = False
        self.error = ""
        self._guide_last: Any = None  # the last guide LogEntry already recorded
        protocol = getattr(guide, "protocol", None)
        self._step_ids = frozenset(getattr(protocol, "steps", None) or ())
        self._guide_n = 0
        self._guide_synced = -math.inf
        self._flushed_at = self.t0
        self._stop = asyncio.Event()
        self._read_task: asyncio.Task[str] | None = None
        self._last_internal = ""
        # the session timeline (see `now()`): S seconds since the start, anchored to the clock
        self._timeline: Any = controllable  # the source whose pace (speed, pause) S follows
        # a source with events of its own (the simulated patient's arrest): recorded
        self._reports = controllable if isinstance(controllable, ReportsEvents) else None
        self._s_anchor = 0.0
        self._c_anchor = self.t0
        self._src_off: float | None = None  # S = source time + offset
        self._pace_est = 1.0
        self._pace_ref: tuple[float, float] | None = None  # (clock, S) of an earlier item
        self._mem_t = array("d")  # the whole session's vitals, for `recording()`
        self._mem_spo2 = array("d")
        self._mem_pulse = array("d")
        self._mem_status = array("q")
        self._mem_links: list[LinkEvent] = []
        self._mem_alarms: list[dict[str, Any]] = []
        self._mem_events: list[dict[str, Any]] = []
        # why recording stopped or never started (disk full, …); the session goes on
        self.record_error = record_error
        self._event(0.0, "session_start", source=source_label)
        self._flushed_at = clock.now()
        self._refresh_guide()

    # -- time -----------------------------------------------------------------------------

    def _pace(self) -> float:
        """How fast session time runs against the clock between items: as fast as the
        source's own stamps ran over the last second or so (10 for a simulation at 10×
        speed or a replay at 10×, 1 for a device), 0 while a simulation is
        `paused`, 1 with no source and once the source has gone. Measured, not taken from a
        `speed` setting, because sources differ in what they stamp."""
        src = self._timeline
        if src is None:
            return 1.0
        if getattr(src, "paused", False) is True:
            self._pace_ref = None
            return 0.0
        return self._pace_est

    def _measure_pace(self, s: float) -> None:
        c = self.clock.now()
        ref = self._pace_ref
        if ref is None or s < ref[1]:
            self._pace_ref = (c, s)
        elif c - ref[0] >= 1.0:
            self._pace_est = min(max((s - ref[1]) / (c - ref[0]), 0.0), MAX_PACE)
            self._pace_ref = (c, s)

    def _s_now(self) -> float:
        c = self.clock.now()
        return self._s_anchor + max(0.0, c - self._c_anchor) * self._pace()

    def _reanchor(self) -> float:
        s_now = self._s_now()
        self._s_anchor, self._c_anchor = s_now, self.clock.now()
        return s_now

    def _map(self, t_source: float) -> float:
        """Session time of an item stamped `t_source` on its source's timeline.

        Sources stamp items on their own timeline (a device on the clock, the simulator in
        scenario seconds, a replay in recording seconds). The first item fixes the offset and
        session time then follows the source's own stamps (between items it runs on at the
        source's pace), so the Monitor's data-age rules see the source's real spacing. A source
        that stalled (items more than two of its seconds behind) is slid forward instead, so
        session time never runs back by more than a moment; the Monitor and the guide ignore
        such a moment (their time only moves forward)."""
        s_now = self._s_now()
        if self._src_off is None:
            self._src_off = s_now - t_source
        s = t_source + self._src_off
        if s < s_now - 2.0 * max(1.0, self._pace()):
            self._src_off += s_now - s
            s = s_now
        self._s_anchor, self._c_anchor = s, self.clock.now()
        self._measure_pace(s)
        return s

    def now(self) -> float:
        """Session time on the clock's scale (`t0` + seconds since the start): what the
        Monitor and the guide are given, and what `vitals.paused_until` compares with."""
        return self.t0 + self._s_now()

    def elapsed(self) -> float:
        """Seconds since the session began (the recorded `t`). Runs at the pace of the
        source's stamps (10× in a simulation at 10× speed) and stops while a simulation is
        paused."""
        return self._s_now()

    def _rel(self, t: float) -> float:
        return t - self.t0

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
        s = self._map(t)
        if isinstance(item, LinkEvent):
            self._on_link(LinkEvent(self.t0 + s, item.state, item.reason, item.device))
        elif isinstance(item, Reading):
            self._on_reading(_shift(item, self.t0 + s - item.t))
        if self._reports is not None:
            # on the session timeline like the items; for the recording and the debrief, not
            # the responder's log (they find an arrest on the person, not on the screen)
            for ev in self._reports.take_events():
                self._event(ev.t + (self._src_off or 0.0), ev.name, by="simulator", **ev.data)
        self._changed()

    def _on_reading(self, r: Reading) -> None:
        """`r.t` is on the session clock (see `now()`)."""
        self.readings += 1
        self._reading_rec(r)
        rel = self._rel(r.t)
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
        self.log.add(self._rel(e.t), LogKind.LINK, link_line(e.state, self.link_reason))
        rel_e = LinkEvent(self._rel(e.t), e.state, e.reason, e.device)
        self._mem_links.append(rel_e)
        self._write("link", rel_e)
        if e.state is not LinkState.CONNECTED:
            self.pleth.mark_gap()
        if self.monitor is not None:
            self._on_vitals(self.monitor.update(e))

    def _on_vitals(self, vs: VitalsState, *, to_guide: bool = True) -> None:
        self.vitals = vs
        self._record_changes(vs)
        if self.guide is not None and to_guide:
            self.guide.take_vitals(vs, t=vs.t)
            self._refresh_guide(throttle=True)

    def on_action(self, action: Action | str, **params: Any) -> None:
        """A responder key (an `Action`) or a trainer cue (a name in `TRAINER_CUES`)."""
        if self.closed:
            return
        now = self.t0 + self._reanchor()
        rel = self._rel(now)
        if isinstance(action, str) and action in TRAINER_CUES:
            self.actions.append(ActionRecord(rel, action, dict(params), trainer=True))
            self.log.add(rel, LogKind.TRAINER, trainer_line(action, params))
            self._event(rel, action, by="trainer", **params)
            self._inject(action, params)
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
        self._event(rel, action.value, by="responder", **params)
        active = response_after(self.response_active, action)
        if active != self.response_active:
            self.response_active = active
            if self.monitor is not None:
                self._on_vitals(self.monitor.set_response_active(now, active), to_guide=False)
        if self.guide is not None:
            self.guide.on_action(action, t=now, **params)
            self._refresh_guide()
        sim = SIM_INTERVENTIONS.get(action)
        if sim is not None:
            self._inject(sim, params)
        self._changed()

    def _inject(self, name: str, params: dict[str, Any]) -> None:
        if self.controllable is None:
            return
        keep = INJECT_PARAMS.get(name, ())
        params = {k: v for k, v in params.items() if k in keep}
        try:
            self.controllable.inject(name, **params)
        except Exception as e:  # a simulator hiccup must never stop the response
            self._event(self.elapsed(), "inject_failed", action=name, error=str(e))

    def acknowledge(self, kind: str | None = None) -> None:
        """The responder acknowledged the alarms (or one kind)."""
        if self.monitor is not None:
            self._on_vitals(self.monitor.acknowledge(self.now(), kind))
        self._event(self.elapsed(), "alarms_acknowledged", by="responder_alarm",
                    **({"kind": kind} if kind else {}))
        self.log.add(self.elapsed(), LogKind.ALARM, "Alarms acknowledged")
        self._changed()

    def pause_alarms(self, seconds: float = 120.0) -> None:
        """Pauses alarm signals (the Monitor caps it at 2 minutes)."""
        if self.monitor is not None:
            self._on_vitals(self.monitor.pause(self.now(), seconds))
        self._event(self.elapsed(), "alarms_paused", by="responder_alarm", seconds=seconds)
        shown = min(max(float(seconds), 0.0), MAX_PAUSE_S)
        self.log.add(self.elapsed(), LogKind.ALARM,
                     f"Alarm signals paused for {shown / 60:g} min")
        self._changed()

    def tick(self) -> None:
        """Time passes: the Monitor's no-data alarms, the guide's timers, a quiet flush."""
        if self.closed:
            return
        now = self.t0 + self._reanchor()
        if self.monitor is not None:
            self._on_vitals(self.monitor.tick(now))
        if self.guide is not None:
            self.guide.tick(now)
            self._refresh_guide()
        wall = self.clock.now()  # flushing follows the clock: it is about crash loss
        if self.writer is not None and wall - self._flushed_at >= FLUSH_EVERY:
            self._write("flush")
            self._flushed_at = wall
        self._changed()

    # -- records --------------------------------------------------------------------------

    def _record_changes(self, vs: VitalsState) -> None:
        """Records what the Monitor says changed at this update (its typed change records)
        and words the log's lines. Raise and clear times are the times the alarm rules define,
        not when the update happened to arrive, so a recording agrees with the offline
        analysis of the same trace; the log stays in time order all the same."""
        for c in vs.changes:
            if isinstance(c, AlarmChange):
                self._alarm_change(c)
                continue
            rel = self._rel(c.t)
            self._event(rel, event_name(c), by="monitor")
            # desaturation events are recorded, not log lines; a pause is the responder's
            # own press (logged by pause_alarms), its end is news
            if isinstance(c, PauseChange) and c.state is not PauseState.PAUSED:
                self.log.add(rel, LogKind.ALARM, change_words(c).capitalize())

    def _alarm_change(self, c: AlarmChange) -> None:
        self._alert = True
        t = self._rel(c.t)
        prio = c.priority.label
        if c.state is AlarmState.ESCALATED:
            self._event(t, ESCALATED_EVENT, by="monitor", kind=c.kind, priority=prio)
        else:
            data: dict[str, Any] = {}
            if c.state is AlarmState.RAISED:
                if c.onset is not None and c.onset != c.t:
                    data["onset"] = round(self._rel(c.onset), 4)
                data["technical"] = c.technical
            self._mem_alarms.append({"k": "alarm", "t": round(t, 4), "kind": c.kind,
                                     "priority": prio, "state": c.state.value,
                                     "message": c.message, **data})
            self._write("alarm", t, c.kind, prio, c.state.value, c.message, **data)
        text = alarm_line(c)
        if text is not None:
            self.log.add(t, LogKind.ALARM, text)

    @property
    def guide_state(self) -> Any:
        """The guide's current `GuideState` (built when asked: the guide builds it lazily, and
        the screen asks at most a few times a second); None without a guide."""
        return self.guide.state if self.guide is not None else None

    def _refresh_guide(self, *, throttle: bool = False) -> None:
        """Records the guide's new log entries (each keeps its own time). With `throttle`
        (per sample) at most every `GUIDE_SYNC_EVERY` s of the clock; ticks, actions and
        `close()` always look."""
        if self.guide is None:
            return
        c = self.clock.now()
        if throttle and c - self._guide_synced < GUIDE_SYNC_EVERY:
            return
        self._guide_synced = c
        log = self.guide.log
        if not log or log[-1] is self._guide_last:
            return
        start = min(self._guide_n, len(log))  # entries after the last one recorded
        if self._guide_last is not None:
            for i in range(len(log) - 1, -1, -1):
                if log[i] is self._guide_last:
                    start = i + 1
                    break
        new = log[start:]
        self._guide_n = len(log)
        if not new:
            return
        self._guide_last = new[-1]
        for entry in new:
            t = getattr(entry, "t", None)
            rel = self._rel(t) if isinstance(t, int | float) else self.elapsed()
            text = str(getattr(entry, "text", entry))
            kind = str(getattr(entry, "kind", "") or "info")
            line = guide_line(entry, self._step_ids)
            if line is not None:
                self.log.add(rel, LogKind.GUIDE, line)
                self._alert = True
            self._event(rel, "guide", kind=kind, text=text, by="guide")

    def _event(self, rel: float, name: str, **data: Any) -> None:
        self._mem_events.append({"k": "event", "t": round(rel, 4), "name": name, **data})
        self._write("event", rel, name, **data)

    def _reading_rec(self, r: Reading) -> None:
        rel = _shift(r, -self.t0)
        self._write("reading", rel)
        self._s_lo, self._s_hi = min(self._s_lo, rel.t), max(self._s_hi, rel.t)
        if r.wave_only:
            return
        if r.valid and r.spo2 is not None:
            self._lowest = min(self._lowest, float(r.spo2))
        # the in-memory copy keeps vitals only, at most 4 a second (a change of the status
        # flags, e.g. finger out, always gets its own sample) in compact arrays: a night at
        # 60 frames a second stays a few megabytes
        spo2 = math.nan if r.spo2 is None else float(r.spo2)
        pulse = math.nan if r.pulse is None else float(r.pulse)
        st = int(r.status & ~Status.BEAT)
        if self._mem_t and rel.t - self._mem_t[-1] < 0.25 and st == self._mem_status[-1]:
            if spo2 < self._mem_spo2[-1]:  # the bin keeps its lowest SpO2: no dip is lost
                self._mem_spo2[-1], self._mem_pulse[-1] = spo2, pulse
            return
        self._mem_t.append(rel.t)
        self._mem_spo2.append(spo2)
        self._mem_pulse.append(pulse)
        self._mem_status.append(st)

    def _write(self, what: str, *args: Any, **kw: Any) -> None:
        """Writes through to the recording; a failing disk ends the recording, not the session."""
        w = self.writer
        if w is None or w.closed:
            return
        try:
            getattr(w, what)(*args, **kw)
        except (OSError, ValueError) as e:
            why = (f"write failed ({os_reason(e)})" if isinstance(e, OSError)
                   else f"a record could not be written ({e})")
            self.record_error = f"recording stopped: {why}"
            self.log.add(self.elapsed(), LogKind.EVENT, self.record_error)
            with contextlib.suppress(Exception):
                w.closed = True

    def recording(self) -> Recording:
        """The session so far as a `Recording` (times from the session start), for the debrief
        of a session that was not written to disk. Vitals are kept at up to 4 a second; pleth
        is not kept."""
        rec = Recording.from_arrays(
            str(self.recording_path) if self.recording_path else "(not recorded)", "memory",
            np.array(self._mem_t, dtype=float), np.array(self._mem_spo2, dtype=float),
            np.array(self._mem_pulse, dtype=float),
            np.array(self._mem_status, dtype=np.int32),
            links=list(self._mem_links), alarms=[dict(a) for a in self._mem_alarms],
            events=[dict(e) for e in self._mem_events], source=self.source_label,
            device=self.device, start_wall=self.start_wall)
        rec.interrupted = not self.closed
        return rec

    def _changed(self) -> None:
        self.version += 1
        cb = self.on_change
        if cb is not None:
            cb()
        if self._alert:
            self._alert = False
            alert = self.on_alert
            if alert is not None:
                alert()

    # -- async driver ---------------------------------------------------------------------

    async def run(self, source: Any | None, *, tick_every: float | None = 0.25,
                  stay: bool = False) -> str:
        """Feeds the session from `source` until it closes, ends or fails.

        A tick runs every `tick_every` s meanwhile (None: the caller ticks). With `source=None`
        (guidance only, no device) or `stay=True`, it keeps ticking after the source is gone
        until `stop()`. Returns why it ended: "closed", "ended", "stopped" or "failed: …".
        """
        self.running = True
        self._stop.clear()
        ticker = (asyncio.create_task(self._tick_loop(tick_every))
                  if tick_every is not None else None)
        why = ""
        try:
            if source is not None:
                why = await self._read(source)
            if (source is None or stay) and why != "stopped":
                await self._stop.wait()
                why = why or "stopped"
        finally:
            if ticker is not None:
                ticker.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await ticker
            self.running = False
            self._changed()
        return why

    async def _read(self, source: Any) -> str:
        """Reads in its own task so that `stop()` can interrupt a source that waits forever;
        items are taken with a plain `async for`, so no sample waits on extra loop turns."""
        self._reanchor()
        self._timeline = source
        self._pace_est, self._pace_ref = 1.0, None
        task = asyncio.create_task(self._read_items(source))
        self._read_task = task
        try:
            return await task
        except asyncio.CancelledError:
            me = asyncio.current_task()
            if me is not None and me.cancelling():
                raise  # the caller cancelled run(): not ours to swallow
            await _close_quietly(source)
            return "stopped"
        finally:
            self._read_task = None
            self._reanchor()  # from here on, session time runs with the clock
            self._timeline = None

    async def _read_items(self, source: Any) -> str:
        try:
            async for item in source:
                self._feed(item)
                if isinstance(item, LinkEvent) and item.state is LinkState.CLOSED:
                    return "closed"
        except asyncio.CancelledError:
            raise
        except Exception as e:  # any source failure: record it, keep guiding
            why = self._source_failed(e)
            await _close_quietly(source)
            return why
        return "ended"

    def _feed(self, item: Any) -> None:
        try:
            self.on_item(item)
        except Exception as e:  # a fault of ours must not end the response either
            text = f"internal error on an item: {type(e).__name__}: {e}"
            if text != self._last_internal:
                self._last_internal = text
                self.log.add(self.elapsed(), LogKind.EVENT, text)
                self._event(self.elapsed(), "internal_error", text=text)

    def _source_failed(self, e: Exception) -> str:
        self.error = str(e) or type(e).__name__
        if not self.closed:
            self._on_link(LinkEvent(self.now(), LinkState.LOST,
                                    reason=f"source failed: {self.error}", device=self.device))
            self._changed()
        return f"failed: {self.error}"

    async def _tick_loop(self, every: float) -> None:
        while True:
            await self.clock.sleep(every)
            self.tick()

    def stop(self) -> None:
        """Ends `run()` (at its next turn of the event loop)."""
        self._stop.set()
        if self._read_task is not None and not self._read_task.done():
            self._read_task.cancel()

    def close(self, reason: str = "") -> None:
        """Writes the `end` record and closes the file. Idempotent."""
        if self.closed:
            return
        self._refresh_guide()
        self.closed = True
        self.stop()
        end = self.elapsed()
        self._event(end, "session_end", reason=reason or "closed")
        # what `oxi-assist sessions` lists, so a long recording is listed without reading it
        self._event(end, "session_summary",
                    duration=round(max(end, self._s_hi) - min(0.0, self._s_lo), 4),
                    lowest_spo2=None if math.isinf(self._lowest) else round(self._lowest, 1),
                    alarms=sum(1 for a in self._mem_alarms if a.get("state") == "raised"),
                    actions=sum(1 for e in self._mem_events if e.get("by") == "responder"),
                    readings=self.readings, device=self.device)
        self._write("close", t=self.elapsed(), reason=reason)
        self.version += 1


def _shift(r: Reading, dt: float) -> Reading:
    if dt == 0:
        return r
    return Reading(t=r.t + dt, spo2=r.spo2, pulse=r.pulse, pi=r.pi, pleth=r.pleth,
                   pleth_rate=r.pleth_rate, status=r.status, wave_only=r.wave_only)


async def _close_quietly(source: Any) -> None:
    close = getattr(source, "close", None)
    if close is None:
        return
    with contextlib.suppress(Exception):
        await close()
