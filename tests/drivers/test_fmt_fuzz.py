"""Damaged files never crash a reader: every truncation or corruption of a valid file of each
format either reads or raises a one-line FormatError naming the file (seeded, deterministic)."""

from __future__ import annotations

import datetime as dt
import random
import struct

import edfio
import numpy as np
import pytest

from drivers.errors import FormatError
from drivers.formats import load
from drivers.formats._base import Recording


def _viatom_csv() -> bytes:
    rows = ["Time,SpO2(%),Pulse Rate(bpm),Motion,SpO2 Reminder,PR Reminder,"]
    rows += [f'"11:0{i // 10}:{i % 10}0PM Jan 14, 2024",{90 + i % 9},{60 + i},0,0,0,'
             for i in range(40)]
    return ("\n".join(rows) + "\n").encode()


def _viatom_bin() -> bytes:
    head = struct.pack("<HH5B", 3, 2020, 8, 17, 22, 52, 51) + struct.pack("<I", 90)[:3] + b"\0"
    head += struct.pack("<H", 40) + bytes(23)
    return head + bytes([96, 70, 0, 0, 0]) * 10


def _o2s() -> bytes:
    tr = bytearray(48)
    tr[4:8] = b"\x48\x12\x5a\xda"
    tr[12:14] = struct.pack("<H", 10)
    tr[16:19] = bytes([1, 1, 3])
    return bytes([1, 3, 0, 0, 0, 0, 0, 0, 4, 0]) + bytes([96, 70, 0]) * 10 + bytes(tr)


def _edf(tmp_path) -> bytes:
    p = tmp_path / "src.edf"
    sig = edfio.EdfSignal(np.full(20, 96.0), 1, label="SpO2", physical_range=(0, 100))
    edfio.Edf([sig], recording=edfio.Recording(startdate=dt.date(2024, 1, 1))).write(p)
    return p.read_bytes()


def _native(tmp_path) -> bytes:
    from drivers.formats import native
    from drivers.reading import Reading
    p = tmp_path / "src.jsonl"
    native.write(Recording(path="x", format="t", readings=[Reading(float(i), 96.0, 70.0)
                                                           for i in range(10)]), p)
    return p.read_bytes()


def _md300() -> bytes:
    out = bytes([7]) + struct.pack("<H", 12)
    for i in range(12):
        out += bytes([0, 0, 7, 24, 1, 14, 23, 0, i * 4, 97, 70])
    return out


def _rad8() -> bytes:
    return b"".join(b"02/22/16 22:47:%02d SN=0000056661 SPO2=098%% BPM=097 PI=03.60%% "
                    b"SPCO=--.-%% ALARM=0000 EXC=000000\r\n\r\n" % i for i in range(20))


@pytest.mark.parametrize("kind", ["contec-spo2", "contec-csv", "viatom-csv", "viatom-bin",
                                  "o2ring-s", "edf", "csv", "generic-csv", "native", "pod2",
                                  "md300w1", "rad8"])
def test_mutations_read_or_fail_cleanly(tmp_path, vectors, kind):
    if kind == "contec-spo2":
        good = (vectors / "contec-cms50e-live.SpO2").read_bytes()
    elif kind == "contec-csv":
        good = (vectors / "contec-cms50e-live.csv").read_bytes()[:1500]
    elif kind == "viatom-csv":
        good = _viatom_csv()
    elif kind == "viatom-bin":
        good = _viatom_bin()
    elif kind == "o2ring-s":
        good = _o2s()
    elif kind == "edf":
        good = _edf(tmp_path)
    elif kind == "native":
        good = _native(tmp_path)
    elif kind == "pod2":
        good = bytes([97, 70, 0, 14, 0, 0xC0]) * 20
    elif kind == "md300w1":
        good = _md300()
    elif kind == "rad8":
        good = _rad8()
    else:
        src = tmp_path / "s.csv"
        from drivers.formats import csv_out
        csv_out.write(load(vectors / "contec-cms50e-live.SpO2"), src)
        good = src.read_bytes()[:2000]
        if kind == "generic-csv":
            good = good.split(b"\n", 1)[1]  # drop our comment line: a plain table
    rnd = random.Random(kind)
    p = tmp_path / (f"mutant.{kind}" if kind != "pod2" else "1705273512000")
    outcomes = {"read": 0, "error": 0}
    for case in range(60):
        data = bytearray(good)
        op = case % 3
        if op == 0:
            data = data[: rnd.randrange(len(data))]
        elif op == 1:
            for _ in range(rnd.randint(1, 8)):
                data[rnd.randrange(len(data))] = rnd.randrange(256)
        else:
            i = rnd.randrange(len(data))
            data[i:i] = bytes(rnd.randrange(256) for _ in range(rnd.randint(1, 30)))
        p.write_bytes(bytes(data))
        for fmt in (None, kind):
            try:
                rec = load(p, fmt)
            except FormatError as e:
                msg = str(e)
                assert "\n" not in msg and p.name in msg, msg
                outcomes["error"] += 1
            else:
                assert isinstance(rec, Recording)
                _t, spo2, pulse = rec.arrays()
                if rec.format != "native":  # the session file stores what the monitor saw
                    ok_s, ok_p = spo2[~np.isnan(spo2)], pulse[~np.isnan(pulse)]
                    assert np.all((ok_s > 0) & (ok_s <= 100))  # never a sentinel as a value
                    assert np.all((ok_p > 0) & (ok_p < 255))
                outcomes["read"] += 1
    assert outcomes["error"] > 0 and sum(outcomes.values()) == 120
