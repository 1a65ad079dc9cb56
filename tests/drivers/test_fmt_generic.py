"""The generic CSV/TSV reader: header after a preamble, column names, time forms, gaps from
jumps in time, explicit column mappings, and bad input."""

from __future__ import annotations

import datetime as dt

import pytest

from drivers.errors import FormatError
from drivers.formats import detect, load


def _vals(rec):
    return [(r.t, r.spo2, r.pulse) for r in rec.readings]


def test_preamble_semicolons_decimal_comma_date_column_and_midnight(tmp_path):
    p = tmp_path / "log.csv"
    p.write_text("Exported by SomeLogger 2.1\nPatient: anonymous\n\n"
                 "Date;Time;SpO2 (%);Pulse Rate (bpm);PI\n"
                 "14/01/2024;23:59:58;96;71;1,2\n"
                 "14/01/2024;23:59:59;--;--;\n"
                 "15/01/2024;00:00:00;95;70;1,1\n")
    assert detect(p) == "generic-csv"
    rec = load(p)
    assert [(r.t, r.spo2, r.pulse, r.pi) for r in rec.readings] == [
        (0, 96, 71, 1.2), (1, None, None, None), (2, 95, 70, 1.1)]
    assert rec.header["header_line"] == 4
    assert dt.datetime.fromtimestamp(rec.start_wall) == dt.datetime(2024, 1, 14, 23, 59, 58)


def test_tsv_bidmc_style_prefers_pulse_over_hr(tmp_path):
    p = tmp_path / "bidmc_01_Numerics.csv"
    p.write_text("Time [s], HR, PULSE, RESP, SpO2\n0, 94, 93, 21, 97\n1, 94, 92, 21, 0\n"
                 "2, 95, 93, 22, 96\n")
    rec = load(p)
    assert _vals(rec) == [(0, 97, 93), (1, None, 92), (2, 96, 93)]
    assert rec.readings[1].status and rec.readings[1].pulse == 92  # SpO2 0 → a gap


@pytest.mark.parametrize(("header", "rows", "expect_t", "start"), [
    ("Time,SaO2,HR", ["0:00,97,60", "0:01,97,60", "0:04,96,61"], [0, 1, 2, 3, 4], None),
    ("timestamp,Oxygen Level,PR", ["2024-01-14T23:05:12Z,97,60", "2024-01-14T23:05:13Z,98,61"],
     [0, 1], dt.datetime(2024, 1, 14, 23, 5, 12, tzinfo=dt.UTC)),
    ("timestamp,SpO2,HR", ["2024-01-14T23:05:12+01:00,97,60", "2024-01-14T23:05:14+01:00,98,61"],
     [0, 2], dt.datetime(2024, 1, 14, 22, 5, 12, tzinfo=dt.UTC)),
    ("epoch,SpO2,Pulse", ["1705273512,97,60", "1705273513,98,61"], [0, 1],
     dt.datetime(2024, 1, 14, 23, 5, 12, tzinfo=dt.UTC)),
    ("Time,SpO2,Pulse", ["1705273512000,97,60", "1705273512500,98,61"], [0, 0.5],
     dt.datetime(2024, 1, 14, 23, 5, 12, tzinfo=dt.UTC)),
    ("Time,SpO2,Pulse", ["23:59:59,97,60", "00:00:00,98,61"], [0, 1], None),
    ("Time,SpO2,Pulse", ["11:59:59 PM,97,60", "12:00:00 AM,98,61"], [0, 1], None),
])
def test_time_forms(tmp_path, header, rows, expect_t, start):
    p = tmp_path / "t.csv"
    p.write_text(header + "\n" + "\n".join(rows) + "\n")
    columns = "time=1,spo2=2,pulse=3" if header.startswith("epoch") else None
    rec = load(p, columns=columns)
    assert [r.t for r in rec.readings] == expect_t
    if start is not None:
        assert rec.start_wall == start.timestamp()


def test_time_jump_is_filled_with_gaps(tmp_path):
    p = tmp_path / "j.csv"
    p.write_text("Time,SpO2,Pulse\n0,97,60\n1,97,60\n2,96,61\n10,95,62\n11,95,62\n")
    rec = load(p)
    assert [r.t for r in rec.readings] == list(range(12))
    assert [r.spo2 is None for r in rec.readings] == [False] * 3 + [True] * 7 + [False] * 2
    assert rec.header["gap_samples_inserted"] == 7


