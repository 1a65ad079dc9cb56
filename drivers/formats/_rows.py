"""Delimited rows read column-wise straight from the bytes of a file block.

For a big export the per-row cost is what counts: splitting 8 million lines into Python
strings and converting each cell costs seconds per million rows. Here a block of whole lines
stays one numpy byte array: the line ends and delimiters are found in one pass each, every row
must have the same number of cells, and a column of small decimal numbers or of fixed-width
time stamps is decoded from the bytes with whole-array arithmetic. Anything unusual in a block
(a quote, a byte above 127, a cell that is not a plain number or a missing marker, rows of
different shapes) gives None, and the caller reads that block the ordinary way, which also
names the line of a real error.
"""

from __future__ import annotations

import numpy as np

from drivers.formats._timestamps import column_stamps

#: the widest numeric cell decoded here (wider: the ordinary path)
MAX_CELL = 8
_POW10 = 10.0 ** np.arange(MAX_CELL + 1)
_IPOW10 = 10 ** np.arange(MAX_CELL + 1, dtype=np.int64)
_MINUS, _DOT, _SPACE = 45, 46, 32


class Cells:
    """The cells of a block of rows that all have `k` cells: `lo[:, j]`..`hi[:, j]` is cell j
    of each row (end excluded)."""

    def __init__(self, buf: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> None:
        self.buf, self.lo, self.hi = buf, lo, hi

    def __len__(self) -> int:
        return len(self.lo)

    def width(self, j: int) -> np.ndarray:
        return self.hi[:, j] - self.lo[:, j]

    def codes(self, j: int, width: int) -> np.ndarray | None:
        """Cell j of every row as a (rows, width) matrix of bytes, when all have that width."""
        lo = self.lo[:, j]
        if not np.all(self.hi[:, j] - lo == width):
            return None
        return self.buf[lo[:, None] + np.arange(width)]

    def stamps(self, j: int, template: str, skip: int = 0) -> np.ndarray | None:
        """Naive seconds of a fixed-width time-stamp cell (see `_timestamps.column_stamps`), after
        `skip` leading characters (a space after the delimiter)."""
        lo = self.lo[:, j] + skip
        if not np.all(self.hi[:, j] - lo == len(template)):
            return None
        buf = self.buf
        return column_stamps(lambda i: buf[lo + i], template)

    def numbers(self, j: int) -> np.ndarray | None:
        """Cell j as floats: plain decimals (`95`, ` 96`, `1.25`), NaN for an empty cell and
        the dash markers `-`, `--`, `- -`, `---`; None for anything else."""
        quick = self._small_whole(j)
        if quick is not None:
            return quick
        lo, hi = self.lo[:, j], self.hi[:, j]
        n = len(lo)
        w = hi - lo
        width = int(w.max()) if n else 0
        if width > MAX_CELL:
            return None
        if width == 0:
            return np.full(n, np.nan)
        pos = hi[:, None] - width + np.arange(width)  # right-aligned; left of lo is padding
        pad = pos < lo[:, None]
        c = self.buf[np.maximum(pos, 0)]
        c[pad] = _SPACE
        space = c == _SPACE
        dash = c == _MINUS
        dot = c == _DOT
        d = c.astype(np.int16) - 48
        digit = (d >= 0) & (d <= 9)
        if not np.all(digit | space | dash | dot):
            return None
        missing = ~np.any(digit, axis=1)  # an empty cell or a dash marker
        text = ~space
        # spaces only before a value (" 95" after a comma), never inside or after it
        started = np.logical_or.accumulate(text, axis=1)
        if np.any(space & started & ~missing[:, None]):
            return None
        if np.any(missing & np.any(dot, axis=1)):
            return None  # "." or "-.": not a marker this path knows
        if np.any(dash[~missing]) or np.any(np.count_nonzero(dot, axis=1) > 1):
            return None  # a sign or a second dot: the ordinary parser decides
        # the digits as one integer and the count of those after the dot: value = M / 10^f,
        # one correctly rounded division, so the result is exactly float() of the text
        place = np.cumsum(digit[:, ::-1], axis=1)[:, ::-1] - digit  # digits to the right
        m = (np.where(digit, d, 0).astype(np.int64) * _IPOW10[place]).sum(axis=1)
        after = np.cumsum(dot, axis=1) > 0  # at or right of the dot
        f = np.count_nonzero(digit & after, axis=1)
        out = m / _POW10[f]
        out[missing] = np.nan
        return out


    def _small_whole(self, j: int) -> np.ndarray | None:
        """The usual cell, quickly: up to three digits after at most one space, or `--` /
        empty for no value (SpO2, pulse, motion). None when any cell is something else."""
        lo, hi = self.lo[:, j], self.hi[:, j]
        w = hi - lo
        if len(w) == 0 or w.max() > 3:
            return None
        buf = self.buf
        last = len(buf) - 1
        c2 = buf[np.minimum(hi - 1, last)].astype(np.int16)  # the last character
        c1 = buf[np.maximum(hi - 2, 0)].astype(np.int16)
        c0 = buf[np.maximum(hi - 3, 0)].astype(np.int16)
        d2, d1, d0 = c2 - 48, c1 - 48, c0 - 48
        g2 = (w >= 1) & (d2 >= 0) & (d2 <= 9)
        g1 = (w >= 2) & (d1 >= 0) & (d1 <= 9)
        g0 = (w >= 3) & (d0 >= 0) & (d0 <= 9)
        s1, s0 = c1 == _SPACE, c0 == _SPACE
        # a whole number: one to three digits, spaces allowed in front ("95", " 96", "100")
        ok = g2 & ((w == 1) | ((w == 2) & (g1 | s1))
                   | ((w == 3) & ((g1 & (g0 | s0)) | (s1 & s0))))
        # no value: an empty cell or a dash marker with spaces around ("-", "--", "- -", "---")
        m1, m0 = (c1 == _MINUS) | s1, (c0 == _MINUS) | s0
        none = (w == 0) | ((c2 == _MINUS) & ((w == 1) | ((w == 2) & m1)
                                             | ((w == 3) & m1 & m0)))
        if not np.all(ok | none):
            return None
        val = (np.where(g2, d2, 0) + 10 * np.where(g1, d1, 0)
               + 100 * np.where(g0, d0, 0)).astype(np.float64)
        val[none & ~ok] = np.nan
        return val


def split_rows(data: bytes, delim: int, k: int) -> Cells | None:
    """The cells of a block of whole lines (each ending with a newline; a CR before it is
    dropped) when every line has exactly `k` cells and the block is plain ASCII with no
    quotes; else None."""
    if not data or data[-1] != 10 or not data.isascii() or b'"' in data or b"\0" in data:
        return None  # not whole lines, not plain ASCII, quoted cells, binary: ordinary path
    buf = np.frombuffer(data, dtype=np.uint8)
    ends = np.flatnonzero(buf == 10)
    n = len(ends)
    cuts = np.flatnonzero(buf == delim)
    if len(cuts) != n * (k - 1):
        return None
    starts = np.empty(n, dtype=np.int64)
    starts[0] = 0
    starts[1:] = ends[:-1] + 1
    stop = ends - (buf[ends - 1] == 13) if b"\r" in data else ends  # CRLF line ends
    if np.any(stop <= starts):
        return None  # a blank line: the ordinary path skips it
    cuts = cuts.reshape(n, k - 1)
    if k > 1 and not (np.all(cuts[:, 0] >= starts) and np.all(cuts[:, -1] < stop)):
        return None  # the delimiters are not k - 1 to every line
    lo = np.empty((n, k), dtype=np.int64)
    hi = np.empty((n, k), dtype=np.int64)
    lo[:, 0] = starts
    lo[:, 1:] = cuts + 1
    hi[:, :-1] = cuts
    hi[:, -1] = stop
    return Cells(buf, lo, hi)
