"""The class board: one row per station, live, drawn from the trainer's `Board`.

Columns: the station's name, its connection (online, LOST, left), the SAVE ME step it is on,
its patient's SpO2 as its oximeter shows it ("--" when the oximeter shows no trustworthy value:
never a number in its place), the top alarm, the times from its start to 911, first breaths and
first naloxone, the doses, and (only when a station overlays a real oximeter) that device's
state. The rows are rebuilt only when `Board.version` moved; the row under the cursor stays the
selected station across rebuilds. Colour always comes with words or symbols.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.widgets import DataTable

from oxi_assist.ui import theme

#: (key, heading, width on an 80-column board, width on a wide one)
COLUMNS: tuple[tuple[str, str, int, int], ...] = (
    ("station", "Station", 9, 11),
    ("link", "Link", 6, 6),
    ("step", "Step", 11, 13),
    ("spo2", "SpO₂", 4, 4),
    ("alarm", "Alarm", 12, 13),
    ("t911", "911", 5, 5),
    ("tbreaths", "Brths", 5, 5),
    ("tnalox", "Nalox", 5, 5),
    ("doses", "Dose", 4, 4),
)
DEVICE_COLUMN = ("device", "Real oximeter", 13, 16)
#: A board this wide or wider gets the wide column widths (120 columns beside the join panel).
WIDE_BOARD = 86

CONNECTION_CELLS = {
    "online": ("● on", theme.GREEN),
    "lost": ("✖ LOST", f"bold reverse {theme.VERMILLION}"),
    "left": ("○ left", theme.GREY),
}
PRIORITY_STYLE = {"high": f"bold {theme.VERMILLION}", "medium": f"bold {theme.YELLOW}",
                  "low": theme.YELLOW}
PRIORITY_MARK = {"high": "***", "medium": "**", "low": "*"}


def _time(t: float | None) -> Text:
    return Text(theme.fmt_clock(t) if t is not None else "—",
                style="" if t is not None else theme.GREY)


def row_cells(row: Any, *, device: bool = False) -> list[Text]:
    """One station's cells (see the module docstring)."""
    words, style = CONNECTION_CELLS.get(row.connection.value, (row.connection.value, ""))
    phase = row.phase.value
    if phase in ("lobby", "ended", "paused"):
        step = Text({"lobby": "waiting", "ended": "ended", "paused": "‖ paused"}[phase]
                    + (f" · {row.step}" if row.step and phase != "lobby" else ""),
                    style=theme.GREY if phase != "paused" else f"bold {theme.ORANGE}")
    else:
        step = Text(row.step_title or row.step or "—")
    if phase == "lobby" and row.scenario:  # what it will play, once the class starts
        step = Text(row.scenario, style=theme.GREY)
    if row.spo2 is None:
        spo2 = Text("--", style=f"bold {theme.GREY}")
    else:
        spo2 = Text(f"{row.spo2:.0f}", style=PRIORITY_STYLE.get(row.alarm_priority, "bold"))
    alarm = Text(f"{PRIORITY_MARK.get(row.alarm_priority, '')} "
                 f"{row.alarm.replace('_', ' ')}".strip() if row.alarm else "—",
                 style=PRIORITY_STYLE.get(row.alarm_priority, theme.GREY))
    cells = [Text(row.name, style="bold"), Text(words, style=style), step, spo2, alarm,
             _time(row.t_911), _time(row.t_breaths), _time(row.t_naloxone),
             Text(str(row.doses))]
    if device:
        dev = row.device or "—"
        cells.append(Text(dev, style=f"bold {theme.YELLOW}" if row.device not in
                          ("", "finger in") else ""))
    return cells


class ClassBoard(DataTable[Text]):
    """The board widget; `show(board)` redraws it when the board changed."""

    DEFAULT_CSS = "ClassBoard { height: 1fr; }"

    def __init__(self, **kw: Any) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, **kw)
        self._version = -1
        self._device = False
        self._wide = False
        self._board: Any = None
        self.stations: list[str] = []

    def on_mount(self) -> None:
        self._columns(device=False)

    def on_resize(self) -> None:
        if (self.size.width >= WIDE_BOARD) == self._wide:
            return
        if self._board is not None:
            self.show(self._board, force=True)
        else:
            self._columns(device=self._device)

    def _columns(self, *, device: bool) -> None:
        self.clear(columns=True)
        self._device = device
        self._wide = self.size.width >= WIDE_BOARD
        for key, label, narrow, wide in COLUMNS + ((DEVICE_COLUMN,) if device else ()):
            self.add_column(label, key=key, width=wide if self._wide else narrow)

    @property
    def selected(self) -> str | None:
        """The station id under the cursor (None: no station yet)."""
        if not self.stations:
            return None
        return self.stations[min(max(self.cursor_row, 0), len(self.stations) - 1)]

    def show(self, board: Any, *, force: bool = False) -> bool:
        """Redraws from `board` if it changed; True when it did."""
        if board.version == self._version and not force:
            return False
        self._version = board.version
        self._board = board
        rows = board.ordered()
        device = any(r.device for r in rows)
        keep = self.selected
        if device != self._device or (self.size.width >= WIDE_BOARD) != self._wide:
            self._columns(device=device)
        else:
            self.clear()
        self.stations = [r.station for r in rows]
        for r in rows:
            self.add_row(*row_cells(r, device=device), key=r.station)
        if keep in self.stations:
            self.move_cursor(row=self.stations.index(keep), animate=False)
        return True
