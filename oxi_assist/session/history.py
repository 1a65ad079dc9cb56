"""What the Monitor and the Guide said, turned into the session's records and log lines.

The Monitor reports each change of an update as a typed record (oxi_assist.monitor.changes):
alarms become `alarm` records (a raise to high priority an `alarm_escalated` event),
desaturations and pauses become events. The Guide keeps a log of its own; the entries added
since the last look become `guide` events and, worded for the screen, log lines. Both keep
the time they happened, moved onto session seconds, so a recording agrees with the offline
analysis of the same trace.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from oxi_assist.monitor.changes import (
    ESCALATED_EVENT,
    AlarmChange,
    AlarmState,
    PauseChange,
    PauseState,
    change_words,
    event_name,
)
from oxi_assist.monitor.vitals import VitalsState
from oxi_assist.session.log import LogKind, SessionLog, alarm_line, guide_line
from oxi_assist.session.recorder import Recorder
from oxi_assist.session.timeline import Timeline

if TYPE_CHECKING:
    from oxi_assist.guide.engine import Guide
    from oxi_assist.guide.state import LogEntry

#: How often the guide's log is looked at while samples stream in (ticks look every time).
GUIDE_SYNC_EVERY = 0.2


class History:
    """Records the Monitor's changes and the Guide's new log entries. `alert` is set when
    one of them must reach the screen at once (an alarm change, new guidance)."""

    def __init__(self, recorder: Recorder, log: SessionLog, timeline: Timeline,
                 guide: Guide | None) -> None:
        self._recorder = recorder
        self._log = log
        self._timeline = timeline
        self._guide = guide
        self.alert = False
        self._guide_last: LogEntry | None = None  # the last guide entry already recorded
        self._guide_n = 0
        self._guide_synced = -math.inf

    def take_alert(self) -> bool:
        """Whether something must reach the screen at once since the last call."""
        alert, self.alert = self.alert, False
        return alert

    def monitor_changes(self, vs: VitalsState) -> None:
        """Records what the Monitor says changed at this update and words the log's lines.
        Raise and clear times are the times the alarm rules define, not when the update
        happened to arrive; the log stays in time order all the same."""
        for c in vs.changes:
            if isinstance(c, AlarmChange):
                self._alarm_change(c)
                continue
            rel = self._timeline.to_session(c.t)
            self._recorder.event(rel, event_name(c), by="monitor")
            # desaturation events are recorded, not log lines; a pause is the responder's
            # own press (logged by pause_alarms), its end is news
            if isinstance(c, PauseChange) and c.state is not PauseState.PAUSED:
                self._log.add(rel, LogKind.ALARM, change_words(c).capitalize())

    def _alarm_change(self, c: AlarmChange) -> None:
        self.alert = True
        t = self._timeline.to_session(c.t)
        prio = c.priority.label
        if c.state is AlarmState.ESCALATED:
            self._recorder.event(t, ESCALATED_EVENT, by="monitor", kind=c.kind, priority=prio)
        else:
            data: dict[str, Any] = {}
            if c.state is AlarmState.RAISED:
                if c.onset is not None and c.onset != c.t:
                    data["onset"] = round(self._timeline.to_session(c.onset), 4)
                data["technical"] = c.technical
            self._recorder.alarm(t, c.kind, prio, c.state.value, c.message, **data)
        text = alarm_line(c)
        if text is not None:
            self._log.add(t, LogKind.ALARM, text)

    def guide_log(self, *, throttle: bool = False) -> None:
        """Records the guide's new log entries (each keeps its own time). With `throttle`
        (per sample) at most every `GUIDE_SYNC_EVERY` s of the clock; ticks, actions and
        the end always look."""
        if self._guide is None:
            return
        c = self._timeline.clock.now()
        if throttle and c - self._guide_synced < GUIDE_SYNC_EVERY:
            return
        self._guide_synced = c
        log = self._guide.log
        if not log or log[-1] is self._guide_last:
            return
        start = min(self._guide_n, len(log))  # entries after the last one recorded
        if self._guide_last is not None:
            for i in range(len(log) - 1, -1, -1):
                if log[i] is self._guide_last:
                    start = i + 1
                    break
        new = log[start:]
        self._guide_n = len(log)
        if not new:
            return
        self._guide_last = new[-1]
        for entry in new:
            rel = self._timeline.to_session(entry.t)
            line = guide_line(entry)
            if line is not None:
                self._log.add(rel, LogKind.GUIDE, line)
                self.alert = True
            self._recorder.event(rel, "guide", kind=entry.kind or "info", text=entry.text,
                                 by="guide")
