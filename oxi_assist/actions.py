"""Responder actions: what a key press (or a scripted line) tells the guide, the recorder and,
in a simulation, the patient model.

Scripts are `TIME:ACTION[:PARAM=VALUE...]` items separated by commas, e.g.
`2m:911,2m10s:breaths,3m:naloxone:route=nasal`. TIME is seconds (`90`, `90s`), minutes
(`2m`, `2m10s`) or `h:mm:ss`/`mm:ss`.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from drivers.errors import OxiError
from simulators.scenario import parse_duration


class Action(enum.Enum):
    RESPONSIVE = "responsive"
    UNRESPONSIVE = "unresponsive"
    CALLED_911 = "911"
    BREATHS_START = "breaths"
    BREATHS_STOP = "breaths_stop"
    PULSE = "pulse"  # a pulse was felt (if trained)
    NO_PULSE = "no_pulse"  # no pulse: compressions and breaths
    COMPRESSIONS_START = "compressions"
    COMPRESSIONS_STOP = "compressions_stop"
    NALOXONE = "naloxone"  # params: dose (1, 2, …), route ("im" or "nasal")
    BREATHING_NORMAL = "breathing_normal"
    BREATHING_NOT_NORMAL = "breathing_not_normal"
    BREATH_TAP = "tap"  # one breath the person took, for the breathing-rate counter
    AWAKE = "awake"
    RECOVERY_POSITION = "recovery"
    VOMITING = "vomiting"  # vomiting or withdrawal signs after naloxone
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


# ---------------------------------------------------------------- the one table of actions

class Response(enum.Enum):
    """What an action says about the overdose response."""

    NONE = "none"
    #: under way: the person is unresponsive, not breathing normally or pulseless, or 911,
    #: breaths, compressions or naloxone were given
    STARTS = "starts"
    ENDS = "ends"  # handed over (EMS arrived) or ended


@dataclass(frozen=True)
class ActionInfo:
    """Everything the program says and does about one responder action, in one place.

    The screen's buttons and keys, the help screen, the command palette, the event log, the
    recording, the debrief and the simulator's response are all derived from `ACTIONS` and
    `KEYS` below, so an action is added or reworded here and nowhere else.
    """

    action: Action
    label: str  # the button / command-palette words, e.g. "Naloxone given"
    log: str  # the event log's plain line; "{dose}" and "{route}" are filled in
    help: str  # the help screen's words
    sim: str = ""  # the simulated patient's intervention it causes ("" for none)
    core: bool = False  # 911, breaths, compressions, naloxone: offered on every screen
    shown_in_log: bool = True  # a breath tap is recorded but not a log line of its own
    response: Response = field(default_factory=lambda: Response.NONE)


ACTIONS: dict[Action, ActionInfo] = {a.action: a for a in (
    ActionInfo(Action.UNRESPONSIVE, "No response", "No response to voice or touch",
               "no response to voice, touch or a fingertip squeeze",
               response=Response.STARTS),
    ActionInfo(Action.RESPONSIVE, "Responds", "Responds to voice or touch",
               "responds to voice or touch"),
    ActionInfo(Action.CALLED_911, "911 called", "911 called", "911 has been called",
               core=True,
               response=Response.STARTS),
    ActionInfo(Action.BREATHS_START, "Start breaths", "Rescue breaths started",
               "rescue breaths on (metronome: 1 breath every 5 s)", sim="breaths_on",
               core=True,
               response=Response.STARTS),
    ActionInfo(Action.BREATHS_STOP, "Stop breaths", "Rescue breaths stopped",
               "rescue breaths off", sim="breaths_off", core=True),
    ActionInfo(Action.PULSE, "Pulse felt", "Pulse felt", "you felt a pulse (if trained)"),
    ActionInfo(Action.NO_PULSE, "No pulse", "No pulse felt",
               "no pulse (if trained): chest compressions and breaths",
               response=Response.STARTS),
    ActionInfo(Action.COMPRESSIONS_START, "Start CPR", "Chest compressions started",
               "chest compressions on (CPR)", sim="compressions_on", core=True,
               response=Response.STARTS),
    ActionInfo(Action.COMPRESSIONS_STOP, "Stop CPR", "Chest compressions stopped",
               "chest compressions off", sim="compressions_off", core=True),
    ActionInfo(Action.NALOXONE, "Naloxone given", "Naloxone dose {dose} ({route})",
               "naloxone given (starts the dose timer)", sim="naloxone", core=True,
               response=Response.STARTS),
    ActionInfo(Action.BREATHING_NORMAL, "Breathing normally", "Breathing normally",
               "breathing normally: about 1 breath every 5 s, no gurgling or snoring"),
    ActionInfo(Action.BREATHING_NOT_NORMAL, "NOT breathing normally",
               "Not breathing normally",
               "not breathing normally: slow, gurgling, snoring or not at all",
               response=Response.STARTS),
    ActionInfo(Action.BREATH_TAP, "Tap each breath", "Breath tapped",
               "tap at each breath the person takes (breathing-rate counter)",
               shown_in_log=False),
    ActionInfo(Action.AWAKE, "Awake", "Awake", "awake: talking, or answers you"),
    ActionInfo(Action.RECOVERY_POSITION, "Recovery position", "Put in the recovery position",
               "in the recovery position", sim="recovery"),
    ActionInfo(Action.VOMITING, "Vomiting / withdrawal", "Vomiting or withdrawal signs",
               "vomiting or withdrawal (sick, agitated): recovery position, no more naloxone"),
    ActionInfo(Action.OXYGEN, "Oxygen on", "Oxygen given", "oxygen given", sim="oxygen"),
    ActionInfo(Action.EMS_ARRIVED, "EMS arrived", "EMS arrived", "paramedics are here",
               response=Response.ENDS),
    ActionInfo(Action.END, "End response", "Response ended",
               "end the response (asks first) and open the debrief",
               response=Response.ENDS),
)}

#: The words for a naloxone route in the log and on buttons.
ROUTE_WORDS: dict[str, str] = {"im": "injection", "nasal": "nasal spray"}


@dataclass(frozen=True)
class KeyBinding:
    """One key of the live screen. A toggle (breaths, CPR) sends its first action when off
    and its second when on."""

    keys: str  # Textual key names, comma-separated ("space,t")
    shown: str  # how the key is printed on a button ("␣")
    actions: tuple[Action, ...]  # one action, or (on, off) for a toggle
    label: str  # the button's words
    short: str  # the words on a narrow screen
    params: tuple[tuple[str, str], ...] = ()

    @property
    def toggle(self) -> bool:
        return len(self.actions) == 2

    @property
    def id(self) -> str:
        """The key's name as the screen sends it (its first key: "space" for "space,t")."""
        return self.keys.split(",")[0]


