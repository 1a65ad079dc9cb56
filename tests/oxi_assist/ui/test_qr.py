"""The QR code drawn with half blocks holds exactly the modules of the code `qrcode` makes:
read back from the characters, every module is where it should be (a phone reads what the
terminal shows)."""

from __future__ import annotations

from oxi_assist.ui.qr import qr_lines, qr_matrix, qr_text

URL = "http://192.168.1.20:8000/"


def read_back(lines: list[str]) -> list[list[bool]]:
    top = {" ": False, "▀": True, "▄": False, "█": True}
    bottom = {" ": False, "▀": False, "▄": True, "█": True}
    rows: list[list[bool]] = []
    for line in lines:
        rows.append([top[c] for c in line])
        rows.append([bottom[c] for c in line])
    return rows


def test_half_blocks_hold_every_module() -> None:
    m = qr_matrix(URL)
    lines = qr_lines(m)
    assert len(lines) == (len(m) + 1) // 2 and {len(x) for x in lines} == {len(m)}
    back = read_back(lines)
    assert back[:len(m)] == m
    assert len(m) % 2 == 1 and not any(back[len(m)])  # the odd row pairs with a light one
    # the finder patterns: 7 dark modules across the top left corner, inside the margin
    assert m[2][2:9] == [True] * 7 and m[0] == [False] * len(m)


def test_dark_on_light_whatever_the_terminal() -> None:
    t = qr_text(URL)
    assert t.style is not None and "#000000" in str(t.style) and "#ffffff" in str(t.style)
    assert t.plain.splitlines() == qr_lines(qr_matrix(URL))
