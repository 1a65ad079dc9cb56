"""PLX (0x1822) codec: SFLOAT with every special value, the spec's constructed vectors, every
flag combination of 0x2A5F and 0x2A5E, status bits → flags, features."""

from __future__ import annotations

import itertools

import pytest

from drivers.protocols import _sfloat, codec_for
from drivers.protocols.plx import (
    CONTINUOUS,
    FEATURES,
    SPOT_CHECK,
    PlxCodec,
    measurement_status_flags,
    sensor_status_flags,
)
from drivers.reading import INVALIDATING, Reading, Status


@pytest.mark.parametrize(("raw", "value"), [
    (0x0002, 2), (0xF014, 2.0), (0xE0C8, 2.0), (0x1002, 20), (0x0062, 98), (0x0048, 72),
    (0xF3E8, 100.0), (0x700A, 100_000_000), (0xF028, 4.0), (0x0FFF, -1), (0xF800, -204.8),
])
def test_sfloat_documented_values(raw: int, value: float) -> None:
    assert _sfloat.decode(raw) == pytest.approx(value)


def test_sfloat_exponent_is_not_biased() -> None:
    # a decoder that subtracts a bias of 8 reads 0A 70 as 1.0
    assert _sfloat.decode_le(bytes.fromhex("0A70"), 0) == 100_000_000


@pytest.mark.parametrize("raw", [0x07FF, 0x0800, 0x07FE, 0x0802, 0x0801])
def test_sfloat_special_values_are_none(raw: int) -> None:
    assert _sfloat.decode(raw) is None


def test_sfloat_encode_round_trip_and_specials() -> None:
    for v in (0, 1, 72, 98, 100, 254, 2045):
        assert _sfloat.decode(_sfloat.encode(v)) == v
    assert _sfloat.decode(_sfloat.encode(4.25, decimals=2)) == pytest.approx(4.25)
    assert _sfloat.encode(None) == 0x07FF
    assert _sfloat.encode(float("nan")) == 0x07FF
    assert _sfloat.encode(float("inf")) == 0x07FE
    assert _sfloat.encode(float("-inf")) == 0x0802
    assert _sfloat.decode(_sfloat.encode(123456)) == pytest.approx(123500)  # loses digits
    assert _sfloat.encode(1e12) == 0x0800  # too big → NRes, never a wrapped number


def feed(hexstr: str, char: str | None = None) -> list[Reading]:
    return PlxCodec().feed(bytes.fromhex(hexstr), char=char)


def test_constructed_vector_plain() -> None:
    (r,) = feed("00 62 00 48 00")
    assert (r.spo2, r.pulse, r.pi, r.status) == (98, 72, None, Status.NONE)
    assert r.valid


def test_constructed_vector_nan_with_status_is_no_reading() -> None:
    (r,) = feed("0C FF 07 FF 07 00 20 00 80 00")
    assert r.spo2 is None and r.pulse is None
    assert r.status & Status.FINGER_OUT and r.status & Status.SEARCHING
    assert not r.valid


def test_constructed_vector_pai() -> None:
    (r,) = feed("10 61 00 40 00 28 F0")
    assert (r.spo2, r.pulse, r.pi) == (97, 64, 4.0)


def test_constructed_spot_check_with_timestamp() -> None:
    c = PlxCodec()
    (r,) = c.feed(bytes.fromhex("01 61 00 40 00 E8 07 05 01 0C 1E 00"), char=SPOT_CHECK)
    assert (r.spo2, r.pulse) == (97, 64)
    assert c.last_timestamp == (2024, 5, 1, 12, 30, 0)
    # the same bytes read as continuous mean something else: flags bit 0 = Fast present
    (r2,) = PlxCodec().feed(bytes.fromhex("01 61 00 40 00 E8 07 05 01 0C 1E 00"),
                            char=CONTINUOUS)
    assert (r2.spo2, r2.pulse) == (97, 64)
    assert codec_for("plx-spot").feed(bytes.fromhex("01 61 00 40 00 E8 07 05 01 0C 1E 00"))


@pytest.mark.parametrize("raw", [0x07FF, 0x0800, 0x07FE, 0x0802, 0x0801])
def test_each_special_value_in_each_field_is_no_reading(raw: int) -> None:
    s = raw.to_bytes(2, "little")
    (r,) = PlxCodec().feed(b"\x00" + s + bytes.fromhex("4800"))
    assert r.spo2 is None and not r.valid and r.status & Status.SEARCHING
    (r,) = PlxCodec().feed(b"\x00" + bytes.fromhex("6200") + s)
    assert r.pulse is None and r.spo2 is None and not r.valid
    (r,) = PlxCodec().feed(b"\x10" + bytes.fromhex("62004800") + s)
    assert r.pi is None and r.spo2 == 98


def test_out_of_range_sfloat_is_not_a_value() -> None:
    # SpO2 = 1000 (0x03E8) and PR = -5 are numbers, but not measurements
    (r,) = PlxCodec().feed(bytes.fromhex("00 E8 03 FB 0F"))
    assert r.spo2 is None and r.pulse is None and not r.valid


