"""One channel (SpO2 or pulse) of a recording, chunk by chunk: its valid samples with the
look-back its windowed rules need, and what it carries from one chunk to the next.

The offline analysis reads a long recording in chunks of readings [a, b). A windowed value
(the smoothed value, the trend, the baseline maximum) depends on the samples a bounded time
before it, so a chunk's arrays start that far back (`Samples.c0` is the first sample of the
chunk itself) and every value from `c0` on is the one the whole recording gives. What has no
bound in time — the last valid sample (when does the value go stale?), the start of the
current stretch of valid values (is it past its start-up?) — is carried in `Carry`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from oxi_assist.monitor.alarm_rules import first_reaching
from oxi_assist.monitor.smoothing import Starts, smooth, window_starts


@dataclass
class Samples:
    """A channel's valid samples in one chunk, look-back first."""

    vidx: np.ndarray  # the reading index of each
    tv: np.ndarray  # its time
    x: np.ndarray  # the device's value in whole tenths (int32)
    c0: int  # the first sample of the chunk itself (before it: look-back)
    starts: dict[tuple[float, str], Starts]  # window starts, shared with a `like` channel
    s: np.ndarray | None = None  # smoothed, in whole tenths

    def k(self, span: float, side: str) -> Starts:
        """`np.searchsorted(tv, tv - span, side)`: the first valid sample in each window."""
        key = (span, side)
        k = self.starts.get(key)
        if k is None:
            k = self.starts[key] = window_starts(self.tv, span, side)
        return k


def samples(t: np.ndarray, valid: np.ndarray, values: np.ndarray, a0: int, a: int,
            window: float | None, like: Samples | None = None) -> Samples:
    """The valid samples of readings [a0, ...) (`valid` is their mask, from a0 on) with
    `values` in whole tenths, smoothed over `window` seconds unless it is None. `like`: a
    channel with exactly the same valid samples, whose layout is reused."""
    if like is not None:
        vidx, tv, starts, c0 = like.vidx, like.tv, like.starts, like.c0
    else:
        vidx = valid.nonzero()[0]
        if a0:
            vidx += a0
        tv = np.take(t, vidx)  # (np.take gathers faster than indexing)
        starts = {}
        c0 = int(vidx.searchsorted(a)) if a > a0 else 0
    x = np.take(values, vidx)
    x *= 10.0
    x = np.rint(x, out=x).astype(np.int32)  # tenths: 32 bits are plenty
    sm = Samples(vidx, tv, x, c0, starts)
    if window is not None:
        sm.s = smooth(tv, x, window, sm.k(window, "right"))
    return sm


@dataclass
class Stats:
    """Minimum, maximum and sum of whole tenths past the start-up of their stretch, gathered
    chunk by chunk; and of every value while none has settled, which is what is reported
    when none ever does (rather than no statistics at all)."""

    lo: int | None = None
    hi: int | None = None
    total: int = 0
    count: int = 0
    _all: list[int] = field(default_factory=lambda: [0, 0, 0, 0])  # lo, hi, total, count

    def add(self, v: np.ndarray, lo: np.ndarray, hi: np.ndarray, mean: bool) -> None:
        """The values `v` of one chunk's own samples, settled in the ranges [lo, hi)."""
        if len(lo):
            bounds = np.empty(2 * len(lo), dtype=np.intp)
            bounds[0::2] = lo
            bounds[1::2] = hi
            if bounds[-1] == len(v):
                bounds = bounds[:-1]  # the last range runs to the end of v
            a = int(np.minimum.reduceat(v, bounds)[0::2].min())
            b = int(np.maximum.reduceat(v, bounds)[0::2].max())
            self.lo = a if self.lo is None else min(self.lo, a)
            self.hi = b if self.hi is None else max(self.hi, b)
            self.count += int((hi - lo).sum())
            if mean:  # sums of tenths may pass 2**31
                self.total += int(np.add.reduceat(v, bounds, dtype=np.int64)[0::2].sum())
        elif self.count == 0 and len(v):
            a, b = int(v.min()), int(v.max())
            al = self._all
            first = al[3] == 0
            al[0] = a if first else min(al[0], a)
            al[1] = b if first else max(al[1], b)
            al[2] += int(v.sum(dtype=np.int64)) if mean else 0
            al[3] += len(v)

    def result(self) -> tuple[float | None, float | None, float | None]:
        """(minimum, maximum, mean rounded to 0.1) in units, or Nones with no values."""
        if self.count:
            lo, hi, total, count = self.lo, self.hi, self.total, self.count
        elif self._all[3]:
            lo, hi, total, count = self._all
        else:
            return None, None, None
        assert lo is not None and hi is not None
        return lo / 10.0, hi / 10.0, round(total / count / 10.0, 1)


@dataclass
class Settled:
    """What one chunk's samples of a channel gave: the stale gaps found (mark positions,
    when due, the next valid time), per statistic the ranges of samples past start-up, and
    the start of the stretch that goes on."""

    pos: list[np.ndarray] = field(default_factory=list)
    due: list[np.ndarray] = field(default_factory=list)
    next: list[np.ndarray] = field(default_factory=list)
    ranges: list[tuple[np.ndarray, np.ndarray]] = field(default_factory=list)
    stretch_t: float = math.nan


