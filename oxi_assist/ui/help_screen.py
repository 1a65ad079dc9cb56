"""The help screen: every key, grouped, in words."""

from __future__ import annotations

from typing import ClassVar

from rich.table import Table
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

RESPONDER_KEYS: tuple[tuple[str, str], ...] = (
    ("9", "911 called"),
    ("b", "rescue breaths on / off (metronome: 1 breath every 5 s)"),
    ("n", "naloxone given (starts the dose timer)"),
    ("space / t", "tap at each breath the person takes (breathing-rate counter)"),
    ("y", "breathing normal"),
    ("u", "breathing NOT normal"),
    ("x / w", "no response / responds to voice or touch"),
    ("a", "awake"),
    ("r", "recovery position"),
    ("o", "oxygen given"),
    ("e", "EMS arrived"),
)
ALARM_KEYS: tuple[tuple[str, str], ...] = (
    ("k", "acknowledge the alarm"),
    ("p", "pause alarm signals for 2 min (counted down on screen)"),
)
APP_KEYS: tuple[tuple[str, str], ...] = (
    ("?", "this help"),
    ("ctrl+p", "command palette (every action by name)"),
    ("q", "end the session → debrief"),
)
PICKER_KEYS: tuple[tuple[str, str], ...] = (
    ("1 … 9", "connect to that oximeter (remembered on this machine for next time)"),
    ("Esc", "no oximeter now; the guidance goes on"),
)
TRAINER_KEYS: tuple[tuple[str, str], ...] = (
    ("P", "pause / resume the simulation"),
    ("+ / -", "simulation speed 1× … 20×"),
    ("S", "choose a scenario (restarts)"),
    ("F", "finger out of the probe / back in"),
    ("M", "motion artefact on / off"),
    ("n / b / o", "the responder's naloxone, breaths and oxygen also reach the simulated patient"),
)


def help_table(trainer: bool) -> Table:
    table = Table(show_header=False, box=None, padding=(0, 2, 0, 0), expand=False)
    table.add_column(style="bold", no_wrap=True, max_width=10)
    table.add_column()
    groups = [("Responder", RESPONDER_KEYS), ("Alarms", ALARM_KEYS), ("App", APP_KEYS),
              ("Oximeter list (several Bluetooth oximeters in range)", PICKER_KEYS)]
    if trainer:
        groups.append(("Trainer (simulated sessions only)", TRAINER_KEYS))
    for title, keys in groups:
        table.add_row("", f"[b u]{title}[/b u]")
        for k, words in keys:
            table.add_row(k, words)
    table.add_row("", "")
    table.add_row("", "The oximeter never replaces calling 911, breaths or naloxone.")
    return table


class HelpScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,question_mark,q", "close", "Close")]

    def __init__(self, trainer: bool = False) -> None:
        super().__init__()
        self._trainer = trainer

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help"):
            yield Static("Keys — Esc or ? to close", id="help-title")
            yield Static(help_table(self._trainer))

    def action_close(self) -> None:
        self.dismiss(None)
