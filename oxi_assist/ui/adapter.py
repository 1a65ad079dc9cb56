"""Builds the screen's `ScreenModel` from a live `Session` (and its guide state).

This is the one module that knows both the session's attributes and the widgets' needs; it runs
at the redraw rate (≤ 10 Hz), never per sample, and copies only what is drawn. Which keys are
offered, with which words, comes from the action table (oxi_assist.actions): the guide says
which actions its step suggests, the table says how they are pressed and named.
"""

from __future__ import annotations

import math
from typing import Any

from drivers.reading import LinkState, PatientStatus, Trainable
from oxi_assist.actions import ACTIONS, KEYS, Action, KeyBinding, key_for
from oxi_assist.guide.breathing import CountState
from oxi_assist.guide.state import GuideState, Prompt, StepView, TimerState, origin_label
from oxi_assist.ui.model import (
    GuideLine,
    GuideView,
    KeyView,
    LogLineView,
    NoteView,
    PromptView,
    ScreenModel,
    TimerView,
    Tone,
    TrainerView,
)

METRONOME_ID = "metronome"

#: The keys offered on every screen, whatever the step: those of the core actions (911,
#: breaths, CPR, naloxone), in the table's order.
CORE_KEYS: tuple[KeyBinding, ...] = tuple(
    kb for kb in KEYS if any(ACTIONS[a].core for a in kb.actions))


def toggle_on(kb: KeyBinding, session: Any) -> bool:
    """Whether a toggle key's thing (breaths, CPR) is on now: its next press sends "off".

    Both follow the guide, which keeps them (it also stops breaths when the person wakes);
    with no guide, the responder's last press of the key decides."""
    if not kb.toggle:
        return False
    on, off = kb.actions
    st = session.guide_state
    if st is not None:
        if on is Action.BREATHS_START:
            return bool(st.breaths_on)
        if on is Action.COMPRESSIONS_START:
            return bool(st.compressions_on)
    for rec in reversed(session.actions):
        if rec.name in (on.value, off.value):
            return rec.name == on.value
    return False


def key_action(kb: KeyBinding, session: Any) -> Action:
    """The action a press of `kb` sends now (a toggle sends "off" when its thing is on)."""
    if kb.toggle:
        return kb.actions[1] if toggle_on(kb, session) else kb.actions[0]
    return kb.actions[0]


def _key_view(kb: KeyBinding, session: Any, urgent: bool = False, hint: str = "") -> KeyView:
    if kb.toggle:
        label = ACTIONS[key_action(kb, session)].label
        return KeyView(kb.id, kb.shown, label, label, core=True, urgent=urgent, hint=hint)
    core = any(ACTIONS[a].core for a in kb.actions)
    return KeyView(kb.id, kb.shown, kb.label, kb.short, core=core, urgent=urgent, hint=hint)


def key_views(st: GuideState | None, session: Any) -> tuple[KeyView, ...]:
    """The core keys, then the keys of what the step offers (its recommended move first)."""
    out = [_key_view(kb, session) for kb in CORE_KEYS]
    seen = {kb.id for kb in CORE_KEYS}
    if st is None:
        return tuple(out)
    for oa in sorted(st.offered, key=lambda o: (not o.primary, not o.safety)):
        kb = key_for(oa.action, oa.params_dict)
        if kb is None:
            continue
        if kb.id in seen:
            if oa.primary:  # a core key the step recommends: drawn as the next move
                out = [KeyView(k.key_id, k.shown, k.label, k.short, k.core, True, k.hint)
                       if k.key_id == kb.id else k for k in out]
            continue
        seen.add(kb.id)
        out.append(_key_view(kb, session, urgent=oa.primary, hint=oa.hint))
    return tuple(out)


def all_key_views(session: Any) -> tuple[KeyView, ...]:
    """Every responder key, in the table's order (the sheet of every action)."""
    return tuple(_key_view(kb, session) for kb in KEYS)


