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

from collections import deque
from dataclasses import dataclass
from enum import StrEnum
from math import isfinite
from typing import Any

from drivers.reading import DOUBTFUL, INVALIDATING, LinkEvent, LinkState, Reading, Status
from oxi_assist.monitor.alarm_config import (
    ESCALATING,
    MAX_PAUSE_S,
    RESPONSE_ESCALATING,
    SPO2_ALARMS,
    AlarmConfig,
    AlarmRule,
)
from oxi_assist.monitor.alarm_rules import (
    MID,
    OFF,
    ON,
    UNK,
    Machine,
    classify_high,
    classify_low,
    thresholds,
)
from oxi_assist.monitor.changes import (
    AlarmChange,
    AlarmState,
    Change,
    DesatChange,
    DesatEdge,
    PauseChange,
    PauseState,
)
from oxi_assist.monitor.smoothing import Channel
from oxi_assist.monitor.vitals import Alarm, Band, Priority, Quality, VitalsState

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


@dataclass
class AlarmRecord:
    """One alarm condition in the history: raised at `start`, ended at `end` (None: active)."""

    kind: str
    priority: Priority
    technical: bool
    onset: float  # when the condition began (start of the run that raised it)
    start: float  # when it was raised
    end: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "priority": self.priority.label, "technical": self.technical,
                "onset_s": self.onset, "start_s": self.start, "end_s": self.end}


class DesatEnd(StrEnum):
    """How a desaturation event ended; only a recovered one counts in the index (ODI)."""

    RECOVERED = "recovered"  # back within `recovery` points of its baseline
    TOO_LONG = "too_long"  # not recovered within max_duration_s: a prolonged low, not a dip
    GAP = "gap"  # the values stopped (no valid reading): no recovery seen


@dataclass
class DesatRecord:
    """One desaturation event on the device's values, in whole tenths as compared."""

    level: float  # 3 or 4 (%)
    start: float  # first sample of the drop
    baseline10: int  # the pre-event baseline it started from
    nadir10: int
    end: float | None = None
    outcome: DesatEnd | None = None  # None: still going when the recording ended

    @property
    def baseline(self) -> float:
        return self.baseline10 / 10.0

    @property
    def nadir(self) -> float:
        return self.nadir10 / 10.0

    @property
    def depth(self) -> float:
        return (self.baseline10 - self.nadir10) / 10.0

    @property
    def counted(self) -> bool:
        return self.outcome is DesatEnd.RECOVERED

    def to_dict(self) -> dict[str, Any]:
        return {"level": self.level, "start_s": self.start, "nadir": self.nadir,
                "baseline": self.baseline, "depth": self.depth,
                "duration_s": None if self.end is None else self.end - self.start,
                "end_s": self.end, "ended": None if self.outcome is None else self.outcome.value,
                "counted": self.counted}


class _Desat:
    """Desaturation rule for one drop level, on the device's values (whole tenths).

    A sample is ON when it lies `drop` or more below the baseline `b` (the highest value of the
    baseline window up to it). A run of ON samples lasting min_dur (first to last sample)
    raises an event that keeps the baseline of the run's first sample (the pre-event
    baseline). The event ends at the first sample back within `recovery` of that baseline, at
    the first sample more than max_dur after its start (too long), or at a sample with no
    value (gap). The sample that ends an event does not start the next one."""

    __slots__ = ("active", "drop", "level", "m", "max_dur", "nadir", "pend_b", "rec",
                 "recovery")

    def __init__(self, level: float, drop: float, recovery: float, min_dur: float,
                 max_dur: float) -> None:
        self.level = level
        self.drop = drop
        self.recovery = recovery
        self.max_dur = max_dur
        self.m = Machine(min_dur)  # the ON run and its minimum duration
        self.active = False
        self.pend_b = 0
        self.nadir = 0
        self.rec: DesatRecord | None = None

    def step(self, t: float, x: int | None, b: int) -> int:
        """+1 when an event is raised, -1 when one ends, else 0."""
        if self.active:
            rec = self.rec
            assert rec is not None
            if x is None:
                return self._end(DesatEnd.GAP)
            if x < rec.nadir10:
                rec.nadir10 = x
            if x >= rec.baseline10 - self.recovery:
                return self._end(DesatEnd.RECOVERED)
            if t - rec.start > self.max_dur:
                return self._end(DesatEnd.TOO_LONG)
            return 0
        m = self.m
        if m.pending is None and (x is None or b - x < self.drop):
            return 0  # the common case: not in a drop, none starting
        c = UNK if x is None else (ON if b - x >= self.drop else OFF)
        was_pending = m.pending
        r = m.step(t, c)
        if c == ON:
            assert x is not None
            if was_pending is None:
                self.pend_b, self.nadir = b, x
            elif x < self.nadir:
                self.nadir = x
        if r == 1:
            m.active, m.pending = False, None  # the event's own end rule takes over
            self.active = True
            self.rec = DesatRecord(self.level, m.onset if m.onset is not None else t,
                                   self.pend_b, self.nadir)
        return 1 if r == 1 else 0

    def _end(self, how: DesatEnd) -> int:
        self.active = False
        if self.rec is not None:
            self.rec.outcome = how
        return -1