@pytest.mark.parametrize("flags", range(32))
def test_every_continuous_flag_combination(flags: int) -> None:
    body = bytes([flags]) + bytes.fromhex("6100 4000")
    if flags & 1:
        body += bytes.fromhex("6000 4100")  # fast
    if flags & 2:
        body += bytes.fromhex("5F00 4200")  # slow
    if flags & 4:
        body += (1 << 14).to_bytes(2, "little")  # questionable
    if flags & 8:
        body += (1 << 5).to_bytes(3, "little")  # low perfusion
    if flags & 16:
        body += bytes.fromhex("96 F0")  # PAI 15.0
    (r,) = PlxCodec().feed(body)
    assert (r.spo2, r.pulse) == (97, 64)  # Normal, never Fast/Slow
    assert bool(r.status & Status.POOR_SIGNAL) == bool(flags & 4)
    assert bool(r.status & Status.LOW_PERFUSION) == bool(flags & 8)
    assert r.pi == (15.0 if flags & 16 else None)
    # one byte short of what the flags announce → rejected and counted
    c = PlxCodec()
    assert c.feed(body[:-1]) == [] and c.stats.frames_bad == 1


@pytest.mark.parametrize("flags", range(32))
def test_every_spot_check_flag_combination(flags: int) -> None:
    body = bytes([flags]) + bytes.fromhex("6100 4000")
    if flags & 1:
        body += bytes.fromhex("E807 05 01 0C 1E 00")
    if flags & 2:
        body += (1 << 14).to_bytes(2, "little")
    if flags & 4:
        body += (1 << 11).to_bytes(3, "little")  # sensor unconnected to user
    if flags & 8:
        body += bytes.fromhex("1E 00")  # PAI 30 → accepted (edge of range)
    c = PlxCodec()
    (r,) = c.feed(body, char="2a5e")
    if flags & 4:
        assert r.spo2 is None and r.status & Status.FINGER_OUT
    else:
        assert (r.spo2, r.pulse) == (97, 64)
        assert r.pi == (30 if flags & 8 else None)
    assert bool(r.status & Status.POOR_SIGNAL) == bool(flags & 2)
    assert (c.last_timestamp is not None) == bool(flags & 1)


INVALID_DSS_BITS = {1, 11, 12, 13, 14, 15, 9}
DOUBT_DSS_BITS = {2, 3, 4, 5, 6, 7, 8, 10}


@pytest.mark.parametrize("bit", range(24))
def test_sensor_status_bits(bit: int) -> None:
    s = sensor_status_flags(1 << bit)
    if bit in INVALID_DSS_BITS:
        assert s & INVALIDATING
    elif bit in DOUBT_DSS_BITS:
        assert s and not s & INVALIDATING
    else:
        assert s == Status.NONE  # bit 0 (display update) and reserved bits


@pytest.mark.parametrize("bit", range(16))
def test_measurement_status_bits(bit: int) -> None:
    s = measurement_status_flags(1 << bit)
    if bit in (12, 13, 15):
        assert s & INVALIDATING
    elif bit == 14:
        assert s == Status.POOR_SIGNAL
    else:
        assert s == Status.NONE


def test_features_parsed_and_encoded() -> None:
    c = PlxCodec()
    assert c.feed(PlxCodec.encode_features(), char=FEATURES) == []
    assert c.features is not None
    assert c.features.supported == 0x43
    assert c.features.measurement_status_support == 0xF000
    assert c.features.sensor_status_support == 0xFFFE
    src = Reading(t=0, spo2=97, pulse=64, pi=1.0)
    c.feed(PlxCodec().encode(src))  # status words + PAI: what 0x43 promises
    assert "flags_vs_features" not in c.stats.extra
    c.feed(bytes.fromhex("00 62 00 48 00"))  # no status words although promised
    assert c.stats.extra["flags_vs_features"] == 1
    c.feed(b"\x01", char=FEATURES)
    assert c.stats.frames_bad == 1


@pytest.mark.parametrize("status", [Status.NONE, Status.FINGER_OUT, Status.SEARCHING,
                                    Status.POOR_SIGNAL, Status.LOW_PERFUSION, Status.MOTION,
                                    Status.SENSOR_FAULT])
def test_encode_decode_round_trip(status: Status) -> None:
    src = Reading(t=0, spo2=None if status & INVALIDATING else 93,
                  pulse=None if status & INVALIDATING else 101, pi=2.5, status=status)
    (r,) = PlxCodec().feed(PlxCodec().encode(src))
    assert r.status & status == status
    if status & INVALIDATING:
        assert r.spo2 is None and not r.valid
    else:
        assert (r.spo2, r.pulse, r.pi) == (93, 101, 2.5)
    (r,) = PlxCodec().feed(PlxCodec().encode_spot(src, (2026, 1, 2, 3, 4, 5)), char="2a5e")
    assert r.status & status == status


def test_short_and_other_chars_counted() -> None:
    c = PlxCodec()
    assert c.feed(b"\x00\x62") == []
    assert c.feed(b"\x01\x02", char="00002a52-0000-1000-8000-00805f9b34fb") == []
    assert c.stats.frames_bad == 1 and c.stats.extra["other_char"] == 1


def test_every_byte_pair_never_raises() -> None:
    c = PlxCodec()
    for a, b in itertools.product(range(0, 256, 17), repeat=2):
        for r in c.feed(bytes([0, a, b, b, a])):
            assert r.spo2 is None or 1 <= r.spo2 <= 100
