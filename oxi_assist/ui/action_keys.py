"""The responder's keys as chips to tap or click: a phone has no keyboard.

A chip sends exactly what its key sends (`app.press(KEY)`, the same action the key binding
runs). The core keys — 911, breaths, naloxone (injection and nasal), CPR — come first on every
screen, whatever the guidance or the oximeter says (DOMAIN.md §1 rule 1); then the keys of what
the step offers, its recommended move highlighted; then "more", which opens every action.

Two sizes: compact chips, one row high, packed along the line (the wide layout, where the
terminal has a mouse and room is short), and tall chips three rows high in even columns (the
narrow layout, where a finger taps them: a phone in a browser through textual-serve). A chip is
never split across lines; a label too long for a tall chip loses its end, never its key.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from rich.style import Style
from rich.text import Text

from oxi_assist.ui import theme
from oxi_assist.ui.model import KeyView, ScreenModel
from oxi_assist.ui.panel import Painted, Panel

#: The chip that opens every action (tap targets for what the step does not offer).
MORE = KeyView("more", "…", "more actions", "more")
#: The narrowest a tall chip gets: the key and a short label ("u NOT breathing OK").
TALL_MIN = 19
GAP = 1


#: What a click on a chip runs (a Textual action string).
Send = Callable[[KeyView], str]


def app_press(k: KeyView) -> str:
    """A chip on the live screen runs what its key runs."""
    return "app.more_actions()" if k.key_id == MORE.key_id else f"app.press('{k.key_id}')"


def click_style(k: KeyView, base: str, send: Send = app_press) -> Style:
    return Style.parse(base) + Style(meta={"@click": send(k)})


def _chip_style(k: KeyView) -> str:
    if k.urgent:
        return f"bold reverse {theme.VERMILLION}"
    if k.core:
        return "bold reverse"
    return "reverse"


def chip_label(k: KeyView, short: bool) -> str:
    label = k.short if short else k.label
    return label + (f" ({k.hint})" if k.hint and not short else "")


def compact_text(keys: Sequence[KeyView], width: int, short: bool = False,
                 send: Send = app_press, more: bool = True) -> Text:
    """Chips one row high, packed greedily; each keeps its key and whole label."""
    t = Text(no_wrap=True, overflow="crop")
    col = 0
    for k in (*keys, MORE) if more else keys:
        body = f" {k.shown} {chip_label(k, short)} "
        if len(body) > width:
            body = body[: max(width - 1, len(k.shown) + 2)] + "…"
        if col and col + GAP + len(body) > width:
            t.append("\n")
            col = 0
        elif col:
            t.append(" " * GAP)
            col += GAP
        t.append(body, style=click_style(k, _chip_style(k), send))
        col += len(body)
    return t


def tall_text(keys: Sequence[KeyView], width: int, send: Send = app_press,
              more: bool = True) -> Text:
    """Chips three rows high in even columns, a blank row between rows of chips."""
    chips = [*keys, MORE] if more else list(keys)
    cols = max(1, min(3, (width + GAP) // (TALL_MIN + GAP)))
    w = max(4, (width - GAP * (cols - 1)) // cols)
    t = Text(no_wrap=True, overflow="crop")
    rows = [chips[i:i + cols] for i in range(0, len(chips), cols)]
    for r, row in enumerate(rows):
        if r:
            t.append("\n\n")
        for line in range(3):
            if line:
                t.append("\n")
            for c, k in enumerate(row):
                if c:
                    t.append(" " * GAP)
                if line == 1:
                    body = f" {k.shown}  {k.short}"
                    if len(body) > w:
                        body = f" {k.shown} {k.short}"
                    body = body[:w - 1] + "…" if len(body) > w else body.ljust(w)
                else:
                    body = " " * w
                t.append(body, style=click_style(k, _chip_style(k), send))
    return t


class ActionKeys(Panel, Painted):
    """The chips; redrawn when the offered keys or the width change."""

    URGENT = True

    def __init__(self, *, tall: bool = False, **kw: object) -> None:
        super().__init__(**kw)  # type: ignore[arg-type]
        self.tall = tall
        self._keys: tuple[KeyView, ...] = ()

    def _draw(self) -> None:
        width = self.content_size.width or 40
        if self.tall:
            self.set_text(tall_text(self._keys, width))
        else:
            self.set_text(compact_text(self._keys, width, short=width < 60))

    def paint(self, model: ScreenModel) -> None:
        keys = model.guide.keys
        if self.tall:  # a phone: the core keys, the step's next move, a counted hint
            keys = tuple(k for k in keys if k.core or k.urgent or k.hint)
        self._keys = keys
        self._draw()

    def on_resize(self) -> None:
        self._draw()
