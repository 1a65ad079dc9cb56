"""Offline analysis: the live Monitor's rules applied to a whole recording with numpy.

Same input → same alarms and desaturation events as oxi_assist.signal.Monitor (a property test
checks it). Sequential rules are solved without a loop over samples: hysteresis machines via
oxi_assist.alarm_rules.solve_runs (work per run of samples past a limit, from the indices of
those samples), window sums via cumulative sums over window starts that are guessed from the
sampling rate and checked exactly (oxi_assist.smoothing.window_starts, which keeps them as
"i - lag, except at these odd windows"), the sliding baseline maximum via one level of a
sparse table of slice maxima. Python loops run only over table levels, stale instants, link
events and found events.

Where the time goes (24 h at 1 Hz): about a hundred whole-array numpy passes, most over
32-bit or smaller values, plus building the alarm and event records. Per-sample work is
avoided where a cheap whole-array test proves it moot: reductions instead of plausibility
masks, a scan of the smoothed drop instead of the exact trend everywhere, runs of values past
a limit instead of the samples between them.

Each channel (SpO2, pulse) is a "stream": its valid samples, the readings where it had no
value, and one virtual sample at each instant it went stale — exactly the samples the live
Monitor's rules see.

The item order matches what a live session sees: readings sorted by file order (a vitals
reading older than the last one is dropped, as the Monitor drops it), link events after
readings of the same time.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from drivers.formats._base import ReadingArrays, Recording
from drivers.reading import DOUBTFUL, INVALIDATING, LinkEvent, LinkState, Reading, Status
from oxi_assist.actions import recorded_response_spans
from oxi_assist.alarm_config import (
    DESAT_RULE_VERSION,
    ESCALATING,
    PHYSIOLOGICAL,
    RESPONSE_ESCALATING,
    SPO2_ALARMS,
    TECHNICAL,
    AlarmConfig,
)
from oxi_assist.alarm_rules import (
    Segments,
    Thresholds,
    first_reaching,
    solve_masks,
    solve_runs,
    thresholds,
)
from oxi_assist.smoothing import Starts, smooth, take, window_starts

_POOR = int(DOUBTFUL | Status.SEARCHING)
_INVALID = int(INVALIDATING)
_FO = int(Status.FINGER_OUT)
_SF = int(Status.SENSOR_FAULT)
_NS = int(Status.NO_SENSOR)
_BIG = 1 << 20  # larger than any value in tenths: pads a minimum


@dataclass
class Trace:
    """A recording as arrays, in the order a live Monitor would have received it."""

    t: np.ndarray  # vitals readings kept (sorted)
    spo2: np.ndarray  # NaN where absent
    pulse: np.ndarray
    pi: np.ndarray
    status: np.ndarray  # int64 Status bits
    other_t: np.ndarray  # wave-only readings (they clear link_lost)
    links: list[tuple[float, LinkState]] = field(default_factory=list)
    dropped: int = 0
    interval: float | None = None
    #: overdose-response spans (start, end or None while open): the Monitor's rule 5
    response: list[tuple[float, float | None]] = field(default_factory=list)

    @property
    def t_end(self) -> float | None:
        ends = [float(a[-1]) for a in (self.t, self.other_t) if len(a)]
        ends += [max(x for x, _ in self.links)] if self.links else []
        return max(ends) if ends else None

    @classmethod
    def from_items(cls, items: list[Reading | LinkEvent] | list[Reading],
                   links: list[LinkEvent] | None = None,
                   interval: float | None = None) -> Trace:
        fin = math.isfinite
        readings = [x for x in items if isinstance(x, Reading)]
        lk = [x for x in items if isinstance(x, LinkEvent) and fin(x.t)]
        lk += [x for x in links or [] if fin(x.t)]
        vit_all = [r for r in readings if not r.wave_only]
        vit = [r for r in vit_all if fin(r.t)]  # the Monitor drops these too
        bad_t = len(vit_all) - len(vit)
        n = len(vit)
        nan = math.nan
        t = np.fromiter((r.t for r in vit), dtype=float, count=n)
        spo2 = np.fromiter((nan if r.spo2 is None else r.spo2 for r in vit), dtype=float,
                           count=n)
        pulse = np.fromiter((nan if r.pulse is None else r.pulse for r in vit), dtype=float,
                            count=n)
        pi = np.fromiter((nan if r.pi is None else r.pi for r in vit), dtype=float, count=n)
        st = np.fromiter((r.status.value for r in vit), dtype=np.int64, count=n)
        dropped = bad_t
        if n > 1:
            prev_max = np.maximum.accumulate(t)[:-1]
            keep = np.ones(n, dtype=bool)
            keep[1:] = t[1:] >= prev_max
            dropped += int(n - keep.sum())
            if dropped > bad_t:
                t, spo2, pulse, pi, st = t[keep], spo2[keep], pulse[keep], pi[keep], st[keep]
        other = np.sort(np.fromiter((r.t for r in readings if r.wave_only and fin(r.t)),
                                    dtype=float))
        links_sorted = sorted(((e.t, e.state) for e in lk), key=lambda x: x[0])
        return cls(t, spo2, pulse, pi, st, other, links_sorted, dropped, interval)

    @classmethod
    def from_recording(cls, rec: Recording) -> Trace:
        cols = rec.readings
        if isinstance(cols, ReadingArrays):  # a reader's columns: used as they are
            tr = cls.from_columns(cols, rec.links, rec.interval)
        else:
            tr = cls.from_items(rec.readings, rec.links, rec.interval)
        tr.response = recorded_response_spans(rec.events)
        return tr

    @classmethod
    def from_columns(cls, c: ReadingArrays, links: list[LinkEvent] | None = None,
                     interval: float | None = None) -> Trace:
        """A Trace on a reader's columns without one Reading object per sample (building
        them cost more than the analysis for a day at 1 Hz) and without copies when the
        times are finite and in order, as a reader's are."""
        t, spo2, pulse, st = c.t, c.spo2, c.pulse, c.status
        n = len(t)
        # no PI column: one NaN seen n times (a read-only view, no memory)
        pi = np.broadcast_to(np.nan, n) if c.pi is None else c.pi
        dropped = 0
        fin = np.isfinite(t)
        if not fin.all():  # the Monitor drops a reading without a usable time
            dropped = int(n - np.count_nonzero(fin))
            t, spo2, pulse, st = t[fin], spo2[fin], pulse[fin], st[fin]
            pi = pi[fin] if c.pi is not None else np.broadcast_to(np.nan, len(t))
        if len(t) > 1 and not bool(np.all(t[1:] >= t[:-1])):
            keep = np.ones(len(t), dtype=bool)  # and one older than the last (file order)
            keep[1:] = t[1:] >= np.maximum.accumulate(t)[:-1]
            dropped += int(len(t) - np.count_nonzero(keep))
            t, spo2, pulse, st = t[keep], spo2[keep], pulse[keep], st[keep]
            pi = pi[keep] if c.pi is not None else np.broadcast_to(np.nan, len(t))
        lk = sorted(((e.t, e.state) for e in links or [] if math.isfinite(e.t)),
                    key=lambda x: x[0])
        return cls(t, spo2, pulse, pi, st, np.zeros(0), lk, dropped, interval)


