"""Builds the screen's `ScreenModel` from a live `Session` (and its guide state).

This is the one module that knows both the session's attributes and the widgets' needs; it runs
at the redraw rate (≤ 10 Hz), never per sample, and copies only what is drawn.
"""

from __future__ import annotations

import math
from typing import Any

from drivers.reading import LinkState, Status
from oxi_assist.actions import Action
from oxi_assist.breathing import CountState
from oxi_assist.guide_state import GuideState, TimerState
from oxi_assist.ui.model import (
    ActionHint,
    GuideView,
    LogLine,
    ScreenModel,
    TimerView,
    TrainerView,
)

#: One key per responder action (see the help screen and the README).
ACTION_KEYS: dict[Action, str] = {
    Action.CALLED_911: "9",
    Action.BREATHS_START: "b",
    Action.BREATHS_STOP: "b",
    Action.NALOXONE: "n",
    Action.BREATH_TAP: "space",
    Action.BREATHING_NORMAL: "y",
    Action.BREATHING_NOT_NORMAL: "u",
    Action.AWAKE: "a",
    Action.RECOVERY_POSITION: "r",
    Action.EMS_ARRIVED: "e",
    Action.OXYGEN: "o",
    Action.RESPONSIVE: "w",
    Action.UNRESPONSIVE: "x",
}

METRONOME_ID = "metronome"


def guide_view(st: GuideState | None, now_rel: float) -> GuideView:
    if st is None:
        return GuideView(title="No guidance loaded")
    actions: list[ActionHint] = []
    seen: set[str] = set()
    for oa in sorted(st.offered, key=lambda o: (not o.primary, not o.safety)):
        key = ACTION_KEYS.get(oa.action)
        if key is None or key in seen:
            continue
        seen.add(key)
        label = oa.label + (f" ({oa.hint})" if oa.hint else "")
        actions.append(ActionHint("␣" if key == "space" else key, label, urgent=oa.primary))
    prompts = tuple(p.text for p in sorted(st.warnings, key=lambda p: -p.priority)) + \
        tuple(p.text for p in sorted(st.suggestions, key=lambda p: -p.priority))
    timers: list[TimerView] = []
    due_in: float | None = None
    for tm in st.timers:
        if tm.id == METRONOME_ID:
            if tm.interval and tm.phase is not None:
                due_in = max(0.0, (1.0 - tm.phase) * tm.interval)
            continue
        timers.append(_timer_view(tm))
    labels = " + ".join(st.step.labels)
    return GuideView(
        step=st.step.id, title=st.step.title, text="\n".join(st.step.lines),
        prompts=prompts, actions=tuple(actions), timers=tuple(timers),
        breaths_on=st.breaths_on, breath_due_in=due_in, doses=st.doses, source=labels,
    )


def _timer_view(tm: TimerState) -> TimerView:
    if tm.remaining is not None:
        return TimerView(tm.label, tm.remaining, countdown=True, urgent=tm.due, note=tm.message)
    return TimerView(tm.label, tm.elapsed, countdown=False, urgent=tm.due, note=tm.message)


def trainer_view(source: Any, scenario: str) -> TrainerView | None:
    if source is None or not callable(getattr(source, "inject", None)):
        return None
    speed = getattr(source, "speed", 1.0)
    paused = getattr(source, "paused", False)
    return TrainerView(paused=bool(paused() if callable(paused) else paused),
                       speed=float(speed() if callable(speed) else speed), scenario=scenario)


def from_session(session: Any, *, simulated: bool = False, replay: bool = False,
                 source: Any = None, scenario: str = "", pleth_seconds: float = 4.0,
                 trend_window: float = 300.0) -> ScreenModel:
    now = session.elapsed()
    st: GuideState | None = session.guide_state
    v = session.vitals
    ts, spo2, _pulse, _raw = session.trend.arrays(trend_window)
    trend_t = ts.tolist()
    trend_v = [None if math.isnan(x) else x for x in spo2.tolist()]
    pleth: list[float] = []
    if len(session.pleth):
        _pt, pv = session.pleth.arrays(pleth_seconds)
        pleth = [x for x in pv.tolist() if not math.isnan(x)]
        if pleth and _pt[-1] < now - 2.0:
            pleth = []  # an old trace is not today's pulse
    alarm = v.top_alarm if v is not None else None
    paused_for = None
    if v is not None and v.paused_until is not None:
        left = v.paused_until - session.now()
        paused_for = left if left > 0 else None
    breath_rate = None
    breath_text = ""
    if st is not None:
        bc = st.breathing
        breath_rate = bc.per_min if bc.state is CountState.READY else None
        breath_text = bc.text
    log = tuple(LogLine(ln.t, ln.text, ln.kind) for ln in list(session.log)[-40:])
    ended = bool(session.closed or (st is not None and st.ended))
    return ScreenModel(
        elapsed=now, source_label=session.source_label, device=session.device,
        link=(session.link or LinkState.CONNECTING) if session.source_label else None,
        link_reason=session.link_reason,
        simulated=simulated, replay=replay,
        recording=str(session.recording_path) if session.recording_path else None,
        recording_error=str(getattr(session, "record_error", "") or ""),
        vitals=v, breath_rate=breath_rate, breath_text=breath_text,
        trend_t=trend_t, trend_spo2=trend_v, trend_window=trend_window, pleth=pleth,
        alarm=alarm, alarm_paused_for=paused_for, guide=guide_view(st, now), log=log,
        trainer=trainer_view(source, scenario) if simulated else None, ended=ended,
    )


def doubtful(model: ScreenModel) -> bool:
    v = model.vitals
    return v is None or bool(v.flags & (Status.LOW_PERFUSION | Status.MOTION
                                        | Status.POOR_SIGNAL | Status.FINGER_OUT))