KEYS: tuple[KeyBinding, ...] = (
    KeyBinding("9", "9", (Action.CALLED_911,), "911 called", "911"),
    KeyBinding("b", "b", (Action.BREATHS_START, Action.BREATHS_STOP), "Breaths on/off",
               "breaths"),
    KeyBinding("n", "n", (Action.NALOXONE,), "Naloxone (injection)", "naloxone",
               (("route", "im"),)),
    KeyBinding("m", "m", (Action.NALOXONE,), "Naloxone (nasal)", "nasal",
               (("route", "nasal"),)),
    KeyBinding("c", "c", (Action.COMPRESSIONS_START, Action.COMPRESSIONS_STOP), "CPR on/off",
               "CPR"),
    KeyBinding("x", "x", (Action.UNRESPONSIVE,), "No response", "no response"),
    KeyBinding("w", "w", (Action.RESPONSIVE,), "Responds", "responds"),
    KeyBinding("u", "u", (Action.BREATHING_NOT_NORMAL,), "NOT breathing normally",
               "NOT breathing OK"),
    KeyBinding("y", "y", (Action.BREATHING_NORMAL,), "Breathing normally", "breathing OK"),
    KeyBinding("space,t", "␣", (Action.BREATH_TAP,), "Tap each breath", "tap breath"),
    KeyBinding("h", "h", (Action.PULSE,), "Pulse felt", "pulse"),
    KeyBinding("0", "0", (Action.NO_PULSE,), "No pulse", "no pulse"),
    KeyBinding("a", "a", (Action.AWAKE,), "Awake", "awake"),
    KeyBinding("r", "r", (Action.RECOVERY_POSITION,), "Recovery position", "recovery"),
    KeyBinding("v", "v", (Action.VOMITING,), "Vomiting / withdrawal", "vomiting"),
    KeyBinding("o", "o", (Action.OXYGEN,), "Oxygen on", "oxygen"),
    KeyBinding("e", "e", (Action.EMS_ARRIVED,), "EMS arrived", "EMS here"),
)


