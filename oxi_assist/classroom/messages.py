"""Every message of the class, as typed values: encoded and decoded here and nowhere else.

A message is one JSON object: `{"v": 1, "type": "...", ...}`. `decode()` checks, in order: the
size (at most `MAX_BYTES`, or `STATE_MAX_BYTES` for a station's saved state), UTF-8 JSON, an
object, the version, that the type is the one the topic carries, and every field's type and
range. Anything else is a `MessageError` naming what was wrong; the receiving side counts it
(`Rejections`) and carries on, so a malformed or hostile message can never stop a station or
the trainer. Fields are only ever added (with defaults); a message of a newer version is
refused with a clear reason instead of half-understood.

Times: `t` and the `t_*` fields are the station's session seconds (scenario time for the
simulated patient); `sent` is the sender's wall clock (epoch seconds), used only to measure
delivery latency on one machine.
"""

from __future__ import annotations

import enum
import json
import math
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any, ClassVar, TypeVar

from oxi_assist.classroom.topics import TopicKind

VERSION = 1
#: Most messages are a few hundred bytes; 8 KiB is far above any of them.
MAX_BYTES = 8 * 1024
#: A station's saved state lists its actions and unsent events.
STATE_MAX_BYTES = 32 * 1024
MAX_TEXT = 200
MAX_NAME = 40
MAX_ACTIONS = 300  # saved actions in a station's state (breath taps included)
MAX_OUTBOX = 64  # unacknowledged events carried in a station's state
MAX_PARAMS = 8
MAX_SEQ = 2**53
MAX_VARIANTS = 16  # scenarios handed round a class
MAX_ASSIGNED = 100  # stations given a scenario by name


class MessageError(ValueError):
    """Why a message was refused (one line)."""


class Phase(enum.Enum):
    """The class as the trainer runs it, and each station's own patient."""

    LOBBY = "lobby"  # open, not started
    RUNNING = "running"
    PAUSED = "paused"
    ENDED = "ended"


class CommandName(enum.Enum):
    START = "start"
    PAUSE = "pause"
    RESUME = "resume"
    SPEED = "speed"  # value: 1–20
    FINGER_OUT = "finger_out"  # value: seconds the finger is out
    MOTION = "motion"  # value: seconds of motion artefact
    LOW_PERFUSION = "low_perfusion"  # value: seconds of weak signal
    END = "end"


#: Commands that play a device artefact into the simulated patient (the session's trainer cues).
CUES: frozenset[CommandName] = frozenset(
    {CommandName.FINGER_OUT, CommandName.MOTION, CommandName.LOW_PERFUSION})
#: value limits per command (None: takes no value)
COMMAND_VALUES: dict[CommandName, tuple[float, float] | None] = {
    CommandName.START: None, CommandName.PAUSE: None, CommandName.RESUME: None,
    CommandName.SPEED: (1.0, 20.0), CommandName.FINGER_OUT: (1.0, 600.0),
    CommandName.MOTION: (1.0, 600.0), CommandName.LOW_PERFUSION: (1.0, 600.0),
    CommandName.END: None,
}


class Channel(enum.Enum):
    """Commands are numbered per channel: one sequence for all stations, one per station."""

    ALL = "all"
    OWN = "own"


class EventKind(enum.Enum):
    ACTION = "action"  # a trainee's action (911, breaths, naloxone …)
    STEP = "step"  # the guidance moved to another step
    ALARM = "alarm"  # an alarm was raised or cleared (name = kind, params.state)
    COMMAND = "command"  # a trainer command was applied (name = command)
    SESSION = "session"  # started / restored / ended


class PresenceState(enum.Enum):
    ONLINE = "online"
    LEFT = "left"  # said goodbye
    LOST = "lost"  # the broker's last will: gone without goodbye


Param = str | int | float


# -- field checks ---------------------------------------------------------------------------

def _get(d: dict[str, Any], key: str, default: Any = ...) -> Any:
    if key in d:
        return d[key]
    if default is ...:
        raise MessageError(f"missing field {key!r}")
    return default


def _text(d: dict[str, Any], key: str, limit: int = MAX_TEXT, default: Any = ...) -> str:
    v = _get(d, key, default)
    if not isinstance(v, str):
        raise MessageError(f"field {key!r}: expected text")
    if len(v) > limit:
        raise MessageError(f"field {key!r}: longer than {limit} characters")
    if any(ord(c) < 32 for c in v):
        raise MessageError(f"field {key!r}: control characters")
    return v


