"""The live Monitor: readings in, `VitalsState` (smoothed values, band, quality, alarms,
events) out, one sample at a time in O(1).

The offline analysis (oxi_assist.analysis) applies exactly the same rules to whole arrays and a
property test proves both give the same alarms and desaturation events. The rules, in the order
they are applied to each item:

1. Time passing (any item, or `tick`): `no_data` is raised at last reading + no_data_after
   once time has passed it; when the last valid SpO2 (or, before any, the first reading) is
   older than stale_after, the value is withdrawn, `stale` is raised at that instant and every
   SpO2 rule sees one "unknown" sample at that instant (pulse likewise, without an alarm).
2. A `LinkEvent` LOST/RECONNECTING raises `link_lost` at once; CONNECTED or any reading clears.
3. A vitals reading older than the last one is dropped (counted). Otherwise it clears
   `no_data`, feeds the technical conditions (finger_out, no_sensor, sensor_fault,
   signal_poor), and its
   SpO2 / pulse — when present, unflagged by an invalidating status and plausible — go through
   the median-of-3 + moving average (oxi_assist.monitor.smoothing). Smoothed values feed the low /
   high limits (hysteresis, delay, rapid-fall bypass), the trend rule and the desaturation
   events; an invalid value is an "unknown" sample for them.
4. An alarm that means "no reading" (finger_out, no_sensor, sensor_fault, no_data, stale,
   link_lost) is
   raised high priority when an SpO2 alarm raised at an earlier time is active or ended within
   `escalate_within_s`: losing the signal during an event is itself urgent.
5. During an overdose response (`set_response_active`: from the first "unresponsive", 911,
   breaths, compressions or naloxone until EMS arrive or the response ends) low SpO2 and every
   "no reading" alarm are high priority: one raised then is raised high, and one already active
   when the response begins is raised to high there (an `ESCALATED` change). With
   `monitor.response_escalates = false` this rule is off.

Every change is reported as a typed record in `VitalsState.changes`
(oxi_assist.monitor.changes: `AlarmChange`, `DesatChange`, `PauseChange`).

Alarm times are the times the rules define (e.g. no_data starts exactly no_data_after after the
last reading), not the time the Monitor happened to look, so a session that ticks often and
one that does not record the same history. Acknowledge, pause and latching only change what is
shown, never the recorded condition.
"""

from __future__ import annotations

from math import isfinite
from typing import Any

from drivers.reading import DOUBTFUL, INVALIDATING, LinkEvent, LinkState, Reading, Status
from oxi_assist.monitor.alarm_book import AlarmBook
from oxi_assist.monitor.alarm_config import MAX_PAUSE_S, AlarmConfig
from oxi_assist.monitor.alarm_rules import (
    OFF,
    ON,
    thresholds,
)
from oxi_assist.monitor.conditions import Conditions
from oxi_assist.monitor.desat_tracker import DesatTracker
from oxi_assist.monitor.records import AlarmRecord, DesatRecord
from oxi_assist.monitor.smoothing import Channel
from oxi_assist.monitor.vitals import Band, Quality, VitalsState

# plain ints: IntFlag arithmetic costs microseconds per sample
_POOR_FLAGS = int(DOUBTFUL | Status.SEARCHING)
_DOUBTFUL = int(DOUBTFUL)
_INVALID = int(INVALIDATING)
_FO = int(Status.FINGER_OUT)
_SF = int(Status.SENSOR_FAULT)
_NS = int(Status.NO_SENSOR)
_LINK_DOWN = (LinkState.LOST, LinkState.RECONNECTING)


def _finite(x: float | None) -> bool:
    return x is not None and isfinite(x)


