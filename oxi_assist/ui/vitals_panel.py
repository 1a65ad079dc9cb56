"""The big SpO2 and pulse figures, their band in words, symbol and colour, signal quality and
the breathing rate from the responder's taps.

No trustworthy value is never drawn as a number: finger out, searching, poor signal, stale data
and a lost link all replace the figure with dashes and say which state it is (DOMAIN.md §1.2).
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Digits, Static

from drivers.reading import INVALIDATING, LinkState, Status
from oxi_assist.monitor.vitals import Band, Quality, VitalsState
from oxi_assist.ui import theme
from oxi_assist.ui.model import ScreenModel
from oxi_assist.ui.panel import Painted, Panel

_FLAG_WORDS = (
    (Status.FINGER_OUT, "finger out / probe off"),
    (Status.SEARCHING, "searching for pulse"),
    (Status.SENSOR_FAULT, "sensor fault"),
    (Status.NO_SENSOR, "no oximeter attached"),
    (Status.STARTUP, "starting up"),
    (Status.MISSING, "no value recorded"),
    (Status.LOW_PERFUSION, "weak pulse signal"),
    (Status.MOTION, "motion"),
    (Status.POOR_SIGNAL, "device says signal poor"),
    (Status.LOW_BATTERY, "oximeter battery low"),
)


def no_value_state(model: ScreenModel) -> tuple[str, str] | None:
    """The state word (and why) when the figures must not be shown, else None."""
    v = model.vitals
    if model.link is None:
        return ("NO OXIMETER", "guidance works without one")
    if model.link in (LinkState.LOST, LinkState.CLOSED):
        why = "link lost" if model.link is LinkState.LOST else "source ended"
        return ("NO READING", why)
    if v is None:
        return ("NO READING", "waiting for the oximeter")
    if v.flags & INVALIDATING:
        return ("NO READING", flag_words(v))
    if v.stale or model.link is LinkState.STALE:
        return ("DATA OLD", _ago(model, v))
    if v.quality is Quality.NONE or v.spo2 is None:
        return ("NO READING", flag_words(v) or "no trustworthy value")
    if v.quality is Quality.POOR:
        return ("SIGNAL POOR", flag_words(v) or "value not trustworthy")
    return None


def shown_quality(model: ScreenModel, state: tuple[str, str] | None) -> Quality:
    """The signal quality to show beside `no_value_state`'s answer: none without a link or
    when there is no value at all; a poor signal keeps its own word."""
    v = model.vitals
    if v is None or model.link is None or (state is not None and state[0] != "SIGNAL POOR"):
        return Quality.NONE
    return v.quality


def _ago(model: ScreenModel, v: VitalsState) -> str:
    if v.last_valid_t is None:
        return "no valid value yet"
    return f"last valid value {theme.fmt_clock(v.t - v.last_valid_t)} ago"


def flag_words(v: VitalsState) -> str:
    return ", ".join(w for f, w in _FLAG_WORDS if v.flags & f)


class VitalsPanel(Vertical, Painted):
    URGENT = True  # no reading must replace a number at once

    """SpO2 and pulse side by side; each box keeps its size whatever the state."""

    def compose(self) -> ComposeResult:
        with Horizontal(id="figures"):
            with Vertical(id="spo2-box", classes="figure-box"):
                yield Static("SpO₂ %", classes="figure-title")
                yield Digits("--", id="spo2-digits", classes="state-none")
            with Vertical(id="pulse-box", classes="figure-box"):
                yield Static("Pulse /min", classes="figure-title")
                yield Digits("--", id="pulse-digits", classes="state-none")
        yield Panel("", id="band-line")
        yield Panel("", id="quality-line")

    def paint(self, model: ScreenModel) -> None:
        v = model.vitals
        state = no_value_state(model)
        spo2_d = self.query_one("#spo2-digits", Digits)
        pulse_d = self.query_one("#pulse-digits", Digits)
        band = Text(no_wrap=True, overflow="ellipsis")
        if state is not None:
            word, why = state
            _show_digits(spo2_d, "--")
            _show_digits(pulse_d, "--")
            poor = word == "SIGNAL POOR"
            cls = "state-poor" if poor else "state-none"
            _set_class(spo2_d, cls)
            _set_class(pulse_d, cls)
            colour = theme.YELLOW if poor else theme.GREY
            band.append(f" ? {word} ", style=f"bold reverse {colour}")
            band.append(f" {why}", style=colour)
            band.append("\nnot a reading: check the person, not the screen", style="dim")
        else:
            assert v is not None and v.spo2 is not None
            _show_digits(spo2_d, f"{v.spo2:.0f}")
            _show_digits(pulse_d, f"{v.pulse:.0f}" if v.pulse is not None else "--")
            _set_class(spo2_d, theme.BAND_CLASS[v.band])
            _set_class(pulse_d, "band-pulse" if v.pulse is not None else "state-none")
            band.append(theme.band_words(v.band), style=theme.BAND_STYLE[v.band])
            if v.trend is not None:
                arrow = "↘" if v.trend < -0.5 else "↗" if v.trend > 0.5 else "→"
                band.append(f"  {arrow} {v.trend:+.1f}%/min", style="dim")
            if v.pi is not None:
                band.append(f"  PI {v.pi:.1f}", style="dim")
            band.append(f"\nsource: {theme.band_source(v.band)}", style="dim")
        self.query_one("#band-line", Panel).set_text(band)

        q = Text(no_wrap=True, overflow="ellipsis")
        bars, words, colour = theme.QUALITY_WORDS[shown_quality(model, state)]
        q.append("Signal ", style="bold")
        q.append(f"{bars} {words}", style=colour)
        q.append(" │ Breaths ", style="bold")
        if model.breath_rate is None:
            q.append(_short_count(model.breath_text), style=theme.GREY)
        else:
            slow = model.breath_rate < 10
            q.append(f"{model.breath_rate:.0f}/min",
                     style=f"bold {theme.VERMILLION}" if slow else "bold")
            q.append(" SLOW ▼" if slow else " (taps)", style=theme.VERMILLION if slow else "dim")
        self.query_one("#quality-line", Panel).set_text(q)


def _short_count(text: str) -> str:
    if not text or text == "not counted":
        return "tap ␣ at each breath"
    return text


def _show_digits(widget: Digits, value: str) -> None:
    if widget.value != value:
        widget.update(value)


def _set_class(widget: Digits, cls: str) -> None:
    if widget.has_class(cls) and not any(
            c != cls and c.startswith(("band-", "state-")) for c in widget.classes):
        return
    for c in list(widget.classes):
        if c.startswith(("band-", "state-")) and c != cls:
            widget.remove_class(c)
    widget.add_class(cls)


__all__ = ["Band", "VitalsPanel", "flag_words", "no_value_state"]
