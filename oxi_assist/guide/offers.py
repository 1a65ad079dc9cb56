"""The actions the engine offers: the file's transitions whose conditions hold, then every
core action the file did not offer (911, breaths, compressions, naloxone by each route are
offered in every state: guide/safety.py `core_offers`), the breath counter's hint on the
answer it supports, and the breath tap last.
"""

from __future__ import annotations

from oxi_assist.actions import ACTIONS, Action
from oxi_assist.guide import safety
from oxi_assist.guide.breathing import BreathCount
from oxi_assist.guide.conditions import Facts
from oxi_assist.guide.model import ROUTES, Transition
from oxi_assist.guide.response import Response
from oxi_assist.guide.state import OfferedAction
from oxi_assist.guide.wording import button_label, core_label


def offered(transitions: tuple[Transition, ...], r: Response, facts: Facts,
            count: BreathCount) -> tuple[OfferedAction, ...]:
    """What the screen offers now, given the step's and the file's transitions (in that
    order)."""
    core = set(safety.core_offers(r.breaths_on, r.compressions_on))
    hidden = {Action.BREATHS_START if r.breaths_on else Action.BREATHS_STOP,
              Action.COMPRESSIONS_START if r.compressions_on
              else Action.COMPRESSIONS_STOP}
    out: list[OfferedAction] = []
    seen: set[tuple[Action, str]] = set()
    for tr in transitions:
        if tr.action in hidden or not tr.when.holds(facts):
            continue
        params = action_params(tr.action, dict(tr.params), r)
        key = (tr.action, dict(params).get("route", ""))
        if key in seen:
            continue
        seen.add(key)
        out.append(OfferedAction(tr.action, button_label(tr.action, tr.label), params,
                                 tr.primary, tr.action in core))
    for act in safety.CORE:
        if act not in core:
            continue
        routes = ROUTES if act is Action.NALOXONE else ("",)
        for route in routes:
            if (act, route) in seen:
                continue
            params = action_params(act, {"route": route} if route else {}, r)
            out.append(OfferedAction(act, core_label(act, route), params, False, True))
            seen.add((act, route))
    out = hint(out, count)
    out.append(OfferedAction(Action.BREATH_TAP, ACTIONS[Action.BREATH_TAP].label))
    return tuple(out)


def hint(out: list[OfferedAction], count: BreathCount) -> list[OfferedAction]:
    """The breath counter's result as a hint on the answer it supports."""
    j = count.judgement
    if j is None:
        return out
    answer = Action.BREATHING_NORMAL if j == "normal" else Action.BREATHING_NOT_NORMAL
    words = f"counted {count.per_min:.0f}/min" + (": borderline" if j == "borderline" else "")
    present = any(o.action is answer for o in out)
    out = [OfferedAction(o.action, o.label, o.params, o.primary, o.safety, words)
           if o.action is answer else o for o in out]
    if not present:
        out.append(OfferedAction(answer, ACTIONS[answer].label, (), False, False, words))
    return out


def action_params(action: Action, params: dict[str, str],
                  r: Response) -> tuple[tuple[str, str], ...]:
    """A naloxone button carries the number of the dose it gives and its route."""
    if action is not Action.NALOXONE:
        return tuple(sorted(params.items()))
    params["dose"] = str(len(r.doses) + 1)
    params.setdefault("route", "im")
    return tuple(sorted(params.items()))