def _num(d: dict[str, Any], key: str, lo: float, hi: float, default: Any = ...,
         *, optional: bool = False) -> float | None:
    v = _get(d, key, default)
    if v is None and optional:
        return None
    if isinstance(v, bool) or not isinstance(v, int | float):
        raise MessageError(f"field {key!r}: expected a number")
    x = float(v)
    if not math.isfinite(x) or not lo <= x <= hi:
        raise MessageError(f"field {key!r}: {v!r} outside {lo:g}–{hi:g}")
    return x


def _int(d: dict[str, Any], key: str, lo: int = 0, hi: int = MAX_SEQ, default: Any = ...) -> int:
    v = _get(d, key, default)
    if isinstance(v, bool) or not isinstance(v, int):
        raise MessageError(f"field {key!r}: expected a whole number")
    if not lo <= v <= hi:
        raise MessageError(f"field {key!r}: {v} outside {lo}–{hi}")
    return v


E = TypeVar("E", bound=enum.Enum)


def _enum(d: dict[str, Any], key: str, cls: type[E], default: Any = ...) -> E:
    v = _get(d, key, default)
    if isinstance(v, cls):
        return v
    try:
        return cls(v)
    except ValueError:
        raise MessageError(f"field {key!r}: unknown value {v!r}") from None


def _params(d: dict[str, Any], key: str = "params") -> dict[str, Param]:
    v = _get(d, key, {})
    if not isinstance(v, dict) or len(v) > MAX_PARAMS:
        raise MessageError(f"field {key!r}: expected at most {MAX_PARAMS} named values")
    out: dict[str, Param] = {}
    for k, x in v.items():
        if not isinstance(k, str) or not 0 < len(k) <= MAX_NAME:
            raise MessageError(f"field {key!r}: bad name")
        if isinstance(x, bool) or not isinstance(x, str | int | float):
            raise MessageError(f"field {key!r}: {k} is not text or a number")
        if isinstance(x, float) and not math.isfinite(x):
            raise MessageError(f"field {key!r}: {k} is not a finite number")
        if isinstance(x, str) and len(x) > MAX_TEXT:
            raise MessageError(f"field {key!r}: {k} is too long")
        out[k] = x
    return out


_T = 1e7  # the longest session time a message may carry (s): about 115 days
_WALL = (0.0, 1e11)


# -- messages ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class ClassState:
    """The class as the trainer runs it (retained: a station that connects learns it at once).
    `cmd_seq` is the last command number on the all-stations channel when this was sent."""

    KIND: ClassVar[TopicKind] = TopicKind.CLASS
    phase: Phase
    scenario: str
    seed: int = 0
    vary_seed: bool = False  # each station's patient gets its own seed (from its id)
    speed: float = 1.0
    cmd_seq: int = 0
    guidance: str = ""
    title: str = ""
    sent: float = 0.0
    #: scenarios handed round the stations (by station id) instead of `scenario` for all
    variants: tuple[str, ...] = ()
    #: station id → the scenario the trainer gave it (before it started)
    assigned: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ClassState:
        vary = _get(d, "vary_seed", False)
        if not isinstance(vary, bool):
            raise MessageError("field 'vary_seed': expected true or false")
        variants = _get(d, "variants", [])
        if not isinstance(variants, list) or len(variants) > MAX_VARIANTS:
            raise MessageError(f"field 'variants': expected at most {MAX_VARIANTS} names")
        names = tuple(_text({"n": v}, "n", MAX_NAME * 2) for v in variants)
        assigned = _get(d, "assigned", {})
        if not isinstance(assigned, dict) or len(assigned) > MAX_ASSIGNED:
            raise MessageError(f"field 'assigned': expected at most {MAX_ASSIGNED} stations")
        given = {_text({"k": k}, "k", MAX_NAME): _text({"v": v}, "v", MAX_NAME * 2)
                 for k, v in assigned.items()}
        return cls(_enum(d, "phase", Phase), _text(d, "scenario", MAX_NAME * 2),
                   _int(d, "seed", 0, 2**31, 0), vary, _num(d, "speed", 1, 20, 1.0),
                   _int(d, "cmd_seq", default=0), _text(d, "guidance", MAX_NAME * 2, ""),
                   _text(d, "title", MAX_TEXT, ""), _num(d, "sent", *_WALL, 0.0), names,
                   given)


