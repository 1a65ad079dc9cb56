"""Wellue / Viatom CSV exports: the ViHealth app (6- and 4-column dialects) and O2 Insight Pro
(quoted 12-hour times, trailing commas, 255 / 65535 sentinels).

The header wording changes with device and app version, so columns are taken by position
(time, SpO2, pulse, motion, reminders) and the header text only identifies the file. Every
sentinel (`--`, `- -`, 255, 65535) becomes a gap, kept in place so the timeline keeps its
length.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from drivers.errors import FormatError
from drivers.formats._base import FormatInfo, Recording
from drivers.formats._cells import NAN, floats, number, split_row
from drivers.formats._rows import split_rows
from drivers.formats._text_lines import Progress, TextLines, head_lines
from drivers.formats._text_rows import Columns, finish, read_rows
from drivers.formats._timestamps import TimeParser, device_from_name, vec_stamps

NAME = "viatom-csv"
_SPO2_WORDS = ("oxygen level", "spo2")


def _is_header(line: str) -> bool:
    cells = [c.strip().lower() for c in line.split(",")]
    return (len(cells) >= 4 and cells[0] == "time"
            and any(cells[1].startswith(w) for w in _SPO2_WORDS)
            and cells[2].startswith(("pulse rate", "pr")) and cells[3].startswith("motion"))


def sniff(head: bytes, name: str) -> int:
    lines = head_lines(head, 2)
    return 90 if lines and _is_header(lines[0]) else 0


#: fixed layouts of the time column, for the column-wise fast path
TEMPLATES = ("hh:mm:ss nnn dd yyyy", "hh:mm:ss dd/oo/yyyy", "dd/oo/yyyy hh:mm:ss")
QUOTED_TEMPLATES = ("hh:mm:ssax nnn dd, yyyy",)


def _fast(lines: list[str]) -> tuple[np.ndarray, list[np.ndarray]] | None:
    try:
        fields = [ln.split(",") for ln in lines]
        quoted = lines[0].startswith('"')
        shift = 1 if quoted else 0
        if min(map(len, fields)) < 3 + shift:
            return None
        if quoted:  # "11:20:29PM Jun 19, 2026" was cut in two at its comma
            times = [f[0][1:] + "," + f[1][:-1] for f in fields]
            templates = QUOTED_TEMPLATES
        else:
            times = [f[0] for f in fields]
            templates = TEMPLATES
        ts = None
        for tpl in templates:
            ts = vec_stamps(times, tpl)
            if ts is not None:
                break
        if ts is None:
            return None
        return ts, [floats([f[1 + shift] for f in fields]),
                    floats([f[2 + shift] for f in fields])]
    except (ValueError, IndexError):
        return None


def _fast_bytes(k: int) -> Callable[[bytes], tuple[np.ndarray, list[np.ndarray]] | None]:
    """The whole-block path for rows of `k` cells (the header's count): straight from the
    bytes, for the plain (unquoted) dialects."""

    def parse(buf: bytes) -> tuple[np.ndarray, list[np.ndarray]] | None:
        c = split_rows(buf, ord(","), k)
        if c is None:
            return None
        ts = None
        for tpl in TEMPLATES:
            ts = c.stamps(0, tpl)
            if ts is not None:
                break
        s, p = c.numbers(1), c.numbers(2)
        if ts is None or s is None or p is None:
            return None
        return ts, [s, p]

    return parse


def read(path: Path, progress: Progress = None) -> Recording:
    path = Path(path)
    tl = TextLines(path, progress)
    cols = Columns()
    tp = TimeParser(dayfirst=True)  # ViHealth's slash dialect is DD/MM/YYYY
    dialect: list[str] = []
    width: list[int] = []  # cells in the header row

    def header(line: str) -> None:
        if not _is_header(line):
            raise FormatError(path, "not a Viatom/Wellue CSV export (first line is not a "
                                    "Time,Oxygen Level/SpO2,Pulse Rate,Motion header)", line=1)
        n = len(line.split(","))
        width.append(n)
        dialect.append({4: "ViHealth 4-column", 6: "ViHealth 6-column",
                        7: "O2 Insight Pro"}.get(n, f"{n}-column"))

    def slow(line: str) -> tuple[float, float, float, float]:
        f = split_row(line, ",")
        if len(f) < 3:
            raise ValueError(f"expected at least 3 fields, found {len(f)}")
        return tp(f[0]), number(f[1]), number(f[2]), NAN

    rows = read_rows(tl, cols, header, slow, _fast,
                     fast_bytes=lambda buf: _fast_bytes(width[0])(buf) if width else None)
    return finish(path, NAME, cols, "naive", device=device_from_name(path.name),
                  interrupted=rows.interrupted, header={"dialect": dialect[0]},
                  notes=rows.notes)


FORMAT = FormatInfo(
    name=NAME, description="Wellue/Viatom ViHealth or O2 Insight Pro CSV export",
    extensions=(".csv",), sniff=sniff, read=read, options=("progress",),
)
