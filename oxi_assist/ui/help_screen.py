"""The help screen: every key, grouped, in words. The responder keys and their words come from
the action table (oxi_assist.actions), the screen's other keys from its key table
(oxi_assist.ui.screen_keys), like the keys themselves, the chips and the palette."""

from __future__ import annotations

from typing import ClassVar

from rich.table import Table
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from oxi_assist.actions import ACTIONS, KEYS, ROUTE_WORDS, KeyBinding
from oxi_assist.ui.device_picker import MAX_SHOWN
from oxi_assist.ui.screen_keys import KeyGroup, help_rows


def key_names(kb: KeyBinding) -> str:
    """How the keys of a binding are written for a person: "space / t"."""
    return " / ".join(k for k in kb.keys.split(","))


def key_words(kb: KeyBinding) -> str:
    """The help words of a key: its action's, or for a toggle both halves ("… on / … off");
    a naloxone key says its route."""
    if kb.toggle:
        return " / ".join(ACTIONS[a].help for a in kb.actions)
    words = ACTIONS[kb.actions[0]].help
    route = dict(kb.params).get("route")
    return f"{words} — {ROUTE_WORDS.get(route, route)}" if route else words


def responder_keys() -> tuple[tuple[str, str], ...]:
    return tuple((key_names(kb), key_words(kb)) for kb in KEYS)


ALARM_KEYS: tuple[tuple[str, str], ...] = help_rows(KeyGroup.ALARM)
APP_KEYS: tuple[tuple[str, str], ...] = help_rows(KeyGroup.SCREEN)
PICKER_KEYS: tuple[tuple[str, str], ...] = (
    (f"1 … {MAX_SHOWN}", "connect to that oximeter (remembered on this machine for next time)"),
    ("Esc", "no oximeter now; the guidance goes on"),
)
TRAINER_KEYS: tuple[tuple[str, str], ...] = (
    *help_rows(KeyGroup.TRAINER),
    ("", "the responder's naloxone, breaths, CPR, recovery position and oxygen also reach "
         "the simulated patient"),
)


def help_table(trainer: bool) -> Table:
    table = Table(show_header=False, box=None, padding=(0, 2, 0, 0), expand=False)
    table.add_column(style="bold", no_wrap=True, max_width=10)
    table.add_column()
    groups = [("Responder (type the key, or tap or click its button)", responder_keys()),
              ("Alarms", ALARM_KEYS), ("Screen", APP_KEYS),
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
    """Closed with Esc or ? only: `q` here does nothing, so two presses of `q` cannot end a
    response through the help screen."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,question_mark", "close", "Close")]

    def __init__(self, trainer: bool = False) -> None:
        super().__init__()
        self._trainer = trainer

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help"):
            yield Static("Keys — Esc or ? to close", id="help-title")
            yield Static(help_table(self._trainer))

    def action_close(self) -> None:
        self.dismiss(None)
