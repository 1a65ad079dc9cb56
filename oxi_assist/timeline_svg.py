"""The whole session as one SVG chart, for a team debrief: SpO2 and pulse over time, the 90 %
and 85 % lines with their sources, responder actions and alarms marked, and gaps left as gaps.

Hand-written SVG keeps the export free of a plotting dependency; long recordings are reduced to
a min/max pair per pixel column so the file stays small and a brief dip is never smoothed away.
Every marker has a text label (and a `<title>`), so colour is never the only cue.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape, quoteattr

import numpy as np

from drivers.formats._base import Recording
from oxi_assist.debrief import (
    LOW_LINE,
    LOW_SOURCE,
    SEVERE_LINE,
    SEVERE_SOURCE,
    DebriefSummary,
    fmt_time,
    summarize,
    typical_step,
    write_output,
)

WIDTH = 1000
LEFT, RIGHT = 64, 24
SPO2_TOP, SPO2_H = 66, 222
PULSE_TOP, PULSE_H = 318, 110
ALARM_TOP = 452
ALARM_ROW_H = 14  # one row per alarm kind, so overlapping alarms stay readable
ALARM_ROWS_MAX = 6
EVENT_ROW_H = 16
EVENT_ROWS = 4

COL_SPO2 = "#1f5fbf"
COL_PULSE = "#b0306a"
COL_ACTION = "#1a7f37"
COL_TRAINER = "#6e7781"
COL_ALARM = "#cf222e"
COL_LINK = "#8c959f"
COL_GRID = "#d0d7de"


def _pct(v: float) -> str:
    return f"{v:.0f}" if abs(v - round(v)) < 0.05 else f"{v:.1f}"


def _nice_step(span: float, target: int = 8) -> float:
    raw = max(span, 1.0) / target
    for step in (5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14400):
        if step >= raw:
            return float(step)
    return float(math.ceil(raw / 3600) * 3600)


class _Scale:
    def __init__(self, d0: float, d1: float, r0: float, r1: float) -> None:
        self.d0, self.d1, self.r0, self.r1 = d0, d1, r0, r1
        self.k = (r1 - r0) / (d1 - d0) if d1 != d0 else 0.0

    def __call__(self, v: float) -> float:
        return self.r0 + (v - self.d0) * self.k


def value_runs(t: np.ndarray, v: np.ndarray, max_gap: float, columns: int, t0: float,
              t1: float, origin: float = 0.0) -> list[list[tuple[float, float]]]:
    """Runs of finite values, split at NaN and at time gaps; reduced to min/max per column
    (the first lowest and first highest sample of each stretch of a run in one column, in
    time order) when there are more samples than two per column. Times are `t - origin`.

    Worked out with whole-array steps a stretch of samples at a time (a stretch ends where
    a column does), so a long recording makes no per-sample objects, no per-sample loop and
    no array as long as itself."""
    out: list[list[tuple[float, float]]] = []
    n = len(t)
    if n == 0:
        return out
    span = (t1 - t0) or 1.0
    by_col = n > 2 * columns

    def col_of(rel: np.ndarray) -> np.ndarray:  # times from the origin → their column
        return np.clip(((rel - t0) / span * columns).astype(int), 0, columns - 1)

    def col(x: np.ndarray) -> np.ndarray:
        return col_of(x - origin)

    run: list[tuple[float, float]] = []
    a = 0
    while a < n:
        b = min(a + _STRETCH, n)
        if by_col:
            b = _column_end(t, b, col)  # a stretch ends where a column does
        f = np.flatnonzero(np.isfinite(v[a:b]))
        f += a
        a = b
        if not len(f):
            continue
        tf, vf = t[f], v[f]
        if origin:
            tf -= origin
        m = len(f)
        # a run starts after a sample with no value or a gap in time longer than max_gap
        start = np.empty(m, dtype=bool)
        i0 = int(f[0])
        start[0] = (i0 == 0 or not np.isfinite(v[i0 - 1])
                    or (t[i0] - origin) - (t[i0 - 1] - origin) > max_gap)
        np.not_equal(f[1:] - f[:-1], 1, out=start[1:])
        start[1:] |= tf[1:] - tf[:-1] > max_gap
        if by_col:  # ... and a group (its min and max) in each column
            group = start.copy()
            cf = col_of(tf)
            group[1:] |= cf[1:] != cf[:-1]
            group[0] = True  # a stretch begins at a new column (or after no value)
        else:  # ... every sample its own point
            group = np.ones(m, dtype=bool)
        gs = np.flatnonzero(group)
        lo_l = _first_at(vf, gs, np.minimum).tolist()
        hi_l = _first_at(vf, gs, np.maximum).tolist()
        for g, new_run in enumerate(start[gs].tolist()):
            if new_run and run:
                out.append(run)
                run = []
            x, y = lo_l[g], hi_l[g]
            for k in ((x,) if x == y else (x, y) if x < y else (y, x)):
                run.append((float(tf[k]), float(vf[k])))
    if run:
        out.append(run)
    return out


#: samples worked on at a time by `value_runs`
_STRETCH = 1 << 18


def _column_end(t: np.ndarray, b: int, col: Callable[[np.ndarray], np.ndarray]) -> int:
    """The first index from b on whose column differs from that of b - 1 (or len(t))."""
    n = len(t)
    if b >= n:
        return n
    c = int(col(t[b - 1:b])[0])
    w = 1024
    while b < n:
        cs = col(t[b:b + w])  # columns rise with time: a search finds the change
        k = int(np.searchsorted(cs, c, side="right"))
        if k < len(cs):
            return b + k
        b += len(cs)
        w *= 2
    return n


def _first_at(v: np.ndarray, starts: np.ndarray, op: np.ufunc) -> np.ndarray:
    """Per group (groups start at `starts`, the last runs to the end): the index of the first
    value equal to the group's op.reduce (np.minimum: its lowest)."""
    best = op.reduceat(v, starts)
    lens = np.diff(np.append(starts, len(v)))
    hit = np.flatnonzero(v == np.repeat(best, lens))
    return hit[np.searchsorted(hit, starts)]


