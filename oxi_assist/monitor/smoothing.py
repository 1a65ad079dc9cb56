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
from typing import NamedTuple

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


class Starts(NamedTuple):
    """Window starts `k = np.searchsorted(t, t - span, side)` by their shape: k[i] is
    i - lag for every i except the (sorted) indices in `odd`, where it is `k_odd`. Under
    steady sampling nearly every window holds the same number of samples, so consumers work
    on plain slices offset by `lag` and fix up only the odd windows (the start, after gaps,
    bursts); the whole array is seldom needed."""

    n: int
    lag: int
    odd: np.ndarray
    k_odd: np.ndarray

    @property
    def k(self) -> np.ndarray:
        k = np.arange(-self.lag, self.n - self.lag)
        k[self.odd] = self.k_odd
        return k

    def at(self, idx: np.ndarray) -> np.ndarray:
        """k[idx] for sorted indices `idx`, without the whole array."""
        k = idx - self.lag
        if len(self.odd) and len(idx):
            j = self.odd.searchsorted(idx)
            j[j == len(self.odd)] = 0
            hit = self.odd[j] == idx
            k[hit] = self.k_odd[j[hit]]
        return k

    @classmethod
    def of(cls, k: np.ndarray) -> Starts:
        """The shape of window starts found some other way."""
        n = len(k)
        if n == 0:
            return cls(0, 0, np.zeros(0, dtype=np.intp), k)
        pr = _probe(n)
        lag = sorted((pr - k[pr]).tolist())[len(pr) // 2]
        if not 0 <= lag < n:
            lag = 0  # no window holds the current sample: keep slices in bounds
        odd = (k != np.arange(-lag, n - lag)).nonzero()[0]
        return cls(n, lag, odd, k[odd])


def _probe(n: int) -> np.ndarray:
    """17 indices spread over the last 7/8 of n samples (the start is seldom typical)."""
    return n // 8 + (np.arange(17) * (n - 1 - n // 8)) // 16


def window_start(t: np.ndarray, span: float, side: str) -> np.ndarray:
    """`np.searchsorted(t, t - span, side)` for sorted `t`, fast for regular sampling."""
    return window_starts(t, span, side).k


def window_starts(t: np.ndarray, span: float, side: str) -> Starts:
    """`np.searchsorted(t, t - span, side)` for sorted `t`, by its shape (see `Starts`).

    A binary search per sample costs ~100 ns, which alone would blow the analysis budget, so
    the start is guessed from the typical number of samples per window and only the guesses
    that fail the exact predicate (the same comparison the live side makes) are searched.
    """
    n = len(t)
    if n < 256:
        return Starts(n, 0, np.arange(n), t.searchsorted(t - span, side=side))  # type: ignore[call-overload]
    pr = _probe(n)
    c = sorted((pr - t.searchsorted(t[pr] - span, side=side)).tolist())[len(pr) // 2]  # type: ignore[call-overload]
    if not 0 <= c < n - 1:
        return Starts(n, 0, np.arange(n), t.searchsorted(t - span, side=side))  # type: ignore[call-overload]
    # guess i - c; for i > c both neighbours of the guess are plain slices (no gathers):
    # the guess fails where the sample at it is already out or the one before still in
    qi = t[c + 1:] - span
    if side == "right":
        bad = t[1:n - c] <= qi
        bad |= t[:n - c - 1] > qi
    else:
        bad = t[1:n - c] < qi
        bad |= t[:n - c - 1] >= qi
    odd = np.concatenate((np.arange(c + 1), bad.nonzero()[0] + (c + 1)))
    # the windows that still reach back to the first sample (the start of a recording) need
    # no search: they are the first z, found by one search among their own bounds
    z = int((t[:c + 1] - span).searchsorted(t[0], side="right" if side == "left" else "left"))
    k_odd = np.empty(len(odd), dtype=np.intp)
    k_odd[:z] = 0
    k_odd[z:] = t.searchsorted(t[odd[z:]] - span, side=side)  # type: ignore[call-overload]
    return Starts(n, c, odd, k_odd)


def take(a: np.ndarray, st: Starts) -> np.ndarray:
    """`a[st.k]`, as a slice copy plus the odd windows' gathers."""
    n, lag = st.n, st.lag
    out = np.empty(n, dtype=a.dtype)
    out[lag:] = a[:n - lag]
    out[st.odd] = a[st.k_odd]
    return out


def smooth(t: np.ndarray, x: np.ndarray, window: float,
           k: np.ndarray | Starts | None = None) -> np.ndarray:
    """Offline smoother over the valid samples only: `t` sorted, `x` integer tenths; returns
    int32 tenths. `k` is `window_starts(t, window, "right")` (or its `.k`) when the caller
    has it.

    Window sums are differences of one cumulative sum. It is kept in 32 bits when every
    window sum fits: the running total may wrap around, but a difference of wrapped totals is
    still the exact window sum. The windows of the typical size `c` are taken between two
    slices of the cumulative sum; only the odd ones are gathered one by one."""
    n = len(t)
    if n == 0:
        return np.zeros(0, dtype=np.int32)
    if k is None:
        st = window_starts(t, window, "right")
    else:
        st = k if isinstance(k, Starts) else Starts.of(k)
    odd = st.odd
    c = st.lag + 1  # samples in a typical window, the current one included
    cnt_odd = odd + 1 - st.k_odd
    # median of three where the two valid samples before are in the window too
    if c >= 3:
        m = np.empty(n, dtype=x.dtype)
        m[:2] = x[:2]
        lo = np.minimum(x[:-2], x[1:-1])
        hi = np.maximum(x[:-2], x[1:-1])
        np.minimum(hi, x[2:], out=hi)
        np.maximum(lo, hi, out=m[2:])
        raw = odd[cnt_odd < 3]
        m[raw] = x[raw]
    else:
        m = x.copy()
        med = odd[cnt_odd >= 3]
        a, b, e = x[med - 2], x[med - 1], x[med]
        m[med] = np.maximum(np.minimum(a, b), np.minimum(np.maximum(a, b), e))
    big = max(abs(int(x.min())), abs(int(x.max())))  # medians stay within x's range
    most = max(c, int(cnt_odd.max()) if len(odd) else 0)
    acc = np.int32 if most * big < 2**31 else np.int64
    cs = np.empty(n + 1, dtype=acc)
    cs[0] = 0
    np.cumsum(m, out=cs[1:], dtype=acc)
    total = np.empty(n, dtype=acc)
    if c <= n:
        np.subtract(cs[c:], cs[:n - c + 1], out=total[c - 1:])
    total[odd] = cs[odd + 1] - cs[st.k_odd]
    # the mean rounded to whole tenths. While |sum| < 2**23, float32 holds every sum and
    # count exactly and its one rounding in the division (relative 2**-24) stays closer than
    # any sum/count that is not a tie (1 / 2count away) is to a rounding boundary, so it
    # rounds as float64 does, on arrays half the size. Ties are exact in both.
    exact32 = most * big < 2**23
    mean = total.astype(np.float32 if exact32 else np.float64)
    mean /= mean.dtype.type(c)  # the same division as by each window's own count: that is c
    out = np.rint(mean, out=mean).astype(np.int32)
    out[odd] = np.rint(total[odd] / cnt_odd)
    return out
