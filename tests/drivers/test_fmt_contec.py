"""Contec .SpO2 / .spoR binaries and the vendor CSV, on the real CMS50E recording."""

from __future__ import annotations

import struct

import numpy as np
import pytest

from drivers.errors import FormatError
from drivers.formats import detect, load
from drivers.reading import Status


def test_binary_matches_readme(vectors):
    rec = load(vectors / "contec-cms50e-live.SpO2")
    assert rec.format == "contec-spo2"
    assert rec.interval == 1.0 and len(rec.readings) == 212
    assert rec.header["header_offset"] == 856 and rec.header["record_bytes"] == 2
    pairs = [(r.spo2, r.pulse) for r in rec.readings]
    assert pairs[:5] == [(95, 81), (95, 81), (95, 80), (95, 80), (95, 79)]
    assert pairs[-3:] == [(96, 76), (96, 77), (96, 77)]
    _t, spo2, pulse = rec.arrays()
    vals, counts = np.unique(spo2, return_counts=True)
    assert dict(zip(vals.tolist(), counts.tolist(), strict=True)) == {
        95.0: 58, 96.0: 74, 97.0: 69, 98.0: 11}
    assert (pulse.min(), pulse.max()) == (72.0, 91.0)
    assert all(r.valid for r in rec.readings)  # no 127/255 artefacts in this file
    import datetime as dt
    start = dt.datetime.fromtimestamp(rec.start_wall)
    assert start == dt.datetime(2021, 4, 30, 11, 28, 39)
    assert dt.datetime.fromtimestamp(rec.start_wall + rec.readings[-1].t).time() == \
        dt.time(11, 32, 10)


def test_csv_twin_agrees_sample_for_sample(vectors):
    b = load(vectors / "contec-cms50e-live.SpO2")
    c = load(vectors / "contec-cms50e-live.csv")
    assert c.format == "contec-csv"
    assert len(c.readings) == 212
    mism = [i for i, (x, y) in enumerate(zip(b.readings, c.readings, strict=True)) if x != y]
    assert mism == []
    assert b.start_wall == c.start_wall


def _spo2_file(records: bytes, n: int, r: int = 2, when=(2024, 1, 14, 23, 5, 12), *,
               layout: int = 0x01, name: str = "") -> bytes:
    """A .SpO2 file from the documented layout (FORMATS: Contec .SpO2): the header offset,
    the layout byte at it, UTF-16LE device text at H+8, the start and the count at H+200."""
    h = 856
    meta = bytearray(199)
    text = name.encode("utf-16-le")
    meta[7:7 + len(text)] = text
    head = struct.pack("<H", h) + bytes(h - 2) + bytes([layout]) + bytes(meta)
    return head + struct.pack("<7I", *when, n) + records


def test_finger_out_pairs_become_gaps_and_cms50i_records(tmp_path):
    p = tmp_path / "x.SpO2"
    p.write_bytes(_spo2_file(bytes([97, 70, 127, 255, 96, 71]), 3))
    rec = load(p)
    assert [(r.spo2, r.pulse) for r in rec.readings] == [(97, 70), (None, None), (96, 71)]
    assert rec.readings[1].status == Status.FINGER_OUT  # Contec's documented marker
    p4 = tmp_path / "i.SpO2"
    p4.write_bytes(_spo2_file(bytes([0, 0, 97, 70, 9, 9, 95, 66]), 2, r=4))
    assert [(r.spo2, r.pulse) for r in load(p4).readings] == [(97, 70), (95, 66)]


def test_header_byte_zero_with_four_byte_records_and_the_model_named_in_the_file(tmp_path):
    """CMS50H / CMS60CW files carry 0x00 at the header offset and 4-byte records; the
    device is the one the file names, not one model for every file."""
    p = tmp_path / "cms60cw.SpO2"
    recs = bytes([1, 0, 97, 70, 2, 0, 96, 71, 3, 0, 95, 72])
    p.write_bytes(_spo2_file(recs, 3, r=4, layout=0x00, name="CMS60CW"))
    assert detect(p) == "contec-spo2"
    rec = load(p)
    assert [(r.spo2, r.pulse) for r in rec.readings] == [(97, 70), (96, 71), (95, 72)]
    assert rec.device == "Contec CMS60CW"
    assert rec.header["record_bytes"] == 4 and rec.header["layout_byte"] == 0
    p.write_bytes(_spo2_file(bytes([97, 70]), 1))  # no name in the file: none invented
    assert "CMS50" not in load(p).device


def test_real_file_device_is_the_text_it_holds(vectors):
    rec = load(vectors / "contec-cms50e-live.SpO2")
    assert rec.device == "Contec BLE" and rec.header["device_name_in_file"] == "BLE"
    assert "CMS50" not in load(vectors / "contec-cms50e-live.csv").device


