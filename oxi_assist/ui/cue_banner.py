"""The oximeter placement cue, shown while a session with an oximeter (or a simulation) starts:
the first thing a responder needs is the probe on the right finger.

It shows the cue's title and first line, with `i` for the whole handout, for the first
`CUE_SECONDS` of the session [app-defined], or until tapped away (✕). It sits below the keys
(narrow layout) or across the top (wide), so it never hides the 911, breaths or naloxone keys.
"""

from __future__ import annotations

from rich.style import Style
from rich.text import Text

from oxi_assist.ui import theme
from oxi_assist.ui.model import ScreenModel
from oxi_assist.ui.panel import Painted, Panel

#: How long the cue stays up at the start of a session (session seconds) [app-defined]: about
#: the time it takes to get the probe on and a first reading.
CUE_SECONDS = 60.0


def cue_text(model: ScreenModel, width: int = 200) -> Text:
    """The cue's title and first line, then the handout and hide chips; on a line too short
    for the title, "Oximeter:" stands for it."""
    cue = model.guide.cue
    t = Text()
    if cue is None:
        return t
    first = cue.lines[0] if cue.lines else None
    tag = f" ({first.origin})" if first is not None and first.origin not in ("", "BC") else ""
    words = (first.text if first is not None else "") + tag
    chips = "   i  handout   ✕ "
    title = cue.title if len(cue.title) + 2 + len(words) + len(chips) <= width else "Oximeter"
    t.append(f"{title}: ", style=f"bold {theme.BLUE}")
    t.append(words)
    t.append("  ")
    t.append(" i ", style=Style.parse("bold reverse") + Style(meta={"@click": "app.handout()"}))
    t.append(" handout  ", style=Style(meta={"@click": "app.handout()"}))
    t.append(" ✕ ", style=Style.parse("reverse") + Style(meta={"@click": "app.hide_cue()"}))
    return t


class CueBanner(Panel, Painted):
    WRAP = True

    def paint(self, model: ScreenModel) -> None:
        show = model.show_cue and model.guide.cue is not None
        if self.display != show:
            self.display = show
        if show:
            self.set_text(cue_text(model, self.content_size.width or self.app.size.width - 2))
