"""Which alarm conditions hold, sample by sample: the delayed on/off machines of the Monitor's
technical and physiological rules (low and very low SpO2 with the rapid-fall bypass, SpO2
falling fast by its trend, pulse low and high).

Each machine raises its condition after the rule's delay and clears it with hysteresis
(oxi_assist.monitor.alarm_rules, shared with the offline analysis); what a raise or clear means
for the alarms shown and recorded is the `AlarmBook`'s business.
"""

from __future__ import annotations

from collections import deque

from oxi_assist.monitor.alarm_book import AlarmBook
from oxi_assist.monitor.alarm_config import AlarmConfig
from oxi_assist.monitor.alarm_rules import (
    MID,
    OFF,
    ON,
    UNK,
    Machine,
    Thresholds,
    classify_high,
    classify_low,
)


class Conditions:
    """The machines of every delayed condition, feeding `book`. `trend` is the SpO2 trend
    (%/min) at the last sample, None when unknown."""

    def __init__(self, cfg: AlarmConfig, th: Thresholds, book: AlarmBook) -> None:
        self._th = th
        self._book = book
        self._m: dict[str, Machine] = {k: Machine(r.delay_s) for k, r in cfg.rules.items()}
        # one queue per distinct rapid-fall window (both SpO2 rules usually share it)
        self._rapid: dict[float, deque[tuple[float, float]]] = {
            win: deque() for _, win in th.rapid.values()}
        self._trend: deque[tuple[float, float]] = deque()
        self.trend: float | None = None

    def tech(self, kind: str, t: float, c: int) -> None:
        """A technical condition (finger out, no sensor, …) is `c` (ON/OFF) at `t`."""
        m = self._m[kind]
        if c == OFF and not m.active and m.pending is None:
            return  # the common case: nothing to do
        self._moved(kind, m, t, m.step(t, c))

    def _phys(self, kind: str, t: float, c: int, bypass: bool = False) -> None:
        m = self._m[kind]
        if c != ON and not m.active and m.pending is None:
            return  # the common case: nothing to do
        self._moved(kind, m, t, m.step(t, c, bypass))

    def _moved(self, kind: str, m: Machine, t: float, res: int) -> None:
        if res == 1:
            self._book.raise_(kind, m.onset if m.onset is not None else t, t)
        elif res == -1:
            self._book.clear(kind, t)

    def spo2(self, t: float, s: float | None) -> None:
        """The SpO2 rules at one sample: `s` smoothed (tenths), None for an unknown sample."""
        if s is None:
            self.trend = None
            for k in ("spo2_low", "spo2_severe", "falling_fast"):
                self._phys(k, t, UNK)
            return
        th = self._th
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
            self.trend = tr
            on, clear = th.limits["falling_fast"]
            c = ON if tr <= on else (OFF if tr > clear else MID)
        else:
            self.trend = None
            c = UNK
        self._phys("falling_fast", t, c)

    def pulse(self, t: float, p: float | None) -> None:
        """The pulse rules at one sample: `p` smoothed (tenths), None for an unknown sample."""
        if p is None:
            self._phys("pulse_low", t, UNK)
            self._phys("pulse_high", t, UNK)
            return
        th = self._th
        on, clear = th.limits["pulse_low"]
        self._phys("pulse_low", t, classify_low(p, on, clear))
        on, clear = th.limits["pulse_high"]
        self._phys("pulse_high", t, classify_high(p, on, clear))
