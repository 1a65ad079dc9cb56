"""The trainer's console (`oxi-assist class`): the join code and address to share (as text and a
QR code), the class board, and the trainer's controls; then the class debrief.

It draws a running `TrainerNode`'s core (the network is started before the screen opens, so a
port in use is a one-line error, not a broken screen). Keys — lower case for every station,
upper case for the station under the board's cursor:

    s start · p / P pause or resume · + / - speed · f / F finger out · m / M motion ·
    l / L low perfusion · v the selected station's scenario (before it starts) ·
    j join details on/off · e end the class (asks first) · q quit (asks first while it runs)

The board is redrawn at most 4 times a second, and only when the board changed. The join panel
sits beside the board on a wide terminal and above it on a narrow one, where it folds away
once the class has started (j brings it back); the board scrolls when the class is bigger than
the screen.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, ClassVar

from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.css.query import NoMatches
from textual.widgets import Footer, Static

from oxi_assist.ui import theme
from oxi_assist.ui.class_board import ClassBoard
from oxi_assist.ui.confirm import ConfirmScreen
from oxi_assist.ui.trainer import next_speed

#: At this width and more the join panel stands beside the board.
WIDE_FROM = 110
#: Below this height the join panel folds away once the class runs.
TALL_FROM = 36
CUE_SECONDS = 30.0
END_KEY = "E"
REDRAW_HZ = 4.0
#: seconds given to the stations to send their last events after "end"
END_GRACE_S = 1.5


class JoinInfo:
    """What a trainee needs: the code, the broker address, the web address (if served)."""

    def __init__(self, code: str, broker: str, url: str | None) -> None:
        self.code, self.broker, self.url = code, broker, url

    def text(self) -> Text:
        t = Text()
        t.append("Join code  ", style="bold")
        t.append(f" {self.code} ", style=f"bold reverse {theme.ORANGE}")
        t.append("\n\n")
        if self.url:
            t.append("On a phone or laptop, open\n", style="bold")
            t.append(self.url, style=f"bold underline {theme.BLUE}")
            t.append("\n(or scan the code) and type the join code.\n\n")
        t.append("From a terminal:\n", style="bold")
        t.append(f"oxi-assist join {self.broker} {self.code} --name NAME")
        return t


class ConsoleBar(Static):
    def show(self, core: Any, code: str, note: str = "") -> None:
        st = core.state
        rows = list(core.board.rows.values())
        lost = sum(1 for r in rows if r.connection.value == "lost")
        t = Text(no_wrap=True, overflow="ellipsis")
        t.append(" TRAINER · CLASS ", style=f"bold reverse {theme.ORANGE}")
        t.append(f"  {st.phase.value.upper()}", style="bold")
        t.append(f"  {st.speed:g}×  ", style="bold")
        t.append(f"{len(rows)} station{'s' if len(rows) != 1 else ''}")
        if lost:
            t.append(f" · {lost} LOST", style=f"bold {theme.VERMILLION}")
        t.append(f"  code {code}", style="bold")
        scen = ", ".join(st.variants) if st.variants else st.scenario
        t.append(f"  {scen}", style="dim")
        if note:
            t.append(f"  {note}", style=f"bold {theme.YELLOW}")
        self.update(t)


HINT = ("[b]all[/] s start · p pause · +/- speed · f finger out · m motion · l low perf\n"
        "[b]row ↑↓[/] P pause · F finger out · M motion · L low perf · v scenario")


class ConsoleApp(App[int]):
    """See the module docstring. `node` is a started `TrainerNode`; `web_url` the address
    browsers open (None when not served); `exports(debrief)` is called by the debrief screen
    to write its files."""

    CSS_PATH = "class_console.tcss"
    TITLE = "oxi-assist class"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("s", "start", "Start"),
        Binding("p", "pause_all", "Pause all"),
        Binding("P", "pause_one", "Pause one", show=False),
        Binding("plus,equals_sign", "speed(1)", "Faster", show=False),
        Binding("minus", "speed(-1)", "Slower", show=False),
        Binding("f", "cue('finger_out', 0)", "Finger out", show=False),
        Binding("F", "cue('finger_out', 1)", "Finger out (one)", show=False),
        Binding("m", "cue('motion', 0)", "Motion", show=False),
        Binding("M", "cue('motion', 1)", "Motion (one)", show=False),
        Binding("l", "cue('low_perfusion', 0)", "Low perfusion", show=False),
        Binding("L", "cue('low_perfusion', 1)", "Low perfusion (one)", show=False),
        Binding("v", "variant", "Scenario (one)", show=False),
        Binding("j", "toggle_join", "Join info"),
        Binding("e", "end", "End class"),
        Binding("q", "quit_asked", "Quit"),
    ]

    def __init__(self, node: Any, *, broker: str, web_url: str | None = None,
                 scenarios: Sequence[str] = (), exports: Callable[..., Any] | None = None,
                 redraw_hz: float = REDRAW_HZ, end_grace: float = END_GRACE_S) -> None:
        super().__init__()
        self.node = node
        self.core = node.core
        self.info = JoinInfo(node.code, broker, web_url)
        self.scenarios = list(scenarios)
        self.exports = exports
        self.redraw_hz = redraw_hz
        self.end_grace = end_grace
        self.note = ""
        self._join_shown: bool | None = None  # None: automatic
        self._ended = False

    # -- layout ----------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """The console's keys belong to the board: not on the debrief or under a question."""
        from oxi_assist.ui.class_debrief_screen import ClassDebriefScreen

        mine = {b.action.partition("(")[0] for b in self.BINDINGS  # type: ignore[union-attr]
                if isinstance(b, Binding)} | {"quit"}
        covered = isinstance(self.screen, ClassDebriefScreen | ConfirmScreen)
        return not (action in mine and covered)

    def compose(self) -> ComposeResult:
        yield ConsoleBar(id="bar")
        with Horizontal(id="body"):
            with Horizontal(id="join"):
                yield Static(self._qr(), id="qr")
                yield Static(self.info.text(), id="join-text")
            with Vertical(id="board-box"):
                yield ClassBoard(id="board")
                yield Static(Text.from_markup(HINT), id="hint")
        yield Footer()

    def _qr(self) -> Text:
        from oxi_assist.ui.qr import qr_text

        return qr_text(self.info.url) if self.info.url else Text("")

    def on_mount(self) -> None:
        self.query_one("#qr").display = bool(self.info.url)
        self.set_interval(1.0 / self.redraw_hz, self.refresh_board)
        self._layout()
        self.refresh_board(force=True)
        self.query_one(ClassBoard).focus()

    def on_resize(self) -> None:
        with contextlib.suppress(NoMatches):
            self._layout()

    def _layout(self) -> None:
        wide = self.size.width >= WIDE_FROM
        body = self.query_one("#body")
        body.set_class(wide, "-wide")
        lobby = self.core.state.phase.value == "lobby"
        auto = wide or self.size.height >= TALL_FROM or lobby
        shown = auto if self._join_shown is None else self._join_shown
        self.query_one("#join").display = shown
        # a short, narrow screen showing the join panel keeps its rows for the board
        self.query_one("#hint").display = wide or not shown or self.size.height >= TALL_FROM

    def refresh_board(self, force: bool = False) -> None:
        try:
            board = self.query_one(ClassBoard)
        except NoMatches:
            return  # the console is closing
        changed = board.show(self.core.board, force=force)
        if changed or force:
            self.query_one(ConsoleBar).show(self.core, self.info.code, self.note)
            self._layout()

    def say(self, text: str, *, error: bool = False) -> None:
        self.note = text
        with contextlib.suppress(NoMatches):
            self.query_one(ConsoleBar).show(self.core, self.info.code, text)
        self.notify(text, severity="error" if error else "information", timeout=5)

    # -- controls --------------------------------------------------------------------------

    def _do(self, what: Callable[[], Any], done: str) -> None:
        from oxi_assist.classroom.codes import CodeError

        try:
            what()
        except CodeError as e:
            self.say(str(e), error=True)
            return
        self.say(done)
        self.refresh_board(force=True)

    def _selected(self) -> tuple[str, str] | None:
        sid = self.query_one(ClassBoard).selected
        if sid is None:
            self.say("no station has joined yet", error=True)
            return None
        row = self.core.board.rows[sid]
        return sid, row.name

    def action_start(self) -> None:
        if self.core.state.phase.value != "lobby":
            self.say("the class has already started", error=True)
            return
        self._do(self.core.start, "started: every station's patient runs")

    def action_pause_all(self) -> None:
        phase = self.core.state.phase.value
        if phase == "paused":
            self._do(self.core.resume, "resumed every station")
        elif phase == "running":
            self._do(self.core.pause, "paused every station")
        else:
            self.say(f"nothing to pause: the class is {phase}", error=True)

    def action_pause_one(self) -> None:
        sel = self._selected()
        if sel is None:
            return
        sid, name = sel
        if self.core.board.rows[sid].phase.value == "paused":
            self._do(lambda: self.core.resume(sid), f"resumed {name}")
        else:
            self._do(lambda: self.core.pause(sid), f"paused {name}")

    def action_speed(self, step: int) -> None:
        x = next_speed(self.core.state.speed, int(step))
        self._do(lambda: self.core.speed(x), f"speed {x:g}× for every station")

    def action_cue(self, name: str, one: int) -> None:
        from oxi_assist.classroom.messages import CommandName

        cmd = CommandName(name)
        words = name.replace("_", " ")
        if one:
            sel = self._selected()
            if sel is None:
                return
            sid, who = sel
            self._do(lambda: self.core.cue(cmd, CUE_SECONDS, sid),
                     f"{words} {CUE_SECONDS:g} s at {who}")
        else:
            self._do(lambda: self.core.cue(cmd, CUE_SECONDS),
                     f"{words} {CUE_SECONDS:g} s at every station")

    def action_variant(self) -> None:
        sel = self._selected()
        if sel is None or not self.scenarios:
            return
        sid, who = sel
        now = self.core.board.rows[sid].scenario
        i = self.scenarios.index(now) if now in self.scenarios else -1
        nxt = self.scenarios[(i + 1) % len(self.scenarios)]
        self._do(lambda: self.core.assign(sid, nxt), f"{who} will play {nxt}")

    def action_toggle_join(self) -> None:
        shown = self.query_one("#join").display
        self._join_shown = not shown
        self._layout()

    # -- the end ----------------------------------------------------------------------------

    def action_end(self) -> None:
        if self.core.state.phase.value == "ended":
            self._show_debrief()
            return
        if isinstance(self.screen, ConfirmScreen):
            return
        self.push_screen(ConfirmScreen(
            "End the class?", "Every station's patient stops and the class debrief opens. "
            "This cannot be undone.", yes="End the class", yes_key=END_KEY), self._end_answer)

    def action_quit_asked(self) -> None:
        if self.core.state.phase.value in ("ended", "lobby") and not self.core.board.rows:
            self.exit(0)
            return
        if self.core.state.phase.value == "ended":
            self.exit(0)
            return
        self.action_end()

    async def action_quit(self) -> None:
        """ctrl+q and the palette's Quit ask first too while the class runs."""
        self.action_quit_asked()

    def _end_answer(self, yes: bool | None) -> None:
        if yes:
            self.run_worker(self._end(), exclusive=True, group="end")

    async def _end(self) -> None:
        self.core.end()
        self.say("ended: waiting for the stations' last events …")
        await self.core.clock.sleep(self.end_grace)
        self.refresh_board(force=True)
        self._show_debrief()

    def _show_debrief(self) -> None:
        from oxi_assist.ui.class_debrief_screen import ClassDebriefScreen

        if isinstance(self.screen, ClassDebriefScreen):
            return
        self.push_screen(ClassDebriefScreen(self.core.debrief(), exports=self.exports),
                         lambda _: self.exit(0))


def default_exports(base: Path, *, svg: str | None = None, text: str | None = None,
                    csv: str | None = None, force: bool = False) -> Callable[[Any, str], Path]:
    """The function the debrief screen calls: writes `kind` ("svg", "text", "csv") to the file
    named on the command line, else beside `base` (the class record, or the folder given)."""
    from oxi_assist.classroom.debrief import to_csv, to_text
    from oxi_assist.classroom.exports import render_class_svg, write_new

    named = {"svg": svg, "text": text, "csv": csv}
    suffix = {"svg": ".svg", "text": ".txt", "csv": ".csv"}
    render = {"svg": render_class_svg, "text": to_text, "csv": to_csv}

    def write(debrief: Any, kind: str) -> Path:
        target = Path(named[kind]) if named[kind] else base.with_name(
            base.name + ".debrief" + suffix[kind])
        return write_new(target, render[kind](debrief), force=force)

    return write

