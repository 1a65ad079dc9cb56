"""Jumper JPD-500F/G and "My Oximeter" (PLS-01BT): 4-byte parameter frames `81 PR SpO2 PI`.

No checksum and an undocumented waveform frame (0x80 ...), so a frame is accepted only when
its values are in range or the documented "no reading" markers (PR 255, SpO2 127); everything
else is skipped byte by byte until the next 0x81. The PI byte's unit is unknown, so it is kept
as `last_pi_raw` and not reported as a perfusion index.
"""

from __future__ import annotations

from drivers.protocols._blecodec import vitals_reading
from drivers.protocols._framing import BAD, NEED_MORE, FrameScanner
from drivers.reading import Reading, Status

SERVICE = "cdeacb80-5235-4c07-8846-93a37ee6b86d"
NOTIFY = "cdeacb81-5235-4c07-8846-93a37ee6b86d"

PR_INVALID = 255
SPO2_INVALID = 127


class JumperCodec(FrameScanner):
    notify_chars = (NOTIFY,)
    sync = 0x81

    def __init__(self) -> None:
        super().__init__()
        self.last_pi_raw: int | None = None

    def _frame_at(self, buf: bytearray, i: int, n: int, out: list[Reading]) -> int:
        if i + 4 > n:
            return NEED_MORE
        pr, spo2, pi = buf[i + 1], buf[i + 2], buf[i + 3]
        if (spo2 > 100 and spo2 != SPO2_INVALID) or (pr > 250 and pr != PR_INVALID):
            return BAD
        self.last_pi_raw = pi
        status = Status.NONE
        if pr == PR_INVALID or spo2 == SPO2_INVALID:
            status |= Status.FINGER_OUT
        out.append(vitals_reading(self._time.step(1.0), spo2, pr, None, status))
        return 4

    @staticmethod
    def encode(reading: Reading) -> bytes:
        if reading.wave_only:
            return b""
        if reading.status & (Status.FINGER_OUT | Status.SENSOR_FAULT) \
                or reading.spo2 is None or reading.pulse is None:
            return bytes([0x81, PR_INVALID, SPO2_INVALID, 0])
        pi = 0 if reading.pi is None else max(0, min(255, round(reading.pi * 10)))
        return bytes([0x81, max(1, min(250, round(reading.pulse))),
                      max(1, min(100, round(reading.spo2))), pi])


PROTOCOLS = {"jumper": JumperCodec}
