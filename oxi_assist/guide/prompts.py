"""The prompts the engine shows: the file's prompts and timer alerts whose conditions hold,
filled in, with their citations, plus the engine's own two warnings.

An item is shown only when its condition holds (an item that asks for an action sees only
trusted numbers) and none of its intents is forbidden at that moment (guide/safety.py). An
item that ties an action to an oximeter number always cites us as well as its file's sources.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from oxi_assist.guide import safety
from oxi_assist.guide.breathing import BreathCount
from oxi_assist.guide.conditions import Facts
from oxi_assist.guide.model import Citation, Line, PromptDef
from oxi_assist.guide.response import Response
from oxi_assist.guide.state import LogEntry, Prompt, SourceRef, StepView
from oxi_assist.guide.timers import TimerRun, Timers
from oxi_assist.guide.wording import duration, intents

APP = SourceRef("app", "app-defined", "", "Chosen by oxi-assist, not BC guidance")
#: Shown when there is no good reading and the file has no warning that says to check the
#: person (rule 2: no reading is never OK).
FALLBACK_WARNING = Prompt("engine-check-person",
                          "No good reading. Check the person: look, listen and feel for "
                          "breathing. Don't go by the screen.",
                          "warning", (APP,), frozenset({"check"}), 3)
#: Shown when 911 is not called for a person who does not respond and nothing on screen says
#: to call it.
REMINDER_911 = Prompt("engine-call-911", "911 is not called yet. Call 911 now.",
                      "warning", (APP,), frozenset({"911"}), 3)


def shows(does: frozenset[str], when: Any, facts: Facts) -> bool:
    """An item is shown when its condition holds (an item that asks for an action sees
    only trusted numbers) and none of its intents is forbidden now."""
    return bool(when.holds(safety.facts_for(does, facts))) and safety.may_show(does, facts)


def fill(text: str, r: Response, count: Callable[[], BreathCount], kit: dict[str, int],
         run: TimerRun | None = None) -> str:
    """The text with its placeholders filled in (plain substitution, never code)."""
    if "{" not in text:
        return text
    n = len(r.doses)
    c = count()
    left = safety.kit_left(r.doses_by_route(), kit)
    gap = r.dose_gap()
    values = {
        "{n}": str(run.n) if run else str(n),
        "{dose}": str(run.dose) if run else str(n),
        "{prev}": str(max(0, n - 1)),
        "{gap}": duration(gap) if gap is not None else "?",
        "{rate}": f"{c.per_min:.0f}" if c.per_min is not None else "?",
        "{since_tap}": duration(c.since_last) if c.since_last is not None else "?",
        "{kit_left}": str(left) if left is not None else "?",
    }
    for k, v in values.items():
        text = text.replace(k, v)
    return text


class Citations:
    """The `SourceRef`s and step views of one guidance file, each built once."""

    def __init__(self, sources: Mapping[str, Citation]) -> None:
        self._sources = sources
        self._refs: dict[tuple[str, ...], tuple[SourceRef, ...]] = {}
        self._views: dict[tuple[Any, ...], StepView] = {}

    def refs(self, ids: tuple[str, ...]) -> tuple[SourceRef, ...]:
        hit = self._refs.get(ids)
        if hit is not None:
            return hit
        out = []
        for i in ids:
            s = self._sources.get(i)
            if s is not None:
                out.append(SourceRef(s.id, s.label, s.url, s.title))
        self._refs[ids] = tuple(out)
        return self._refs[ids]

    def of_item(self, ids: tuple[str, ...], does: frozenset[str],
                when: Any) -> tuple[SourceRef, ...]:
        """An item's sources; one that ties an action to an oximeter number is always shown
        as ours too (no such number is BC guidance), whatever sources the file gives it."""
        refs = self.refs(ids)
        if safety.tied_to_a_number(does, when) and not any(r.label == APP.label
                                                           for r in refs):
            return (*refs, APP)
        return refs

    def view(self, ident: str, title: str, lines: tuple[Line, ...]) -> StepView:
        key = (ident, title, lines)
        hit = self._views.get(key)
        if hit is not None:
            return hit
        per_line = tuple(self.refs(ln.sources) for ln in lines)
        distinct = tuple(dict.fromkeys(r for refs in per_line for r in refs))
        view = StepView(ident, title, tuple(ln.text for ln in lines), distinct, per_line)
        self._views[key] = view
        return view


def prompt_of(d: PromptDef, facts: Facts, filled: Callable[[str], str],
              cites: Citations) -> Prompt | None:
    """A file's prompt as shown now, or None when it is not shown."""
    does = intents(d.text, d.does)
    if not shows(does, d.when, facts):
        return None
    kind = "reassurance" if "reassure" in does else d.kind
    return Prompt(d.id, filled(d.text), kind, cites.of_item(d.sources, does, d.when),
                  does, d.priority)


def due_alerts(timers: Timers, t: float, facts: Facts,
               filled: Callable[[str, TimerRun], str], cites: Citations,
               fired: set[tuple[str, int]], log: Callable[[LogEntry], None]) -> list[Prompt]:
    """The due alerts of the latest run of each 'since' timer; each is logged the first
    time it comes due."""
    out: list[Prompt] = []
    for run in timers.runs:
        if run.spec.kind != "since" or run is not timers.latest(run.spec.id):
            continue
        hit = run.alert(t, lambda a: shows(intents(a.text, a.does), a.when, facts))
        if hit is None:
            continue
        i, a = hit
        does = intents(a.text, a.does)
        kind = "reassurance" if "reassure" in does else a.kind
        p = Prompt(f"{run.key}:{int(a.at_s)}", filled(a.text, run), kind,
                   cites.of_item(a.sources, does, a.when), does, a.priority)
        if (run.key, i) not in fired:
            fired.add((run.key, i))
            log(LogEntry(t, "timer", p.text, p.id))
        out.append(p)
    return out
