"""Trainer controls for simulated sessions: pause/resume, speed 1×–20×, scenario choice and
device artefacts (finger out, motion) played into the patient model.

Always drawn with TRAINING / SIMULATED so a simulated screen is never mistaken for a person.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from rich.style import Style
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from oxi_assist.ui import theme
from oxi_assist.ui.model import ScreenModel, TrainerView
from oxi_assist.ui.panel import Painted, Panel
from oxi_assist.ui.screen_keys import KeyGroup, app_action, in_group

SPEEDS: tuple[float, ...] = (1.0, 2.0, 5.0, 10.0, 20.0)


def next_speed(current: float, step: int) -> float:
    """The next speed up (step=+1) or down (-1) in SPEEDS, clamped to 1×–20×."""
    idx = min(range(len(SPEEDS)), key=lambda i: abs(SPEEDS[i] - current))
    return SPEEDS[max(0, min(len(SPEEDS) - 1, idx + step))]


#: (key, words, the App's action): the trainer's controls, also clickable on the bar.
CONTROLS: tuple[tuple[str, str, str], ...] = tuple(
    (k.shown, k.chip, app_action(k)) for k in in_group(KeyGroup.TRAINER))


def trainer_text(tv: TrainerView) -> Text:
    """TRAINER, running or paused and the speed, what the simulated patient is doing (when
    the simulation says), the scenario, then the controls."""
    t = Text(no_wrap=True, overflow="ellipsis")
    t.append(" TRAINER ", style=f"bold reverse {theme.ORANGE}")
    t.append(" ‖ PAUSED " if tv.paused else " ▶ running ", style="bold")
    t.append(f"{tv.speed:g}×", style="bold")
    if tv.status:
        t.append("  ")
        t.append(f" {tv.status} ", style=f"bold reverse {theme.YELLOW}")
    t.append(f"  {tv.scenario}  ", style="dim")
    for i, (key, words, action) in enumerate(CONTROLS):
        if i:
            t.append(" · ")
        t.append(f"{key} {words}", style=Style(meta={"@click": action}))
    return t


class TrainerBar(Panel, Painted):
    def paint(self, model: ScreenModel) -> None:
        tv = model.trainer
        if self.display != (tv is not None):
            self.display = tv is not None
        if tv is not None:
            self.set_text(trainer_text(tv))


class ScenarioPicker(ModalScreen[str | None]):
    """Pick a scenario to restart the simulation with."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "dismiss_none", "Cancel")]

    def __init__(self, scenarios: Sequence[str], current: str = "") -> None:
        super().__init__()
        self._scenarios = list(scenarios)
        self._current = current

    def compose(self) -> ComposeResult:
        with Vertical(id="picker"):
            yield Static("Choose a scenario (Enter), Esc to cancel", id="picker-title")
            yield OptionList(*[Option(("▶ " if s == self._current else "  ") + s, id=s)
                               for s in self._scenarios], id="picker-list")

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_dismiss_none(self) -> None:
        self.dismiss(None)
