"""Contec V7.0 codec against the real CMS50E capture and the frames quoted in PROTOCOLS.md."""

from __future__ import annotations

from pathlib import Path

import pytest

from drivers.protocols import codec_for
from drivers.protocols._contec import v7_pack, v7_unpack
from drivers.protocols.cms50_v7 import (
    KEEP_ALIVE,
    START_LIVE,
    CMS50V7Codec,
    CommandDecoder,
    Packet,
    command,
    decode_storage,
)
from drivers.reading import Reading, Status


def h(s: str) -> bytes:
    return bytes.fromhex(s.replace(" ", ""))


@pytest.fixture()
def capture(vectors: Path) -> bytes:
    return bytes.fromhex((vectors / "cms50e-v7-live.hex").read_text())


def test_capture_decodes_to_documented_results(capture: bytes) -> None:
    codec = codec_for("cms50-v7")
    rs = codec.feed(capture)
    assert len(rs) == 102
    assert codec.pending == h("01 E0 84 AC")
    assert (codec.stats.frames_good, codec.stats.frames_bad, codec.stats.bytes_skipped) == (
        102, 0, 0)
    assert {(r.spo2, r.pulse, r.pi) for r in rs} == {(99.0, 60.0, None)}
    assert not any(r.status & (Status.FINGER_OUT | Status.SEARCHING) for r in rs)
    assert [i for i, r in enumerate(rs) if r.status & Status.BEAT] == [34, 35, 94, 95]
    raw = [round(r.pleth[0] * 127 / 100) for r in rs]
    assert raw[:10] == [19, 19, 18, 18, 18, 17, 17, 16, 16, 16]
    assert (min(raw), max(raw)) == (8, 77)
    assert raw[34] == 68
    assert all(r.pleth_rate == 60.0 and r.valid for r in rs)
    assert rs[1].t - rs[0].t == pytest.approx(1 / 60)


def test_truncated_tail_completes_with_the_next_bytes(capture: bytes) -> None:
    codec = CMS50V7Codec()
    assert len(codec.feed(capture)) == 102
    (r,) = codec.feed(h("95 BC E3 FF FF"))
    assert r.pulse == 60.0 and r.spo2 == 99.0
    assert codec.stats.frames_bad == 0


def test_pulse_rate_above_127_uses_the_high_byte() -> None:
    (r,) = CMS50V7Codec().feed(h("01 E8 85 C0 96 82 DF FF FF"))
    assert r.pulse == 130.0  # a mask-only parser would say 2
    assert r.spo2 == 95.0
    assert r.pi is None
    assert r.pleth == (round(64 * 100 / 127, 3),)


def test_cms50dplus_trace_frames() -> None:
    frames = ("01 E0 85 B3 96 C1 E1 FF FF", "01 E0 85 B0 96 C1 E1 FF FF",
              "01 E0 85 AE 95 C1 E1 FF FF", "01 E0 85 AC 95 C1 E1 FF FF",
              "01 E0 85 AB 95 C1 E1 FF FF", "01 E0 85 AA 95 C1 E1 FF FF",
              "01 E0 85 AA 95 C1 E1 FF FF")
    codec = CMS50V7Codec()
    # replies interleaved as in the trace; they are framed and kept, not turned into readings
    data = h("0C 80 06 80 80 87 11 80 81 81 80 80 80 80 80 0E 80 81") + b"".join(
        h(f) for f in frames)
    rs = codec.feed(data)
    assert [round(r.pleth[0] * 127 / 100) for r in rs] == [51, 48, 46, 44, 43, 42, 42]
    assert {(r.pulse, r.spo2, r.pi) for r in rs} == {(65.0, 97.0, None)}
    assert [p.type for p in codec.packets] == [0x0C, 0x06, 0x11, 0x0E]
    assert codec.packets[1].data == b"\x00\x07"
    assert codec.packets[3].data == b"\x01"  # PI not supported


def test_oscar_reply_packages() -> None:
    codec = CMS50V7Codec()
    codec.feed(h("07 80 80 80 94 8E 88 92" "12 80 80 80 82 A6 92 80" "08 80 80 80 A4 81 80 80"
                 "0A 80 80 81" "05 80 80 F5 F3 E5 F2 80 80" "10 80 81"))
    date, time, length, segs, user, users = codec.packets
    assert tuple(date.data) == (0, 0, 20, 14, 8, 18)
    assert tuple(time.data[2:5]) == (2, 38, 18)
    assert int.from_bytes(length.data[2:6], "little") == 292
    assert tuple(segs.data) == (0, 1)
    assert user.data[1:5] == b"user"
    assert users.data == b"\x01"


