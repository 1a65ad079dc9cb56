"""Timers: the breath metronome (one breath every 5 s while breaths are on, BC SAVE ME), naloxone
dose timers and time since 911. Counted on the session clock, so they run on with no oximeter."""

from __future__ import annotations

from rich.text import Text

from oxi_assist.ui import theme
from oxi_assist.ui.model import GuideView, ScreenModel, TimerView
from oxi_assist.ui.panel import Painted, Panel

BREATH_INTERVAL = 5.0


def metronome_text(g: GuideView) -> Text:
    t = Text()
    if not g.breaths_on:
        t.append("Breaths off · b starts the 5 s metronome", style="dim")
        return t
    due = g.breath_due_in if g.breath_due_in is not None else BREATH_INTERVAL
    beat = due <= 1.0 or due >= BREATH_INTERVAL - 0.25
    if beat:
        t.append(" ● BREATHE NOW ", style=f"bold reverse {theme.BLUE}")
    else:
        t.append(" ○ next breath ", style=f"bold {theme.BLUE}")
        t.append(f"in {max(due, 0):.0f} s")
    dots = 5 - min(int(due), 4) if not beat else 5
    t.append("  " + "●" * dots + "○" * (5 - dots), style=theme.BLUE)
    return t


def timer_line(tv: TimerView) -> Text:
    """`value label — note` on one line: the number first so it survives a narrow screen."""
    t = Text()
    val = theme.fmt_clock(tv.seconds) + (" left" if tv.countdown else "")
    t.append(f"{val:>9} ", style=f"bold reverse {theme.ORANGE}" if tv.urgent else "bold")
    t.append(tv.label, style="bold" if tv.urgent else "")
    if tv.note:
        t.append(f" — {tv.note}", style=f"bold {theme.ORANGE}" if tv.urgent else "dim")
    return t


def timers_text(g: GuideView) -> Text:
    """The metronome, the naloxone doses given so far, then each timer on its own line."""
    t = metronome_text(g)
    if g.doses:
        t.append(f"\nNaloxone doses given: {g.doses}", style="bold")
    for tv in g.timers:
        t.append("\n")
        t.append_text(timer_line(tv))
    return t


class TimersPanel(Panel, Painted):
    WRAP = True

    def paint(self, model: ScreenModel) -> None:
        self.set_text(timers_text(model.guide))
