"""Jumper / "My Oximeter" codec: `81 PR SpO2 PI` frames, markers and resynchronisation."""

from __future__ import annotations

from drivers.protocols.jumper import JumperCodec
from drivers.reading import Reading, Status


def test_parameter_frame() -> None:
    c = JumperCodec()
    (r,) = c.feed(bytes([0x81, 72, 97, 35]))
    assert (r.spo2, r.pulse, r.pi) == (97, 72, None) and r.valid
    assert c.last_pi_raw == 35  # unit unknown: kept raw, never shown as perfusion


def test_markers_are_finger_out() -> None:
    for frame in (bytes([0x81, 255, 97, 0]), bytes([0x81, 72, 127, 0]),
                  bytes([0x81, 255, 127, 0])):
        (r,) = JumperCodec().feed(frame)
        assert r.spo2 is None and r.pulse is None and r.status & Status.FINGER_OUT


def test_idle_bytes_wave_frames_and_implausible_frames_skipped() -> None:
    c = JumperCodec()
    out = c.feed(b"\x2d\x2d\x2d" + bytes([0x80, 0x10, 0x20]) + bytes([0x81, 72, 120, 0])
                 + bytes([0x81, 70, 96, 5]))
    assert [(r.pulse, r.spo2) for r in out] == [(70, 96)]
    assert c.stats.frames_bad == 1


def test_split_frame_and_round_trip() -> None:
    c = JumperCodec()
    frame = JumperCodec.encode(Reading(t=0, spo2=90, pulse=110, pi=1.2))
    assert c.feed(frame[:2]) == []
    (r,) = c.feed(frame[2:])
    assert (r.spo2, r.pulse) == (90, 110)
    (r,) = JumperCodec().feed(JumperCodec.encode(Reading(t=0, status=Status.FINGER_OUT)))
    assert r.status & Status.FINGER_OUT
