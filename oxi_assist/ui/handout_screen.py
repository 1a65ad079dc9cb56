"""The oximeter handout, one key away (`i`): where the probe goes, what the numbers mean, what
the oximeter cannot tell (lag, cold hands, darker skin, carbon monoxide), and to check the
person, not the screen. Each line says where it comes from."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from oxi_assist.ui.model import NoteView


def handout_text(notes: tuple[NoteView, ...]) -> Text:
    t = Text()
    if not notes:
        t.append("This guidance has no oximeter notes for this step.", style="dim")
    for i, note in enumerate(notes):
        if i:
            t.append("\n\n")
        t.append(note.title, style="bold underline")
        for ln in note.lines:
            t.append("\n• ")
            t.append(ln.text)
            if ln.origin:
                t.append(f" ({ln.origin})", style="dim")
    t.append("\n\nThe oximeter never replaces calling 911, breaths or naloxone.", style="bold")
    return t


class HandoutScreen(ModalScreen[None]):
    """Closed with Esc or `i` (not `q`, so a second press of the end key cannot fall through)."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,i", "close", "Close")]

    def __init__(self, notes: tuple[NoteView, ...]) -> None:
        super().__init__()
        self.notes = notes

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="handout"):
            yield Static("Oximeter handout — Esc or i to close", id="handout-title")
            yield Static(handout_text(self.notes), id="handout-text")

    def action_close(self) -> None:
        self.dismiss(None)
