"""Masimo Rad-8 serial output captured to a text file ("ASCII 1" mode), one line a second:

    02/22/16 22:47:45 SN=0000056661 SPO2=098% BPM=097 PI=03.60% SPCO=--.-% … ALARM=0000 EXC=000800

`MM/DD/YY` date and 24-hour time from the device clock; dashes = no value (a gap). A non-zero
`EXC` (exception bits) marks the sample doubtful (POOR_SIGNAL) but keeps its values.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from drivers.errors import FormatError
from drivers.formats._base import FormatInfo, Recording
from drivers.formats._text import (
    NAN,
    Columns,
    Progress,
    TextLines,
    day_seconds,
    finish,
    head_lines,
)
from drivers.reading import Status

NAME = "rad8"
_LINE = re.compile(r"(\d{2})/(\d{2})/(\d{2}) (\d{2}):(\d{2}):(\d{2}) ")
_FIELD = re.compile(r"([A-Z][A-Z0-9]*)=(\S*)")


def sniff(head: bytes, name: str) -> int:
    for line in head_lines(head, 10):
        if line.strip():
            return 90 if _LINE.match(line) and "SPO2=" in line else 0
    return 0


def _val(v: str | None) -> float:
    if v is None:
        return NAN
    v = v.rstrip("%")
    if set(v) <= set("-.+"):  # "--", "--.-", "+--": the device has no value
        return NAN
    return float(v)


def read(path: Path, progress: Progress = None) -> Recording:
    path = Path(path)
    tl = TextLines(path, progress)
    cols = Columns(with_pi=True)
    doubtful: list[int] = []
    serial = ""
    prev = -float("inf")
    bad: FormatError | None = None
    for first, lines in tl:
        for i, line in enumerate(lines):
            ln = first + i
            if bad is not None:
                raise bad
            if not line.strip():
                continue
            try:
                m = _LINE.match(line)
                if m is None:
                    raise ValueError("expected 'MM/DD/YY HH:MM:SS KEY=value …'")
                mo, d, yy, hh, mi, ss = (int(g) for g in m.groups())
                if hh > 23 or mi > 59 or ss > 60:
                    raise ValueError("time of day out of range")
                ts = day_seconds(2000 + yy, mo, d) + hh * 3600 + mi * 60 + ss
                if ts < prev:
                    raise ValueError("time goes backwards")
                f = dict(_FIELD.findall(line[m.end():]))
                if "SPO2" not in f:
                    raise ValueError("no SPO2= field")
                serial = serial or f.get("SN", "")
                exc = f.get("EXC", "0")
                if exc.strip("0-"):
                    int(exc, 16)
                    doubtful.append(len(cols))
                cols.add(ts, _val(f.get("SPO2")), _val(f.get("BPM")), _val(f.get("PI")))
                prev = ts
            except ValueError as e:
                bad = FormatError(path, f"bad line: {e}", line=ln)
    interrupted = False
    if bad is not None:
        if tl.complete:
            raise bad
        interrupted = True
    if not len(cols):
        raise FormatError(path, "no samples in the file")
    # times of the EXC samples, taken before `finish` re-bases the columns in place
    when = np.asarray(cols.ts, dtype=np.float64)[doubtful] - cols.ts[0]
    rec = finish(path, NAME, cols, "naive", interval=1.0,
                 device="Masimo Rad-8" + (f" SN {serial}" if serial else ""),
                 interrupted=interrupted)
    if doubtful:
        ra = rec.readings  # filled gaps shift indices: mark by time instead
        idx = np.searchsorted(ra.t, when)  # type: ignore[attr-defined]
        ra.status[idx] |= int(Status.POOR_SIGNAL)  # type: ignore[attr-defined]
        rec.header["exception_samples"] = len(doubtful)
    return rec


FORMAT = FormatInfo(
    name=NAME, description="Masimo Rad-8 serial ASCII 1 capture", extensions=(".txt", ".log"),
    sniff=sniff, read=read, options=("progress",),
)
