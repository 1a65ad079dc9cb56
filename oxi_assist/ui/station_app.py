"""The full-screen class station: the same live screen as `oxi-assist demo`, on the station's
own simulated patient, marked TRAINING / CLASS.

What differs from `OxiApp`:
- The session is the station's (`StationCore.patient.session`): the patient runs in the
  station, driven by the trainer's commands; this screen only draws it. When the station
  rebuilds its patient after a drop, the screen follows the new session.
- Every key and tap goes through `StationCore.act`, so the trainer's class board sees it.
- Before the class starts: a first screen that asks for the name and the join code when they
  were not given (a browser launch through textual-serve), then a waiting screen. A wrong code
  is said in one line and asked again.
- q asks to leave the class (the patient is the trainer's to end); when the trainer ends the
  class, the debrief of this station's session opens.
"""

from __future__ import annotations

import contextlib
from typing import Any, ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Button, Footer, Input, Static

from drivers.clock import Clock, RealClock
from oxi_assist.actions import key_by_id
from oxi_assist.ui import theme
from oxi_assist.ui.adapter import key_action
from oxi_assist.ui.app import OxiApp
from oxi_assist.ui.confirm import ConfirmScreen
from oxi_assist.ui.live_screen import MainScreen

MARK = "TRAINING / CLASS"
LEAVE_KEY = "L"


class JoinScreen(Screen[tuple[str, str]]):
    """Asks the station's name and the join code; checks both before connecting."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("ctrl+q", "app.quit", "Quit")]

    def __init__(self, *, name: str = "", code: str = "", message: str = "",
                 where: str = "") -> None:
        super().__init__()
        self._name, self._code, self._message, self._where = name, code, message, where

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="join"):
            yield Static(Text(f" {MARK} ", style=f"bold reverse {theme.ORANGE}"),
                         id="join-mark")
            yield Static(Text("Join the class", style="bold"), id="join-title")
            if self._where:
                yield Static(f"Class at {self._where}", id="join-where")
            yield Static("Your name (as the trainer will see it)")
            yield Input(self._name, placeholder="e.g. Ann", id="join-name", max_length=40)
            yield Static("Join code (6 characters, from the trainer)")
            yield Input(self._code, placeholder="e.g. K7QX4M", id="join-code", max_length=12)
            yield Button("Join", id="join-go", variant="primary")
            yield Static(Text(self._message, style=f"bold {theme.VERMILLION}"),
                         id="join-message")
        yield Footer()

    def on_mount(self) -> None:
        target = "#join-code" if self._name else "#join-name"
        self.query_one(target, Input).focus()

    def say(self, message: str) -> None:
        self.query_one("#join-message", Static).update(
            Text(message, style=f"bold {theme.VERMILLION}"))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "join-name":
            self.query_one("#join-code", Input).focus()
        else:
            self._try()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self._try()

    def _try(self) -> None:
        from oxi_assist.classroom.codes import CodeError, normalize_code, station_id

        name = self.query_one("#join-name", Input).value.strip()
        code = self.query_one("#join-code", Input).value
        try:
            if not name:
                raise CodeError("type your name first")
            station_id(name)
            code = normalize_code(code)
        except CodeError as e:
            self.say(str(e))
            return
        self.dismiss((name[:40], code))


class WaitScreen(Screen[None]):
    """Connected (or connecting), waiting for the trainer to start the class."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("q", "app.end", "Leave")]

    def compose(self) -> ComposeResult:
        with Vertical(id="wait"):
            yield Static(Text(f" {MARK} ", style=f"bold reverse {theme.ORANGE}"))
            yield Static("", id="wait-text")
        yield Footer()

    def show(self, text: str) -> None:
        self.query_one("#wait-text", Static).update(text)


