"""Contec vendor CSV (SpO2 Assistant / pulseoxdl): `DATE,TIME,SPO2,PULSE`, one row a second,
`YYYY-MM-DD, HH:MM:SS, spo2, pulse` with a space after each comma, CRLF line ends. Artefacts
(finger out) are written as `127, 255` and become gaps. pulseoxdl can add a `PI` column.
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
    finish,
    head_lines,
    number,
    parse_date,
)

NAME = "contec-csv"


def _header(line: str) -> list[str] | None:
    cells = [c.strip().upper() for c in line.split(",")]
    return cells if cells[:4] == ["DATE", "TIME", "SPO2", "PULSE"] else None


def sniff(head: bytes, name: str) -> int:
    lines = head_lines(head, 2)
    return 95 if lines and _header(lines[0]) else 0


def read(path: Path, progress: Progress = None) -> Recording:
    path = Path(path)
    tl = TextLines(path, progress)
    tp = TimeParser()
    cols: Columns | None = None
    pi_col = -1
    prev = -float("inf")
    bad: FormatError | None = None
    for first, lines in tl:
        for i, line in enumerate(lines):
            ln = first + i
            if bad is not None:
                raise bad
            if cols is None:
                hdr = _header(line)
                if hdr is None:
                    raise FormatError(path, "not a Contec CSV (first line is not "
                                            "DATE,TIME,SPO2,PULSE)", line=ln)
                pi_col = hdr.index("PI") if "PI" in hdr else -1
                cols = Columns(with_pi=pi_col >= 0)
                continue
            if not line.strip():
                continue
            f = line.split(",")
            try:
                if len(f) < 4:
                    raise ValueError(f"expected 4 fields, found {len(f)}")
                ts = parse_date(f[0], tp) + tp(f[1])
                if ts < prev:
                    raise ValueError("time goes backwards")
                pi = number(f[pi_col]) if 0 <= pi_col < len(f) else float("nan")
                cols.add(ts, number(f[2]), number(f[3]), pi)
                prev = ts
            except ValueError as e:
                bad = FormatError(path, f"bad row: {e}", line=ln)
    interrupted = False
    if bad is not None:
        if tl.complete:
            raise bad
        interrupted = True
    if cols is None:
        raise FormatError(path, "empty file")
    return finish(path, NAME, cols, "naive", interval=1.0, device="Contec CMS50",
                  interrupted=interrupted)


FORMAT = FormatInfo(
    name=NAME, description="Contec SpO2 Assistant CSV (DATE,TIME,SPO2,PULSE)",
    extensions=(".csv",), sniff=sniff, read=read, options=("progress",),
)