@dataclass(frozen=True)
class Command:
    """A trainer command. `seq` numbers it on its `channel`; a station applies each channel's
    commands once, in order, and reports the last it applied in its status, so the trainer
    resends what a station missed."""

    KIND: ClassVar[TopicKind] = TopicKind.COMMAND
    seq: int
    channel: Channel
    name: CommandName
    value: float | None = None
    sent: float = 0.0

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Command:
        name = _enum(d, "name", CommandName)
        limits = COMMAND_VALUES[name]
        value = None
        if limits is not None:
            value = _num(d, "value", *limits)
        elif d.get("value") is not None:
            raise MessageError(f"field 'value': {name.value} takes no value")
        return cls(_int(d, "seq", 1), _enum(d, "channel", Channel), name, value,
                   _num(d, "sent", *_WALL, 0.0))


@dataclass(frozen=True)
class StationEvent:
    """Something that happened at a station, numbered per station (`seq` from 1) so the
    trainer can put them in order, drop duplicates and acknowledge them."""

    KIND: ClassVar[TopicKind] = TopicKind.EVENT
    seq: int
    t: float
    kind: EventKind
    name: str
    text: str = ""
    params: dict[str, Param] = field(default_factory=dict)
    sent: float = 0.0

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> StationEvent:
        t = _num(d, "t", -1.0, _T)
        assert t is not None
        return cls(_int(d, "seq", 1), t, _enum(d, "kind", EventKind),
                   _text(d, "name", MAX_NAME * 2), _text(d, "text", MAX_TEXT, ""),
                   _params(d), _num(d, "sent", *_WALL, 0.0))


@dataclass(frozen=True)
class StationStatus:
    """A station's snapshot (about once a second, QoS 0: a lost one is replaced by the next).
    `spo2` is None when the patient's oximeter shows no trustworthy value."""

    KIND: ClassVar[TopicKind] = TopicKind.STATUS
    name: str
    phase: Phase
    t: float = 0.0
    step: str = ""
    step_title: str = ""
    spo2: float | None = None
    alarm: str = ""
    alarm_priority: str = ""
    t_911: float | None = None
    t_breaths: float | None = None
    t_naloxone: float | None = None
    doses: int = 0
    speed: float = 1.0
    cmd_all: int = 0
    cmd_own: int = 0
    event_seq: int = 0
    rejected: int = 0
    sent: float = 0.0
    #: an overlaid real oximeter's link and finger state in words ("finger out"); never a
    #: number it measured
    device: str = ""

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> StationStatus:
        def opt_t(key: str) -> float | None:
            return _num(d, key, 0.0, _T, None, optional=True)

        return cls(_text(d, "name", MAX_NAME), _enum(d, "phase", Phase),
                   _num(d, "t", -1.0, _T, 0.0) or 0.0, _text(d, "step", MAX_NAME * 2, ""),
                   _text(d, "step_title", MAX_TEXT, ""),
                   _num(d, "spo2", 0.0, 100.0, None, optional=True),
                   _text(d, "alarm", MAX_NAME, ""), _text(d, "alarm_priority", 10, ""),
                   opt_t("t_911"), opt_t("t_breaths"), opt_t("t_naloxone"),
                   _int(d, "doses", 0, 100, 0), _num(d, "speed", 1, 20, 1.0) or 1.0,
                   _int(d, "cmd_all", default=0), _int(d, "cmd_own", default=0),
                   _int(d, "event_seq", default=0), _int(d, "rejected", default=0),
                   _num(d, "sent", *_WALL, 0.0) or 0.0, _text(d, "device", MAX_NAME, ""))


@dataclass(frozen=True)
class Presence:
    KIND: ClassVar[TopicKind] = TopicKind.PRESENCE
    state: PresenceState
    name: str = ""
    sent: float = 0.0

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Presence:
        return cls(_enum(d, "state", PresenceState), _text(d, "name", MAX_NAME, ""),
                   _num(d, "sent", *_WALL, 0.0) or 0.0)


@dataclass(frozen=True)
class SavedAction:
    """One action or trainer cue as the station's session recorded it (session seconds)."""

    t: float
    name: str
    params: dict[str, Param] = field(default_factory=dict)
    trainer: bool = False

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> SavedAction:
        if not isinstance(d, dict):
            raise MessageError("saved action: expected an object")
        trainer = _get(d, "trainer", False)
        if not isinstance(trainer, bool):
            raise MessageError("field 'trainer': expected true or false")
        t = _num(d, "t", 0.0, _T)
        assert t is not None
        return cls(t, _text(d, "name", MAX_NAME), _params(d), trainer)


