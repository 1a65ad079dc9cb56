"""Wellue/Viatom CSV dialects, the legacy binary record and the O2Ring S file, written in the
tests from the byte layouts in FORMATS.md §1–§3 (no real sample is redistributable)."""

from __future__ import annotations

import datetime as dt
import struct

import pytest

from drivers.errors import FormatError
from drivers.formats import detect, load
from drivers.formats._base import GAP, PARTIAL


def _start(rec) -> dt.datetime:
    return dt.datetime.fromtimestamp(rec.start_wall)


def test_dialect_a_six_columns(tmp_path):
    p = tmp_path / "Checkme O2 Max _20260626001655.csv"
    p.write_text("Time,Oxygen Level,Pulse Rate,Motion,O2 Reminder,PR Reminder\n"
                 "00:16:55 Jun 26 2026,96,71,0,0,0\n"
                 "00:16:57 Jun 26 2026,--,--,29,0,0\n"
                 "00:16:59 Jun 26 2026,95,--,0,0,0\n"
                 "00:17:01 Jun 26 2026,94,70,0,1,0\n")
    assert detect(p) == "viatom-csv"
    rec = load(p)
    assert rec.device == "Checkme O2 Max" and rec.interval == 2.0
    assert rec.header["dialect"] == "ViHealth 6-column"
    assert _start(rec) == dt.datetime(2026, 6, 26, 0, 16, 55)
    assert [(r.t, r.spo2, r.pulse) for r in rec.readings] == [
        (0, 96, 71), (2, None, None), (4, 95, None), (6, 94, 70)]
    assert rec.readings[1].status == GAP and rec.readings[2].status == PARTIAL
    assert not rec.readings[1].valid and rec.readings[2].valid


def test_dialect_b_bom_spaced_dashes_and_time_jump(tmp_path):
    p = tmp_path / "O2Ring 1234_20240114230512.csv"
    p.write_bytes("\ufeffTime,Oxygen Level,Pulse Rate,Motion\r\n"
                  "23:05:12 14/01/2024,96,71,0\r\n"
                  "23:05:13 14/01/2024,- -,- -,0\r\n"
                  "23:05:14 14/01/2024,97,72,0\r\n"
                  "23:05:18 14/01/2024,98,73,0\r\n".encode())
    rec = load(p)
    assert rec.header["dialect"] == "ViHealth 4-column"
    assert _start(rec) == dt.datetime(2024, 1, 14, 23, 5, 12)
    # the 4 s jump at 1 s cadence is three missing samples: kept as gaps, not compressed
    assert [r.t for r in rec.readings] == [0, 1, 2, 3, 4, 5, 6]
    assert [r.spo2 for r in rec.readings] == [96, None, 97, None, None, None, 98]
    assert rec.header["gap_samples_inserted"] == 3


def test_dialect_c_o2_insight_quoted_12h_trailing_commas_and_sentinel_tail(tmp_path):
    p = tmp_path / "O2Ring S_20240114230512.csv"
    p.write_text("Time,SpO2(%),Pulse Rate(bpm),Motion,SpO2 Reminder,PR Reminder,\n"
                 '"11:59:59AM Jan 14, 2024",96,71,0,0,0,\n'
                 '"12:00:00PM Jan 14, 2024",95,70,0,0,0,\n'
                 '"12:00:01PM Jan 14, 2024",255,65535,0,0,0,\n'
                 '"12:00:02PM Jan 14, 2024",255,65535,0,0,0,\n')
    rec = load(p)
    assert rec.header["dialect"] == "O2 Insight Pro"
    assert _start(rec) == dt.datetime(2024, 1, 14, 11, 59, 59)
    assert [(r.spo2, r.pulse) for r in rec.readings] == [
        (96, 71), (95, 70), (None, None), (None, None)]  # the tail stays, as gaps
    assert len(rec.readings) == 4 and rec.duration == 4.0
    p.write_text("Time,Oxygen Level(%),Pulse Rate(bpm),Motion,Oxygen Level Reminder,"
                 "PR Reminder,\n"
                 '"12:30:00AM Jan 15, 2024",97,60,0,0,0,\n')
    assert _start(load(p)) == dt.datetime(2024, 1, 15, 0, 30, 0)


def test_day_first_datetime_variant(tmp_path):
    p = tmp_path / "conv.csv"
    p.write_text("Time,Oxygen Level,Pulse Rate,Motion,O2 Reminder,PR Reminder\n"
                 "14/01/2024 23:59:58,96,71,0,0,0\n14/01/2024 23:59:59,96,71,0,0,0\n"
                 "15/01/2024 00:00:00,97,72,0,0,0\n")
    rec = load(p)
    assert [r.t for r in rec.readings] == [0, 1, 2]
    assert _start(rec) == dt.datetime(2024, 1, 14, 23, 59, 58)


