"""The guidance engine: walks a responder through a guidance protocol (guidance/*.toml).

It takes three kinds of input: `VitalsState` updates from the Monitor, responder actions (key
presses, or a script in a walkthrough) and clock ticks, and produces a `GuideState` for the
screen and a timestamped event log for the recorder.

Whatever a guidance file says, the engine keeps these safety rules (DOMAIN.md §1):
- calling 911, giving breaths and giving naloxone are offered in every step until the end;
- a poor, missing or stale signal never yields a reassuring prompt, and always a warning to
  check the person directly;
- once the responder has said the person breathes normally, more naloxone is not suggested
  unless SpO2 is below 90 % (the prolonged-sedation branch: do not chase wakefulness);
- any action in any state is accepted: nonsense is logged and ignored, never raised.

Public types (re-exported here for the UI and the recorder): `GuideState`, `StepView`,
`OfferedAction`, `Prompt`, `TimerState`, `LogEntry`, `SourceRef`, `BreathCount`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

from drivers.errors import OxiError
from oxi_assist.actions import Action, parse_action
from oxi_assist.breathing import BreathCount, BreathCounter, CountState
from oxi_assist.guidance_schema import (
    Facts,
    Line,
    PromptDef,
    Protocol,
    StepDef,
    Transition,
)
from oxi_assist.guidance_schema import load as load_guidance
from oxi_assist.guide_state import (
    GuideState,
    LogEntry,
    OfferedAction,
    Prompt,
    SourceRef,
    StepView,
    TimerState,
)
from oxi_assist.guide_timers import Timers
from oxi_assist.vitals import Quality, VitalsState

__all__ = [
    "BreathCount",
    "CountState",
    "Guide",
    "GuideState",
    "LogEntry",
    "OfferedAction",
    "Prompt",
    "SourceRef",
    "StepView",
    "TimerState",
]

#: Offered in every step whether or not a guidance file lists them (DOMAIN §1 rule 1).
_SAFETY_LABELS = {
    Action.CALLED_911: "Called 911",
    Action.BREATHS_START: "Started breaths",
    Action.BREATHS_STOP: "Stopped breaths",
    Action.NALOXONE: "Gave naloxone",
}
_APP = SourceRef("app", "app-defined", "", "Chosen by oxi-assist, not BC guidance")
#: Used only when a guidance file has no warning of its own for a bad signal.
_FALLBACK_WARNING = Prompt("signal-check-person",
                           "No good reading. Check their breathing directly, not the screen.",
                           "warning", (_APP,), "check", False, 3)
_ROUTES = ("im", "nasal")
#: A prompt that comes back within this many seconds of going away is not logged again, so an
#: SpO2 hovering at a threshold does not fill the recorded timeline [app-defined].
LOG_REPEAT_S = 30.0
#: guide seconds between rule runs while the vitals keep their band, signal, link, staleness
#: and alarms (a device sends up to 100 updates a second); any change there runs them at once
VITALS_REFRESH_S = 0.25

TimeSource = Callable[[], float]


def _time_source(clock: Any) -> TimeSource | None:
    if clock is None:
        return None
    if hasattr(clock, "now"):
        return clock.now  # type: ignore[no-any-return]
    if callable(clock):
        return clock  # type: ignore[no-any-return]
    raise TypeError("clock must be a Clock, a function returning seconds, or None")


class Guide:
    """Walks through `protocol`. Time comes from `clock` (a Clock or a function returning
    seconds) whenever a call gives no explicit `t`."""

    def __init__(self, protocol: Protocol | str | Path, clock: Any = None, *,
                 counter: BreathCounter | None = None) -> None:
        if not isinstance(protocol, Protocol):
            protocol = load_guidance(protocol)
        self.protocol = protocol
        self._now = _time_source(clock)
        self._t = self._now() if self._now else 0.0
        self._step = protocol.step(protocol.start)
        self._step_since = self._t
        self._vitals: VitalsState | None = None
        self._counter = counter or BreathCounter()
        self._timers = Timers(protocol.timers)
        self._log: list[LogEntry] = []
        self._breaths_on = False
        self._called_911 = False
        self._t_911: float | None = None
        self._doses: list[tuple[float, str]] = []
        self._breathing = "unknown"
        self._awake = False
        self._oxygen = False
        self._ended = False
        self._prompt_ids: set[str] = set()
        self._prompt_seen: dict[str, float] = {}  # prompt id → last time it was active
        self._alarm_kinds: set[str] = set()
        self._fired: set[tuple[str, int]] = set()
        self._count_state = CountState.IDLE
        self._suggestions: tuple[Prompt, ...] = ()
        self._warnings: tuple[Prompt, ...] = ()
        self._state: GuideState | None = None
        self._ref_cache: dict[tuple[str, ...], tuple[SourceRef, ...]] = {}
        self._view_cache: dict[tuple[str, str], StepView] = {}
        self._facts_now: Facts | None = None
        self._dirty = False  # vitals taken but the rules not yet run on them
        self._refreshed_at = -math.inf
        self._vkey: tuple[Any, ...] | None = None
        self._entry(self._t, "step", self._step_text(self._step))
        self._refresh()

    # ------------------------------------------------------------ inputs

    def on_vitals(self, v: VitalsState, t: float | None = None) -> GuideState:
        """A Monitor update. Alarms that start are logged; prompts follow the new values."""
        self.take_vitals(v, t)
        return self.state

    def take_vitals(self, v: VitalsState, t: float | None = None) -> None:
        """`on_vitals` without building the state, for a live stream.

        Re-running every rule and rebuilding the state for each of 100 updates a second was
        most of a long session's cost. Alarms are logged at once; the rules run at once when
        the band, the signal, the link, staleness or the set of alarms changes, otherwise at
        most every `VITALS_REFRESH_S` of guide time, and always before `state` or `log` is read.
        """
        if not isinstance(v, VitalsState):
            self._entry(self._t, "ignored", f"not a vitals update: {type(v).__name__}")
            self._refresh()
            return
        self._advance(t if t is not None else (self._now() if self._now else v.t))
        self._vitals = v
        kinds = {a.kind for a in v.alarms}
        for a in v.alarms:
            if a.kind not in self._alarm_kinds:
                self._entry(self._t, "alarm", f"{a.priority.label}: {a.message}")
        self._alarm_kinds = kinds
        if self._vitals_key() != self._vkey or self._t - self._refreshed_at >= VITALS_REFRESH_S:
            self._refresh()
        else:
            self._dirty = True
            self._state = None

    def tick(self, t: float | None = None) -> GuideState:
        """Time passes: timers run, their alerts come due."""
        self._advance(t)
        self._refresh()
        return self.state

    def on_action(self, action: Action | str, t: float | None = None,
                  **params: Any) -> GuideState:
        """The responder says something happened. Never raises for bad input."""
        self._advance(t)
        act = self._coerce(action)
        if act is None:
            self._refresh()
            return self.state
        if self._ended:
            self._entry(self._t, "ignored", f"{act.value} after the end of the response")
            self._refresh()
            return self.state
        if not self._apply(act, {str(k): v for k, v in params.items()}):
            self._refresh()
            return self.state
        for run in self._timers.on_action(act, self._t, len(self._doses)):
            if run.spec.kind == "since" and run.spec.per_start:
                self._entry(self._t, "timer", f"started: {run.label()}")
        if not self._breaths_on:
            self._timers.stop_kind("metronome")
        self._move(act)
        if act is Action.END:
            self._ended = True
        self._refresh()
        return self.state

    @property
    def state(self) -> GuideState:
        if self._dirty:
            self._refresh()
        if self._state is None:
            self._state = self._build()
        return self._state

    @property
    def log(self) -> tuple[LogEntry, ...]:
        if self._dirty:
            self._refresh()
        return tuple(self._log)

    # ------------------------------------------------------------ actions

    def _coerce(self, action: Action | str) -> Action | None:
        if isinstance(action, Action):
            return action
        if isinstance(action, str):
            try:
                return parse_action(action)
            except OxiError:
                pass
        self._entry(self._t, "ignored", f"unknown action {action!r}")
        return None

    def _apply(self, act: Action, params: dict[str, Any]) -> bool:
        """Records what the action means; False when it makes no sense here (then ignored)."""
        t = self._t
        if act is Action.BREATH_TAP:
            self._counter.tap(t)
            return True
        if act is Action.BREATHS_STOP and not self._breaths_on:
            self._entry(t, "ignored", "stopped breaths, but breaths were not on")
            return False
        text = act.value
        if act is Action.CALLED_911:
            if self._called_911:
                text = "911 called again"
            else:
                self._called_911, self._t_911 = True, t
                text = "911 called"
        elif act is Action.BREATHS_START:
            text = "breaths started" if not self._breaths_on else "breaths (already on)"
            self._breaths_on = True
        elif act is Action.BREATHS_STOP:
            self._breaths_on = False
            text = "breaths stopped"
        elif act is Action.NALOXONE:
            text = self._naloxone(params)
        elif act is Action.BREATHING_NORMAL:
            self._breathing = "normal"
            text = "breathing normally" + self._rate_note()
        elif act is Action.BREATHING_NOT_NORMAL:
            self._breathing = "not_normal"
            text = "not breathing normally" + self._rate_note()
        elif act is Action.AWAKE:
            self._awake = True
            self._breaths_on = False
            text = "awake"
        elif act is Action.RESPONSIVE:
            text = "responds to stimulation"
        elif act is Action.UNRESPONSIVE:
            self._awake = False
            text = "no response to stimulation"
        elif act is Action.RECOVERY_POSITION:
            text = "recovery position"
        elif act is Action.OXYGEN:
            self._oxygen = True
            text = "oxygen on"
        elif act is Action.EMS_ARRIVED:
            text = "EMS arrived"
        elif act is Action.END:
            text = "response ended"
        self._entry(t, "action", text)
        return True

    def _naloxone(self, params: dict[str, Any]) -> str:
        n = len(self._doses) + 1
        route = str(params.get("route", "im")).strip().lower()
        if route not in _ROUTES:
            self._entry(self._t, "ignored", f"naloxone route {params.get('route')!r} "
                                            f"(not im or nasal): dose counted as im")
            route = "im"
        if "dose" in params and str(params["dose"]).strip() != str(n):
            self._entry(self._t, "info", f"naloxone dose given as {params['dose']!r}; "
                                         f"counted as dose {n}")
        self._doses.append((self._t, route))
        return f"naloxone dose {n} ({'injection' if route == 'im' else 'nasal'})"

    def _rate_note(self) -> str:
        c = self._counter.count(self._t)
        return f" (counted {c.per_min:.0f}/min)" if c.per_min is not None else ""

    def _move(self, act: Action) -> None:
        facts = self._facts()
        chosen: Transition | None = None
        for tr in (*self._step.next, *self.protocol.on):
            if tr.action is act and tr.when.holds(facts):
                chosen = tr
                break
        if chosen is None or chosen.goto is None or chosen.goto == self._step.id:
            return
        self._step = self.protocol.step(chosen.goto)
        self._step_since = self._t
        self._entry(self._t, "step", self._step_text(self._step))

    # ------------------------------------------------------------ time

    def _advance(self, t: float | None) -> None:
        if t is None:
            t = self._now() if self._now else self._t
        try:
            tf = float(t)
        except (TypeError, ValueError):
            self._entry(self._t, "ignored", f"bad time {t!r}")
            return
        if math.isnan(tf) or math.isinf(tf):
            self._entry(self._t, "ignored", f"bad time {t!r}")
            return
        self._t = max(self._t, tf)  # time never runs backwards inside the guide

    # ------------------------------------------------------------ derived state

    def _signal(self) -> str:
        v = self._vitals
        if v is None or v.stale or v.quality is Quality.NONE or v.spo2 is None:
            return "none"
        if v.link.value != "connected":
            return "none"
        return "poor" if v.quality is Quality.POOR else "good"

    def _facts(self) -> Facts:
        v = self._vitals
        signal = self._signal()
        spo2 = v.spo2 if (v is not None and signal != "none") else None
        pulse = v.pulse if (v is not None and signal != "none") else None
        count = self._counter.count(self._t)
        last_dose = self._doses[-1][0] if self._doses else None
        return Facts(
            spo2=spo2,
            spo2_trusted=signal == "good",
            pulse=pulse,
            signal=signal,
            band=v.band.value if (v is not None and signal != "none") else "unknown",
            breathing=self._breathing,
            breath_rate=count.per_min if count.state is CountState.READY else None,
            breaths_on=self._breaths_on,
            called_911=self._called_911,
            awake=self._awake,
            oxygen=self._oxygen,
            doses=len(self._doses),
            minutes_since_naloxone=(self._t - last_dose) / 60 if last_dose is not None else None,
            minutes_since_911=(self._t - self._t_911) / 60 if self._t_911 is not None else None,
            minutes_in_step=max(0.0, self._t - self._step_since) / 60,
        )

    def _allowed(self, p: Prompt, facts: Facts) -> bool:
        """The engine's safety rules over whatever a guidance file asks for."""
        if p.reassuring and (facts.signal != "good" or facts.breathing == "not_normal"
                             or (facts.breath_rate is not None and facts.breath_rate < 10)):
            return False
        low = facts.spo2 is not None and facts.spo2 < 90
        return not (p.suggests == "naloxone" and facts.breathing == "normal" and not low)

    def _prompt(self, d: PromptDef) -> Prompt:
        return Prompt(d.id, d.text, d.kind, self._refs(d.sources), d.suggests, d.reassuring,
                      d.priority)

    def _vitals_key(self) -> tuple[Any, ...]:
        v = self._vitals
        if v is None:
            return ()
        return (self._signal(), v.band, v.link, v.stale, frozenset(self._alarm_kinds))

    def _refresh(self) -> None:
        self._state = None
        self._dirty = False
        self._refreshed_at = self._t
        self._vkey = self._vitals_key()
        self._facts_now = facts = self._facts()
        if self._ended:
            self._suggestions, self._warnings = (), ()
            return
        active: list[Prompt] = []
        for d in (*self.protocol.prompts, *self._step.prompts):
            if d.when.holds(facts):
                active.append(self._prompt(d))
        for run in self._timers.runs:
            if run.spec.kind != "since":
                continue
            if run.spec.per_start and run is not self._timers.latest(run.spec.id):
                continue  # only the latest dose's timer prompts
            hit = run.alert(self._t, facts)
            if hit is None:
                continue
            i, a = hit
            p = Prompt(f"{run.key}:{int(a.at_s)}", run.text(a), a.kind, self._refs(a.sources),
                       a.suggests, False, a.priority)
            if self._allowed(p, facts) and (run.key, i) not in self._fired:
                self._fired.add((run.key, i))
                self._entry(self._t, "timer", p.text)
            active.append(p)
        active = [p for p in active if self._allowed(p, facts)]
        warnings = [p for p in active if p.kind == "warning"]
        if facts.signal != "good" and not warnings:
            warnings.append(_FALLBACK_WARNING)
        suggestions = [p for p in active if p.kind != "warning"]
        suggestions.sort(key=lambda p: -p.priority)
        warnings.sort(key=lambda p: -p.priority)
        ids = {p.id for p in (*warnings, *suggestions)}
        for p in (*warnings, *suggestions):
            quiet = self._t - self._prompt_seen.get(p.id, -math.inf) <= LOG_REPEAT_S
            if p.id not in self._prompt_ids and ":" not in p.id and not quiet:
                self._entry(self._t, "warning" if p.kind == "warning" else "prompt", p.text)
        for pid in self._prompt_ids | ids:
            self._prompt_seen[pid] = self._t
        self._prompt_ids = ids
        count = self._counter.count(self._t)
        if count.state is not self._count_state:
            if count.state is CountState.READY:
                self._entry(self._t, "info", f"breathing counted: {count.text}")
            elif count.state is CountState.STALE:
                self._entry(self._t, "info", "breathing count: no tap for a while")
            self._count_state = count.state
        self._suggestions, self._warnings = tuple(suggestions), tuple(warnings)

    def _refs(self, ids: tuple[str, ...]) -> tuple[SourceRef, ...]:
        hit = self._ref_cache.get(ids)
        if hit is not None:
            return hit
        out = []
        for i in ids:
            s = self.protocol.sources.get(i)
            if s is not None:
                out.append(SourceRef(s.id, s.label, s.url, s.title))
        self._ref_cache[ids] = tuple(out)
        return self._ref_cache[ids]

    def _view(self, ident: str, title: str, lines: tuple[Line, ...]) -> StepView:
        key = (ident, title)
        hit = self._view_cache.get(key)
        if hit is not None:
            return hit
        per_line = tuple(self._refs(ln.sources) for ln in lines)
        distinct = tuple(dict.fromkeys(r for refs in per_line for r in refs))
        view = StepView(ident, title, tuple(ln.text for ln in lines), distinct, per_line)
        self._view_cache[key] = view
        return view

    def _offered(self) -> tuple[OfferedAction, ...]:
        if self._ended:
            return ()
        facts = self._facts_now or self._facts()
        out: list[OfferedAction] = []
        seen: set[tuple[Action, tuple[tuple[str, str], ...]]] = set()
        safety = {Action.CALLED_911, Action.NALOXONE,
                  Action.BREATHS_STOP if self._breaths_on else Action.BREATHS_START}
        hidden = {Action.BREATHS_START} if self._breaths_on else {Action.BREATHS_STOP}
        for tr in (*self._step.next, *self.protocol.on):
            if tr.action in hidden or not tr.when.holds(facts):
                continue
            key = (tr.action, tr.params)
            if key in seen:
                continue
            seen.add(key)
            out.append(OfferedAction(tr.action, tr.label, self._params(tr), tr.primary,
                                     tr.action in safety))
        present = {o.action for o in out}
        for act in (Action.CALLED_911, Action.BREATHS_START, Action.BREATHS_STOP,
                    Action.NALOXONE):
            if act in safety and act not in present:
                params = (("dose", str(len(self._doses) + 1)), ("route", "im")) \
                    if act is Action.NALOXONE else ()
                out.append(OfferedAction(act, _SAFETY_LABELS[act], params, False, True))
        count = self._counter.count(self._t)
        if count.normal is not None:
            answer = Action.BREATHING_NORMAL if count.normal else Action.BREATHING_NOT_NORMAL
            hint = f"counted {count.per_min:.0f}/min"
            out = [OfferedAction(o.action, o.label, o.params, o.primary, o.safety, hint)
                   if o.action is answer else o for o in out]
            if answer not in present:
                label = "Breathing normally" if count.normal else "Not breathing normally"
                out.append(OfferedAction(answer, label, (), False, False, hint))
        out.append(OfferedAction(Action.BREATH_TAP, "Tap at each breath they take"))
        return tuple(out)

    def _params(self, tr: Transition) -> tuple[tuple[str, str], ...]:
        if tr.action is not Action.NALOXONE:
            return tr.params
        extra = dict(tr.params)
        extra["dose"] = str(len(self._doses) + 1)
        extra.setdefault("route", "im")
        return tuple(sorted(extra.items()))

    def _timer_states(self) -> tuple[TimerState, ...]:
        out: list[TimerState] = []
        facts = self._facts_now or self._facts()
        for run in self._timers.runs:
            refs = self._refs(run.spec.sources)
            if run.spec.kind == "metronome":
                beat, phase = run.metronome(self._t)
                out.append(TimerState(run.key, run.label(), run.elapsed(self._t), None, False,
                                      "", refs, beat, phase, run.spec.interval_s))
                continue
            due, message = False, ""
            latest = self._timers.latest(run.spec.id)
            if not run.spec.per_start or run is latest:
                hit = run.alert(self._t, facts)
                if hit is not None:
                    p = Prompt("", run.text(hit[1]), suggests=hit[1].suggests)
                    if self._allowed(p, facts):
                        due, message = True, p.text
            out.append(TimerState(run.key, run.label(), run.elapsed(self._t),
                                  run.remaining(self._t), due, message, refs))
        return tuple(out)

    def _build(self) -> GuideState:
        s = self._step
        return GuideState(
            t=self._t,
            step=self._view(s.id, s.title, s.lines),
            offered=self._offered(),
            suggestions=self._suggestions,
            warnings=self._warnings,
            timers=self._timer_states(),
            doses=len(self._doses),
            breathing=self._counter.count(self._t),
            breathing_answer=self._breathing,
            breaths_on=self._breaths_on,
            called_911=self._called_911,
            ended=self._ended,
            notes=tuple(self._view(n.id, n.title, n.lines)
                        for n in (self.protocol.notes[i] for i in s.notes)),
            log=tuple(self._log),
            guidance_id=self.protocol.id,
            guidance_title=self.protocol.title,
        )

    # ------------------------------------------------------------ log

    def _entry(self, t: float, kind: str, text: str) -> None:
        self._log.append(LogEntry(t, kind, text))

    @staticmethod
    def _step_text(step: StepDef) -> str:
        return f"{step.id}: {step.title}"
