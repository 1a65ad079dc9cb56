"""The current guidance step, its prompts and the next actions with their keys.

The core actions (911, breaths, naloxone) are always listed, whatever the oximeter says
(DOMAIN.md §1.1): a good number never hides them.
"""

from __future__ import annotations

from rich.text import Text

from oxi_assist.ui import theme
from oxi_assist.ui.model import ActionHint, GuideView
from oxi_assist.ui.panel import Panel

#: Always offered, in this order, when the guide does not list them itself.
CORE_ACTIONS: tuple[ActionHint, ...] = (
    ActionHint("9", "911 called"),
    ActionHint("b", "breaths on/off"),
    ActionHint("n", "naloxone given"),
)


def guidance_text(g: GuideView) -> Text:
    """Step title, its lines, then the live prompts (warnings first)."""
    t = Text()
    t.append((g.title or "Guidance") + "\n", style="bold")
    for p in g.prompts:
        t.append("▸ ", style=f"bold {theme.ORANGE}")
        t.append(p + "\n", style="bold")
    if g.text:
        t.append(g.text)
    if g.source:
        t.append(f"\n[{g.source}]", style="dim")
    return t


#: Short labels for narrow screens (keys → words), so every action fits in a few lines at 80×24.
SHORT_LABELS: dict[str, str] = {
    "9": "911 called", "b": "breaths", "n": "naloxone", "␣": "breath tap",
    "y": "breathing OK", "u": "NOT breathing OK", "a": "awake", "r": "recovery pos.",
    "e": "EMS here", "o": "oxygen", "w": "responds", "x": "no response",
}


def actions_text(g: GuideView, width: int = 40) -> Text:
    """The offered actions with their keys, the core three always among them, packed into
    lines of `width` cells."""
    keys = {a.key for a in g.actions}
    actions = list(g.actions) + [a for a in CORE_ACTIONS if a.key not in keys]
    t = Text()
    col = 0
    for a in actions:
        label = a.label if width >= 60 else SHORT_LABELS.get(a.key, a.label)
        label = label if len(label) <= 24 else label[:23] + "…"
        cell = len(a.key) + 3 + len(label) + 2
        if col and col + cell > width:
            t.append("\n")
            col = 0
        t.append(f" {a.key} ", style=f"bold reverse {theme.VERMILLION}" if a.urgent
                 else "bold reverse")
        t.append(f" {label}  ")
        col += cell
    return t


class GuidancePanel(Panel):
    RELAYOUT_ON_CHANGE = True

    def show(self, g: GuideView) -> None:
        self.set_text(guidance_text(g))


class ActionKeys(Panel):
    """The next actions and their keys: always on screen, whatever the guidance text's length."""

    RELAYOUT_ON_CHANGE = True

    def __init__(self, **kw: object) -> None:
        super().__init__(**kw)  # type: ignore[arg-type]
        self._g: GuideView | None = None

    def show(self, g: GuideView) -> None:
        self._g = g
        self.set_text(actions_text(g, self.content_size.width or 40))

    def on_resize(self) -> None:
        if self._g is not None:
            self.set_text(actions_text(self._g, self.content_size.width or 40))
