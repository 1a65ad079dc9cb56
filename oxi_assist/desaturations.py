"""Desaturation events of a whole recording: the live `_Desat` rule (oxi_assist.signal) on the
device's values, from where each level's drop held.

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
from typing import Any

import numpy as np

from oxi_assist.alarm_rules import solve_run_bounds

#: `x` of a reading with no valid SpO2: above every value, so a minimum passes over it
NO_VALUE = np.iinfo(np.int16).max
_NAMES = (None, "recovered", "too_long", "gap")


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
            q = np.minimum(np.searchsorted(self.pos, end), len(self.pos) - 1)
            mark = self.pos[q] == end
            out[mark] = self.t[q[mark]]
        return out


def desaturation_events(t: np.ndarray, x: np.ndarray, base: np.ndarray, marks: StaleMarks,
                        level: float, runs: tuple[np.ndarray, np.ndarray], d: float,
                        rec: float, min_d: float, max_d: float,
                        ) -> tuple[list[dict[str, Any]], int]:
    """One level's events as records, and how many count (the recovered ones)."""
    lo, hi = runs
    raised, onset, _ = solve_run_bounds(t, lo, hi, lo, hi, min_d)  # runs lasting min_d
    o, e, how = _events(t, x, base, marks, raised, onset, rec, d, max_d, min_d)
    if not len(o):
        return [], 0
    n = len(t)
    stop = np.where(e >= 0, (e + 1) // 2, n)  # readings [o, stop) are the event's
    bounds = np.column_stack((o, stop)).ravel()
    if bounds[-1] == n:
        bounds = bounds[:-1]  # the last event runs to the end of the readings
    nadir = np.minimum.reduceat(x, bounds)[::2]
    ends = np.full(len(e), np.nan)  # the time of the sample that ended each event
    at_reading = (e >= 0) & (e % 2 == 1)
    ends[at_reading] = t[e[at_reading] // 2]
    at_mark = (e >= 0) & (e % 2 == 0)
    if at_mark.any():
        ends[at_mark] = marks.t[np.searchsorted(marks.pos, e[at_mark] // 2)]
    start = t[o]
    b = base[o]
    dur = (ends - start).tolist()
    out = [{"level": level, "start_s": to, "nadir": nd, "baseline": bb, "depth": dp,
            "duration_s": None if te != te else du, "end_s": None if te != te else te,
            "ended": _NAMES[h], "counted": h == 1}
           for to, te, du, bb, nd, dp, h in zip(
               start.tolist(), ends.tolist(), dur, (b / 10.0).tolist(),
               (nadir / 10.0).tolist(), ((b - nadir) / 10.0).tolist(), how.tolist(),
               strict=True)]
    return out, int(np.count_nonzero(how == 1))


def _events(t: np.ndarray, x: np.ndarray, base: np.ndarray, marks: StaleMarks,
            raised: np.ndarray, onset: np.ndarray, rec: float, d: float, max_d: float,
            min_d: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(onset reading, key of the ending sample or -1, how it ended: 0 open, 1 recovered,
    2 too long, 3 gap) of the events one level raises, from its candidates (the reading
    that raised and the first reading of its run), in time order."""
    n = len(t)
    if not len(raised):
        empty = np.zeros(0, dtype=np.intp)
        return empty, empty, np.zeros(0, dtype=np.int8)
    b0 = base[onset].astype(np.float64)
    lim0 = b0 - rec  # recovered at or above this
    t_on = t[onset]
    # each candidate's window: from the reading after the raise to the first reading past
    # max_d after the onset (two spare readings cover the rounding of t + max_d)
    lo = raised + 1
    hi = np.minimum(np.searchsorted(t, t_on + max_d, side="right") + 2, n)
    hi = np.maximum(hi, lo)
    ln = hi - lo
    tot = int(ln.sum())
    ends = np.full(len(raised), -1, dtype=np.intp)
    how = np.zeros(len(raised), dtype=np.int8)
    if tot:
        seg_start = np.zeros(len(ln), dtype=np.intp)
        np.cumsum(ln[:-1], out=seg_start[1:])
        owner = np.repeat(np.arange(len(raised)), ln)
        idx = np.arange(tot) - np.repeat(seg_start - lo, ln)
        xi = x[idx]
        gap = xi == NO_VALUE
        rcv = xi >= lim0[owner]
        tl = (t[idx] - t_on[owner]) > max_d
        rcv &= ~gap
        tl &= ~gap
        hit = np.flatnonzero(rcv | tl | gap)
        if len(hit):
            first = np.searchsorted(hit, seg_start)  # the first hit at or after each start
            ok = first < len(hit)
            f = hit[np.minimum(first, len(hit) - 1)]
            ok &= f < seg_start + ln
            ends[ok] = 2 * idx[f[ok]] + 1
            how[ok] = np.where(gap[f[ok]], 3, np.where(rcv[f[ok]], 1, 2))
    if len(marks.pos):
        # a stale mark after the raise and before the reading that ended it is a gap first
        q = np.searchsorted(marks.pos, raised, side="right")
        has = q < len(marks.pos)
        key = 2 * marks.pos[np.minimum(q, len(marks.pos) - 1)]
        first_mark = has & ((ends < 0) | (key < ends))
        ends[first_mark] = key[first_mark]
        how[first_mark] = 3
    # the candidates in order: each one that starts after the last kept event ended is
    # kept. Stretches where every event ends (recovered or by a gap) before the next one
    # starts are taken whole; the loop below runs only at the others.
    ons, endl, howl = onset.tolist(), ends.tolist(), how.tolist()
    c = len(ons)
    clean = (how[:-1] != 2) & (ends[:-1] >= 0) & (2 * onset[1:] + 1 > ends[:-1])
    unclean = [*np.flatnonzero(~clean).tolist(), c - 1]  # where the loop must look
    out_o: list[int] = []
    out_e: list[int] = []
    out_h: list[int] = []
    last_end = -1  # key of the sample that ended the last kept event
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
            o, e, h = _restart(t, x, base, marks, e // 2 + 1, rec, d, max_d, min_d)
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


def _restart(t: np.ndarray, x: np.ndarray, base: np.ndarray, marks: StaleMarks, j: int,
             rec: float, d: float, max_d: float, min_d: float) -> tuple[int, int, int]:
    """The live rule from the sample after reading j - 1 on, one sample at a time, until it
    raises an event and that event ends: (onset, key of the end or -1, how) or (-1, -1, 0)
    when no event is raised before the run of ON samples breaks. Only after an event ended
    too long, so rare, and a plain loop."""
    n = len(t)
    q = int(np.searchsorted(marks.pos, j))
    mark = int(marks.pos[q]) if q < len(marks.pos) else n + 1  # the first mark from j on

    def on(k: int) -> bool:
        v = int(x[k])
        return v != NO_VALUE and int(base[k]) - v >= d

    if j >= n or mark == j or not on(j):
        return -1, -1, 0  # the next sample is a stale mark, none, or not ON
    k = j
    while t[k] - t[j] < min_d:  # the live comparison: t - pending >= min_d raises
        k += 1
        if k >= n or mark == k or not on(k):
            return -1, -1, 0
    lim = int(base[j]) - rec
    for m in range(k + 1, n):
        if mark == m:
            return j, 2 * m, 3
        v = int(x[m])
        if v == NO_VALUE:
            return j, 2 * m + 1, 3
        if v >= lim:
            return j, 2 * m + 1, 1
        if t[m] - t[j] > max_d:
            return j, 2 * m + 1, 2
    if mark == n:
        return j, 2 * n, 3
    return j, -1, 0
