"""Wellue / Viatom CSV exports: the ViHealth app (6- and 4-column dialects) and O2 Insight Pro
(quoted 12-hour times, trailing commas, 255 / 65535 sentinels).

The header wording changes with device and app version, so columns are taken by position
(time, SpO2, pulse, motion, reminders) and the header text only identifies the file. Every
sentinel (`--`, `- -`, 255, 65535) becomes a gap, kept in place so the timeline keeps its
length.
"""

from __future__ import annotations

from pathlib import Path

from drivers.errors import FormatError
from drivers.formats._base import FormatInfo, Recording
from drivers.formats._text import (
    Columns,
    Progress,
    TextLines,
    TimeParser,
    device_from_name,
    finish,
    head_lines,
    number,
    split_row,
)

NAME = "viatom-csv"
_SPO2_WORDS = ("oxygen level", "spo2")


def _is_header(line: str) -> bool:
    cells = [c.strip().lower() for c in line.split(",")]
    return (len(cells) >= 4 and cells[0] == "time"
            and any(cells[1].startswith(w) for w in _SPO2_WORDS)
            and cells[2].startswith("pulse rate") and cells[3] == "motion")


def sniff(head: bytes, name: str) -> int:
    lines = head_lines(head, 2)
    return 90 if lines and _is_header(lines[0]) else 0


def read(path: Path, progress: Progress = None) -> Recording:
    path = Path(path)
    tl = TextLines(path, progress)
    cols = Columns()
    tp = TimeParser(dayfirst=True)  # ViHealth's slash dialect is DD/MM/YYYY
    prev = -float("inf")
    dialect = ""
    bad: FormatError | None = None
    for first, lines in tl:
        for i, line in enumerate(lines):
            ln = first + i
            if bad is not None:
                raise bad
            if ln == 1:
                if not _is_header(line):
                    raise FormatError(path, "not a Viatom/Wellue CSV export (first line is "
                                            "not a Time,Oxygen Level/SpO2,Pulse Rate,Motion "
                                            "header)", line=1)
                n = len(line.split(","))
                dialect = {4: "ViHealth 4-column", 6: "ViHealth 6-column",
                           7: "O2 Insight Pro"}.get(n, f"{n}-column")
                continue
            if not line.strip():
                continue
            f = split_row(line, ",")
            try:
                if len(f) < 3:
                    raise ValueError(f"expected at least 3 fields, found {len(f)}")
                ts = tp(f[0])
                if ts < prev:
                    raise ValueError("time goes backwards")
                cols.add(ts, number(f[1]), number(f[2]))
                prev = ts
            except ValueError as e:
                bad = FormatError(path, f"bad row: {e}", line=ln)
    interrupted = False
    if bad is not None:
        if tl.complete:
            raise bad
        interrupted = True  # a half-written last line: keep everything before it
    if not dialect:
        raise FormatError(path, "empty file")
    return finish(path, NAME, cols, tp.kind, device=device_from_name(path.name),
                  interrupted=interrupted, header={"dialect": dialect})


FORMAT = FormatInfo(
    name=NAME, description="Wellue/Viatom ViHealth or O2 Insight Pro CSV export",
    extensions=(".csv",), sniff=sniff, read=read, options=("progress",),
)
