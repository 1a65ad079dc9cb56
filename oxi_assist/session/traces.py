"""The screen's recent past: the trend of the smoothed vitals and the pleth waveform.

Both are numpy rings of a fixed size, so a long session costs the same per sample as a short
one and a redraw (a few times a second) copies at most one window. Times are session seconds.
"""

from __future__ import annotations

import math

import numpy as np


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

