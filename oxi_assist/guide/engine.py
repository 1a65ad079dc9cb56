"""The guidance engine: walks a responder through a guidance protocol (guidance/*.toml).

It takes three kinds of input: `VitalsState` updates from the Monitor, responder actions (key
presses, or a script) and clock ticks, and produces a `GuideState` for the screen and a
timestamped log of its own steps, prompts, timer alerts and notes for the recorder (the
session logs the responder's actions and the alarms itself, once).

Whatever a guidance file says, the engine keeps these rules (DOMAIN.md §1; docs/SAFETY.md):
- calling 911, breaths on/off, compressions on/off and naloxone (injection and nasal) are
  offered in every state until the response ends (`guide_safety.core_offers`);
- no reading, a poor, stale or lost signal never reassures, and always shows a warning to
  check the person (`guide_safety.needs_check_warning`, the fallback warning);
- nothing pushes more naloxone while breathing is adequate, within 3 minutes of a dose, while
  the person is awake or in withdrawal, or once the kit is used up;
- nothing tells the responder to stop breaths or compressions, skip 911 or leave while the
  person does not respond or does not breathe normally.
What a prompt, line, alert, title or button does is read from its text (guidance_vocabulary)
plus what the file declares, never from a flag the file sets; every such item is tested
against the forbidden regions (`guide_safety.REGIONS`) at each update. Any action in any
state is accepted: nonsense is logged and ignored, never raised.

Public types (re-exported here for the UI and the recorder): `GuideState`, `StepView`,
`OfferedAction`, `Prompt`, `TimerState`, `LogEntry`, `SourceRef`, `BreathCount`.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

from drivers.errors import ConfigError, OxiError
from oxi_assist.actions import ACTIONS, Action, key_for, parse_action
from oxi_assist.guide import safety as safety
from oxi_assist.guide.breathing import BreathCount, BreathCounter, CountState
from oxi_assist.guide.conditions import Facts, band_of
from oxi_assist.guide.model import (
    OWN_INTENTS,
    ROUTES,
    Guidance,
    Line,
    PromptDef,
    StepDef,
    Transition,
)
from oxi_assist.guide.schema import load as load_guidance
from oxi_assist.guide.schema import protocol_problems
from oxi_assist.guide.state import (
    GuideState,
    LogEntry,
    OfferedAction,
    Prompt,
    SourceRef,
    StepView,
    TimerState,
)
from oxi_assist.guide.timers import TimerRun, Timers
from oxi_assist.guide.vocabulary import PROTECTED
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

_APP = SourceRef("app", "app-defined", "", "Chosen by oxi-assist, not BC guidance")
#: Shown when there is no good reading and the file has no warning that says to check the
#: person (rule 2: no reading is never OK).
FALLBACK_WARNING = Prompt("engine-check-person",
                          "No good reading. Check the person: look, listen and feel for "
                          "breathing. Don't go by the screen.",
                          "warning", (_APP,), frozenset({"check"}), 3)
#: Shown when 911 is not called for a person who does not respond and nothing on screen says
#: to call it.
REMINDER_911 = Prompt("engine-call-911", "911 is not called yet. Call 911 now.",
                      "warning", (_APP,), frozenset({"911"}), 3)
#: A prompt that comes back within this many seconds of going away is not logged again, so an
#: SpO2 hovering at a threshold does not fill the recorded timeline [app-defined].
LOG_REPEAT_S = 30.0
#: guide seconds between rule runs while the vitals keep their band, signal, link, staleness
#: and alarms (a device sends up to 100 updates a second); any change there runs them at once
VITALS_REFRESH_S = 0.25
#: Actions that show the person did not respond, when nobody said so: you do not breathe for,
#: dose, pump the chest of, check the pulse and breathing of or roll onto their side someone
#: who answers you. Until someone says they respond, 911 is asked for.
_IMPLY_UNRESPONSIVE = frozenset({Action.BREATHS_START, Action.NALOXONE,
                                 Action.COMPRESSIONS_START, Action.NO_PULSE, Action.PULSE,
                                 Action.BREATHING_NOT_NORMAL, Action.BREATHING_NORMAL,
                                 Action.RECOVERY_POSITION})

#: Link states in which the oximeter is gone (connecting or stale still counts as one in use).
_LINK_GONE = frozenset({"lost", "reconnecting", "closed"})

TimeSource = Callable[[], float]


def _time_source(clock: Any) -> TimeSource | None:
    if clock is None:
        return None
    if hasattr(clock, "now"):
        return clock.now  # type: ignore[no-any-return]
    if callable(clock):
        return clock  # type: ignore[no-any-return]
    raise TypeError("clock must be a Clock, a function returning seconds, or None")


@functools.lru_cache(maxsize=1024)
def _intents(text: str, declared: frozenset[str]) -> frozenset[str]:
    return safety.intents(text, declared)


def _button_label(action: Action, label: str) -> str:
    """A button names its own action only; any other instruction in a file's label is
    replaced by the action's own words."""
    extra = (_intents(label, frozenset()) & set(PROTECTED)) - OWN_INTENTS.get(action,
                                                                              frozenset())
    return ACTIONS[action].label if extra else label