def test_artefacts_before_the_first_reading_are_start_up_not_finger_out(tmp_path):
    p = tmp_path / "manual.SpO2"
    p.write_bytes(_spo2_file(bytes([127, 255] * 3 + [97, 70, 127, 255, 96, 71]), 6))
    st = [r.status for r in load(p).readings]
    assert st == [Status.STARTUP] * 3 + [Status.NONE, Status.FINGER_OUT, Status.NONE]
    c = tmp_path / "manual.csv"
    c.write_bytes(b"DATE,TIME,SPO2,PULSE\r\n2021-04-30, 11:28:39, 127, 255\r\n"
                  b"2021-04-30, 11:28:40, 95, 81\r\n2021-04-30, 11:28:41, 127, 255\r\n")
    assert [r.status for r in load(c).readings] == [Status.STARTUP, Status.NONE,
                                                    Status.FINGER_OUT]


def test_no_clock_year_zero(tmp_path):
    p = tmp_path / "d.SpO2"
    p.write_bytes(_spo2_file(bytes([97, 70]), 1, when=(0, 0, 0, 0, 0, 0)))
    rec = load(p)
    assert rec.start_wall is None and "no clock" in rec.header["note"]


@pytest.mark.parametrize(("data", "match"), [
    (b"", "empty file"),
    (b"\x58", "truncated"),
    (struct.pack("<H", 856) + bytes(500), "truncated: the header ends"),
])
def test_bad_binary(tmp_path, data, match):
    p = tmp_path / "bad.SpO2"
    p.write_bytes(data)
    with pytest.raises(FormatError, match=match) as ei:
        load(p, "contec-spo2")
    assert "bad.SpO2" in str(ei.value) and "\n" not in str(ei.value)


def test_truncated_samples_and_wrong_marker(tmp_path, vectors):
    data = (vectors / "contec-cms50e-live.SpO2").read_bytes()
    p = tmp_path / "cut.SpO2"
    p.write_bytes(data[:1300])
    with pytest.raises(FormatError, match=r"byte 1300: truncated: the header says 212"):
        load(p)
    bad = bytearray(data)
    bad[856] = 0x02
    p.write_bytes(bytes(bad))
    with pytest.raises(FormatError, match="byte 856"):
        load(p, "contec-spo2")


def test_spor_reversed_records(tmp_path):
    h = 64
    text = "01/14/24 23:05:12".encode("ascii")
    hdr = bytearray(h)
    hdr[0:2] = struct.pack("<H", h)
    for i, ch in enumerate(text):
        hdr[8 + 2 * i] = ch
    p = tmp_path / "rec.spoR"
    p.write_bytes(bytes(hdr) + bytes([70, 97, 255, 127, 71, 96]))
    assert detect(p) == "contec-spor"
    rec = load(p)
    assert [(r.spo2, r.pulse) for r in rec.readings] == [(97, 70), (None, None), (96, 71)]
    import datetime as dt
    assert dt.datetime.fromtimestamp(rec.start_wall) == dt.datetime(2024, 1, 14, 23, 5, 12)
    p.write_bytes(bytes(hdr) + bytes([70, 97, 255]))
    with pytest.raises(FormatError, match="inside a record"):
        load(p)


def test_csv_artefacts_pi_and_bad_rows(tmp_path):
    p = tmp_path / "c.csv"
    p.write_bytes(b"DATE,TIME,SPO2,PULSE,PI\r\n2021-04-30, 23:59:59, 95, 81, 1.2\r\n"
                  b"2021-05-01, 00:00:00, 127, 255, 0.0\r\n2021-05-01, 00:00:01, 96, 80, 1.3\r\n")
    rec = load(p)
    assert [(r.t, r.spo2, r.pulse, r.pi) for r in rec.readings] == [
        (0.0, 95, 81, 1.2), (1.0, None, None, None), (2.0, 96, 80, 1.3)]
    p.write_bytes(b"DATE,TIME,SPO2,PULSE\r\n2021-04-30, 11:28:39, 95, 81\r\n"
                  b"2021-04-30, 11:28:40, ninety, 81\r\n2021-04-30, 11:28:41, 95, 81\r\n")
    with pytest.raises(FormatError, match=r"c\.csv:3: bad row"):
        load(p)
    p.write_bytes(b"DATE,TIME,SPO2,PULSE\r\n2021-04-30, 11:28:39, 95, 81\r\n"
                  b"2021-04-30, 11:28:40, 96, 82\r\nCollection Halted\r\n\r\n")
    rec = load(p)  # a trailer ends the file: skipped and counted, not the recording lost
    assert len(rec.readings) == 2 and not rec.interrupted
    assert rec.notes == ["skipped 1 row after the last reading (a trailer; from line 4: "
                         "'Collection Halted')"]
    p.write_bytes(b"DATE,TIME,SPO2,PULSE\r\n2021-04-30, 11:28:39, 95, 81\r\n"
                  b"2021-04-30, 11:28:30, 95, 81\r\n")
    with pytest.raises(FormatError, match="backwards"):
        load(p)
