"""WFDB records through the wfdb package, on the real MIMIC numerics record."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from drivers.errors import FormatError
from drivers.formats import detect, load

REC = "wfdb-mimic-numerics/s00001-2896-10-10-00-31n"


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    m = np.concatenate(([0], mask.astype(np.int8), [0]))
    d = np.diff(m)
    return [(int(a), int(b - a)) for a, b in
            zip(np.flatnonzero(d == 1), np.flatnonzero(d == -1), strict=True)]


def test_mimic_numerics_match_readme(vectors):
    rec = load(vectors / REC)  # named like rdrecord, without the extension
    assert rec.format == "wfdb" and rec.interval == 60.0
    assert len(rec.readings) == 1936
    _t, spo2, _p = rec.arrays()
    missing = np.isnan(spo2)
    assert int(missing.sum()) == 363 and int((~missing).sum()) == 1573
    assert _runs(missing) == [(0, 14), (15, 37), (276, 3), (290, 189), (591, 20), (612, 1),
                              (1164, 1), (1382, 20), (1439, 6), (1539, 64), (1911, 6),
                              (1934, 2)]
    assert (np.nanmin(spo2), np.nanmax(spo2)) == (91.9, 100.0)
    r14 = rec.readings[14]
    assert r14.spo2 == 96.0 and r14.t == 14 * 60.0
    assert spo2[~missing][-3:].tolist() == [96.8, 94.1, 94.8]
    assert all(rec.readings[i].spo2 is None and rec.readings[i].status for i in range(14))
    assert rec.header["spo2_signal"] == "SpO2" and rec.header["pulse_signal"] == "PULSE"
    # MIMIC's date is shifted for de-identification: never used as a real start
    assert rec.start_wall is None and "date-shifted" in rec.header["base_datetime"]
    assert rec.header["comments"] == ["<age>: 60 <sex>: F"]


def test_detected_from_the_header_file(vectors):
    assert detect(vectors / (REC + ".hea")) == "wfdb"


def test_missing_extra_names_it(tmp_path, monkeypatch):
    # format 16 records are read without the extra now; format 8 (differences) still needs it
    monkeypatch.setitem(sys.modules, "wfdb", None)  # import wfdb → ImportError
    hea = tmp_path / "d.hea"
    hea.write_text("d 1 1 2\nd.dat 8 10/% 8 0 970 0 0 SpO2\n")
    (tmp_path / "d.dat").write_bytes(bytes(2))
    with pytest.raises(FormatError, match=r"oxi-assist\[wfdb\]"):
        load(hea, "wfdb")


def test_bad_records(tmp_path, vectors):
    hea = tmp_path / "r.hea"
    hea.write_text("r 2 1 10\nr.dat 16 10/% 16 0 0 0 0 SpO2\nr.dat 16 10/bpm 16 0 0 0 0 HR\n")
    with pytest.raises(FormatError, match="unreadable WFDB signal file"):
        load(hea)  # the .dat is missing
    (tmp_path / "r.dat").write_bytes(bytes(7))  # 3.5 frames of 4 bytes: truncated
    with pytest.raises(FormatError, match=r"r\.hea"):
        load(hea)
    hea.write_text("r 1 1 2\nr.dat 16 10/mmHg 16 0 0 0 0 ABP\n")
    (tmp_path / "r.dat").write_bytes(bytes(4))
    with pytest.raises(FormatError, match="no SpO2 signal"):
        load(hea)
    hea.write_text("garbage\n")
    with pytest.raises(FormatError, match=r"r\.hea"):
        load(hea, "wfdb")


def test_small_record_zero_and_invalid_marker_are_gaps(tmp_path):
    hea = tmp_path / "s.hea"
    hea.write_text("s 2 1 4\ns.dat 16 10/% 16 0 0 0 0 SpO2\ns.dat 16 10/bpm 16 0 0 0 0 PULSE\n")
    vals = np.array([[970, 700], [0, 0], [-32768, -32768], [955, 710]], dtype="<i2")
    (tmp_path / "s.dat").write_bytes(vals.tobytes())
    rec = load(hea)
    assert [(r.spo2, r.pulse) for r in rec.readings] == [
        (97.0, 70.0), (None, None), (None, None), (95.5, 71.0)]
    assert rec.interval == 1.0
