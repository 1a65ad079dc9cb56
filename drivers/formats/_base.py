"""What every file reader returns, and how a format describes itself."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from drivers.reading import INVALIDATING, LinkEvent, Reading


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

    def vitals(self) -> list[Reading]:
        return [r for r in self.readings if not r.wave_only]

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(t, spo2, pulse) as float arrays with NaN where there is no valid value."""
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
        rs = self.vitals()
        if not rs:
            return 0.0
        return rs[-1].t - rs[0].t + (self.interval or 0.0)


@dataclass(frozen=True)
class FormatInfo:
    """How a format module describes itself to detection and the CLI.

    `sniff(head, name)` scores how sure it is that a file is this format from its first bytes
    (0 = no, 100 = certain); `read(path)` returns a Recording or raises FormatError.
    """

    name: str
    description: str
    extensions: tuple[str, ...]
    sniff: Callable[[bytes, str], int]
    read: Callable[[Path], Recording]
    write: Callable[[Recording, Path], None] | None = None
