"""Responder actions: what a key press (or a scripted line) tells the guide, the recorder and,
in a simulation, the patient model.

Scripts are `TIME:ACTION[:PARAM=VALUE...]` items separated by commas, e.g.
`2m:911,2m10s:breaths,3m:naloxone:route=nasal`. TIME is seconds (`90`, `90s`), minutes
(`2m`, `2m10s`) or `h:mm:ss`/`mm:ss`.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field

from drivers.errors import OxiError
from simulators.scenario import parse_duration


class Action(enum.Enum):
    RESPONSIVE = "responsive"
    UNRESPONSIVE = "unresponsive"
    CALLED_911 = "911"
    BREATHS_START = "breaths"
    BREATHS_STOP = "breaths_stop"
    NALOXONE = "naloxone"  # params: dose (1, 2, …), route ("im" or "nasal")
    BREATHING_NORMAL = "breathing_normal"
    BREATHING_NOT_NORMAL = "breathing_not_normal"
    BREATH_TAP = "tap"  # one breath the person took, for the breathing-rate counter
    AWAKE = "awake"
    RECOVERY_POSITION = "recovery"
    OXYGEN = "oxygen"
    EMS_ARRIVED = "ems"
    END = "end"


@dataclass(frozen=True)
class ScriptedAction:
    t: float
    action: Action
    params: dict[str, str] = field(default_factory=dict)


def parse_time(text: str) -> float:
    """Seconds from `90`, `90s`, `2m`, `2m10s`, `1h5m`, `02:10` or `1:02:10` (the same forms
    scenario files use)."""
    try:
        return parse_duration(text)
    except ValueError as e:
        raise OxiError(str(e)) from None


def parse_action(name: str) -> Action:
    key = name.strip().lower()
    for a in Action:
        if key in (a.value, a.name.lower()):
            return a
    known = ", ".join(a.value for a in Action)
    raise OxiError(f"unknown action {name!r} (known: {known})")


def parse_script(text: str) -> list[ScriptedAction]:
    """Parses an --actions script; the items come back sorted by time."""
    out: list[ScriptedAction] = []
    for item in (i.strip() for i in text.split(",")):
        if not item:
            continue
        if item.count(":") >= 1 and re.match(r"^\d+(:\d+){1,2}:", item):
            # clock-style time: the action starts after the last numeric field
            m = re.match(r"^(\d+(?::\d+){1,2}):(.*)$", item)
            assert m is not None
            when, rest = m.group(1), m.group(2)
        else:
            when, sep, rest = item.partition(":")
            if not sep:
                raise OxiError(f"bad action {item!r}: expected TIME:ACTION, e.g. 2m:naloxone")
        name, *kv = rest.split(":")
        params: dict[str, str] = {}
        for p in kv:
            k, eq, v = p.partition("=")
            if not eq or not k:
                raise OxiError(f"bad action parameter {p!r} in {item!r}: expected NAME=VALUE")
            params[k.strip()] = v.strip()
        out.append(ScriptedAction(parse_time(when), parse_action(name), params))
    return sorted(out, key=lambda a: a.t)