def test_explicit_mapping_without_header(tmp_path):
    p = tmp_path / "raw.txt"
    p.write_text("x 97 61\nx 96 62\nx -- --\nx 95 60\n")
    rec = load(p, columns="spo2=2,pulse=3,interval=4s,delimiter=space")
    assert _vals(rec) == [(0, 97, 61), (4, 96, 62), (8, None, None), (12, 95, 60)]
    assert rec.interval == 4.0
    p2 = tmp_path / "hdr.csv"
    p2.write_text("a,b,c\n1,97,61\n2,96,62\n")
    rec = load(p2, "generic-csv", columns="time=1,spo2=2,pulse=3")
    assert _vals(rec) == [(0, 97, 61), (1, 96, 62)] and rec.header["header_line"] == 1


@pytest.mark.parametrize(("cols", "match"), [
    ("pulse=3", "needs spo2"), ("spo2=0", "counted from 1"), ("spo2=2,interval=fast", "interval"),
    ("spo2=2,colour=3", "unknown key"), ("spo2", "KEY=VALUE"),
])
def test_bad_mapping(tmp_path, cols, match):
    p = tmp_path / "m.csv"
    p.write_text("1,2,3\n")
    with pytest.raises(FormatError, match=match):
        load(p, columns=cols)


def test_columns_refused_by_other_formats(vectors):
    with pytest.raises(FormatError, match="--columns applies to generic-csv"):
        load(vectors / "contec-cms50e-live.csv", "contec-csv", columns="spo2=3")


def test_bad_generic_input(tmp_path):
    p = tmp_path / "n.csv"
    p.write_text("a,b,c\n1,2,3\n")
    with pytest.raises(FormatError, match=r"no reader recognises this table \(columns: 1 'a'"):
        load(p, "generic-csv")
    p.write_text("Time,SpO2\n0,97\n1,ninety\n2,95\n")
    with pytest.raises(FormatError, match=r"n\.csv:3: bad row"):
        load(p)
    p.write_text("Time,SpO2\n0,97\nyesterday,96\n")
    with pytest.raises(FormatError, match=r":3: bad row: .*"):
        load(p)
    p.write_text("Time,SpO2\n5,97\n3,96\n")
    with pytest.raises(FormatError, match=":3: bad row: time goes backwards"):
        load(p)


@pytest.mark.parametrize("layout", ["elapsed", "epoch_ms", "iso", "isoz", "clock", "clock_date",
                                    "none"])
def test_fast_and_row_by_row_paths_agree(tmp_path, monkeypatch, layout):
    """Large files go through the column-wise path; it must equal the per-row parser."""
    import random

    from drivers.formats import _text_lines, generic_csv

    monkeypatch.setattr(_text_lines, "CHUNK", 16384)  # many blocks from a small file
    rnd = random.Random(5)
    t0 = dt.datetime(2024, 1, 14, 23, 0, 0)
    head = {"elapsed": "Time [s]", "epoch_ms": "Timestamp", "iso": "Time", "isoz": "Time",
            "clock": "Time", "clock_date": "Date,Time", "none": None}[layout]
    rows = [("Oximeter log\n\n" + (head + ",SpO2,Pulse") if head else "Clock,SpO2,Pulse")]
    k = 0
    for _ in range(8_000):
        k += 1 if rnd.random() > 0.001 else 30  # now and then a hole in the recording
        when = t0 + dt.timedelta(seconds=k)
        stamp = {"elapsed": str(k), "epoch_ms": str(int(when.replace(tzinfo=dt.UTC)
                                                             .timestamp() * 1000)),
                 "iso": when.isoformat(), "isoz": when.isoformat() + "Z",
                 "clock": when.strftime("%H:%M:%S"),
                 "clock_date": when.strftime("%Y-%m-%d,%H:%M:%S"), "none": "x"}[layout]
        v = "--,--" if rnd.random() < 0.03 else f"{rnd.randint(85, 99)},{rnd.randint(50, 99)}"
        rows.append(f"{stamp},{v}")
    p = tmp_path / "big.csv"
    p.write_text("\n".join(rows) + "\n")
    cols = "spo2=2,pulse=3" if layout == "none" else None
    real, hits = generic_csv._fast, []

    def spy(*a):
        res = real(*a)
        hits.append(res is not None)
        return res

    monkeypatch.setattr(generic_csv, "_fast", spy)
    fast = load(p, "generic-csv", columns=cols)
    assert sum(hits) >= max(3, len(hits) - 2), "the fast path was not taken"
    monkeypatch.setattr(generic_csv, "_fast", lambda *a: None)
    slow = load(p, "generic-csv", columns=cols)
    assert len(fast.readings) == len(slow.readings) >= 8_000
    assert fast.readings.t.tolist() == slow.readings.t.tolist()
    assert fast.readings == slow.readings
    assert fast.start_wall == slow.start_wall


