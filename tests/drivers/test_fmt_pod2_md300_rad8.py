"""POD2, MD300W1 and Rad-8 readers on files written from FORMATS.md §4, §6 and §7."""

from __future__ import annotations

import datetime as dt
import struct

import pytest

from drivers.errors import FormatError
from drivers.formats import detect, load
from drivers.reading import Status


def test_pod2_records_battery_and_start(tmp_path):
    d = tmp_path / "28" / "host"
    d.mkdir(parents=True)
    p = d / "1705273512000"
    recs = [(97, 70, 0, 0x0E, 0, 0xC0), (0, 0, 0, 0, 0, 0x80), (0xFF, 66, 0, 0x0C, 0, 0x40),
            (96, 71, 0, 0xFA, 0, 0x00)]
    p.write_bytes(b"".join(bytes(r) for r in recs))
    assert detect(p) == "pod2"
    rec = load(p)
    assert rec.start_wall == 1705273512.0
    assert [(r.t, r.spo2, r.pulse, r.pi) for r in rec.readings] == [
        (0, 97, 70, 1.4), (1, None, None, None), (2, None, 66, None), (3, 96, 71, None)]
    assert [bool(r.status & Status.LOW_BATTERY) for r in rec.readings] == [
        False, False, True, True]
    assert "flat" in rec.header["warning"]  # PI 25.0 % (0xFA) is not a reading either


def test_pod2_bad(tmp_path):
    p = tmp_path / "1705273512000"
    p.write_bytes(bytes([97, 70, 0, 14, 0, 0xC0, 96]))
    with pytest.raises(FormatError, match="byte 6: truncated"):
        load(p, "pod2")
    p.write_bytes(bytes([97, 70, 9, 14, 0, 0xC0]))
    with pytest.raises(FormatError, match="not a POD2"):
        load(p, "pod2")


def _md300(records: list[tuple[dt.datetime, int, int]], count: int | None = None) -> bytes:
    out = bytes([7]) + struct.pack("<H", len(records) if count is None else count)
    for when, s, p in records:
        out += bytes([0, 0, 7, when.year - 2000, when.month, when.day, when.hour, when.minute,
                      when.second, s, p])
    return out + b"report title"


def test_md300w1_gap_of_359_is_filled_and_360_starts_a_session(tmp_path):
    t0 = dt.datetime(2024, 1, 14, 23, 0, 0)
    sec = dt.timedelta(seconds=1)
    recs = [(t0, 97, 70), (t0 + sec, 96, 71),
            (t0 + 360 * sec, 95, 72),  # 359 s after the previous one: 358 gap samples
            (t0 + 720 * sec, 94, 73),  # 360 s later: a new session, one gap sample
            (t0 + 721 * sec, 0, 0)]
    p = tmp_path / "md.dat"
    p.write_bytes(_md300(recs))
    assert detect(p) == "md300w1"
    rec = load(p)
    rs = rec.readings
    assert len(rs) == 2 + 358 + 1 + 1 + 1 + 1
    assert [(r.t, r.spo2) for r in rs[:3]] == [(0, 97), (1, 96), (2, None)]
    assert (rs[360].t, rs[360].spo2) == (360, 95)
    assert (rs[361].t, rs[361].spo2) == (361, None)  # the marker of the long gap
    assert (rs[362].t, rs[362].spo2, rs[363].spo2) == (720, 94, None)
    assert rec.header["sessions_start_s"] == [0.0, 720.0]
    assert dt.datetime.fromtimestamp(rec.start_wall) == t0


def test_md300w1_bad(tmp_path):
    t0 = dt.datetime(2024, 1, 14, 23, 0, 0)
    p = tmp_path / "md.dat"
    p.write_bytes(_md300([(t0, 97, 70)], count=3)[:3 + 11 * 2])
    with pytest.raises(FormatError, match="header counts 3 records"):
        load(p, "md300w1")
    p.write_bytes(_md300([(t0, 97, 70), (t0 - dt.timedelta(seconds=5), 97, 70)]))
    with pytest.raises(FormatError, match="record 2 goes back in time"):
        load(p, "md300w1")


