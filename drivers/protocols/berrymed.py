"""BerryMed BCI protocol (BM1000 family): 5-byte packets at 100 Hz, four per 20-byte notification,
over the Microchip "transparent UART" service.

Framing is by the sync bit: bit 7 set in the first byte only. There is no checksum, so a
packet is also checked against its value ranges (pleth ≤ 100, SpO2 ≤ 100 or 0x7F).
"""

from __future__ import annotations

from drivers.protocols._blecodec import vitals_reading
from drivers.protocols._framing import BAD, NEED_MORE, FrameScanner
from drivers.reading import Reading, Status

SERVICE = "49535343-fe7d-4aa5-8fa9-9fafd205e455"
NOTIFY = "49535343-1e4d-4bd9-ba61-23c647249616"
WRITE = "49535343-8841-43f4-a8d4-ecbe34729bb3"

RATE = 100.0
PR_INVALID = 0xFF
SPO2_INVALID = 0x7F


#: Bytes that may start a packet: bit 7 set.
_SYNC = bytes(1 if b & 0x80 else 0 for b in range(256))


class BerryMedCodec(FrameScanner):
    notify_chars = (NOTIFY,)
    sync = _SYNC

    def __init__(self, group: int = 4) -> None:
        super().__init__()
        self.group = group  # packets per Reading: one BLE notification's worth
        self._packets: list[bytearray] = []

    def feed(self, data: bytes | bytearray, char: str | None = None,
             t: float | None = None) -> list[Reading]:
        out = super().feed(data, char, t)
        if self._packets:  # a feed's last, short group is a Reading of its own
            out.append(self._reading(self._packets))
            self._packets = []
        return out

    def _frame_at(self, buf: bytearray, i: int, n: int, out: list[Reading]) -> int:
        """One 5-byte packet; every `group` packets of a feed make one Reading."""
        if i + 5 > n:
            return NEED_MORE
        p = buf[i:i + 5]
        if (p[1] | p[2] | p[3] | p[4]) & 0x80:
            return BAD  # a sync byte inside: this packet was cut short; restart from that byte
        if p[1] > 100 or (100 < p[4] != SPO2_INVALID):
            return BAD
        packets = self._packets
        packets.append(p)
        if len(packets) == self.group:
            out.append(self._reading(packets))
            self._packets = []
        return 5

    def _reading(self, packets: list[bytearray]) -> Reading:
        status = Status.NONE
        pleth: list[float] = []
        for p in packets:
            self._time.step(1 / RATE)
            if p[0] & 0x40:
                status |= Status.BEAT
            if p[1] != 0:
                pleth.append(float(p[1]))
        last = packets[-1]
        b1, b3 = last[0], last[2]
        if b1 & 0x20 or b3 & 0x10:
            status |= Status.FINGER_OUT  # probe unplugged / no finger
        if b1 & 0x10:
            status |= Status.SEARCHING | Status.POOR_SIGNAL  # no signal
        if b3 & 0x20:
            status |= Status.SEARCHING  # pulse searching
        pr = ((b3 & 0x40) << 1) | (last[3] & 0x7F)
        spo2 = last[4] & 0x7F
        return vitals_reading(self._time.t, None if spo2 == SPO2_INVALID else spo2,
                              None if pr == PR_INVALID else pr, None, status,
                              pleth=tuple(pleth), pleth_rate=RATE)

    @staticmethod
    def encode_packet(spo2: float | None, pulse: float | None, pleth: float, *,
                      beat: bool = False, status: Status = Status.NONE,
                      signal: int = 5, bar: int = 5) -> bytes:
        b1 = 0x80 | (signal & 0x0F)
        b3 = bar & 0x0F
        if beat:
            b1 |= 0x40
        if status & Status.FINGER_OUT:
            b3 |= 0x10
        if status & Status.SEARCHING:
            b3 |= 0x20
        pr = PR_INVALID if pulse is None else max(0, min(254, round(pulse)))
        sp = SPO2_INVALID if spo2 is None else max(0, min(100, round(spo2)))
        if pr & 0x80:
            b3 |= 0x40
        pl = max(1, min(100, round(pleth)))
        return bytes([b1, pl, b3, pr & 0x7F, sp])

    def encode(self, reading: Reading) -> bytes:
        """A reading's pleth samples as packets carrying its SpO2/PR (at least four packets,
        the beat marker on the first when the reading has BEAT)."""
        samples = list(reading.pleth) or [50.0]
        while len(samples) % 4:
            samples.append(samples[-1])
        status = Status(reading.status)
        spo2 = None if reading.wave_only else reading.spo2
        pulse = None if reading.wave_only else reading.pulse
        return b"".join(
            self.encode_packet(spo2, pulse, s, beat=bool(status & Status.BEAT) and k == 0,
                               status=status)
            for k, s in enumerate(samples))


PROTOCOLS = {"berrymed": BerryMedCodec}
