"""The cells of a text table: splitting a row, and a cell's value or the device's marker for
"no value" (NaN). One set of missing markers serves the row-by-row and the column-wise paths,
so both read a file alike.
"""

from __future__ import annotations

import csv

import numpy as np

NAN = float("nan")
MISSING = frozenset({"", "--", "- -", "-", "nan", "na", "n/a", "null", "none", "---", "--.-"})


def number(tok: str) -> float:
    """A value or NaN for an empty / dash / "nan" cell. Raises ValueError for anything else."""
    tok = tok.strip().strip('"')
    if tok.lower() in MISSING:
        return NAN
    return float(tok.rstrip("%"))


def split_row(line: str, delim: str) -> list[str]:
    """Splits a row on `delim`, honouring double quotes (`"11:20:29PM Jun 19, 2026",96`)."""
    if '"' not in line:
        return line.split(delim)
    try:  # the csv module's C parser: the same rules ("" inside quotes is a quote), faster
        return next(csv.reader((line,), delimiter=delim))
    except (csv.Error, StopIteration):  # a NUL or a stray line break: no row to split
        return [line]


#: the missing markers as `float` spells them, for the column-wise path (`floats`)
_REPL = {m: "nan" for m in MISSING} | {m.upper(): "nan" for m in MISSING} | {
    "NaN": "nan", " --": "nan", " - -": "nan", "-- ": "nan"}


def floats(col: list[str]) -> np.ndarray:
    """A column of numeric cells; missing markers → NaN. ValueError for anything else."""
    return np.fromiter(map(float, map(_REPL.get, col, col)), dtype=np.float64, count=len(col))
