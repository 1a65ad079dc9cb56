"""Choosing the class's scenario before it opens (`oxi-assist class` without a SCENARIO):
one scenario for every station, or several handed round the stations (a variant each), the
seed, and whether each station's patient gets a seed of its own."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Button, Checkbox, Input, SelectionList, Static


@dataclass(frozen=True)
class SetupChoice:
    scenarios: tuple[str, ...]  # one: for every station; more: handed round
    seed: int = 0
    vary_seed: bool = False


class SetupScreen(Screen[SetupChoice | None]):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, scenarios: Sequence[str], default: str) -> None:
        super().__init__()
        self.scenarios = list(scenarios)
        self.default = default

    def compose(self) -> ComposeResult:
        with Vertical(id="setup"):
            yield Static("[b]Open a class[/b] — training, simulated patients")
            yield Static("Scenario (space ticks; tick several to hand them round the "
                         "stations):")
            yield SelectionList[str](*[(s, s, s == self.default) for s in self.scenarios],
                                     id="setup-list")
            with Horizontal(id="setup-seed-row"):
                yield Static("Seed", id="setup-seed-label")
                yield Input("0", id="setup-seed", type="integer")
            yield Checkbox("A different patient per station (a seed each)", id="setup-vary")
            yield Static("", id="setup-message")
            with Horizontal(id="setup-buttons2"):
                yield Button("Open the class", id="setup-open", variant="primary")
                yield Button("Cancel", id="setup-cancel")

    def on_mount(self) -> None:
        self.query_one("#setup-list").focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "setup-cancel":
            self.dismiss(None)
            return
        picked = tuple(self.query_one("#setup-list", SelectionList).selected)
        seed_text = self.query_one("#setup-seed", Input).value.strip() or "0"
        if not picked:
            self.query_one("#setup-message", Static).update("Tick at least one scenario.")
            return
        if not seed_text.isdigit():
            self.query_one("#setup-message", Static).update("The seed is a whole number ≥ 0.")
            return
        self.dismiss(SetupChoice(picked, int(seed_text),
                                 self.query_one("#setup-vary", Checkbox).value))

    def action_cancel(self) -> None:
        self.dismiss(None)


class SetupApp(App[SetupChoice | None]):
    CSS_PATH = "class_console.tcss"
    TITLE = "oxi-assist class"

    def __init__(self, scenarios: Sequence[str], default: str) -> None:
        super().__init__()
        self._screen = SetupScreen(scenarios, default)

    def on_mount(self) -> None:
        self.push_screen(self._screen, self.exit)
