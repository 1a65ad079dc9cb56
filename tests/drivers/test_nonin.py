"""Nonin Oximetry Service codec: the constructed vectors of PROTOCOLS.md §3 and the markers."""

from __future__ import annotations

import pytest

from drivers.protocols.nonin import NoninCodec
from drivers.reading import Reading, Status


def test_constructed_vector_finger_ok() -> None:
    c = NoninCodec()
    (r,) = c.feed(bytes.fromhex("0A 10 1E 00 96 00 2A 61 00 48"))
    assert (r.spo2, r.pulse, r.pi, r.status) == (97, 72, 1.5, Status.NONE)
    assert c.battery_volts == 3.0 and c.counter == 42 and r.valid


def test_constructed_vector_searching_is_no_reading() -> None:
    (r,) = NoninCodec().feed(bytes.fromhex("0A 08 1E 00 00 00 2B 7F 01 FF"))
    assert r.spo2 is None and r.pulse is None and r.pi is None
    assert r.status & Status.SEARCHING and r.status & Status.FINGER_OUT and not r.valid


@pytest.mark.parametrize(("status_byte", "flag"), [
    (0x00, Status.FINGER_OUT), (0x18, Status.SEARCHING), (0x30, Status.LOW_BATTERY),
    (0x12, Status.POOR_SIGNAL)])
def test_status_bits(status_byte: int, flag: Status) -> None:
    (r,) = NoninCodec().feed(bytes([10, status_byte, 30, 0, 50, 0, 1, 95, 0, 80]))
    assert r.status & flag


def test_missing_markers_each_alone() -> None:
    (r,) = NoninCodec().feed(bytes.fromhex("0A 10 1E 00 96 00 2A 7F 00 48"))
    assert r.spo2 is None and not r.valid
    (r,) = NoninCodec().feed(bytes.fromhex("0A 10 1E 00 96 00 2A 61 01 FF"))
    assert r.pulse is None and r.spo2 is None and not r.valid


def test_garbage_skipped_and_counted() -> None:
    c = NoninCodec()
    out = c.feed(bytes.fromhex("0A 10 1E 00 96 00 2A 65 00 48"))  # SpO2 101: implausible
    out += c.feed(b"\x01\x02\x0a")
    out += c.feed(bytes.fromhex("0A 10 1E 00 96 00 2A 61 00 48"))
    assert [r.spo2 for r in out] == [97]
    assert c.stats.frames_bad == 1 and c.stats.bytes_skipped == 13


def test_encode_round_trip() -> None:
    src = Reading(t=0, spo2=91, pulse=300, pi=12.34, status=Status.LOW_BATTERY)
    (r,) = NoninCodec().feed(NoninCodec().encode(src, counter=7))
    assert (r.spo2, r.pulse, r.pi) == (91, 300, 12.34) and r.status == Status.LOW_BATTERY
    (r,) = NoninCodec().feed(NoninCodec().encode(Reading(t=0, status=Status.FINGER_OUT)))
    assert r.status & Status.FINGER_OUT and r.spo2 is None