def _tone(p: Prompt) -> Tone:
    if p.kind == "warning":
        return Tone.WARNING
    if p.reassuring or p.kind == "reassurance":
        return Tone.REASSURANCE
    return Tone.INSTRUCTION


def prompt_views(st: GuideState) -> tuple[PromptView, ...]:
    """Warnings, then instructions, then reassurance, each by priority: a reassuring line is
    never drawn above an instruction."""
    prompts = [*st.warnings, *st.suggestions]
    order = {Tone.WARNING: 0, Tone.INSTRUCTION: 1, Tone.REASSURANCE: 2}
    views = [(order[_tone(p)], -p.priority, i, p) for i, p in enumerate(prompts)]
    return tuple(PromptView(p.text, origin_label(p.sources), _tone(p))
                 for _, _, _, p in sorted(views, key=lambda v: v[:3]))


def _lines(view: StepView) -> tuple[GuideLine, ...]:
    per_line = view.line_sources or ((),) * len(view.lines)
    return tuple(GuideLine(text, origin_label(srcs))
                 for text, srcs in zip(view.lines, per_line, strict=False))


def note_view(view: StepView) -> NoteView:
    return NoteView(view.title, _lines(view))


def handout(st: GuideState) -> tuple[NoteView, ...]:
    """The oximeter handout: the guide's whole handout when it offers one, else the current
    step's reference notes."""
    notes = st.handout or st.notes
    return tuple(note_view(n) for n in notes)


def start_cue(st: GuideState | None) -> NoteView | None:
    """The placement cue for the start of a session: the guide's own when it names one, else
    the first reference note of the step the session starts on."""
    if st is None:
        return None
    cue = st.start_cue
    if cue is not None:
        return note_view(cue)
    return note_view(st.notes[0]) if st.notes else None


def guide_view(st: GuideState | None, session: Any, cue: NoteView | None = None) -> GuideView:
    if st is None:
        return GuideView(title="No guidance loaded", keys=key_views(None, session))
    timers: list[TimerView] = []
    due_in: float | None = None
    for tm in st.timers:
        if tm.id == METRONOME_ID:
            if tm.interval and tm.phase is not None:
                due_in = max(0.0, (1.0 - tm.phase) * tm.interval)
            continue
        timers.append(_timer_view(tm))
    return GuideView(
        step=st.step.id, title=st.step.title, origin=origin_label(st.step.sources),
        lines=_lines(st.step), prompts=prompt_views(st), keys=key_views(st, session),
        timers=tuple(timers), breaths_on=st.breaths_on, breath_due_in=due_in, doses=st.doses,
        handout=handout(st), cue=cue,
    )


def _timer_view(tm: TimerState) -> TimerView:
    if tm.remaining is not None:
        return TimerView(tm.label, tm.remaining, countdown=True, urgent=tm.due, note=tm.message)
    return TimerView(tm.label, tm.elapsed, countdown=False, urgent=tm.due, note=tm.message)


def trainer_view(source: Any, scenario: str) -> TrainerView | None:
    if not isinstance(source, Trainable):
        return None
    status = source.patient_status() if isinstance(source, PatientStatus) else ""
    return TrainerView(paused=bool(source.paused), speed=float(source.speed),
                       scenario=scenario, status=status)


def from_session(session: Any, *, simulated: bool = False, replay: bool = False,
                 source: Any = None, scenario: str = "", pleth_seconds: float = 4.0,
                 trend_window: float = 300.0, cue: NoteView | None = None,
                 show_cue: bool = False) -> ScreenModel:
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
    log = tuple(LogLineView(ln.t, ln.text, str(ln.kind)) for ln in session.log.tail(60))
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
        alarm=alarm, alarm_paused_for=paused_for, guide=guide_view(st, session, cue), log=log,
        trainer=trainer_view(source, scenario) if simulated else None, ended=ended,
        response_active=bool(session.response_active), show_cue=show_cue and cue is not None,
    )