class Carry:
    """What a channel carries from one chunk to the next, and what it gathers over all:
    its stale marks (the instants its value went stale, each a sample of its own between
    readings), the gaps that caused them, and statistics of its values past start-up."""

    def __init__(self, stale_s: float, settle: tuple[float, ...]) -> None:
        self.stale_s = stale_s
        self.settle = settle  # start-up (s) per statistic
        self.stats = tuple(Stats() for _ in settle)
        self.last_i = -1  # reading index of the last valid sample so far
        self.last_t = math.nan
        self.stretch_t = math.nan  # time of the first sample of the current stretch
        self.count = 0
        self.first_t = math.nan
        self._pos: list[np.ndarray] = []
        self._due: list[np.ndarray] = []
        self._next: list[np.ndarray] = []

    def state(self) -> tuple[int, float, float]:
        return self.last_i, self.last_t, self.stretch_t

    def step(self, t: np.ndarray, sm: Samples, values: tuple[np.ndarray, ...], mean: bool,
             same: Settled | None = None) -> Settled | None:
        """Takes one chunk's own samples: stale gaps (a valid value more than stale_s after
        the one before), stretches (which start after an invalid reading or a stale gap) and
        each of `values` (own samples only) past the start-up of its stretch. Returns where
        the values settled; `same`: that of a channel with the same samples and the same
        state (its stale gaps and stretches are this one's), taken as it is."""
        vi, tvc = sm.vidx[sm.c0:], sm.tv[sm.c0:]
        m = len(vi)
        if m == 0:
            return None
        if same is None:
            same = self._settled(t, vi, tvc)
        else:
            self._pos += same.pos
            self._due += same.due
            self._next += same.next
        for st, v, (lo, hi) in zip(self.stats, values, same.ranges, strict=True):
            st.add(v, lo, hi, mean)
        self.stretch_t = same.stretch_t
        self.last_i, self.last_t = int(vi[-1]), float(tvc[-1])
        self.count += m
        return same

    def _settled(self, t: np.ndarray, vi: np.ndarray, tvc: np.ndarray) -> Settled:
        m = len(vi)
        due = tvc + self.stale_s
        gap_in = tvc[1:] > due[:-1]  # the next valid value came after going stale
        brk = gap_in | (vi[1:] - vi[:-1] > 1)  # ... or after an invalid reading
        starts = brk.nonzero()[0]
        starts += 1
        g = gap_in.nonzero()[0]
        d_g, nxt = due[g], tvc[g + 1]
        if self.last_i < 0:
            self.first_t = float(tvc[0])
            head = True  # the first valid sample of the recording starts a stretch
        else:
            prev_due = self.last_t + self.stale_s
            head_gap = bool(tvc[0] > prev_due)
            head = head_gap or int(vi[0]) - self.last_i > 1
            if head_gap:
                d_g = np.concatenate(([prev_due], d_g))
                nxt = np.concatenate((tvc[:1], nxt))
        if head:
            starts = np.concatenate(([0], starts))
        out = Settled()
        if len(d_g):
            out.pos.append(t.searchsorted(d_g, side="right"))
            out.due.append(d_g)
            out.next.append(nxt)
            self._pos += out.pos
            self._due += out.due
            self._next += out.next
        # stretches [lo, hi) of own samples and the time each began
        lo = starts
        hi = np.empty(len(starts), dtype=np.intp)
        hi[:-1] = starts[1:]
        if len(hi):
            hi[-1] = m
        run_t = tvc[lo]
        if not head:  # the stretch of the last chunk goes on
            lo = np.concatenate(([0], lo))
            hi = np.concatenate(([starts[0] if len(starts) else m], hi))
            run_t = np.concatenate(([self.stretch_t], run_t))
        for settle in self.settle:
            if settle > 0:
                first = first_reaching(tvc, run_t, settle, lo, hi)  # tv - start >= settle
                keep = first < hi
                out.ranges.append((first[keep], hi[keep]))
            else:
                out.ranges.append((np.zeros(1, dtype=np.intp), np.full(1, m)))
        out.stretch_t = float(run_t[-1])
        return out

    def marks(self, t: np.ndarray, t_end: float) -> tuple[np.ndarray, np.ndarray]:
        """(position, time) of every stale mark, once all chunks are in: one at each stale
        gap and one after the last valid value when the recording goes on past its staleness
        (the reading each precedes; len(t) when after the last)."""
        pos, due = list(self._pos), list(self._due)
        if self.count:
            last = self.last_t + self.stale_s
            if t_end > last:
                pos.append(t.searchsorted([last], side="right"))
                due.append(np.array([last]))
        if not pos:
            return np.zeros(0, dtype=np.intp), np.zeros(0)
        return np.concatenate(pos), np.concatenate(due)

    def gaps(self) -> tuple[np.ndarray, np.ndarray]:
        """(when the value went stale, when the next came) of every stale gap."""
        if not self._due:
            return np.zeros(0), np.zeros(0)
        return np.concatenate(self._due), np.concatenate(self._next)
