"""The live desaturation rule: the Monitor's dips of 3 % (and 4 %) below the recent baseline,
one sample at a time, kept as `DesatRecord`s.

The offline analysis (oxi_assist.desaturations) applies the same rule to whole arrays; the
agreement property test compares their records. It works on the device's values in whole
tenths, not the smoothed ones, as other oximetry tools count dips.
"""

from __future__ import annotations

from collections import deque

from oxi_assist.monitor.alarm_rules import OFF, ON, UNK, Machine
from oxi_assist.monitor.changes import DesatChange, DesatEdge
from oxi_assist.monitor.records import DesatEnd, DesatRecord


class DesatRule:
    """Desaturation rule for one drop level, on the device's values (whole tenths).

    A sample is ON when it lies `drop` or more below the baseline `b` (the highest value of the
    baseline window up to it). A run of ON samples lasting min_dur (first to last sample)
    raises an event that keeps the baseline of the run's first sample (the pre-event
    baseline). The event ends at the first sample back within `recovery` of that baseline, at
    the first sample more than max_dur after its start (too long), or at a sample with no
    value (gap). The sample that ends an event does not start the next one.

    The event being raised is written into `out` at `idx` and replaced there whenever it goes
    deeper or ends (records are frozen)."""

    __slots__ = ("active", "drop", "idx", "level", "m", "max_dur", "nadir", "out", "pend_b",
                 "rec", "recovery")

    def __init__(self, level: float, drop: float, recovery: float, min_dur: float,
                 max_dur: float, out: list[DesatRecord]) -> None:
        self.level = level
        self.drop = drop
        self.recovery = recovery
        self.max_dur = max_dur
        self.m = Machine(min_dur)  # the ON run and its minimum duration
        self.active = False
        self.pend_b = 0
        self.nadir = 0
        self.out = out
        self.idx = -1
        self.rec: DesatRecord | None = None  # the event going on, as last written to `out`

    def step(self, t: float, x: int | None, b: int) -> int:
        """+1 when an event is raised, -1 when one ends, else 0."""
        if self.active:
            rec = self.rec
            assert rec is not None
            if x is None:
                return self._end(rec, t, DesatEnd.GAP)
            if x < rec.nadir10:
                self._write(DesatRecord(rec.level, rec.start, rec.baseline10, x))
                rec = self.rec
            if x >= rec.baseline10 - self.recovery:
                return self._end(rec, t, DesatEnd.RECOVERED)
            if t - rec.start > self.max_dur:
                return self._end(rec, t, DesatEnd.TOO_LONG)
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
            self.idx = len(self.out)
            self.out.append(DesatRecord(self.level, m.onset if m.onset is not None else t,
                                        self.pend_b, self.nadir))
            self.rec = self.out[-1]
        return 1 if r == 1 else 0

    def _write(self, rec: DesatRecord) -> None:
        self.out[self.idx] = self.rec = rec

    def _end(self, rec: DesatRecord, t: float, how: DesatEnd) -> int:
        self.active = False
        self._write(DesatRecord(rec.level, rec.start, rec.baseline10, rec.nadir10, t, how))
        self.rec = None
        return -1


class DesatTracker:
    """Every level's rule over one baseline window: `records` in the order raised, `count` the
    events of the smallest drop level (ODI-3 by default) shown on screen."""

    def __init__(self, drops: tuple[float, ...], th_desat: tuple[tuple[float, float], ...],
                 baseline_s: float, min_dur: float, max_dur: float) -> None:
        self.records: list[DesatRecord] = []
        self.count = 0
        self._baseline_s = baseline_s
        self._base: deque[tuple[float, int]] = deque()  # monotonic (t, x), max at the left
        self._rules = [DesatRule(lvl, d, rec, min_dur, max_dur, self.records)
                       for lvl, (d, rec) in zip(drops, th_desat, strict=True)]

    def gap(self, t: float, now: float, out: list[DesatChange]) -> None:
        """A sample with no valid SpO2 at `t`: every event going on ends (a gap)."""
        for d in self._rules:
            if d.step(t, None, 0) == -1:
                out.append(DesatChange(d.level, DesatEdge.END, now))

    def sample(self, t: float, x: int, now: float, out: list[DesatChange]) -> None:
        """The device's SpO2 `x` (tenths) at `t`; the changes it makes go to `out` at `now`."""
        bq = self._base
        while bq and bq[-1][1] <= x:
            bq.pop()
        bq.append((t, x))
        lo = t - self._baseline_s
        while bq[0][0] < lo:
            bq.popleft()
        b = bq[0][1]
        first = self._rules[0]
        for d in self._rules:
            res = d.step(t, x, b)
            if res == 1:
                if d is first:
                    self.count += 1
                out.append(DesatChange(d.level, DesatEdge.START, now))
            elif res == -1:
                out.append(DesatChange(d.level, DesatEdge.END, now))
