"""A QR code drawn in the terminal with half-block characters: two rows of modules per line of
text, dark modules black on a white ground whatever the terminal's own colours (a phone's
camera reads it off the screen). The code itself comes from the `qrcode` package."""

from __future__ import annotations

from rich.style import Style
from rich.text import Text

#: modules of light margin around the code (the standard asks 4; 2 scans off a screen, whose
#: own background is not part of the code, and saves terminal rows)
BORDER = 2
_INK = Style(color="#000000", bgcolor="#ffffff")
#: (top dark, bottom dark) → character drawn in black on white
_HALF = {(False, False): " ", (True, False): "▀", (False, True): "▄", (True, True): "█"}


def qr_matrix(data: str, border: int = BORDER) -> list[list[bool]]:
    """The modules (True: dark) with the margin, the smallest version that holds `data`."""
    import qrcode
    from qrcode.constants import ERROR_CORRECT_L

    q = qrcode.QRCode(border=border, error_correction=ERROR_CORRECT_L)
    q.add_data(data)
    q.make(fit=True)
    return [list(map(bool, row)) for row in q.get_matrix()]


def qr_lines(matrix: list[list[bool]]) -> list[str]:
    """Two module rows per text line (an odd last row pairs with a light one)."""
    rows = [*matrix, [False] * len(matrix[0])] if len(matrix) % 2 else matrix
    return ["".join(_HALF[(top, bottom)] for top, bottom in zip(rows[i], rows[i + 1],
                                                                 strict=True))
            for i in range(0, len(rows), 2)]


def qr_text(data: str) -> Text:
    """The code as Rich text, ready for a Static."""
    return Text("\n".join(qr_lines(qr_matrix(data))), style=_INK, no_wrap=True)
