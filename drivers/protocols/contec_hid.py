"""Contec "0xEB" protocol: newer CMS50E units on USB HID (28E9:028A), also the CMS50D-BT on BLE.

Every device message starts with a byte that has bit 7 set (0xEB live data, 0xF0–0xFF replies),
carries 7-bit bytes after it and ends with a checksum = sum of the earlier bytes & 0x7F
(PROTOCOLS.md §4.5). The checksum and the bit-7 rule are what resynchronise the stream after
garbage. Live data comes as ~59 amplitude messages (pleth) and ~1 measurement message (SpO2, PR,
PI) a second, so amplitude messages become wave-only Readings and measurements vitals Readings.
"""

from __future__ import annotations

from typing import Any

from drivers.protocols._contec import (
    PLETH_FINGER_OUT,
    eb_checksum,
    eb_message,
    fields_reading,
    inner_start,
    pulse_value,
    scale_pleth,
    spo2_value,
    unscale_pleth,
)
from drivers.protocols._framing import BufferedCodec
from drivers.reading import Reading, Status

NAME = "contec-hid"
#: Amplitude messages per second; `t` advances by one sample per amplitude message.
NOMINAL_RATE = 60.0
USB_VID = 0x28E9
USB_PID = 0x028A
REPORT_SIZE = 64
BAR_FINGER_OUT = 0x60

#: Live message (0xEB, type) → length including the checksum.
LIVE_LENGTHS = {0x00: 6, 0x01: 8, 0x7F: 3}
#: Replies with a documented length; others are found by their checksum.
REPLY_LENGTHS = {0xF0: 2, 0xF1: 10, 0xF3: 3}
MAX_REPLY = REPORT_SIZE

KEEP_ALIVE = eb_message(0x9A)  # 9A 1A, every 5 s while streaming
START_WAVE = eb_message(0x9B, 0x00)  # 9B 00 1B
START_MEASUREMENTS = eb_message(0x9B, 0x01)  # 9B 01 1C
STOP_LIVE = eb_message(0x9B, 0x7F)  # 9B 7F 1A → EB 7F 6A
MODEL_NAME = eb_message(0x81)  # 81 01 → F1 + 8 chars + checksum


Fields = tuple[float | None, float | None, float | None, tuple[float, ...], float | None,
               Status, bool]
_MISS: Any = object()
_MEMO_MAX = 8192
_FINGER_OUT_WAVE: Fields = (None, None, None, (), None, Status.FINGER_OUT, True)


def measurement_fields(m: bytes | bytearray) -> Fields | None:
    """`EB 01 F PR SPO2 PIL PIH chk` → the Reading's fields after `t`, or None when the SpO2
    is out of range (a bad frame)."""
    flags, pr7, sp, pil, pih = m[2], m[3], m[4], m[5], m[6]
    status = Status.NONE
    if sp == 0x7F:
        status |= Status.FINGER_OUT
    spo2, status, bad = spo2_value(sp, status)
    if bad:
        return None
    pulse, status = pulse_value(pr7 | (0x80 if flags & 0x02 else 0), status)
    pi = None
    if not (pil == 0x7F and pih == 0):
        raw = pil | (pih << 7)
        pi = raw / 100.0 if 0 < raw <= 2200 else None
    if status & Status.FINGER_OUT:
        spo2 = pulse = pi = None
    return spo2, pulse, pi, (), None, status, False


def wave_fields(m: bytes | bytearray) -> Fields:
    pleth, bar = m[3], m[4]
    if pleth == PLETH_FINGER_OUT and bar == BAR_FINGER_OUT:
        return _FINGER_OUT_WAVE
    return None, None, None, (scale_pleth(pleth),), NOMINAL_RATE, Status.NONE, True


def decode_measurement(m: bytes | bytearray, t: float) -> tuple[Reading | None, bool]:
    """`EB 01 F PR SPO2 PIL PIH chk` → (Reading, ok)."""
    return fields_reading(measurement_fields(m), t)


