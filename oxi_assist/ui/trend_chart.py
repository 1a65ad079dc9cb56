"""SpO2 over the last minutes with the 90 % (BC) and 85 % (other-jurisdiction) lines.

A gap in the data stays a gap: a sample without a trustworthy value draws no dot, so a probe
off never looks like a steady line. The axis runs from 70 % unless a value is lower: then it
extends down to the next ten below it, so a fall to 20 % is drawn as a fall, not as a flat line
on the floor. The lowest point is marked on the chart and written under it (value and time).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from rich.text import Text
from textual.widget import Widget

from oxi_assist.ui import theme
from oxi_assist.ui.braille import Canvas
from oxi_assist.ui.model import ScreenModel
from oxi_assist.ui.panel import Painted

Y_FLOOR, Y_MAX = 70.0, 100.0
AXIS = 4  # columns for the y labels


def axis_floor(low: float | None) -> float:
    """The bottom of the axis: 70 %, or the ten at or below the lowest value under it."""
    if low is None or low >= Y_FLOOR:
        return Y_FLOOR
    return max(0.0, math.floor(low / 10.0) * 10.0)


def lowest(ts: Sequence[float], values: Sequence[float | None], t0: float,
           t1: float) -> tuple[float, float] | None:
    """(time, value) of the lowest valid sample between t0 and t1 (the first, on a tie)."""
    best: tuple[float, float] | None = None
    for t, v in zip(ts, values, strict=False):
        if v is not None and t0 <= t <= t1 and (best is None or v < best[1]):
            best = (t, v)
    return best


def _colour(value: float) -> str:
    if value >= 95:
        return theme.BLUE
    if value >= 90:
        return theme.ORANGE
    return theme.VERMILLION


def render_trend(ts: Sequence[float], values: Sequence[float | None], now: float,
                 window: float, cols: int, rows: int,
                 ends: tuple[str, str] | None = None, join_gap: float = 5.0) -> Text:
    """The chart as rich Text of `rows` lines and `cols` columns (axis and time line included).

    Valid samples less than `join_gap` seconds apart are joined by a line; a longer stretch
    without a trustworthy value is left blank."""
    rows = max(rows, 2)
    plot_rows = rows - 1
    plot_cols = max(cols - AXIS, 4)
    canvas = Canvas(plot_cols, plot_rows)
    h = canvas.height
    t0 = now - window
    low = lowest(ts, values, t0, now)
    y_min = axis_floor(low[1] if low is not None else None)

    def ydot(v: float) -> int:
        v = min(max(v, y_min), Y_MAX)
        return round((Y_MAX - v) / (Y_MAX - y_min) * (h - 1))

    xmax = canvas.width - 1
    col_min: list[float | None] = [None] * canvas.width
    col_max: list[float | None] = [None] * canvas.width
    last: tuple[int, float, float] | None = None  # (x, t, value) of the previous valid sample
    for t, v in zip(ts, values, strict=False):
        if t < t0 or t > now:
            continue
        if v is None:
            last = None  # an invalid sample breaks the line, whatever the time between
            continue
        x = round((t - t0) / window * xmax)
        if last is not None and x - last[0] > 1 and t - last[1] <= join_gap:
            x0, v0 = last[0], last[2]
            for xi in range(x0 + 1, x):  # a short step between sparse samples: a line
                vi = v0 + (v - v0) * (xi - x0) / (x - x0)
                lo, hi = col_min[xi], col_max[xi]
                col_min[xi] = vi if lo is None or vi < lo else lo
                col_max[xi] = vi if hi is None or vi > hi else hi
        lo, hi = col_min[x], col_max[x]
        col_min[x] = v if lo is None or v < lo else lo
        col_max[x] = v if hi is None or v > hi else hi
        last = (x, t, v)
    cell_min: list[float | None] = [None] * plot_cols
    prev: float | None = None
    for x in range(canvas.width):
        lo, hi = col_min[x], col_max[x]
        if lo is None or hi is None:
            prev = None
            continue
        y_lo, y_hi = ydot(hi), ydot(lo)
        if prev is not None:  # join to the previous column so a fall is a line, not dots
            py = ydot(prev)
            y_lo, y_hi = min(y_lo, py), max(y_hi, py)
        canvas.vline(x, y_lo, y_hi)
        c = x // 2
        cm = cell_min[c]
        cell_min[c] = lo if cm is None or lo < cm else cm
        prev = (lo + hi) / 2

    row90 = ydot(90.0) // 4
    row85 = ydot(85.0) // 4
    labels = {plot_rows - 1: f"{y_min:>3.0f}"}
    if y_min < Y_FLOOR:
        labels.setdefault(ydot(Y_FLOOR) // 4, " 70")
    labels.update({row85: " 85", row90: " 90", 0: "100"})  # the BC line wins a shared row
    mark: tuple[int, int] | None = None  # the cell holding the lowest point
    if low is not None:
        mark = (round((low[0] - t0) / window * xmax) // 2, ydot(low[1]) // 4)
    out = Text(no_wrap=True, overflow="crop")
    for r in range(plot_rows):
        out.append(f"{labels.get(r, '   '):>3}", style="dim")
        out.append("┤" if r in labels else "│", style="dim")
        for c in range(plot_cols):
            if canvas.filled(c, r):
                v = cell_min[c]
                style = _colour(v) if v is not None else ""
                if mark == (c, r):
                    style = f"bold reverse {style}"
                out.append(canvas.char(c, r), style=style)
            elif r == row90:
                out.append("╌", style=theme.ORANGE)
            elif r == row85:
                out.append("┈", style=theme.VERMILLION)
            else:
                out.append(" ")
        out.append("\n")
    mins = window / 60
    left = f"-{mins:.0f} min" if mins >= 1 else f"-{window:.0f} s"
    right = "now"
    if ends is not None:
        left, right = ends
    out.append(" " * AXIS + left, style="dim")
    room = plot_cols - len(left) - len(right) - 2  # a space on each side at least
    legend = Text.assemble(("╌90 BC", theme.ORANGE), " ", ("┈85 other", theme.VERMILLION))
    lows: list[Text] = []
    if low is not None:
        colour = f"bold {_colour(low[1])}"
        lows = [Text(f"▼ low {low[1]:.0f}% at {theme.fmt_clock(low[0])}", style=colour),
                Text(f"▼{low[1]:.0f}% {theme.fmt_clock(low[0])}", style=colour),
                Text(f"▼{low[1]:.0f}%", style=colour)]
    # the most that fits: the lowest point and the legend, then the lowest point alone
    choices = [Text("  ").join([lw, legend]) for lw in lows] + lows + [legend, Text()]
    middle = next(c for c in choices if len(c) <= room)
    pad = max(plot_cols - len(left) - len(right) - len(middle), 2)
    out.append(" " * (pad // 2))
    out.append_text(middle)
    out.append(" " * (pad - pad // 2))
    out.append(right, style="dim")
    return out


class TrendChart(Widget, Painted):
    """Redraws only when `show` gets new data or the widget is resized."""

    DEFAULT_CSS = """
    TrendChart { height: 1fr; min-height: 4; }
    """

    def __init__(self, **kw: object) -> None:
        super().__init__(**kw)  # type: ignore[arg-type]
        self._data: tuple[Sequence[float], Sequence[float | None], float, float] = ((), (), 0.0,
                                                                                  300.0)
        self._key: tuple[object, ...] = ()

    def paint(self, model: ScreenModel) -> None:
        self.show(model.trend_t, model.trend_spo2, model.elapsed, model.trend_window)

    def show(self, ts: Sequence[float], values: Sequence[float | None], now: float,
             window: float) -> None:
        # at most once a second (a dot column spans several seconds): a 100 Hz source must
        # not redraw the chart 10 times a second
        key = (bool(len(ts)), int(now), window)
        self._data = (ts, values, now, window)
        if key != self._key:
            self._key = key
            self.refresh()

    def render(self) -> Text:
        ts, vs, now, window = self._data
        return render_trend(ts, vs, now, window, self.content_size.width,
                            self.content_size.height)
