"""Viatom / Lepu PC-60F family (PC-60FW, PC-60NW, POD-1W, OxySmart, KS-60FW...): `AA 55` frames
with CRC-8/MAXIM over the Nordic UART service.

Frames straddle notifications, so bytes are buffered and framed by `AA 55 | token | len`; a
frame is accepted only when the CRC residue over all its bytes is 0. On these units finger-out
is SpO2 0 / PR 0 in an otherwise normal parameter frame (the status byte stays 0), so zeros are
read as "no finger", never as a value.
"""

from __future__ import annotations

from drivers.protocols._blecodec import (
    crc8,
    crc8_table_lsb,
    vitals_reading,
    wave_reading,
)
from drivers.protocols._framing import BAD, NEED_MORE, NOT_FRAME, FrameScanner
from drivers.reading import Reading, Status

SERVICE = "6e400001-b5a3-f393-e0a9-e50e24dcca9e"
WRITE = "6e400002-b5a3-f393-e0a9-e50e24dcca9e"
NOTIFY = "6e400003-b5a3-f393-e0a9-e50e24dcca9e"
ALT_SERVICE = "0000fff0-0000-1000-8000-00805f9b34fb"
ALT_NOTIFY = "0000fff1-0000-1000-8000-00805f9b34fb"
ALT_WRITE = "0000fff2-0000-1000-8000-00805f9b34fb"

TOKEN_OXI = 0x0F
TOKEN_INFO = 0xF0
WAVE_RATE = 50.0
MAX_LEN = 64  # longest len byte accepted (device info with a name is the longest frame seen)

_TABLE = crc8_table_lsb(0x8C)


def crc(data: bytes | bytearray) -> int:
    """CRC-8/MAXIM (Dallas): reflected poly 0x31, init 0."""
    return crc8(data, _TABLE)


def frame(token: int, ftype: int, payload: bytes = b"") -> bytes:
    body = bytes([0xAA, 0x55, token, len(payload) + 2, ftype]) + payload
    return body + bytes([crc(body)])


# Host commands (none is needed for live data: it flows once notifications are on).
ENABLE_PARAMS = frame(TOKEN_OXI, 0x84, b"\x01")
ENABLE_WAVE = frame(TOKEN_OXI, 0x85, b"\x01")
ASK_INFO = frame(TOKEN_INFO, 0x81)
ASK_SERIAL = frame(TOKEN_INFO, 0x82)
ASK_MAC = frame(TOKEN_INFO, 0xA1)


class PC60FCodec(FrameScanner):
    notify_chars = (NOTIFY, ALT_NOTIFY)
    sync = 0xAA

    def __init__(self) -> None:
        super().__init__()
        self.battery_level: int | None = None
        self.mode: int | None = None
        self.device_info: dict[str, object] = {}
        #: raw values of the last parameter frame (SpO2, PR, PI %, status byte), for tools
        self.last_params: tuple[int, int, float, int] | None = None
        self.frame_counts: dict[tuple[int, int], int] = {}

    def _frame_at(self, buf: bytearray, i: int, n: int, out: list[Reading]) -> int:
        if i + 1 < n and buf[i + 1] != 0x55:
            return NOT_FRAME
        if i + 4 > n:
            return NEED_MORE
        length = buf[i + 3]
        if length < 2 or length > MAX_LEN:
            return BAD
        end = i + 4 + length
        if end > n:
            return NEED_MORE
        fr = buf[i:end]
        if crc8(fr, _TABLE) != 0:  # the CRC residue over a frame and its CRC byte
            return BAD
        r = self._decode(fr)
        if r is not None:
            out.append(r)
        return 4 + length

    def _decode(self, fr: bytes | bytearray) -> Reading | None:
        token, ftype, payload = fr[2], fr[4], fr[5:-1]
        key = (token, ftype)
        self.frame_counts[key] = self.frame_counts.get(key, 0) + 1
        if token == TOKEN_OXI and ftype == 0x01 and len(payload) >= 5:
            return self._params(payload)
        if token == TOKEN_OXI and ftype == 0x02 and payload:
            samples = [(b & 0x7F) * 100 / 127 for b in payload]
            beat = any(b & 0x80 for b in payload)
            t = self._time.step(len(payload) / WAVE_RATE)
            return wave_reading(t, samples, WAVE_RATE, beat)
        if token == TOKEN_OXI and ftype == 0x21 and payload:
            self.mode = payload[0]
        elif token == TOKEN_INFO and ftype == 0x03 and payload:
            self.battery_level = payload[0]
        elif token == TOKEN_INFO and ftype == 0x01 and len(payload) >= 3:
            self.device_info = {
                "software": f"{payload[0]}.{payload[1]}", "hardware": payload[2],
                "name": payload[3:].split(b"\0")[0].decode("ascii", "replace")}
        elif token == TOKEN_INFO and ftype == 0x02:
            self.device_info["serial"] = payload.split(b"\0")[0].decode("ascii", "replace")
        else:
            self.stats.extra["other_frames"] = self.stats.extra.get("other_frames", 0) + 1
        return None

    def _params(self, p: bytes | bytearray) -> Reading:
        spo2, pr, pi_raw, st = p[0], p[1] | (p[2] << 8), p[3], p[4]
        self.last_params = (spo2, pr, pi_raw / 10, st)
        status = Status.NONE
        if st & 0x02 or (spo2 == 0 and pr == 0):
            status |= Status.FINGER_OUT
        if st & 0x04:
            status |= Status.SEARCHING
        if self.battery_level == 0:
            status |= Status.LOW_BATTERY  # our reading of level 0 of 0–3
        # PI 0 with a pulse is "not computed yet", not a perfusion of zero
        pi = pi_raw / 10 if pi_raw else None
        return vitals_reading(self._time.step(0.0), spo2 or None, pr or None, pi, status)

    # -- encode (virtual peripheral) ------------------------------------------------------
    @staticmethod
    def encode_params(reading: Reading) -> bytes:
        if reading.status & (Status.FINGER_OUT | Status.SENSOR_FAULT) \
                or reading.spo2 is None or reading.pulse is None:
            spo2 = pr = pi = 0
        else:
            spo2 = max(1, min(100, round(reading.spo2)))
            pr = max(1, min(300, round(reading.pulse)))
            pi = 0 if reading.pi is None else max(0, min(255, round(reading.pi * 10)))
        st = 0x04 if reading.status & Status.SEARCHING else 0
        return frame(TOKEN_OXI, 0x01, bytes([spo2, pr & 0xFF, pr >> 8, pi, st, 0xC0]))

    @staticmethod
    def encode_wave(samples: list[float], beat_index: int | None = None) -> bytes:
        out = bytearray()
        for k in range(0, len(samples), 5):
            chunk = samples[k:k + 5]
            raw = bytearray(max(0, min(127, round(s * 127 / 100))) for s in chunk)
            if beat_index is not None and k <= beat_index < k + 5:
                raw[beat_index - k] |= 0x80
            out += frame(TOKEN_OXI, 0x02, bytes(raw))
        return bytes(out)

    @staticmethod
    def encode_battery(level: int) -> bytes:
        return frame(TOKEN_INFO, 0x03, bytes([level & 0xFF]))

    def encode(self, reading: Reading) -> bytes:
        """Wave frames for the reading's pleth, then a parameter frame unless wave-only."""
        out = b""
        if reading.pleth:
            out += self.encode_wave(list(reading.pleth),
                                    0 if reading.status & Status.BEAT else None)
        if not reading.wave_only:
            out += self.encode_params(reading)
        return out


PROTOCOLS = {"pc60f": PC60FCodec}
