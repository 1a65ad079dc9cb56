"""PC-60F family codec on the captured PC-60FW notifications (vectors/README.md §2) and on the
frames quoted in PROTOCOLS.md §6."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from drivers.protocols.pc60f import (
    ASK_INFO,
    ENABLE_PARAMS,
    ENABLE_WAVE,
    PC60FCodec,
    crc,
    frame,
)
from drivers.reading import Reading, Status


def notifications(vectors: Path) -> list[bytes]:
    text = (vectors / "pc60fw-notifications.txt").read_text()
    return [bytes.fromhex(line) for line in text.split()]


def test_vector_file_decodes_as_documented(vectors: Path) -> None:
    lines = notifications(vectors)
    assert len(lines) == 105
    c = PC60FCodec()
    out: list[Reading] = []
    for n in lines:
        out += c.feed(n)
    assert c.stats.frames_good == 139
    assert c.stats.frames_bad == 0 and c.stats.bytes_skipped == 0
    assert c.pending == bytes.fromhex("aa 55 0f 07 02 32 32 32 32")
    assert c.frame_counts == {(0x0F, 0x02): 106, (0x0F, 0x01): 11, (0x0F, 0x21): 11,
                              (0xF0, 0x03): 11}
    assert c.mode == 2 and c.battery_level == 3
    vitals = [r for r in out if not r.wave_only]
    waves = [r for r in out if r.wave_only]
    assert [(r.spo2, r.pulse) for r in vitals] == [
        (97, 68), (98, 68), (98, 68), (98, 68), (99, 67), (98, 65), (98, 62), (98, 59),
        (98, 57), (98, 57), (98, 57)]
    # PI 0.0 in the first two frames is "not computed yet": no number, not a perfusion of 0
    assert [r.pi for r in vitals] == [None, None, 7.5, 7.5, 7.5, 7.2, 7.2, 6.8, 6.8, 6.8, 6.7]
    assert all(r.valid and r.status == Status.NONE for r in vitals)
    assert len(waves) == 106
    samples = [round(p * 127 / 100) for r in waves for p in r.pleth]
    assert len(samples) == 530
    assert min(samples) >= 0 and max(samples) == 119
    assert samples[:5] == [49, 48, 46, 45, 44]
    beats = [i for i, r in enumerate(waves) if r.status & Status.BEAT]
    assert len(beats) == 9
    assert all(9 <= b - a <= 11 for a, b in itertools.pairwise(beats))


def test_raw_parameter_values_match_the_readme(vectors: Path) -> None:
    c = PC60FCodec()
    raw = []
    for n in notifications(vectors):
        for r in c.feed(n):
            if not r.wave_only:
                raw.append(c.last_params[:3])
    assert raw == [(97, 68, 0.0), (98, 68, 0.0), (98, 68, 7.5), (98, 68, 7.5), (99, 67, 7.5),
                   (98, 65, 7.2), (98, 62, 7.2), (98, 59, 6.8), (98, 57, 6.8), (98, 57, 6.8),
                   (98, 57, 6.7)]


def test_whole_stream_at_once_and_byte_by_byte_agree(vectors: Path) -> None:
    stream = b"".join(notifications(vectors))
    a = PC60FCodec().feed(stream)
    c = PC60FCodec()
    b = [r for i in range(len(stream)) for r in c.feed(stream[i:i + 1])]
    key = [(r.spo2, r.pulse, r.pi, r.pleth, r.status) for r in a]
    assert key == [(r.spo2, r.pulse, r.pi, r.pleth, r.status) for r in b]
    assert len(a) == 117


@pytest.mark.parametrize(("hexstr", "expect"), [
    ("AA 55 0F 08 01 62 44 00 4B 00 C0 3D", (98, 68, 7.5)),
    ("AA 55 0F 08 01 61 44 00 00 00 C0 94", (97, 68, None)),
    ("AA 55 0F 08 01 5F 55 00 57 00 C0 DA", (95, 85, 8.7)),
])
def test_documented_parameter_frames(hexstr: str, expect: tuple) -> None:
    (r,) = PC60FCodec().feed(bytes.fromhex(hexstr))
    assert (r.spo2, r.pulse, r.pi) == expect and r.valid


def test_documented_wave_frames() -> None:
    (r,) = PC60FCodec().feed(bytes.fromhex("AA 55 0F 07 02 31 30 2E 2D 2C 81"))
    assert [round(p * 1.27) for p in r.pleth] == [49, 48, 46, 45, 44]
    assert r.wave_only and not r.status & Status.BEAT and r.pleth_rate == 50
    (r,) = PC60FCodec().feed(bytes.fromhex("AA 55 0F 07 02 5A 57 D2 4C 45 A7"))
    assert r.status & Status.BEAT and round(r.pleth[2] * 1.27) == 0x52


def test_finger_out_frame_is_no_reading() -> None:
    (r,) = PC60FCodec().feed(bytes.fromhex("AA 55 0F 08 01 00 00 00 00 00 C0 96"))
    assert r.spo2 is None and r.pulse is None and r.status & Status.FINGER_OUT
    assert not r.valid


def test_status_and_battery_frames() -> None:
    c = PC60FCodec()
    assert c.feed(bytes.fromhex("AA 55 0F 06 21 02 00 00 00 45 AA 55 F0 03 03 03 F6")) == []
    assert c.mode == 2 and c.battery_level == 3
    c.feed(frame(0xF0, 0x03, b"\x00"))
    (r,) = c.feed(bytes.fromhex("AA 55 0F 08 01 62 44 00 4B 00 C0 3D"))
    assert r.status & Status.LOW_BATTERY and r.valid


def test_device_info_and_serial() -> None:
    c = PC60FCodec()
    c.feed(frame(0xF0, 0x01, bytes([1, 2, 3]) + b"PC-60FW\0"))
    c.feed(frame(0xF0, 0x02, b"2104A123"))
    assert c.device_info == {"software": "1.2", "hardware": 3, "name": "PC-60FW",
                             "serial": "2104A123"}


def test_host_commands_match_documented_bytes() -> None:
    assert bytes.fromhex("AA 55 0F 03 84 01 E0") == ENABLE_PARAMS
    assert bytes.fromhex("AA 55 0F 03 85 01 24") == ENABLE_WAVE
    assert bytes.fromhex("AA 55 F0 02 81 19") == ASK_INFO
    for f in (ENABLE_PARAMS, ENABLE_WAVE, ASK_INFO):
        assert crc(f) == 0


def test_bad_crc_is_counted_and_stream_resyncs() -> None:
    good = bytes.fromhex("AA 55 0F 08 01 62 44 00 4B 00 C0 3D")
    bad = bytearray(good)
    bad[6] ^= 0x01
    c = PC60FCodec()
    out = c.feed(b"\x00\xAA\x13" + bytes(bad) + good)
    assert len(out) == 1 and out[0].spo2 == 98
    assert c.stats.frames_bad >= 1 and c.stats.bytes_skipped >= 3


def test_encode_round_trip() -> None:
    src = Reading(t=0, spo2=94, pulse=130, pi=3.1, pleth=(10.0, 50.0, 100.0, 0.0, 20.0, 40.0),
                  status=Status.BEAT)
    out = PC60FCodec().feed(PC60FCodec().encode(src))
    assert [r.wave_only for r in out] == [True, True, False]
    assert (out[2].spo2, out[2].pulse, out[2].pi) == (94, 130, 3.1)
    assert out[0].status & Status.BEAT
    assert [round(p) for r in out[:2] for p in r.pleth] == [10, 50, 100, 0, 20, 40]
    (fo,) = PC60FCodec().feed(PC60FCodec.encode_params(Reading(t=0, status=Status.FINGER_OUT)))
    assert fo.status & Status.FINGER_OUT and fo.spo2 is None