@dataclass(frozen=True)
class Values:
    """One view of a recording's values: the device's own readings (what the oximeter showed,
    as other oximetry tools report them) or ours smoothed as on our screen. Minimum, maximum,
    mean and pulse range leave out the start-up of each stretch of valid values; time below
    counts every valid value."""

    min_spo2: float | None
    max_spo2: float | None
    mean_spo2: float | None
    pulse_min: float | None
    pulse_max: float | None
    time_below: dict[str, float]

    def to_dict(self) -> dict[str, Any]:
        return {"min_spo2": self.min_spo2, "max_spo2": self.max_spo2,
                "mean_spo2": self.mean_spo2, "pulse_min": self.pulse_min,
                "pulse_max": self.pulse_max,
                "time_below": {k: _r(v) for k, v in self.time_below.items()}}


def smoothing_note(cfg: AlarmConfig) -> str:
    return f"median-of-3 + {cfg.window_s:g} s moving average"


def desat_rule(cfg: AlarmConfig) -> dict[str, Any]:
    """The desaturation rule and its parameters, as `analyze --json` states them."""
    return {"version": DESAT_RULE_VERSION, "values": "device",
            "drops": list(cfg.desat_drops),
            "baseline": "highest valid SpO2 in the window before the drop, kept for the event",
            "baseline_window_s": cfg.baseline_window_s, "recovery": cfg.desat_recovery,
            "min_duration_s": cfg.desat_min_duration_s,
            "max_duration_s": cfg.desat_max_duration_s,
            "counted": "events that recover within max_duration_s",
            "denominator": "valid hours of oximetry"}


@dataclass
class Analysis:
    duration_s: float
    samples: int
    valid_samples: int
    valid_fraction: float
    valid_time_s: float  # time covered by the device's valid values: the ODI denominator
    device: Values
    smoothed: Values
    shown_time_s: float  # time the screen showed a smoothed value (the live Monitor's rule)
    desaturations: list[dict[str, Any]]
    odi3_per_h: float | None
    odi4_per_h: float | None
    alarms: list[dict[str, Any]]
    dropped: int = 0
    config: str = ""
    startup_s: float = 0.0  # acquisition window left out of the device's statistics
    window_s: float = 0.0  # the smoothing window (its statistics leave out this much more)
    smoothing: str = ""
    rule: dict[str, Any] = field(default_factory=dict)

    @property
    def alarm_counts(self) -> dict[str, int]:
        return alarm_counts(self.alarms)

    def to_dict(self) -> dict[str, Any]:
        counts = self.alarm_counts
        return {
            "duration_s": _r(self.duration_s), "samples": self.samples,
            "valid_samples": self.valid_samples,
            "valid_fraction": _r(self.valid_fraction, 4), "valid_time_s": _r(self.valid_time_s),
            "startup_excluded_s": {
                "device": self.startup_s, "smoothed": self.startup_s + self.window_s,
                "from": "minimum, maximum, mean and pulse range of each stretch of valid "
                        "values (time below counts every value)"},
            "device": self.device.to_dict(),
            "smoothed": {**self.smoothed.to_dict(), "smoothing": self.smoothing,
                         "shown_time_s": _r(self.shown_time_s)},
            "desaturation_rule": self.rule,
            "odi3_per_h": self.odi3_per_h, "odi4_per_h": self.odi4_per_h,
            "desaturations": self.desaturations,
            "alarms_raised": sum(counts.values()), "alarms_by_kind": counts,
            "alarms": self.alarms, "dropped_out_of_order": self.dropped, "config": self.config,
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, allow_nan=False)


def alarm_counts(alarms: list[dict[str, Any]]) -> dict[str, int]:
    """What every command counts as alarms: each raise of an alarm rule, once, by kind (an
    alarm that stays active is one alarm; technical ones included)."""
    out: dict[str, int] = {}
    for a in alarms:
        out[a["kind"]] = out.get(a["kind"], 0) + 1
    return dict(sorted(out.items()))


def _r(x: float | None, nd: int = 3) -> float | None:
    return None if x is None else round(float(x), nd)


# ---------------------------------------------------------------------- building blocks

