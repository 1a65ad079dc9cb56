"""The alarm and event rules, written once as numbers and two small state machines: one that
steps a sample at a time (the live Monitor) and one that solves a whole array at once (the
offline analysis). Both must be the same function of the input, so every threshold is computed
here, once, and both sides compare the same floats in the same way.

The rule for every delayed, hysteretic condition (alarms and desaturation events):

* each sample is classed ON (past the limit), MID (inside the hysteresis band), OFF (clear of
  limit + hysteresis) or UNK (no trustworthy value);
* an inactive condition raises at the first ON sample whose unbroken run of ON samples began
  at least `delay` seconds earlier, or at once when the sample carries a bypass (rapid fall);
* an active condition ends at the first OFF or UNK sample; ON and MID keep it.

Because a run of ON samples cannot straddle an OFF/UNK sample, whether a sample *would*
trigger does not depend on the machine's state. So the offline side finds all triggers and all
breakers with array operations and keeps the first trigger after each breaker.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from oxi_assist.monitor.alarm_config import AlarmConfig

ON, MID, OFF, UNK = 2, 1, 0, -1


class Machine:
    """Live side of the rule above. `step` returns +1 when raised, -1 when ended, else 0."""

    __slots__ = ("active", "delay", "onset", "pending")

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.pending: float | None = None  # start of the current ON run while inactive
        self.active = False
        self.onset: float | None = None  # start of the ON run that raised the active condition

    def step(self, t: float, c: int, bypass: bool = False) -> int:
        if self.active:
            if c <= OFF:
                self.active = False
                self.pending = None
                return -1
            return 0
        if c == ON:
            if self.pending is None:
                self.pending = t
            if bypass or t - self.pending >= self.delay:
                self.active = True
                self.onset = self.pending
                return 1
        else:
            self.pending = None
        return 0


@dataclass(frozen=True)
class Segments:
    """Offline result of one machine: indices into the sample stream."""

    raised: np.ndarray  # index of the sample that raised
    ended: np.ndarray  # index of the sample that ended it, -1 if still active at the end
    onset: np.ndarray  # index of the first sample of the ON run that raised


def first_reaching(t: np.ndarray, run_t: np.ndarray, delay: float, lo: np.ndarray,
                   hi: np.ndarray) -> np.ndarray:
    """Per run [lo, hi): the first index i with t[i] - run_t >= delay (the live comparison,
    float for float), or hi when none. A search on run_t + delay lands within a rounding
    step of it; the loops below move each guess onto the exact predicate."""
    n = len(t)
    j = t.searchsorted(run_t + delay, side="left")
    np.maximum(j, lo, out=j)  # (np.clip's wrappers cost more than the work here)
    np.minimum(j, hi, out=j)
    while True:  # step back while the previous sample already reaches
        m = (j > lo) & (t[np.maximum(j - 1, 0)] - run_t >= delay)
        if not m.any():
            break
        j[m] -= 1
    while True:  # step on while this sample does not reach
        m = (j < hi) & ~(t[np.minimum(j, n - 1)] - run_t >= delay)
        if not m.any():
            break
        j[m] += 1
    return j


def solve(t: np.ndarray, c: np.ndarray, delay: float,
          bypass: np.ndarray | None = None) -> Segments:
    """Offline side of the rule above, from per-sample classes."""
    return solve_masks(t, c >= MID, c == ON, delay, bypass)


def solve_masks(t: np.ndarray, weak: np.ndarray, strong: np.ndarray, delay: float,
                bypass: np.ndarray | None = None) -> Segments:
    """The same, from two masks: `strong` = ON, `weak` = ON or MID (so OFF and UNK are the
    samples where `weak` is False). Work beyond two passes over the masks is per ON run.

    An active condition lasts exactly to the end of the run of `weak` samples it was raised
    in, so each weak run raises at most once: at its first trigger."""
    e = np.zeros(0, dtype=np.int64)
    on_idx = strong.nonzero()[0]
    if len(on_idx) == 0:
        return Segments(e, e, e)
    cut = (np.diff(on_idx) != 1).nonzero()[0] + 1
    lo = on_idx[np.concatenate(([0], cut))]  # ON runs [lo, hi)
    hi = on_idx[np.concatenate((cut, [len(on_idx)])) - 1] + 1
    trig = first_reaching(t, t[lo], delay, lo, hi) if delay > 0 else lo.copy()
    if bypass is not None:
        bidx = (bypass & strong).nonzero()[0]
        if len(bidx):
            p = bidx.searchsorted(lo, side="left")
            first_b = bidx[np.minimum(p, len(bidx) - 1)]
            has = (p < len(bidx)) & (first_b < hi)
            trig = np.where(has & (first_b < trig), first_b, trig)
    fire = trig < hi
    trig_idx, onset = trig[fire], lo[fire]
    if len(trig_idx) == 0:
        return Segments(e, e, e)
    brk_idx = (~weak).nonzero()[0]  # OFF or UNK: what ends an active condition
    nb = brk_idx.searchsorted(trig_idx, side="right")
    keep = np.empty(len(nb), dtype=bool)
    keep[0] = True
    keep[1:] = nb[1:] != nb[:-1]
    raised, onset, nbk = trig_idx[keep], onset[keep], nb[keep]
    if len(brk_idx):
        ended = np.where(nbk < len(brk_idx), brk_idx[np.minimum(nbk, len(brk_idx) - 1)], -1)
    else:
        ended = np.full(len(raised), -1, dtype=np.int64)
    return Segments(raised, ended, onset)


def runs_of(idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The maximal runs [lo, hi) of consecutive values in sorted distinct indices."""
    if len(idx) == 0:
        return idx, idx
    cut = (idx[1:] - idx[:-1] != 1).nonzero()[0]
    lo = np.empty(len(cut) + 1, dtype=idx.dtype)
    hi = np.empty(len(cut) + 1, dtype=idx.dtype)
    lo[0] = idx[0]
    lo[1:] = idx[cut + 1]
    hi[:-1] = idx[cut] + 1
    hi[-1] = idx[-1] + 1
    return lo, hi


