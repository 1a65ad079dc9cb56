"""`oxi-assist info`: format, device, start, duration, interval, samples, valid fraction."""

from __future__ import annotations

import datetime as dt
import json

from oxi_assist.cli import main


def test_info_json_on_wfdb(vectors, capsys):
    rec = vectors / "wfdb-mimic-numerics" / "s00001-2896-10-10-00-31n.hea"
    assert main(["info", str(rec), "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["format"] == "wfdb" and d["samples"] == 1936 and d["interval_s"] == 60.0
    assert d["valid_spo2_samples"] == 1573 and d["gaps"] == 12
    assert d["valid_fraction"] == round(1573 / 1936, 4)
    assert d["start"] is None and "date-shifted" in d["base_datetime"]
    assert d["duration_s"] == 1936 * 60.0


def test_info_text_on_contec(vectors, capsys):
    assert main(["info", str(vectors / "contec-cms50e-live.SpO2")]) == 0
    out = capsys.readouterr().out
    assert "contec-spo2" in out and "Contec BLE" in out  # the device the file names
    assert "0:03:32 (212 s)" in out and "100.0 % (212 of 212 samples)" in out
    # the file's wall-clock time, with no zone: printed without a UTC offset
    assert "start            2021-04-30T11:28:39\n" in out


def test_info_prints_no_invented_zone_but_keeps_a_real_one(tmp_path, capsys):
    naive = tmp_path / "n.csv"
    naive.write_text("Time,SpO2,Pulse\n2024-01-14 23:05:12,97,60\n2024-01-14 23:05:13,97,60\n")
    assert main(["info", str(naive), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["start"] == "2024-01-14T23:05:12"
    zoned = tmp_path / "z.csv"
    zoned.write_text("Time,SpO2,Pulse\n2024-01-14T23:05:12Z,97,60\n2024-01-14T23:05:13Z,97,60\n")
    assert main(["info", str(zoned), "--json"]) == 0
    start = dt.datetime(2024, 1, 14, 23, 5, 12, tzinfo=dt.UTC).astimezone()
    assert json.loads(capsys.readouterr().out)["start"] == start.isoformat(timespec="seconds")


def test_several_spo2_columns_read_the_first_and_say_so(tmp_path, capsys):
    p = tmp_path / "study.csv"
    p.write_text("Time,SpO2 1,SpO2 2,SpO2 3,SpO2 4,SpO2 5,HR 1,HR 2\n"
                 "2024-01-14 10:00:00,97,96,95,94,93,70,71\n"
                 "2024-01-14 10:00:01,98,96,95,94,93,72,71\n")
    assert main(["info", str(p), "--json"]) == 0
    cap = capsys.readouterr()
    d = json.loads(cap.out)
    assert (d["spo2_min"], d["spo2_max"], d["pulse_min"], d["pulse_max"]) == (97, 98, 70, 72)
    note = "5 SpO2 columns: reading column 2 'SpO2 1'"
    assert note in cap.err and note in d["notes"][0] and "6 'SpO2 5'" in cap.err
    assert main(["info", str(p), "--json", "--columns", "time=1,spo2=4,pulse=8"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert (d["spo2_min"], d["pulse_min"]) == (95, 71)


def test_info_formats_and_errors(tmp_path, capsys):
    assert main(["info", "--formats"]) == 0
    out = capsys.readouterr().out
    assert "viatom-csv" in out and "edf" in out and "(read, write)" in out
    assert main(["info"]) == 2
    assert "give a FILE" in capsys.readouterr().err
    bad = tmp_path / "e.csv"
    bad.write_text("")
    assert main(["info", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err == f"oxi-assist: error: {bad}: empty file\n"