@pytest.mark.parametrize(("text", "match"), [
    ("Time,Oxygen Level,Pulse Rate,Motion\n23:05:12 Foo 14 2024,96,71,0\n", ":2: bad row"),
    ("Time,Oxygen Level,Pulse Rate,Motion\n23:05:12 Jan 14 2024,96,71,0\n"
     "23:05:13 Jan 14 2024\n23:05:14 Jan 14 2024,96,71,0\n", ":3: bad row"),
    ("Time,Oxygen Level,Pulse Rate,Motion\n", "no samples"),
])
def test_bad_csv(tmp_path, text, match):
    p = tmp_path / "v.csv"
    p.write_text(text)
    with pytest.raises(FormatError, match=match):
        load(p, "viatom-csv")


def test_wrong_format_forced_and_half_written_last_line(tmp_path, vectors):
    with pytest.raises(FormatError, match=r":1: not a Viatom"):
        load(vectors / "contec-cms50e-live.csv", "viatom-csv")
    p = tmp_path / "cut.csv"
    p.write_text("Time,Oxygen Level,Pulse Rate,Motion\n23:05:12 14/01/2024,96,71,0\n23:05:1")
    rec = load(p)
    assert rec.interrupted and len(rec.readings) == 1


# ---- legacy binary -----------------------------------------------------------------------

def _vld(records: list[tuple[int, int, int, int, int]], ver: int = 3, duration: int | None = None,
         when=(2020, 8, 17, 22, 52, 51)) -> bytes:
    n = len(records)
    dur = n * 4 if duration is None else duration
    head = struct.pack("<HH5B", ver, *when) + struct.pack("<I", 40 + 5 * n)[:3] + b"\x00"
    head += struct.pack("<H", dur) + bytes(2) + bytes([95, 88]) + bytes(40 - 19)
    assert len(head) == 40
    return head + b"".join(bytes(r) for r in records)


def test_legacy_binary_records_invalid_and_below_range(tmp_path):
    recs = [(96, 70, 0, 0, 0), (0xFF, 0xFF, 0xFF, 0, 0), (0xFF, 65, 0, 2, 0x40),
            (95, 64, 0, 0, 0x80)]
    p = tmp_path / "20200817225251.vld"
    p.write_bytes(_vld(recs))
    assert detect(p) == "viatom-bin"
    rec = load(p)
    assert rec.interval == 4.0
    assert [(r.t, r.spo2, r.pulse) for r in rec.readings] == [
        (0, 96, 70), (4, None, None), (8, None, 65), (12, 95, 64)]
    assert rec.readings[1].status == GAP and rec.readings[2].status == PARTIAL
    assert rec.header["below_range"] == [[2, 1]]  # SpO2 0xFF alone: flagged, kept
    assert _start(rec) == dt.datetime(2020, 8, 17, 22, 52, 51)


def test_file_name_time_wins_over_header(tmp_path):
    p = tmp_path / "SleepU_20210101070000"
    p.write_bytes(_vld([(96, 70, 0, 0, 0)]))
    rec = load(p, "viatom-bin")
    assert _start(rec) == dt.datetime(2021, 1, 1, 7, 0, 0) and rec.device == "SleepU"


def test_doubled_sample_quirk_and_o2max_two_seconds(tmp_path):
    distinct = [(96, 70, 0, 0, 0), (95, 71, 0, 1, 0), (0xFF, 0xFF, 0xFF, 0, 0)]
    doubled = [r for r in distinct for _ in (0, 1)]
    p = tmp_path / "a.vld"
    p.write_bytes(_vld(doubled, duration=12))  # 6 records in 12 s: "2 s", really doubled
    rec = load(p)
    assert rec.interval == 4.0 and len(rec.readings) == 3 and "deduplicated" in rec.header
    assert [r.spo2 for r in rec.readings] == [96, 95, None]
    p.write_bytes(_vld(doubled, ver=5, duration=12))  # Checkme O2 Max: genuinely 2 s
    rec = load(p)
    assert rec.interval == 2.0 and len(rec.readings) == 6 and rec.device == "Checkme O2 Max"
    uneven = [(96, 70, 0, 0, 0), (96, 70, 0, 0, 0), (95, 70, 0, 0, 0), (94, 70, 0, 0, 0)]
    p.write_bytes(_vld(uneven, duration=8))  # 2 s but pairs differ: nothing merged
    assert len(load(p).readings) == 4


