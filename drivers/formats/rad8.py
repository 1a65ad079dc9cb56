"""Masimo Rad-8 serial output captured to a text file ("ASCII 1" mode), one line a second:

    02/22/16 22:47:45 SN=0000056661 SPO2=098% BPM=097 PI=03.60% SPCO=--.-% … ALARM=0000 EXC=000800

`MM/DD/YY` date and 24-hour time from the device clock; dashes = no value (a gap). `EXC` is a
hex word of exception bits, decoded bit by bit (Masimo Rad-8 Operator's Manual, trend data
format): no sensor, defective or unrecognised sensor, sensor off, pulse search, low perfusion,
interference, ambient light and low signal IQ each set their own flag; `800` (Masimo SET, the
normal good-signal state) and the reserved bits set none.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from drivers.errors import FormatError
from drivers.formats._base import FormatInfo, Recording
from drivers.formats._cells import NAN
from drivers.formats._text_lines import Progress, TextLines, head_lines
from drivers.formats._text_rows import Columns, finish
from drivers.formats._timestamps import day_seconds
from drivers.reading import INVALIDATING, Status

NAME = "rad8"
_LINE = re.compile(r"(\d{2})/(\d{2})/(\d{2}) (\d{2}):(\d{2}):(\d{2}) ")
_FIELD = re.compile(r"([A-Z][A-Z0-9]*)=(\S*)")

#: Exception bits → what they say about the sample. 0x100 and 0x200 are reserved; 0x800 is
#: "Masimo SET: the algorithm runs in full SET mode", a normal state that flags nothing.
EXCEPTION_BITS: tuple[tuple[int, Status], ...] = (
    (0x001, Status.NO_SENSOR),  # no sensor
    (0x002, Status.SENSOR_FAULT),  # defective sensor
    (0x004, Status.LOW_PERFUSION),  # low perfusion
    (0x008, Status.SEARCHING),  # pulse search
    (0x010, Status.POOR_SIGNAL),  # interference
    (0x020, Status.FINGER_OUT),  # sensor off the patient
    (0x040, Status.POOR_SIGNAL),  # ambient light
    (0x080, Status.SENSOR_FAULT),  # unrecognised sensor
    (0x400, Status.POOR_SIGNAL),  # low signal IQ
)


def exception_flags(word: int) -> Status:
    """The Status an EXC word means, bit by bit."""
    out = Status.NONE
    for bit, flag in EXCEPTION_BITS:
        if word & bit:
            out |= flag
    return out


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
    flagged: list[tuple[int, int]] = []  # (row, Status) of the rows whose EXC flags something
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
                exc = f.get("EXC", "0").split(":")[0]  # the trend dump adds ":SET" names
                if exc.strip("0-"):
                    try:
                        word = int(exc, 16)
                    except ValueError:
                        raise ValueError(f"EXC={exc!r} is not a hex word") from None
                    flags = exception_flags(word)
                    if flags:
                        flagged.append((len(cols), int(flags)))
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
    status = np.zeros(len(cols), dtype=np.int32)
    for row, flags in flagged:
        status[row] = flags
    rec = finish(path, NAME, cols, "naive", interval=1.0,
                 device="Masimo Rad-8" + (f" SN {serial}" if serial else ""),
                 interrupted=interrupted, status=status)
    if flagged:
        rec.header["exception_samples"] = len(flagged)
        rec.header["invalid_by_exception"] = sum(
            1 for _, f in flagged if f & int(INVALIDATING))
    return rec


FORMAT = FormatInfo(
    name=NAME, description="Masimo Rad-8 serial ASCII 1 capture", extensions=(".txt", ".log"),
    sniff=sniff, read=read, options=("progress",),
)
