"""The Monitor's alarm bookkeeping: which alarm conditions are raised, latched, acknowledged,
paused or raised to high priority, and the history of every condition as `AlarmRecord`s.

The rules (oxi_assist.monitor.monitor) decide when a condition starts and ends; this module
decides what that means for the alarms shown and recorded (the Monitor's rules 4 and 5:
escalation during low SpO2 and during an overdose response, the pause, latching) and reports
each change as a typed record (oxi_assist.monitor.changes). Acknowledge, pause and latching
only change what is shown, never the recorded condition.
"""

from __future__ import annotations

from dataclasses import replace

from oxi_assist.monitor.alarm_config import (
    ESCALATING,
    RESPONSE_ESCALATING,
    SPO2_ALARMS,
    AlarmConfig,
)
from oxi_assist.monitor.changes import AlarmChange, AlarmState, Change, PauseChange, PauseState
from oxi_assist.monitor.priority import Priority
from oxi_assist.monitor.records import AlarmRecord
from oxi_assist.monitor.vitals import Alarm


class AlarmBook:
    """Alarm conditions as they stand and as they were. `history` holds every condition in
    the order raised (a record is replaced when it ends or is raised to high); `changes` what
    changed since the owner last called `begin`; `now` the owner's clock, for the changes that
    have no time of their own."""

    def __init__(self, config: AlarmConfig) -> None:
        self.config = config
        self._rules = config.rules
        self.history: list[AlarmRecord] = []
        self.changes: list[Change] = []
        self.now: float | None = None
        self.open: dict[str, int] = {}  # the open conditions: kind -> index in `history`
        self._spo2_recs: dict[str, list[int]] = {k: [] for k in SPO2_ALARMS}
        self._active: dict[str, Alarm] = {}
        self._latched: dict[str, Alarm] = {}
        self.alarms: tuple[Alarm, ...] = ()  # active and latched, highest priority first
        self.paused_until: float | None = None
        self._pause_prio = 0
        # the overdose response (rule 5): since when it is active, and every span so far
        self._response_since: float | None = None
        self.response_spans: list[tuple[float, float | None]] = []

    def begin(self) -> None:
        """A new update: what changes from here on is reported with it."""
        self.changes = []

    def _t_now(self, fallback: float) -> float:
        return self.now if self.now is not None else fallback

    # ------------------------------------------------------------------ conditions

    def raise_(self, kind: str, onset: float, t: float) -> None:
        """The condition `kind` began at `onset` and is raised at `t` (if enabled, not open)."""
        rule = self._rules[kind]
        if not rule.enabled or kind in self.open:
            return
        prio = rule.priority
        if prio < Priority.HIGH and kind in ESCALATING and self._during_low_spo2(t):
            prio = Priority.HIGH
        if prio < Priority.HIGH and kind in RESPONSE_ESCALATING and \
                self._response_since is not None and self.config.response_escalates:
            prio = Priority.HIGH
        self.open[kind] = len(self.history)
        if kind in self._spo2_recs:
            self._spo2_recs[kind].append(len(self.history))
        self.history.append(AlarmRecord(kind, prio, rule.technical, onset, t))
        self._latched.pop(kind, None)
        a = Alarm(kind=kind, priority=prio, message=rule.message, since=onset,
                  technical=rule.technical)
        self._active[kind] = a
        self.changes.append(_change(a, AlarmState.RAISED, t, onset))
        self._break_pause(prio)
        self._rebuild()

    def clear(self, kind: str, t: float) -> None:
        """The condition `kind` ended at `t` (nothing when it is not open)."""
        i = self.open.pop(kind, None)
        if i is None:
            return
        self.history[i] = replace(self.history[i], end=t)
        a = self._active.pop(kind)
        if self._rules[kind].latching and not a.acknowledged:
            self._latched[kind] = replace(a, latched=True)
        self.changes.append(_change(a, AlarmState.CLEARED, t))
        self._rebuild()

    def _during_low_spo2(self, t: float) -> bool:
        """An SpO2 alarm raised before `t` is active, or ended within the escalation window.
        Per kind the latest such alarm ends last (they never overlap), so it decides."""
        w = self.config.escalate_within_s
        if w <= 0:
            return False
        h = self.history
        for idx in self._spo2_recs.values():
            for i in reversed(idx):
                rec = h[i]
                if rec.start < t:
                    if rec.end is None or rec.end >= t - w:
                        return True
                    break
        return False

    # ------------------------------------------------------------------ what is shown

    def acknowledge(self, now: float, kind: str | None = None) -> None:
        """Silences active alarms (one kind or all) and removes acknowledged latched ones."""
        for k, a in list(self._active.items()):
            if (kind is None or k == kind) and not a.acknowledged:
                self._active[k] = replace(a, acknowledged=True)
                self.changes.append(_change(a, AlarmState.ACKNOWLEDGED, now))
        for k in list(self._latched):
            if kind is None or k == kind:
                a = self._latched.pop(k)
                self.changes.append(_change(a, AlarmState.ACKNOWLEDGED, now))
        self._rebuild()

    def pause(self, until: float, now: float) -> None:
        """Pauses alarm signals until `until`; a new higher-priority alarm breaks through.
        With nothing active, a pause holds back medium and low alarms only."""
        self.paused_until = until
        prios = [int(a.priority) for a in self._active.values()]
        self._pause_prio = max(prios) if prios else int(Priority.MEDIUM)
        self.changes.append(PauseChange(PauseState.PAUSED, now))

    def end_pause_if_due(self) -> None:
        pu = self.paused_until
        if pu is not None and self.now is not None and self.now >= pu:
            self.paused_until = None
            self.changes.append(PauseChange(PauseState.ENDED, self.now))

    def _break_pause(self, prio: Priority) -> None:
        if self.paused_until is not None and int(prio) > self._pause_prio:
            self.paused_until = None
            self.changes.append(PauseChange(PauseState.BROKEN, self._t_now(0.0)))

    def _rebuild(self) -> None:
        al = list(self._active.values()) + list(self._latched.values())
        al.sort(key=lambda a: (-int(a.priority), a.latched, a.acknowledged, a.since))
        self.alarms = tuple(al)

    # ------------------------------------------------------------------ the response

    @property
    def response_active(self) -> bool:
        return self._response_since is not None

    def set_response_active(self, now: float, active: bool) -> None:
        """Rule 5: while a response is active, low SpO2 and "no reading" alarms are high; one
        already active when it begins is raised to high there."""
        if active and self._response_since is None:
            self._response_since = now
            if self.config.response_escalates:
                for kind, i in list(self.open.items()):
                    if kind in RESPONSE_ESCALATING and self.history[i].priority < Priority.HIGH:
                        self._escalate(kind, i, now)
        elif not active and self._response_since is not None:
            self.response_spans.append((self._response_since, now))
            self._response_since = None

    def responses(self) -> list[tuple[float, float | None]]:
        """Every response span so far (the last one open, end None, while it lasts)."""
        spans = list(self.response_spans)
        if self._response_since is not None:
            spans.append((self._response_since, None))
        return spans

    def _escalate(self, kind: str, i: int, now: float) -> None:
        self.history[i] = replace(self.history[i], priority=Priority.HIGH)
        a = replace(self._active[kind], priority=Priority.HIGH, acknowledged=False)
        self._active[kind] = a
        self.changes.append(_change(a, AlarmState.ESCALATED, now))
        self._break_pause(Priority.HIGH)
        self._rebuild()


def _change(a: Alarm, state: AlarmState, t: float, onset: float | None = None) -> AlarmChange:
    return AlarmChange(a.kind, state, t, a.priority, a.message, a.technical, onset)