def _path(runs: list[list[tuple[float, float]]], sx: _Scale, sy: _Scale) -> str:
    parts: list[str] = []
    for run in runs:
        if len(run) == 1:  # a lone sample between gaps: a short tick so it is visible
            x, y = sx(run[0][0]), sy(run[0][1])
            parts.append(f"M{x - 1.5:.1f},{y:.1f}H{x + 1.5:.1f}")
            continue
        pts = [f"{sx(a):.1f},{sy(b):.1f}" for a, b in run]
        parts.append("M" + "L".join(pts))
    return " ".join(parts)


def _text(x: float, y: float, s: str, *, size: int = 11, anchor: str = "start",
          fill: str = "#24292f", cls: str = "", weight: str = "normal",
          halo: bool = False) -> str:
    c = f" class={quoteattr(cls)}" if cls else ""
    attrs = (f'x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}" '
             f'font-weight="{weight}"')
    out = f'<text {attrs} fill="{fill}"{c}>{escape(s)}</text>'
    if halo:  # a white outline underneath (two elements: not every renderer has paint-order)
        out = (f'<text {attrs} fill="#ffffff" stroke="#ffffff" stroke-width="3" '
               f'stroke-linejoin="round" aria-hidden="true">{escape(s)}</text>' + out)
    return out


