"""Wellue FS20F / Yuwell-type "FE" protocol (service FFE0, notify FFE4).

Two frames: fast `FE 08 56 pleth status bar counter chk` (pleth 0–100) and slow
`FE 0A 55 00 PR SpO2 PI_hi PI_lo counter chk` (PI in thousandths of a percent). The checksum
(sum of the earlier bytes, mod 256) matches one published sample but not another, so by
default a mismatch is counted (`stats.extra["checksum_mismatch"]`) rather than dropped;
`strict=True` drops such frames. Either way values are range-checked, and PR 255 / SpO2 127
mean finger out.
"""

from __future__ import annotations

from drivers.protocols._blecodec import vitals_reading, wave_reading
from drivers.protocols._framing import BAD, NEED_MORE, NOT_FRAME, FrameScanner
from drivers.reading import Reading, Status

SERVICE = "0000ffe0-0000-1000-8000-00805f9b34fb"
NOTIFY = "0000ffe4-0000-1000-8000-00805f9b34fb"

PR_INVALID = 255
SPO2_INVALID = 127
FAST_RATE = 50.0  # [U] nominal rate of fast frames, for time stamps of a capture
_KINDS = {(0x08, 0x56), (0x0A, 0x55)}


def checksum(data: bytes | bytearray) -> int:
    return sum(data) & 0xFF


class FS20FCodec(FrameScanner):
    notify_chars = (NOTIFY,)
    sync = 0xFE

    def __init__(self, strict: bool = False) -> None:
        super().__init__()
        self.strict = strict

    def _frame_at(self, buf: bytearray, i: int, n: int, out: list[Reading]) -> int:
        if i + 3 > n:
            return NEED_MORE
        length, kind = buf[i + 1], buf[i + 2]
        if (length, kind) not in _KINDS:
            return NOT_FRAME
        if i + length > n:
            return NEED_MORE
        fr = buf[i:i + length]
        if (sum(fr) - fr[-1]) & 0xFF != fr[-1]:  # checksum() of the bytes before the last
            if self.strict:
                return BAD
            self.stats.extra["checksum_mismatch"] = \
                self.stats.extra.get("checksum_mismatch", 0) + 1
        if kind == 0x56:
            pleth, bar = fr[3], fr[5]
            if pleth > 100 or bar > 16:
                return BAD
            out.append(wave_reading(self._time.step(1 / FAST_RATE), [float(pleth)], FAST_RATE,
                                    False))
            return length
        if fr[3] != 0:
            return BAD
        pr, spo2, pi_raw = fr[4], fr[5], (fr[6] << 8) | fr[7]
        if (spo2 > 100 and spo2 != SPO2_INVALID) or (pr > 250 and pr != PR_INVALID):
            return BAD
        status = Status.NONE
        if pr == PR_INVALID or spo2 == SPO2_INVALID:
            status |= Status.FINGER_OUT
        out.append(vitals_reading(self._time.step(0.0), spo2, pr, pi_raw / 1000, status))
        return length

    # -- encode (virtual peripheral) ------------------------------------------------------
    @staticmethod
    def encode_fast(pleth: float, counter: int = 0, bar: int = 5) -> bytes:
        body = bytes([0xFE, 0x08, 0x56, max(0, min(100, round(pleth))), 0, bar & 0x0F,
                      counter & 0xFF])
        return body + bytes([checksum(body)])

    @staticmethod
    def encode_slow(reading: Reading, counter: int = 0) -> bytes:
        if reading.status & (Status.FINGER_OUT | Status.SENSOR_FAULT) \
                or reading.spo2 is None or reading.pulse is None:
            pr, spo2, pi = PR_INVALID, SPO2_INVALID, 0
        else:
            pr = max(1, min(250, round(reading.pulse)))
            spo2 = max(1, min(100, round(reading.spo2)))
            pi = 0 if reading.pi is None else max(0, min(0xFFFF, round(reading.pi * 1000)))
        body = bytes([0xFE, 0x0A, 0x55, 0, pr, spo2]) + pi.to_bytes(2, "big") \
            + bytes([counter & 0xFF])
        return body + bytes([checksum(body)])

    def encode(self, reading: Reading) -> bytes:
        out = b"".join(self.encode_fast(s, k) for k, s in enumerate(reading.pleth))
        if not reading.wave_only:
            out += self.encode_slow(reading)
        return out


PROTOCOLS = {"fs20f": FS20FCodec}
