"""The words the simulator understands: responder actions, trainer cues and scenario events.

One table serves `inject()` on a live source, scripted actions of a headless run and the
`[[events]]` of a scenario file, so a misspelt action is rejected the same way everywhere.
"""

from __future__ import annotations

import math
from typing import Any

from simulators.physiology import DRUGS

#: canonical action → {param: kind}; kinds: "num" (≥ 0), "str", "drug", "route"
ACTIONS: dict[str, dict[str, str]] = {
    "drug": {"drug": "drug", "dose": "num", "route": "str"},
    "naloxone": {"route": "route", "dose": "num", "mg": "num"},
    "breaths_on": {},
    "breaths_off": {},
    "compressions_on": {},
    "compressions_off": {},
    "oxygen": {},
    "oxygen_off": {},
    "recovery": {},
    "recovery_off": {},
    "finger_out": {"seconds": "num"},
    "finger_in": {},
    "motion": {"seconds": "num"},
    "motion_off": {},
    "low_perfusion": {"seconds": "num"},
    "low_perfusion_off": {},
    "dropout": {"seconds": "num"},
}

ALIASES: dict[str, str] = {
    "breaths": "breaths_on",
    "breaths_start": "breaths_on",
    "breaths_stop": "breaths_off",
    "compressions": "compressions_on",
    "compressions_stop": "compressions_off",
    "cpr": "compressions_on",
    "cpr_stop": "compressions_off",
    "recovery_position": "recovery",
    "o2": "oxygen",
}

#: default length of a dropout when no `seconds=` is given; motion and low perfusion without
#: `seconds=` last until `motion_off` / `low_perfusion_off`, like finger_out until finger_in
DEFAULT_SECONDS = {"dropout": 5.0}

#: The largest value each number parameter may take: a dose of 1e308 or an artefact lasting
#: longer than any scenario is a typo, not a training case. [app-defined] Drug doses are in
#: effect units (about 6 stops breathing), naloxone in mg (4 mg is a nasal dose), seconds up to
#: the longest scenario (48 h).
NUM_MAX: dict[str, float] = {"dose": 100.0, "mg": 20.0, "seconds": 48 * 3600.0}


def known_actions() -> str:
    return ", ".join([*ACTIONS, *ALIASES])


def normalize(action: str, params: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """Checks an action and its parameters; numbers given as text (from a script) are
    converted. Raises ValueError with a one-line reason."""
    if not isinstance(action, str):
        raise ValueError(f"action must be text, not {type(action).__name__}")
    name = action.strip().lower()
    name = ALIASES.get(name, name)
    spec = ACTIONS.get(name)
    if spec is None:
        raise ValueError(f"unknown simulator action {action!r} (known: {known_actions()})")
    out: dict[str, Any] = {}
    for key, value in params.items():
        kind = spec.get(key)
        if kind is None:
            allowed = ", ".join(spec) or "none"
            raise ValueError(f"{name}: unknown parameter {key!r} (allowed: {allowed})")
        if kind == "num":
            if isinstance(value, str):
                try:
                    value = float(value)
                except ValueError:
                    raise ValueError(f"{name}: {key} must be a number, not {value!r}") from None
            top = NUM_MAX.get(key, math.inf)
            if (isinstance(value, bool) or not isinstance(value, int | float)
                    or not math.isfinite(value) or not 0 <= value <= top):
                raise ValueError(f"{name}: {key} must be a number from 0 to {top:g}, "
                                 f"not {value!r}")
            out[key] = float(value)
        else:
            if not isinstance(value, str):
                raise ValueError(f"{name}: {key} must be text, not {value!r}")
            value = value.strip().lower()
            if kind == "drug" and value not in DRUGS:
                raise ValueError(f"{name}: unknown drug {value!r} (known: {', '.join(DRUGS)})")
            if kind == "route" and value not in DRUGS["naloxone"].routes:
                routes = ", ".join(DRUGS["naloxone"].routes)
                raise ValueError(f"{name}: unknown route {value!r} (known: {routes})")
            out[key] = value
    if name == "drug":
        if "drug" not in out:
            raise ValueError("drug: which drug? (drug=NAME)")
        prof = DRUGS[out["drug"]]
        if "route" in out and out["route"] not in prof.routes:
            raise ValueError(f"drug: {prof.name} has no route {out['route']!r} "
                             f"(known: {', '.join(prof.routes)})")
        if "dose" not in out and prof.default_dose is None:
            raise ValueError(f"drug: {prof.name} needs a dose")
    return name, out