class StationApp(OxiApp):
    """See the module docstring. `client_factory(name, code)` makes the `StationClient` (tests
    give one on their broker; the command gives the real one)."""

    def __init__(self, *, address: str, code: str = "", name: str = "", client_factory: Any,
                 clock: Clock | None = None, **kw: Any) -> None:
        super().__init__(make_session=_no_session, clock=clock or RealClock(), mark=MARK,
                         debrief_on_end=True, **kw)
        self.address = address
        self.code = code
        self.name_given = name
        self._client_factory = client_factory
        self.client: Any = None
        self.core: Any = None
        self._patient: Any = None
        self._debrief_shown = False
        self._leaving = False
        self.refused = 0  # wrong codes tried (the join screen says so)

    # -- start ---------------------------------------------------------------------------

    def begin(self) -> None:
        self.set_interval(0.25, self.watch_station)
        if self.code and self.name_given:
            self._connect(self.name_given, self.code)
        else:
            self._ask()

    def _ask(self, message: str = "") -> None:
        self.push_screen(JoinScreen(name=self.name_given, code="", message=message,
                                    where=self.address), self._joined)

    def _joined(self, got: tuple[str, str] | None) -> None:
        if got:
            self._connect(*got)

    def _connect(self, name: str, code: str) -> None:
        self.name_given, self.code = name, code
        self.client = self._client_factory(name, code)
        self.core = self.client.core
        self.mark = f"{MARK} · {name}"
        self.push_screen(WaitScreen())
        self._wait_text(f"Connecting to the class at {self.address} …")
        self._run_client(self.client)

    @work(exclusive=True, group="station", exit_on_error=False)
    async def _run_client(self, client: Any) -> None:
        from oxi_assist.classroom.link import LinkRefused

        try:
            await client.run()
        except LinkRefused:
            if client is self.client:
                self.refused += 1
                self._back_to_join("The class refused this join code: check it with the "
                                   "trainer and type it again.")

    def _back_to_join(self, message: str) -> None:
        self.client = self.core = None
        self.code = ""
        while len(self.screen_stack) > 1:
            self.pop_screen()
        self._ask(message)

    def _wait_text(self, text: str) -> None:
        if isinstance(self.screen, WaitScreen):
            with contextlib.suppress(Exception):
                self.screen.show(text)

    # -- following the station ------------------------------------------------------------

    def watch_station(self) -> None:
        """Attaches the screen to the station's patient when it starts or is rebuilt, and opens
        the debrief when the class ends."""
        core = self.core
        if core is None:
            return
        from oxi_assist.classroom.messages import Phase

        p = core.patient
        if p is not None and p is not self._patient:
            self._attach(p)
        if p is None:
            if core.phase is Phase.ENDED:
                self._wait_text("The class has ended.")
            elif self.client is not None and self.client.link.connected:
                self._wait_text(f"Connected to the class at {self.address} as "
                                f"{core.opts.name}.\n\nWaiting for the trainer to start …")
            elif self.client is not None and self.client.link.last_error:
                self._wait_text(f"Trying to reach the class at {self.address} …\n"
                                f"({self.client.link.last_error})")
        if core.phase is Phase.ENDED and p is not None and not self._debrief_shown:
            self._debrief_shown = True
            self.redraw()
            self._after_end()

    def _attach(self, patient: Any) -> None:
        self._patient = patient
        self.source = patient.source
        self._follow(patient.session)
        if not any(isinstance(s, MainScreen) for s in self.screen_stack):
            self.switch_screen(MainScreen())
        else:
            self.redraw()

    # -- the trainee's keys go through the station ---------------------------------------

    def action_press(self, key_id: str) -> None:
        kb = key_by_id(key_id)
        s = self.session
        if kb is None or s is None or s.closed or self.core is None:
            return
        why = self.core.act(key_action(kb, s), **dict(kb.params))
        if why:
            self.notify(why, severity="warning")
        self.redraw()

    def action_end(self) -> None:
        """q: asks to leave the class (the trainer ends the patient, not the trainee)."""
        if isinstance(self.screen, ConfirmScreen):
            return
        self.push_screen(ConfirmScreen(
            "Leave the class?", "Your station leaves the class; the trainer's board shows it "
            "left. Joining again with the same name brings your patient back.",
            yes="Leave", yes_key=LEAVE_KEY, no="Stay"), self._leave_answer)

    async def action_quit(self) -> None:
        if self.client is None:
            self.exit(0)
            return
        self.action_end()

    def _leave_answer(self, yes: bool | None) -> None:
        if yes:
            self._leave_and_exit()

    @work(exclusive=True, group="leave", exit_on_error=False)
    async def _leave_and_exit(self) -> None:
        await self._leave()
        self.exit(0)

    async def _leave(self) -> None:
        if self._leaving or self.client is None:
            return
        self._leaving = True
        with contextlib.suppress(Exception):
            await self.client.leave(wait_acks=2.0 if self.client.link.connected else 0.0)

    def _after_end(self) -> None:
        from oxi_assist.ui.debrief_screen import DebriefScreen

        if self.session is None:
            return
        self.push_screen(DebriefScreen.for_session(self.session, ask_to_leave=True),
                         lambda _: self._leave_and_exit())

    async def on_unmount(self) -> None:
        await self._leave()


def _no_session(*_: Any) -> Any:
    raise AssertionError("a station's session is its patient's")
