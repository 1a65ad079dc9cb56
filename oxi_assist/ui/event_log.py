"""The event log: what happened and when, in session time (m:ss since the start), newest last.

Each line is wrapped under its time, never cut: "Alarm (high): Finger out / probe off" is read
whole. The panel shows the newest lines that fit its height (the wide layout) or the last few
events (the narrow one, where the page scrolls).
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence

from rich.text import Text

from oxi_assist.ui import theme
from oxi_assist.ui.model import LogLineView, ScreenModel
from oxi_assist.ui.panel import Painted, Panel

KIND_STYLE = {
    "alarm": theme.VERMILLION,
    "link": theme.YELLOW,
    "action": "bold",
    "guide": theme.BLUE,
    "trainer": "italic " + theme.GREY,
}
TIME_COLS = 7  # "12:34 " right-aligned in 6, then a space


def wrap_line(ln: LogLineView, width: int) -> list[Text]:
    """One event as rows of `width` cells: the time, then the words wrapped under it."""
    body = max(8, width - TIME_COLS)
    parts = textwrap.wrap(ln.text, body, break_long_words=True, break_on_hyphens=False) or [""]
    style = KIND_STYLE.get(ln.kind, "")
    rows = []
    for i, part in enumerate(parts):
        row = Text(no_wrap=True, overflow="crop")
        row.append(f"{theme.fmt_clock(ln.t):>6} " if i == 0 else " " * TIME_COLS, style="dim")
        row.append(part, style=style)
        rows.append(row)
    return rows


def log_text(lines: Sequence[LogLineView], rows: int, width: int) -> Text:
    """The newest events whose wrapped rows fit in `rows` (at least the newest one)."""
    if not lines:
        return Text("(nothing yet)", style="dim")
    picked: list[list[Text]] = []
    used = 0
    for ln in reversed(lines):
        wrapped = wrap_line(ln, width)
        if picked and used + len(wrapped) > rows:
            break
        picked.append(wrapped)
        used += len(wrapped)
    out = [row for wrapped in reversed(picked) for row in wrapped]
    return Text("\n").join(out)


class EventLog(Panel, Painted):  # its rows are wrapped by wrap_line
    """`rows` None: as many rows as the panel has (it takes the room left); else the last
    `events` events, whatever their wrapped height."""

    URGENT = False  # the log follows at the next tick: the banner and figures go first

    def __init__(self, *, events: int | None = None, **kw: object) -> None:
        super().__init__(**kw)  # type: ignore[arg-type]
        self.events = events
        self._log: Sequence[LogLineView] = ()

    def _draw(self) -> None:
        width = self.content_size.width or 40
        if self.events is not None:
            lines = list(self._log)[-self.events:]
            self.set_text(log_text(lines, 10_000, width))
        else:
            self.set_text(log_text(self._log, max(self.content_size.height, 1), width))

    def paint(self, model: ScreenModel) -> None:
        self._log = model.log
        self._draw()

    def on_resize(self) -> None:
        self._draw()
