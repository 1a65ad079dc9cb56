"""The common language of every source: `Reading`s and link events.

A BLE oximeter, a CMS50 on a serial port, a recorded O2Ring file and the simulator all yield
the same objects. An invalid value is `None` with a `Status` flag saying why; a sentinel number
(0, 127, 255, 0x7F, 0xFFFF, NaN) never survives a codec, because downstream a number is a reading.
"""

from __future__ import annotations

import enum
import functools
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable


class Status(enum.IntFlag):
    """Why a value is missing or doubtful. Several can hold at once."""

    NONE = 0
    FINGER_OUT = enum.auto()  # probe off / no finger / sensor unconnected to user
    SEARCHING = enum.auto()  # device is acquiring the pulse; values not yet valid
    LOW_PERFUSION = enum.auto()  # weak pulsatile signal; values doubtful
    MOTION = enum.auto()  # motion artefact / erratic signal
    SENSOR_FAULT = enum.auto()  # equipment or sensor malfunction
    LOW_BATTERY = enum.auto()
    POOR_SIGNAL = enum.auto()  # the device itself calls the measurement questionable
    BEAT = enum.auto()  # a pulse beat was detected in this frame (not a problem flag)
    # Why a recorded file has no value (added after BEAT so that stored bit values stay put):
    NO_SENSOR = enum.auto()  # no oximeter or sensor attached (ResMed fill −1, Masimo "no sensor")
    STARTUP = enum.auto()  # no reading yet since the recording began: the device starting up
    MISSING = enum.auto()  # no value and no reason given (a sentinel, a dash, a hole in time)

    @property
    def names(self) -> list[str]:
        return list(_flag_names(int(self)))

    @classmethod
    def from_names(cls, names: list[str] | tuple[str, ...]) -> Status:
        out = cls.NONE
        for n in names:
            try:
                out |= cls[n.upper()]
            except KeyError:
                raise ValueError(f"unknown status flag {n!r}") from None
        return out


@functools.lru_cache(maxsize=1024)
def _flag_names(value: int) -> tuple[str, ...]:
    """Every recorded frame spells its flags: worked out once per combination."""
    st = Status(value)
    return tuple(f.name.lower() for f in Status if f and f in st and f.name)


#: Flags that make a value unusable (shown as NO READING / SIGNAL POOR, never as a number).
INVALIDATING = (Status.FINGER_OUT | Status.SEARCHING | Status.SENSOR_FAULT | Status.NO_SENSOR
                | Status.STARTUP | Status.MISSING)
#: The reasons a sample has no value, most specific first: what a debrief names a gap by.
GAP_REASONS: tuple[tuple[Status, str], ...] = (
    (Status.NO_SENSOR, "no oximeter attached"),
    (Status.SENSOR_FAULT, "sensor fault"),
    (Status.FINGER_OUT, "finger out"),
    (Status.SEARCHING, "searching"),
    (Status.STARTUP, "start-up"),
    (Status.MISSING, "no value recorded"),
)
#: Flags that make a value doubtful (shown with SIGNAL POOR).
DOUBTFUL = Status.LOW_PERFUSION | Status.MOTION | Status.POOR_SIGNAL


@dataclass(frozen=True, slots=True)
class Reading:
    """One update from a source.

    `t` is seconds on the source's clock (monotonic; for a file, seconds since its start).
    `pleth` holds waveform samples scaled to 0–100 % of the device's range, spaced
    1/`pleth_rate` s apart and ending at `t`. A `wave_only` reading carries waveform only
    (some protocols send pleth and vitals in separate packets): its spo2/pulse are "not in this
    packet", not "invalid", and the vitals path ignores it.
    """

    t: float
    spo2: float | None = None
    pulse: float | None = None
    pi: float | None = None
    pleth: tuple[float, ...] = ()
    pleth_rate: float | None = None
    status: Status = Status.NONE
    wave_only: bool = False

    @property
    def valid(self) -> bool:
        """True when the reading carries a usable SpO2 value."""
        return (not self.wave_only and self.spo2 is not None
                and not (self.status & INVALIDATING))


class LinkState(enum.Enum):
    CONNECTING = "connecting"
    CONNECTED = "connected"
    STALE = "stale"  # connected, but no data for longer than the source's limit
    LOST = "lost"
    RECONNECTING = "reconnecting"
    CLOSED = "closed"


@dataclass(frozen=True, slots=True)
class LinkEvent:
    """A change in the connection to the device. `device` is a human label with a short address,
    so the screen can always say which oximeter the numbers come from."""

    t: float
    state: LinkState
    reason: str = ""
    device: str = ""


SourceItem = Reading | LinkEvent


@dataclass(frozen=True, slots=True)
class SourceEvent:
    """Something a source reports besides readings, stamped on the source's timeline like its
    readings: a simulated patient's heart stopping (`cardiac_arrest`) or starting again
    (`circulation_returned`). A session records it; it is never a reading."""

    t: float
    name: str
    data: dict[str, object] = field(default_factory=dict)


@runtime_checkable
class Source(Protocol):
    """Anything that yields readings and link events: a device, a file replay, the simulator.

    Iterating ends after a CLOSED link event (or when the data ends). `close()` is idempotent.
    """

    name: str

    def __aiter__(self) -> AsyncIterator[SourceItem]: ...

    async def close(self) -> None: ...


@runtime_checkable
class Controllable(Protocol):
    """A source that accepts interventions (the simulator): responder actions and trainer cues
    such as `naloxone`, `breaths_on`, `breaths_off`, `oxygen`, `finger_out`, `motion`."""

    def inject(self, action: str, **params: object) -> None: ...


@runtime_checkable
class Trainable(Protocol):
    """The trainer's controls over a simulated patient: pause, speed, interventions and a
    few words on how the patient truly is (for the trainer's bar, never for the responder's
    readings). `paused` and `speed` are plain properties; `set_speed` refuses a speed outside
    the source's range with ValueError, as `inject` refuses an unknown action."""

    @property
    def paused(self) -> bool: ...

    @property
    def speed(self) -> float: ...

    def set_speed(self, x: float) -> None: ...

    def pause(self) -> None: ...

    def resume(self) -> None: ...

    def inject(self, action: str, **params: object) -> None: ...

    def patient_status(self) -> str: ...


@runtime_checkable
class ReportsEvents(Protocol):
    """A source with events of its own (the simulator: arrest began, circulation returned).
    `take_events()` hands each event over once, when the readings have reached its time."""

    def take_events(self) -> list[SourceEvent]: ...


@runtime_checkable
class PatientStatus(Protocol):
    """A simulated source that can say how its patient is, in a few words for the trainer
    ("breathing 4/min", "NOT BREATHING", "CARDIAC ARREST")."""

    def patient_status(self) -> str: ...


@dataclass(slots=True)
class CodecStats:
    """Counters every codec keeps, so corrupt bytes are skipped and counted, never silent."""

    frames_good: int = 0
    frames_bad: int = 0  # framed but failed a checksum or a range check
    bytes_skipped: int = 0  # bytes discarded while resynchronising
    extra: dict[str, int] = field(default_factory=dict)

    def summary(self) -> str:
        return (f"frames good {self.frames_good} / bad {self.frames_bad} / "
                f"skipped bytes {self.bytes_skipped}")
