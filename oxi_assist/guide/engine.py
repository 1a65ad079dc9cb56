"""The guidance engine: walks a responder through a guidance protocol (guidance/*.toml).

It takes three kinds of input: `VitalsState` updates from the Monitor, responder actions (key
presses, or a script) and clock ticks, and produces a `GuideState` for the screen and a
timestamped log of its own steps, prompts, timer alerts and notes for the recorder (the
session logs the responder's actions and the alarms itself, once).

Whatever a guidance file says, the engine keeps these rules (DOMAIN.md §1; docs/SAFETY.md):
- calling 911, breaths on/off, compressions on/off and naloxone (injection and nasal) are
  offered in every state until the response ends (`safety.core_offers`);
- no reading, a poor, stale or lost signal never reassures, and always shows a warning to
  check the person (`safety.needs_check_warning`, the fallback warning);
- nothing pushes more naloxone while breathing is adequate, within 3 minutes of a dose, while
  the person is awake or in withdrawal, or once the kit is used up;
- nothing tells the responder to stop breaths or compressions, skip 911 or leave while the
  person does not respond or does not breathe normally.
What a prompt, line, alert, title or button does is read from its text (guide/vocabulary.py)
plus what the file declares, never from a flag the file sets; every such item is tested
against the forbidden regions (`safety.REGIONS`) at each update. Any action in any
state is accepted: nonsense is logged and ignored, never raised.

The engine holds the moment (time, step, vitals, timers) and runs the rules; what it is built
from lives beside it in guide/: what the responder reported and how an action changes it
(`response`), the facts a condition sees (`facts`), the prompts it shows (`prompts`), the
actions it offers (`offers`), its words (`wording`) and its log (`guide_log`).

Public types (re-exported here for the UI and the recorder): `GuideState`, `StepView`,
`OfferedAction`, `Prompt`, `TimerState`, `LogEntry`, `SourceRef`, `BreathCount`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

from drivers.errors import ConfigError, OxiError
from oxi_assist.actions import ACTIONS, Action, parse_action
from oxi_assist.guide import facts as derived
from oxi_assist.guide import safety
from oxi_assist.guide.breathing import BreathCount, BreathCounter, CountState
from oxi_assist.guide.conditions import Facts
from oxi_assist.guide.guide_log import GuideLog
from oxi_assist.guide.model import Guidance, Line, Transition
from oxi_assist.guide.offers import offered
from oxi_assist.guide.prompts import (
    FALLBACK_WARNING,
    REMINDER_911,
    Citations,
    due_alerts,
    fill,
    prompt_of,
    shows,
)
from oxi_assist.guide.response import Response
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
from oxi_assist.guide.wording import intents, title_of
from oxi_assist.monitor.vitals import VitalsState

__all__ = [
    "FALLBACK_WARNING",
    "REMINDER_911",
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
        self._log = GuideLog()
        self._r = Response()
        self._alarm_kinds: set[str] = set()
        self._fired: set[tuple[str, int]] = set()
        self._count_state = CountState.IDLE
        self._suggestions: tuple[Prompt, ...] = ()
        self._warnings: tuple[Prompt, ...] = ()
        self._lines: tuple[Line, ...] = ()
        self._state: GuideState | None = None
        self._cites = Citations(protocol.sources)
        self._facts_now: Facts | None = None
        self._dirty = False  # vitals taken but the rules not yet run on them
        self._refreshed_at = -math.inf
        self._vkey: tuple[Any, ...] | None = None
        self._entry(self._t, "step", title_of(self._step), self._step.id)
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
        if self._r.ended:
            self._entry(self._t, "ignored",
                        f"{ACTIONS[act].label} after the end of the response")
            self._refresh()
            return self.state
        if not self._r.apply(act, {str(k): v for k, v in params.items()}, self._t,
                             self._counter, self._entry):
            self._refresh()
            return self.state
        self._timers.on_action(act, self._t, len(self._r.doses))
        if not self._r.breaths_on:
            self._timers.stop_kind("metronome")
        self._move(act)
        if act is Action.END:
            self._r.ended = True
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
        return tuple(self._log.entries)

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
        self._entry(self._t, "step", title_of(self._step), self._step.id)

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

    def _count(self) -> BreathCount:
        return self._counter.count(self._t)

    def _facts(self) -> Facts:
        return derived.derive(self._r, self._vitals, self._count(), self._t,
                              self._step_since, self._kit)

    def _fill(self, text: str, run: TimerRun | None = None) -> str:
        return fill(text, self._r, self._count, self._kit, run)

    def _vitals_key(self) -> tuple[Any, ...]:
        return derived.vitals_key(self._vitals, frozenset(self._alarm_kinds))

    def _refresh(self) -> None:
        self._state = None
        self._dirty = False
        self._refreshed_at = self._t
        self._vkey = self._vitals_key()
        self._facts_now = facts = self._facts()
        if self._r.ended:
            self._suggestions, self._warnings, self._lines = (), (), ()
            return
        self._lines = tuple(ln for ln in self._step.lines
                            if shows(intents(ln.text, ln.does), ln.when, facts))
        active = [p for d in (*self.protocol.prompts, *self._step.prompts)
                  if (p := prompt_of(d, facts, self._fill, self._cites)) is not None]
        active.extend(due_alerts(self._timers, self._t, facts, self._fill, self._cites,
                                 self._fired, self._log.append))
        warnings = [p for p in active if p.kind == "warning"]
        if safety.needs_check_warning(facts, [p.does for p in warnings]):
            warnings.append(FALLBACK_WARNING)
        shown = [*(p.does for p in active), *(intents(ln.text, ln.does) for ln in self._lines)]
        if safety.needs_911_reminder(facts, shown):
            warnings.append(REMINDER_911)
        suggestions = [p for p in active if p.kind != "warning"]
        suggestions.sort(key=lambda p: (p.kind == "reassurance", -p.priority))
        warnings.sort(key=lambda p: -p.priority)
        self._log.prompts(self._t, warnings, suggestions)
        count = self._count()
        if count.state is not self._count_state:
            if count.state is CountState.READY:
                self._entry(self._t, "info", f"Their breathing, counted: {count.text}",
                            "breath-count")
            elif count.state is CountState.STALE:
                self._entry(self._t, "info", f"Breath counter: {count.text}", "breath-count")
            self._count_state = count.state
        self._suggestions, self._warnings = tuple(suggestions), tuple(warnings)

    def _offered(self) -> tuple[OfferedAction, ...]:
        if self._r.ended:
            return ()
        facts = self._facts_now or self._facts()
        return offered((*self._step.next, *self.protocol.on), self._r, facts, self._count())

    def _timer_states(self) -> tuple[TimerState, ...]:
        out: list[TimerState] = []
        due = {p.id.split(":")[0]: p.text for p in (*self._warnings, *self._suggestions)
               if ":" in p.id}
        for run in self._timers.runs:
            refs = self._cites.refs(run.spec.sources)
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
                          or safety.may_show(intents(ln.text, ln.does), facts))
            views.append(self._cites.view(note.id, note.title, lines))
        return tuple(views)

    def _build(self) -> GuideState:
        s = self._step
        r = self._r
        facts = self._facts_now or self._facts()
        start = self.protocol.start_note
        return GuideState(
            t=self._t,
            step=self._cites.view(s.id, title_of(s), self._lines),
            offered=self._offered(),
            suggestions=self._suggestions,
            warnings=self._warnings,
            timers=self._timer_states(),
            doses=len(r.doses),
            breathing=self._count(),
            breathing_answer=r.breathing,
            breaths_on=r.breaths_on,
            called_911=r.called_911,
            ended=r.ended,
            notes=self._note_views(s.notes, facts, filtered=True),
            log=tuple(self._log.entries),
            guidance_id=self.protocol.id,
            guidance_title=self.protocol.title,
            compressions_on=r.compressions_on,
            responsive=r.responsive,
            doses_by_route=tuple(r.doses_by_route().items()),
            kit=self.protocol.kit,
            last_dose_t=r.last_dose_t(),
            handout=self._note_views(self.protocol.handout, facts, filtered=False),
            start_cue=(self._note_views((start,), facts, filtered=False) or (None,))[0]
            if start else None,
        )

    # ------------------------------------------------------------ log

    def _entry(self, t: float, kind: str, text: str, ref: str = "") -> None:
        self._log.add(t, kind, text, ref)