def test_spec_data_length_example() -> None:
    (pkt,) = [p for p in _packets(h("08 80 80 80 8F D0 81 80"))]
    assert int.from_bytes(pkt.data[2:6], "little") == 86031
    assert v7_pack(0x08, [0, 0, *86031 .to_bytes(4, "little")]) == h("08 80 80 80 8F D0 81 80")


def _packets(data: bytes) -> list[Packet]:
    c = CMS50V7Codec()
    c.feed(data)
    return list(c.packets)


def test_storage_packages() -> None:
    (pi_pkt,) = _packets(h("09 80 E1 C4 CE 82"))
    assert decode_storage(pi_pkt) == [(97.0, 68.0, 5.90)]
    (f_pkt,) = _packets(h("0F 80 DE C2 DE C2 DE C2"))
    assert decode_storage(f_pkt) == [(94.0, 66.0, None)] * 3
    # PR 0xFF (invalid) needs the high byte; SpO2 0x7F invalid
    (bad,) = _packets(v7_pack(0x0F, [0x7F, 0xFF, 95, 200, 0, 0]))
    assert decode_storage(bad) == [(None, None, None), (95.0, 200.0, None), (None, None, None)]


def test_commands_on_the_wire() -> None:
    assert h("7D 81 A1 80 80 80 80 80 80") == START_LIVE
    assert h("7D 81 AF 80 80 80 80 80 80") == KEEP_ALIVE
    assert command(0xA4, 0, 1) == h("7D 81 A4 80 81 80 80 80 80")
    dec = CommandDecoder()
    assert dec.feed(b"\xff\x12" + START_LIVE[:4]) == []
    assert dec.feed(START_LIVE[4:] + KEEP_ALIVE) == [(0xA1, bytes(6)), (0xAF, bytes(6))]
    assert dec.stats.bytes_skipped == 2


def test_finger_out_and_searching_are_no_reading() -> None:
    codec = CMS50V7Codec()
    # probe error: byte 2 bit 7 (via hb bit 0), pleth 0x40, PR 0xFF, SpO2 0x7F, PI 0xFFFF
    fo, = codec.feed(h("01 E9 84 C0 90 FF FF FF FF"))
    assert fo.status & Status.FINGER_OUT
    assert (fo.spo2, fo.pulse, fo.pi, fo.pleth) == (None, None, None, ())
    assert not fo.valid
    # searching: byte 3 bit 7 (hb bit 1) with invalid markers (hb bits 3, 5, 6)
    se, = codec.feed(h("01 EA 84 A0 90 FF FF FF FF"))
    assert se.status & Status.SEARCHING and se.spo2 is None and se.pulse is None
    # sentinel SpO2 without any flag still becomes None + a flag
    sn, = codec.feed(v7_pack(1, [4, 30, 0x12, 80, 0x7F, 0xFF, 0xFF]))
    assert sn.spo2 is None and sn.pulse == 80.0 and sn.status & Status.SEARCHING


def test_out_of_range_frame_is_counted_not_reported() -> None:
    codec = CMS50V7Codec()
    assert codec.feed(v7_pack(1, [4, 30, 0x12, 80, 101, 0xFF, 0xFF])) == []
    assert codec.stats.frames_bad == 1 and codec.stats.frames_good == 0


def test_garbage_inside_a_frame_resyncs_on_the_next_type_byte(capture: bytes) -> None:
    codec = CMS50V7Codec()
    frames = capture[:9 * 5]
    broken = frames[:13] + b"\x33" + frames[13:]  # a stray 7-bit byte inside frame 1
    rs = codec.feed(broken)
    assert len(rs) == 4  # frame 1 lost, the rest decoded
    assert codec.stats.frames_bad >= 1


def test_encode_matches_the_capture_layout() -> None:
    r = Reading(t=0, spo2=99, pulse=60, pi=None, pleth=(round(19 * 100 / 127, 3),))
    assert CMS50V7Codec.encode(r) == h("01 E0 84 93 92 BC E3 FF FF")[:4] + \
        CMS50V7Codec.encode(r)[4:]
    real = v7_unpack(CMS50V7Codec.encode(r))
    assert real[5:7] == bytes([60, 99])
    assert CMS50V7Codec.encode(Reading(t=0, spo2=95, pulse=130, pleth=(round(6400 / 127, 3),)))\
        [:2] == h("01 E8")
