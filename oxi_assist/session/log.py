"""The session's event log: one plain line per event, in time order, as the screen shows it.

Everything that happens in a session — a responder's action, an alarm raised or ended, the
oximeter's link, a guidance step or prompt, a trainer's cue — becomes at most one `LogLine`
here, worded for a person reading the screen mid-response: no ids, no `key=value` lists, no
echo of a line already there (the guide's copy of an action or an alarm is dropped; the action
table and the Monitor's change records give the one line). Lines are kept sorted by time,
because some arrive late: an alarm is logged at the time its rule says it began, which can be
a few seconds before the update that raised it.

What gets recorded to the session file is unchanged by this wording (the session's recorder
writes the records; this module only words the screen's lines).
"""

from __future__ import annotations

import bisect
import enum
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from drivers.reading import LinkState
from oxi_assist.monitor.changes import AlarmChange, AlarmState, alarm_words

if TYPE_CHECKING:
    from oxi_assist.guide.state import LogEntry


class LogKind(enum.StrEnum):
    """What a line is about (the screen colours lines by it)."""

    ACTION = "action"
    TRAINER = "trainer"
    ALARM = "alarm"
    LINK = "link"
    GUIDE = "guide"
    EVENT = "event"  # the session's own notes: a recording that stopped, an internal error


@dataclass(frozen=True)
class LogLine:
    """One line of the live timeline."""

    t: float  # session time
    kind: LogKind
    text: str


#: How each link state reads in the log.
LINK_WORDS: dict[LinkState, str] = {
    LinkState.CONNECTING: "Connecting to the oximeter",
    LinkState.CONNECTED: "Oximeter connected",
    LinkState.STALE: "Oximeter data old",
    LinkState.LOST: "Oximeter link lost",
    LinkState.RECONNECTING: "Reconnecting to the oximeter",
    LinkState.CLOSED: "Oximeter source ended",
}

#: How each trainer cue reads in the log (oxi_assist.session.TRAINER_CUES).
TRAINER_WORDS: dict[str, str] = {
    "finger_out": "Trainer: finger out of the probe",
    "finger_in": "Trainer: finger back in the probe",
    "motion": "Trainer: motion on",
    "motion_off": "Trainer: motion off",
    "low_perfusion": "Trainer: weak pulse signal",
    "dropout": "Trainer: signal dropout",
}

#: Guide log entries the session words itself (from the action table and the Monitor): the
#: guide's copies are dropped so each event is one line.
GUIDE_ECHOES = frozenset({"action", "alarm"})
#: How the guide words a timer that an action started ("started: Since naloxone dose 1").
TIMER_STARTED = "started: "


def link_line(state: LinkState, reason: str = "") -> str:
    return LINK_WORDS[state] + (f": {reason}" if reason else "")


def trainer_line(cue: str, params: dict[str, Any]) -> str:
    words = TRAINER_WORDS.get(cue, "Trainer: " + cue.replace("_", " "))
    sec = params.get("seconds")
    return words + (f" for {sec} s" if sec is not None else "")


def alarm_line(c: AlarmChange) -> str | None:
    """The log line of an alarm change, or None when it is not a line of its own (an
    acknowledgement is the responder's own press, logged once as that)."""
    if c.state is AlarmState.ACKNOWLEDGED:
        return None
    return alarm_words(c.state, c.message, c.priority.label)


def guide_line(entry: LogEntry) -> str | None:
    """The screen's line for one guide log entry; None for the guide's echo of an action or
    an alarm. A step's id is apart in the entry's `ref`, so its text is the line as it is."""
    if entry.kind in GUIDE_ECHOES:
        return None
    if entry.kind == "timer" and entry.text.startswith(TIMER_STARTED):
        return None  # a timer the responder's own action started: that action is the line
    return entry.text


class SessionLog:
    """The last `maxlen` lines, oldest first, always in time order (a late line is inserted
    where its time puts it, after any line of the same time)."""

    def __init__(self, maxlen: int = 500) -> None:
        self.maxlen = maxlen
        self._lines: list[LogLine] = []

    def append(self, line: LogLine) -> None:
        lines = self._lines
        if not lines or lines[-1].t <= line.t:
            lines.append(line)
        else:
            lines.insert(bisect.bisect_right(lines, line.t, key=lambda ln: ln.t), line)
        if len(lines) > self.maxlen:
            del lines[: len(lines) - self.maxlen]

    def add(self, t: float, kind: LogKind, text: str) -> None:
        self.append(LogLine(t, kind, text))

    def __iter__(self) -> Iterator[LogLine]:
        return iter(self._lines)

    def __len__(self) -> int:
        return len(self._lines)

    def __getitem__(self, i: int) -> LogLine:
        return self._lines[i]

    def tail(self, n: int) -> list[LogLine]:
        return self._lines[-n:] if n > 0 else []