def render_svg(rec: Recording, summary: DebriefSummary | None = None, *,
               width: int = WIDTH, title: str | None = None) -> str:
    s = summary or summarize(rec)
    t, spo2, pulse = rec.arrays()  # times from the session start: t - s.t_start
    step = typical_step(t, rec.interval)
    t_end = max(s.duration, float(t[-1] - s.t_start) + step if len(t) else 0.0, 1.0)
    plot_w = width - LEFT - RIGHT
    sx = _Scale(0.0, t_end, LEFT, LEFT + plot_w)
    lo = 70.0
    if s.lowest_spo2 is not None:
        lo = min(lo, math.floor((s.lowest_spo2 - 5) / 10) * 10)
    lo = max(0.0, lo)
    sy = _Scale(lo, 100.0, SPO2_TOP + SPO2_H, SPO2_TOP)
    p_lo, p_hi = 30.0, 150.0
    if s.pulse_min is not None and s.pulse_max is not None:
        p_lo = min(p_lo, math.floor((s.pulse_min - 10) / 10) * 10)
        p_hi = max(p_hi, math.ceil((s.pulse_max + 10) / 10) * 10)
    sp = _Scale(max(0.0, p_lo), p_hi, PULSE_TOP + PULSE_H, PULSE_TOP)
    bars = [(a.start, t_end if a.end is None else a.end, a.kind) for a in s.alarm_spans]
    kinds = list(dict.fromkeys(k for _, _, k in sorted(bars)))
    alarm_rows = min(max(1, len(kinds)), ALARM_ROWS_MAX)
    alarm_h = alarm_rows * ALARM_ROW_H
    events_top = ALARM_TOP + alarm_h + 24
    height = events_top + EVENT_ROWS * EVENT_ROW_H + 40
    max_gap = 3.0 * step

    el: list[str] = []
    el.append(f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
              f'viewBox="0 0 {width} {height}" font-family="sans-serif">')
    head = title or f"oxi-assist session timeline — {Path(s.path).name}"
    el.append(f"<title>{escape(head)}</title>")
    el.append(f'<rect x="0" y="0" width="{width}" height="{height}" fill="#ffffff"/>')
    el.append(_text(LEFT, 22, head, size=14, weight="bold"))
    sub = (f"duration {fmt_time(s.duration)}; lowest SpO2 "
           + (f"{_pct(s.lowest_spo2)} %" if s.lowest_spo2 is not None else "—")
           + f"; time below 90 % {fmt_time(s.time_below_90)}; naloxone doses {s.doses}; "
           f"alarms {s.alarms_raised}" + ("; INTERRUPTED recording" if s.interrupted else ""))
    el.append(_text(LEFT, 40, sub, size=11, fill="#57606a"))

    # time grid
    tick = _nice_step(t_end)
    el.append('<g class="grid">')
    k = 0.0
    while k <= t_end + 1e-9:
        x = sx(k)
        el.append(f'<line x1="{x:.1f}" y1="{SPO2_TOP}" x2="{x:.1f}" '
                  f'y2="{ALARM_TOP + alarm_h}" stroke="{COL_GRID}" stroke-width="0.5"/>')
        el.append(_text(x, ALARM_TOP + alarm_h + 14, fmt_time(k), size=10, anchor="middle",
                        fill="#57606a"))
        k += tick
    el.append("</g>")

    # panels and axes
    for top, h, label in ((SPO2_TOP, SPO2_H, "SpO2 %"), (PULSE_TOP, PULSE_H, "Pulse bpm")):
        el.append(f'<rect x="{LEFT}" y="{top}" width="{plot_w}" height="{h}" fill="none" '
                  f'stroke="#8c959f" stroke-width="1"/>')
        el.append(_text(LEFT, top - 6, label, size=11, weight="bold"))
    for v in range(int(lo), 101, 5 if 100 - lo <= 40 else 10):
        y = sy(v)
        el.append(f'<line x1="{LEFT - 4}" y1="{y:.1f}" x2="{LEFT}" y2="{y:.1f}" '
                  f'stroke="#57606a"/>')
        el.append(_text(LEFT - 6, y + 4, str(v), size=10, anchor="end", fill="#57606a"))
    pstep = 20 if sp.d1 - sp.d0 <= 160 else 40
    for v in range(int(sp.d0), int(sp.d1) + 1, pstep):
        y = sp(v)
        el.append(_text(LEFT - 6, y + 4, str(v), size=10, anchor="end", fill="#57606a"))

    # threshold lines with their sources (labels drawn over the traces, in `late`)
    late: list[str] = []
    for line, src, cls, col in ((LOW_LINE, LOW_SOURCE, "threshold-90", "#bf8700"),
                                (SEVERE_LINE, SEVERE_SOURCE, "threshold-85", COL_ALARM)):
        if line < lo:
            continue
        y = sy(line)
        el.append(f'<g class={quoteattr(cls)}><line x1="{LEFT}" y1="{y:.1f}" '
                  f'x2="{LEFT + plot_w}" y2="{y:.1f}" stroke="{col}" stroke-width="1" '
                  f'stroke-dasharray="6 4"/>')
        el.append("</g>")
        late.append(f'<g class={quoteattr(cls + "-label")}>'
                    + _text(LEFT + plot_w - 4, y - 3, f"{line:.0f} % — {src}", size=10,
                            anchor="end", fill=col, halo=True) + "</g>")

    # link problems: shaded where the device was lost until it came back
    lost_from: float | None = None
    spans: list[tuple[float, float]] = []
    for it in s.timeline:
        if it.kind != "link":
            continue
        if it.state in ("lost", "stale", "reconnecting") and lost_from is None:
            lost_from = it.t
        elif it.state in ("connected", "closed") and lost_from is not None:
            spans.append((lost_from, it.t))
            lost_from = None
    if lost_from is not None:
        spans.append((lost_from, t_end))
    for a, b in spans:
        x0, x1 = sx(a), sx(b)
        el.append(f'<rect class="link-lost" x="{x0:.1f}" y="{SPO2_TOP}" '
                  f'width="{max(x1 - x0, 1.0):.1f}" height="{PULSE_TOP + PULSE_H - SPO2_TOP}" '
                  f'fill="{COL_LINK}" fill-opacity="0.15"><title>device link lost '
                  f'{fmt_time(a)}–{fmt_time(b)}</title></rect>')

    # the traces (gaps stay gaps)
    runs = value_runs(t, spo2, max_gap, plot_w, 0.0, t_end, s.t_start)
    el.append(f'<path class="spo2" d="{_path(runs, sx, sy)}" fill="none" stroke="{COL_SPO2}" '
              f'stroke-width="1.5" stroke-linejoin="round"/>')
    runs = value_runs(t, pulse, max_gap, plot_w, 0.0, t_end, s.t_start)
    el.append(f'<path class="pulse" d="{_path(runs, sx, sp)}" fill="none" '
              f'stroke="{COL_PULSE}" stroke-width="1.2" stroke-linejoin="round"/>')
    el += late
    if s.lowest_spo2 is not None and s.lowest_at is not None:
        x, y = sx(s.lowest_at), sy(s.lowest_spo2)
        el.append(f'<g class="lowest"><circle cx="{x:.1f}" cy="{y:.1f}" r="3" '
                  f'fill="{COL_SPO2}"/>')
        label = f"lowest {_pct(s.lowest_spo2)} %"
        right = x + 5 + 5.6 * len(label) > width - 4
        el.append(_text(x - 5 if right else x + 5, y + 12, label, size=10, fill=COL_SPO2,
                        halo=True, anchor="end" if right else "start"))
        el.append("</g>")

    # alarms: a lane of raised→cleared bars
    el.append(_text(8, ALARM_TOP + 13, "Alarms", size=11, weight="bold"))
    if not bars:
        el.append(_text(LEFT + 4, ALARM_TOP + 13, "no alarms recorded", size=10,
                        fill="#57606a"))
    for a, b, kind in sorted(bars):
        x0, x1 = sx(a), sx(b)
        ytop = ALARM_TOP + (kinds.index(kind) % alarm_rows) * ALARM_ROW_H
        el.append(f'<g class="alarm" data-kind={quoteattr(kind)}>'
                  f'<rect x="{x0:.1f}" y="{ytop}" width="{max(x1 - x0, 2.0):.1f}" '
                  f'height="{ALARM_ROW_H - 2}" fill="{COL_ALARM}" fill-opacity="0.35" '
                  f'stroke="{COL_ALARM}" stroke-width="0.5"><title>alarm '
                  f'{escape(kind)} {fmt_time(a)}–{fmt_time(b)}</title></rect>')
        el.append(f'<line x1="{x0:.1f}" y1="{SPO2_TOP}" x2="{x0:.1f}" y2="{ytop}" '
                  f'stroke="{COL_ALARM}" stroke-width="0.6" stroke-dasharray="2 3"/>')
        if x1 - x0 > 40:
            el.append(_text(x0 + 3, ytop + 10, kind.replace("_", " "), size=9,
                            fill="#82071e"))
        el.append("</g>")

    # responder actions and trainer cues: a vertical mark and a label in staggered rows
    el.append(_text(8, events_top + 12, "Actions", size=11, weight="bold"))
    row_end = [-1e9] * EVENT_ROWS
    if not any(it.kind in ("action", "trainer") for it in s.timeline):
        el.append(_text(LEFT + 4, events_top + 12, "no responder actions recorded", size=10,
                        fill="#57606a"))
    for it in s.timeline:
        if it.kind not in ("action", "trainer"):
            continue
        x = sx(it.t)
        label = f"{fmt_time(it.t)} {it.text}"
        est = 5.6 * len(label)
        left = x - est - 6 if x + 3 + est > width - 4 else x
        row = next((r for r in range(EVENT_ROWS) if row_end[r] < left), None)
        if row is None:
            row = min(range(EVENT_ROWS), key=lambda r: row_end[r])
        row_end[row] = max(x, left + est) + 6
        y = events_top + row * EVENT_ROW_H + 12
        col = COL_ACTION if it.kind == "action" else COL_TRAINER
        el.append(f'<g class={quoteattr(it.kind)} data-name={quoteattr(it.name)}>'
                  f'<title>{escape(label)}</title>')
        el.append(f'<line x1="{x:.1f}" y1="{SPO2_TOP}" x2="{x:.1f}" y2="{y - 9:.1f}" '
                  f'stroke="{col}" stroke-width="1" stroke-opacity="0.7"/>')
        el.append(f'<path d="M{x:.1f},{y - 9:.1f}l-4,-6h8z" fill="{col}"/>')
        if x + 3 + est > width - 4:  # near the right edge: the label goes to the left
            el.append(_text(x - 3, y, label, size=10, fill=col, anchor="end"))
        else:
            el.append(_text(x + 3, y, label, size=10, fill=col))
        el.append("</g>")

    # legend
    ly = height - 12
    items = ((COL_SPO2, "SpO2"), (COL_PULSE, "pulse"), (COL_ACTION, "responder action"),
             (COL_ALARM, "alarm"), (COL_LINK, "device link lost"))
    x = LEFT
    for col, name in items:
        el.append(f'<rect x="{x}" y="{ly - 9}" width="12" height="10" fill="{col}"/>')
        el.append(_text(x + 16, ly, name, size=10))
        x += 28 + 6 * len(name)
    el.append(_text(width - RIGHT, ly, "gaps = no reading (never drawn as a value)", size=10,
                    anchor="end", fill="#57606a"))
    el.append("</svg>")
    return "\n".join(el) + "\n"


def write_svg(rec: Recording, path: str | os.PathLike[str],
              summary: DebriefSummary | None = None, **kw: Any) -> Path:
    """Writes the chart as a new file (mode 0600; `force`, `inputs` as for `write_output`);
    a bad path is a one-line OxiError."""
    return write_output(path, render_svg(rec, summary), **kw)
