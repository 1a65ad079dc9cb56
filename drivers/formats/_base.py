"""What every file reader returns, and how a format describes itself."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from drivers.reading import INVALIDATING, LinkEvent, Reading, Status

#: The flag a file reader puts on a sample whose values are all missing when the file gives no
#: reason (a sentinel such as `--`, 255 or 0, or a hole in its timeline). A reader that knows
#: the reason (a documented finger-out marker, an exception bit, a fill that means "no
#: oximeter") sets that flag instead, so a replay and a debrief name the right one.
GAP = Status.MISSING
#: The flag for a sample where only one of SpO2 / pulse is missing: the other one still counts.
PARTIAL = Status.POOR_SIGNAL


class ReadingArrays(Sequence[Reading]):
    """Vitals held as numpy columns, handing out `Reading`s only when asked.

    A day-long 1 Hz file is 86 400 samples; a 100 MB CSV is millions. Keeping them as five
    arrays (NaN = no value) instead of millions of Python objects keeps memory bounded, and
    the offline analysis can use the arrays directly (`Recording.arrays()`). Behaves as a
    read-only sequence of Readings (indexing, slicing, iteration, len, ==).
    """

    __slots__ = ("pi", "pulse", "spo2", "status", "t")

    def __init__(self, t: np.ndarray, spo2: np.ndarray, pulse: np.ndarray,
                 status: np.ndarray | None = None, pi: np.ndarray | None = None) -> None:
        n = len(t)
        self.t = np.asarray(t, dtype=np.float64)
        self.spo2 = np.asarray(spo2, dtype=np.float64)
        self.pulse = np.asarray(pulse, dtype=np.float64)
        self.status = (np.zeros(n, dtype=np.int32) if status is None
                       else np.asarray(status, dtype=np.int32))
        self.pi = None if pi is None else np.asarray(pi, dtype=np.float64)
        for a in (self.spo2, self.pulse, self.status, self.pi):
            if a is not None and len(a) != n:
                raise ValueError("ReadingArrays columns differ in length")

    def __len__(self) -> int:
        return len(self.t)

    def _make(self, t: float, s: float, p: float, st: int, pi: float) -> Reading:
        return Reading(t=t, spo2=None if s != s else s, pulse=None if p != p else p,
                       pi=None if pi != pi else pi, status=Status(st))

    def __getitem__(self, i: Any) -> Any:
        if isinstance(i, slice):
            return ReadingArrays(self.t[i], self.spo2[i], self.pulse[i], self.status[i],
                                 None if self.pi is None else self.pi[i])
        i = int(i)
        pi = float("nan") if self.pi is None else float(self.pi[i])
        return self._make(float(self.t[i]), float(self.spo2[i]), float(self.pulse[i]),
                          int(self.status[i]), pi)

    def __iter__(self) -> Iterator[Reading]:
        step = 65536  # convert in blocks: fast, and never a whole file of Python floats
        for a in range(0, len(self.t), step):
            b = a + step
            pis = (self.pi[a:b].tolist() if self.pi is not None
                   else [float("nan")] * len(self.t[a:b]))
            yield from map(self._make, self.t[a:b].tolist(), self.spo2[a:b].tolist(),
                           self.pulse[a:b].tolist(), self.status[a:b].tolist(), pis)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, ReadingArrays | list | tuple):
            return len(self) == len(other) and all(a == b for a, b in zip(self, other,
                                                                           strict=True))
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"ReadingArrays({len(self)} readings)"

    @classmethod
    def from_readings(cls, readings: Sequence[Reading]) -> ReadingArrays:
        """Columns of the vitals readings of any sequence (wave-only readings left out)."""
        if isinstance(readings, ReadingArrays):
            return readings
        rs = [r for r in readings if not r.wave_only]
        n = len(rs)
        nan = float("nan")
        t = np.fromiter((r.t for r in rs), dtype=float, count=n)
        s = np.fromiter((nan if r.spo2 is None else r.spo2 for r in rs), dtype=float, count=n)
        p = np.fromiter((nan if r.pulse is None else r.pulse for r in rs), dtype=float, count=n)
        st = np.fromiter((int(r.status) for r in rs), dtype=np.int32, count=n)
        pi = None
        if any(r.pi is not None for r in rs):
            pi = np.fromiter((nan if r.pi is None else r.pi for r in rs), dtype=float, count=n)
        return cls(t, s, p, st, pi)


def _frozen(a: np.ndarray) -> np.ndarray:
    """A read-only view: callers may look, not change the recording through it."""
    v = a.view()
    v.flags.writeable = False
    return v


@dataclass
class Recording:
    """A whole recorded trace. Invalid samples are Readings with `spo2=None` and a flag (gaps),
    never numbers. `alarms` and `events` are only filled by the native format, which also holds
    what the Monitor and the responder did during a live session."""

    path: str
    format: str
    readings: list[Reading] = field(default_factory=list)
    links: list[LinkEvent] = field(default_factory=list)
    alarms: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    start_wall: float | None = None  # epoch seconds of t = 0, when the file says
    interval: float | None = None  # nominal seconds between vitals samples
    device: str = ""
    source: str = ""
    header: dict[str, Any] = field(default_factory=dict)
    interrupted: bool = False  # the writer never closed it (a crash or a kill)
    #: the start came from a wall-clock time with no zone (read as this machine's local time):
    #: shown without a UTC offset, since the file never said which zone it was
    start_naive: bool = False
    #: what the reader decided that the user should know (which of several SpO2 columns it
    #: took, trailer rows it skipped, a date order it assumed): one line each, printed by the
    #: commands on stderr
    notes: list[str] = field(default_factory=list)

    @classmethod
    def from_arrays(cls, path: str | Path, fmt: str, t: np.ndarray, spo2: np.ndarray,
                    pulse: np.ndarray, status: np.ndarray | None = None,
                    pi: np.ndarray | None = None, **meta: Any) -> Recording:
        """A Recording whose readings live in numpy columns (NaN = no value)."""
        return cls(path=str(path), format=fmt,
                   readings=ReadingArrays(t, spo2, pulse, status, pi),  # type: ignore[arg-type]
                   **meta)

    def columns(self) -> ReadingArrays:
        """The vitals as columns (t, spo2, pulse, status, pi), without copying when possible."""
        return ReadingArrays.from_readings(self.readings)

    def vitals(self) -> list[Reading]:
        if isinstance(self.readings, ReadingArrays):
            return self.readings  # type: ignore[return-value]  # a read-only list-alike
        return [r for r in self.readings if not r.wave_only]

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(t, spo2, pulse) as float arrays with NaN where there is no valid value.

        From columns they are read-only views of the recording's own arrays where nothing
        has to change (a 100 MB file's columns are not copied to be looked at); a value that
        a flag makes unusable is replaced by NaN in a copy."""
        if isinstance(self.readings, ReadingArrays):
            ra = self.readings
            bad = (ra.status & int(INVALIDATING)) != 0
            out = [_frozen(ra.t)]
            for v in (ra.spo2, ra.pulse):
                hit = bad & ~np.isnan(v)
                out.append(np.where(hit, np.nan, v) if hit.any() else _frozen(v))
            return out[0], out[1], out[2]
        rs = self.vitals()
        n = len(rs)
        t = np.fromiter((r.t for r in rs), dtype=float, count=n)
        spo2 = np.fromiter(
            (r.spo2 if (r.spo2 is not None and not (r.status & INVALIDATING)) else np.nan
             for r in rs), dtype=float, count=n)
        pulse = np.fromiter(
            (r.pulse if (r.pulse is not None and not (r.status & INVALIDATING)) else np.nan
             for r in rs), dtype=float, count=n)
        return t, spo2, pulse

    @property
    def duration(self) -> float:
        if isinstance(self.readings, ReadingArrays):
            t = self.readings.t
            return 0.0 if not len(t) else float(t[-1] - t[0]) + (self.interval or 0.0)
        rs = self.vitals()
        if not rs:
            return 0.0
        return rs[-1].t - rs[0].t + (self.interval or 0.0)


@dataclass(frozen=True)
class FormatInfo:
    """How a format module describes itself to detection and the CLI.

    `sniff(head, name)` scores how sure it is that a file is this format from its first bytes
    (0 = no, 100 = certain); `read(path)` returns a Recording or raises FormatError.
    `options` names the keyword arguments `read` also accepts (`progress`: a callable
    `(bytes_done, bytes_total)`; `columns`: an explicit column mapping), so `load` passes
    each reader only what it understands.
    """

    name: str
    description: str
    extensions: tuple[str, ...]
    sniff: Callable[[bytes, str], int]
    read: Callable[[Path], Recording]
    write: Callable[[Recording, Path], None] | None = None
    options: tuple[str, ...] = ()
