"""A tiny braille canvas: 2×4 dots per terminal cell, for charts that stay light to redraw.

Drawing our own dots (instead of a plotting library) keeps a chart redraw under a millisecond
at the sizes a terminal has, which matters when the screen updates several times a second.
"""

from __future__ import annotations

_BITS = ((0x01, 0x02, 0x04, 0x40), (0x08, 0x10, 0x20, 0x80))


class Canvas:
    def __init__(self, cols: int, rows: int) -> None:
        self.cols = max(1, cols)
        self.rows = max(1, rows)
        self._cells = [[0] * self.cols for _ in range(self.rows)]

    @property
    def width(self) -> int:
        """Dots across."""
        return self.cols * 2

    @property
    def height(self) -> int:
        """Dots down (0 is the top)."""
        return self.rows * 4

    def set(self, x: int, y: int) -> None:
        if 0 <= x < self.width and 0 <= y < self.height:
            self._cells[y // 4][x // 2] |= _BITS[x % 2][y % 4]

    def vline(self, x: int, y0: int, y1: int) -> None:
        lo, hi = (y0, y1) if y0 <= y1 else (y1, y0)
        for y in range(max(lo, 0), min(hi, self.height - 1) + 1):
            self.set(x, y)

    def filled(self, col: int, row: int) -> bool:
        return self._cells[row][col] != 0

    def char(self, col: int, row: int) -> str:
        return chr(0x2800 + self._cells[row][col])
