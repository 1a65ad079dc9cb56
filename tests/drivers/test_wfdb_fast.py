"""The numpy WFDB path against the `wfdb` package path: the real MIMIC numerics record and
generated small records in every format the numpy path reads must give the same Recording."""

from __future__ import annotations

import os
import random
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from drivers.errors import FormatError
from drivers.formats import load, wfdb_numerics
from drivers.formats._base import Recording

pytest.importorskip("wfdb")  # the reference

REC = "wfdb-mimic-numerics/s00001-2896-10-10-00-31n"
EXAMPLES = int(os.environ.get("OXI_FUZZ_EXAMPLES", "100"))
RANGE = {"16": 16, "61": 16, "80": 8, "24": 24, "32": 32, "212": 12}  # bits
NAMES = ["SpO2", "%SpO2", "spo2", "SaO2", "PULSE", "Pulse Rate", "HR", "RESP", "ABP Mean",
         "NBPSys", "II"]


def _wfdb(path: Path) -> Recording:
    base = path.with_suffix("") if path.suffix == ".hea" else path
    return wfdb_numerics._read_wfdb(path, base)


def assert_same(a: Recording, b: Recording) -> None:
    ca, cb = a.columns(), b.columns()
    for col in ("t", "spo2", "pulse", "status"):
        np.testing.assert_array_equal(getattr(ca, col), getattr(cb, col), err_msg=col)
    assert (ca.pi is None) == (cb.pi is None)
    for f in ("path", "format", "start_wall", "interval", "device", "source", "header",
              "interrupted", "links", "alarms", "events"):
        assert getattr(a, f) == getattr(b, f), f


def test_real_record_same_as_wfdb_and_needs_no_extra(vectors, monkeypatch):
    ref, ref_hea = _wfdb(vectors / REC), _wfdb(vectors / (REC + ".hea"))
    monkeypatch.setitem(sys.modules, "wfdb", None)  # import wfdb → ImportError
    assert_same(wfdb_numerics.read(vectors / REC), ref)
    fast = load(vectors / REC)  # detection names the .hea
    assert_same(fast, ref_hea)
    _t, spo2, _p = fast.arrays()
    assert len(spo2) == 1936 and int(np.isnan(spo2).sum()) == 363
    assert fast.header["comments"] == ["<age>: 60 <sex>: F"]
    assert fast.start_wall is None and "date-shifted" in fast.header["base_datetime"]
    assert fast.header["base_datetime"].startswith("2896-10-10 00:31:25.894")


