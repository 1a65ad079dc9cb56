"""The live screen: its two layouts (wide and narrow) and the keys it sends to the app.

The screen only lays its panels out; the app draws them from the session (`DrawsLive.redraw`).
Its responder keys come from the action table (oxi_assist.actions), its other keys from the
screen's key table (oxi_assist.ui.screen_keys).
"""

from __future__ import annotations

from typing import Any, ClassVar, Protocol, runtime_checkable

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Footer

from oxi_assist.actions import KEYS
from oxi_assist.ui.action_keys import ActionKeys
from oxi_assist.ui.alarm_banner import AlarmBanner
from oxi_assist.ui.cue_banner import CueBanner
from oxi_assist.ui.event_log import EventLog
from oxi_assist.ui.guidance_panel import GuidancePanel, PromptPanel
from oxi_assist.ui.link_status import StatusBar
from oxi_assist.ui.panel import Painted
from oxi_assist.ui.pleth import PlethView
from oxi_assist.ui.screen_keys import bound
from oxi_assist.ui.timers import TimersPanel
from oxi_assist.ui.trainer import TrainerBar
from oxi_assist.ui.trend_chart import TrendChart
from oxi_assist.ui.vitals_line import VitalsLine
from oxi_assist.ui.vitals_panel import VitalsPanel

#: Below this many columns the screen is one column, guidance first (a phone in a browser
#: through textual-serve is about 40–48 columns wide).
NARROW_BELOW = 74


@runtime_checkable
class DrawsLive(Protocol):
    """An app that draws the live screen from its session (`OxiApp`)."""

    def redraw(self, urgent_only: bool = False) -> None: ...


class MainScreen(Screen[None]):
    """The live screen. Its keys send responder actions to the app (and so to the session).

    Two layouts: wide (two columns — vitals, timers, trend and pleth on the left; guidance
    with its prompts, the keys and the event log on the right) and, below `NARROW_BELOW`
    columns, one scrolling column with the guidance first, then the keys as tall chips, the
    prompts, the vitals in words, timers, the log, a short trend and the pleth. No panel is
    left out of either; crossing the width rebuilds the screen in the other layout."""

    BINDINGS: ClassVar[list[BindingType]] = [
        *(Binding(kb.keys, f"app.press('{kb.id}')", kb.label, show=False) for kb in KEYS),
        *(Binding(k.keys, f"app.{k.action}", k.footer, show=k.in_footer) for k in bound()),
    ]

    #: A short terminal (24 rows) gives the trend and the pleth their least room.
    VERTICAL_BREAKPOINTS: ClassVar[list[tuple[int, str]] | None] = [(0, "-short"),
                                                                      (30, "-tall")]

    def __init__(self) -> None:
        super().__init__()
        self.narrow = False
        self.ready = False
        self.painted: list[Painted] = []

    def compose(self) -> ComposeResult:
        self.narrow = self.app.size.width < NARROW_BELOW
        yield StatusBar(id="status")
        yield AlarmBanner(id="alarm")
        if self.narrow:
            with VerticalScroll(id="column"):
                yield GuidancePanel(id="guidance", with_prompts=False)
                yield ActionKeys(id="keys", tall=True)
                yield PromptPanel(id="prompts")
                yield CueBanner(id="cue")
                yield VitalsLine(id="vitals-line")
                yield TimersPanel(id="timers")
                yield EventLog(id="log", events=8)
                yield TrendChart(id="trend")
                yield PlethView(id="pleth")
        else:
            yield CueBanner(id="cue")
            with Horizontal(id="main"):
                with Vertical(id="left"):
                    yield VitalsPanel(id="vitals")
                    yield TimersPanel(id="timers")
                    yield TrendChart(id="trend")
                    yield PlethView(id="pleth")
                with VerticalScroll(id="right"):
                    yield GuidancePanel(id="guidance")
                    yield ActionKeys(id="keys")
                    yield EventLog(id="log")
        yield TrainerBar(id="trainer")
        yield Footer()

    def on_mount(self) -> None:
        self._composed()

    def _composed(self) -> None:
        self.set_class(self.narrow, "-narrow")
        titles = {"#trend": "SpO₂ trend", "#pleth": "Pleth", "#guidance": "Guidance",
                  "#timers": "Timers", "#log": "Event log"}
        for sel, title in titles.items():
            self.query_one(sel).border_title = title
        self.query_one("#trainer").display = False
        self.query_one("#cue").display = False
        self.painted = [w for w in self.query("*") if isinstance(w, Painted)]
        self.call_after_refresh(self._ready)

    def _ready(self) -> None:
        if (self.size.width < NARROW_BELOW) != self.narrow:
            self._start_relayout()  # the width crossed back while this layout was built
            return
        self.ready = True
        app = self.app
        if isinstance(app, DrawsLive):
            app.redraw()

    def on_resize(self, event: events.Resize) -> None:
        if (event.size.width < NARROW_BELOW) != self.narrow and self.ready:
            self._start_relayout()

    def _start_relayout(self) -> None:
        self.ready = False
        self.run_worker(self._relayout(), exclusive=True, group="layout")

    async def _relayout(self) -> None:
        await self.recompose()
        self._composed()
        self.refresh_bindings()  # the new footer lists the keys again


def is_live(screen: Screen[Any]) -> bool:
    """Screens under or over which the live screen keeps being drawn: the main screen itself
    and anything shown over it (the device picker, the end question, help, the handout)."""
    return isinstance(screen, MainScreen | ModalScreen)
