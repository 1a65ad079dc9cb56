"""The pass of the offline analysis over a recording, chunk by chunk.

A recording of millions of readings is read in chunks of `CHUNK` readings, so the work
arrays (masks, the valid samples, their smoothed values, baselines, trends) are as large as a
chunk, not as the recording, and nothing of them outlives the chunk. What the rules need of
each chunk is small and is kept (`Pass`):

* windowed values are exact in every chunk: a chunk's arrays start `lookback` seconds before
  it (oxi_assist.channels), longer than any window of the rules reaches back;
* each hysteresis rule keeps where its condition held, as runs of readings
  (oxi_assist.run_lists), joined across chunks and solved once all are in;
* what has no bound in time (the last valid value, the current stretch, the statistics) is
  carried from chunk to chunk (oxi_assist.channels.Carry);
* sums of durations are kept per block of `BLOCK` readings and added up exactly rounded
  (math.fsum) at the end, so they do not depend on where chunks begin;
* the device's SpO2 and its pre-event baseline stay, 2 bytes a reading each, for the
  desaturation events (oxi_assist.desaturations).

A recording of one chunk or less goes through the same code in a single step. The result
does not depend on the chunk size: a property test compares chunked and whole passes on
generated traces with chunk boundaries everywhere.
"""

from __future__ import annotations

import math

import numpy as np

from drivers.reading import DOUBTFUL, INVALIDATING, Status
from oxi_assist.channels import Carry, Samples, samples
from oxi_assist.desaturations import NO_VALUE
from oxi_assist.monitor.alarm_config import AlarmConfig
from oxi_assist.monitor.alarm_rules import Thresholds
from oxi_assist.monitor.smoothing import Starts, take, window_starts
from oxi_assist.run_lists import RunList

#: readings per chunk: a day at 1 Hz and half an hour at 100 Hz are one chunk
CHUNK = 1 << 18
#: readings per partial sum of durations (a chunk is a whole number of blocks)
BLOCK = 1 << 10

_POOR = int(DOUBTFUL | Status.SEARCHING)
_INVALID = int(INVALIDATING)
_FO = int(Status.FINGER_OUT)
_SF = int(Status.SENSOR_FAULT)
_NS = int(Status.NO_SENSOR)
TECH = (("finger_out", _FO), ("no_sensor", _NS), ("sensor_fault", _SF))


