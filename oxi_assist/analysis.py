"""Offline analysis: the live Monitor's rules applied to a whole recording with numpy.

Same input → same alarms and desaturation events as the live Monitor
(oxi_assist.monitor.monitor.Monitor; a property test checks it). Sequential rules are solved
without a loop over samples: hysteresis machines via
oxi_assist.monitor.alarm_rules.solve_run_bounds (work per run of readings past a limit), window
sums via cumulative sums over window starts that are guessed from the sampling rate and checked
exactly (oxi_assist.monitor.smoothing.window_starts, which keeps them as "i - lag, except at these
odd windows"), the sliding baseline maximum via one level of a sparse table of slice maxima.
Python loops run only over table levels, chunks, link events and found events.

A long recording is read in chunks (oxi_assist.analysis_chunks): the work arrays are as large
as a chunk, and what the rules keep of each chunk (runs of readings past a limit, the device's
SpO2 and baseline in 2 bytes a reading, block sums of durations) is small. The result does
not depend on the chunk size (a property test checks it).

Where the time goes (24 h at 1 Hz, one chunk): about a hundred whole-array numpy passes, most
over 32-bit or smaller values, plus building the alarm and event records. Per-sample work is
avoided where a cheap whole-array test proves it moot: reductions instead of plausibility
masks, a scan of the smoothed drop instead of the exact trend everywhere, runs of values past
a limit instead of the samples between them.

Each channel (SpO2, pulse) is a "stream" as the live Monitor's rules see it: the vitals
readings (with or without a valid value) and one sample of its own at each instant the value
went stale (a "stale mark", oxi_assist.desaturations.StaleMarks), which ends whatever that
channel's rules had going.

The item order matches what a live session sees: readings sorted by file order (a vitals
reading older than the last one is dropped, as the Monitor drops it), link events after
readings of the same time.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from drivers.formats._base import ReadingArrays, Recording
from drivers.reading import LinkEvent, LinkState, Reading
from oxi_assist.analysis_chunks import CHUNK, Pass, _window_max
from oxi_assist.desaturations import Level, StaleMarks, desaturation_events
from oxi_assist.monitor.alarm_config import (
    DESAT_RULE_VERSION,
    ESCALATING,
    PHYSIOLOGICAL,
    RESPONSE_ESCALATING,
    SPO2_ALARMS,
    TECHNICAL,
    AlarmConfig,
)
from oxi_assist.monitor.alarm_rules import Thresholds, solve_run_bounds, thresholds
from oxi_assist.monitor.priority import Priority
from oxi_assist.monitor.records import AlarmRecord, DesatRecord

__all__ = ["Analysis", "Trace", "Values", "_window_max", "alarm_counts", "analyze",
           "analyze_trace", "desat_rule", "device_values", "smoothing_note"]


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
        if rec.events:  # a recorded session: its responder's actions (imported only then)
            from oxi_assist.actions import recorded_response_spans

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
    desaturations: list[DesatRecord]
    odi3_per_h: float | None
    odi4_per_h: float | None
    alarms: list[AlarmRecord]
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
            "desaturations": [d.to_dict() for d in self.desaturations],
            "alarms_raised": sum(counts.values()), "alarms_by_kind": counts,
            "alarms": [a.to_dict() for a in self.alarms], "dropped_out_of_order": self.dropped,
            "config": self.config,
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, allow_nan=False)


def alarm_counts(alarms: list[AlarmRecord]) -> dict[str, int]:
    """What every command counts as alarms: each raise of an alarm rule, once, by kind (an
    alarm that stays active is one alarm; technical ones included)."""
    out: dict[str, int] = {}
    for a in alarms:
        out[a.kind] = out.get(a.kind, 0) + 1
    return dict(sorted(out.items()))


def _r(x: float | None, nd: int = 3) -> float | None:
    return None if x is None else round(float(x), nd)



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


def analyze_trace(tr: Trace, config: AlarmConfig | None = None, *, chunk: int = CHUNK,
                  block: int | None = None) -> Analysis:
    """The analysis of a trace. `chunk` readings are worked on at a time (and `block`
    readings per partial sum of durations): the result is the same for any size."""
    _warm_allocator(min(len(tr.t), chunk))
    cfg = config or AlarmConfig.default()
    th = thresholds(cfg)
    t = tr.t
    n = len(t)
    t_end = tr.t_end
    if n == 0 or t_end is None:
        alarms: list[AlarmRecord] = []
        _link_alarms(tr, cfg, alarms)
        none = Values(None, None, None, None, None, {f"{b:g}": 0.0 for b in cfg.time_below})
        return Analysis(0.0, 0, 0, 0.0, 0.0, none, none, 0.0, [], None, None, alarms,
                        tr.dropped, cfg.source, cfg.acquisition_s, cfg.window_s,
                        smoothing_note(cfg), desat_rule(cfg))
    ps = _pass(tr, cfg, th, True, chunk, block)
    rules = cfg.rules
    by_kind: dict[str, list[AlarmRecord]] = {k: [] for k in _ORDER}  # alarms, by kind
    unmarked = StaleMarks(np.zeros(0, dtype=np.intp), np.zeros(0))
    for kind, runs in ps.tech.items():  # equipment conditions, on the readings themselves
        lo, hi = runs.runs()
        raised, onset, end = solve_run_bounds(t, lo, hi, lo, hi, rules[kind].delay_s)
        _to_alarms(kind, cfg, t, raised, onset, unmarked.end_times(t, end), by_kind[kind])
    # gaps: no reading at all; no valid SpO2 (counted from the first reading until one comes)
    hole = ps.holes()
    _gap_alarms("no_data", cfg, t[hole] + th.no_data_s, t[hole + 1],
                float(t[-1]) + th.no_data_s, t_end, by_kind["no_data"])
    due, nxt = ps.S.gaps()
    if not ps.sv0 and ps.S.count and ps.S.first_t > t[0] + th.stale_s:
        due = np.concatenate(([t[0] + th.stale_s], due))  # from the first reading
        nxt = np.concatenate(([ps.S.first_t], nxt))
    last_ref = ps.S.last_t if ps.S.count else float(t[0])
    _gap_alarms("stale", cfg, due, nxt, last_ref + th.stale_s, t_end, by_kind["stale"])
    _link_alarms(tr, cfg, by_kind["link_lost"])
    # the channels' rules, on their streams (a stale mark ends what they had going)
    marks = {"S": StaleMarks(*ps.S.marks(t, t_end)), "P": StaleMarks(*ps.P.marks(t, t_end))}
    for kind, weak in ps.weak.items():
        mk = marks["P" if kind.startswith("pulse") else "S"]
        wlo, whi = weak.runs(mk.pos)
        olo, ohi = ps.strong[kind].runs(mk.pos)
        byp = ps.bypasses(kind)
        raised, onset, end = solve_run_bounds(t, wlo, whi, olo, ohi, rules[kind].delay_s,
                                              None if byp is None else np.sort(byp))
        _to_alarms(kind, cfg, t, raised, onset, mk.end_times(t, end), by_kind[kind])
    # desaturations, on the device's values
    levels = [Level(level, d, rec, runs.runs(marks["S"].pos))
              for (level, runs), (d, rec) in zip(ps.desat_on.items(), th.desat, strict=True)]
    desats, n_by_level = desaturation_events(t, ps.x, ps.base, marks["S"], levels,
                                             cfg.desat_min_duration_s,
                                             cfg.desat_max_duration_s)
    nb = len(th.below)
    sums = ps.totals()
    valid_time, dev_below = sums[0], sums[1:1 + nb]
    shown_time, shown_below = sums[1 + nb], sums[2 + nb:]
    keys = [f"{b:g}" for b in cfg.time_below]
    device = _values(ps, 0, dict(zip(keys, dev_below, strict=True)))
    smoothed = _values(ps, 1, dict(zip(keys, shown_below, strict=True)))

    _escalate(by_kind, cfg.escalate_within_s)
    if cfg.response_escalates:
        _escalate_response(by_kind, tr.response)
    alarms = [a for same in by_kind.values() for a in same]
    alarms.sort(key=lambda a: (a.start, _ORDER[a.kind]))
    hours = valid_time / 3600.0

    def odi(level: float) -> float | None:
        if level not in n_by_level or hours <= 0:
            return None
        return round(n_by_level.get(level, 0) / hours, 2)

    duration = float(t[-1] - t[0]) + (tr.interval or 0.0)
    return Analysis(
        duration_s=duration, samples=n, valid_samples=ps.S.count,
        valid_fraction=ps.S.count / n, valid_time_s=valid_time, device=device,
        smoothed=smoothed, shown_time_s=shown_time, desaturations=desats,
        odi3_per_h=odi(3.0), odi4_per_h=odi(4.0), alarms=alarms, dropped=tr.dropped,
        config=cfg.source, startup_s=cfg.acquisition_s, window_s=cfg.window_s,
        smoothing=smoothing_note(cfg),
        rule=desat_rule(cfg),
    )


def _pass(tr: Trace, cfg: AlarmConfig, th: Thresholds, full: bool, chunk: int,
          block: int | None) -> Pass:
    kw = {} if block is None else {"block": block}
    return Pass(tr.t, tr.spo2, tr.pulse, tr.pi, tr.status, tr.interval, cfg, th, full,
                **kw).run(chunk)


def _values(ps: Pass, which: int, time_below: dict[str, float]) -> Values:
    """The statistics `which` (0: the device's values, 1: ours smoothed) of both channels."""
    s_min, s_max, mean = ps.S.stats[which].result()
    p_min, p_max, _ = ps.P.stats[which].result()
    return Values(s_min, s_max, mean, p_min, p_max, time_below)


def device_values(tr: Trace, config: AlarmConfig | None = None, *, chunk: int = CHUNK
                  ) -> tuple[Values, int, float]:
    """(the device's values, valid SpO2 samples, valid time) of a trace, exactly as
    `analyze_trace` reports them, without the alarm and event rules (for `info`)."""
    cfg = config or AlarmConfig.default()
    if len(tr.t) == 0 or tr.t_end is None:
        return Values(None, None, None, None, None,
                      {f"{b:g}": 0.0 for b in cfg.time_below}), 0, 0.0
    ps = _pass(tr, cfg, thresholds(cfg), False, chunk, None)
    sums = ps.totals()
    below = dict(zip((f"{b:g}" for b in cfg.time_below), sums[1:], strict=True))
    return _values(ps, 0, below), ps.S.count, sums[0]


def _to_alarms(kind: str, cfg: AlarmConfig, t: np.ndarray, raised: np.ndarray,
               onset: np.ndarray, end: np.ndarray, out: list[AlarmRecord]) -> None:
    """Alarm records from the readings that raised, their onsets and end times (NaN: still
    active at the end)."""
    if not len(raised):
        return
    rule = cfg.rules[kind]
    pr, tech = rule.priority, rule.technical
    out.extend([AlarmRecord(kind, pr, tech, o, r, e if e == e else None)
                for o, r, e in zip(t[onset].tolist(), t[raised].tolist(), end.tolist(),
                                   strict=True)])


def _alarm(kind: str, cfg: AlarmConfig, onset: float, start: float,
           end: float | None) -> AlarmRecord:
    rule = cfg.rules[kind]
    return AlarmRecord(kind, rule.priority, rule.technical, onset, start, end)


def _gap_alarms(kind: str, cfg: AlarmConfig, due: np.ndarray, end: np.ndarray, last: float,
                t_end: float, out: list[AlarmRecord]) -> None:
    """"No reading" alarms: raised at each `due` (when the reading before was `after`
    seconds old and none had come) and ended by the next reading (`end`); and at `last`
    (after the last reading) when anything at all came later (still active at the end)."""
    if not cfg.rules[kind].enabled:
        return
    for d, e in zip(due.tolist(), end.tolist(), strict=True):
        out.append(_alarm(kind, cfg, d, d, e))
    if t_end > last:
        out.append(_alarm(kind, cfg, last, last, None))


def _link_alarms(tr: Trace, cfg: AlarmConfig, out: list[AlarmRecord]) -> None:
    if not tr.links or not cfg.rules["link_lost"].enabled:
        return

    def next_read(after: float) -> float | None:
        """The first reading (vitals or wave) after `after`."""
        best = None
        for reads in (tr.t, tr.other_t):
            i = int(np.searchsorted(reads, after, side="right"))
            if i < len(reads) and (best is None or reads[i] < best):
                best = float(reads[i])
        return best

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


def _escalate_response(by_kind: dict[str, list[AlarmRecord]],
                       spans: list[tuple[float, float | None]]) -> None:
    """The Monitor's rule 5: during a response span [a, b) low SpO2 and "no reading" alarms
    are high. An alarm raised in the span is high; one raised before it and still active at
    its start (ending at a or later) is raised to high there. A span's start is applied before
    any reading of the same instant (as the session does: the responder's key, then the data)."""
    if not spans:
        return
    for kind in RESPONSE_ESCALATING:
        same = by_kind.get(kind, [])
        for i, a in enumerate(same):
            if a.priority is Priority.HIGH:
                continue
            start, end = a.start, a.end
            for lo, hi in spans:
                in_span = lo <= start and (hi is None or start < hi)
                open_at_start = start < lo and (end is None or end >= lo)
                if in_span or open_at_start:
                    same[i] = replace(a, priority=Priority.HIGH)
                    break


def _escalate(by_kind: dict[str, list[AlarmRecord]], within: float) -> None:
    """The Monitor's escalation rule: an alarm meaning "no reading" is high priority when an
    SpO2 alarm raised before it is still active, or ended no more than `within` s earlier.
    One search per SpO2 kind for all the candidates at once."""
    if within <= 0:
        return
    esc = [(k, i) for k in ESCALATING for i, a in enumerate(by_kind.get(k, ()))
           if a.priority is not Priority.HIGH]
    if not esc:
        return
    t = np.array([by_kind[k][i].start for k, i in esc])
    due = t - within
    hit = np.zeros(len(esc), dtype=bool)
    for k in SPO2_ALARMS:
        recs = sorted(by_kind.get(k, ()), key=lambda a: a.start)
        if not recs:
            continue
        starts = np.array([a.start for a in recs])
        ends = np.array([math.inf if a.end is None else a.end for a in recs])
        i = np.searchsorted(starts, t, side="left") - 1  # the latest one raised before t
        hit |= (i >= 0) & (ends[np.maximum(i, 0)] >= due)
    for (k, i), h in zip(esc, hit.tolist(), strict=True):
        if h:
            by_kind[k][i] = replace(by_kind[k][i], priority=Priority.HIGH)


_ORDER = {k: i for i, k in enumerate((*PHYSIOLOGICAL, *TECHNICAL))}
