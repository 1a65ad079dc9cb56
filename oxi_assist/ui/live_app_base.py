"""What the parts of the live app share: the typed attributes and calls each part relies on.

`OxiApp` is built from parts, one job each: key handling (`key_actions`), ending and its
confirmation (`ending`), the trainer's controls (`trainer_controls`) and the source's lifecycle
(`source_lifecycle`); drawing stays in `app`. Each part is a subclass of `LiveAppBase`, so it
reads the app's state through the names declared here, with their types, and nothing else.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from textual.app import App

from drivers.clock import Clock
from oxi_assist.ui.model import NoteView, ScreenModel

#: (Session-making function) clock, source URI ("" for none), opened source or None → Session
SessionMaker = Callable[[Clock, str, Any], Any]
#: (source-opening function) URI, clock → Source
SourceOpener = Callable[[str, Clock], Any]


class LiveAppBase(App[int]):
    """The live app's shared state (set in `OxiApp.__init__`) and the calls between its
    parts."""

    clock: Clock
    uri: str  # the source's URI ("" for guidance only)
    source: Any  # the opened source (a device, a file replay, the simulator) or None
    session: Any  # the running Session, None before it starts
    model: ScreenModel | None  # what was drawn last
    simulated: bool
    scenarios: list[str]
    debrief_on_end: bool
    end_reason: str
    tick_every: float
    _make_session: SessionMaker
    _open_source: SourceOpener | None
    _scenario_uri: Callable[[str], str]
    _device_choice: Any
    _drawn_version: int
    _cue: NoteView | None
    _cue_taken: bool
    _cue_hidden: bool

    if TYPE_CHECKING:
        def redraw(self, urgent_only: bool = False) -> None: ...

        def build_model(self) -> ScreenModel: ...

        def _on_change(self) -> None: ...

        def _on_alert(self) -> None: ...

        def _start(self, source: Any) -> None: ...