class Pass:
    """One pass over a trace's vitals readings (`t`, `spo2`, `pulse`, `pi`, `status`), chunk
    by chunk. `full`: every rule; otherwise only the device's values and their times (what
    `info` shows)."""

    def __init__(self, t: np.ndarray, spo2: np.ndarray, pulse: np.ndarray, pi: np.ndarray,
                 status: np.ndarray, interval: float | None, cfg: AlarmConfig,
                 th: Thresholds, full: bool = True, block: int = BLOCK) -> None:
        self.block = block
        self.t, self.spo2, self.pulse, self.pi, self.status = t, spo2, pulse, pi, status
        self.n = n = len(t)
        self.cfg, self.th, self.full = cfg, th, full
        self.cap = max(th.stale_s, interval or 0.0)  # how long a device value holds
        self.last_hold = min(interval or 0.0, self.cap)
        acq = cfg.acquisition_s
        settle = (acq, acq + th.window_s) if full else (acq,)
        self.S = Carry(th.stale_s, settle)  # SpO2
        self.P = Carry(th.stale_s, settle)  # pulse
        self.sv0 = False  # the first reading has a valid SpO2
        self.no_data: list[np.ndarray] = []  # readings followed by a hole of no_data_s
        rules = cfg.rules
        self.tech = {k: RunList() for k in (*(k for k, _ in TECH), "signal_poor")
                     if rules[k].enabled}
        self.sums: list[np.ndarray] = []  # per chunk: rows of block sums (see _sums)
        if not full:
            return
        self.lookback = (2.0 * th.window_s + max(th.trend_s, *(w for _, w in th.rapid.values()))
                         + th.baseline_s + 1.0)
        self.weak = {k: RunList() for k in ("spo2_low", "spo2_severe", "falling_fast",
                                             "pulse_low", "pulse_high") if rules[k].enabled}
        self.strong = {k: RunList() for k in self.weak}
        self.bypass: dict[str, list[np.ndarray]] = {k: [] for k in self.weak}
        self.desat_on = {lvl: RunList() for lvl in cfg.desat_drops}
        self.x = np.full(n, NO_VALUE, dtype=np.int16)  # the device's SpO2 (tenths)
        self.base = np.zeros(n, dtype=np.int16)  # its pre-event baseline

    def run(self, chunk: int = CHUNK) -> Pass:
        if chunk % self.block and chunk < self.n:
            raise ValueError(f"chunk {chunk} is not a whole number of blocks of {self.block}")
        for a in range(0, self.n, chunk):
            self._chunk(a, min(a + chunk, self.n))
        return self

    # ------------------------------------------------------------------ one chunk

    def _chunk(self, a: int, b: int) -> None:
        t, th, full = self.t, self.th, self.full
        a0 = a
        if full and a:
            a0 = int(t.searchsorted(t[a] - self.lookback, side="left"))
        own = a - a0  # the chunk's own readings start here in the arrays below
        st = self.status[a0:b]
        spo2, pulse = self.spo2[a0:b], self.pulse[a0:b]
        # every flag raised in the chunk, in one pass: none means a clean chunk, and 16 bits
        # (every Status flag fits) make the temporaries below small
        flags = int(np.bitwise_or.reduce(st)) if st.dtype.kind in "iu" else -1
        if st.dtype != np.uint16 and 0 <= flags < 1 << 16:
            st = st.astype(np.uint16)
        has_s = np.isfinite(spo2)
        has_p = np.isfinite(pulse)
        # None below means "everywhere" (plaus) or "nowhere" (low_pi, ok's exceptions):
        # readers pass plausible values, so two reductions usually save the comparisons
        plaus = low_pi = None
        with np.errstate(invalid="ignore"):
            if not (_within(spo2, *th.spo2_lo) and _within(pulse, *th.pulse_lo)):
                plaus = ((~has_s | ((spo2 >= th.spo2_lo[0]) & (spo2 <= th.spo2_lo[1])))
                         & (~has_p | ((pulse >= th.pulse_lo[0]) & (pulse <= th.pulse_lo[1]))))
            pi = self.pi[a0:b]
            if not (len(pi) and np.fmin.reduce(pi) >= th.pi_low):  # NaN skipped, -inf not
                low_pi = np.isfinite(pi) & (pi < th.pi_low)
        ok = (st & _INVALID) == 0 if flags & _INVALID else None
        if plaus is not None:
            ok = plaus if ok is None else ok & plaus
        sv = has_s if ok is None else ok & has_s
        pv = has_p if ok is None else ok & has_p
        if a == 0:
            self.sv0 = bool(sv[0])
        self._technical(st[own:], flags, None if low_pi is None else low_pi[own:],
                        None if plaus is None else plaus[own:], a)
        self._holes(a, b)
        window = th.window_s if full else None
        S = samples(t, sv, self.spo2, a0, a, window)
        P = samples(t, pv, self.pulse, a0, a, window,
                    like=S if np.array_equal(pv, sv) else None)
        c0 = S.c0
        s_own = S.s[c0:] if S.s is not None else None
        same = self.S.state() == self.P.state() and P.vidx is S.vidx  # P's stretches are S's
        settled = self.S.step(t, S, (S.x[c0:],) if s_own is None else (S.x[c0:], s_own),
                              mean=True)
        pc = P.c0
        self.P.step(t, P, (P.x[pc:],) if P.s is None else (P.x[pc:], P.s[pc:]), mean=False,
                    same=settled if same else None)
        if full:
            self._spo2_rules(S)
            self._pulse_rules(P)
            self._desaturations(S, a, b, sv[own:])
        self._sums(a, b, S)

    def _technical(self, st: np.ndarray, flags: int, low_pi: np.ndarray | None,
                   plaus: np.ndarray | None, a: int) -> None:
        """Equipment conditions, one class per reading (ON or OFF)."""
        poor = None
        if flags:
            poor = (st & _POOR) != 0
        if low_pi is not None:
            poor = low_pi if poor is None else poor | low_pi
        if plaus is not None:
            poor = ~plaus if poor is None else poor | ~plaus
        says_more = None  # finger out, no sensor, sensor fault say more than "poor"
        for kind, bit in TECH:
            if not flags & bit:
                if kind in self.tech:
                    self.tech[kind].add(np.zeros(0, dtype=np.intp))
                continue
            on = (st & bit) != 0
            says_more = on if says_more is None else says_more | on
            if kind in self.tech:
                self.tech[kind].add(_at(on, a))
        if poor is not None and says_more is not None:
            poor &= ~says_more
        if "signal_poor" in self.tech:
            self.tech["signal_poor"].add(_at(poor, a) if poor is not None
                                         else np.zeros(0, dtype=np.intp))

    def _holes(self, a: int, b: int) -> None:
        """Readings after which nothing came for no_data_s (the live comparison)."""
        t = self.t
        e = min(b, self.n - 1)
        if e > a:
            gap = (t[a + 1:e + 1] > t[a:e] + self.th.no_data_s).nonzero()[0]
            if len(gap):
                self.no_data.append(gap + a)

    def _spo2_rules(self, S: Samples) -> None:
        th, s, tv, c0 = self.th, S.s, S.tv, S.c0
        assert s is not None
        vi = S.vidx
        below = _Below(s[c0:])
        for kind in ("spo2_low", "spo2_severe"):
            if kind not in self.weak:
                continue
            on, clear = th.limits[kind]
            weak = below(max(on, clear))  # ON is weak too: an ON sample never ends it
            strong = below(on)
            self.weak[kind].add(vi[weak + c0])
            self.strong[kind].add(vi[strong + c0])
            if kind in th.rapid and len(strong):
                # a bypass only matters on ON samples: evaluate the fall there only
                drop, win_s = th.rapid[kind]
                j = strong + c0
                k = tv.searchsorted(tv[j] - win_s, side="left")
                self.bypass[kind].append(vi[j[s[k] - s[j] >= drop]])
        if "falling_fast" in self.weak and len(tv) > c0:
            k = S.k(th.trend_s, "left")
            on, clear = th.limits["falling_fast"]
            half = th.trend_half_s
            top = max(on, clear)  # the limit that the most samples pass
            rise = s[c0:] - _take_from(s, k, c0)  # tenths gained over the trend window
            if top < 0 < half:
                # falling by |top| %/min over at least `half` s takes a drop of
                # |top| * half / 6 tenths; with a whole tenth to spare, only these samples
                # can reach either limit
                cand = (rise < top * half / 6.0 + 1.0).nonzero()[0]
            else:
                cand = np.arange(len(rise))
            rise = rise[cand]
            cand += c0
            span = tv[cand] - tv[k.at(cand)]
            with np.errstate(divide="ignore", invalid="ignore"):
                trend = rise * 60.0 / span / 10.0  # the live expression, term for term
            trend[span < half] = np.nan  # too short a span: unknown, fails every test
            with np.errstate(invalid="ignore"):
                below_tr = _Below(trend, inclusive=True)
                weak, strong = cand[below_tr(top)], cand[below_tr(on)]
            self.weak["falling_fast"].add(vi[weak])
            self.strong["falling_fast"].add(vi[strong])

    def _pulse_rules(self, P: Samples) -> None:
        th, c0, vi = self.th, P.c0, P.vidx
        assert P.s is not None
        p = P.s[c0:]
        if "pulse_low" in self.weak:
            on, clear = th.limits["pulse_low"]
            below = _Below(p)
            weak = below(max(on, clear))
            self.weak["pulse_low"].add(vi[weak + c0])
            self.strong["pulse_low"].add(vi[below(on) + c0])
        if "pulse_high" in self.weak:
            on, clear = th.limits["pulse_high"]
            weak = (p > min(on, clear)).nonzero()[0]
            strong = weak[p[weak] > on]
            self.weak["pulse_high"].add(vi[weak + c0])
            self.strong["pulse_high"].add(vi[strong + c0])

    def _desaturations(self, S: Samples, a: int, b: int, sv: np.ndarray) -> None:
        """Where each level's drop holds, and the device's values and baselines kept
        (`sv`: which of the chunk's own readings have a valid SpO2)."""
        th, c0 = self.th, S.c0
        if len(S.tv) == 0:
            for runs in self.desat_on.values():
                runs.add(np.zeros(0, dtype=np.intp))
            return
        x = S.x[c0:]
        base = _window_max(S.tv, S.x, th.baseline_s, S.k(th.baseline_s, "left"))[c0:]
        self.x[a:b][sv] = x  # (a mask writes faster than a list of indices)
        self.base[a:b][sv] = base
        vi = S.vidx[c0:]
        drop = base - x
        above = _Below(-drop, inclusive=True)  # drop >= d, the deeper levels from the others
        for (d, _rec), runs in zip(th.desat, self.desat_on.values(), strict=True):
            runs.add(vi[above(-d)])

    def _sums(self, a: int, b: int, S: Samples) -> None:
        """Block sums of the times the chunk's valid SpO2 values cover: a device value holds
        until the next reading, at most stale_after_s or the device's own interval when
        that is longer, the last one for one interval; a smoothed one (as on screen) until
        the next reading, at most stale_after_s, the last one not at all. Rows: valid time,
        device time below each line, then (full) time shown, shown below each line. Blocks
        are of readings, so the sums do not depend on where chunks begin; the time below a
        line is summed over the values below it only (usually few)."""
        t, th, c0 = self.t, self.th, S.c0
        vi = S.vidx[c0:]
        starts = np.arange(a, b, self.block)  # each block's first reading
        m = len(vi)
        if m == 0:
            nrow = (1 + len(th.below)) * (2 if self.full else 1)
            self.sums.append(np.zeros((nrow, len(starts))))
            return
        last = int(vi[-1]) == self.n - 1  # the recording's last reading: no next one
        nxt = np.take(t, vi[:-1] + 1 if last else vi + 1)
        d = nxt - S.tv[c0:c0 + len(nxt)]
        every = vi.searchsorted(starts)
        w = np.empty(m)
        np.minimum(d, self.cap, out=w[:len(d)])
        if last:
            w[-1] = self.last_hold
        rows = [_per_block(w, every)]
        rows += _below(w, S.x[c0:], vi, th.below, starts)
        if self.full:
            assert S.s is not None
            np.minimum(d, th.stale_s, out=w[:len(d)])
            if last:
                w[-1] = 0.0
            rows.append(_per_block(w, every))
            rows += _below(w, S.s[c0:], vi, th.below, starts)
        self.sums.append(np.array(rows))

    # ------------------------------------------------------------------ results

    def totals(self) -> list[float]:
        """The rows of `_sums`, each added up over the whole recording (exactly rounded)."""
        if not self.sums:
            return []
        allb = np.concatenate(self.sums, axis=1) if len(self.sums) > 1 else self.sums[0]
        return [math.fsum(row.tolist()) for row in allb]

    def holes(self) -> np.ndarray:
        return np.concatenate(self.no_data) if self.no_data else np.zeros(0, dtype=np.intp)

    def bypasses(self, kind: str) -> np.ndarray | None:
        got = self.bypass.get(kind, [])
        return np.concatenate(got) if got else None


