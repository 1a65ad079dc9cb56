"""What changed at one Monitor update, as typed records.

The Monitor (`oxi_assist.monitor.monitor`) reports each change it makes — an alarm raised, cleared,
acknowledged or raised to high priority, a desaturation event starting or ending, an alarm pause
starting or ending — as one of the records below in `VitalsState.changes`. The session records
them, the screen's event log words them and the debrief reads them back from a recording, all
through this module, so no one splits strings to find out what happened.

The recorded file keeps the names it has always had (docs/FORMATS-native.md): alarm changes are
`alarm` records with their `state`; desaturation events and pauses are `event` records named
`desat3_start` / `desat3_end`, `alarm:paused`, `alarm:pause_ended` and `alarm:pause_broken`.
`event_name` and `from_event` are the two directions of that mapping. A raise to high priority
during a response is an `event` record named `alarm_escalated` (with `kind` and `priority`).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

from oxi_assist.monitor.priority import Priority


class AlarmState(enum.Enum):
    """What happened to an alarm condition (the recorded `state` for the first three)."""

    RAISED = "raised"
    CLEARED = "cleared"
    ACKNOWLEDGED = "acknowledged"
    ESCALATED = "escalated"  # still active, now high priority (an overdose response began)


@dataclass(frozen=True)
class AlarmChange:
    """An alarm condition changed. `t` is when the rules say it happened (the raise time for
    RAISED, the end for CLEARED, the update's time otherwise), on the Monitor's clock."""

    kind: str  # "spo2_low", "finger_out", …
    state: AlarmState
    t: float
    priority: Priority
    message: str  # "SpO2 low", "Finger out / probe off"
    technical: bool = False
    onset: float | None = None  # RAISED: when the condition began (before any delay)


class DesatEdge(enum.Enum):
    START = "start"
    END = "end"


@dataclass(frozen=True)
class DesatChange:
    """A desaturation event of `level` % or more below the recent baseline began or ended."""

    level: float
    edge: DesatEdge
    t: float


class PauseState(enum.Enum):
    """The alarm pause, as recorded (the values are the recorded event names)."""

    PAUSED = "alarm:paused"
    ENDED = "alarm:pause_ended"  # the 2 minutes (or less) ran out
    BROKEN = "alarm:pause_broken"  # a higher-priority alarm broke through


@dataclass(frozen=True)
class PauseChange:
    state: PauseState
    t: float


Change = AlarmChange | DesatChange | PauseChange

#: The recorded event name of a raise to high priority (with `kind` and `priority`).
ESCALATED_EVENT = "alarm_escalated"


def event_name(c: DesatChange | PauseChange) -> str:
    """The recorded event name of a desaturation or pause change, e.g. "desat3_start"."""
    if isinstance(c, DesatChange):
        return f"desat{c.level:g}_{c.edge.value}"
    return c.state.value


def from_event(e: dict[str, Any], t: float) -> DesatChange | PauseChange | None:
    """The change a recorded `event` record stands for (None for any other event)."""
    name = str(e.get("name", ""))
    for ps in PauseState:
        if name == ps.value:
            return PauseChange(ps, t)
    if name.startswith("desat"):
        level, sep, edge = name[len("desat"):].partition("_")
        try:
            return DesatChange(float(level), DesatEdge(edge), t) if sep else None
        except ValueError:
            return None
    return None


def alarm_words(state: AlarmState | str, message: str, priority: str = "") -> str:
    """One plain line for an alarm change: "Alarm (high): SpO2 very low",
    "Alarm ended: SpO2 very low"."""
    st = state.value if isinstance(state, AlarmState) else str(state)
    if st == AlarmState.RAISED.value:
        return f"Alarm ({priority}): {message}" if priority else f"Alarm: {message}"
    if st == AlarmState.CLEARED.value:
        return f"Alarm ended: {message}"
    if st == AlarmState.ESCALATED.value:
        return f"Alarm now high: {message} (during the response)"
    return f"Alarm {st}: {message}"


def change_words(c: DesatChange | PauseChange) -> str:
    """Plain words for a desaturation or pause change (the debrief's timeline)."""
    if isinstance(c, DesatChange):
        return (f"SpO2 dip of {c.level:g} % or more "
                f"{'began' if c.edge is DesatEdge.START else 'ended'}")
    return {PauseState.PAUSED: "alarm signals paused",
            PauseState.ENDED: "alarm pause ended",
            PauseState.BROKEN: "alarm pause ended by a higher alarm"}[c.state]
