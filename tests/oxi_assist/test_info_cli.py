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
    start = dt.datetime(2021, 4, 30, 11, 28, 39).astimezone().isoformat(timespec="seconds")
    assert start in out


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
