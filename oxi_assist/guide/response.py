"""What the responder has reported so far, and how each action changes it.

The engine (oxi_assist/guide/engine.py) keeps one `Response`; an action is applied here and
the rest of the engine only reads the result. An action that makes no sense in the current
state (breaths stopped while they were not on) is logged and ignored, never raised.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from oxi_assist.actions import Action
from oxi_assist.guide.breathing import BreathCounter
from oxi_assist.guide.model import ROUTES

#: Actions that show the person did not respond, when nobody said so: you do not breathe for,
#: dose, pump the chest of, check the pulse and breathing of or roll onto their side someone
#: who answers you. Until someone says they respond, 911 is asked for.
IMPLY_UNRESPONSIVE = frozenset({Action.BREATHS_START, Action.NALOXONE,
                                Action.COMPRESSIONS_START, Action.NO_PULSE, Action.PULSE,
                                Action.BREATHING_NOT_NORMAL, Action.BREATHING_NORMAL,
                                Action.RECOVERY_POSITION})

#: Writes a line to the guide's log: (time, kind, text).
Note = Callable[[float, str, str], None]


@dataclass
class Response:
    """The responder's side of the response: what is being done and what they said."""

    breaths_on: bool = False
    compressions_on: bool = False
    called_911: bool = False
    t_911: float | None = None
    doses: list[tuple[float, str]] = field(default_factory=list)  # (time, route)
    breathing: str = "unknown"
    responsive: str = "unknown"
    awake: bool = False
    pulse_check: str = "unknown"
    oxygen: bool = False
    withdrawal: bool = False
    recovery: bool = False
    ems: bool = False
    ended: bool = False

    def doses_by_route(self) -> dict[str, int]:
        out = {r: 0 for r in ROUTES}
        for _, r in self.doses:
            out[r] += 1
        return out

    def last_dose_t(self) -> float | None:
        return self.doses[-1][0] if self.doses else None

    def dose_gap(self) -> float | None:
        """Seconds between the last two doses."""
        return self.doses[-1][0] - self.doses[-2][0] if len(self.doses) >= 2 else None

    def apply(self, act: Action, params: dict[str, Any], t: float, counter: BreathCounter,
              note: Note) -> bool:
        """Records what the action means; False when it makes no sense here (then
        ignored)."""
        if act is Action.BREATHS_STOP and not self.breaths_on:
            note(t, "ignored", "breaths stopped, but breaths were not on")
            return False
        if act is Action.COMPRESSIONS_STOP and not self.compressions_on:
            note(t, "ignored", "compressions stopped, but compressions were not on")
            return False
        if act in IMPLY_UNRESPONSIVE and self.responsive == "unknown":
            self.responsive = "no"
        if act is Action.BREATH_TAP:
            counter.tap(t)
        elif act is Action.CALLED_911 and not self.called_911:
            self.called_911, self.t_911 = True, t
        elif act in (Action.BREATHS_START, Action.BREATHS_STOP):
            self.breaths_on = act is Action.BREATHS_START
            self.recovery = self.recovery and not self.breaths_on
        elif act in (Action.COMPRESSIONS_START, Action.COMPRESSIONS_STOP):
            self.compressions_on = act is Action.COMPRESSIONS_START
            self.recovery = self.recovery and not self.compressions_on
        elif act in (Action.PULSE, Action.NO_PULSE):
            self.pulse_check = "felt" if act is Action.PULSE else "none"
        elif act is Action.NALOXONE:
            self.naloxone(params, t, note)
        elif act is Action.BREATHING_NORMAL:
            self.breathing = "normal"
        elif act is Action.BREATHING_NOT_NORMAL:
            self.breathing = "not_normal"
            self.awake = False
        elif act is Action.AWAKE:
            self.awake, self.responsive = True, "yes"
            self.breaths_on = self.compressions_on = False
        elif act is Action.RESPONSIVE:
            self.responsive = "yes"
        elif act is Action.UNRESPONSIVE:
            self.responsive, self.awake, self.withdrawal = "no", False, False
        elif act is Action.RECOVERY_POSITION:
            self.recovery = True
        elif act is Action.VOMITING:
            self.withdrawal = True
        elif act is Action.OXYGEN:
            self.oxygen = True
        elif act is Action.EMS_ARRIVED:
            self.ems = True
        return True

    def naloxone(self, params: dict[str, Any], t: float, note: Note) -> None:
        """A dose: counted with its route; the breathing answer is stale after it (a new dose
        gets its own 3- and 5-minute checks)."""
        n = len(self.doses) + 1
        route = str(params.get("route", "im")).strip().lower()
        if route not in ROUTES:
            note(t, "ignored", f"naloxone route {params.get('route')!r} "
                               f"(not im or nasal): dose counted as an injection")
            route = "im"
        if "dose" in params and str(params["dose"]).strip() != str(n):
            note(t, "info", f"naloxone dose given as {params['dose']!r}; counted as dose {n}")
        self.doses.append((t, route))
        self.breathing = "unknown"