def _window_max(tv: np.ndarray, s: np.ndarray, span: float,
                k: np.ndarray | Starts | None = None) -> np.ndarray:
    """max(s[j] for t[j] >= t[i] - span, j <= i), exact, for integer `s`.
    `k` is `window_starts(tv, span, "left")` (or its `.k`) when the caller has it.

    A running maximum (`np.maximum.accumulate`) is a scalar loop in numpy, a few ns per
    sample, while the maximum of two shifted slices is vectorised. So the maxima come from a
    sparse table built one level at a time in one buffer: level q holds the maximum of each
    2**q consecutive samples, and a window of L samples with 2**q <= L <= 2**(q+1) is covered
    by the two level-q blocks that start at its first and end at its last sample. The typical
    windows (all of one length under steady sampling) are answered with slices at their
    level; the odd ones (the start, after gaps, bursts) at their own levels."""
    n = len(s)
    if k is None:
        st = window_starts(tv, span, "left")
    else:
        st = k if isinstance(k, Starts) else Starts.of(k)
    if n == 0:
        return s.copy()
    lag, odd, k_odd = st.lag, st.odd, st.k_odd
    p = (lag + 1).bit_length() - 1  # level of the typical window of lag + 1 samples
    # odd windows that start at the first sample (k is sorted: they come first) are prefixes
    z = int(np.searchsorted(k_odd, 0, side="right"))
    head = np.maximum.accumulate(s[:odd[z - 1] + 1])[odd[:z]] if z else None
    odd, k_odd = odd[z:], k_odd[z:]
    odd_len = odd + 1 - k_odd
    odd_q = (np.frexp(odd_len.astype(float))[1] - 1).astype(np.intp)  # floor(log2(len))
    top = max(p, int(odd_q.max())) if len(odd) else p
    odd_max = np.empty(len(odd), dtype=s.dtype)
    out = np.empty(n, dtype=s.dtype)
    m, spare = s, np.empty(n, dtype=s.dtype)  # levels alternate between two buffers
    size = n  # m[:size] holds the current level
    for q in range(top + 1):
        if q:
            w = 1 << (q - 1)
            size -= w
            np.maximum(m[:size], m[w:size + w], out=spare[:size])
            m, spare = spare, (m if m is not s else np.empty(n, dtype=s.dtype))
        if q == p and lag < n:  # the window of i is [i - lag, i]; odd ones overwritten below
            np.maximum(m[:n - lag], m[lag - (1 << p) + 1:size], out=out[lag:])
        sel = np.flatnonzero(odd_q == q) if len(odd) else odd
        if len(sel):
            i = odd[sel]
            odd_max[sel] = np.maximum(m[k_odd[sel]], m[i - (1 << q) + 1])
    out[odd] = odd_max
    if head is not None:
        out[st.odd[:z]] = head
    return out


@dataclass
class _Stream:
    """One channel's sample stream: the vitals readings plus the virtual 'unknown' samples at
    the instants the channel went stale. `pos` maps valid samples into it."""

    ts: np.ndarray
    pos: np.ndarray  # stream index of each valid sample
    vidx: np.ndarray  # vitals index of each valid sample
    tv: np.ndarray
    s: np.ndarray  # smoothed integer tenths at the valid samples
    n: int
    dense: bool  # every stream sample is a valid one (no gaps in values, no virtuals)
    starts: dict[tuple[float, str], Starts]  # window starts, shared with `like` streams
    gaps: np.ndarray  # valid samples j after which the channel went stale before j + 1
    invalid: np.ndarray  # the readings without a valid value
    x: np.ndarray  # the device's values in integer tenths at the valid samples

    def k(self, span: float, side: str) -> Starts:
        """`np.searchsorted(tv, tv - span, side)`: the first valid sample in the window."""
        key = (span, side)
        k = self.starts.get(key)
        if k is None:
            k = self.starts[key] = window_starts(self.tv, span, side)
        return k



def _stream(t: np.ndarray, valid: np.ndarray, values: np.ndarray, th: Thresholds,
            t_end: float, like: _Stream | None = None) -> _Stream:
    """`like`: a stream over exactly the same valid samples, whose layout is reused."""
    if like is not None:
        vidx, tv, starts = like.vidx, like.tv, like.starts
    else:
        vidx = np.flatnonzero(valid)
        tv = np.take(t, vidx)  # (np.take gathers faster than indexing)
        starts = {}
    x = np.take(values, vidx)
    x *= 10.0
    x = np.rint(x, out=x).astype(np.int32)  # tenths: 32 bits are plenty
    key = (th.window_s, "right")
    if key not in starts:
        starts[key] = window_starts(tv, th.window_s, "right")
    s = smooth(tv, x, th.window_s, starts[key])
    if like is not None:
        return _Stream(like.ts, like.pos, vidx, tv, s, like.n, like.dense, starts, like.gaps,
                       like.invalid, x)
    nv = len(tv)
    ts, pos = t, vidx
    gaps = np.zeros(0, dtype=np.intp)
    if nv:
        due = tv + th.stale_s
        gaps = np.flatnonzero(tv[1:] > due[:-1])  # the next valid value came after going stale
        late = gaps if not t_end > due[-1] else np.append(gaps, nv - 1)
        if len(late):
            ts, pos = _insert(t, vidx, np.searchsorted(t, due[late], side="right"), due[late])
    n = len(ts)
    return _Stream(ts, pos, vidx, tv, s, n, nv == n, starts, gaps, np.flatnonzero(~valid), x)


