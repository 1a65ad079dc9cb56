"""Rows read column-wise from the bytes of a block: the same values, times and errors as the
row-by-row parser, and the ordinary path for anything it does not know."""

from __future__ import annotations

import datetime as dt
import random

import numpy as np
import pytest

from drivers.formats import _text_lines, contec_csv, load, viatom_csv
from drivers.formats._cells import number
from drivers.formats._rows import split_rows

CELLS = ["95", " 96", "--", "- -", "", "100", "7", "  7", " 42", "-", "  -", "---", " --",
         "1.25", "96.1", "0.05", ".5", "7.", "12345678", "-- "]


def test_numbers_equal_the_row_parser_cell_for_cell():
    data = "".join(f"x,{c},3\r\n" for c in CELLS).encode()
    got = split_rows(data, ord(","), 3).numbers(1)
    want = [number(c) for c in CELLS]
    assert np.array_equal(got, np.array(want), equal_nan=True)


@pytest.mark.parametrize("cell", ["9 5", "-5", "5-", "a", "- 5", "1.2.3", ".", "+5", "1e3"])
def test_anything_else_goes_the_ordinary_way(cell):
    assert split_rows(f"x,{cell},3\n".encode(), ord(","), 3).numbers(1) is None


@pytest.mark.parametrize("data", [b"a,b\n", b'a,"b",c\n', b"a,b,c\n\n", b"a,b,c\nd,e\n",
                                  b"a,b,c", "é,b,c\n".encode(), b"a,b\x00,c\n"])
def test_blocks_it_cannot_split_are_left_alone(data):
    assert split_rows(data, ord(","), 3) is None


def _count_splits(monkeypatch, module) -> list[int]:
    """Counts the blocks a reader split column-wise."""
    used = [0]

    def counting(*a):
        c = split_rows(*a)
        used[0] += c is not None
        return c

    monkeypatch.setattr(module, "split_rows", counting)
    return used


def _night(n: int, fmt: str, seed: int) -> tuple[list[str], list[tuple[float, float]]]:
    rnd = random.Random(seed)
    t = dt.datetime(2023, 12, 31, 23, 50, 0)
    rows = []
    for _ in range(n):
        t += dt.timedelta(seconds=rnd.choice([1, 1, 1, 4]))
        s = rnd.choice(["97", "96", "100", "--", "- -", "88"])
        p = rnd.choice(["61", "128", "--", "99"])
        rows.append((t.strftime(fmt), s, p))
    return [",".join(r) for r in rows], rows  # type: ignore[return-value]


@pytest.mark.parametrize("dialect", [
    ("Time,Oxygen Level,Pulse Rate,Motion,O2 Reminder,PR Reminder", "%H:%M:%S %b %d %Y", ",0,0,0"),
    ("Time,Oxygen Level,Pulse Rate,Motion", "%H:%M:%S %d/%m/%Y", ",3"),
])
def test_viatom_bytes_and_rows_give_the_same_recording(tmp_path, monkeypatch, dialect):
    header, fmt, tail = dialect
    lines, _ = _night(3000, fmt, 1)
    p = tmp_path / "night.csv"
    p.write_text(header + "\n" + "".join(ln + tail + "\n" for ln in lines))
    monkeypatch.setattr(_text_lines, "CHUNK", 8192)  # many blocks
    used = _count_splits(monkeypatch, viatom_csv)
    fast = load(p)
    assert used[0] > 5  # the blocks went the column-wise way
    monkeypatch.setattr(viatom_csv, "split_rows", lambda *a: None)  # the ordinary way only
    slow = load(p)
    assert list(fast.readings) == list(slow.readings) and fast.start_wall == slow.start_wall
    assert len(fast.readings) > 3000  # holes in time filled as gaps


def test_contec_bytes_and_rows_give_the_same_recording(tmp_path, monkeypatch):
    rnd = random.Random(2)
    t = dt.datetime(2021, 4, 30, 23, 59, 0)
    rows = []
    for _ in range(3000):
        t += dt.timedelta(seconds=1)
        s, p = rnd.choice([("95", "81"), ("127", "255"), ("100", "61")])
        rows.append(f"{t:%Y-%m-%d}, {t:%H:%M:%S}, {s}, {p}\r\n")
    path = tmp_path / "c.csv"
    path.write_text("DATE,TIME,SPO2,PULSE\r\n" + "".join(rows), newline="")
    monkeypatch.setattr(_text_lines, "CHUNK", 8192)
    used = _count_splits(monkeypatch, contec_csv)
    fast = load(path)
    assert used[0] > 5
    monkeypatch.setattr(contec_csv, "split_rows", lambda *a: None)
    slow = load(path)
    assert list(fast.readings) == list(slow.readings) and len(fast.readings) == 3000


def test_a_bad_row_in_a_block_is_still_named_by_its_line(tmp_path, monkeypatch):
    lines, _ = _night(2000, "%H:%M:%S %d/%m/%Y", 3)
    lines[1500] = lines[1500].replace(",", ",x", 1)
    p = tmp_path / "bad.csv"
    p.write_text("Time,Oxygen Level,Pulse Rate,Motion\n" + "".join(ln + ",0\n" for ln in lines))
    monkeypatch.setattr(_text_lines, "CHUNK", 8192)
    with pytest.raises(Exception, match=r"bad\.csv:1502: bad row"):
        load(p)
