"""A Static that repaints only when its text really changed.

The redraw loop hands every widget fresh text several times a second; most of it is the same
as last time. Comparing first (Rich `Text` compares text and styles) and asking for a layout
pass only when the number of rows changes keeps an idle screen nearly free to redraw: a layout
pass reflows the whole screen, and at 10 redraws a second that cost more than everything else.

Text that wraps is wrapped here, at the panel's width, into hard lines (`wrap`), so the row
count is known exactly: a timer whose note now needs a second row gets it, and one that
changes only its seconds does not reflow the screen.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual.widgets import Static

if TYPE_CHECKING:
    from oxi_assist.ui.model import ScreenModel


class Panel(Static):
    #: True for panels whose text wraps inside an auto height and is not wrapped here: any
    #: change may change the height
    RELAYOUT_ON_CHANGE = False
    #: True: the text is wrapped at the panel's width before it is shown (words whole)
    WRAP = False

    def __init__(self, *args: object, **kw: object) -> None:
        super().__init__(*args, **kw)  # type: ignore[arg-type]
        self._last: Text | None = None  # as given (before wrapping)
        self._width = -1
        self._lines = -1

    def set_text(self, text: Text) -> bool:
        """Shows `text`; returns False when nothing changed."""
        width = self.content_size.width
        if self._last is not None and text == self._last and width == self._width:
            return False
        self._last, self._width = text, width
        shown = wrap(text, width, self.app.console) if self.WRAP and width > 0 else text
        lines = shown.plain.count("\n")
        self.update(shown, layout=self.RELAYOUT_ON_CHANGE or lines != self._lines)
        self._lines = lines
        return True

    def on_resize(self) -> None:
        if self.WRAP and self._last is not None:
            self.set_text(self._last)


def wrap(text: Text, width: int, console: object) -> Text:
    """`text` wrapped at word boundaries into rows of at most `width` cells, as hard lines."""
    rows = text.wrap(console, width)  # type: ignore[arg-type]
    out = Text("\n").join(rows)
    out.no_wrap = True
    out.overflow = "crop"
    return out


class Painted:
    """A widget drawn from the whole `ScreenModel`: the App paints every one of them on the
    screen at each redraw, whatever layout (wide or narrow) put them there. `URGENT` ones are
    painted at once when an alarm or the guidance changes; the rest wait for the next tick."""

    URGENT = False

    def paint(self, model: ScreenModel) -> None:
        raise NotImplementedError
