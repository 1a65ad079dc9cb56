"""The full-screen station on real parts: a headless Textual app with a station on a real MQTT
connection to the trainer's embedded broker. Without a code it asks; a wrong code is said and
asked again; keys go through the station to the trainer's board; the screen follows the
patient and says TRAINING / CLASS; the end of the class opens the debrief."""

from __future__ import annotations

from drivers.clock import RealClock
from oxi_assist.classroom.link import BrokerAddress
from oxi_assist.classroom.messages import EventKind, Phase
from oxi_assist.classroom.patient import SCREEN_PLETH
from oxi_assist.classroom.station import StationClient, StationOptions
from oxi_assist.ui.debrief_screen import DebriefScreen
from oxi_assist.ui.live_screen import MainScreen
from oxi_assist.ui.station_app import JoinScreen, StationApp, WaitScreen
from tests.oxi_assist.ui.fixtures import screen_lines

from .conftest import CODE, Class, until


def station_app(k: Class, *, code: str = "", name: str = "") -> StationApp:
    def client(name: str, code: str) -> StationClient:
        return StationClient(BrokerAddress("127.0.0.1", k.port), code,
                             StationOptions(name, record=False, pleth=SCREEN_PLETH),
                             RealClock())

    return StationApp(address=f"127.0.0.1:{k.port}", code=code, name=name,
                      client_factory=client)


def actions(k: Class, sid: str) -> list[str]:
    return [e.name for e in k.core.events(sid) if e.kind is EventKind.ACTION]


async def test_keys_reach_the_board_and_the_screen_says_class(klass: Class) -> None:
    app = station_app(klass, code=CODE, name="Ann")
    async with app.run_test(size=(80, 24)) as pilot:
        await until(lambda: "ann" in klass.core.board.rows, what="ann on the board")
        assert isinstance(app.screen, WaitScreen)
        klass.core.start()
        await until(lambda: isinstance(app.screen, MainScreen) and app.screen.ready,
                    what="the live screen")
        await pilot.pause(0.3)
        assert screen_lines(app)[0].startswith(" TRAINING / CLASS · Ann")
        for key in ("x", "9", "b", "n"):
            await pilot.press(key)
        row = klass.core.board.rows["ann"]
        await until(lambda: row.t_911 is not None and row.t_breaths is not None
                    and row.doses == 1, what="the actions on the board")
        assert actions(klass, "ann")[:4] == ["unresponsive", "911", "breaths", "naloxone"]
        assert app.session is app.core.patient.session
        # the trainer's keys of `oxi-assist demo` do nothing here (the trainer drives)
        await pilot.press("P")
        await pilot.pause(0.2)
        assert app.core.phase is Phase.RUNNING and not app.core.patient.paused
        klass.core.end()
        await until(lambda: isinstance(app.screen, DebriefScreen), what="the debrief")


async def test_asks_for_name_and_code_and_again_after_a_wrong_code(klass: Class) -> None:
    app = station_app(klass)
    async with app.run_test(size=(45, 40)) as pilot:  # a phone in a browser
        assert isinstance(app.screen, JoinScreen)
        await pilot.click("#join-name")
        await pilot.press(*"Bea")
        await pilot.press("enter")
        await pilot.press(*"XXXXXX", "enter")  # X is a letter codes use; not this class's
        await until(lambda: app.refused == 1, what="the wrong code refused")
        await until(lambda: isinstance(app.screen, JoinScreen))
        await pilot.pause(0.2)
        assert "refused" in str(app.screen.query_one("#join-message").render())
        assert "bea" not in klass.core.board.rows
        app.screen.query_one("#join-name").value = "Bea"
        code = app.screen.query_one("#join-code")
        code.value = "1"  # not a code at all: said at once, nothing sent
        await pilot.click("#join-go")
        assert "expected 6 characters" in str(app.screen.query_one("#join-message").render())
        code.value = CODE.lower()  # as typed on a phone
        await pilot.pause(0.3)  # a button takes no second press while it still shows the first
        await pilot.click("#join-go")
        await until(lambda: "bea" in klass.core.board.rows, what="bea joined")
        klass.core.start()
        await until(lambda: isinstance(app.screen, MainScreen) and app.screen.ready)
        await pilot.pause(0.3)
        assert app.screen.narrow  # the phone gets the one-column, tappable layout


async def test_leaving_asks_first_and_the_board_says_left(klass: Class) -> None:
    from oxi_assist.classroom.board import Connection
    from oxi_assist.ui.confirm import ConfirmScreen

    app = station_app(klass, code=CODE, name="Cy")
    async with app.run_test(size=(80, 24)) as pilot:
        await until(lambda: "cy" in klass.core.board.rows)
        klass.core.start()
        await until(lambda: isinstance(app.screen, MainScreen))
        await pilot.press("q")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("q")  # q twice never leaves
        assert not isinstance(app.screen, ConfirmScreen) and app.is_running
        await pilot.press("q", "L")
        await until(lambda: klass.core.board.rows["cy"].connection is Connection.LEFT,
                    what="the board says left")