class Monitor:
    """Turns readings and link events into `VitalsState`. Not thread-safe; one per source.

    Besides the state, it keeps what a recorder or debrief needs: `history` (every alarm
    condition as an `AlarmRecord`: onset, raise and end times), `desaturations`
    (`DesatRecord`s), `time_below` / `valid_time` (seconds), `dropped` (readings out of time
    order), `pleth` (the latest waveform chunk), and `summary()` in the offline analysis'
    terms. Feed items in arrival order; `tick` must not run ahead of the items' own clock.
    """

    def __init__(self, config: AlarmConfig | None = None) -> None:
        self.config = cfg = config or AlarmConfig.default()
        self._th = th = thresholds(cfg)
        self._rules: dict[str, AlarmRule] = cfg.rules
        self._spo2 = Channel(th.window_s)
        self._pulse = Channel(th.window_s)
        # machines of the delayed conditions
        self._m: dict[str, Machine] = {k: Machine(r.delay_s) for k, r in cfg.rules.items()}
        # one queue per distinct rapid-fall window (both SpO2 rules usually share it)
        self._rapid: dict[float, deque[tuple[float, float]]] = {
            win: deque() for _, win in th.rapid.values()}
        self._trend: deque[tuple[float, float]] = deque()
        self._base: deque[tuple[float, float]] = deque()  # monotonic (t, s), max at the left
        self._desat = [_Desat(lvl, d, rec, cfg.desat_min_duration_s, cfg.desat_max_duration_s)
                       for lvl, (d, rec) in zip(cfg.desat_drops, th.desat, strict=True)]
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
        self._trend_v: float | None = None
        self._flags = Status.NONE
        self._poor = False
        self._link = LinkState.CONNECTED
        # alarms
        self._active: dict[str, Alarm] = {}
        self._latched: dict[str, Alarm] = {}
        self._open: dict[str, AlarmRecord] = {}
        self._alarms_t: tuple[Alarm, ...] = ()
        self._paused_until: float | None = None
        self._pause_prio = 0
        self._changes: list[Change] = []
        # the overdose response (rule 5): since when it is active, and every span so far
        self._response_since: float | None = None
        self.response_spans: list[tuple[float, float | None]] = []
        # results
        self.history: list[AlarmRecord] = []
        self._spo2_recs: dict[str, list[AlarmRecord]] = {k: [] for k in SPO2_ALARMS}
        self.desaturations: list[DesatRecord] = []
        self.time_below: dict[float, float] = {b: 0.0 for b in cfg.time_below}
        self.valid_time = 0.0
        self.dropped = 0
        self._desat_count = 0  # events of the smallest drop level (ODI-3 by default)
        self.pleth: tuple[float, ...] = ()
        self.pleth_rate: float | None = None
        self._state = self._make(0.0)

    # ------------------------------------------------------------------ public API

    @property
    def state(self) -> VitalsState:
        return self._state

    def update(self, item: Reading | LinkEvent) -> VitalsState:
        t = item.t
        self._changes = []
        if not isfinite(t):  # a broken timestamp must not poison every later comparison
            if isinstance(item, Reading) and not item.wave_only:
                self.dropped += 1
            return self._state
        self._advance(t)
        if isinstance(item, LinkEvent):
            self._on_link(item)
        elif item.wave_only:
            self._clear("link_lost", t)
            if item.pleth:
                self.pleth, self.pleth_rate = item.pleth, item.pleth_rate
        elif self._last_t is not None and t < self._last_t:
            self.dropped += 1
        else:
            if self._open:
                self._clear("link_lost", t)
            self._on_reading(item)
        self._state = self._make(self._now if self._now is not None else t)
        return self._state

    def tick(self, t: float) -> VitalsState:
        """Time passes without data: raises no_data / stale when they are due."""
        t = self._sane(t)
        self._changes = []
        self._advance(t)
        self._state = self._make(self._now if self._now is not None else t)
        return self._state

    def acknowledge(self, t: float, kind: str | None = None) -> VitalsState:
        """Silences active alarms (one kind or all) and removes acknowledged latched ones."""
        t = self._sane(t)
        self._changes = []
        self._advance(t)
        now = self._t_now(t)
        for k, a in list(self._active.items()):
            if (kind is None or k == kind) and not a.acknowledged:
                self._active[k] = _replace(a, acknowledged=True)
                self._changes.append(_change(a, AlarmState.ACKNOWLEDGED, now))
        for k in list(self._latched):
            if kind is None or k == kind:
                a = self._latched.pop(k)
                self._changes.append(_change(a, AlarmState.ACKNOWLEDGED, now))
        self._rebuild()
        self._state = self._make(self._now if self._now is not None else t)
        return self._state

    def pause(self, t: float, seconds: float = MAX_PAUSE_S) -> VitalsState:
        """Pauses alarm signals for at most 2 minutes; a new higher-priority alarm breaks
        through. With nothing active, a pause holds back medium and low alarms only."""
        t = self._sane(t)
        self._changes = []
        self._advance(t)
        s = min(max(float(seconds), 0.0), MAX_PAUSE_S)
        self._paused_until = t + s
        prios = [int(a.priority) for a in self._active.values()]
        self._pause_prio = max(prios) if prios else int(Priority.MEDIUM)
        self._changes.append(PauseChange(PauseState.PAUSED, self._t_now(t)))
        self._state = self._make(self._now if self._now is not None else t)
        return self._state

    def set_response_active(self, t: float, active: bool) -> VitalsState:
        """An overdose response began (`active`) or ended (EMS arrived, the response ended).
        While it is active, low SpO2 and "no reading" alarms are high priority (rule 5); the
        spans are kept in `response_spans` for the offline analysis."""
        t = self._sane(t)
        self._changes = []
        self._advance(t)  # what was due before this instant is raised under the old state
        now = self._t_now(t)
        if active and self._response_since is None:
            self._response_since = now
            if self.config.response_escalates:
                for kind, rec in list(self._open.items()):
                    if kind in RESPONSE_ESCALATING and rec.priority < Priority.HIGH:
                        self._escalate(kind, rec, now)
        elif not active and self._response_since is not None:
            self.response_spans.append((self._response_since, now))
            self._response_since = None
        self._state = self._make(now)
        return self._state

    @property
    def response_active(self) -> bool:
        return self._response_since is not None

    def responses(self) -> list[tuple[float, float | None]]:
        """Every response span so far (the last one open, end None, while it lasts)."""
        spans = list(self.response_spans)
        if self._response_since is not None:
            spans.append((self._response_since, None))
        return spans

    def _escalate(self, kind: str, rec: AlarmRecord, now: float) -> None:
        rec.priority = Priority.HIGH
        a = _replace(self._active[kind], priority=Priority.HIGH, acknowledged=False)
        self._active[kind] = a
        self._changes.append(_change(a, AlarmState.ESCALATED, now))
        self._break_pause(Priority.HIGH)
        self._rebuild()

    def _break_pause(self, prio: Priority) -> None:
        if self._paused_until is not None and int(prio) > self._pause_prio:
            self._paused_until = None
            self._changes.append(PauseChange(PauseState.BROKEN, self._t_now(0.0)))

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
            self._now = now = t
        th = self._th
        lt = self._last_t
        if lt is not None and "no_data" not in self._open:
            due = lt + th.no_data_s
            if t > due:
                self._raise("no_data", due, due)
        ref = self._spo2_ref
        if ref is not None and not self._spo2_stale:
            due = ref + th.stale_s
            if t > due:
                self._spo2_stale = True
                self._s10 = None
                self._trend_v = None
                self._spo2_rules(due, None)
                self._raise("stale", due, due)
        ref = self._pulse_ref
        if ref is not None and not self._pulse_stale:
            due = ref + th.stale_s
            if t > due:
                self._pulse_stale = True
                self._p10 = None
                self._pulse_rules(due, None)
        pu = self._paused_until
        if pu is not None and self._now >= pu:
            self._paused_until = None
            self._changes.append(PauseChange(PauseState.ENDED, self._now))

    def _on_link(self, e: LinkEvent) -> None:
        self._link = e.state
        t = self._now if self._now is not None else e.t
        if e.state in _LINK_DOWN:
            if "link_lost" not in self._open:
                self._raise("link_lost", t, t)
            self._s10 = self._p10 = None
        elif e.state is LinkState.CONNECTED:
            self._clear("link_lost", t)

    def _on_reading(self, r: Reading) -> None:
        t = r.t
        th = self._th
        prev_t = self._last_t
        self._last_t = t
        if self._spo2_ref is None:
            self._spo2_ref = t
        if self._open:
            self._clear("no_data", t)
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
        self._tech("finger_out", t, ON if fo else OFF)
        self._tech("no_sensor", t, ON if ns else OFF)
        self._tech("sensor_fault", t, ON if sf else OFF)
        self._tech("signal_poor", t, ON if poor else OFF)
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
                self._clear("stale", t)
            self._spo2_rules(t, s, x)
            self._prev_s10 = s
        else:
            self._s10 = None
            self._trend_v = None
            self._spo2_rules(t, None)
            self._prev_s10 = None
        # pulse
        if ok and has_p:
            p = self._pulse.push(t, round(pulse * 10.0))  # type: ignore[operator]
            self._p10 = p
            self._pulse_ref = t
            self._pulse_stale = False
            self._pulse_rules(t, p)
        else:
            self._p10 = None
            self._pulse_rules(t, None)
        if r.pleth:
            self.pleth, self.pleth_rate = r.pleth, r.pleth_rate

    def _tech(self, kind: str, t: float, c: int) -> None:
        m = self._m[kind]
        if c == OFF and not m.active and m.pending is None:
            return  # the common case: nothing to do
        res = m.step(t, c)
        if res == 1:
            self._raise(kind, m.onset if m.onset is not None else t, t)
        elif res == -1:
            self._clear(kind, t)

    def _phys(self, kind: str, t: float, c: int, bypass: bool = False) -> None:
        m = self._m[kind]
        if c != ON and not m.active and m.pending is None:
            return  # the common case: nothing to do
        res = m.step(t, c, bypass)
        if res == 1:
            self._raise(kind, m.onset if m.onset is not None else t, t)
        elif res == -1:
            self._clear(kind, t)

    def _spo2_rules(self, t: float, s: float | None, x: int | None = None) -> None:
        """The SpO2 rules at one sample: `s` smoothed, `x` the device's value (tenths)."""
        th = self._th
        if s is None:
            for k in ("spo2_low", "spo2_severe", "falling_fast"):
                self._phys(k, t, UNK)
            for d in self._desat:
                if d.step(t, None, 0) == -1:
                    self._desat_end(d, t)
            return
        first: dict[float, float] = {}
        for win, dq in self._rapid.items():
            dq.append((t, s))
            lo = t - win
            while dq[0][0] < lo:
                dq.popleft()
            first[win] = dq[0][1]  # the value at the start of the rapid-fall window
        for k in ("spo2_low", "spo2_severe"):
            on, clear = th.limits[k]
            rp = th.rapid.get(k)
            bypass = rp is not None and first[rp[1]] - s >= rp[0]
            self._phys(k, t, ON if s < on else (OFF if s >= clear else MID), bypass)
        # trend: slope between the ends of the window, %/min
        tq = self._trend
        tq.append((t, s))
        lo = t - th.trend_s
        while tq[0][0] < lo:
            tq.popleft()
        t0, s0 = tq[0]
        span = t - t0
        if span >= th.trend_half_s:
            tr = (s - s0) * 60.0 / span / 10.0
            self._trend_v = tr
            on, clear = th.limits["falling_fast"]
            c = ON if tr <= on else (OFF if tr > clear else MID)
        else:
            self._trend_v = None
            c = UNK
        self._phys("falling_fast", t, c)
        # desaturations, on the device's values: baseline = the highest in the baseline window
        assert x is not None
        bq = self._base
        while bq and bq[-1][1] <= x:
            bq.pop()
        bq.append((t, x))
        lo = t - th.baseline_s
        while bq[0][0] < lo:
            bq.popleft()
        b = bq[0][1]
        for d in self._desat:
            res = d.step(t, x, b)
            if res == 1 and d.rec is not None:
                self.desaturations.append(d.rec)
                if d is self._desat[0]:
                    self._desat_count += 1
                self._changes.append(DesatChange(d.level, DesatEdge.START, self._t_now(t)))
            elif res == -1:
                self._desat_end(d, t)

    def _desat_end(self, d: _Desat, t: float) -> None:
        if d.rec is not None:
            d.rec.end = t
            d.rec = None
            self._changes.append(DesatChange(d.level, DesatEdge.END, self._t_now(t)))

    def _pulse_rules(self, t: float, p: float | None) -> None:
        th = self._th
        if p is None:
            self._phys("pulse_low", t, UNK)
            self._phys("pulse_high", t, UNK)
            return
        on, clear = th.limits["pulse_low"]
        self._phys("pulse_low", t, classify_low(p, on, clear))
        on, clear = th.limits["pulse_high"]
        self._phys("pulse_high", t, classify_high(p, on, clear))

    # ------------------------------------------------------------------ alarm bookkeeping

    def _raise(self, kind: str, onset: float, t: float) -> None:
        rule = self._rules[kind]
        if not rule.enabled or kind in self._open:
            return
        prio = rule.priority
        if prio < Priority.HIGH and kind in ESCALATING and self._during_low_spo2(t):
            prio = Priority.HIGH
        if prio < Priority.HIGH and kind in RESPONSE_ESCALATING and \
                self._response_since is not None and self.config.response_escalates:
            prio = Priority.HIGH
        rec = AlarmRecord(kind, prio, rule.technical, onset, t)
        self._open[kind] = rec
        self.history.append(rec)
        if kind in self._spo2_recs:
            self._spo2_recs[kind].append(rec)
        self._latched.pop(kind, None)
        a = Alarm(kind=kind, priority=prio, message=rule.message, since=onset,
                  technical=rule.technical)
        self._active[kind] = a
        self._changes.append(_change(a, AlarmState.RAISED, t, onset))
        self._break_pause(prio)
        self._rebuild()

    def _during_low_spo2(self, t: float) -> bool:
        """An SpO2 alarm raised before `t` is active, or ended within the escalation window.
        Per kind the latest such alarm ends last (they never overlap), so it decides."""
        w = self.config.escalate_within_s
        if w <= 0:
            return False
        for recs in self._spo2_recs.values():
            for rec in reversed(recs):
                if rec.start < t:
                    if rec.end is None or rec.end >= t - w:
                        return True
                    break
        return False

    def _clear(self, kind: str, t: float) -> None:
        rec = self._open.pop(kind, None)
        if rec is None:
            return
        rec.end = t
        a = self._active.pop(kind)
        if self._rules[kind].latching and not a.acknowledged:
            self._latched[kind] = _replace(a, latched=True)
        self._changes.append(_change(a, AlarmState.CLEARED, t))
        self._rebuild()

    def _rebuild(self) -> None:
        al = list(self._active.values()) + list(self._latched.values())
        al.sort(key=lambda a: (-int(a.priority), a.latched, a.acknowledged, a.since))
        self._alarms_t = tuple(al)

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
        tr = self._trend_v
        return VitalsState(
            t=t, spo2=spo2, pulse=None if p10 is None else p10 / 10.0,
            pi=self._pi if s10 is not None else None, band=band, quality=quality,
            trend=None if tr is None else round(tr, 2), alarms=self._alarms_t,
            link=self._link, stale=self._spo2_stale, last_valid_t=self._last_valid_t,
            flags=self._flags, paused_until=self._paused_until,
            desat_count=self._desat_count,
            changes=tuple(self._changes),
        )


def _change(a: Alarm, state: AlarmState, t: float, onset: float | None = None) -> AlarmChange:
    return AlarmChange(a.kind, state, t, a.priority, a.message, a.technical, onset)


def _replace(a: Alarm, **kw: Any) -> Alarm:
    from dataclasses import replace
    return replace(a, **kw)


__all__ = ["AlarmRecord", "DesatRecord", "Monitor"]
