"""The trainer's class board: one row per station, as its status messages and events say.

A row follows the station's status (about once a second) and, between two statuses, the
actions that arrive as events, so a key a trainee presses shows on the board at once.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from oxi_assist.actions import Action
from oxi_assist.classroom.messages import Phase, StationEvent, StationStatus


class Connection(enum.Enum):
    ONLINE = "online"
    LOST = "lost"
    LEFT = "left"


@dataclass
class BoardRow:
    """One station on the class board."""

    station: str
    name: str
    connection: Connection = Connection.ONLINE
    phase: Phase = Phase.LOBBY
    t: float = 0.0
    step: str = ""
    step_title: str = ""
    spo2: float | None = None  # None: the station's oximeter shows no trustworthy value
    alarm: str = ""
    alarm_priority: str = ""
    t_911: float | None = None
    t_breaths: float | None = None
    t_naloxone: float | None = None
    doses: int = 0
    speed: float = 1.0
    events: int = 0
    last_seen: float = 0.0  # trainer clock
    lost_at: float | None = None
    rejoins: int = 0
    cmd_all: int = 0
    cmd_own: int = 0
    rejected: int = 0
    scenario: str = ""  # the scenario this station plays (a variant, or the class's)
    device: str = ""  # an overlaid real oximeter's state in words, "" without one

    def update(self, s: StationStatus) -> None:
        """Takes what the station's status says (the row's name is the caller's)."""
        self.phase, self.t, self.step, self.step_title = s.phase, s.t, s.step, s.step_title
        self.spo2, self.alarm, self.alarm_priority = s.spo2, s.alarm, s.alarm_priority
        self.t_911, self.t_breaths, self.t_naloxone = s.t_911, s.t_breaths, s.t_naloxone
        self.doses, self.speed, self.rejected = s.doses, s.speed, s.rejected
        self.cmd_all, self.cmd_own = s.cmd_all, s.cmd_own
        self.device = s.device

    def take_action(self, ev: StationEvent) -> None:
        """An action shows on the board as it arrives (the status catches up within 1 s)."""
        if ev.name == Action.CALLED_911.value and self.t_911 is None:
            self.t_911 = ev.t
        elif ev.name == Action.BREATHS_START.value and self.t_breaths is None:
            self.t_breaths = ev.t
        elif ev.name == Action.NALOXONE.value:
            self.t_naloxone = ev.t if self.t_naloxone is None else self.t_naloxone
            dose = ev.params.get("dose")
            self.doses = max(self.doses, int(dose) if isinstance(dose, int | float) else
                             self.doses + 1)


@dataclass
class Board:
    rows: dict[str, BoardRow] = field(default_factory=dict)
    version: int = 0

    def ordered(self) -> list[BoardRow]:
        return sorted(self.rows.values(), key=lambda r: r.name.lower())
