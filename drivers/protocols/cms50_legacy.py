"""Contec "Communication protocol V5.0A": the old 5-byte live stream of CMS50 units before V7.0.

Bit 7 is set only in the first byte of each 5-byte packet, which is how a frame is found and how
the stream resynchronises after garbage (PROTOCOLS.md §4.2). Bit 7 of the pulse rate travels in
byte 3 bit 6. Sentinels (PR 0xFF, SpO2 0x7F) and the probe-error bit become "no reading".
"""

from __future__ import annotations

from typing import Any

from drivers.protocols._contec import (
    PLETH_FINGER_OUT,
    LiveFields,
    fields_reading,
    inner_start,
    live_frame_fields,
    unscale_pleth,
)
from drivers.protocols._framing import BufferedCodec
from drivers.reading import Reading, Status

NAME = "cms50-legacy"
NOMINAL_RATE = 60.0
#: Field units talk 19200 8O1 (the document says 4800; PROTOCOLS.md §4.2).
BAUDRATE = 19200
FRAME = 5


Fields = LiveFields
_MISS: Any = object()
_MEMO_MAX = 8192


def frame_fields(f: bytes | bytearray) -> Fields | None:
    """5 wire bytes → the Reading's fields after `t`, or None when a range check fails."""
    b1, b2, b3, b4, b5 = f[0], f[1], f[2], f[3], f[4]
    if (b1 & 0x0F) > 8:
        return None
    status = Status.NONE
    if b3 & 0x10:
        status |= Status.FINGER_OUT
    if b3 & 0x20 or b1 & 0x10:
        status |= Status.SEARCHING
    if b1 & 0x40:
        status |= Status.BEAT
    return live_frame_fields(b5, ((b3 & 0x40) << 1) | b4, None, b2, NOMINAL_RATE, status)


def decode_frame(f: bytes | bytearray, t: float) -> tuple[Reading | None, bool]:
    """5 wire bytes → (Reading, ok); ok False when a range check fails."""
    return fields_reading(frame_fields(f), t)


class CMS50LegacyCodec(BufferedCodec):
    name = NAME
    nominal_rate = NOMINAL_RATE

    def __init__(self) -> None:
        super().__init__()
        self.frames = 0
        self._memo: dict[bytes, Fields | None] = {}

    def feed(self, data: bytes | bytearray, char: str | None = None,
             t: float | None = None) -> list[Reading]:
        """Bytes as they arrive; `char` and `t` are not used (one stream, timed at the
        nominal rate)."""
        buf = self._buf
        buf += data
        out: list[Reading] = []
        n = len(buf)
        i = 0
        skipped = 0
        stats = self.stats
        memo = self._memo
        frames = self.frames
        while i < n:
            if buf[i] & 0x80 and i + FRAME <= n:  # fast path: a frame seen before
                f = memo.get(bytes(buf[i:i + FRAME]), _MISS)
                if f is not _MISS:
                    i += FRAME
                    if f is None:
                        stats.frames_bad += 1
                    else:
                        out.append(Reading(frames / NOMINAL_RATE, *f))
                        frames += 1
                    continue
            if not buf[i] & 0x80:
                skipped += 1
                i += 1
                continue
            end = i + FRAME
            j = inner_start(buf, i, end, n, True)
            if j:  # another sync byte inside: a broken frame
                stats.frames_bad += 1
                skipped += j - i
                i = j
                continue
            if end > n:
                break
            wire = bytes(buf[i:end])
            i = end
            f = memo.get(wire, _MISS)
            if f is _MISS:
                f = frame_fields(wire)
                if len(memo) >= _MEMO_MAX:
                    memo.clear()
                memo[wire] = f
            if f is None:
                stats.frames_bad += 1
                continue
            out.append(Reading(frames / NOMINAL_RATE, *f))
            frames += 1
        if i:
            del buf[:i]
        stats.bytes_skipped += skipped
        stats.frames_good += frames - self.frames
        self.frames = frames
        return out

    @staticmethod
    def encode(r: Reading, pleth: float | None = None, signal: int = 4) -> bytes:
        st = r.status
        finger_out = bool(st & Status.FINGER_OUT)
        b1 = 0x80 | max(0, min(8, signal))
        if st & Status.BEAT:
            b1 |= 0x40
        if pleth is None:
            pleth = r.pleth[-1] if r.pleth else None
        b2 = PLETH_FINGER_OUT if (finger_out or pleth is None) else unscale_pleth(pleth)
        pr = 0xFF if (finger_out or r.pulse is None) else max(1, min(254, round(r.pulse)))
        sp = 0x7F if (finger_out or r.spo2 is None) else max(1, min(100, round(r.spo2)))
        b3 = ((pr & 0x80) >> 1)
        if finger_out:
            b3 |= 0x10
        if st & Status.SEARCHING:
            b3 |= 0x20
        return bytes([b1, b2 & 0x7F, b3, pr & 0x7F, sp & 0x7F])


PROTOCOLS = {NAME: CMS50LegacyCodec}
