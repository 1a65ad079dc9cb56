"""Row splitting shared by the CSV readers: quotes, doubled quotes, damaged rows."""

from __future__ import annotations

from drivers.formats._cells import split_row


def test_quoted_cell_keeps_its_delimiter() -> None:
    assert split_row('"11:20:29PM Jun 19, 2026",96,61', ",") == \
        ["11:20:29PM Jun 19, 2026", "96", "61"]


def test_doubled_quote_inside_quotes_is_a_quote() -> None:
    assert split_row('"say ""hi""";2', ";") == ['say "hi"', "2"]


def test_unquoted_row_and_empty_cells() -> None:
    assert split_row("1,,3,", ",") == ["1", "", "3", ""]


def test_damaged_rows_split_without_error() -> None:
    assert split_row('"unterminated,1', ",") == ["unterminated,1"]
    assert split_row('a\rb,"c"', ",") == ['a\rb,"c"']  # a stray line break: one cell
