"""The debrief screen: the whole session's SpO2 chart with events marked, the summary, the
timeline, the ROSE support prompt and export keys (SVG chart, text).

Shown when a live session ends and for any recorded file (`oxi-assist debrief FILE` on a
terminal). The numbers come from `oxi_assist.debrief` and the SVG from `oxi_assist.timeline_svg`,
so the screen and the exports always agree.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Footer, Static

from drivers.errors import OxiError
from drivers.formats._base import Recording
from drivers.safe_files import free_name
from oxi_assist import debrief
from oxi_assist.actions import Action
from oxi_assist.timeline_svg import value_runs
from oxi_assist.ui import theme
from oxi_assist.ui.trend_chart import AXIS, render_trend

#: Samples closer than this are joined by a line; a longer gap stays a gap (no reading).
JOIN_GAP = 5.0

#: Marker letters for the chart's event row, and their words in the legend under the chart.
MARKS: dict[Action, tuple[str, str]] = {
    Action.CALLED_911: ("9", "911"), Action.BREATHS_START: ("B", "breaths"),
    Action.COMPRESSIONS_START: ("C", "CPR"), Action.NALOXONE: ("N", "naloxone"),
    Action.EMS_ARRIVED: ("E", "EMS"), Action.AWAKE: ("A", "awake"),
    Action.RECOVERY_POSITION: ("R", "recovery"), Action.OXYGEN: ("O", "oxygen"),
}
_MARK_BY_NAME: dict[str, str] = {a.value: mark for a, (mark, _) in MARKS.items()}
LEGEND = " · ".join([*(f"{mark} {words}" for mark, words in MARKS.values()), "! alarm"])


def _marks_row(items: list[debrief.TimelineItem], duration: float, cols: int) -> Text:
    plot_cols = max(cols - AXIS, 4)
    row = [" "] * plot_cols
    for it in items:
        mark = _MARK_BY_NAME.get(it.name) if it.kind == "action" else (
            "!" if it.kind == "alarm" and it.state == "raised" else None)
        if mark is None or duration <= 0:
            continue
        c = min(plot_cols - 1, max(0, round(it.t / duration * (plot_cols - 1))))
        if row[c] == " " or mark != "!":
            row[c] = mark
    t = Text(" " * (AXIS - 1) + "▲", style="dim", no_wrap=True, overflow="crop")
    for ch in row:
        style = f"bold {theme.VERMILLION}" if ch == "!" else "bold"
        t.append(ch, style=style)
    return t


#: Up to this many samples the chart is drawn from every one; a longer recording from the
#: lowest and highest of each of CHART_BUCKETS stretches of time (more than any terminal has
#: dots across), so a long file makes no list of Python numbers as long as itself.
CHART_SAMPLES = 20_000
CHART_BUCKETS = 4096


def chart_points(t: np.ndarray, spo2: np.ndarray, duration: float, origin: float = 0.0
                 ) -> tuple[list[float], list[float | None]]:
    """The chart's (time from `origin`, value or None) points: every sample of a short
    recording; of a long one the lowest and highest value of each stretch of time, in time
    order, with a None wherever a run of values breaks (no value, or more than JOIN_GAP
    without one)."""
    if len(t) <= CHART_SAMPLES:
        return ((t - origin).tolist(),
                [None if math.isnan(x) else float(x) for x in spo2.tolist()])
    ts: list[float] = []
    vs: list[float | None] = []
    for run in value_runs(t, spo2, JOIN_GAP, CHART_BUCKETS, 0.0, duration, origin):
        if ts:
            ts.append(run[0][0])
            vs.append(None)
        for a, b in run:
            ts.append(a)
            vs.append(b)
    return ts, vs


class DebriefChart(Widget):
    DEFAULT_CSS = """
    DebriefChart { height: 11; }
    """

    def __init__(self, rec: Recording, summary: debrief.DebriefSummary, **kw: Any) -> None:
        super().__init__(**kw)
        t, spo2, _pulse = rec.arrays()
        self._summary = summary
        dur = max(summary.duration, 1.0)
        self._t, self._v = chart_points(t, np.asarray(spo2), dur, summary.t_start)

    def render(self) -> Text:
        w, h = self.content_size.width, self.content_size.height
        dur = max(self._summary.duration, 1.0)
        chart = render_trend(self._t, self._v, dur, dur, w, max(h - 2, 3),
                             ends=("0:00", debrief.fmt_time(dur)), join_gap=JOIN_GAP)
        chart.append("\n")
        chart.append_text(_marks_row(self._summary.timeline, dur, w))
        chart.append("\n")
        chart.append(" " * AXIS + LEGEND, style="dim")
        return chart


#: The key that leaves the debrief of a live session once asked (a capital: never `q` twice).
LEAVE_KEY = "Q"


class DebriefScreen(Screen[None]):
    """`q` leaves; Esc does not (a reflex Esc must not close the program). After a live
    session leaving asks first, and says so when the session was not recorded (export it with
    s or t, or it is gone)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("s", "export_svg", "Export SVG"),
        Binding("t", "export_text", "Export text"),
        Binding("q", "leave", "Leave"),
    ]

    def __init__(self, rec: Recording, out_dir: Path | None = None, *,
                 ask_to_leave: bool = False, recorded: bool = True) -> None:
        super().__init__()
        self.rec = rec
        self.summary = debrief.summarize(rec)
        self.out_dir = out_dir
        self.exported: list[Path] = []
        self.ask_to_leave = ask_to_leave
        self.recorded = recorded

    @classmethod
    def for_session(cls, session: Any, *, ask_to_leave: bool = False) -> DebriefScreen:
        path = getattr(session, "recording_path", None)
        # a recording cut by a write failure is incomplete; the session still holds it all
        if path is not None and Path(path).exists() and not getattr(session, "record_error", ""):
            try:
                return cls(_load(path), ask_to_leave=ask_to_leave)
            except OxiError:
                pass  # fall back to what the session still holds in memory
        return cls(session.recording(), out_dir=Path.cwd(), ask_to_leave=ask_to_leave,
                   recorded=False)

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="debrief"):
            yield Static(Text(f"Debrief — {Path(self.rec.path).name}", style="bold"),
                         id="debrief-title")
            yield DebriefChart(self.rec, self.summary, id="debrief-chart")
            yield Static(debrief.summary_text(self.summary), id="debrief-summary")
            yield Static(debrief.rose_text(), id="debrief-rose")
            yield Static(debrief.timeline_text(self.summary, include_guide=False),
                         id="debrief-timeline")
            yield Static("", id="debrief-status")
        yield Footer()

    def _target(self, suffix: str) -> Path:
        """A new file beside the recording (`-2`, `-3`, … if taken): an export from the screen
        never replaces a file."""
        base = Path(self.rec.path)
        if self.out_dir is not None or not base.parent.is_dir():
            return free_name((self.out_dir or Path.cwd()) / f"oxi-assist-debrief{suffix}")
        return free_name(base.with_name(base.stem + ".debrief" + suffix))

    def _say(self, text: str, error: bool = False) -> None:
        self.query_one("#debrief-status", Static).update(Text(text, style="bold"))
        self.notify(text, severity="error" if error else "information", timeout=6)

    def action_export_svg(self) -> None:
        from oxi_assist.timeline_svg import write_svg

        try:
            p = write_svg(self.rec, self._target(".svg"), self.summary)
        except OxiError as e:
            self._say(f"export failed: {e}", error=True)
            return
        self.exported.append(p)
        self._say(f"SVG chart written: {p}")

    def action_export_text(self) -> None:
        try:
            p = debrief.write_output(self._target(".txt"),
                                     debrief.debrief_text(self.rec, self.summary))
        except OxiError as e:
            self._say(f"export failed: {e}", error=True)
            return
        self.exported.append(p)
        self._say(f"Text written: {p}")

    def action_leave(self) -> None:
        if not self.ask_to_leave:
            self.dismiss(None)
            return
        from oxi_assist.ui.confirm import ConfirmScreen

        if isinstance(self.app.screen, ConfirmScreen):
            return
        detail = "" if self.recorded or self.exported else (
            "This session was not recorded: export it first (s for the chart, t for the "
            "text) if you want to keep it.")
        self.app.push_screen(ConfirmScreen("Leave oxi-assist?", detail, yes="Leave",
                                           yes_key=LEAVE_KEY, no="Stay on the debrief"),
                             lambda yes: self.dismiss(None) if yes else None)


def _load(path: str | Path) -> Recording:
    from drivers.formats import load

    return load(path)


class DebriefApp(App[int]):
    """The debrief screen on its own, for a recorded file."""

    CSS_PATH = "oxi.tcss"
    TITLE = "oxi-assist debrief"

    def __init__(self, rec: Recording) -> None:
        super().__init__()
        self.rec = rec

    @classmethod
    def for_path(cls, path: str | Path) -> DebriefApp:
        return cls(_load(path))  # a bad file raises OxiError here, before the UI starts

    def on_mount(self) -> None:
        self.push_screen(DebriefScreen(self.rec), lambda _: self.exit(0))