def test_legacy_binary_bad_input(tmp_path):
    p = tmp_path / "t.vld"
    p.write_bytes(_vld([(96, 70, 0, 0, 0)] * 3)[:-2])
    with pytest.raises(FormatError, match=r"byte 50: truncated: the file ends inside record 3"):
        load(p)
    p.write_bytes(_vld([(96, 70, 0, 0, 0)])[:30])
    with pytest.raises(FormatError, match="byte 30: truncated"):
        load(p, "viatom-bin")
    p.write_bytes(bytes(60))
    with pytest.raises(FormatError, match="not a Viatom"):
        load(p, "viatom-bin")


# ---- O2Ring S ----------------------------------------------------------------------------

def _o2s(samples: list[tuple[int, int, int]], trailer: bool = True,
         count: int | None = None) -> bytes:
    head = bytes([1, 3, 0, 0, 0, 0, 0, 0, 4, 0])
    body = b"".join(bytes(s) for s in samples)
    if not trailer:
        return head + body
    tr = bytearray(48)
    tr[4:8] = b"\x48\x12\x5a\xda"
    start = int(dt.datetime(2026, 6, 19, 23, 20, 29, tzinfo=dt.UTC).timestamp())
    tr[8:12] = struct.pack("<I", start)
    tr[12:14] = struct.pack("<H", len(samples) if count is None else count)
    tr[16:19] = bytes([1, 1, 3])
    tr[34], tr[35] = 96, 90
    return head + body + bytes(tr)


def test_o2ring_s_with_trailer(tmp_path):
    p = tmp_path / "ring.dat"
    p.write_bytes(_o2s([(96, 70, 0x03), (0, 0, 0), (0xFF, 0xFF, 0), (95, 68, 0x80)]))
    assert detect(p) == "o2ring-s"
    rec = load(p)
    assert [(r.t, r.spo2, r.pulse) for r in rec.readings] == [
        (0, 96, 70), (1, None, None), (2, None, None), (3, 95, 68)]
    assert _start(rec) == dt.datetime(2026, 6, 19, 23, 20, 29)  # local wall clock as epoch
    assert rec.header["avg_spo2"] == 96 and not rec.interrupted


def test_o2ring_s_without_trailer_and_file_name_time(tmp_path):
    p = tmp_path / "O2Ring S_20260619232029.dat"
    p.write_bytes(_o2s([(96, 70, 0), (97, 71, 0)], trailer=False) + b"\x60")
    rec = load(p)
    assert [(r.spo2, r.pulse) for r in rec.readings] == [(96, 70), (97, 71)]
    assert rec.interrupted and "no trailer" in rec.header["note"]
    assert _start(rec) == dt.datetime(2026, 6, 19, 23, 20, 29)


def test_o2ring_s_bad(tmp_path):
    p = tmp_path / "r.dat"
    p.write_bytes(_o2s([(96, 70, 0)], count=500))
    with pytest.raises(FormatError, match="trailer counts 500 samples"):
        load(p)
    p.write_bytes(b"\x01\x03\x00")
    with pytest.raises(FormatError, match="byte 3: truncated"):
        load(p, "o2ring-s")


def test_fast_and_row_by_row_paths_agree(tmp_path, monkeypatch):
    """The column-wise fast path and the per-row parser give the same recording."""
    import random

    from drivers.formats import _text_lines, viatom_csv

    monkeypatch.setattr(_text_lines, "CHUNK", 32768)  # many blocks from a small file
    rnd = random.Random(3)
    rows = ["Time,SpO2(%),Pulse Rate(bpm),Motion,SpO2 Reminder,PR Reminder,"]
    t = dt.datetime(2024, 1, 14, 23, 59, 0)
    for i in range(8_000):  # several blocks, across midnight, 12-hour clock
        stamp = (t + dt.timedelta(seconds=i)).strftime("%I:%M:%S%p %b %d, %Y")
        v = "255,65535" if rnd.random() < 0.05 else f"{rnd.randint(85, 99)},{rnd.randint(50, 99)}"
        rows.append(f'"{stamp}",{v},0,0,0,')
    p = tmp_path / "long.csv"
    p.write_text("\n".join(rows) + "\n")
    real, hits = viatom_csv._fast, []
    monkeypatch.setattr(viatom_csv, "_fast",
                        lambda lines: hits.append(r := real(lines)) or r)
    fast = load(p)
    assert sum(h is not None for h in hits) >= max(3, len(hits) - 1)
    monkeypatch.setattr(viatom_csv, "_fast", lambda lines: None)
    slow = load(p)
    assert len(fast.readings) == 8_000
    assert fast.readings == slow.readings and fast.start_wall == slow.start_wall
    assert sum(r.spo2 is None for r in fast.readings) == sum(
        v.startswith("255") for v in (r.split(",", 2)[2] for r in rows[1:]))
