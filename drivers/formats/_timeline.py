"""Samples made fit to analyse: sentinels and impossible values become gaps, a device's
start-up is told from a finger coming out, and a timestamped series is put on an even
timeline whose holes are gap samples. The text and the binary readers share these, so a hole
is a hole whatever the file format.
"""

from __future__ import annotations

import numpy as np

from drivers.formats._base import GAP, PARTIAL
from drivers.reading import Status


def clean_vitals(spo2: np.ndarray, pulse: np.ndarray, pi: np.ndarray | None = None,
                 gap: Status = GAP) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sentinels and impossible values → NaN, and the status flag per sample.

    SpO2 outside 1–100 (0, 127, 255, −1 …) and pulse outside 1–254 (0, 255, 511, 65535, −1 …)
    are no reading. Both missing → `gap` (the format's reason for a sentinel, GAP when it
    gives none); one missing → PARTIAL (the other value still counts).
    Works in place on float64 arrays it is given (no copies of a long recording).
    """
    s = np.asarray(spo2, dtype=np.float64)
    p = np.asarray(pulse, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        sb = ~((s > 0) & (s <= 100))
        pb = ~((p > 0) & (p < 255))
    s[sb] = np.nan
    p[pb] = np.nan
    status = np.zeros(len(s), dtype=np.int32)
    status[sb | pb] = int(PARTIAL)
    status[sb & pb] = int(gap)
    return s, p, status


def mark_startup(status: np.ndarray, spo2: np.ndarray, pulse: np.ndarray,
                 reasons: Status = GAP) -> None:
    """In place: the samples before a recording's first value that carry one of `reasons`
    (the format's sentinel flag) become STARTUP. A device's first seconds hold no reading
    while it acquires the pulse (FORMATS: start-up; a Contec record in manual mode stores its
    first ~27 s as artefacts even with the finger in), which is not the finger coming out.
    A recording with no value at all is left as it is: nothing started up."""
    has = ~(np.isnan(spo2) & np.isnan(pulse))
    n0 = int(np.argmax(has)) if len(has) else 0
    if n0 == 0:
        return  # a value at once, or none at all
    head = status[:n0]
    hit = (head & int(reasons)) != 0
    head[hit] = (head[hit] & ~int(reasons)) | int(Status.STARTUP)


def typical_step(d: np.ndarray) -> float:
    """The most common positive step (to the millisecond); the smallest on a tie; 1 s if none."""
    if len(d) > 200_000:  # the typical step shows in any long stretch: look at a sample
        d = d[:: len(d) // 100_000]
    pos = np.sort(np.rint(d[d > 0] * 1000).astype(np.int64))
    if not len(pos):
        return 1.0
    first = np.flatnonzero(np.concatenate(([True], pos[1:] != pos[:-1])))  # each value's
    counts = np.diff(np.append(first, len(pos)))
    return float(pos[first[np.argmax(counts)]]) / 1000.0


def typical_interval(t: np.ndarray) -> float:
    """`typical_step` of the steps between sorted times, without making all of them (a
    long recording: only the sample it looks at)."""
    m = len(t) - 1
    if m <= 200_000:
        return typical_step(np.diff(t))
    i = np.arange(0, m, m // 100_000)
    return typical_step(t[i + 1] - t[i])


def _jumps(ts: np.ndarray, limit: float) -> np.ndarray:
    """The indices i where ts[i + 1] - ts[i] > limit, a stretch at a time (no array of all
    the steps)."""
    step, m = 1 << 20, len(ts) - 1
    found = [np.flatnonzero(ts[a + 1:b + 1] - ts[a:b] > limit) + a
             for a, b in ((a, min(a + step, m)) for a in range(0, m, step))]
    return np.concatenate(found) if found else np.zeros(0, dtype=np.intp)


def timeline(ts: np.ndarray, spo2: np.ndarray, pulse: np.ndarray, status: np.ndarray,
             pi: np.ndarray | None = None, interval: float | None = None,
             max_fill: int | None = None,
             long_gap: float | None = None) -> tuple[np.ndarray, ...]:
    """Evens out a timestamped series: a jump in time longer than 1.5 intervals is filled with
    gap samples (no values, GAP flag) so the timeline keeps its length and statistics see the
    hole. A jump of `long_gap` seconds or more (a new session in the same file) gets a single
    gap sample instead. Returns (t from 0, spo2, pulse, status, pi, interval, t0)."""
    n = len(ts)
    if n == 0:
        return (ts, spo2, pulse, status, pi, interval or 1.0, 0.0)
    if interval is None:
        interval = typical_interval(ts)
    big = _jumps(ts, 1.5 * interval)
    t0 = float(ts[0])
    if not len(big):
        t = ts.copy() if not ts.flags.writeable else ts
        t -= t0
        return (t, spo2, pulse, status, pi, interval, t0)
    k = np.zeros(n, dtype=np.int64)
    k[big] = np.rint((ts[big + 1] - ts[big]) / interval).astype(np.int64) - 1
    if long_gap is not None:
        k[big] = np.where(ts[big + 1] - ts[big] >= long_gap, 1, k[big])
    cap = max_fill if max_fill is not None else max(1_000_000, 4 * n)
    if int(k.sum()) > cap:  # an absurd jump (a wrong date): mark it, don't fill days of it
        k = np.minimum(k, 1)
    total = n + int(k.sum())
    pos_ = np.arange(n) + np.concatenate(([0], np.cumsum(k)[:-1]))
    reps = k + 1
    base = np.repeat(ts - t0, reps)
    j = np.arange(total) - np.repeat(pos_, reps)
    t = base + j * interval
    out_s = np.full(total, np.nan)
    out_p = np.full(total, np.nan)
    out_st = np.full(total, int(GAP), dtype=np.int32)
    out_s[pos_], out_p[pos_], out_st[pos_] = spo2, pulse, status
    out_pi = None
    if pi is not None:
        out_pi = np.full(total, np.nan)
        out_pi[pos_] = pi
    return (t, out_s, out_p, out_st, out_pi, interval, t0)