def key_by_id(key_id: str) -> KeyBinding | None:
    """The key whose `id` is `key_id` (what a button or chip sends)."""
    return next((kb for kb in KEYS if kb.id == key_id), None)


def key_for(action: Action, params: dict[str, str] | None = None) -> KeyBinding | None:
    """The key that sends `action` (with a naloxone route, the key for that route)."""
    route = (params or {}).get("route")
    for kb in KEYS:
        if action in kb.actions and (route is None or dict(kb.params).get("route", route)
                                     == route):
            return kb
    return None


def log_line(action: Action, params: dict[str, object] | None = None) -> str:
    """The event log's plain line for an action, e.g. "Naloxone dose 2 (nasal spray)". A
    parameter that was not given is left out, never guessed ("Naloxone dose 1" from a file
    that does not say the route)."""
    p = params or {}
    text = ACTIONS[action].log
    if "route" not in p:
        text = text.replace(" ({route})", "")
    if "dose" not in p:
        text = text.replace(" dose {dose}", "")
    route = str(p.get("route", ""))
    return text.format(dose=p.get("dose", ""), route=ROUTE_WORDS.get(route, route))


#: Responder actions that reach a simulated patient, as the simulator's intervention names.
SIM_INTERVENTIONS: dict[Action, str] = {a: i.sim for a, i in ACTIONS.items() if i.sim}


def response_after(active: bool, action: Action) -> bool:
    """Whether an overdose response is under way after `action` (it was `active` before).

    Under way from the first action that says so (`Response.STARTS`) until
    EMS arrive or the response is ended; any other action leaves it as it was. While it is
    under way the alarms for low SpO2 and for no reading are high priority, and ending the
    session asks first."""
    what = ACTIONS[action].response
    if what is Response.STARTS:
        return True
    if what is Response.ENDS:
        return False
    return active


def response_spans(actions: Iterable[tuple[float, Action]]) -> list[tuple[float, float | None]]:
    """The (start, end) spans of the response from timed actions in time order; the last span
    is open (end None) while the response is still under way."""
    spans: list[tuple[float, float | None]] = []
    since: float | None = None
    for t, a in actions:
        now = response_after(since is not None, a)
        if now and since is None:
            since = t
        elif not now and since is not None:
            spans.append((since, t))
            since = None
    if since is not None:
        spans.append((since, None))
    return spans


def recorded_response_spans(events: list[dict[str, Any]]) -> list[tuple[float, float | None]]:
    """The response spans of a recorded session, from its responder events (`by` responder,
    `name` an action): the same rule the live session applies, for the offline analysis."""
    acts: list[tuple[float, Action]] = []
    for e in events:
        t = e.get("t")
        if e.get("by") != "responder" or not isinstance(t, int | float) or isinstance(t, bool):
            continue
        try:
            acts.append((float(t), parse_action(str(e.get("name", "")))))
        except OxiError:
            continue
    return response_spans(acts)