class ContecHidCodec(BufferedCodec):
    name = NAME
    nominal_rate = NOMINAL_RATE

    def __init__(self) -> None:
        super().__init__()
        self.stats.extra["padding"] = 0
        self.wave_frames = 0
        self.replies: list[bytes] = []
        self._memo: dict[bytes, Fields | None] = {}

    def feed(self, data: bytes | bytearray, char: str | None = None,
             t: float | None = None) -> list[Reading]:
        """Bytes as they arrive; `char` and `t` are not used (one stream, timed at the
        nominal rate)."""
        buf = self._buf
        buf += data
        out: list[Reading] = []
        stats = self.stats
        n = len(buf)
        i = 0
        skipped = 0
        padding = 0
        memo = self._memo
        while i < n:
            b = buf[i]
            if b < 0x80:
                if b == 0:
                    padding += 1  # HID reports are zero-padded after the last message
                else:
                    skipped += 1
                i += 1
                continue
            f = _MISS
            if b == 0xEB:
                if i + 1 >= n:
                    break
                length = LIVE_LENGTHS.get(buf[i + 1])
                if length is not None and i + length <= n:  # fast path: seen before
                    f = memo.get(bytes(buf[i:i + length]), _MISS)
                    if f is not _MISS:
                        i += length
            elif b >= 0xF0:
                length = REPLY_LENGTHS.get(b)
                if length is None:
                    length = self._reply_length(buf, i, n)
                    if length == 0:
                        break  # not complete yet
            else:
                skipped += 1
                i += 1
                continue
            if f is _MISS:
                if length is None:  # 0xEB with an unknown type
                    stats.frames_bad += 1
                    skipped += 1
                    i += 1
                    continue
                end = i + length
                j = inner_start(buf, i, end, n, True)
                if j:
                    stats.frames_bad += 1
                    skipped += j - i
                    i = j
                    continue
                if end > n:
                    break
                msg = buf[i:end]
                if eb_checksum(msg[:-1]) != msg[-1]:
                    stats.frames_bad += 1
                    skipped += 1
                    i += 1
                    continue
                i = end
                kind = msg[1]
                if b != 0xEB or kind == 0x7F:  # a reply, or the stop acknowledgement
                    stats.frames_good += 1
                    self.replies.append(bytes(msg))
                    continue
                f = wave_fields(msg) if kind == 0x00 else measurement_fields(msg)
                if len(memo) >= _MEMO_MAX:
                    memo.clear()
                memo[bytes(msg)] = f
            if f is None:
                stats.frames_bad += 1
                continue
            stats.frames_good += 1
            out.append(Reading(self.wave_frames / NOMINAL_RATE, *f))
            if f[6]:
                self.wave_frames += 1
        if i:
            del buf[:i]
        stats.bytes_skipped += skipped
        stats.extra["padding"] += padding
        return out

    @staticmethod
    def _reply_length(buf: bytearray, i: int, n: int) -> int | None:
        """Length of a reply without a documented one: the shortest 7-bit run whose last byte
        is the checksum. 0 = wait for more bytes; None = none found (a bad frame)."""
        total = buf[i]
        for k in range(i + 1, min(n, i + MAX_REPLY)):
            c = buf[k]
            if c >= 0x80:
                return None
            if c == total & 0x7F:
                return k - i + 1
            total += c
        return 0 if n < i + MAX_REPLY else None

    # --- encode side (simulators) ---------------------------------------------------------

    @staticmethod
    def encode_wave(pleth: float | None, finger_out: bool = False) -> bytes:
        if finger_out or pleth is None:
            return eb_message(0xEB, 0x00, 0x00, PLETH_FINGER_OUT, BAR_FINGER_OUT)
        p = unscale_pleth(pleth)
        return eb_message(0xEB, 0x00, 0x00, p, p * 15 // 127)

    @staticmethod
    def encode_measurement(r: Reading) -> bytes:
        finger_out = bool(r.status & Status.FINGER_OUT)
        if finger_out or r.spo2 is None:
            sp = 0x7F if finger_out else 0
        else:
            sp = max(1, min(100, round(r.spo2)))
        pr = 0 if (finger_out or r.pulse is None) else max(1, min(254, round(r.pulse)))
        flags = 0x04 | (0x02 if pr & 0x80 else 0)
        if finger_out or r.pi is None:
            pil, pih = 0x7F, 0x00
        else:
            raw = max(1, min(2200, round(r.pi * 100)))
            pil, pih = raw & 0x7F, raw >> 7
            if (pil, pih) == (0x7F, 0):
                pil = 0x7E  # 1.27 % would read as "no PI"; 1.26 % is the nearest
        return eb_message(0xEB, 0x01, flags, pr & 0x7F, sp, pil, pih)

    @classmethod
    def encode(cls, r: Reading, pleth: float | None = None, vitals: bool = True) -> bytes:
        """An amplitude message for the Reading's waveform, then (if `vitals`) a measurement."""
        if pleth is None:
            pleth = r.pleth[-1] if r.pleth else None
        out = cls.encode_wave(pleth, bool(r.status & Status.FINGER_OUT))
        if vitals and not r.wave_only:
            out += cls.encode_measurement(r)
        return out


def pack_reports(messages: list[bytes]) -> list[bytes]:
    """Messages → 64-byte zero-padded HID reports; a message never crosses a report boundary."""
    reports: list[bytes] = []
    cur = bytearray()
    for m in messages:
        if len(cur) + len(m) > REPORT_SIZE:
            reports.append(bytes(cur.ljust(REPORT_SIZE, b"\x00")))
            cur = bytearray()
        cur += m
    if cur:
        reports.append(bytes(cur.ljust(REPORT_SIZE, b"\x00")))
    return reports


PROTOCOLS = {NAME: ContecHidCodec}
