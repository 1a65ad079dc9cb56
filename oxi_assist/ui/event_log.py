"""The event log: what happened and when, in session time (m:ss since the start), newest last."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text

from oxi_assist.ui import theme
from oxi_assist.ui.model import LogLine
from oxi_assist.ui.panel import Panel

KIND_STYLE = {
    "alarm": theme.VERMILLION,
    "link": theme.YELLOW,
    "action": "bold",
    "guide": theme.BLUE,
    "trainer": "italic " + theme.GREY,
}


def log_text(lines: Sequence[LogLine], rows: int) -> Text:
    t = Text(no_wrap=True, overflow="ellipsis")
    shown = list(lines)[-max(rows, 1):]
    if not shown:
        t.append("(nothing yet)", style="dim")
    for i, ln in enumerate(shown):
        t.append(f"{theme.fmt_clock(ln.t):>6} ", style="dim")
        t.append(ln.text, style=KIND_STYLE.get(ln.kind, ""))
        if i < len(shown) - 1:
            t.append("\n")
    return t


class EventLog(Panel):
    DEFAULT_CSS = """
    EventLog { height: 1fr; }
    """

    def __init__(self, **kw: object) -> None:
        super().__init__(**kw)  # type: ignore[arg-type]
        self._log: Sequence[LogLine] = ()

    def show(self, lines: Sequence[LogLine]) -> None:
        self._log = lines
        self.set_text(log_text(lines, self.content_size.height or 5))

    def on_resize(self) -> None:
        self.set_text(log_text(self._log, self.content_size.height or 5))
