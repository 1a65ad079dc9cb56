"""The whole session as one SVG chart, for a team debrief: SpO2 and pulse over time, the 90 %
and 85 % lines with their sources, responder actions and alarms marked, and gaps left as gaps.

Hand-written SVG keeps the export free of a plotting dependency; long recordings are reduced to
a min/max pair per pixel column so the file stays small and a brief dip is never smoothed away.
Every marker has a text label (and a `<title>`), so colour is never the only cue.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

import numpy as np

from drivers.formats._base import Recording
from oxi_assist.debrief import (
    LOW_LINE,
    LOW_SOURCE,
    SEVERE_LINE,
    SEVERE_SOURCE,
    DebriefSummary,
    TimelineItem,
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


def _segments(t: np.ndarray, v: np.ndarray, max_gap: float, columns: int, t0: float,
              t1: float) -> list[list[tuple[float, float]]]:
    """Runs of finite values, split at NaN and at time gaps; reduced to min/max per column."""
    out: list[list[tuple[float, float]]] = []
    if len(t) == 0:
        return out
    finite = np.isfinite(v)
    brk = np.zeros(len(t), dtype=bool)
    brk[1:] = np.diff(t) > max_gap
    run: list[tuple[float, float]] = []
    span = (t1 - t0) or 1.0
    if len(t) > 2 * columns:
        col = np.clip(((t - t0) / span * columns).astype(int), 0, columns - 1)
    else:
        col = None
    i, n = 0, len(t)
    while i < n:
        if not finite[i]:
            if run:
                out.append(run)
                run = []
            i += 1
            continue
        if brk[i] and run:
            out.append(run)
            run = []
        if col is None:
            run.append((float(t[i]), float(v[i])))
            i += 1
            continue
        # one pixel column of a contiguous finite run: keep its min and max in time order
        j = i
        c = col[i]
        while j + 1 < n and col[j + 1] == c and finite[j + 1] and not brk[j + 1]:
            j += 1
        seg_t, seg_v = t[i:j + 1], v[i:j + 1]
        lo, hi = int(np.argmin(seg_v)), int(np.argmax(seg_v))
        for k in sorted({lo, hi}):
            run.append((float(seg_t[k]), float(seg_v[k])))
        i = j + 1
    if run:
        out.append(run)
    return out


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
    t, spo2, pulse = rec.arrays()
    t = t - s.t_start
    step = typical_step(t, rec.interval)
    t_end = max(s.duration, float(t[-1]) + step if len(t) else 0.0, 1.0)
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
    open_alarms: dict[str, TimelineItem] = {}
    bars: list[tuple[float, float, str]] = []
    for it in s.timeline:
        if it.kind != "alarm":
            continue
        if it.state == "raised" and it.name not in open_alarms:
            open_alarms[it.name] = it
        elif it.state == "cleared" and it.name in open_alarms:
            bars.append((open_alarms.pop(it.name).t, it.t, it.name))
    bars += [(it.t, t_end, k) for k, it in open_alarms.items()]
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
    runs = _segments(t, spo2, max_gap, plot_w, 0.0, t_end)
    el.append(f'<path class="spo2" d="{_path(runs, sx, sy)}" fill="none" stroke="{COL_SPO2}" '
              f'stroke-width="1.5" stroke-linejoin="round"/>')
    runs = _segments(t, pulse, max_gap, plot_w, 0.0, t_end)
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
              summary: DebriefSummary | None = None) -> Path:
    """Writes the chart (file mode 0600); a bad path is a one-line OxiError."""
    return write_output(path, render_svg(rec, summary))
