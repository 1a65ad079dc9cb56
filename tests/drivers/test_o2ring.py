"""Viatom Oxy legacy codec (O2Ring, Checkme O2): CRC-8/SMBUS, the captured READ_SENSORS request
and the three captured 0x17 payloads of PROTOCOLS.md §7.1, reassembly across notifications."""

from __future__ import annotations

import pytest

from drivers.protocols.o2ring import (
    CMD_INFO,
    POLL,
    O2RingCodec,
    RequestParser,
    crc,
    request,
    response,
)
from drivers.reading import Reading, Status


def test_crc_check_value_and_captured_request() -> None:
    assert crc(b"123456789") == 0xF4
    assert bytes.fromhex("AA 17 E8 00 00 00 00 1B") == POLL
    assert O2RingCodec().poll() == POLL


def test_factory_reset_is_never_built() -> None:
    with pytest.raises(ValueError, match="factory reset"):
        request(0x18)


def test_captured_payload_worn() -> None:
    c = O2RingCodec()
    c.poll()
    (r,) = c.feed(response(bytes.fromhex("62 42 00 00 00 00 00 61 00 92 0a 01 00")))
    assert (r.spo2, r.pulse, r.pi) == (98, 66, 1.0) and r.valid
    assert c.battery == 97 and c.charging == 0


@pytest.mark.parametrize(("payload", "battery", "charging"), [
    ("ff ff ff 00 00 00 00 60 00 05 00 00 00", 96, 0),
    ("ff ff ff 00 00 00 00 62 01 00 00 00 00", 98, 1),
])
def test_captured_payloads_not_worn(payload: str, battery: int, charging: int) -> None:
    c = O2RingCodec()
    (r,) = c.feed(response(bytes.fromhex(payload)))  # no request outstanding: 13 bytes → live
    assert r.spo2 is None and r.pulse is None and r.status & Status.FINGER_OUT
    assert (c.battery, c.charging) == (battery, charging)


def test_calibrating_zeros_while_worn() -> None:
    (r,) = O2RingCodec().feed(response(bytes.fromhex("00 00 00 00 00 00 00 61 00 00 00 01 00")))
    assert r.spo2 is None and r.status & Status.SEARCHING and not r.valid


def test_low_battery_flag_unless_charging() -> None:
    (r,) = O2RingCodec().feed(response(bytes.fromhex("62 42 00 00 00 00 00 0A 00 00 0a 01 00")))
    assert r.status & Status.LOW_BATTERY and r.valid
    (r,) = O2RingCodec().feed(response(bytes.fromhex("62 42 00 00 00 00 00 0A 01 00 0a 01 00")))
    assert not r.status & Status.LOW_BATTERY


def test_reply_split_over_notifications_with_garbage() -> None:
    fr = response(bytes.fromhex("62 42 00 00 00 00 00 61 00 92 0a 01 00"))
    c = O2RingCodec()
    out = []
    for chunk in (b"\x13\x55\x00", fr[:7], fr[7:15], fr[15:]):
        out += c.feed(chunk)
    assert [r.spo2 for r in out] == [98] and c.stats.bytes_skipped >= 3


def test_bad_crc_dropped_and_next_frame_decoded() -> None:
    fr = bytearray(response(bytes.fromhex("62 42 00 00 00 00 00 61 00 92 0a 01 00")))
    good = bytes(fr)
    fr[8] ^= 0x40
    c = O2RingCodec()
    out = c.feed(bytes(fr) + good)
    assert [r.spo2 for r in out] == [98] and c.stats.frames_bad == 1


def test_other_replies_follow_the_outstanding_request() -> None:
    c = O2RingCodec()
    c.request(CMD_INFO)
    assert c.feed(response(b'{"SN":"1234567890ab"}')) == []
    assert c.info == b'{"SN":"1234567890ab"}'
    c.request(CMD_INFO)
    assert c.feed(response(b"x" * 13)) == []  # 13 bytes, but it answers INFO
    assert c.feed(response(b"", status=1)) == [] and c.stats.extra["error_replies"] == 1


def test_device_side_round_trip() -> None:
    p = RequestParser()
    assert p.feed(b"\x00" + POLL[:3]) == []
    assert p.feed(POLL[3:]) == [(0x17, 0, b"")]
    src = Reading(t=0, spo2=91, pulse=120, pi=2.3)
    c = O2RingCodec()
    c.poll()
    (r,) = c.feed(c.encode(src))
    assert (r.spo2, r.pulse, r.pi) == (91, 120, 2.3)
    c.poll()
    (r,) = c.feed(c.encode(Reading(t=0, status=Status.FINGER_OUT)))
    assert r.status & Status.FINGER_OUT and r.spo2 is None