def _insert(t: np.ndarray, vidx: np.ndarray, at: np.ndarray,
            vt: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """`np.insert(t, at, vt)` (`at` sorted) and where the samples `vidx` of `t` land in it.
    A recording has few stale instants, so a slice copy per instant beats np.insert's
    general machinery and the per-sample shift count."""
    m = len(at)
    if m > 64:
        shift = np.cumsum(np.bincount(at, minlength=len(t) + 1))  # virtuals at or before
        return np.insert(t, at, vt), vidx + shift[vidx]
    ts = np.empty(len(t) + m)
    pos = np.empty_like(vidx)
    prev = 0
    cut = [*np.searchsorted(vidx, at).tolist(), len(vidx)]  # first valid sample at or after
    pos[:cut[0]] = vidx[:cut[0]]
    for j, a in enumerate(at.tolist()):
        ts[prev + j:a + j] = t[prev:a]
        ts[a + j] = vt[j]
        prev = a
        np.add(vidx[cut[j]:cut[j + 1]], j + 1, out=pos[cut[j]:cut[j + 1]])
    ts[prev + m:] = t[prev:]
    return ts, pos


class _Below:
    """Indices of the values below a limit (`<=` when inclusive), for several limits. The
    first scan keeps its result; a lower limit picks from it instead of scanning again (the
    limits of a rule and its hysteresis band, or of two rules on one channel, nest)."""

    def __init__(self, x: np.ndarray, inclusive: bool = False) -> None:
        self.x, self.inclusive = x, inclusive
        self.lim: float | None = None
        self.idx = np.zeros(0, dtype=np.intp)

    def __call__(self, lim: float) -> np.ndarray:
        cmp = np.less_equal if self.inclusive else np.less
        if self.lim is not None and lim <= self.lim:
            return self.idx[cmp(self.x[self.idx], lim)]
        idx = np.flatnonzero(cmp(self.x, lim))
        self.lim, self.idx = lim, idx
        return idx


def _solve(S: _Stream, weak: np.ndarray, strong: np.ndarray, nested: bool, delay: float,
           bypass: np.ndarray | None = None) -> Segments:
    """A hysteresis machine over the stream `S`, from the indices of its valid samples that
    are weak (ON or MID), strong (ON) and bypassing. The stream's other samples carry no
    value: they are neither weak nor strong, so they end an active condition. `nested`:
    every strong sample is weak, which `solve_runs` needs; otherwise masks are built."""
    if not S.dense:
        weak, strong = S.pos[weak], S.pos[strong]
        bypass = None if bypass is None else S.pos[bypass]
    if nested:
        return solve_runs(S.ts, weak, strong, delay, bypass)
    w = np.zeros(S.n, dtype=bool)
    w[weak] = True
    on = np.zeros(S.n, dtype=bool)
    on[strong] = True
    byp = None
    if bypass is not None:
        byp = np.zeros(S.n, dtype=bool)
        byp[bypass] = True
    return solve_masks(S.ts, w, on, delay, byp)


def _within(x: np.ndarray, lo: float, hi: float) -> bool:
    """Every finite value of x lies in [lo, hi] (NaN is skipped; an infinity is not)."""
    return not len(x) or bool(np.fmin.reduce(x) >= lo and np.fmax.reduce(x) <= hi)


def _segments_to_alarms(kind: str, cfg: AlarmConfig, ts: np.ndarray, seg: Any,
                        out: list[dict[str, Any]]) -> None:
    rule = cfg.rules[kind]
    if not rule.enabled:
        return
    if not len(seg.raised):
        return
    pr, tech = rule.priority.label, rule.technical
    end = ts[np.maximum(seg.ended, 0)].tolist()
    out.extend([{"kind": kind, "priority": pr, "technical": tech, "onset_s": o, "start_s": r,
                 "end_s": e if has else None}
                for o, r, e, has in zip(ts[seg.onset].tolist(), ts[seg.raised].tolist(), end,
                                        (seg.ended >= 0).tolist(), strict=True)])


def _alarm(kind: str, cfg: AlarmConfig, onset: float, start: float,
           end: float | None) -> dict[str, Any]:
    rule = cfg.rules[kind]
    return {"kind": kind, "priority": rule.priority.label, "technical": rule.technical,
            "onset_s": onset, "start_s": start, "end_s": end}


def _gap_alarms(kind: str, cfg: AlarmConfig, refs: np.ndarray, after: float, t_end: float,
                out: list[dict[str, Any]], gap: np.ndarray | None = None) -> None:
    """Raised `after` seconds past each ref (sorted) when the next ref came later — ended by
    it — or, for the last ref, when anything at all came later (still active at the end).
    `gap`: the refs followed by such a gap, when the caller has them."""
    if not cfg.rules[kind].enabled or len(refs) == 0:
        return
    if gap is None:
        gap = np.flatnonzero(refs[1:] > refs[:-1] + after)  # the live comparison
    due = refs[gap] + after
    for d, e in zip(due.tolist(), refs[gap + 1].tolist(), strict=True):
        out.append(_alarm(kind, cfg, d, d, e))
    last = float(refs[-1] + after)
    if t_end > last:
        out.append(_alarm(kind, cfg, last, last, None))


def _link_alarms(tr: Trace, cfg: AlarmConfig, out: list[dict[str, Any]]) -> None:
    if not tr.links or not cfg.rules["link_lost"].enabled:
        return
    reads = np.sort(np.concatenate([tr.t, tr.other_t]))

    def next_read(after: float) -> float | None:
        i = int(np.searchsorted(reads, after, side="right"))
        return float(reads[i]) if i < len(reads) else None

    start: float | None = None
    clear_at: float | None = None
    for t, state in tr.links:
        if start is not None and clear_at is not None and clear_at <= t:
            out.append(_alarm("link_lost", cfg, start, start, clear_at))
            start = None
        if state in (LinkState.LOST, LinkState.RECONNECTING):
            if start is None:
                start = t
                clear_at = next_read(t)
        elif state is LinkState.CONNECTED and start is not None:
            out.append(_alarm("link_lost", cfg, start, start, t))
            start = None
    if start is not None:
        out.append(_alarm("link_lost", cfg, start, start, clear_at))
    if cfg.response_escalates:
        _escalate_response({"link_lost": out}, tr.response)


def _settled(S: _Stream, settle_s: float) -> tuple[np.ndarray, np.ndarray]:
    """Ranges [lo, hi) of valid samples whose smoothed values are past the acquisition window
    of their stretch of valid values (a stretch starts after an invalid reading or a gap long
    enough to go stale). All values when none has settled, rather than no statistics at all.
    Per stretch, not per sample: the first settled sample is found by a search."""
    nv = len(S.s)
    whole = np.array([0]), np.array([nv])
    if nv == 0 or settle_s <= 0:
        return whole
    tv = S.tv
    # after an invalid reading: the next valid sample; invalid readings are few, samples many
    after_invalid = np.searchsorted(S.vidx, S.invalid)
    first = np.unique(np.concatenate((after_invalid, S.gaps + 1)))  # stretch starts
    first = first[(first > 0) & (first < nv)]
    lo = np.concatenate(([0], first))
    hi = np.concatenate((first, [nv]))
    lo = first_reaching(tv, tv[lo], settle_s, lo, hi)  # tv - tv[start] >= settle_s, exactly
    keep = lo < hi
    if not keep.any():
        return whole
    return lo[keep], hi[keep]


def _over_ranges(op: np.ufunc, x: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> int:
    """op.reduce of x over the disjoint sorted non-empty ranges [lo, hi), as a Python int."""
    bounds = np.empty(2 * len(lo), dtype=np.intp)
    bounds[0::2] = lo
    bounds[1::2] = hi
    if bounds[-1] == len(x):
        bounds = bounds[:-1]  # the last range runs to the end of x
    dt = np.int64 if op is np.add else None  # sums of tenths may pass 2**31
    return int(op.reduce(op.reduceat(x, bounds, dtype=dt)[0::2]))


def _escalate_response(by_kind: dict[str, list[dict[str, Any]]],
                       spans: list[tuple[float, float | None]]) -> None:
    """The Monitor's rule 5: during a response span [a, b) low SpO2 and "no reading" alarms
    are high. An alarm raised in the span is high; one raised before it and still active at
    its start (ending at a or later) is raised to high there. A span's start is applied before
    any reading of the same instant (as the session does: the responder's key, then the data)."""
    if not spans:
        return
    for kind in RESPONSE_ESCALATING:
        for a in by_kind.get(kind, ()):
            if a["priority"] == "high":
                continue
            start, end = a["start_s"], a["end_s"]
            for lo, hi in spans:
                in_span = lo <= start and (hi is None or start < hi)
                open_at_start = start < lo and (end is None or end >= lo)
                if in_span or open_at_start:
                    a["priority"] = "high"
                    break


def _escalate(by_kind: dict[str, list[dict[str, Any]]], within: float) -> None:
    """The Monitor's escalation rule: an alarm meaning "no reading" is high priority when an
    SpO2 alarm raised before it is still active, or ended no more than `within` s earlier.
    One search per SpO2 kind for all the candidates at once."""
    if within <= 0:
        return
    esc = [a for k in ESCALATING for a in by_kind.get(k, ()) if a["priority"] != "high"]
    if not esc:
        return
    t = np.array([a["start_s"] for a in esc])
    due = t - within
    hit = np.zeros(len(esc), dtype=bool)
    for k in SPO2_ALARMS:
        recs = sorted(by_kind.get(k, ()), key=lambda a: a["start_s"])
        if not recs:
            continue
        starts = np.array([a["start_s"] for a in recs])
        ends = np.array([math.inf if a["end_s"] is None else a["end_s"] for a in recs])
        i = np.searchsorted(starts, t, side="left") - 1  # the latest one raised before t
        hit |= (i >= 0) & (ends[np.maximum(i, 0)] >= due)
    for a, h in zip(esc, hit.tolist(), strict=True):
        if h:
            a["priority"] = "high"


def _desaturations(S: _Stream, cfg: AlarmConfig,
                   th: Thresholds) -> tuple[list[dict[str, Any]], dict[float, int]]:
    """The live `_Desat` rule (oxi_assist.signal) over the whole stream, on the device's
    values: events as records, and per level the number that count (recovered ones).

    ON samples (`drop` below the window maximum) and their runs come from whole-array passes;
    each run that lasts min_duration_s raises a candidate event, and every candidate's end
    (recovery against its own baseline, too long, or a sample with no value) is found in one
    pass over the concatenated windows that can hold it. The only sequential part is a loop
    over candidates: one that starts inside the previous kept event is skipped, and a run that
    outlives an event ended too long or by a gap restarts after that end, as the live rule
    does."""
    x, tv = S.x, S.tv
    desats: list[dict[str, Any]] = []
    n_by_level: dict[float, int] = {}
    if not len(tv):
        return desats, {lvl: 0 for lvl in cfg.desat_drops}
    base = _window_max(tv, x, th.baseline_s, S.k(th.baseline_s, "left"))
    drop = base - x
    ts, n = S.ts, S.n
    # the device's values on the stream; samples with no value are gaps (`brk`)
    if S.dense:
        xs, bs, brk = x, base, None
    else:
        xs = np.zeros(n, dtype=x.dtype)
        xs[S.pos] = x
        bs = np.zeros(n, dtype=base.dtype)
        bs[S.pos] = base
        brk = np.ones(n, dtype=bool)
        brk[S.pos] = False
    min_d, max_d = cfg.desat_min_duration_s, cfg.desat_max_duration_s
    # nadirs are taken over each event's samples with gaps masked out, one reduceat per level
    # (a sentinel past the end lets an event still open at the end close there)
    big = np.iinfo(xs.dtype).max
    xm = np.append(xs if brk is None else np.where(brk, big, xs), big)
    names = (None, "recovered", "too_long", "gap")
    for level, (d, rec) in zip(cfg.desat_drops, th.desat, strict=True):
        on = np.flatnonzero(drop >= d)
        seg = _solve(S, on, on, True, min_d)  # ON runs lasting min_d: raise, onset
        o, e, how = _desat_events(ts, xs, bs, brk, seg.raised, seg.onset, rec, d, max_d, min_d)
        if not len(o):
            n_by_level[level] = 0
            continue
        n_by_level[level] = int(np.count_nonzero(how == 1))
        stop = np.where(e >= 0, e + 1, n)
        nadir = np.minimum.reduceat(xm, np.column_stack((o, stop)).ravel())[::2]
        base_t = bs[o].tolist()
        t_o = ts[o].tolist()
        t_e = ts[np.maximum(e, 0)].tolist()
        for to, te, ei, bb, nd, h in zip(t_o, t_e, e.tolist(), base_t, nadir.tolist(),
                                         how.tolist(), strict=True):
            end = ei >= 0
            desats.append({"level": level, "start_s": to, "nadir": nd / 10.0,
                           "baseline": bb / 10.0, "depth": (bb - nd) / 10.0,
                           "duration_s": te - to if end else None,
                           "end_s": te if end else None, "ended": names[h],
                           "counted": h == 1})
    desats.sort(key=lambda r: (r["start_s"], r["level"]))
    return desats, n_by_level


def _desat_events(ts: np.ndarray, xs: np.ndarray, bs: np.ndarray, brk: np.ndarray | None,
                  raised: np.ndarray, onset: np.ndarray, rec: float, d: float,
                  max_d: float, min_d: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(onset, end or -1, how it ended: 0 open, 1 recovered, 2 too long, 3 gap) of the events
    one level raises, from its candidates (stream indices of the raising sample and of the
    run's first sample), as arrays in time order."""
    n = len(ts)
    if not len(raised):
        empty = np.zeros(0, dtype=np.intp)
        return empty, empty, np.zeros(0, dtype=np.int8)
    b0 = bs[onset]
    lim0 = b0 - rec  # recovered at or above this
    # each candidate's window: from the sample after the raise to the first sample past
    # max_d after the onset (two spare samples cover the rounding of ts + max_d)
    lo = raised + 1
    hi = np.minimum(np.searchsorted(ts, ts[onset] + max_d, side="right") + 2, n)
    hi = np.maximum(hi, lo)
    ln = hi - lo
    tot = int(ln.sum())
    ends = np.full(len(raised), -1, dtype=np.intp)
    how = np.zeros(len(raised), dtype=np.int8)
    if tot:
        seg_start = np.concatenate(([0], np.cumsum(ln)[:-1]))
        owner = np.repeat(np.arange(len(raised)), ln)
        idx = np.arange(tot) - np.repeat(seg_start, ln) + np.repeat(lo, ln)
        rcv = xs[idx] >= lim0[owner]
        tl = (ts[idx] - ts[onset][owner]) > max_d
        gap = brk[idx] if brk is not None else np.zeros(tot, dtype=bool)
        if brk is not None:
            rcv &= ~gap
            tl &= ~gap
        hit = np.flatnonzero(rcv | tl | gap)
        if len(hit):
            first = np.searchsorted(hit, seg_start)  # the first hit at or after each start
            ok = first < len(hit)
            f = hit[np.minimum(first, len(hit) - 1)]
            ok &= f < seg_start + ln
            ends[ok] = idx[f[ok]]
            how[ok] = np.where(gap[f[ok]], 3, np.where(rcv[f[ok]], 1, 2))
    out_o: list[int] = []
    out_e: list[int] = []
    out_h: list[int] = []
    last_end = -1  # stream index of the sample that ended the last kept event
    for o, e, h in zip(onset.tolist(), ends.tolist(), how.tolist(), strict=True):
        if o <= last_end:
            continue  # raised while the last event went on, or its run restarted below
        out_o.append(o)
        out_e.append(e)
        out_h.append(h)
        last_end = e
        while h == 2 and e + 1 < n:
            # ended too long inside a run of ON samples: the live rule starts over at the
            # next sample, with that sample's baseline
            o, e, h = _desat_restart(ts, xs, bs, brk, e + 1, rec, d, max_d, min_d)
            if o < 0:
                break
            out_o.append(o)
            out_e.append(e)
            out_h.append(h)
            last_end = e
        if last_end < 0:
            break  # the last kept event runs to the end of the recording
    return (np.array(out_o, dtype=np.intp), np.array(out_e, dtype=np.intp),
            np.array(out_h, dtype=np.int8))


def _desat_restart(ts: np.ndarray, xs: np.ndarray, bs: np.ndarray, brk: np.ndarray | None,
                   j: int, rec: float, d: float, max_d: float, min_d: float,
                   ) -> tuple[int, int, int]:
    """The live rule from stream sample `j` on, one sample at a time, until it raises an
    event and that event ends: (onset, end or -1, how) or (-1, -1, 0) when no event is raised
    before the run of ON samples from `j` breaks. Only after an event ended too long, so
    rare, and a plain loop."""
    n = len(ts)

    def on(k: int) -> bool:
        return not (brk is not None and brk[k]) and bs[k] - xs[k] >= d

    if not on(j):
        return -1, -1, 0
    k = j
    while ts[k] - ts[j] < min_d:  # the live comparison: t - pending >= min_d raises
        k += 1
        if k >= n or not on(k):
            return -1, -1, 0
    lim = bs[j] - rec
    for m in range(k + 1, n):
        if brk is not None and brk[m]:
            return j, m, 3
        if xs[m] >= lim:
            return j, m, 1
        if ts[m] - ts[j] > max_d:
            return j, m, 2
    return j, -1, 0


# ---------------------------------------------------------------------- the analysis

def analyze(recording: Recording | Trace, config: AlarmConfig | None = None) -> Analysis:
    tr = recording if isinstance(recording, Trace) else Trace.from_recording(recording)
    return analyze_trace(tr, config)


_allocator_warm = False


def _warm_allocator(n: int) -> None:
    """Once per process, for long traces: allocate and free one 30 MB block.

    The analysis makes a few dozen trace-sized numpy temporaries. glibc's malloc hands freed
    memory at the top of its heap back to the kernel once more than twice its adaptive mmap
    threshold is free, and that threshold only grows after a large block has been freed; until
    then every temporary is faulted in afresh, page by page (measured on 24 h at 1 Hz: about
    400 page faults and +20-40 % time on every call, not only the first). Freeing one large
    (never touched) block moves the threshold up as any program that once used a big array
    would. Elsewhere this costs two system calls at most. The first call of a process still
    faults its memory in once.
    """
    global _allocator_warm
    if _allocator_warm or n < 20_000:
        return
    _allocator_warm = True
    block = np.empty(30 * 2**20, dtype=np.uint8)
    del block


def analyze_trace(tr: Trace, config: AlarmConfig | None = None) -> Analysis:
    _warm_allocator(len(tr.t))
    cfg = config or AlarmConfig.default()
    th = thresholds(cfg)
    t = tr.t
    n = len(t)
    t_end = tr.t_end
    if n == 0 or t_end is None:
        alarms: list[dict[str, Any]] = []
        _link_alarms(tr, cfg, alarms)
        none = Values(None, None, None, None, None, {f"{b:g}": 0.0 for b in cfg.time_below})
        return Analysis(0.0, 0, 0, 0.0, 0.0, none, none, 0.0, [], None, None, alarms,
                        tr.dropped, cfg.source, cfg.acquisition_s, cfg.window_s,
                        smoothing_note(cfg), desat_rule(cfg))
    st = tr.status
    # every flag raised anywhere, in one pass: none means a clean recording, and 16 bits
    # (every Status flag fits) make the temporaries below small
    flags = int(np.bitwise_or.reduce(st)) if st.dtype.kind in "iu" else -1  # -1: all bits
    if st.dtype != np.uint16 and 0 <= flags < 1 << 16:
        st = st.astype(np.uint16)
    spo2, pulse, pi = tr.spo2, tr.pulse, tr.pi
    has_s = np.isfinite(spo2)
    has_p = np.isfinite(pulse)
    # None below means "everywhere" (plaus) or "nowhere" (low_pi, ok's exceptions): readers
    # pass plausible values, so two reductions usually save the per-sample comparisons
    plaus = low_pi = None
    with np.errstate(invalid="ignore"):
        if not (_within(spo2, *th.spo2_lo) and _within(pulse, *th.pulse_lo)):
            plaus = ((~has_s | ((spo2 >= th.spo2_lo[0]) & (spo2 <= th.spo2_lo[1])))
                     & (~has_p | ((pulse >= th.pulse_lo[0]) & (pulse <= th.pulse_lo[1]))))
        if not (len(pi) and np.fmin.reduce(pi) >= th.pi_low):  # NaN is skipped, -inf is not
            low_pi = np.isfinite(pi) & (pi < th.pi_low)
    ok = (st & _INVALID) == 0 if flags & _INVALID else None
    if plaus is not None:
        ok = plaus if ok is None else ok & plaus
    by_kind: dict[str, list[dict[str, Any]]] = defaultdict(list)  # alarms, kept by kind
    rules = cfg.rules

    # technical conditions, one class per vitals reading (ON or OFF)
    fo = sf = ns = poor = None
    if flags:
        fo = (st & _FO) != 0
        sf = (st & _SF) != 0
        ns = (st & _NS) != 0
        poor = (st & _POOR) != 0
    if low_pi is not None:
        poor = low_pi if poor is None else poor | low_pi
    if plaus is not None:
        poor = ~plaus if poor is None else poor | ~plaus
    if flags and poor is not None:
        poor &= ~(fo | sf | ns)  # finger out, no sensor, sensor fault say more than "poor"
    for kind, on in (("finger_out", fo), ("no_sensor", ns), ("sensor_fault", sf),
                     ("signal_poor", poor)):
        if on is not None and rules[kind].enabled:
            idx = np.flatnonzero(on)
            seg = solve_runs(t, idx, idx, rules[kind].delay_s)
            _segments_to_alarms(kind, cfg, t, seg, by_kind[kind])

    # gaps: no reading at all; no valid SpO2 (counted from the first reading until one comes)
    _gap_alarms("no_data", cfg, t, th.no_data_s, t_end, by_kind["no_data"])
    sv = has_s if ok is None else ok & has_s
    S = _stream(t, sv, spo2, th, t_end)
    # the stream found the stale gaps between valid values already; before the first valid
    # value, the first reading starts the count
    if sv[0]:
        refs, gap = S.tv, S.gaps
    else:
        refs = np.concatenate([t[:1], S.tv])
        lead = [0] if len(S.tv) and S.tv[0] > t[0] + th.stale_s else []
        gap = np.concatenate((np.array(lead, dtype=np.intp), S.gaps + 1))
    _gap_alarms("stale", cfg, refs, th.stale_s, t_end, by_kind["stale"], gap)
    _link_alarms(tr, cfg, by_kind["link_lost"])

    # SpO2 rules
    s, tv = S.s, S.tv
    below_s = _Below(s)
    for kind in ("spo2_low", "spo2_severe"):
        if not rules[kind].enabled:
            continue
        on, clear = th.limits[kind]
        weak, strong = below_s(clear), below_s(on)
        byp = None
        if kind in th.rapid and len(tv):
            # a bypass only matters on ON samples: evaluate the fall there only
            drop, win_s = th.rapid[kind]
            k = np.searchsorted(tv, tv[strong] - win_s, side="left")
            byp = strong[s[k] - s[strong] >= drop]
        seg = _solve(S, weak, strong, on <= clear, rules[kind].delay_s, byp)
        _segments_to_alarms(kind, cfg, S.ts, seg, by_kind[kind])
    if rules["falling_fast"].enabled and len(tv):
        k = S.k(th.trend_s, "left")
        on, clear = th.limits["falling_fast"]
        half = th.trend_half_s
        rise = s - take(s, k)  # tenths gained over the trend window
        top = max(on, clear)  # the limit that the most samples pass
        if top < 0 < half:
            # falling by |top| %/min over at least `half` s takes a drop of |top| * half / 6
            # tenths; with a whole tenth to spare, only these samples can reach either limit
            cand = np.flatnonzero(rise < top * half / 6.0 + 1.0)
        else:
            cand = np.arange(len(tv))
        span = tv[cand] - tv[k.at(cand)]
        with np.errstate(divide="ignore", invalid="ignore"):
            trend = rise[cand] * 60.0 / span / 10.0  # the live expression, term for term
        trend[span < half] = np.nan  # too short a span: unknown, fails every test
        with np.errstate(invalid="ignore"):
            below_tr = _Below(trend, inclusive=True)
            weak, strong = cand[below_tr(clear)], cand[below_tr(on)]
        seg = _solve(S, weak, strong, on <= clear, rules["falling_fast"].delay_s)
        _segments_to_alarms("falling_fast", cfg, S.ts, seg, by_kind["falling_fast"])

    # pulse rules
    pv = has_p if ok is None else ok & has_p
    P = _stream(t, pv, pulse, th, t_end, like=S if np.array_equal(pv, sv) else None)
    on, clear = th.limits["pulse_low"]
    if rules["pulse_low"].enabled:
        below_p = _Below(P.s)
        weak, strong = below_p(clear), below_p(on)
        seg = _solve(P, weak, strong, on <= clear, rules["pulse_low"].delay_s)
        _segments_to_alarms("pulse_low", cfg, P.ts, seg, by_kind["pulse_low"])
    on, clear = th.limits["pulse_high"]
    if rules["pulse_high"].enabled:
        weak = np.flatnonzero(P.s > clear)
        strong = weak[P.s[weak] > on] if on >= clear else np.flatnonzero(P.s > on)
        seg = _solve(P, weak, strong, on >= clear, rules["pulse_high"].delay_s)
        _segments_to_alarms("pulse_high", cfg, P.ts, seg, by_kind["pulse_high"])

    # desaturations, on the device's values (see _desaturations)
    desats, n_by_level = _desaturations(S, cfg, th)

    # time below thresholds as on screen: each smoothed value holds until the next reading,
    # at most stale_after (the live Monitor's rule)
    dt = np.empty(n)
    np.subtract(t[1:], t[:-1], out=dt[:-1])
    hold = dt.copy()  # the device's values: also a device's own interval when it is longer
    np.minimum(dt[:-1], th.stale_s, out=dt[:-1])
    dt[-1] = 0.0
    dtv = np.take(dt, S.vidx)
    shown_time = float(dtv.sum())
    time_below = {f"{b:g}": float(np.sum(dtv, where=s < b10))
                  for b, b10 in zip(cfg.time_below, th.below, strict=True)}
    device, valid_time = _device_values(S, P, hold, tr.interval, cfg, th)

    _escalate(by_kind, cfg.escalate_within_s)
    if cfg.response_escalates:
        _escalate_response(by_kind, tr.response)
    alarms = [a for same in by_kind.values() for a in same]
    alarms.sort(key=lambda a: (a["start_s"], _ORDER[a["kind"]]))
    hours = valid_time / 3600.0
    levels = list(cfg.desat_drops)

    def odi(level: float) -> float | None:
        if level not in levels or hours <= 0:
            return None
        return round(n_by_level.get(level, 0) / hours, 2)

    duration = float(t[-1] - t[0]) + (tr.interval or 0.0)
    # the averaging window must also have left the start-up samples behind
    smoothed = _values(S, P, S.s, P.s, cfg.acquisition_s + th.window_s, time_below)
    return Analysis(
        duration_s=duration, samples=n, valid_samples=len(S.vidx),
        valid_fraction=len(S.vidx) / n, valid_time_s=valid_time, device=device,
        smoothed=smoothed, shown_time_s=shown_time, desaturations=desats,
        odi3_per_h=odi(3.0), odi4_per_h=odi(4.0), alarms=alarms, dropped=tr.dropped,
        config=cfg.source, startup_s=cfg.acquisition_s, window_s=cfg.window_s,
        smoothing=smoothing_note(cfg),
        rule=desat_rule(cfg),
    )


def _values(S: _Stream, P: _Stream, s: np.ndarray, p: np.ndarray, settle: float,
            time_below: dict[str, float]) -> Values:
    """Minimum, maximum and mean of `s` (SpO2 tenths at S's valid samples) and the range of
    `p` (pulse tenths at P's), past the first `settle` seconds of each stretch."""
    if not len(s) and not len(p):
        return Values(None, None, None, None, None, time_below)
    s_min = s_max = p_min = p_max = None
    mean = None
    if len(s):
        rng = _settled(S, settle)
        s_min = _over_ranges(np.minimum, s, *rng) / 10.0
        s_max = _over_ranges(np.maximum, s, *rng) / 10.0
        cnt = int((rng[1] - rng[0]).sum())
        mean = round(_over_ranges(np.add, s, *rng) / cnt / 10.0, 1)
    if len(p):
        rng = _settled(P, settle)
        p_min = _over_ranges(np.minimum, p, *rng) / 10.0
        p_max = _over_ranges(np.maximum, p, *rng) / 10.0
    return Values(s_min, s_max, mean, p_min, p_max, time_below)


def _device_values(S: _Stream, P: _Stream, hold: np.ndarray, interval: float | None,
                   cfg: AlarmConfig, th: Thresholds) -> tuple[Values, float]:
    """The device's own values and the time they cover. `hold` is the time from each vitals
    reading to the next (the last entry is overwritten here). A value holds until the next
    reading, at most stale_after_s or the device's own interval when that is longer (a
    once-a-minute export holds each value for its minute); the last one for one interval."""
    cap = max(th.stale_s, interval or 0.0)
    np.minimum(hold, cap, out=hold)
    hold[-1] = min(interval or 0.0, cap)
    w = np.take(hold, S.vidx)
    valid_time = float(w.sum())
    x = S.x
    below = {f"{b:g}": float(np.sum(w, where=x < b10))
             for b, b10 in zip(cfg.time_below, th.below, strict=True)}
    return _values(S, P, S.x, P.x, cfg.acquisition_s, below), valid_time


def device_values(tr: Trace, config: AlarmConfig | None = None) -> tuple[Values, int, float]:
    """(the device's values, valid SpO2 samples, valid time) of a trace, exactly as
    `analyze_trace` reports them, without the alarm and event rules (for `info`)."""
    cfg = config or AlarmConfig.default()
    th = thresholds(cfg)
    t, n, t_end = tr.t, len(tr.t), tr.t_end
    if n == 0 or t_end is None:
        return Values(None, None, None, None, None,
                      {f"{b:g}": 0.0 for b in cfg.time_below}), 0, 0.0
    sv, pv = _valid(tr, th)
    S = _stream(t, sv, tr.spo2, th, t_end)
    P = _stream(t, pv, tr.pulse, th, t_end, like=S if np.array_equal(pv, sv) else None)
    hold = np.empty(n)
    np.subtract(t[1:], t[:-1], out=hold[:-1])
    vals, valid_time = _device_values(S, P, hold, tr.interval, cfg, th)
    return vals, len(S.vidx), valid_time


def _valid(tr: Trace, th: Thresholds) -> tuple[np.ndarray, np.ndarray]:
    """Which readings carry a trustworthy SpO2 and pulse: present, not flagged invalid and
    plausible, with the reading's other value plausible too (the live Monitor's rule)."""
    spo2, pulse = tr.spo2, tr.pulse
    has_s, has_p = np.isfinite(spo2), np.isfinite(pulse)
    with np.errstate(invalid="ignore"):
        ok = (((tr.status & _INVALID) == 0)
              & (~has_s | ((spo2 >= th.spo2_lo[0]) & (spo2 <= th.spo2_lo[1])))
              & (~has_p | ((pulse >= th.pulse_lo[0]) & (pulse <= th.pulse_lo[1]))))
    return ok & has_s, ok & has_p


_ORDER = {k: i for i, k in enumerate((*PHYSIOLOGICAL, *TECHNICAL))}
