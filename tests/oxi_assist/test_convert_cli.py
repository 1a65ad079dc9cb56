"""`oxi-assist convert`: any format → native / CSV / EDF+, errors as one line and exit 2."""

from __future__ import annotations

import io
import json
import subprocess
import sys

import pytest

from drivers.formats import load
from oxi_assist.cli import main
from oxi_assist.commands._input import Progress, progress_for


def test_contec_to_every_writer_and_back(tmp_path, vectors, capsys):
    src = vectors / "contec-cms50e-live.SpO2"
    orig = load(src)
    for name in ("out.jsonl", "out.csv", "out.edf"):
        out = tmp_path / name
        assert main(["convert", str(src), str(out)]) == 0
        assert "212 samples from contec-spo2" in capsys.readouterr().out
        back = load(out)
        assert list(back.readings) == list(orig.readings), name
        assert back.start_wall == orig.start_wall


def test_gaps_survive_csv_and_edf(tmp_path, capsys):
    src = tmp_path / "O2Ring_20240114230512.csv"
    src.write_text("Time,Oxygen Level,Pulse Rate,Motion,O2 Reminder,PR Reminder\n"
                   "23:05:12 Jan 14 2024,96,71,0,0,0\n23:05:16 Jan 14 2024,--,--,3,0,0\n"
                   "23:05:20 Jan 14 2024,94,72,0,0,0\n")
    for name, to in (("a.out", "csv"), ("b.out", "edf"), ("c.out", "native")):
        out = tmp_path / name
        assert main(["convert", str(src), str(out), "--to", to]) == 0
        assert [r.spo2 for r in load(out).readings] == [96, None, 94]
    assert "1 without SpO2" in capsys.readouterr().out


def test_columns_and_format_options(tmp_path, capsys):
    src = tmp_path / "raw.txt"
    src.write_text("97;61\n96;62\n")
    out = tmp_path / "raw.jsonl"
    assert main(["convert", str(src), str(out), "--columns", "spo2=1,pulse=2,interval=2s"]) == 0
    assert [(r.t, r.spo2) for r in load(out).readings] == [(0, 97), (2, 96)]


def test_usage_errors_exit_2_with_one_line(tmp_path, vectors, capsys):
    src = vectors / "contec-cms50e-live.csv"
    cases = [
        ([str(src), str(tmp_path / "x.xyz")], "cannot tell the output format"),
        ([str(src), str(tmp_path / "x.csv"), "--to", "wav"], "cannot write 'wav'"),
        ([str(tmp_path / "missing.csv"), str(tmp_path / "y.csv")], "missing.csv"),
        ([str(src), str(tmp_path / "z.csv"), "--format", "edf"], "not a readable EDF"),
    ]
    for argv, msg in cases:
        assert main(["convert", *argv]) == 2
        err = capsys.readouterr().err
        assert msg in err and err.count("\n") == 1, err
    existing = tmp_path / "exists.csv"
    existing.write_text("keep me")
    assert main(["convert", str(src), str(existing)]) == 2
    assert "already exists" in capsys.readouterr().err and existing.read_text() == "keep me"
    assert main(["convert", str(src), str(existing), "--force"]) == 0


def test_garbage_in_a_real_process_no_traceback(tmp_path, repo_root):
    g = tmp_path / "garbage.csv"
    g.write_bytes(bytes(range(256)) * 40)
    r = subprocess.run([sys.executable, "-m", "oxi_assist", "convert", str(g),
                        str(tmp_path / "o.edf")], cwd=repo_root, capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 2
    assert "Traceback" not in r.stderr and r.stderr.count("\n") == 1
    assert "garbage.csv" in r.stderr
    assert not (tmp_path / "o.edf").exists()


def test_progress_only_on_a_terminal(capsys):
    assert progress_for("x.csv") is None  # stderr captured: not a terminal
    buf = io.StringIO()
    p = Progress("reading x.csv", buf)
    p(0, 100)
    p(100, 100)
    p.end()
    out = buf.getvalue()
    assert "reading x.csv: [........................]   0%" in out
    assert "[########################] 100%" in out
    assert out.endswith("\r\033[K")  # the bar is cleared before anything else is printed


@pytest.mark.parametrize("to", [".jsonl", ".csv", ".edf"])
def test_a_table_without_dates_gets_no_invented_start(tmp_path, capsys, to):
    """Clock times with no date: the converted file records no start (not the moment of
    conversion), and the debrief of it shows none either."""
    src = tmp_path / "nodate.csv"
    src.write_text("Time,SpO2,Pulse\n23:05:12,97,60\n23:05:13,96,61\n23:05:14,95,62\n")
    out = tmp_path / f"out{to}"
    assert main(["convert", str(src), str(out)]) == 0
    rec = load(out)
    assert rec.start_wall is None and len(rec.readings) == 3
    capsys.readouterr()
    assert main(["debrief", "--text", str(out)]) == 0
    assert "Session: start time unknown" in capsys.readouterr().out


def test_a_naive_start_stays_zone_less_through_a_conversion(tmp_path, capsys):
    src = tmp_path / "naive.csv"
    src.write_text("Time,SpO2,Pulse\n2024-01-14 23:05:12,97,60\n2024-01-14 23:05:13,96,61\n")
    for to in (".jsonl", ".csv"):
        out = tmp_path / f"out{to}"
        assert main(["convert", str(src), str(out)]) == 0
        assert main(["info", str(out), "--json"]) == 0
        assert json.loads(capsys.readouterr().out.split("\n", 1)[1])["start"] == \
            "2024-01-14T23:05:12"
    # and our CSV's time column shows the file's wall clock with no "Z" invented
    assert (tmp_path / "out.csv").read_text().splitlines()[2].split(",")[1] == \
        "2024-01-14T23:05:12"


def test_every_written_format_is_private_even_with_a_wide_umask(tmp_path, vectors, capsys):
    """EDF files were written 0644; every output is personal health data."""
    import os
    import stat

    src = vectors / "contec-cms50e-live.SpO2"
    old = os.umask(0o022)
    try:
        for name in ("p.jsonl", "p.csv", "p.edf"):
            out = tmp_path / name
            assert main(["convert", str(src), str(out)]) == 0
            assert stat.S_IMODE(out.stat().st_mode) == 0o600, name
            out.chmod(0o644)  # a replaced file is private too
            assert main(["convert", str(src), str(out), "--force"]) == 0
            assert stat.S_IMODE(out.stat().st_mode) == 0o600, name
    finally:
        os.umask(old)
    out_text = capsys.readouterr().out
    assert out_text.count("wrote ") == 6


def test_a_failed_forced_write_leaves_the_old_file_whole(tmp_path, vectors, monkeypatch,
                                                         capsys):
    from drivers.formats import csv_out

    src = vectors / "contec-cms50e-live.SpO2"
    out = tmp_path / "team.csv"
    out.write_text("last week's export")
    real = csv_out.write

    def half_then_full_disk(rec, path):  # type: ignore[no-untyped-def]
        real(rec, path)  # the whole new file is there, then the disk gives out
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("oxi_assist.commands.convert.writers",
                        lambda: {"csv": half_then_full_disk})
    assert main(["convert", str(src), str(out), "--force"]) == 2
    err = capsys.readouterr().err
    assert "team.csv: cannot write (no space left on the device)" in err
    assert out.read_text() == "last week's export"
    assert [p.name for p in tmp_path.iterdir()] == ["team.csv"]  # no temporary file left
