"""A Static that repaints only when its text really changed.

The redraw loop hands every widget fresh text several times a second; most of it is the same
as last time. Comparing first (Rich `Text` compares text and styles) and asking for a layout
pass only when the number of lines changes keeps an idle screen nearly free to redraw.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual.widgets import Static

if TYPE_CHECKING:
    from oxi_assist.ui.model import ScreenModel


class Panel(Static):
    #: True for panels whose text wraps inside an auto height: any change may change the height
    RELAYOUT_ON_CHANGE = False

    def __init__(self, *args: object, **kw: object) -> None:
        super().__init__(*args, **kw)  # type: ignore[arg-type]
        self._last: Text | None = None
        self._lines = -1

    def set_text(self, text: Text) -> bool:
        """Shows `text`; returns False when nothing changed."""
        if self._last is not None and text == self._last:
            return False
        lines = text.plain.count("\n")
        self._last = text
        self.update(text, layout=self.RELAYOUT_ON_CHANGE or lines != self._lines)
        self._lines = lines
        return True


class Painted:
    """A widget drawn from the whole `ScreenModel`: the App paints every one of them on the
    screen at each redraw, whatever layout (wide or narrow) put them there."""

    def paint(self, model: ScreenModel) -> None:
        raise NotImplementedError