@pytest.mark.parametrize("header", [
    "time,spo2_percent,pulse_bpm", "Time,SpO2(%),PR(bpm)", "t,SpO2 pct,Pulse Rate",
    "Time,Oxygen Saturation [%],Heart Rate"])
def test_header_synonyms(tmp_path, header):
    p = tmp_path / "syn.csv"
    p.write_text(header + "\n0,97,70\n1,96,71\n")
    assert detect(p) == "generic-csv"
    assert _vals(load(p)) == [(0, 97, 70), (1, 96, 71)]


def test_several_spo2_columns_pair_pulse_by_number_and_note_the_choice(tmp_path):
    p = tmp_path / "study.csv"
    p.write_text("Time,HR 2,SpO2 2,SpO2 1,HR 1,PI 1\n0,61,95,97,71,1.5\n1,62,94,98,72,1.6\n")
    rec = load(p)
    assert [(r.spo2, r.pulse, r.pi) for r in rec.readings] == [(95, 61, None), (94, 62, None)]
    assert rec.notes == ["2 SpO2 columns: reading column 3 'SpO2 2' (the first; the others "
                         "are 4 'SpO2 1'; choose one with --columns spo2=N,…)"]


def test_trailer_rows_are_skipped_and_counted_not_the_import_lost(tmp_path):
    p = tmp_path / "halted.csv"
    p.write_text("Timestamp,SpO2,Pulse\n2024-01-14 10:00:00,97,70\n2024-01-14 10:00:01,96,71\n"
                 "\nCollection Halted\nTotal rows: 2\n")
    rec = load(p)
    assert _vals(rec) == [(0, 97, 70), (1, 96, 71)] and not rec.interrupted
    assert rec.notes == ["skipped 2 rows after the last reading (a trailer; from line 5: "
                         "'Collection Halted')"]
    p.write_text("Timestamp,SpO2,Pulse\n2024-01-14 10:00:00,97,70\nCollection Halted\n"
                 "2024-01-14 10:00:01,96,71\n")
    with pytest.raises(FormatError, match=r"halted\.csv:3: bad row"):
        load(p)  # in the middle it is damage, named by its line


def test_decode_output_read_back_keeps_its_flags_and_skips_wave_rows(tmp_path, capsys):
    from drivers.protocols._contec import v7_pack
    from drivers.reading import Status
    from oxi_assist.cli import main

    good = v7_pack(1, [4, 30, 0x02, 80, 95, 0x2C, 0x01])
    searching = v7_pack(1, [4, 0x80 | 30, 0x02, 0xFF, 0x7F, 0xFF, 0xFF])
    finger_out = v7_pack(1, [0x84, 0x40, 0x10, 0xFF, 0x7F, 0xFF, 0xFF])
    cap = tmp_path / "cap.bin"
    cap.write_bytes(good + searching + finger_out + good)
    assert main(["decode", "--protocol", "cms50-v7", str(cap)]) == 0
    out = tmp_path / "decoded.csv"
    out.write_text(capsys.readouterr().out)
    rec = load(out)
    assert [r.status for r in rec.readings] == [Status.NONE, Status.SEARCHING,
                                                Status.FINGER_OUT, Status.NONE]
    p = tmp_path / "waves.csv"
    p.write_text("t,spo2,pulse,pi,flags,pleth,wave\n0.0000,97,70,,,,0\n0.5000,,,,,50;51,1\n"
                 "1.0000,,,,searching,,0\n")
    rec = load(p)
    assert [(r.t, r.spo2, r.status) for r in rec.readings] == [
        (0, 97, Status.NONE), (1, None, Status.SEARCHING)]


def test_a_table_no_reader_knows_lists_its_columns_and_the_line_to_read_it(tmp_path, capsys):
    from oxi_assist.cli import main

    p = tmp_path / "logger.csv"
    p.write_text("when,sat_x,heart\n10:00:00,97,70\n10:00:01,96,71\n")
    with pytest.raises(FormatError) as e:
        load(p)
    msg = str(e.value)
    assert "no reader recognises this table (columns: 1 'when', 2 'sat_x', 3 'heart')" in msg
    assert msg.endswith("--columns spo2=2,pulse=3,time=1") and "Contec" not in msg
    assert main(["info", str(p)]) == 2
    assert capsys.readouterr().err.count("\n") == 1
    assert main(["info", str(p), "--columns", "spo2=2,pulse=3,time=1"]) == 0
    assert "valid SpO2       100.0 % (2 of 2 samples)" in capsys.readouterr().out
