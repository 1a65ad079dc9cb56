"""A question with two explicit answers, for keys that end or discard something.

Ending a response, or leaving the debrief of one that was not recorded, is never one key
press: the first press asks here, the answer that ends is a different key (a capital letter, so
a slip of the same key twice cannot do it) or a click, and Esc, `q` or Enter on the focused
"keep" button leave everything as it was.
"""

from __future__ import annotations

from typing import ClassVar

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static


class ConfirmScreen(ModalScreen[bool]):
    """Dismissed with True only by `yes_key` or the "yes" button."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,n", "answer(False)", "Keep going", show=False),
    ]

    def __init__(self, question: str, detail: str, *, yes: str, yes_key: str,
                 no: str = "Keep going") -> None:
        super().__init__()
        self.question, self.detail = question, detail
        self.yes, self.yes_key, self.no = yes, yes_key, no

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm"):
            yield Static(self.question, id="confirm-question")
            if self.detail:
                yield Static(self.detail, id="confirm-detail")
            with Horizontal(id="confirm-buttons"):
                yield Button(f"{self.no} (Esc)", id="confirm-no", variant="primary")
                yield Button(f"{self.yes} ({self.yes_key})", id="confirm-yes", variant="error")

    def on_mount(self) -> None:
        self.query_one("#confirm-no", Button).focus()

    def on_key(self, event: events.Key) -> None:
        if event.key == self.yes_key:
            event.stop()
            self.dismiss(True)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(event.button.id == "confirm-yes")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)