class Monitor:
    """Turns readings and link events into `VitalsState`. Not thread-safe; one per source.

    Besides the state, it keeps what a recorder or debrief needs: `history` (every alarm
    condition as an `AlarmRecord`: onset, raise and end times), `desaturations`
    (`DesatRecord`s), `time_below` / `valid_time` (seconds), `dropped` (readings out of time
    order), `pleth` (the latest waveform chunk), and `summary()` in the offline analysis'
    terms. Feed items in arrival order; `tick` must not run ahead of the items' own clock.
    The alarm bookkeeping is an `AlarmBook` (oxi_assist.monitor.alarm_book), the dips a
    `DesatTracker` (oxi_assist.monitor.desat_tracker); this class holds the rules.
    """

    def __init__(self, config: AlarmConfig | None = None) -> None:
        self.config = cfg = config or AlarmConfig.default()
        self._th = th = thresholds(cfg)
        self._spo2 = Channel(th.window_s)
        self._pulse = Channel(th.window_s)
        self._book = book = AlarmBook(cfg)
        self._cond = Conditions(cfg, th, book)
        self._dips = DesatTracker(cfg.desat_drops, th.desat, th.baseline_s,
                                  cfg.desat_min_duration_s, cfg.desat_max_duration_s)
        # time bookkeeping
        self._now: float | None = None
        self._last_t: float | None = None  # last accepted vitals reading
        self._spo2_ref: float | None = None  # last valid SpO2 (or the first reading)
        self._pulse_ref: float | None = None
        self._spo2_stale = False
        self._pulse_stale = False
        self._last_valid_t: float | None = None
        self._prev_s10: float | None = None  # smoothed SpO2 of the previous reading if valid
        # display
        self._s10: float | None = None
        self._p10: float | None = None
        self._pi: float | None = None
        self._flags = Status.NONE
        self._poor = False
        self._link = LinkState.CONNECTED
        # results (the lists are the book's and the tracker's own, kept up to date there)
        self.history: list[AlarmRecord] = book.history
        self.response_spans: list[tuple[float, float | None]] = book.response_spans
        self.desaturations: list[DesatRecord] = self._dips.records
        self.time_below: dict[float, float] = {b: 0.0 for b in cfg.time_below}
        self.valid_time = 0.0
        self.dropped = 0
        self.pleth: tuple[float, ...] = ()
        self.pleth_rate: float | None = None
        self._state = self._make(0.0)

    # ------------------------------------------------------------------ public API

    @property
    def state(self) -> VitalsState:
        return self._state

    def update(self, item: Reading | LinkEvent) -> VitalsState:
        t = item.t
        self._book.begin()
        if not isfinite(t):  # a broken timestamp must not poison every later comparison
            if isinstance(item, Reading) and not item.wave_only:
                self.dropped += 1
            return self._state
        self._advance(t)
        if isinstance(item, LinkEvent):
            self._on_link(item)
        elif item.wave_only:
            self._book.clear("link_lost", t)
            if item.pleth:
                self.pleth, self.pleth_rate = item.pleth, item.pleth_rate
        elif self._last_t is not None and t < self._last_t:
            self.dropped += 1
        else:
            if self._book.open:
                self._book.clear("link_lost", t)
            self._on_reading(item)
        return self._done(t)

    def tick(self, t: float) -> VitalsState:
        """Time passes without data: raises no_data / stale when they are due."""
        t = self._begin(t)
        return self._done(t)

    def acknowledge(self, t: float, kind: str | None = None) -> VitalsState:
        """Silences active alarms (one kind or all) and removes acknowledged latched ones."""
        t = self._begin(t)
        self._book.acknowledge(self._t_now(t), kind)
        return self._done(t)

    def pause(self, t: float, seconds: float = MAX_PAUSE_S) -> VitalsState:
        """Pauses alarm signals for at most 2 minutes; a new higher-priority alarm breaks
        through. With nothing active, a pause holds back medium and low alarms only."""
        t = self._begin(t)
        s = min(max(float(seconds), 0.0), MAX_PAUSE_S)
        self._book.pause(t + s, self._t_now(t))
        return self._done(t)

    def set_response_active(self, t: float, active: bool) -> VitalsState:
        """An overdose response began (`active`) or ended (EMS arrived, the response ended).
        While it is active, low SpO2 and "no reading" alarms are high priority (rule 5); the
        spans are kept in `response_spans` for the offline analysis."""
        t = self._begin(t)  # what was due before this instant is raised under the old state
        now = self._t_now(t)
        self._book.set_response_active(now, active)
        self._state = self._make(now)
        return self._state

    @property
    def response_active(self) -> bool:
        return self._book.response_active

    def responses(self) -> list[tuple[float, float | None]]:
        """Every response span so far (the last one open, end None, while it lasts)."""
        return self._book.responses()

    def _begin(self, t: float) -> float:
        """An update at the caller's time `t`: what was due before it is raised first."""
        t = self._sane(t)
        self._book.begin()
        self._advance(t)
        return t

    def _done(self, t: float) -> VitalsState:
        self._state = self._make(self._t_now(t))
        return self._state

    def _t_now(self, fallback: float) -> float:
        return self._now if self._now is not None else fallback

    def _sane(self, t: float) -> float:
        """A caller's time that is not a finite number must not stall pauses or delays."""
        if isinstance(t, int | float) and isfinite(t):
            return float(t)
        return self._now if self._now is not None else 0.0

    def summary(self) -> dict[str, Any]:
        """The same statistics the offline analysis reports, from what was seen live."""
        return {
            "alarms": [a.to_dict() for a in self.history],
            "desaturations": [d.to_dict() for d in self.desaturations],
            "time_below": {f"{b:g}": v for b, v in self.time_below.items()},
            "valid_time_s": self.valid_time,
            "dropped": self.dropped,
        }

    # ------------------------------------------------------------------ rules

    def _advance(self, t: float) -> None:
        now = self._now
        if now is None or t > now:
            self._now = self._book.now = now = t
        th = self._th
        book = self._book
        lt = self._last_t
        if lt is not None and "no_data" not in book.open:
            due = lt + th.no_data_s
            if t > due:
                book.raise_("no_data", due, due)
        ref = self._spo2_ref
        if ref is not None and not self._spo2_stale and t > ref + th.stale_s:
            due = ref + th.stale_s
            self._spo2_stale = True
            self._s10 = None
            self._spo2_rules(due, None)
            book.raise_("stale", due, due)
        ref = self._pulse_ref  # the pulse goes stale likewise, without an alarm of its own
        if ref is not None and not self._pulse_stale and t > ref + th.stale_s:
            self._pulse_stale = True
            self._p10 = None
            self._cond.pulse(ref + th.stale_s, None)
        book.end_pause_if_due()

    def _on_link(self, e: LinkEvent) -> None:
        self._link = e.state
        t = self._now if self._now is not None else e.t
        if e.state in _LINK_DOWN:
            if "link_lost" not in self._book.open:
                self._book.raise_("link_lost", t, t)
            self._s10 = self._p10 = None
        elif e.state is LinkState.CONNECTED:
            self._book.clear("link_lost", t)

    def _on_reading(self, r: Reading) -> None:
        t = r.t
        th = self._th
        prev_t = self._last_t
        self._last_t = t
        if self._spo2_ref is None:
            self._spo2_ref = t
        if self._book.open:
            self._book.clear("no_data", t)
        # time below thresholds: the previous valid value held until now (at most stale_after)
        if self._prev_s10 is not None and prev_t is not None:
            dt = t - prev_t
            if dt > th.stale_s:
                dt = th.stale_s
            self.valid_time += dt
            ps = self._prev_s10
            for b, b10 in zip(self.time_below, th.below, strict=True):
                if ps < b10:
                    self.time_below[b] += dt
        self._flags = r.status
        st = int(r.status)
        spo2, pulse, pi = r.spo2, r.pulse, r.pi
        has_s = spo2 is not None and isfinite(spo2)
        has_p = pulse is not None and isfinite(pulse)
        plausible = ((not has_s or th.spo2_lo[0] <= spo2 <= th.spo2_lo[1])  # type: ignore[operator]
                     and (not has_p or th.pulse_lo[0] <= pulse <= th.pulse_lo[1]))  # type: ignore[operator]
        ok = plausible and not (st & _INVALID)
        low_pi = pi is not None and isfinite(pi) and pi < th.pi_low
        # technical conditions
        fo = bool(st & _FO)
        sf = bool(st & _SF)
        ns = bool(st & _NS)
        # finger out, no sensor and sensor fault say more than "poor signal"
        poor = not (fo or sf or ns) and (bool(st & _POOR_FLAGS) or low_pi or not plausible)
        self._poor = poor or bool(st & _DOUBTFUL)
        cond = self._cond
        cond.tech("finger_out", t, ON if fo else OFF)
        cond.tech("no_sensor", t, ON if ns else OFF)
        cond.tech("sensor_fault", t, ON if sf else OFF)
        cond.tech("signal_poor", t, ON if poor else OFF)
        self._pi = pi if (ok and _finite(pi)) else None
        # SpO2
        if ok and has_s:
            x = round(spo2 * 10.0)  # type: ignore[operator]  # half to even, like np.rint
            s = self._spo2.push(t, x)
            self._s10 = s
            self._spo2_ref = t
            self._last_valid_t = t
            if self._spo2_stale:
                self._spo2_stale = False
                self._book.clear("stale", t)
            self._spo2_rules(t, s, x)
            self._prev_s10 = s
        else:
            self._s10 = None
            self._spo2_rules(t, None)
            self._prev_s10 = None
        # pulse
        if ok and has_p:
            p = self._pulse.push(t, round(pulse * 10.0))  # type: ignore[operator]
            self._p10 = p
            self._pulse_ref = t
            self._pulse_stale = False
            cond.pulse(t, p)
        else:
            self._p10 = None
            cond.pulse(t, None)
        if r.pleth:
            self.pleth, self.pleth_rate = r.pleth, r.pleth_rate

    def _spo2_rules(self, t: float, s: float | None, x: int | None = None) -> None:
        """The SpO2 rules at one sample: `s` smoothed, `x` the device's value (tenths)."""
        self._cond.spo2(t, s)
        now = self._now if self._now is not None else t
        if s is None:
            self._dips.gap(t, now, self._book.changes)
        else:  # desaturations, on the device's values
            assert x is not None
            self._dips.sample(t, x, now, self._book.changes)

    def _make(self, t: float) -> VitalsState:
        s10 = self._s10
        if s10 is None:
            spo2 = None
            band = Band.UNKNOWN
        else:
            spo2 = s10 / 10.0
            band = (Band.NORMAL if s10 >= 950 else Band.WATCH if s10 >= 900
                    else Band.LOW if s10 >= 850 else Band.SEVERE)
        quality = (Quality.NONE if s10 is None else Quality.POOR if self._poor
                   else Quality.GOOD)
        p10 = self._p10
        tr = self._cond.trend
        return VitalsState(
            t=t, spo2=spo2, pulse=None if p10 is None else p10 / 10.0,
            pi=self._pi if s10 is not None else None, band=band, quality=quality,
            trend=None if tr is None else round(tr, 2), alarms=self._book.alarms,
            link=self._link, stale=self._spo2_stale, last_valid_t=self._last_valid_t,
            flags=self._flags, paused_until=self._book.paused_until,
            desat_count=self._dips.count,
            changes=tuple(self._book.changes),
        )


__all__ = ["Monitor"]
