"""The class debrief on screen: the stations side by side (one column each: times to each
action, doses, deviations from the guidance with their sources, the SAVE ME timeline), then the
ROSE debrief prompt. Exports: s SVG, t text, c CSV (written 0600, never over a file that is
there unless the console was started with --force). q leaves.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import HorizontalScroll, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Static

from drivers.errors import OxiError
from oxi_assist.actions import Action
from oxi_assist.classroom.debrief import ACTION_COLUMNS, ClassDebrief, StationDebrief
from oxi_assist.debrief import fmt_time, rose_text
from oxi_assist.ui import theme

#: The column's words for the times to an action (others are named by their action's value).
LABELS: dict[Action, str] = {
    Action.UNRESPONSIVE: "no response", Action.CALLED_911: "911 called",
    Action.BREATHS_START: "first breaths", Action.NALOXONE: "first naloxone",
    Action.BREATHING_NORMAL: "breathing normally", Action.AWAKE: "awake"}


def station_text(s: StationDebrief) -> Text:
    """One station's column."""
    t = Text()
    t.append(f"{s.name}\n", style="bold reverse")
    t.append("Times from its start\n", style="bold")
    for a in ACTION_COLUMNS:
        when = s.time_to(a)
        t.append(f"  {LABELS.get(a, a.value):<19}{fmt_time(when):>7}\n",
                 style="" if when is not None else theme.GREY)
    t.append(f"  naloxone doses {s.doses}", style="bold")
    if s.naloxone_times:
        t.append(f" at {', '.join(fmt_time(x) for x in s.naloxone_times)}")
    t.append("\n\nDeviations from the guidance\n", style="bold")
    if not s.deviations:
        t.append("  none found\n", style=theme.GREEN)
    for d in s.deviations:
        t.append(f"  ▲ {fmt_time(d.t)} {d.text}\n", style=f"bold {theme.VERMILLION}")
        t.append(f"    [{d.source}]\n", style="dim")
    t.append("\nTimeline (SAVE ME)\n", style="bold")
    for e in s.timeline:
        if e.kind in ("command", "alarm"):
            continue
        style = {"step": f"bold {theme.BLUE}", "action": ""}.get(e.kind, "dim")
        t.append(f"  {fmt_time(e.t):>6} {e.text}\n", style=style)
    return t


class ClassDebriefScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("s", "export('svg')", "Export SVG"),
        Binding("t", "export('text')", "Export text"),
        Binding("c", "export('csv')", "Export CSV"),
        Binding("q", "leave", "Leave"),
    ]

    def __init__(self, debrief: ClassDebrief, *,
                 exports: Callable[[ClassDebrief, str], Any] | None = None) -> None:
        super().__init__()
        self.debrief = debrief
        self.exports = exports
        self.written: list[Any] = []

    def compose(self) -> ComposeResult:
        n = len(self.debrief.stations)
        with VerticalScroll(id="class-debrief"):
            yield Static(f"Class debrief{': ' + self.debrief.title if self.debrief.title else ''}"
                         f" — {n} station{'s' if n != 1 else ''} (← → to scroll the stations)",
                         id="class-debrief-title")
            with HorizontalScroll(id="class-debrief-columns"):
                for s in self.debrief.stations:
                    yield Static(station_text(s), classes="station-col")
                if not n:
                    yield Static("No station sent anything in this class.")
            yield Static("", id="class-debrief-status")
            yield Static(rose_text(), id="class-debrief-rose")
        yield Footer()

    def _say(self, text: str, error: bool = False) -> None:
        self.query_one("#class-debrief-status", Static).update(Text(text, style="bold"))
        self.notify(text, severity="error" if error else "information", timeout=6)

    def action_export(self, kind: str) -> None:
        if self.exports is None:
            self._say("exports are not available here", error=True)
            return
        try:
            p = self.exports(self.debrief, kind)
        except OxiError as e:
            self._say(f"not written: {e}", error=True)
            return
        self.written.append(p)
        self._say(f"{kind} written: {p}")

    def action_leave(self) -> None:
        self.dismiss(None)
