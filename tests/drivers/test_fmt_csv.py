"""Our CSV layout: written and read back without losing a sample, a gap or a flag."""

from __future__ import annotations

import pytest

from drivers.errors import FormatError
from drivers.formats import csv_out, detect, load, native
from drivers.formats.native import SessionWriter
from drivers.reading import Reading, Status

READINGS = [
    Reading(0.0, 96.0, 71.0, pi=1.25),
    Reading(1.0, 95.5, 72.0),
    Reading(2.0, None, None, status=Status.FINGER_OUT),
    Reading(3.0, None, 70.0, status=Status.POOR_SIGNAL | Status.MOTION),
    Reading(4.0, 88.0, 64.0, pi=0.4, status=Status.LOW_PERFUSION),
    Reading(4.5, 87.0, 64.0),
]


def test_native_csv_native_round_trip(tmp_path):
    src = tmp_path / "s.jsonl"
    with SessionWriter(src, source="sim:x", device="Dev", start_wall=1_705_273_512.25) as w:
        w.reading(Reading(0.0, pleth=(1.0, 2.0), pleth_rate=50.0, wave_only=True))
        for r in READINGS:
            w.reading(r)
    a = load(src)
    out = tmp_path / "s.csv"
    csv_out.write(a, out)
    text = out.read_text()
    lines = text.splitlines()
    assert lines[0].startswith("# oxi-assist-csv 1 {")
    assert lines[1] == "t,time,spo2,pulse,pi,status"
    assert lines[2] == "0,2024-01-14T23:05:12.250Z,96,71,1.25,"
    assert lines[4] == "2,2024-01-14T23:05:14.250Z,,,,finger_out"
    assert lines[5].endswith(",,70,,motion|poor_signal")
    assert detect(out) == "csv"
    b = load(out)
    assert list(b.readings) == READINGS  # every value, gap and flag
    assert (b.start_wall, b.device) == (a.start_wall, "Dev")
    back = tmp_path / "back.jsonl"
    native.write(b, back)
    assert load(back).readings == READINGS


def test_unknown_start_leaves_time_empty(tmp_path):
    from drivers.formats._base import Recording
    rec = Recording(path="x", format="test", readings=READINGS[:2])
    out = tmp_path / "u.csv"
    csv_out.write(rec, out)
    assert out.read_text().splitlines()[2] == "0,,96,71,1.25,"
    assert load(out).start_wall is None


def test_bad_csv_layout(tmp_path):
    p = tmp_path / "b.csv"
    p.write_text('# oxi-assist-csv 1 {"start_wall": null}\nt,time,spo2\n0,,96\nx,,95\n1,,97\n')
    with pytest.raises(FormatError, match=r"b\.csv:4: bad row"):
        load(p)
    p.write_text('# oxi-assist-csv 1 {"start_wall": null}\nt,time,spo2,status\n0,,96,sleepy\n')
    with pytest.raises(FormatError, match="unknown status flag"):
        load(p)
    p.write_text("# oxi-assist-csv 1 {broken\n")
    with pytest.raises(FormatError, match=":1: bad metadata"):
        load(p)


def test_block_formatting_equals_the_value_by_value_rule(tmp_path):
    """Whole values are written from a table, others value by value: the text is the same."""
    import numpy as np

    from drivers.formats import csv_out
    from drivers.formats._base import Recording

    rng = np.random.default_rng(4)
    n = 3000
    t = np.arange(n, dtype=float)
    t[n // 2:] += 0.25  # a stretch of times that are not whole seconds
    spo2 = np.where(rng.random(n) < 0.1, np.nan, np.rint(rng.uniform(70, 100, n)))
    pulse = np.where(rng.random(n) < 0.1, np.nan, rng.uniform(30, 200, n))  # not whole
    status = rng.choice([0, int(Status.FINGER_OUT), int(Status.MOTION | Status.BEAT)], n)
    rec = Recording.from_arrays("x", "t", t, spo2, pulse, status, interval=1.0,
                                start_wall=1_705_273_512.0)
    out = tmp_path / "o.csv"
    csv_out.write(rec, out)
    rows = out.read_text().splitlines()[2:]
    fmt = csv_out._fmt
    for i in (0, 1, n // 2, n - 1, *rng.integers(0, n, 50).tolist()):
        cells = rows[i].split(",")
        names = "|".join(f.name.lower() for f in Status if f and f.name and status[i] & f)
        assert cells[0] == fmt(t[i]) and cells[2:] == [fmt(spo2[i]), fmt(pulse[i]), "", names]
