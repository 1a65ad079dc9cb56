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


_TIME = re.compile(r"^(?:(?P<h>\d+)h)?(?:(?P<m>\d+)m)?(?:(?P<s>\d+(?:\.\d+)?)s?)?$")


def parse_time(text: str) -> float:
    """Seconds from `90`, `90s`, `2m`, `2m10s`, `1h5m`, `02:10` or `1:02:10`."""
    s = text.strip().lower()
    if ":" in s:
        parts = s.split(":")
        if len(parts) > 3 or not all(p.replace(".", "", 1).isdigit() for p in parts):
            raise OxiError(f"bad time {text!r}")
        total = 0.0
        for p in parts:
            total = total * 60 + float(p)
        return total
    m = _TIME.match(s)
    if not s or not m or not any(m.groupdict().values()):
        raise OxiError(f"bad time {text!r} (use e.g. 90s, 2m, 2m10s or 02:10)")
    return (int(m["h"] or 0) * 3600 + int(m["m"] or 0) * 60 + float(m["s"] or 0))


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