@functools.lru_cache(maxsize=32)
def _core_label(action: Action, route: str) -> str:
    """The words of a core action the engine offers itself (a naloxone route: its key's)."""
    kb = key_for(action, {"route": route}) if route else None
    return kb.label if kb is not None else ACTIONS[action].label


def _duration(seconds: float) -> str:
    """"40 s", "1 min", "2 min 30 s": a time as a responder reads it."""
    s = max(0, round(seconds))
    if s < 60:
        return f"{s} s"
    return f"{s // 60} min" + (f" {s % 60} s" if s % 60 else "")


class Guide:
    """Walks through `protocol`. Time comes from `clock` (a Clock or a function returning
    seconds) whenever a call gives no explicit `t`."""

    def __init__(self, protocol: Guidance | str | Path, clock: Any = None, *,
                 counter: BreathCounter | None = None) -> None:
        if not isinstance(protocol, Guidance):
            protocol = load_guidance(protocol)
        problems = protocol_problems(protocol)
        if problems:
            raise ConfigError(f"{protocol.path or protocol.id}: {problems[0]}")
        self.protocol = protocol
        self._now = _time_source(clock)
        self._t = self._now() if self._now else 0.0
        self._step = protocol.step(protocol.start)
        self._step_since = self._t
        self._vitals: VitalsState | None = None
        self._counter = counter or BreathCounter()
        self._timers = Timers(protocol.timers)
        self._kit = dict(protocol.kit)
        self._log: list[LogEntry] = []
        self._breaths_on = False
        self._compressions_on = False
        self._called_911 = False
        self._t_911: float | None = None
        self._doses: list[tuple[float, str]] = []
        self._breathing = "unknown"
        self._responsive = "unknown"
        self._awake = False
        self._pulse_check = "unknown"
        self._oxygen = False
        self._withdrawal = False
        self._recovery = False
        self._ems = False
        self._ended = False
        self._prompt_ids: set[str] = set()
        self._prompt_seen: dict[str, float] = {}  # prompt id → last time it was active
        self._alarm_kinds: set[str] = set()
        self._fired: set[tuple[str, int]] = set()
        self._count_state = CountState.IDLE
        self._suggestions: tuple[Prompt, ...] = ()
        self._warnings: tuple[Prompt, ...] = ()
        self._lines: tuple[Line, ...] = ()
        self._state: GuideState | None = None
        self._ref_cache: dict[tuple[str, ...], tuple[SourceRef, ...]] = {}
        self._view_cache: dict[tuple[Any, ...], StepView] = {}
        self._facts_now: Facts | None = None
        self._dirty = False  # vitals taken but the rules not yet run on them
        self._refreshed_at = -math.inf
        self._vkey: tuple[Any, ...] | None = None
        self._entry(self._t, "step", self._title(self._step), self._step.id)
        self._refresh()

    # ------------------------------------------------------------ inputs

    def on_vitals(self, v: VitalsState, t: float | None = None) -> GuideState:
        """A Monitor update; prompts follow the new values."""
        self.take_vitals(v, t)
        return self.state

    def take_vitals(self, v: VitalsState, t: float | None = None) -> None:
        """`on_vitals` without building the state, for a live stream.

        The rules run at once when the band, the signal, the link, staleness or the set of
        alarms changes, otherwise at most every `VITALS_REFRESH_S` of guide time, and always
        before `state` or `log` is read.
        """
        if not isinstance(v, VitalsState):
            self._entry(self._t, "ignored", f"not a vitals update: {type(v).__name__}")
            self._refresh()
            return
        self._advance(t if t is not None else (self._now() if self._now else v.t))
        self._vitals = v
        self._alarm_kinds = {a.kind for a in v.alarms}
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
            self._entry(self._t, "ignored",
                        f"{ACTIONS[act].label} after the end of the response")
            self._refresh()
            return self.state
        if not self._apply(act, {str(k): v for k, v in params.items()}):
            self._refresh()
            return self.state
        self._timers.on_action(act, self._t, len(self._doses))
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
        if act is Action.BREATHS_STOP and not self._breaths_on:
            self._entry(t, "ignored", "breaths stopped, but breaths were not on")
            return False
        if act is Action.COMPRESSIONS_STOP and not self._compressions_on:
            self._entry(t, "ignored", "compressions stopped, but compressions were not on")
            return False
        if act in _IMPLY_UNRESPONSIVE and self._responsive == "unknown":
            self._responsive = "no"
        if act is Action.BREATH_TAP:
            self._counter.tap(t)
        elif act is Action.CALLED_911 and not self._called_911:
            self._called_911, self._t_911 = True, t
        elif act in (Action.BREATHS_START, Action.BREATHS_STOP):
            self._breaths_on = act is Action.BREATHS_START
            self._recovery = self._recovery and not self._breaths_on
        elif act in (Action.COMPRESSIONS_START, Action.COMPRESSIONS_STOP):
            self._compressions_on = act is Action.COMPRESSIONS_START
            self._recovery = self._recovery and not self._compressions_on
        elif act in (Action.PULSE, Action.NO_PULSE):
            self._pulse_check = "felt" if act is Action.PULSE else "none"
        elif act is Action.NALOXONE:
            self._naloxone(params)
        elif act is Action.BREATHING_NORMAL:
            self._breathing = "normal"
        elif act is Action.BREATHING_NOT_NORMAL:
            self._breathing = "not_normal"
            self._awake = False
        elif act is Action.AWAKE:
            self._awake, self._responsive = True, "yes"
            self._breaths_on = self._compressions_on = False
        elif act is Action.RESPONSIVE:
            self._responsive = "yes"
        elif act is Action.UNRESPONSIVE:
            self._responsive, self._awake, self._withdrawal = "no", False, False
        elif act is Action.RECOVERY_POSITION:
            self._recovery = True
        elif act is Action.VOMITING:
            self._withdrawal = True
        elif act is Action.OXYGEN:
            self._oxygen = True
        elif act is Action.EMS_ARRIVED:
            self._ems = True
        return True

    def _naloxone(self, params: dict[str, Any]) -> None:
        """A dose: counted with its route; the breathing answer is stale after it (a new dose
        gets its own 3- and 5-minute checks)."""
        n = len(self._doses) + 1
        route = str(params.get("route", "im")).strip().lower()
        if route not in ROUTES:
            self._entry(self._t, "ignored", f"naloxone route {params.get('route')!r} "
                                            f"(not im or nasal): dose counted as an injection")
            route = "im"
        if "dose" in params and str(params["dose"]).strip() != str(n):
            self._entry(self._t, "info", f"naloxone dose given as {params['dose']!r}; "
                                         f"counted as dose {n}")
        self._doses.append((self._t, route))
        self._breathing = "unknown"

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
        self._entry(self._t, "step", self._title(self._step), self._step.id)

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

    def _doses_by_route(self) -> dict[str, int]:
        out = {r: 0 for r in ROUTES}
        for _, r in self._doses:
            out[r] += 1
        return out

    def _facts(self) -> Facts:
        v = self._vitals
        signal = self._signal()
        spo2 = v.spo2 if (v is not None and signal != "none") else None
        pulse = v.pulse if (v is not None and signal != "none") else None
        count = self._counter.count(self._t)
        rate = count.per_min if count.state is CountState.READY else None
        last = self._doses[-1][0] if self._doses else None
        gap = self._doses[-1][0] - self._doses[-2][0] if len(self._doses) >= 2 else None
        left = safety.kit_left(self._doses_by_route(), self._kit)
        oximeter = "none" if v is None else (
            "lost" if v.link.value in _LINK_GONE else "on")
        return Facts(
            spo2=spo2, spo2_trusted=signal == "good", pulse=pulse, signal=signal,
            band=band_of(spo2, signal), oximeter=oximeter,
            breathing=self._breathing, breath_rate=rate, breath_count=count.state.value,
            breathing_ok=safety.breathing_ok(self._breathing, rate),
            breaths_on=self._breaths_on, compressions_on=self._compressions_on,
            pulse_check=self._pulse_check, called_911=self._called_911,
            responsive=self._responsive, awake=self._awake, oxygen=self._oxygen,
            withdrawal=self._withdrawal, recovery=self._recovery, ems=self._ems,
            doses=len(self._doses), out_of_naloxone=left == 0,
            minutes_since_naloxone=(self._t - last) / 60 if last is not None else None,
            dose_gap_minutes=gap / 60 if gap is not None else None,
            minutes_since_911=(self._t - self._t_911) / 60 if self._t_911 is not None else None,
            minutes_in_step=max(0.0, self._t - self._step_since) / 60,
        )

    def _fill(self, text: str, run: TimerRun | None = None) -> str:
        """The text with its placeholders filled in (plain substitution, never code)."""
        if "{" not in text:
            return text
        n = len(self._doses)
        count = self._counter.count(self._t)
        left = safety.kit_left(self._doses_by_route(), self._kit)
        gap = self._doses[-1][0] - self._doses[-2][0] if n >= 2 else None
        values = {
            "{n}": str(run.n) if run else str(n),
            "{dose}": str(run.dose) if run else str(n),
            "{prev}": str(max(0, n - 1)),
            "{gap}": _duration(gap) if gap is not None else "?",
            "{rate}": f"{count.per_min:.0f}" if count.per_min is not None else "?",
            "{since_tap}": _duration(count.since_last) if count.since_last is not None
            else "?",
            "{kit_left}": str(left) if left is not None else "?",
        }
        for k, v in values.items():
            text = text.replace(k, v)
        return text

    def _shows(self, does: frozenset[str], when: Any, facts: Facts) -> bool:
        """An item is shown when its condition holds (an item that asks for an action sees
        only trusted numbers) and none of its intents is forbidden now."""
        return bool(when.holds(safety.facts_for(does, facts))) and safety.may_show(does, facts)

    def _prompt(self, d: PromptDef, facts: Facts) -> Prompt | None:
        does = _intents(d.text, d.does)
        if not self._shows(does, d.when, facts):
            return None
        kind = "reassurance" if "reassure" in does else d.kind
        return Prompt(d.id, self._fill(d.text), kind, self._sources(d.sources, does, d.when),
                      does, d.priority)

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
            self._suggestions, self._warnings, self._lines = (), (), ()
            return
        self._lines = tuple(ln for ln in self._step.lines
                            if self._shows(_intents(ln.text, ln.does), ln.when, facts))
        active = [p for d in (*self.protocol.prompts, *self._step.prompts)
                  if (p := self._prompt(d, facts)) is not None]
        active.extend(self._alerts(facts))
        warnings = [p for p in active if p.kind == "warning"]
        if safety.needs_check_warning(facts, [p.does for p in warnings]):
            warnings.append(FALLBACK_WARNING)
        shown = [*(p.does for p in active), *(_intents(ln.text, ln.does) for ln in self._lines)]
        if safety.needs_911_reminder(facts, shown):
            warnings.append(REMINDER_911)
        suggestions = [p for p in active if p.kind != "warning"]
        suggestions.sort(key=lambda p: (p.kind == "reassurance", -p.priority))
        warnings.sort(key=lambda p: -p.priority)
        self._log_prompts(warnings, suggestions)
        count = self._counter.count(self._t)
        if count.state is not self._count_state:
            if count.state is CountState.READY:
                self._entry(self._t, "info", f"Their breathing, counted: {count.text}",
                            "breath-count")
            elif count.state is CountState.STALE:
                self._entry(self._t, "info", f"Breath counter: {count.text}", "breath-count")
            self._count_state = count.state
        self._suggestions, self._warnings = tuple(suggestions), tuple(warnings)

    def _alerts(self, facts: Facts) -> list[Prompt]:
        """The due alerts of the latest run of each 'since' timer."""
        out: list[Prompt] = []
        for run in self._timers.runs:
            if run.spec.kind != "since" or run is not self._timers.latest(run.spec.id):
                continue
            hit = run.alert(self._t, lambda a: self._shows(_intents(a.text, a.does), a.when,
                                                          facts))
            if hit is None:
                continue
            i, a = hit
            does = _intents(a.text, a.does)
            kind = "reassurance" if "reassure" in does else a.kind
            p = Prompt(f"{run.key}:{int(a.at_s)}", self._fill(a.text, run), kind,
                       self._sources(a.sources, does, a.when), does, a.priority)
            if (run.key, i) not in self._fired:
                self._fired.add((run.key, i))
                self._entry(self._t, "timer", p.text, p.id)
            out.append(p)
        return out

    def _log_prompts(self, warnings: list[Prompt], suggestions: list[Prompt]) -> None:
        ids = {p.id for p in (*warnings, *suggestions)}
        for p in (*warnings, *suggestions):
            quiet = self._t - self._prompt_seen.get(p.id, -math.inf) <= LOG_REPEAT_S
            if p.id not in self._prompt_ids and ":" not in p.id and not quiet:
                self._entry(self._t, "warning" if p.kind == "warning" else "prompt", p.text,
                            p.id)
        for pid in self._prompt_ids | ids:
            self._prompt_seen[pid] = self._t
        self._prompt_ids = ids

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

    def _sources(self, ids: tuple[str, ...], does: frozenset[str],
                 when: Any) -> tuple[SourceRef, ...]:
        """An item's sources; one that ties an action to an oximeter number is always shown
        as ours too (no such number is BC guidance), whatever sources the file gives it."""
        refs = self._refs(ids)
        if safety.tied_to_a_number(does, when) and not any(r.label == _APP.label
                                                           for r in refs):
            return (*refs, _APP)
        return refs

    def _view(self, ident: str, title: str, lines: tuple[Line, ...]) -> StepView:
        key = (ident, title, lines)
        hit = self._view_cache.get(key)
        if hit is not None:
            return hit
        per_line = tuple(self._refs(ln.sources) for ln in lines)
        distinct = tuple(dict.fromkeys(r for refs in per_line for r in refs))
        view = StepView(ident, title, tuple(ln.text for ln in lines), distinct, per_line)
        self._view_cache[key] = view
        return view

    def _title(self, step: StepDef) -> str:
        """A title never carries a protected instruction; if a file's does, the step's id is
        shown instead."""
        return step.id if _intents(step.title, frozenset()) & set(PROTECTED) else step.title

    def _offered(self) -> tuple[OfferedAction, ...]:
        if self._ended:
            return ()
        facts = self._facts_now or self._facts()
        core = set(safety.core_offers(self._breaths_on, self._compressions_on))
        hidden = {Action.BREATHS_START if self._breaths_on else Action.BREATHS_STOP,
                  Action.COMPRESSIONS_START if self._compressions_on
                  else Action.COMPRESSIONS_STOP}
        out: list[OfferedAction] = []
        seen: set[tuple[Action, str]] = set()
        for tr in (*self._step.next, *self.protocol.on):
            if tr.action in hidden or not tr.when.holds(facts):
                continue
            params = self._params(tr.action, dict(tr.params))
            key = (tr.action, dict(params).get("route", ""))
            if key in seen:
                continue
            seen.add(key)
            out.append(OfferedAction(tr.action, _button_label(tr.action, tr.label), params,
                                     tr.primary, tr.action in core))
        for act in safety.CORE:
            if act not in core:
                continue
            routes = ROUTES if act is Action.NALOXONE else ("",)
            for route in routes:
                if (act, route) in seen:
                    continue
                params = self._params(act, {"route": route} if route else {})
                out.append(OfferedAction(act, _core_label(act, route), params, False, True))
                seen.add((act, route))
        out = self._hint(out)
        out.append(OfferedAction(Action.BREATH_TAP, ACTIONS[Action.BREATH_TAP].label))
        return tuple(out)

    def _hint(self, out: list[OfferedAction]) -> list[OfferedAction]:
        """The breath counter's result as a hint on the answer it supports."""
        count = self._counter.count(self._t)
        j = count.judgement
        if j is None:
            return out
        answer = Action.BREATHING_NORMAL if j == "normal" else Action.BREATHING_NOT_NORMAL
        hint = f"counted {count.per_min:.0f}/min" + (": borderline" if j == "borderline"
                                                    else "")
        present = any(o.action is answer for o in out)
        out = [OfferedAction(o.action, o.label, o.params, o.primary, o.safety, hint)
               if o.action is answer else o for o in out]
        if not present:
            out.append(OfferedAction(answer, ACTIONS[answer].label, (), False, False, hint))
        return out

    def _params(self, action: Action, params: dict[str, str]) -> tuple[tuple[str, str], ...]:
        if action is not Action.NALOXONE:
            return tuple(sorted(params.items()))
        params["dose"] = str(len(self._doses) + 1)
        params.setdefault("route", "im")
        return tuple(sorted(params.items()))

    def _timer_states(self) -> tuple[TimerState, ...]:
        out: list[TimerState] = []
        due = {p.id.split(":")[0]: p.text for p in (*self._warnings, *self._suggestions)
               if ":" in p.id}
        for run in self._timers.runs:
            refs = self._refs(run.spec.sources)
            if run.spec.kind == "metronome":
                beat, phase = run.metronome(self._t)
                out.append(TimerState(run.key, run.label(), run.elapsed(self._t), None, False,
                                      "", refs, beat, phase, run.spec.interval_s))
                continue
            message = due.get(run.key, "")
            out.append(TimerState(run.key, run.label(), run.elapsed(self._t),
                                  run.remaining(self._t), bool(message), message, refs))
        return tuple(out)

    def _note_views(self, ids: tuple[str, ...], facts: Facts, *,
                    filtered: bool) -> tuple[StepView, ...]:
        views = []
        for nid in ids:
            note = self.protocol.notes.get(nid)
            if note is None:
                continue
            lines = tuple(ln for ln in note.lines if not filtered
                          or safety.may_show(_intents(ln.text, ln.does), facts))
            views.append(self._view(note.id, note.title, lines))
        return tuple(views)

    def _build(self) -> GuideState:
        s = self._step
        facts = self._facts_now or self._facts()
        start = self.protocol.start_note
        last = self._doses[-1][0] if self._doses else None
        return GuideState(
            t=self._t,
            step=self._view(s.id, self._title(s), self._lines),
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
            notes=self._note_views(s.notes, facts, filtered=True),
            log=tuple(self._log),
            guidance_id=self.protocol.id,
            guidance_title=self.protocol.title,
            compressions_on=self._compressions_on,
            responsive=self._responsive,
            doses_by_route=tuple(self._doses_by_route().items()),
            kit=self.protocol.kit,
            last_dose_t=last,
            handout=self._note_views(self.protocol.handout, facts, filtered=False),
            start_cue=(self._note_views((start,), facts, filtered=False) or (None,))[0]
            if start else None,
        )

    # ------------------------------------------------------------ log

    def _entry(self, t: float, kind: str, text: str, ref: str = "") -> None:
        self._log.append(LogEntry(t, kind, text, ref))
