"""Detection by content, forcing a format, and bad input of every kind: one-line FormatErrors
naming the file and line or byte offset, and bounded work on huge files."""

from __future__ import annotations

import os
import random
import time

import pytest

from drivers.errors import FormatError
from drivers.formats import detect, format_modules, load


def test_every_format_registered():
    assert {"native", "csv", "edf", "generic-csv", "viatom-csv", "viatom-bin", "o2ring-s",
            "contec-spo2", "contec-spor", "contec-csv", "wfdb", "pod2", "md300w1",
            "rad8"} <= set(format_modules())


def test_content_wins_over_extension(tmp_path, vectors):
    p = tmp_path / "recording.txt"  # a Contec binary with a misleading name
    p.write_bytes((vectors / "contec-cms50e-live.SpO2").read_bytes())
    assert detect(p) == "contec-spo2"
    q = tmp_path / "export.dat"
    q.write_bytes((vectors / "contec-cms50e-live.csv").read_bytes())
    assert detect(q) == "contec-csv" and len(load(q).readings) == 212


def test_unknown_format_name(vectors):
    with pytest.raises(FormatError, match="unknown format 'nope'"):
        load(vectors / "contec-cms50e-live.csv", "nope")


def _one_line(e: pytest.ExceptionInfo[FormatError], name: str) -> str:
    msg = str(e.value)
    assert "\n" not in msg and name in msg
    return msg


@pytest.mark.parametrize("fmt", [None, "viatom-csv", "contec-csv", "generic-csv", "csv",
                                 "native", "contec-spo2", "viatom-bin", "o2ring-s", "edf",
                                 "contec-spor"])
def test_binary_garbage(tmp_path, fmt):
    rnd = random.Random(7)
    p = tmp_path / "garbage.bin"
    p.write_bytes(bytes(rnd.randrange(256) for _ in range(5000)))
    with pytest.raises(FormatError) as e:
        load(p, fmt)
    _one_line(e, "garbage.bin")


@pytest.mark.parametrize("fmt", [None, "viatom-csv", "contec-csv", "generic-csv", "csv",
                                 "contec-spo2", "viatom-bin", "o2ring-s", "edf"])
def test_empty(tmp_path, fmt):
    p = tmp_path / "empty.csv"
    p.write_bytes(b"")
    with pytest.raises(FormatError) as e:
        load(p, fmt)
    _one_line(e, "empty.csv")


def test_mis_encoded_text_names_line_and_byte(tmp_path):
    p = tmp_path / "latin1.csv"
    p.write_bytes(b"DATE,TIME,SPO2,PULSE\r\n2021-04-30, 11:28:39, 95, 81\r\n"
                  b"2021-04-30, 11:28:40, 95, 81 \xe9\r\n")
    with pytest.raises(FormatError, match=r"latin1\.csv:3: not UTF-8 text \(byte 0xe9 at "
                                          r"offset 81\)"):
        load(p)


def test_utf16_export_is_read(tmp_path):
    p = tmp_path / "u16.csv"
    p.write_bytes("Time,SpO2,Pulse\r\n0,97,60\r\n1,96,61\r\n".encode("utf-16"))
    assert [r.spo2 for r in load(p).readings] == [97, 96]


def test_nul_bytes_in_text(tmp_path):
    p = tmp_path / "nul.csv"
    p.write_bytes(b"Time,SpO2,Pulse\n0,97,60\n1,9\x007,60\n")
    with pytest.raises(FormatError, match=r"nul\.csv:3: binary data"):
        load(p, "generic-csv")


def test_directory_and_missing(tmp_path):
    with pytest.raises(FormatError, match="is a directory"):
        load(tmp_path)
    with pytest.raises(FormatError, match=r"nothere\.csv"):
        load(tmp_path / "nothere.csv")


@pytest.mark.parametrize("fmt", [None, "generic-csv", "viatom-csv", "contec-spo2", "edf",
                                 "viatom-bin", "o2ring-s"])
def test_huge_files_fail_fast(tmp_path, fmt):
    """A 100 MB file of zeros (sparse: costs no disk) is rejected without reading it all."""
    p = tmp_path / "huge.csv"
    with open(p, "wb") as f:
        f.truncate(100 * 1024 * 1024)
    t0 = time.perf_counter()
    with pytest.raises(FormatError) as e:
        load(p, fmt)
    _one_line(e, "huge.csv")
    assert time.perf_counter() - t0 < 3.0


def test_huge_text_without_line_ends(tmp_path):
    p = tmp_path / "oneline.csv"
    with open(p, "wb") as f:
        f.write(b"Time,SpO2,Pulse\n")
        f.write(b"9" * (8 * 1024 * 1024))
    with pytest.raises(FormatError, match=r"oneline\.csv:2: no line end"):
        load(p)
    assert os.path.getsize(p) > 8_000_000


def test_progress_reports_bytes_read(tmp_path, monkeypatch):
    from drivers.formats import _text_lines

    monkeypatch.setattr(_text_lines, "CHUNK", 4096)
    p = tmp_path / "p.csv"
    p.write_text("Time,SpO2,Pulse\n" + "".join(f"{i},97,60\n" for i in range(3000)))
    calls: list[tuple[int, int]] = []
    rec = load(p, progress=lambda done, total: calls.append((done, total)))
    size = p.stat().st_size
    assert len(rec.readings) == 3000
    assert len(calls) > 5 and calls[-1] == (size, size)
    assert [c[0] for c in calls] == sorted(c[0] for c in calls)  # only ever forward
    # formats that read in one go simply take no callback
    from drivers.formats import detect as _detect
    assert _detect(p) == "generic-csv"


def test_classic_mac_line_ends(tmp_path):
    p = tmp_path / "mac.csv"
    p.write_bytes(b"DATE,TIME,SPO2,PULSE\r2021-04-30, 11:28:39, 95, 81\r"
                  b"2021-04-30, 11:28:40, 96, 80\r")
    assert [(r.spo2, r.pulse) for r in load(p).readings] == [(95, 81), (96, 80)]
