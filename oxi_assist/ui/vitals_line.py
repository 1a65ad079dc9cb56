"""The vitals in a few wrapped lines, for the narrow layout (a phone): the SpO2 figure with its
band in words, pulse, signal and the counted breathing rate. No trustworthy value is never a
number here either: the same states as the big figures (`vitals_panel.no_value_state`)."""

from __future__ import annotations

from rich.text import Text

from oxi_assist.ui import theme
from oxi_assist.ui.model import ScreenModel
from oxi_assist.ui.panel import Painted, Panel
from oxi_assist.ui.vitals_panel import no_value_state, shown_quality


def vitals_line(model: ScreenModel) -> Text:
    v = model.vitals
    t = Text()
    state = no_value_state(model)
    t.append("SpO₂ ", style="bold")
    if state is not None:
        word, why = state
        colour = theme.YELLOW if word == "SIGNAL POOR" else theme.GREY
        t.append("--", style=f"bold {colour}")
        t.append(f"  ? {word} ", style=f"bold reverse {colour}")
        t.append(f" {why}", style=colour)
        t.append("\nnot a reading: check the person, not the screen", style="dim")
    else:
        assert v is not None and v.spo2 is not None
        t.append(f"{v.spo2:.0f}%", style=theme.BAND_STYLE[v.band])
        t.append(f"  {theme.band_words(v.band)}", style=theme.BAND_STYLE[v.band])
        t.append(f"\nsource: {theme.band_source(v.band)}", style="dim")
        t.append("\nPulse ", style="bold")
        t.append(f"{v.pulse:.0f}/min" if v.pulse is not None else "--")
        if v.trend is not None:
            t.append(f"  SpO₂ {v.trend:+.1f}%/min", style="dim")
    bars, words, colour = theme.QUALITY_WORDS[shown_quality(model, state)]
    t.append("\nSignal ", style="bold")
    t.append(f"{bars} {words}", style=colour)
    t.append("  Breaths ", style="bold")
    if model.breath_rate is None:
        t.append(model.breath_text if model.breath_text not in ("", "not counted")
                 else "tap ␣ at each breath", style=theme.GREY)
    else:
        slow = model.breath_rate < 10
        t.append(f"{model.breath_rate:.0f}/min" + (" SLOW ▼" if slow else ""),
                 style=f"bold {theme.VERMILLION}" if slow else "bold")
    return t


class VitalsLine(Panel, Painted):
    URGENT = True  # no reading must replace a number at once
    WRAP = True

    def paint(self, model: ScreenModel) -> None:
        self.set_text(vitals_line(model))
