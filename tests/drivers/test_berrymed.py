"""BerryMed BCI codec: the constructed packets of PROTOCOLS.md §5, four packets per
notification, sync-bit framing and resynchronisation."""

from __future__ import annotations

from drivers.protocols.berrymed import BerryMedCodec
from drivers.reading import Reading, Status

GOOD = bytes.fromhex("85 32 06 48 62")
NO_FINGER = bytes.fromhex("90 00 50 7F 7F")


def test_constructed_packet() -> None:
    (r,) = BerryMedCodec().feed(GOOD)
    assert (r.spo2, r.pulse, r.pleth, r.pleth_rate) == (98, 72, (50.0,), 100.0)
    assert r.valid


def test_no_finger_packet_is_no_reading() -> None:
    (r,) = BerryMedCodec().feed(NO_FINGER)
    assert r.spo2 is None and r.pulse is None and r.pleth == ()
    assert r.status & Status.FINGER_OUT and r.status & Status.SEARCHING and not r.valid


def test_four_packets_per_notification_make_one_reading() -> None:
    beat = bytes([0xC5]) + GOOD[1:]
    c = BerryMedCodec()
    (r,) = c.feed(GOOD + beat + GOOD + GOOD)
    assert len(r.pleth) == 4 and r.status & Status.BEAT and c.stats.frames_good == 4


def test_pulse_rate_bit_7() -> None:
    (r,) = BerryMedCodec().feed(bytes([0x85, 0x32, 0x46, 0x02, 0x5F]))
    assert r.pulse == 130 and r.spo2 == 95


def test_split_packet_is_reassembled() -> None:
    c = BerryMedCodec()
    assert c.feed(GOOD[:2]) == []
    (r,) = c.feed(GOOD[2:])
    assert r.spo2 == 98


def test_resync_after_truncated_packet_and_garbage() -> None:
    c = BerryMedCodec()
    out = c.feed(b"\x11\x22" + GOOD[:3] + GOOD + bytes([0x85, 0x70, 0x06, 0x48, 0x62]) + GOOD)
    assert [r.spo2 for r in out] == [98]
    assert len(out[0].pleth) == 2
    assert c.stats.frames_bad == 2 and c.stats.frames_good == 2


def test_encode_round_trip() -> None:
    src = Reading(t=0, spo2=88, pulse=140, pleth=(10.0, 20.0, 30.0, 40.0, 50.0),
                  status=Status.BEAT)
    out = BerryMedCodec().feed(BerryMedCodec().encode(src))
    assert [r.pleth for r in out] == [(10.0, 20.0, 30.0, 40.0), (50.0, 50.0, 50.0, 50.0)]
    assert all((r.spo2, r.pulse) == (88, 140) for r in out)
    assert out[0].status & Status.BEAT and not out[1].status & Status.BEAT
    (r,) = BerryMedCodec().feed(BerryMedCodec().encode(Reading(t=0, status=Status.FINGER_OUT)))
    assert r.status & Status.FINGER_OUT and r.spo2 is None
