"""Nonin Oximetry Service (Nonin 3230 and relatives): one 10-byte big-endian measurement per
notification, about once a second.

There is no checksum, so a notification is accepted only when its length byte is 10 and every
field is either in range or one of the documented "missing" markers (SpO2 127, PR 511).
"""

from __future__ import annotations

from drivers.protocols._blecodec import Timeline, vitals_reading
from drivers.reading import CodecStats, Reading, Status

SERVICE = "46a970e0-0d5f-11e2-8b5e-0002a5d5c51b"
MEASUREMENT = "0aad7ea0-0d60-11e2-8e3c-0002a5d5c51b"
CONTROL_POINT = "1447af80-0d60-11e2-88b6-0002a5d5c51b"

#: Written to the control point to end a measurement session cleanly ("bNMI").
COMPLETE_MEASUREMENT = b"bNMI"

SPO2_MISSING = 127
PR_MISSING = 511
_WEAK = 0x02  # [U] weak signal
_SMARTPOINT = 0x04
_SEARCHING = 0x08
_FINGER_OK = 0x10
_LOW_BATTERY = 0x20


class NoninCodec:
    notify_chars = (MEASUREMENT,)

    def __init__(self) -> None:
        self.stats = CodecStats()
        self.battery_volts: float | None = None
        self.counter: int | None = None
        self._time = Timeline()

    def feed(self, data: bytes | bytearray, char: str | None = None,
             t: float | None = None) -> list[Reading]:
        self._time.start(t)
        d = bytes(data)
        if len(d) == 10 and d[0] == 10 and self._plausible(d):  # the usual notification
            self.stats.frames_good += 1
            return [self._decode(d)]
        out: list[Reading] = []
        i = 0
        # Normally exactly one measurement per notification; a concatenated capture is walked
        # in 10-byte steps, and anything that is not a plausible measurement is skipped.
        while i < len(d):
            if d[i] == 10 and i + 10 <= len(d) and self._plausible(d[i:i + 10]):
                out.append(self._decode(d[i:i + 10]))
                self.stats.frames_good += 1
                i += 10
            else:
                if d[i] == 10 and i + 10 <= len(d):
                    self.stats.frames_bad += 1
                self.stats.bytes_skipped += 1
                i += 1
        return out

    @staticmethod
    def _plausible(f: bytes) -> bool:
        spo2 = f[7]
        pr = (f[8] << 8) | f[9]
        return (spo2 <= 100 or spo2 == SPO2_MISSING) and (pr <= 321 or pr == PR_MISSING)

    def _decode(self, f: bytes) -> Reading:
        st = f[1]
        self.battery_volts = f[2] / 10
        self.counter = (f[5] << 8) | f[6]
        pai = ((f[3] << 8) | f[4]) / 100
        spo2: float | None = f[7]
        pr: float | None = (f[8] << 8) | f[9]
        status = Status.NONE
        if not st & _FINGER_OK:
            status |= Status.FINGER_OUT
        if st & _SEARCHING:
            status |= Status.SEARCHING
        if st & _LOW_BATTERY:
            status |= Status.LOW_BATTERY
        if st & _WEAK:
            status |= Status.POOR_SIGNAL
        if spo2 == SPO2_MISSING:
            spo2 = None
        if pr == PR_MISSING:
            pr = None
        return vitals_reading(self._time.step(1.0), spo2, pr, pai, status)

    def encode(self, reading: Reading, counter: int = 0, battery_volts: float = 3.0) -> bytes:
        if reading.wave_only:
            return b""
        st = 0
        if not reading.status & Status.FINGER_OUT:
            st |= _FINGER_OK
        if reading.status & Status.SEARCHING:
            st |= _SEARCHING
        if reading.status & Status.LOW_BATTERY:
            st |= _LOW_BATTERY
        if reading.status & Status.POOR_SIGNAL:
            st |= _WEAK
        spo2 = SPO2_MISSING if reading.spo2 is None else max(0, min(100, round(reading.spo2)))
        pr = PR_MISSING if reading.pulse is None else max(0, min(321, round(reading.pulse)))
        pai = 0 if reading.pi is None else max(0, min(0xFFFF, round(reading.pi * 100)))
        return bytes([10, st, round(battery_volts * 10) & 0xFF]) + pai.to_bytes(2, "big") \
            + (counter & 0xFFFF).to_bytes(2, "big") + bytes([spo2]) + pr.to_bytes(2, "big")


PROTOCOLS = {"nonin": NoninCodec}
