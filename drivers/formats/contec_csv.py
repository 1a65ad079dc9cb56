"""Contec vendor CSV (SpO2 Assistant / pulseoxdl): `DATE,TIME,SPO2,PULSE`, one row a second,
`YYYY-MM-DD, HH:MM:SS, spo2, pulse` with a space after each comma, CRLF line ends. Artefacts
(finger out) are written as `127, 255` and become finger-out gaps (start-up before the first
reading). pulseoxdl can add a `PI` column.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from drivers.errors import FormatError
from drivers.formats._base import FormatInfo, Recording
from drivers.formats._cells import NAN, floats, number
from drivers.formats._rows import split_rows
from drivers.formats._text_lines import Progress, TextLines, head_lines
from drivers.formats._text_rows import Columns, finish, read_rows
from drivers.formats._timestamps import TimeParser, code_stamps, parse_date, vec_stamps
from drivers.reading import Status

NAME = "contec-csv"
#: Contec's artefact pair 127/255 is its finger-out marker (FORMATS: Contec files)
FINGER_OUT_MARK = Status.FINGER_OUT


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
    pi_col = -1
    width: list[int] = []  # cells in the header row

    def header(line: str) -> None:
        nonlocal pi_col
        hdr = _header(line)
        if hdr is None:
            raise FormatError(path, "not a Contec CSV (first line is not "
                                    "DATE,TIME,SPO2,PULSE)", line=1)
        pi_col = hdr.index("PI") if "PI" in hdr else -1
        width.append(len(hdr))

    def fast(lines: list[str]) -> tuple[np.ndarray, list[np.ndarray]] | None:
        try:
            fields = [ln.split(",") for ln in lines]
            if min(map(len, fields)) < max(4, pi_col + 1):
                return None
            stamps = vec_stamps([f[0] + f[1] for f in fields], "yyyy-oo-dd hh:mm:ss")
            if stamps is None:
                return None
            vals = [floats([f[2] for f in fields]), floats([f[3] for f in fields])]
            if pi_col >= 0:
                vals.append(floats([f[pi_col] for f in fields]))
            return stamps, vals
        except (ValueError, IndexError):
            return None

    def slow(line: str) -> tuple[float, float, float, float]:
        f = line.split(",")
        if len(f) < 4:
            raise ValueError(f"expected 4 fields, found {len(f)}")
        ts = parse_date(f[0], tp) + tp(f[1])
        pi = number(f[pi_col]) if 0 <= pi_col < len(f) else NAN
        return ts, number(f[2]), number(f[3]), pi

    def fast_bytes(buf: bytes) -> tuple[np.ndarray, list[np.ndarray]] | None:
        c = split_rows(buf, ord(","), width[0]) if width else None
        if c is None:
            return None
        date, clock = c.codes(0, 10), c.codes(1, 9)  # "2021-04-30", " 11:28:39"
        if date is None or clock is None:
            return None
        stamps = code_stamps(np.hstack((date, clock)), "yyyy-oo-dd hh:mm:ss")
        vals = [c.numbers(2), c.numbers(3)]
        if pi_col >= 0:
            vals.append(c.numbers(pi_col))
        if stamps is None or any(v is None for v in vals):
            return None
        return stamps, vals  # type: ignore[return-value]

    cols = Columns(with_pi=True)
    rows = read_rows(tl, cols, header, slow, fast, cells=4, fast_bytes=fast_bytes)
    if pi_col < 0:
        cols.pi = None
    # the file names no model: the vendor software writes this layout for the whole family
    return finish(path, NAME, cols, "naive", interval=1.0, device="Contec",
                  interrupted=rows.interrupted, gap=FINGER_OUT_MARK, notes=rows.notes)


FORMAT = FormatInfo(
    name=NAME, description="Contec SpO2 Assistant CSV (DATE,TIME,SPO2,PULSE)",
    extensions=(".csv",), sniff=sniff, read=read, options=("progress",),
)
