"""The current guidance step, its prompts and the next actions with their keys.

The core actions (911, breaths, naloxone) are always listed, whatever the oximeter says
(DOMAIN.md §1.1): a good number never hides them.
"""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from oxi_assist.ui import theme
from oxi_assist.ui.model import ActionHint, GuideView

#: Always offered, in this order, when the guide does not list them itself.
CORE_ACTIONS: tuple[ActionHint, ...] = (
    ActionHint("9", "911 called"),
    ActionHint("b", "breaths on/off"),
    ActionHint("n", "naloxone given"),
)


def guidance_text(g: GuideView) -> Text:
    t = Text()
    head = f"{g.step} · {g.title}" if g.step else g.title or "Guidance"
    t.append(head + "\n", style="bold")
    if g.text:
        t.append(g.text + "\n")
    for p in g.prompts:
        t.append("▸ ", style=theme.ORANGE)
        t.append(p + "\n")
    keys = {a.key for a in g.actions}
    actions = list(g.actions) + [a for a in CORE_ACTIONS if a.key not in keys]
    t.append("\n")
    for i, a in enumerate(actions):
        t.append(f"[{a.key}]", style=f"bold reverse {theme.VERMILLION}" if a.urgent
                 else "bold reverse")
        t.append(f" {a.label}")
        t.append("\n" if i % 2 else "   ")
    if g.source:
        t.append(f"\nsource: {g.source}", style="dim")
    return t


class GuidancePanel(Static):
    def show(self, g: GuideView) -> None:
        self.update(guidance_text(g))
