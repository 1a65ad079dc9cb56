"""Spike-robust moving average, one sample at a time (live) and over whole arrays (offline).

Values are handled as whole tenths (integers): a device's 97 or 97.4 is exact in tenths, so a
running sum that adds and drops samples stays exact and equals a cumulative-sum difference over
the same window. That is what lets the live and offline sides agree to the last bit.

Rule, over the valid samples of one channel (SpO2 or pulse), with window W seconds:
* median-of-3: the raw value is replaced by the median of itself and the two valid samples
  before it, when both are inside the window (t_j > t - W); otherwise it is used as is;
* moving average: the mean of the median-filtered values of the valid samples with
  t_j > t - W (the current one included), rounded to whole tenths (half to even), which is
  also what the screen shows. Integer smoothed values keep every later rule exact too.
"""

from __future__ import annotations

from collections import deque

import numpy as np


def to_tenths(x: float) -> int:
    return round(x * 10.0)


class Channel:
    """Live smoother for one channel. `push` is O(1) amortised."""

    __slots__ = ("_buf", "_p1", "_p2", "_sum", "window")

    def __init__(self, window: float) -> None:
        self.window = window
        self._buf: deque[tuple[float, int]] = deque()
        self._sum = 0
        self._p1: tuple[float, int] | None = None  # previous valid (t, raw tenths)
        self._p2: tuple[float, int] | None = None  # the one before

    def push(self, t: float, x: int) -> int:
        """Adds a valid raw value (tenths); returns the smoothed value in tenths."""
        lo = t - self.window
        p1, p2 = self._p1, self._p2
        if p2 is not None and p1 is not None and p2[0] > lo:
            a, b = p2[1], p1[1]
            if a > b:
                a, b = b, a
            m = a if x < a else (b if x > b else x)  # median of three, no calls
        else:
            m = x
        self._p2 = p1
        self._p1 = (t, x)
        buf = self._buf
        buf.append((t, m))
        s = self._sum + m
        while buf[0][0] <= lo:
            s -= buf.popleft()[1]
        self._sum = s
        return round(s / len(buf))


def window_start(t: np.ndarray, span: float, side: str) -> np.ndarray:
    """`np.searchsorted(t, t - span, side)` for sorted `t`, fast for regular sampling.

    A binary search per sample costs ~100 ns, which alone would blow the analysis budget, so
    the start is guessed from the typical number of samples per window and only the guesses
    that fail the exact predicate (the same comparison the live side makes) are searched.
    """
    n = len(t)
    q = t - span
    if n < 256:
        return np.searchsorted(t, q, side=side)  # type: ignore[call-overload]
    probe = np.linspace(n // 8, n - 1, 33).astype(np.intp)
    c = int(np.median(probe - np.searchsorted(t, q[probe], side=side)))  # type: ignore[call-overload]
    if not 0 <= c < n - 1:
        return np.searchsorted(t, q, side=side)  # type: ignore[call-overload]
    # guess i - c; for i > c both neighbours of the guess are plain slices (no gathers)
    qi = q[c + 1:]
    if side == "right":
        ok = (t[1:n - c] > qi) & (t[:n - c - 1] <= qi)
    else:
        ok = (t[1:n - c] >= qi) & (t[:n - c - 1] < qi)
    g = np.arange(-c, n - c)
    g[:c + 1] = np.searchsorted(t, q[:c + 1], side=side)  # type: ignore[call-overload]
    bad = np.flatnonzero(~ok)
    if len(bad):
        bad += c + 1
        g[bad] = np.searchsorted(t, q[bad], side=side)  # type: ignore[call-overload]
    return g


def smooth(t: np.ndarray, x: np.ndarray, window: float,
           k: np.ndarray | None = None) -> np.ndarray:
    """Offline smoother over the valid samples only: `t` sorted, `x` integer tenths; returns
    int32 tenths. `k` is `window_start(t, window, "right")` when the caller has it."""
    n = len(t)
    if n == 0:
        return np.zeros(0, dtype=np.int32)
    if k is None:
        k = window_start(t, window, "right")
    cnt = np.arange(1, n + 1) - k  # samples in each window, the current one included
    m = x.copy()
    if n >= 3:
        a, b, c = x[:-2], x[1:-1], x[2:]
        lo = np.minimum(a, b)
        med = np.maximum(lo, np.minimum(np.maximum(a, b), c))
        np.copyto(m[2:], med, where=cnt[2:] >= 3)
    cs = np.empty(n + 1, dtype=np.int64)
    cs[0] = 0
    np.cumsum(m, out=cs[1:], dtype=np.int64)
    mean = cs[1:] - cs[k]
    return np.rint(mean / cnt).astype(np.int32)