def solve_runs(t: np.ndarray, weak_idx: np.ndarray, on_idx: np.ndarray, delay: float,
               bypass_idx: np.ndarray | None = None) -> Segments:
    """`solve_masks` from sorted index lists: `weak_idx` the ON or MID samples, `on_idx` the
    ON ones (a subset of `weak_idx`), `bypass_idx` the ON ones carrying a bypass."""
    n = len(t)
    raised, onset, end = solve_run_bounds(t, *runs_of(weak_idx), *runs_of(on_idx), delay,
                                          bypass_idx)
    return Segments(raised, np.where(end < n, end, -1), onset)


def solve_run_bounds(t: np.ndarray, wlo: np.ndarray, whi: np.ndarray, olo: np.ndarray,
                     ohi: np.ndarray, delay: float, bypass_idx: np.ndarray | None = None,
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The rule above from runs of samples: weak runs [wlo, whi) (ON or MID) and the ON runs
    [olo, ohi) inside them, all sorted. Returns, per raise: the sample that raised, the first
    sample of its ON run (the onset) and the end of its weak run (the sample that ends it;
    past the last sample when it is still active at the end).

    When ON implies weak, each trigger lies in a run of weak samples and the condition ends
    at the first sample after that run, so the breakers never need listing: the work is per
    run, and runs are few (a value past a limit) while breakers are nearly every sample."""
    e = np.zeros(0, dtype=np.intp)
    if len(olo) == 0:
        return e, e, e
    same = wlo is olo  # the weak runs are the ON runs: each raises once, ends with itself
    if delay > 0:
        # a run reaches `delay` if its last sample does (t is sorted): most runs past a
        # limit are short, and only the others, and those with a bypass, are searched
        maybe = t[ohi - 1] - t[olo] >= delay
        if bypass_idx is not None and len(bypass_idx):
            p = bypass_idx.searchsorted(olo, side="left")
            maybe |= (p < len(bypass_idx)) & (bypass_idx[np.minimum(p, len(bypass_idx) - 1)]
                                              < ohi)
        if not maybe.all():
            olo, ohi = olo[maybe], ohi[maybe]
            if len(olo) == 0:
                return e, e, e
    trig = first_reaching(t, t[olo], delay, olo, ohi) if delay > 0 else olo
    if bypass_idx is not None and len(bypass_idx):
        p = bypass_idx.searchsorted(olo, side="left")
        first_b = bypass_idx[np.minimum(p, len(bypass_idx) - 1)]
        has = (p < len(bypass_idx)) & (first_b < ohi)
        trig = np.where(has & (first_b < trig), first_b, trig)
    fire = trig < ohi
    if fire.all():
        trig_idx, onset = trig, olo
    else:
        trig_idx, onset = trig[fire], olo[fire]
    if len(trig_idx) == 0:
        return e, e, e
    if same:
        return trig_idx, onset, ohi[fire] if len(trig_idx) < len(ohi) else ohi
    run = wlo.searchsorted(trig_idx, side="right") - 1  # the weak run of each trigger
    if len(run) > 1:
        keep = np.empty(len(run), dtype=bool)
        keep[0] = True
        np.not_equal(run[1:], run[:-1], out=keep[1:])  # the first trigger of a run raises
        if not keep.all():
            trig_idx, onset, run = trig_idx[keep], onset[keep], run[keep]
    return trig_idx, onset, whi[run]


@dataclass(frozen=True)
class Thresholds:
    """Every limit of the config in tenths of a unit, as both implementations compare them."""

    window_s: float
    stale_s: float
    no_data_s: float
    trend_s: float
    trend_half_s: float
    pi_low: float
    spo2_lo: tuple[float, float]  # (plausible min, max) in tenths
    pulse_lo: tuple[float, float]
    # physiological: kind -> (on-threshold, clear-threshold) in tenths (or %/min for trend)
    limits: dict[str, tuple[float, float]]
    rapid: dict[str, tuple[float, float]]  # kind -> (drop in tenths, window s)
    desat: tuple[tuple[float, float], ...]  # (drop tenths, recovery tenths) per drop level
    baseline_s: float
    below: tuple[float, ...]  # time-below thresholds in tenths


_last: tuple[AlarmConfig, Thresholds] | None = None  # the config asked for last, and its own


def thresholds(cfg: AlarmConfig) -> Thresholds:
    """The config's limits in tenths. The last config's are kept: an analysis of many short
    recordings with one config works them out once (a config is not changed in place)."""
    global _last
    if _last is not None and _last[0] is cfg:
        return _last[1]
    th = _thresholds(cfg)
    _last = (cfg, th)
    return th


def _thresholds(cfg: AlarmConfig) -> Thresholds:
    from oxi_assist.monitor.alarm_config import PULSE_PLAUSIBLE, SPO2_PLAUSIBLE

    limits: dict[str, tuple[float, float]] = {}
    rapid: dict[str, tuple[float, float]] = {}
    for kind in ("spo2_low", "spo2_severe", "pulse_low"):
        r = cfg.rules[kind]
        assert r.limit is not None
        limits[kind] = (r.limit * 10.0, (r.limit + r.hysteresis) * 10.0)
    r = cfg.rules["pulse_high"]
    assert r.limit is not None
    limits["pulse_high"] = (r.limit * 10.0, (r.limit - r.hysteresis) * 10.0)
    r = cfg.rules["falling_fast"]
    assert r.limit is not None
    limits["falling_fast"] = (r.limit, r.limit + r.hysteresis)
    for kind in ("spo2_low", "spo2_severe"):
        r = cfg.rules[kind]
        if r.rapid_drop is not None:
            rapid[kind] = (r.rapid_drop * 10.0, r.rapid_window_s)
    return Thresholds(
        window_s=cfg.window_s, stale_s=cfg.stale_after_s, no_data_s=cfg.no_data_after_s,
        trend_s=cfg.trend_window_s, trend_half_s=cfg.trend_window_s / 2.0, pi_low=cfg.pi_low,
        spo2_lo=(SPO2_PLAUSIBLE[0], SPO2_PLAUSIBLE[1]),
        pulse_lo=(PULSE_PLAUSIBLE[0], PULSE_PLAUSIBLE[1]),
        limits=limits, rapid=rapid,
        desat=tuple((d * 10.0, cfg.desat_recovery * 10.0) for d in cfg.desat_drops),
        baseline_s=cfg.baseline_window_s,
        below=tuple(b * 10.0 for b in cfg.time_below),
    )


def classify_low(v: float, on: float, clear: float) -> int:
    """Live class for a 'too low' condition (value in tenths)."""
    if v < on:
        return ON
    if v >= clear:
        return OFF
    return MID


def classify_high(v: float, on: float, clear: float) -> int:
    if v > on:
        return ON
    if v <= clear:
        return OFF
    return MID
