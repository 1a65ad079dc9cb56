"""Desaturation events of a whole recording: the live desaturation rule
(oxi_assist.monitor.monitor) on the device's values, from where each level's drop held.

Inputs are per reading of the recording: the device's SpO2 in whole tenths (`x`, `NO_VALUE`
where the reading has no valid SpO2) and the pre-event baseline (`base`: the highest valid
value of the baseline window up to that reading), plus the runs of readings `drop` or more
below their baseline (oxi_assist.run_lists). The SpO2 channel also has samples of its own
between readings, where its value went stale (`StaleMarks`): no value, so they end an event
as a gap.

Stream order: a stale mark at position p lies after reading p - 1 and before reading p. A
sample's place in that order is its key: 2 r + 1 for reading r, 2 p for a mark at p.

Each ON run that lasts min_duration_s raises a candidate event, and every candidate's end
(recovery against its own baseline, too long, or a sample with no value) is found in one pass
over the concatenated windows that can hold it. The only sequential part is a loop over
candidates: one that starts inside the previous kept event is skipped, and a run that outlives
an event ended too long restarts after that end, as the live rule does.
"""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass

import numpy as np

from oxi_assist.monitor.alarm_rules import first_reaching
from oxi_assist.monitor.records import DesatEnd, DesatRecord

#: `x` of a reading with no valid SpO2: above every value, so a minimum passes over it
NO_VALUE = np.iinfo(np.int16).max
#: how an event ended, by the code the search below gives it (0: still going at the end)
_ENDS = (None, DesatEnd.RECOVERED, DesatEnd.TOO_LONG, DesatEnd.GAP)


@dataclass(frozen=True)
class StaleMarks:
    """The instants a channel's value went stale, between readings: `pos` (sorted) the
    reading each one precedes (len(t) when after the last), `t` their times."""

    pos: np.ndarray
    t: np.ndarray

    def end_times(self, t: np.ndarray, end: np.ndarray) -> np.ndarray:
        """The time of the sample that ends each run ending before reading `end`: the mark
        there, if any, else that reading; NaN when there is none (still active at the end)."""
        n = len(t)
        out = np.full(len(end), np.nan)
        has = end < n
        out[has] = t[end[has]]
        if len(self.pos) and len(end):
            q = np.minimum(self.pos.searchsorted(end), len(self.pos) - 1)
            mark = self.pos[q] == end
            out[mark] = self.t[q[mark]]
        return out


@dataclass(frozen=True)
class Level:
    """One desaturation level: its name in the records (the drop in %), the drop and the
    recovery in tenths, and the runs of readings at least that drop below their baseline."""

    level: float
    d: float
    rec: float
    runs: tuple[np.ndarray, np.ndarray]


