"""The current guidance step, its lines and the live prompts, each with where it comes from.

Every line wraps at word boundaries and is never cut: a sentence such as "Can't wake them, or
not sure? Call 911." is read whole or not at all. Each prompt carries its origin ("BC",
"ours", …), so a rule of the program's own is never taken for BC guidance (DOMAIN.md §1 rule
4). Warnings and instructions come before reassurance, which is drawn calmly and last: "Oxygen
95–100% is the normal range" is never styled like a warning nor put above "Call 911 now".
"""

from __future__ import annotations

from rich.text import Text

from oxi_assist.ui import theme
from oxi_assist.ui.model import GuideView, PromptView, ScreenModel, Tone
from oxi_assist.ui.panel import Painted, Panel

#: (mark, text style) per tone; the origin tag is always dim
TONE_STYLE: dict[Tone, tuple[str, str]] = {
    Tone.WARNING: ("⚠ ", f"bold {theme.YELLOW}"),
    Tone.INSTRUCTION: ("▸ ", "bold"),
    Tone.REASSURANCE: ("· ", theme.GREEN),
}

#: The origin most lines have: only other origins are tagged line by line.
USUAL_ORIGIN = "BC"


def _tag(t: Text, origin: str) -> None:
    if origin:
        t.append(f" ({origin})", style="dim")


def step_text(g: GuideView) -> Text:
    """Step title (with the step's origin), then its lines, one bullet each."""
    t = Text()
    t.append(g.title or "Guidance", style="bold")
    if g.origin:
        t.append(f"  · {g.origin}", style="dim")
    for ln in g.lines:
        t.append("\n• ")
        t.append(ln.text)
        if ln.origin and ln.origin != USUAL_ORIGIN:
            _tag(t, ln.origin)
    return t


def prompt_line(p: PromptView) -> Text:
    mark, style = TONE_STYLE[p.tone]
    t = Text()
    t.append(mark, style=style)
    t.append(p.text, style=style)
    _tag(t, p.origin)
    return t


def prompts_text(prompts: tuple[PromptView, ...]) -> Text:
    return Text("\n").join(prompt_line(p) for p in prompts)


def guidance_text(g: GuideView, with_prompts: bool = True) -> Text:
    """The step, then (on the wide layout) its prompts under it."""
    t = step_text(g)
    if with_prompts and g.prompts:
        t.append("\n")
        t.append_text(prompts_text(g.prompts))
    return t


class GuidancePanel(Panel, Painted):
    URGENT = True
    WRAP = True

    def __init__(self, *, with_prompts: bool = True, **kw: object) -> None:
        super().__init__(**kw)  # type: ignore[arg-type]
        self.with_prompts = with_prompts

    def paint(self, model: ScreenModel) -> None:
        self.set_text(guidance_text(model.guide, self.with_prompts))


class PromptPanel(Panel, Painted):
    """The prompts on their own (the narrow layout puts them under the keys)."""

    URGENT = True
    WRAP = True

    def paint(self, model: ScreenModel) -> None:
        prompts = model.guide.prompts
        self.display = bool(prompts)
        self.set_text(prompts_text(prompts))