def _at(mask: np.ndarray, a: int) -> np.ndarray:
    idx = mask.nonzero()[0]
    if a:
        idx += a
    return idx


def _take_from(s: np.ndarray, k: Starts, c0: int) -> np.ndarray:
    """s[k[i]] for i >= c0."""
    if c0 == 0:
        return take(s, k)
    return s[k.at(np.arange(c0, k.n))]


def _per_block(w: np.ndarray, bounds: np.ndarray) -> np.ndarray:
    """Sums of `w` per block, block i holding w[bounds[i]:bounds[i + 1]] (the last: to the
    end); 0 for an empty block."""
    out = np.zeros(len(bounds))
    used = int(bounds.searchsorted(len(w)))  # the blocks that hold any
    if used:
        idx = bounds[:used]
        sums = np.add.reduceat(w, idx)
        sums[:-1][idx[1:] == idx[:-1]] = 0.0  # (reduceat gives one value there)
        out[:used] = sums
    return out


def _below(w: np.ndarray, v: np.ndarray, vi: np.ndarray, lines: tuple[float, ...],
           starts: np.ndarray) -> list[np.ndarray]:
    """Per line: the block sums of `w` where the value `v` (of the readings `vi`) is below
    it. The lines nest, so each picks from the samples below the one above."""
    out = []
    below = _Below(v)
    for lim in lines:
        i = below(lim)
        out.append(_per_block(w[i], vi[i].searchsorted(starts)))
    return out


def _within(x: np.ndarray, lo: float, hi: float) -> bool:
    """Every finite value of x lies in [lo, hi] (NaN is skipped; an infinity is not)."""
    return not len(x) or bool(np.fmin.reduce(x) >= lo and np.fmax.reduce(x) <= hi)


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
        idx = (cmp(self.x, lim)).nonzero()[0]
        self.lim, self.idx = lim, idx
        return idx


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
    z = int(k_odd.searchsorted(0, side="right"))
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
        sel = (odd_q == q).nonzero()[0] if len(odd) else odd
        if len(sel):
            i = odd[sel]
            odd_max[sel] = np.maximum(m[k_odd[sel]], m[i - (1 << q) + 1])
    out[odd] = odd_max
    if head is not None:
        out[st.odd[:z]] = head
    return out
