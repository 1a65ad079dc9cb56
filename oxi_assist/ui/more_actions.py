"""Every responder action as a button to tap: what the step does not offer is still one tap
away on a phone (the "more" chip), as every key is one press away on a keyboard. Picking one
sends exactly what its key sends and closes the sheet."""

from __future__ import annotations

from typing import ClassVar

from rich.style import Style
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from oxi_assist.actions import KEYS
from oxi_assist.ui.action_keys import tall_text
from oxi_assist.ui.model import KeyView
from oxi_assist.ui.screen_keys import SCREEN_KEYS, KeyGroup

#: Screen keys offered beside the actions: (shown, words, the App's action).
SCREEN_CHIPS: tuple[tuple[str, str, str], ...] = tuple(
    (k.shown, k.chip, k.action) for k in SCREEN_KEYS if k.chip and k.group is not KeyGroup.TRAINER)


def _screen_chips(width: int) -> Text:
    t = Text(no_wrap=True, overflow="crop")
    col = 0
    for shown, words, action in SCREEN_CHIPS:
        body = f" {shown} {words} "
        if col and col + 1 + len(body) > width:
            t.append("\n")
            col = 0
        elif col:
            t.append(" ")
            col += 1
        t.append(body, style=Style.parse("reverse")
                 + Style(meta={"@click": f"screen.then('{action}')"}))
        col += len(body)
    return t


class MoreActions(ModalScreen[str | None]):
    """Dismissed with the picked key's id (None: closed)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "pick('')", "Close"),
        *(Binding(kb.keys, f"pick('{kb.id}')", show=False) for kb in KEYS),
    ]

    def __init__(self, keys: tuple[KeyView, ...]) -> None:
        super().__init__()
        self.keys = keys

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="more"):
            yield Static("Every action — tap one, or press its key (Esc closes)",
                         id="more-title")
            yield Static(id="more-keys")
            yield Static(id="more-screen")

    def on_resize(self) -> None:
        width = max(self.query_one("#more-keys").content_size.width, 20)
        self.query_one("#more-keys", Static).update(
            tall_text(self.keys, width, send=lambda k: f"screen.pick('{k.key_id}')",
                      more=False))
        self.query_one("#more-screen", Static).update(_screen_chips(width))

    def action_pick(self, key_id: str) -> None:
        self.dismiss(key_id or None)

    def action_then(self, app_action: str) -> None:
        """Closes the sheet, then runs one of the App's screen actions (acknowledge, …)."""
        self.dismiss(None)
        self.app.call_later(self.app.run_action, f"app.{app_action}")
