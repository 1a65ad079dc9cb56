"""Shared pieces of the Bluetooth LE codecs: plausibility ranges, the reading builder, a time line.

Every BLE codec ends in `vitals_reading`, so a value outside its physiological range or a
status that invalidates the measurement becomes `None` plus a flag, whatever the wire said.
The ranges are ours (chosen to reject sentinels and corrupt bytes, not clinical limits).
"""

from __future__ import annotations

from drivers.reading import INVALIDATING, Reading, Status

#: Plausible ranges (ours): anything outside is not a measurement.
SPO2_RANGE = (1.0, 100.0)
PULSE_RANGE = (1.0, 300.0)
PI_RANGE = (0.0, 30.0)


def in_range(value: float | None, lo_hi: tuple[float, float]) -> float | None:
    if value is None or value != value:  # NaN
        return None
    lo, hi = lo_hi
    return float(value) if lo <= value <= hi else None


def vitals_reading(t: float, spo2: float | None, pulse: float | None, pi: float | None,
                   status: Status, *, pleth: tuple[float, ...] = (),
                   pleth_rate: float | None = None) -> Reading:
    """A vitals Reading where nothing invalid survives as a number.

    A value missing or out of range sets SEARCHING unless a more specific reason is already
    flagged; an invalidating status clears SpO2, pulse and PI, because "finger out, 97 %" must
    never reach the screen as 97 %.
    """
    s = in_range(spo2, SPO2_RANGE)
    p = in_range(pulse, PULSE_RANGE)
    q = in_range(pi, PI_RANGE)
    if (s is None or p is None) and not status & INVALIDATING:
        status |= Status.SEARCHING
    if status & INVALIDATING:
        s = p = q = None
    return Reading(t=t, spo2=s, pulse=p, pi=q, pleth=pleth, pleth_rate=pleth_rate,
                   status=status)


def wave_reading(t: float, samples: list[float], rate: float, beat: bool) -> Reading:
    return Reading(t=t, pleth=tuple(samples), pleth_rate=rate,
                   status=Status.BEAT if beat else Status.NONE, wave_only=True)


class Timeline:
    """The time stamp of decoded frames: the caller's clock if given, else nominal frame time.

    A decoder fed from a file has no clock, so it counts frames at the protocol's nominal
    rate; a live transport passes its clock's `now()` to every `feed`.
    """

    def __init__(self) -> None:
        self.t = 0.0
        self._given: float | None = None

    def start(self, t: float | None) -> None:
        self._given = t
        if t is not None:
            self.t = t

    def step(self, dt: float) -> float:
        if self._given is None:
            self.t += dt
        return self.t


def crc8(data: bytes | bytearray, table: list[int]) -> int:
    crc = 0
    for b in data:
        crc = table[crc ^ b]
    return crc


def crc8_table_msb(poly: int) -> list[int]:
    """CRC-8, MSB first, no reflection (e.g. poly 0x07, CRC-8/SMBUS)."""
    out = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = ((c << 1) ^ poly) & 0xFF if c & 0x80 else (c << 1) & 0xFF
        out.append(c)
    return out


def crc8_table_lsb(poly_reflected: int) -> list[int]:
    """CRC-8, LSB first (reflected), e.g. 0x8C for CRC-8/MAXIM."""
    out = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ poly_reflected if c & 1 else c >> 1
        out.append(c)
    return out
