"""Offline analysis: the vectorized rules (oxi_assist.analysis) on 24 h at 1 Hz and 8 h at
100 Hz, against a straightforward pure-Python loop of the same rules — the live Monitor fed
one reading at a time — measured in the same run.

The Python loop is timed on a prefix of the same trace (it would take minutes on the whole
100 Hz night) and its per-sample rate is scaled to the whole trace; the row name says so. Both
sides' alarms and desaturation events are checked equal on that prefix, so the speed-up is
for the same answer. The analysis rows time arrays → result; turning a list of `Reading`
objects into arrays is a separate row, since a file reader can fill arrays directly.
"""

from __future__ import annotations

import sys
import time
from typing import Any

import numpy as np

from drivers.reading import Reading, Status
from oxi_assist.analysis import Trace, analyze_trace
from oxi_assist.monitor.alarm_config import AlarmConfig
from oxi_assist.monitor.monitor import Monitor


def synthetic(hours: float, rate: float, seed: int = 1) -> Trace:
    """A night-like trace: SpO2 around 95–97 with sensor noise, repeated desaturations
    (about 12 an hour), a few finger-out gaps, motion flags and one data gap."""
    rng = np.random.default_rng(seed)
    n = int(hours * 3600 * rate)
    t = np.arange(n) / rate
    base = 96.0 + 1.0 * np.sin(t / 1800.0)
    ev = rng.uniform(0, t[-1], int(hours * 12))
    dip = np.zeros(n)
    for e in ev:  # a dip of 4–12 points lasting 20–60 s
        d, w = rng.uniform(4, 12), rng.uniform(20, 60)
        i0, i1 = np.searchsorted(t, [e, e + w])
        x = (t[i0:i1] - e) / w
        dip[i0:i1] = np.maximum(dip[i0:i1], d * np.sin(np.pi * x))
    spo2 = np.round(base - dip + rng.normal(0, 0.5, n))
    pulse = np.round(68 + 6 * np.sin(t / 900.0) + rng.normal(0, 1.0, n))
    status = np.zeros(n, dtype=np.int64)
    for e in rng.uniform(0, t[-1], max(1, int(hours))):  # finger out for 5–40 s
        i0, i1 = np.searchsorted(t, [e, e + rng.uniform(5, 40)])
        status[i0:i1] = int(Status.FINGER_OUT)
    motion = rng.random(n) < 0.01
    status[motion] |= int(Status.MOTION)
    spo2[status & int(Status.FINGER_OUT) != 0] = np.nan
    pulse[status & int(Status.FINGER_OUT) != 0] = np.nan
    keep = np.ones(n, dtype=bool)
    g0 = int(n * 0.37)
    keep[g0:g0 + int(60 * rate)] = False  # one minute of no data at all
    return Trace(t[keep], spo2[keep], pulse[keep], np.full(keep.sum(), 2.0), status[keep],
                 np.zeros(0), [], 0, 1.0 / rate)


def readings(tr: Trace, count: int) -> list[Reading]:
    out = []
    for i in range(min(count, len(tr.t))):
        s, p = tr.spo2[i], tr.pulse[i]
        out.append(Reading(t=float(tr.t[i]), spo2=None if s != s else float(s),
                           pulse=None if p != p else float(p), pi=float(tr.pi[i]),
                           status=Status(int(tr.status[i]))))
    return out


def _best(fn: Any, repeat: int) -> tuple[float, float]:
    """Best wall and best CPU seconds of `repeat` runs (CPU time leaves out the time the OS
    gave other processes: this machine is shared)."""
    wall = cpu = float("inf")
    for _ in range(repeat):
        w0, c0 = time.perf_counter(), time.process_time()
        fn()
        cpu = min(cpu, time.process_time() - c0)
        wall = min(wall, time.perf_counter() - w0)
    return wall, cpu


def _python_loop(items: list[Reading], cfg: AlarmConfig) -> tuple[float, float, dict[str, Any]]:
    m = Monitor(cfg)
    w0, c0 = time.perf_counter(), time.process_time()
    for r in items:
        m.update(r)
    return time.perf_counter() - w0, time.process_time() - c0, m.summary()


def _same(a: Any, live: dict[str, Any]) -> bool:
    def ak(x: dict[str, Any]) -> tuple:
        return (x["kind"], x["onset_s"], x["start_s"], x["end_s"])

    def dk(x: dict[str, Any]) -> tuple:
        return (x["level"], x["start_s"], x["end_s"], x["nadir"], x["baseline"])

    off = a.to_dict()
    return (sorted(map(ak, off["alarms"])) == sorted(map(ak, live["alarms"]))
            and sorted(map(dk, off["desaturations"])) == sorted(map(dk, live["desaturations"])))


def _case(label: str, tr: Trace, cfg: AlarmConfig, prefix: int, repeat: int) -> list[dict]:
    n = len(tr.t)
    analyze_trace(tr, cfg)  # warm-up
    vec, vec_cpu = _best(lambda: analyze_trace(tr, cfg), repeat)
    items = readings(tr, prefix)
    loop_s, loop_cpu, live = _python_loop(items, cfg)
    head = Trace.from_items(items)
    if not _same(analyze_trace(head, cfg), live):
        raise AssertionError("vectorized and pure-Python results differ")
    scale = n / len(items)
    base_total, base_cpu = loop_s * scale, loop_cpu * scale
    conv = _best(lambda: Trace.from_items(items), 1)[0] * scale
    target = "< 10 ms" if "24 h" in label else None
    return [
        {"benchmark": f"analysis {label} ({n:,} samples), wall; baseline: Python loop "
                      f"timed on {len(items):,} samples, scaled",
         "value": vec * 1e3, "unit": "ms", "baseline": base_total * 1e3,
         "ratio": base_total / vec, "target": target},
        {"benchmark": f"analysis {label}, CPU time", "value": vec_cpu * 1e3, "unit": "ms",
         "baseline": base_cpu * 1e3, "ratio": base_cpu / vec_cpu if vec_cpu else None,
         "target": target},
        {"benchmark": f"analysis {label} throughput",
         "value": n / vec, "unit": "samples/s", "baseline": n / base_total,
         "ratio": base_total / vec, "target": None},
        {"benchmark": f"analysis {label}: Readings -> arrays (scaled from prefix)",
         "value": conv * 1e3, "unit": "ms", "baseline": None, "ratio": None, "target": None},
    ]


def run(quick: bool = False) -> list[dict]:
    cfg = AlarmConfig.default()
    rows = _case("24 h @ 1 Hz", synthetic(24.0, 1.0), cfg,
                 prefix=3600 if quick else 86_400, repeat=5 if quick else 15)
    hours_100 = 0.5 if quick else 8.0
    label = f"{hours_100:g} h @ 100 Hz"
    rows += _case(label, synthetic(hours_100, 100.0, seed=2), cfg,
                  prefix=20_000 if quick else 100_000, repeat=3 if quick else 5)
    return rows


if __name__ == "__main__":
    for row in run(quick="--full" not in sys.argv):
        print(row)