RAD8 = """
02/22/16 22:47:45 SN=0000056661 SPO2=098% BPM=097 PI=03.60% SPCO=--.-% SPMET=--.-% DESAT=-- PIDELTA=+-- ALARM=0000 EXC=000000

02/22/16 22:47:46 SN=0000056661 SPO2=---% BPM=---- PI=--.--% SPCO=--.-% SPMET=--.-% DESAT=-- PIDELTA=+-- ALARM=0000 EXC=000000

02/22/16 22:47:47 SN=0000056661 SPO2=097% BPM=096 PI=03.20% SPCO=--.-% SPMET=--.-% DESAT=-- PIDELTA=+-- ALARM=0000 EXC=000800

02/22/16 22:47:50 SN=0000056661 SPO2=096% BPM=095 PI=03.10% SPCO=--.-% SPMET=--.-% DESAT=-- PIDELTA=+-- ALARM=0000 EXC=000000
"""  # noqa: E501


def test_rad8_values_dashes_exceptions_and_holes(tmp_path):
    p = tmp_path / "rad8.txt"
    p.write_text(RAD8)
    assert detect(p) == "rad8"
    rec = load(p)
    rs = rec.readings
    assert [(r.t, r.spo2, r.pulse, r.pi) for r in rs] == [
        (0, 98, 97, 3.6), (1, None, None, None), (2, 97, 96, 3.2), (3, None, None, None),
        (4, None, None, None), (5, 96, 95, 3.1)]
    assert rs[2].status == Status.NONE and rs[2].valid  # EXC 800 (SET) is normal operation
    assert not rs[0].status and rec.device == "Masimo Rad-8 SN 0000056661"
    assert rs[1].status == Status.MISSING  # dashes with no exception bit: no reason given
    assert dt.datetime.fromtimestamp(rec.start_wall) == dt.datetime(2016, 2, 22, 22, 47, 45)


def test_rad8_bad_line(tmp_path):
    p = tmp_path / "rad8.txt"
    p.write_text(RAD8.replace("SPO2=097%", "SPO2=9x7%"))
    with pytest.raises(FormatError, match=r"rad8\.txt:6: bad line"):
        load(p)


def _rad8_line(sec: int, spo2: str, bpm: str, exc: str) -> str:
    return (f"02/22/16 22:47:{sec:02d} SN=0000056661 SPO2={spo2}% BPM={bpm} PI=03.60% "
            f"SPCO=--.-% SPMET=--.-% DESAT=-- PIDELTA=+-- ALARM=0000 EXC={exc}\n")


@pytest.mark.parametrize(("exc", "spo2", "want", "valid"), [
    ("000800", "097", Status.NONE, True),  # Masimo SET: the normal, good-signal state
    ("000000", "097", Status.NONE, True),
    ("000C00", "096", Status.POOR_SIGNAL, True),  # low signal IQ (+ SET): doubtful, kept
    ("000804", "096", Status.LOW_PERFUSION, True),
    ("000810", "096", Status.POOR_SIGNAL, True),  # interference
    ("000840", "096", Status.POOR_SIGNAL, True),  # ambient light
    ("000828", "000", Status.SEARCHING | Status.FINGER_OUT, False),  # Search, OffPat, SET
    ("000808", "---", Status.SEARCHING, False),
    ("000001", "---", Status.NO_SENSOR, False),
    ("000002", "---", Status.SENSOR_FAULT, False),
    ("000080", "---", Status.SENSOR_FAULT, False),  # unrecognised sensor
    ("000300", "095", Status.NONE, True),  # reserved bits flag nothing
])
def test_rad8_exception_bits_one_by_one(tmp_path, exc, spo2, want, valid):
    p = tmp_path / "rad8.txt"
    bpm = {"---": "---", "000": "000"}.get(spo2, "096")
    p.write_text(_rad8_line(45, "098", "097", "000800") + _rad8_line(46, spo2, bpm, exc))
    r = load(p).readings[1]
    assert r.status == want and r.valid is valid
    if not valid:
        assert r.spo2 is None  # a value under an invalidating bit is never a reading


def test_rad8_normal_operation_raises_no_alarm(tmp_path):
    """A good recording whose every line says EXC=000800 replays without SIGNAL POOR."""
    from oxi_assist.analysis import analyze

    p = tmp_path / "rad8.txt"
    p.write_text("".join(_rad8_line(s, "097", "080", "000800") for s in range(60)))
    rec = load(p)
    assert all(r.valid and r.status == Status.NONE for r in rec.readings)
    assert analyze(rec).alarms == []