@dataclass(frozen=True)
class StationState:
    """What a station needs to come back as it was after a drop (retained): its patient
    (scenario, seed, how far it had run, every action and cue with its time, so the same
    patient and the same guidance are rebuilt), its counters and its unacknowledged events."""

    KIND: ClassVar[TopicKind] = TopicKind.STATE
    name: str
    scenario: str
    seed: int
    t: float
    phase: Phase
    speed: float = 1.0
    cmd_all: int = 0
    cmd_own: int = 0
    event_seq: int = 0
    actions: tuple[SavedAction, ...] = ()
    outbox: tuple[StationEvent, ...] = ()
    sent: float = 0.0

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> StationState:
        acts, box = _get(d, "actions", []), _get(d, "outbox", [])
        if not isinstance(acts, list) or len(acts) > MAX_ACTIONS:
            raise MessageError(f"field 'actions': expected at most {MAX_ACTIONS} actions")
        if not isinstance(box, list) or len(box) > MAX_OUTBOX:
            raise MessageError(f"field 'outbox': expected at most {MAX_OUTBOX} events")
        for e in box:
            if not isinstance(e, dict):
                raise MessageError("field 'outbox': expected events")
        t = _num(d, "t", 0.0, _T)
        assert t is not None
        return cls(_text(d, "name", MAX_NAME), _text(d, "scenario", MAX_NAME * 2),
                   _int(d, "seed", 0, 2**31), t, _enum(d, "phase", Phase),
                   _num(d, "speed", 1, 20, 1.0) or 1.0, _int(d, "cmd_all", default=0),
                   _int(d, "cmd_own", default=0), _int(d, "event_seq", default=0),
                   tuple(SavedAction.from_dict(a) for a in acts),
                   tuple(StationEvent.from_dict(e) for e in box),
                   _num(d, "sent", *_WALL, 0.0) or 0.0)


@dataclass(frozen=True)
class Ack:
    """The trainer has every event of this station up to `seq` (retained)."""

    KIND: ClassVar[TopicKind] = TopicKind.ACK
    seq: int
    sent: float = 0.0

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Ack:
        return cls(_int(d, "seq", 0), _num(d, "sent", *_WALL, 0.0) or 0.0)


Message = ClassState | Command | StationEvent | StationStatus | Presence | StationState | Ack
_TYPES: dict[TopicKind, type[Any]] = {c.KIND: c for c in (
    ClassState, Command, StationEvent, StationStatus, Presence, StationState, Ack)}


def _plain(v: Any) -> Any:
    if isinstance(v, enum.Enum):
        return v.value
    if isinstance(v, dict):
        return {k: _plain(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [_plain(x) for x in v]
    if isinstance(v, float):
        return round(v, 4)
    return v


def limit_for(kind: TopicKind) -> int:
    return STATE_MAX_BYTES if kind is TopicKind.STATE else MAX_BYTES


def encode(msg: Message) -> bytes:
    """The message as compact JSON. A message over its size limit is a bug of the sender, so
    it raises instead of being sent for the receiver to refuse."""
    d = {"v": VERSION, "type": msg.KIND.value, **_plain(asdict(msg))}
    data = json.dumps(d, separators=(",", ":"), ensure_ascii=False).encode()
    if len(data) > limit_for(msg.KIND):
        raise MessageError(f"{msg.KIND.value} message of {len(data)} bytes is over the "
                           f"{limit_for(msg.KIND)}-byte limit")
    return data


def decode(kind: TopicKind, payload: bytes | bytearray | str) -> Any:
    """The message of `kind` in `payload`; raises `MessageError` with the reason."""
    raw = payload.encode() if isinstance(payload, str) else bytes(payload)
    limit = limit_for(kind)
    if len(raw) > limit:
        raise MessageError(f"oversized: {len(raw)} bytes (limit {limit})")
    try:
        d = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise MessageError("not UTF-8 text") from None
    except ValueError as e:
        raise MessageError(f"not JSON ({e.msg} at offset {e.pos})") from None
    if not isinstance(d, dict):
        raise MessageError("not a JSON object")
    v = d.get("v")
    if v != VERSION:
        raise MessageError(f"message version {v!r} not understood (this is version {VERSION})")
    if d.get("type") != kind.value:
        raise MessageError(f"a {d.get('type')!r} message on a {kind.value} topic")
    return _TYPES[kind].from_dict(d)


def size_of(msg: Message) -> int:
    return len(json.dumps({"v": VERSION, "type": msg.KIND.value, **_plain(asdict(msg))},
                          separators=(",", ":"), ensure_ascii=False).encode())


class Rejections:
    """Messages refused, counted by reason (the reason's first words), never raised."""

    def __init__(self) -> None:
        self.by_reason: Counter[str] = Counter()
        self.last = ""

    def add(self, topic: str, why: str) -> None:
        self.by_reason[why.split(":")[0].split(" (")[0]] += 1
        self.last = f"{topic}: {why}"

    @property
    def total(self) -> int:
        return sum(self.by_reason.values())
