"""The pleth waveform, when the source sends one: the clearest sign the probe sees a pulse."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.widget import Widget

from drivers.reading import Status
from oxi_assist.ui import theme
from oxi_assist.ui.braille import Canvas
from oxi_assist.ui.model import ScreenModel
from oxi_assist.ui.panel import Painted


def render_pleth(samples: Sequence[float], cols: int, rows: int, doubtful: bool = False) -> Text:
    """Autoscaled braille trace of the last samples (about 2 per dot column)."""
    cols, rows = max(cols, 4), max(rows, 1)
    if not samples:
        return Text("no waveform now", style=f"dim {theme.GREY}")
    canvas = Canvas(cols, rows)
    n = canvas.width
    per = max(1, len(samples) // n)
    tail = list(samples[-per * n:])
    lo, hi = min(tail), max(tail)
    span = (hi - lo) or 1.0
    h = canvas.height - 1
    prev: int | None = None
    for x in range(min(n, len(tail) // per or 1)):
        chunk = tail[x * per:(x + 1) * per] or tail[-1:]
        ys = [round((hi - s) / span * h) for s in chunk]
        y_lo, y_hi = min(ys), max(ys)
        if prev is not None:
            y_lo, y_hi = min(y_lo, prev), max(y_hi, prev)
        canvas.vline(x, y_lo, y_hi)
        prev = ys[-1]
    style = theme.YELLOW if doubtful else theme.GREEN
    out = Text(no_wrap=True, overflow="crop")
    for r in range(rows):
        out.append("".join(canvas.char(c, r) for c in range(cols)), style=style)
        if r < rows - 1:
            out.append("\n")
    return out


def doubtful(model: ScreenModel) -> bool:
    """The waveform is drawn faint when the value it belongs to is not trustworthy."""
    v = model.vitals
    return v is None or bool(v.flags & (Status.LOW_PERFUSION | Status.MOTION
                                        | Status.POOR_SIGNAL | Status.FINGER_OUT))


class PlethView(Widget, Painted):
    DEFAULT_CSS = """
    PlethView { height: 3; }
    """

    def __init__(self, **kw: object) -> None:
        super().__init__(**kw)  # type: ignore[arg-type]
        self._samples: Sequence[float] = ()
        self._doubtful = False

    def paint(self, model: ScreenModel) -> None:
        if model.pleth == self._samples and doubtful(model) == self._doubtful:
            return
        self._samples = model.pleth
        self._doubtful = doubtful(model)
        self.refresh()

    def render(self) -> Text:
        return render_pleth(self._samples, self.content_size.width, self.content_size.height,
                            self._doubtful)