def desaturation_events(t: np.ndarray, x: np.ndarray, base: np.ndarray, marks: StaleMarks,
                        levels: list[Level], min_d: float, max_d: float,
                        ) -> tuple[list[DesatRecord], dict[float, int]]:
    """The events of every level as records in time order (a level before a deeper one at
    the same instant), and per level how many count (the recovered ones). The levels'
    candidates are found and ended together; only the loop that keeps them is per level."""
    counts = {lv.level: 0 for lv in levels}
    nrun = [len(lv.runs[0]) for lv in levels]
    if not sum(nrun):
        return [], counts
    lo = np.concatenate([lv.runs[0] for lv in levels])
    hi = np.concatenate([lv.runs[1] for lv in levels])
    which = np.repeat(np.arange(len(levels)), nrun)  # each run's level
    if min_d > 0:  # a run raises when it lasts min_d: only the ones whose last sample does
        long = (t[hi - 1] - t[lo] >= min_d).nonzero()[0]
        lo, hi, which = lo[long], hi[long], which[long]
        raised = first_reaching(t, t[lo], min_d, lo, hi)
        fire = (raised < hi).nonzero()[0]
        raised, onset, which = raised[fire], lo[fire], which[fire]
    else:
        raised, onset = lo, lo
    if not len(raised):
        return [], counts
    rec = np.array([lv.rec for lv in levels])[which]
    ends, how = _ends(t, x, base, marks, raised, onset, rec, max_d)
    cut = which.searchsorted(np.arange(len(levels) + 1))  # candidates of level k: cut[k]..
    kept = [_keep(t, x, base, marks, onset[a:b], ends[a:b], how[a:b], lv.rec, lv.d, max_d,
                  min_d) for lv, a, b in zip(levels, cut[:-1], cut[1:], strict=True)]
    n = len(t)
    parts = []
    for k, (lv, (o, e, h)) in enumerate(zip(levels, kept, strict=True)):
        if not len(o):
            continue
        counts[lv.level] = int(np.count_nonzero(h == 1))
        bounds = np.empty(2 * len(o), dtype=np.intp)  # readings [o, stop) are the event's
        bounds[0::2] = o
        bounds[1::2] = np.where(e >= 0, (e + 1) // 2, n)
        if bounds[-1] == n:
            bounds = bounds[:-1]  # the last event runs to the end of the readings
        parts.append((o, e, h, np.minimum.reduceat(x, bounds)[::2], np.full(len(o), k)))
    if not parts:
        return [], counts
    o, e, h, nadir, k = (np.concatenate(a) for a in zip(*parts, strict=True))
    names = [lv.level for lv in levels]
    # by start time, then level (then the order found: level by level, in time)
    order = np.lexsort((o, k, np.array(names)[k], t[o]))
    o, e, h, nadir, k = o[order], e[order], h[order], nadir[order], k[order]
    ends_t = np.full(len(e), np.nan)  # the time of the sample that ended each event
    at_reading = (e >= 0) & (e % 2 == 1)
    ends_t[at_reading] = t[e[at_reading] // 2]
    at_mark = (e >= 0) & (e % 2 == 0)
    if at_mark.any():
        ends_t[at_mark] = marks.t[marks.pos.searchsorted(e[at_mark] // 2)]
    start = t[o]
    b = base[o]
    out = [DesatRecord(names[lk], to, bb, nd, None if te != te else te, _ENDS[hw])
           for lk, to, te, bb, nd, hw in zip(
               k.tolist(), start.tolist(), ends_t.tolist(), b.tolist(), nadir.tolist(),
               h.tolist(), strict=True)]
    return out, counts


#: readings after the raise searched for every event before the rest of its window
_FIRST = 24


def _first_ends(t: np.ndarray, x: np.ndarray, lo: np.ndarray, hi: np.ndarray,
                lim0: np.ndarray, t_on: np.ndarray, max_d: float, ends: np.ndarray,
                how: np.ndarray) -> None:
    """For each event, the first reading of [lo, hi) that ends it — recovered (at or above
    lim0), too long (more than max_d after t_on) or with no value — into `ends` (its key)
    and `how` (1, 2, 3); untouched where none does. One pass over the concatenated
    windows."""
    ln = hi - lo
    tot = int(ln.sum())
    if not tot:
        return
    seg_start = np.zeros(len(ln), dtype=np.intp)
    np.cumsum(ln[:-1], out=seg_start[1:])
    owner = np.repeat(np.arange(len(lo)), ln)
    idx = np.arange(tot) - np.repeat(seg_start - lo, ln)
    xi = x[idx]
    gap = xi == NO_VALUE
    rcv = xi >= lim0[owner]
    tl = (t[idx] - t_on[owner]) > max_d
    rcv &= ~gap
    tl &= ~gap
    hit = (rcv | tl | gap).nonzero()[0]
    if len(hit):
        first = hit.searchsorted(seg_start)  # the first hit at or after each start
        ok = first < len(hit)
        f = hit[np.minimum(first, len(hit) - 1)]
        ok &= f < seg_start + ln
        ends[ok] = 2 * idx[f[ok]] + 1
        how[ok] = np.where(gap[f[ok]], 3, np.where(rcv[f[ok]], 1, 2))


def _ends(t: np.ndarray, x: np.ndarray, base: np.ndarray, marks: StaleMarks,
          raised: np.ndarray, onset: np.ndarray, rec: np.ndarray, max_d: float,
          ) -> tuple[np.ndarray, np.ndarray]:
    """(key of the sample that ends it or -1, how: 0 open, 1 recovered, 2 too long, 3 gap)
    of each candidate event (the reading that raised and the first reading of its run) as
    if it were kept."""
    n = len(t)
    lim0 = base[onset] - rec  # recovered at or above this
    t_on = t[onset]
    # each candidate's window: from the reading after the raise to the first reading past
    # max_d after the onset (two spare readings cover the rounding of t + max_d). Most
    # events end soon after they are raised: their first readings are searched for all,
    # the rest of the window only for those not ended there.
    lo = raised + 1
    hi = np.minimum(t.searchsorted(t_on + max_d, side="right") + 2, n)
    hi = np.maximum(hi, lo)
    ends = np.full(len(raised), -1, dtype=np.intp)
    how = np.zeros(len(raised), dtype=np.int8)
    mid = np.minimum(hi, lo + _FIRST) if int((hi - lo).max()) > 2 * _FIRST else hi
    _first_ends(t, x, lo, mid, lim0, t_on, max_d, ends, how)
    more = ((ends < 0) & (mid < hi)).nonzero()[0] if mid is not hi else ()
    if len(more):
        e2 = np.full(len(more), -1, dtype=np.intp)
        h2 = np.zeros(len(more), dtype=np.int8)
        _first_ends(t, x, mid[more], hi[more], lim0[more], t_on[more], max_d, e2, h2)
        ends[more], how[more] = e2, h2
    if len(marks.pos):
        # a stale mark after the raise and before the reading that ended it is a gap first
        q = marks.pos.searchsorted(raised, side="right")
        has = q < len(marks.pos)
        key = 2 * marks.pos[np.minimum(q, len(marks.pos) - 1)]
        first_mark = has & ((ends < 0) | (key < ends))
        ends[first_mark] = key[first_mark]
        how[first_mark] = 3
    return ends, how


def _keep(t: np.ndarray, x: np.ndarray, base: np.ndarray, marks: StaleMarks,
          onset: np.ndarray, ends: np.ndarray, how: np.ndarray, rec: float, d: float,
          max_d: float, min_d: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(onset, key of the end or -1, how) of the events one level keeps, in time order: its
    candidates (in time order, with their ends) in turn, as the live rule meets them."""
    if not len(onset):
        empty = np.zeros(0, dtype=np.intp)
        return empty, empty, np.zeros(0, dtype=np.int8)
    # each one that starts after the last kept event ended is kept. Stretches where every
    # event ends (recovered or by a gap) before the next one starts are taken whole; the
    # loop below runs only at the others.
    ons, endl, howl = onset.tolist(), ends.tolist(), how.tolist()
    c = len(ons)
    clean = (how[:-1] != 2) & (ends[:-1] >= 0) & (2 * onset[1:] + 1 > ends[:-1])
    unclean = [*(~clean).nonzero()[0].tolist(), c - 1]  # where the loop must look
    out_o: list[int] = []
    out_e: list[int] = []
    out_h: list[int] = []
    last_end = -1  # key of the sample that ended the last kept event
    rs = _Restarts(t, x, base, marks, rec, d, max_d, min_d)
    i = 0
    while i < c:
        if 2 * ons[i] + 1 <= last_end:
            i += 1
            continue  # raised while the last event went on, or its run restarted below
        j = unclean[bisect_left(unclean, i)]  # i..j follow each other
        out_o += ons[i:j + 1]
        out_e += endl[i:j + 1]
        out_h += howl[i:j + 1]
        e, h = endl[j], howl[j]
        last_end = e
        while h == 2:
            # ended too long (at a reading) inside a run of ON samples: the live rule starts
            # over at the next sample, with that sample's baseline
            o, e, h = rs.at(e // 2 + 1)
            if o < 0:
                break
            out_o.append(o)
            out_e.append(e)
            out_h.append(h)
            last_end = e
        if last_end < 0:
            break  # the last kept event runs to the end of the recording
        i = j + 1
    return (np.array(out_o, dtype=np.intp), np.array(out_e, dtype=np.intp),
            np.array(out_h, dtype=np.int8))


class _Restarts:
    """The live rule from a given sample on, one sample at a time, after an event ended too
    long (so rarely: a plain loop over lists of the readings a restart can reach)."""

    def __init__(self, t: np.ndarray, x: np.ndarray, base: np.ndarray, marks: StaleMarks,
                 rec: float, d: float, max_d: float, min_d: float) -> None:
        self.t, self.x, self.base = t, x, base
        self.rec, self.d, self.max_d, self.min_d = rec, d, max_d, min_d
        self.marks = marks.pos.tolist()
        self.span = max(max_d, min_d)

    def at(self, j: int) -> tuple[int, int, int]:
        """From the sample after reading j - 1 on, until an event is raised and ends:
        (onset, key of the end or -1, how), or (-1, -1, 0) when the run of ON samples breaks
        first."""
        t, x, base, d = self.t, self.x, self.base, self.d
        n = len(t)
        marks = self.marks
        q = bisect_left(marks, j)
        mark = marks[q] if q < len(marks) else n + 1  # the first mark from j on
        if j >= n or mark == j:
            return -1, -1, 0  # the next sample is a stale mark, or there is none
        # the readings it can reach: up to the first past max_d (and min_d) after j, with
        # two to spare for rounding, as `_events` looks (indices below are from j)
        w = min(int(t.searchsorted(t[j] + self.span, side="right")) + 2, n)
        tl, xl, bl = t[j:w].tolist(), x[j:w].tolist(), base[j:w].tolist()
        size, mk = len(tl), mark - j
        tj, xj, bj = tl[0], xl[0], bl[0]
        if xj == NO_VALUE or bj - xj < d:
            return -1, -1, 0  # not ON
        k = 0
        while tl[k] - tj < self.min_d:  # the live comparison: t - pending >= min_d
            k += 1
            if k == size:
                return self._on(j, j + k, mark)  # past the window (not in practice)
            if k == mk or xl[k] == NO_VALUE or bl[k] - xl[k] < d:
                return -1, -1, 0
        lim, max_d = bj - self.rec, self.max_d
        for i in range(k + 1, size):
            if i == mk:
                return j, 2 * (j + i), 3
            xm = xl[i]
            if xm == NO_VALUE:
                return j, 2 * (j + i) + 1, 3
            if xm >= lim:
                return j, 2 * (j + i) + 1, 1
            if tl[i] - tj > max_d:
                return j, 2 * (j + i) + 1, 2
        return self._end(j, j + size, mark)

    def _on(self, j: int, k: int, mark: int) -> tuple[int, int, int]:
        """`at` once its window is used up while the run lasts less than min_d: reading by
        reading (rounding could only ever bring this about)."""
        t, x, base = self.t, self.x, self.base
        while k < len(t):
            if k == mark or int(x[k]) == NO_VALUE or int(base[k]) - int(x[k]) < self.d:
                return -1, -1, 0
            if t[k] - t[j] >= self.min_d:
                return self._end(j, k + 1, mark)
            k += 1
        return -1, -1, 0

    def _end(self, j: int, m0: int, mark: int) -> tuple[int, int, int]:
        """`at` from reading m0 on, once raised: reading by reading, or the recording's end
        (an event still open, or ended by the stale mark after the last reading)."""
        t, x = self.t, self.x
        n = len(t)
        lim = int(self.base[j]) - self.rec
        for m in range(m0, n):
            if m == mark:
                return j, 2 * m, 3
            xm = int(x[m])
            if xm == NO_VALUE:
                return j, 2 * m + 1, 3
            if xm >= lim:
                return j, 2 * m + 1, 1
            if t[m] - t[j] > self.max_d:
                return j, 2 * m + 1, 2
        if mark == n:
            return j, 2 * n, 3
        return j, -1, 0
