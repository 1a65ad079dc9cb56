"""Where a session's records go: the recording file, an in-memory copy, or both.

Every record the session makes — a reading, a link change, an alarm change, an event — goes
through one `Recorder`, with times in session seconds. The session keeps an in-memory copy
(`MemoryRecorder`) for the debrief of a session that was not written to disk and for the
summary at its end, and writes the same records to the native recording (`FileRecorder`) when
there is one; `Tee` sends each record to both.

A disk that fails ends the recording, never the session: `FileRecorder` reports the failure
once and writes nothing more, while the in-memory copy goes on.
"""

from __future__ import annotations

import contextlib
import math
from array import array
from collections.abc import Callable
from typing import Any, Protocol

import numpy as np

from drivers.formats._base import Recording
from drivers.formats.native import SessionWriter
from drivers.reading import LinkEvent, Reading, Status
from drivers.safe_files import os_reason


class Recorder(Protocol):
    """Takes a session's records; times are session seconds."""

    def reading(self, r: Reading) -> None: ...

    def link(self, e: LinkEvent) -> None: ...

    def alarm(self, t: float, kind: str, priority: str, state: str, message: str = "",
              **data: Any) -> None: ...

    def event(self, t: float, name: str, **data: Any) -> None: ...

    def flush(self) -> None: ...

    def close(self, t: float | None = None, reason: str = "") -> None: ...


class FileRecorder:
    """Writes through to the native recording. A write that fails (a full disk, a record
    that cannot be encoded) closes the writer and is reported once to `on_failure` with the
    words the screen shows; the records after it are not written."""

    def __init__(self, writer: SessionWriter, on_failure: Callable[[str], None]) -> None:
        self.writer = writer
        self._on_failure = on_failure

    def _call(self, write: Callable[..., None], *args: Any, **kw: Any) -> None:
        if self.writer.closed:
            return
        try:
            write(*args, **kw)
        except (OSError, ValueError) as e:
            why = (f"write failed ({os_reason(e)})" if isinstance(e, OSError)
                   else f"a record could not be written ({e})")
            self._on_failure(f"recording stopped: {why}")
            with contextlib.suppress(Exception):
                self.writer.closed = True

    def reading(self, r: Reading) -> None:
        self._call(self.writer.reading, r)

    def link(self, e: LinkEvent) -> None:
        self._call(self.writer.link, e)

    def alarm(self, t: float, kind: str, priority: str, state: str, message: str = "",
              **data: Any) -> None:
        self._call(self.writer.alarm, t, kind, priority, state, message, **data)

    def event(self, t: float, name: str, **data: Any) -> None:
        self._call(self.writer.event, t, name, **data)

    def flush(self) -> None:
        self._call(self.writer.flush)

    def close(self, t: float | None = None, reason: str = "") -> None:
        self._call(self.writer.close, t=t, reason=reason)


class MemoryRecorder:
    """The whole session in memory, for `Session.recording()` and the end's summary.

    Vitals are kept at up to 4 a second (a change of the status flags, e.g. finger out, always
    gets its own sample; a bin keeps its lowest SpO2, so no dip is lost) in compact arrays: a
    night at 60 frames a second stays a few megabytes. Pleth is not kept."""

    def __init__(self) -> None:
        self._t = array("d")
        self._spo2 = array("d")
        self._pulse = array("d")
        self._status = array("q")
        self.links: list[LinkEvent] = []
        self.alarms: list[dict[str, Any]] = []
        self.events: list[dict[str, Any]] = []
        self._lowest = math.inf  # the lowest valid SpO2 reading
        self._s_lo, self._s_hi = math.inf, -math.inf  # span of the readings' times

    def reading(self, r: Reading) -> None:
        self._s_lo, self._s_hi = min(self._s_lo, r.t), max(self._s_hi, r.t)
        if r.wave_only:
            return
        if r.valid and r.spo2 is not None:
            self._lowest = min(self._lowest, float(r.spo2))
        spo2 = math.nan if r.spo2 is None else float(r.spo2)
        pulse = math.nan if r.pulse is None else float(r.pulse)
        st = int(r.status & ~Status.BEAT)
        if self._t and r.t - self._t[-1] < 0.25 and st == self._status[-1]:
            if spo2 < self._spo2[-1]:  # the bin keeps its lowest SpO2: no dip is lost
                self._spo2[-1], self._pulse[-1] = spo2, pulse
            return
        self._t.append(r.t)
        self._spo2.append(spo2)
        self._pulse.append(pulse)
        self._status.append(st)

    def link(self, e: LinkEvent) -> None:
        self.links.append(e)

    def alarm(self, t: float, kind: str, priority: str, state: str, message: str = "",
              **data: Any) -> None:
        self.alarms.append({"k": "alarm", "t": round(t, 4), "kind": kind,
                            "priority": priority, "state": state, "message": message, **data})

    def event(self, t: float, name: str, **data: Any) -> None:
        self.events.append({"k": "event", "t": round(t, 4), "name": name, **data})

    def flush(self) -> None:
        """Nothing to flush: memory is not lost to a crash of the disk."""

    def close(self, t: float | None = None, reason: str = "") -> None:
        """Nothing to close: the copy stays readable after the end."""

    def summary(self, end: float) -> dict[str, Any]:
        """What `oxi-assist sessions` lists of a session that ended at `end`, so a long
        recording is listed without reading it."""
        return {"duration": round(max(end, self._s_hi) - min(0.0, self._s_lo), 4),
                "lowest_spo2": None if math.isinf(self._lowest) else round(self._lowest, 1),
                "alarms": sum(1 for a in self.alarms if a.get("state") == "raised"),
                "actions": sum(1 for e in self.events if e.get("by") == "responder")}

    def recording(self, path: str, *, source: str, device: str, start_wall: float,
                  interrupted: bool) -> Recording:
        """The records so far as a `Recording` (a copy: the session goes on)."""
        rec = Recording.from_arrays(
            path, "memory", np.array(self._t, dtype=float), np.array(self._spo2, dtype=float),
            np.array(self._pulse, dtype=float), np.array(self._status, dtype=np.int32),
            links=list(self.links), alarms=[dict(a) for a in self.alarms],
            events=[dict(e) for e in self.events], source=source, device=device,
            start_wall=start_wall)
        rec.interrupted = interrupted
        return rec


class Tee:
    """The in-memory copy and the file, record for record. The file failing does not stop
    the copy (`FileRecorder` keeps its failures to itself). A reading goes to the file
    first and everything else to memory first, the order the session has always used."""

    def __init__(self, memory: MemoryRecorder, file: FileRecorder) -> None:
        self.memory = memory
        self.file = file

    def reading(self, r: Reading) -> None:
        self.file.reading(r)
        self.memory.reading(r)

    def link(self, e: LinkEvent) -> None:
        self.memory.link(e)
        self.file.link(e)

    def alarm(self, t: float, kind: str, priority: str, state: str, message: str = "",
              **data: Any) -> None:
        self.memory.alarm(t, kind, priority, state, message, **data)
        self.file.alarm(t, kind, priority, state, message, **data)

    def event(self, t: float, name: str, **data: Any) -> None:
        self.memory.event(t, name, **data)
        self.file.event(t, name, **data)

    def flush(self) -> None:
        self.memory.flush()
        self.file.flush()

    def close(self, t: float | None = None, reason: str = "") -> None:
        self.memory.close(t, reason)
        self.file.close(t, reason)
