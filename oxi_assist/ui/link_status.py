"""The top line: mode (TRAINING / SIMULATED, REPLAY, LIVE), session time, link state (loud
when lost), the device (name and short address: which oximeter the numbers come from), the
link's reason, and the recording indicator."""

from __future__ import annotations

from rich.text import Text

from drivers.reading import LinkState
from oxi_assist.ui import theme
from oxi_assist.ui.model import ScreenModel
from oxi_assist.ui.panel import Painted, Panel


def status_text(model: ScreenModel) -> tuple[Text, bool]:
    """The status line and whether the link is lost (the bar turns loud)."""
    t = Text(no_wrap=True, overflow="ellipsis")
    if model.mark:
        t.append(f" {model.mark} ", style=f"bold reverse {theme.ORANGE}")
    elif model.simulated:
        t.append(" TRAINING / SIMULATED ", style=f"bold reverse {theme.ORANGE}")
    elif model.replay:
        t.append(" REPLAY ", style=f"bold reverse {theme.ORANGE}")
    elif model.link is None:
        t.append(" GUIDE ONLY ", style="bold reverse")
    else:
        t.append(" LIVE ", style=f"bold reverse {theme.GREEN}")
    t.append(f" {theme.fmt_clock(model.elapsed)} ", style="bold")
    lost = False
    if model.link is not None:
        words, colour = theme.LINK_WORDS[model.link]
        lost = model.link in (LinkState.LOST, LinkState.RECONNECTING)
        t.append(" ")
        # when lost the whole bar turns vermillion (CSS); the words go black-on-colour inverted
        t.append(f" {words} " if lost else words, style="bold reverse" if lost else colour)
        # the device before the reason: on a narrow screen a long reason is what gets cut,
        # never which oximeter the numbers come from
        dev = model.device or model.source_label
        if dev:
            t.append(f"  {dev}", style="bold")
        if model.link_reason and model.link is not LinkState.CONNECTED:
            t.append(f"  ({model.link_reason})", style="bold" if lost else colour)
    t.append("  ")
    if model.recording_error:
        t.append("✖ RECORDING FAILED", style=f"bold reverse {theme.YELLOW}")
    elif model.recording:
        t.append("● REC", style=f"bold {theme.VERMILLION}")
    else:
        t.append("○ not recording", style="dim")
    return t, lost


class StatusBar(Panel, Painted):
    URGENT = True  # the link lost is news too

    def paint(self, model: ScreenModel) -> None:
        text, lost = status_text(model)
        self.set_text(text)
        self.set_class(lost, "link-lost")
