"""Contec legacy 5-byte protocol (V5.0A) codec."""

from __future__ import annotations

from drivers.protocols import codec_for
from drivers.protocols.cms50_legacy import CMS50LegacyCodec
from drivers.reading import Reading, Status


def test_documented_layout() -> None:
    # signal 5 + beep, pleth 51, probe ok, PR 65, SpO2 97
    (r,) = codec_for("cms50-legacy").feed(bytes([0xC5, 51, 0x06, 65, 97]))
    assert (r.spo2, r.pulse) == (97.0, 65.0)
    assert r.status == Status.BEAT
    assert r.pleth == (round(51 * 100 / 127, 3),)
    assert r.pleth_rate == 60.0


def test_pulse_bit7_travels_in_byte3_bit6() -> None:
    (r,) = CMS50LegacyCodec().feed(bytes([0x84, 40, 0x40 | 0x05, 130 & 0x7F, 95]))
    assert r.pulse == 130.0  # the cms-p bug (no shift) would give 66


def test_probe_error_and_sentinels_are_no_reading() -> None:
    c = CMS50LegacyCodec()
    fo, se, sn = c.feed(bytes([0x80, 0x40, 0x50, 0x7F, 0x7F]) +   # probe error bit
                        bytes([0x80, 10, 0x20, 70, 96]) +         # searching bit
                        bytes([0x84, 10, 0x40, 0x7F, 0x7F]))      # PR 0xFF, SpO2 0x7F
    assert fo.status & Status.FINGER_OUT and fo.spo2 is None and fo.pleth == ()
    assert se.status & Status.SEARCHING and not se.valid
    assert (sn.spo2, sn.pulse) == (None, None) and sn.status & Status.SEARCHING


def test_resync_and_counts() -> None:
    c = CMS50LegacyCodec()
    good = CMS50LegacyCodec.encode(Reading(t=0, spo2=97, pulse=72, pleth=(50.0,)))
    rs = c.feed(b"\x01\x02" + good[:3] + good + good[:2])
    assert len(rs) == 1 and rs[0].spo2 == 97
    assert c.stats.frames_bad == 1
    assert c.stats.bytes_skipped == 2 + 3
    assert c.pending == good[:2]
    assert c.feed(good[2:]) and c.stats.frames_good == 2


def test_out_of_range_spo2_is_a_bad_frame() -> None:
    c = CMS50LegacyCodec()
    assert c.feed(bytes([0x84, 10, 0x00, 70, 120])) == []
    assert c.stats.frames_bad == 1
