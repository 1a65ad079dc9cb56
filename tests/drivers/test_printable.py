"""Outside text is printed with its control characters escaped."""

from __future__ import annotations

from drivers.printable import printable


def test_escape_sequences_and_line_breaks_are_shown_not_obeyed() -> None:
    assert printable("Pulse\x1b[2J\x1b]0;pwned\x07Ox") == "Pulse\\x1b[2J\\x1b]0;pwned\\x07Ox"
    assert printable("a\nb\rc\td") == "a\\nb\\rc\\td"
    assert printable("\x9b31m") == "\\x9b31m"  # a C1 control (8-bit CSI)


def test_bidi_overrides_and_separators_are_escaped() -> None:
    assert printable("rec\u202egpj.exe") == "rec\\u202egpj.exe"
    assert printable("a\u2028b") == "a\\u2028b"


def test_ordinary_text_is_untouched() -> None:
    for s in ("SpO₂ 97 %", "Ω Masimo Rad-8", "émoji ✓", "a\u00a0b", ""):
        assert printable(s) == s


def test_keep_lets_our_own_line_breaks_through() -> None:
    assert printable("line 1\nline 2\x1b", keep="\n") == "line 1\nline 2\\x1b"


def test_undecodable_file_name_bytes_are_escaped() -> None:
    name = b"rec\xff.jsonl".decode("utf-8", "surrogateescape")
    assert printable(name) == "rec\\udcff.jsonl"
