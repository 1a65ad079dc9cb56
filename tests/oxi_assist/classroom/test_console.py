"""The trainer's console on real parts: a headless Textual app on a trainer node with the
embedded broker and stations on real MQTT connections. Keys reach every station or the one
under the board's cursor, the board shows the stations' actions, the end asks first and opens
the class debrief, whose exports are 0600 and never overwrite a file."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from textual.widgets import DataTable

from oxi_assist.actions import Action
from oxi_assist.classroom.messages import Phase
from oxi_assist.ui.class_board import ClassBoard
from oxi_assist.ui.class_console import ConsoleApp, default_exports
from oxi_assist.ui.class_debrief_screen import ClassDebriefScreen
from oxi_assist.ui.confirm import ConfirmScreen

from .conftest import Class, until


def console(k: Class, tmp: Path, **kw: object) -> ConsoleApp:
    return ConsoleApp(k.node, broker=f"127.0.0.1:{k.port}", web_url="http://127.0.0.1:8000/",
                      scenarios=["opioid-overdose", "xylazine"],
                      exports=default_exports(tmp / "class", **kw),  # type: ignore[arg-type]
                      end_grace=0.5)


def board_text(app: ConsoleApp) -> list[list[str]]:
    table = app.query_one(ClassBoard)
    return [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]


async def test_start_cues_for_all_or_one_and_the_board(klass: Class, tmp_path: Path) -> None:
    a = await klass.add("Ann")
    b = await klass.add("Bob")
    app = console(klass, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(lambda: len(board_text(app)) == 2, what="two rows")
        assert [r[0] for r in board_text(app)] == ["Ann", "Bob"]
        await pilot.press("s")
        await until(lambda: a.core.patient is not None and b.core.patient is not None,
                    what="both patients started")
        await pilot.press("f")  # every station
        await until(lambda: all(any(x.name == "finger_out" for x in s.core.patient.session.actions)
                                for s in (a, b)), what="finger out at both")
        await pilot.press("down", "P")  # Bob only
        await until(lambda: b.core.phase is Phase.PAUSED, what="bob paused")
        await pilot.pause(0.3)
        assert a.core.phase is Phase.RUNNING
        await pilot.press("M")  # motion at Bob only
        await until(lambda: any(x.name == "motion" for x in b.core.patient.session.actions))
        assert not any(x.name == "motion" for x in a.core.patient.session.actions)
        a.core.act(Action.CALLED_911)
        a.core.act(Action.NALOXONE, route="im")
        await until(lambda: board_text(app)[0][8] == "1", what="Ann's dose on the board")
        ann = board_text(app)[0]
        assert ann[1] == "● on" and ann[5] != "—" and ann[7] != "—"
        await until(lambda: board_text(app)[1][2].startswith("‖ paused"), what="bob paused")


async def test_end_asks_then_debrief_and_safe_exports(klass: Class, tmp_path: Path) -> None:
    a = await klass.add("Ann")
    app = console(klass, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("s")
        await until(lambda: a.core.patient is not None)
        a.core.act(Action.NALOXONE, route="im")
        a.core.act(Action.NALOXONE, route="im")  # too soon: a deviation
        # both doses reach the trainer before the end (they travel through the broker)
        await until(lambda: klass.core.board.rows["ann"].doses == 2, what="both doses")
        await pilot.press("e")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("e")  # the lower-case key does not end it
        assert klass.core.state.phase is Phase.RUNNING
        await pilot.press("E")
        await until(lambda: isinstance(app.screen, ClassDebriefScreen), what="the debrief")
        assert klass.core.state.phase is Phase.ENDED
        # the board's keys are not offered (nor taken) on the debrief
        assert app.check_action("pause_all", ()) is False and app.check_action("start", ()) is False
        def words_now() -> str:
            return " ".join(str(w.render()) for w in app.screen.query(".station-col"))

        await until(lambda: "Ann" in words_now(), what="the station's column drawn")
        words = words_now()
        assert "Ann" in words and "second_dose_early" not in words  # words, not the rule's id
        assert "naloxone dose 2" in words and "BC guidance" in words
        for key in ("s", "t", "c"):
            await pilot.press(key)
        written = sorted(tmp_path.glob("class.debrief.*"))
        assert [p.suffix for p in written] == [".csv", ".svg", ".txt"]
        for p in written:
            assert stat.S_IMODE(os.stat(p).st_mode) == 0o600
        svg = (tmp_path / "class.debrief.svg").read_text()
        assert svg.startswith("<svg") and "Ann" in svg and "second dose early" in svg
        before = (tmp_path / "class.debrief.txt").read_text()
        await pilot.press("t")  # a second time: refused, the file stays as it was
        assert "exists" in str(app.screen.query_one("#class-debrief-status").render())
        assert (tmp_path / "class.debrief.txt").read_text() == before


async def test_variant_for_one_station_before_the_start(klass: Class, tmp_path: Path) -> None:
    a = await klass.add("Ann")
    b = await klass.add("Bob")
    app = console(klass, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(lambda: len(board_text(app)) == 2)
        await pilot.press("down", "v")  # Bob: the next scenario in the list
        assert klass.core.board.rows["bob"].scenario == "xylazine"
        await pilot.press("s")
        await until(lambda: a.core.patient is not None and b.core.patient is not None)
        assert (a.core.patient.scenario, b.core.patient.scenario) == ("opioid-overdose",
                                                                      "xylazine")
        await pilot.press("v")  # too late now: said, nothing changes
        assert "started" in app.note and klass.core.board.rows["bob"].scenario == "xylazine"


async def test_board_scrolls_at_80x24(klass: Class, tmp_path: Path) -> None:
    for i in range(6):
        await klass.add(f"S{i:02d}")
    app = console(klass, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(lambda: len(board_text(app)) == 6)
        await pilot.pause(0.3)
        table = app.query_one(DataTable)
        assert app.query_one("#join").display is True  # the code to share, in the lobby
        assert table.size.height < 7  # fewer rows than stations on screen …
        for _ in range(5):
            await pilot.press("down")
        assert table.cursor_row == 5 and table.scroll_offset.y > 0  # … and it scrolls
        await pilot.press("s")
        await pilot.pause(0.3)
        assert app.query_one("#join").display is False  # folded away once running
        assert table.size.height >= 7
        await pilot.press("j")
        assert app.query_one("#join").display is True