def _pack(fmt: str, d: np.ndarray) -> bytes:
    d = d.astype(np.int64).reshape(-1)
    if fmt == "16":
        return d.astype("<i2").tobytes()
    if fmt == "61":
        return d.astype(">i2").tobytes()
    if fmt == "32":
        return d.astype("<i4").tobytes()
    if fmt == "80":
        return (d + 128).astype(np.uint8).tobytes()
    if fmt == "24":
        u = d & 0xFFFFFF
        return np.stack([u & 0xFF, (u >> 8) & 0xFF, u >> 16], axis=1).astype(np.uint8).tobytes()
    u = d & 0xFFF  # 212: two samples in three bytes
    n = len(u)
    if n % 2:
        u = np.append(u, 0)
    a, b = u[0::2], u[1::2]
    out = np.stack([a & 0xFF, ((a >> 8) & 0x0F) | ((b >> 4) & 0xF0), b & 0xFF], axis=1)
    return out.astype(np.uint8).tobytes()[: -(-3 * n // 2)]


@st.composite
def records(draw: st.DrawFn) -> tuple[str, bytes]:
    nsig = draw(st.integers(1, 6))
    fmt = draw(st.sampled_from(sorted(RANGE)))
    bits = RANGE[fmt]
    lo, hi = -(2 ** (bits - 1)), 2 ** (bits - 1) - 1
    n = draw(st.integers(1, 12))
    names = [draw(st.sampled_from(NAMES)) for _ in range(nsig)]
    i_spo2 = -1
    if draw(st.integers(0, 4)):  # most records carry SpO2
        i_spo2 = draw(st.integers(0, nsig - 1))
        names[i_spo2] = draw(st.sampled_from(NAMES[:4]))
    small = st.one_of(st.integers(max(lo, -50), min(hi, 1200)), st.sampled_from([lo, 0, hi]))
    d = np.array([[draw(small) for _ in range(nsig)] for _ in range(n)], dtype=np.int64)
    offset = draw(st.sampled_from([None, 0, 3, 16]))
    fs = draw(st.sampled_from([None, "1", "250", "0.0166666666667/125", "2.5", "60/1000(12)",
                               "0.5", "1.000000001"]))
    with_len = fs is None or draw(st.booleans())
    rec = f"r {nsig}"
    if fs is not None:
        rec += f" {fs}"
        if with_len:
            rec += f" {n}"
            when = draw(st.sampled_from([None, "00:31:25.894", "12:00:00", "5:07", "59",
                                         "23:59:59.5"]))
            if when is not None:
                rec += f" {when}"
                date = draw(st.sampled_from([None, "10/10/2896", "01/02/2020", "1/2/2021"]))
                if date is not None:
                    rec += f" {date}"
    lines = [rec]
    if draw(st.booleans()):
        lines.insert(0, "# a comment #")
    for i in range(nsig):
        f = fmt if offset is None else f"{fmt}+{offset}"
        line = f"r.dat\t{f}" if draw(st.booleans()) else f"r.dat {f}"
        # how many optional fields are written (a description needs them all)
        depth = 3 if i == i_spo2 else draw(st.sampled_from([0, 1, 2, 3, 3, 3]))
        if depth >= 1:
            gain = draw(st.sampled_from(["10", "0", "1", "2.5", "-4", "1e1", "100.0"]))
            base = draw(st.sampled_from([None, "0", "-7", "1000"]))
            units = draw(st.sampled_from([None, "%", "bpm", "mmHg"]))
            g = gain + ("" if base is None else f"({base})") + ("" if units is None
                                                                else f"/{units}")
            line += f" {g}"
        if depth >= 2:
            zero = draw(st.sampled_from(["0", "5", "-3"]))
            line += f" {bits} {zero}"
        if depth >= 3:
            line += f" 0 0 0 {names[i]}"
        lines.append(line)
        if i == 0 and draw(st.booleans()):
            lines.append("#between signal lines")
    head = b"" if offset is None else bytes(range(1, offset + 1))
    tail = b"" if with_len is False else bytes(draw(st.integers(0, 5)))
    return "\n".join(lines) + "\n", head + _pack(fmt, d) + tail


@settings(max_examples=EXAMPLES, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(records())
def test_generated_records_same_as_wfdb(tmp_path, rec):
    text, dat = rec
    hea = tmp_path / "r.hea"
    hea.write_text(text)
    (tmp_path / "r.dat").write_bytes(dat)
    try:
        ref = _wfdb(hea)
    except FormatError:
        with pytest.raises(FormatError):
            wfdb_numerics.read(hea)
        return
    assert_same(wfdb_numerics.read(hea), ref)


@pytest.mark.parametrize("text,line,match", [
    ("r x 1 10\n", 1, "number of signals"),
    ("# c\n\nr 1 fast 10\nr.dat 16 10 16 0 0 0 0 SpO2\n", 3, "sampling frequency"),
    ("r 1 1 10 25:00:00\nr.dat 16 10 16 0 0 0 0 SpO2\n", 1, "base time"),
    ("r 1 1 10 0:00:00 31/02/2020\nr.dat 16 10 16 0 0 0 0 SpO2\n", 1, "base date"),
    ("r 1 1 10 0:00:00 1/2/2020 x\nr.dat 16 10 16 0 0 0 0 SpO2\n", 1, "after the base date"),
    ("r 2 1 10\nr.dat 16 10 16 0 0 0 0 SpO2\n", 1, "says 2 signals"),
    ("r 1 1 10\nr.dat 16 10 16 0 0 0 0 SpO2\nr.dat 16 10 16 0 0 0 0 HR\n", 1, "says 1"),
    ("r 1 1 10\nr.dat sixteen 10 16 0 0 0 0 SpO2\n", 2, "signal format"),
    ("r 1 1 10\n#\nr.dat 16 10(x)/% 16 0 0 0 0 SpO2\n", 3, "ADC gain"),
    ("r 1 1 10\nr.dat 16 10 16 zero 0 0 0 SpO2\n", 2, "ADC zero"),
    ("r 1 1 10\nr/x.dat 16 10 16 0 0 0 0 SpO2\n", 2, "file name"),
    ("r 1 1 10\nr.dat 16 10(99999999999999999999) 16 0 0 0 0 SpO2\n", 2, "out of range"),
    ("r 1 1 " + "9" * 5000 + "\n", 1, "number of samples 9+ out of range"),
    ("r.1 1 1 10\n", 1, "record name"),
    ("r\n", 1, "record line"),
])
def test_malformed_header_names_line(tmp_path, monkeypatch, text, line, match):
    monkeypatch.setitem(sys.modules, "wfdb", None)  # decided without the package
    hea = tmp_path / "r.hea"
    hea.write_text(text)
    (tmp_path / "r.dat").write_bytes(bytes(40))
    with pytest.raises(FormatError, match=match) as e:
        load(hea, "wfdb")
    assert e.value.line == line and "\n" not in str(e.value)
    assert str(e.value).startswith(f"{hea}:{line}: ")


def test_empty_header_and_missing_dat(tmp_path):
    hea = tmp_path / "r.hea"
    hea.write_text("# only a comment\n")
    with pytest.raises(FormatError, match="no record line"):
        load(hea, "wfdb")
    hea.write_text("r 1 1 10\n# c\nr.dat 16 10 16 0 0 0 0 SpO2\n")
    with pytest.raises(FormatError, match=r"r\.dat not found") as e:
        load(hea)
    assert e.value.line == 3 and "\n" not in str(e.value)


def test_truncated_dat_is_an_error_with_its_size(tmp_path):
    hea = tmp_path / "r.hea"
    hea.write_text("r 2 1 3\nr.dat 16+1 10 16 0 0 0 0 SpO2\nr.dat 16+1 10 16 0 0 0 0 HR\n")
    (tmp_path / "r.dat").write_bytes(bytes(12))
    with pytest.raises(FormatError, match="holds 11 bytes after offset 1"):
        load(hea)
    with pytest.raises(FormatError):
        _wfdb(hea)  # the package refuses it too


def test_other_layouts_go_through_wfdb(tmp_path, monkeypatch):
    hea = tmp_path / "d.hea"
    hea.write_text("d 2 1 3\nd.dat 8 10/% 8 0 970 0 0 SpO2\nd.dat 8 10/bpm 8 0 700 0 0 HR\n")
    (tmp_path / "d.dat").write_bytes(np.array([[0, 0], [5, -3], [-2, 1]], np.int8).tobytes())
    rec = load(hea)  # format 8 (first differences): the package's reader
    assert [(r.spo2, r.pulse) for r in rec.readings] == [(97.0, 70.0), (97.5, 69.7),
                                                         (97.3, 69.8)]
    # a format-212 file shorter than its header: the package pads it; so does the fallback
    hea.write_text("s 1 1 3\ns.dat 212 10 12 0 0 0 0 SpO2\n")
    hea.rename(tmp_path / "s.hea")
    (tmp_path / "s.dat").write_bytes(_pack("212", np.array([970, 955, 960]))[:4])
    assert_same(load(tmp_path / "s.hea"), _wfdb(tmp_path / "s.hea"))
    (tmp_path / "s.dat").write_bytes(_pack("212", np.array([970, 955, 960]))[:2])
    with pytest.raises(FormatError, match="holds 2 bytes"):  # a whole block missing
        load(tmp_path / "s.hea")
    (tmp_path / "s.dat").write_bytes(_pack("212", np.array([970, 955, 960]))[:4])
    monkeypatch.setitem(sys.modules, "wfdb", None)
    with pytest.raises(FormatError, match=r"oxi-assist\[wfdb\]"):
        load(tmp_path / "s.hea")


def test_212_and_24_decode_by_hand(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "wfdb", None)
    vals = np.array([[970, 700], [-2048, 2047], [-1, 0]])  # -2048: the 212 invalid marker
    (tmp_path / "a.hea").write_text("a 2 1 3\na.dat 212 10 12 0 0 0 0 SpO2\n"
                                    "a.dat 212 10 12 0 0 0 0 PULSE\n")
    (tmp_path / "a.dat").write_bytes(_pack("212", vals))
    rec = load(tmp_path / "a.hea")
    assert rec.readings[0].spo2 == 97.0 and rec.readings[0].pulse == 70.0
    assert rec.readings[1].spo2 is None and rec.readings[2].spo2 is None
    (tmp_path / "b.hea").write_text("b 1 2 2 12:00:00 01/02/2020\nb.dat 24 100(-100) 24 0 0 0 "
                                    "0 SpO2\n")
    (tmp_path / "b.dat").write_bytes(bytes([0x80, 0x25, 0x00, 0x00, 0x00, 0x80]))
    rec = load(tmp_path / "b.hea")
    assert rec.readings[0].spo2 == 97.0 and rec.readings[1].spo2 is None
    assert rec.interval == 0.5 and rec.header["base_datetime"] == "2020-02-01 12:00:00"
    assert rec.start_wall is not None


def _mutate(rng: random.Random, b: bytes) -> bytes:
    s = bytearray(b)
    op = rng.randrange(4)
    if op == 0:  # a digit, sign or separator changed
        i = rng.randrange(len(s))
        s[i] = rng.choice(b"0123456789-+./:() \t\nx#e")
    elif op == 1:  # a stretch removed
        i = rng.randrange(len(s))
        del s[i:i + rng.randint(1, 6)]
    elif op == 2:  # a bit flipped
        i = rng.randrange(len(s))
        s[i] ^= 1 << rng.randrange(8)
    else:  # truncated
        s = s[:rng.randrange(len(s) + 1)]
    return bytes(s)


def test_mutated_real_record_errors_cleanly_or_matches_wfdb(tmp_path, vectors):
    """The reliability fuzz writes a header without its .dat; here the .dat is there, so the
    mutated headers and signal files reach the decoder and are checked against the package."""
    src = vectors / "wfdb-mimic-numerics"
    hea0 = (src / "s00001-2896-10-10-00-31n.hea").read_bytes()
    dat0 = (src / "3975656n.dat").read_bytes()[:2000]
    hea0 = hea0.replace(b" 1936 ", b" 100 ")  # 100 frames of the 2000 bytes
    rng = random.Random(1936)
    hea, dat = tmp_path / "m.hea", tmp_path / "3975656n.dat"
    same = 0
    for _ in range(int(os.environ.get("OXI_FUZZ_EXAMPLES", "150"))):
        h, d = hea0, dat0
        if rng.random() < 0.7:
            h = _mutate(rng, h)
        if rng.random() < 0.5:
            d = _mutate(rng, d)
        hea.write_bytes(h)
        dat.write_bytes(d)
        try:
            fast = wfdb_numerics.read(hea)
        except FormatError as e:
            assert "\n" not in str(e)
            continue
        _t, spo2, pulse = fast.arrays()
        assert np.isfinite(fast.columns().t).all()
        assert np.all(np.isnan(spo2) | ((spo2 >= 0) & (spo2 <= 100)))
        assert np.all(np.isnan(pulse) | ((pulse >= 0) & (pulse <= 300)))
        assert_same(fast, _wfdb(hea))
        same += 1
    assert same > 20  # the mutations must leave many records readable, or this checks little
