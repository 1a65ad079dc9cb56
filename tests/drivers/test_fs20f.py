"""Wellue FS20F / Yuwell "FE" codec: the two published slow frames, fast frames, the lenient
and strict checksum modes, finger-out markers."""

from __future__ import annotations

from drivers.protocols.fs20f import FS20FCodec, checksum
from drivers.reading import Reading, Status

YUWELL = bytes.fromhex("FE 0A 55 00 52 5F 17 70 CF 64")
FS20F = bytes.fromhex("FE 0A 55 00 5C 64 07 74 B2 4C")  # published with a checksum of 0x4C


def test_published_slow_frames() -> None:
    c = FS20FCodec()
    (a,) = c.feed(YUWELL)
    (b,) = c.feed(FS20F)
    assert (a.spo2, a.pulse, a.pi) == (95, 82, 6.0)
    assert (b.spo2, b.pulse, b.pi) == (100, 92, 1.908)
    assert checksum(YUWELL[:-1]) == YUWELL[-1]
    assert c.stats.extra["checksum_mismatch"] == 1  # counted, not dropped


def test_strict_mode_drops_checksum_mismatch() -> None:
    c = FS20FCodec(strict=True)
    assert c.feed(FS20F) == [] and c.stats.frames_bad == 1
    assert len(c.feed(YUWELL)) == 1


def test_finger_out_markers() -> None:
    (r,) = FS20FCodec().feed(FS20FCodec.encode_slow(Reading(t=0, status=Status.FINGER_OUT)))
    assert r.spo2 is None and r.status & Status.FINGER_OUT and not r.valid


def test_fast_frames_and_resync() -> None:
    c = FS20FCodec()
    stream = b"\xfe\x01\x99" + FS20FCodec.encode_fast(42) + b"\xfe\x08\x56\xff\x00\x00\x00\x00" \
        + FS20FCodec.encode_fast(43) + YUWELL[:4]
    out = c.feed(stream)
    assert [r.pleth for r in out] == [(42.0,), (43.0,)]
    assert all(r.wave_only for r in out)
    assert c.pending == YUWELL[:4]
    (r,) = c.feed(YUWELL[4:])
    assert r.spo2 == 95


def test_encode_round_trip() -> None:
    src = Reading(t=0, spo2=93, pulse=77, pi=0.456, pleth=(5.0, 95.0))
    out = FS20FCodec(strict=True).feed(FS20FCodec().encode(src))
    assert [r.pleth for r in out[:2]] == [(5.0,), (95.0,)]
    assert (out[2].spo2, out[2].pulse, out[2].pi) == (93, 77, 0.456)
