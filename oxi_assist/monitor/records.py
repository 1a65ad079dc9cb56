"""What the alarm and desaturation rules found, as one shape for the live Monitor and the
offline analysis.

The Monitor keeps its history in these records as it goes; `analyze_trace` builds the same
records from a whole recording, so the two can be compared object for object (the agreement
property test does). `to_dict` / `from_dict` are the JSON edges (`analyze --json`, the
Monitor's `summary()`): their keys and values are the ones those outputs have always had.

A record is frozen: a rule that changes one (an alarm raised to high priority, an event that
ends or goes deeper) replaces it, so a record handed out never changes under its reader.

Both records write their fields in their own `__init__` through the slots' descriptors: the
`__init__` a frozen dataclass generates goes through `object.__setattr__` once per field, which
made building a day's thousand records a tenth of the whole analysis (benchmarks/).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from oxi_assist.monitor.priority import Priority


@dataclass(frozen=True, slots=True, init=False)
class AlarmRecord:
    """One alarm condition: raised at `start`, ended at `end` (None: still active)."""

    kind: str
    priority: Priority
    technical: bool
    onset: float  # when the condition began (start of the run that raised it)
    start: float  # when it was raised
    end: float | None

    def __init__(self, kind: str, priority: Priority, technical: bool, onset: float,
                 start: float, end: float | None = None) -> None:
        _ak(self, kind)
        _ap(self, priority)
        _at(self, technical)
        _ao(self, onset)
        _as(self, start)
        _ae(self, end)

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "priority": self.priority.label, "technical": self.technical,
                "onset_s": self.onset, "start_s": self.start, "end_s": self.end}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> AlarmRecord:
        """The inverse of `to_dict` (priority by its label)."""
        return cls(str(d["kind"]), Priority[str(d["priority"]).upper()], bool(d["technical"]),
                   float(d["onset_s"]), float(d["start_s"]),
                   None if d.get("end_s") is None else float(d["end_s"]))


class DesatEnd(StrEnum):
    """How a desaturation event ended; only a recovered one counts in the index (ODI)."""

    RECOVERED = "recovered"  # back within `recovery` points of its baseline
    TOO_LONG = "too_long"  # not recovered within max_duration_s: a prolonged low, not a dip
    GAP = "gap"  # the values stopped (no valid reading): no recovery seen


@dataclass(frozen=True, slots=True, init=False)
class DesatRecord:
    """One desaturation event on the device's values, in whole tenths as compared (so the
    live and offline sides agree exactly; the percentages are derived)."""

    level: float  # 3 or 4 (%)
    start: float  # first sample of the drop
    baseline10: int  # the pre-event baseline it started from
    nadir10: int
    end: float | None
    outcome: DesatEnd | None  # None: still going when the recording ended

    def __init__(self, level: float, start: float, baseline10: int, nadir10: int,
                 end: float | None = None, outcome: DesatEnd | None = None) -> None:
        _dl(self, level)
        _ds(self, start)
        _db(self, baseline10)
        _dn(self, nadir10)
        _de(self, end)
        _do(self, outcome)

    @property
    def baseline(self) -> float:
        return self.baseline10 / 10.0

    @property
    def nadir(self) -> float:
        return self.nadir10 / 10.0

    @property
    def depth(self) -> float:
        return (self.baseline10 - self.nadir10) / 10.0

    @property
    def counted(self) -> bool:
        return self.outcome is DesatEnd.RECOVERED

    def to_dict(self) -> dict[str, Any]:
        return {"level": self.level, "start_s": self.start, "nadir": self.nadir,
                "baseline": self.baseline, "depth": self.depth,
                "duration_s": None if self.end is None else self.end - self.start,
                "end_s": self.end, "ended": None if self.outcome is None else self.outcome.value,
                "counted": self.counted}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> DesatRecord:
        """The inverse of `to_dict` (the tenths from the percentages)."""
        ended = d.get("ended")
        return cls(float(d["level"]), float(d["start_s"]), round(float(d["baseline"]) * 10),
                   round(float(d["nadir"]) * 10),
                   None if d.get("end_s") is None else float(d["end_s"]),
                   None if ended is None else DesatEnd(ended))


def _setters(cls: type) -> list[Callable[[Any, Any], None]]:
    """The slot descriptors' setters of a record's fields, in field order."""
    return [cls.__dict__[name].__set__ for name in cls.__dataclass_fields__]  # type: ignore[attr-defined]


_ak, _ap, _at, _ao, _as, _ae = _setters(AlarmRecord)
_dl, _ds, _db, _dn, _de, _do = _setters(DesatRecord)
