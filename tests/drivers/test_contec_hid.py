"""Contec 0xEB (USB-HID CMS50E) codec against the constructed frames in PROTOCOLS.md §4.5."""

from __future__ import annotations

from drivers.protocols import codec_for
from drivers.protocols._contec import eb_message
from drivers.protocols.contec_hid import (
    KEEP_ALIVE,
    START_MEASUREMENTS,
    START_WAVE,
    STOP_LIVE,
    ContecHidCodec,
    pack_reports,
)
from drivers.reading import Reading, Status


def h(s: str) -> bytes:
    return bytes.fromhex(s.replace(" ", ""))


def test_constructed_vectors() -> None:
    c = codec_for("contec-hid")
    a, b, fo, w = c.feed(h("EB 01 04 51 5F 7F 00 1F" "EB 01 06 02 5F 7F 00 52"
                           "EB 01 04 51 7F 7F 00 3F" "EB 00 00 33 06 24"))
    assert (a.pulse, a.spo2, a.pi) == (81.0, 95.0, None)
    assert (b.pulse, b.spo2) == (130.0, 95.0)
    assert fo.status & Status.FINGER_OUT and fo.spo2 is None and fo.pulse is None
    assert w.wave_only and w.pleth == (round(51 * 100 / 127, 3),)
    assert c.stats.frames_good == 4 and c.stats.frames_bad == 0


def test_host_commands_checksums() -> None:
    assert h("9A 1A") == KEEP_ALIVE
    assert h("9B 00 1B") == START_WAVE
    assert h("9B 01 1C") == START_MEASUREMENTS
    assert h("9B 7F 1A") == STOP_LIVE
    assert eb_message(0x81) == h("81 01")


def test_pi_and_replies() -> None:
    c = ContecHidCodec()
    (r,) = c.feed(eb_message(0xEB, 0x01, 0x04, 70, 97, 590 & 0x7F, 590 >> 7) + h("EB 7F 6A")
                  + h("F0 70"))
    assert r.pi == 5.90
    assert c.replies == [h("EB 7F 6A"), h("F0 70")]


def test_finger_out_amplitude() -> None:
    (w,) = ContecHidCodec().feed(ContecHidCodec.encode_wave(None, finger_out=True))
    assert w.status & Status.FINGER_OUT and w.pleth == () and w.wave_only


def test_bad_checksum_is_counted_and_skipped() -> None:
    c = ContecHidCodec()
    good = h("EB 01 04 51 5F 7F 00 1F")
    rs = c.feed(good[:-1] + b"\x20" + good)
    assert len(rs) == 1
    assert c.stats.frames_bad == 1


def test_reports_padding_is_not_garbage() -> None:
    msgs = [ContecHidCodec.encode(Reading(t=0, spo2=96, pulse=70, pleth=(40.0,)))
            for _ in range(5)]
    reports = pack_reports(msgs)
    assert all(len(r) == 64 for r in reports)
    c = ContecHidCodec()
    rs = [r for rep in reports for r in c.feed(rep)]
    assert len(rs) == 10
    assert c.stats.bytes_skipped == 0 and c.stats.frames_bad == 0
    assert c.stats.extra["padding"] > 0
