"""Viatom "Oxy" legacy protocol (O2Ring, Checkme O2, KidsO2, SleepU, WearO2...): request/response.

The host polls READ_SENSORS (0x17) about once a second; each reply is `55 | status | ~status |
blk u16 | len u16 | payload | crc` with CRC-8 poly 0x07 (CRC-8/SMBUS) over the whole frame.
Replies carry no command byte, so the codec remembers which request is outstanding (it builds
the requests); without one (decoding a capture), a 13-byte payload is taken as live values.
Replies span notifications and are reassembled.
"""

from __future__ import annotations

from drivers.protocols._blecodec import crc8, crc8_table_msb, vitals_reading
from drivers.protocols._framing import BAD, NEED_MORE, NOT_FRAME, FrameScanner
from drivers.reading import Reading, Status

SERVICE = "14839ac4-7d7e-415c-9a42-167340cf2339"
WRITE = "8b00ace7-eb0b-49b0-bbe9-9aee0a26e1a3"
NOTIFY = "0734594a-a8e7-4b1a-a6b1-cd5243059a57"

CMD_INFO = 0x14
CMD_PING = 0x15
CMD_READ_SENSORS = 0x17
CMD_RT_WAVE = 0x1B
#: Commands a host must never send (factory reset).
FORBIDDEN = frozenset({0x18})
MAX_PAYLOAD = 4096
LOW_BATTERY_PERCENT = 15  # ours: below this, flag LOW_BATTERY

_TABLE = crc8_table_msb(0x07)


def crc(data: bytes | bytearray) -> int:
    return crc8(data, _TABLE)


def request(cmd: int, data: bytes = b"", blk: int = 0) -> bytes:
    if cmd in FORBIDDEN:
        raise ValueError(f"command 0x{cmd:02X} is a factory reset and is never sent")
    body = bytes([0xAA, cmd, cmd ^ 0xFF]) + blk.to_bytes(2, "little") \
        + len(data).to_bytes(2, "little") + data
    return body + bytes([crc(body)])


def response(payload: bytes, status: int = 0, blk: int = 0) -> bytes:
    body = bytes([0x55, status, status ^ 0xFF]) + blk.to_bytes(2, "little") \
        + len(payload).to_bytes(2, "little") + payload
    return body + bytes([crc(body)])


POLL = request(CMD_READ_SENSORS)


class O2RingCodec(FrameScanner):
    notify_chars = (NOTIFY,)
    poll_interval = 1.0
    sync = 0x55

    def __init__(self) -> None:
        super().__init__()
        self.battery: int | None = None
        self.charging: int | None = None
        self.steps: int | None = None
        self.info: bytes | None = None
        self._pending_cmd: int | None = None

    def poll(self) -> bytes:
        """The READ_SENSORS request; remembers that its reply is the next one expected."""
        return self.request(CMD_READ_SENSORS)

    def request(self, cmd: int, data: bytes = b"", blk: int = 0) -> bytes:
        out = request(cmd, data, blk)
        self._pending_cmd = cmd
        return out

    def _frame_at(self, buf: bytearray, i: int, n: int, out: list[Reading]) -> int:
        if i + 3 <= n and buf[i + 2] != buf[i + 1] ^ 0xFF:
            return NOT_FRAME
        if i + 7 > n:
            return NEED_MORE
        length = buf[i + 5] | (buf[i + 6] << 8)
        if length > MAX_PAYLOAD:
            return BAD
        end = i + 8 + length
        if end > n:
            return NEED_MORE
        fr = buf[i:end]
        if crc8(fr, _TABLE) != 0:  # residue 0 ⇔ the last byte is the CRC of the ones before
            return BAD
        r = self._decode(fr[1], bytes(fr[7:-1]))
        if r is not None:
            out.append(r)
        return 8 + length

    def _decode(self, status: int, payload: bytes) -> Reading | None:
        cmd, self._pending_cmd = self._pending_cmd, None
        if cmd is None and len(payload) == 13:
            cmd = CMD_READ_SENSORS
        if status != 0:
            self.stats.extra["error_replies"] = self.stats.extra.get("error_replies", 0) + 1
            return None
        if cmd == CMD_READ_SENSORS and len(payload) >= 12:
            return self._sensors(payload)
        if cmd == CMD_INFO:
            self.info = payload
        else:
            self.stats.extra["other_replies"] = self.stats.extra.get("other_replies", 0) + 1
        return None

    def _sensors(self, p: bytes) -> Reading:
        spo2, pr = p[0], p[1] | (p[2] << 8)
        self.steps = int.from_bytes(p[3:7], "little")
        self.battery, self.charging = p[7], p[8]
        worn = bool(p[11] & 0x01)
        status = Status.NONE
        if not worn or spo2 == 0xFF or pr == 0xFFFF:
            status |= Status.FINGER_OUT
        elif spo2 == 0 or pr == 0:
            status |= Status.SEARCHING  # calibrating after the ring is put on
        if self.battery < LOW_BATTERY_PERCENT and not self.charging:
            status |= Status.LOW_BATTERY
        # [U] PI byte: one decimal (10 → 1.0 %); reported only while worn
        pi = p[10] / 10 if p[10] else None
        return vitals_reading(self._time.step(1.0), spo2, pr, pi, status)

    # -- device side (virtual peripheral) --------------------------------------------------
    @staticmethod
    def encode_sensors(reading: Reading, battery: int = 80, charging: int = 0,
                       steps: int = 0) -> bytes:
        off = bool(reading.status & (Status.FINGER_OUT | Status.SENSOR_FAULT))
        if off:
            spo2, pr, worn = 0xFF, 0xFFFF, 0
        elif reading.spo2 is None or reading.pulse is None:
            spo2, pr, worn = 0, 0, 1
        else:
            spo2 = max(1, min(100, round(reading.spo2)))
            pr = max(1, min(300, round(reading.pulse)))
            worn = 1
        pi = 0 if reading.pi is None or off else max(0, min(255, round(reading.pi * 10)))
        motion = 10 if reading.status & Status.MOTION else 0
        payload = bytes([spo2]) + pr.to_bytes(2, "little") + steps.to_bytes(4, "little") \
            + bytes([battery, charging, motion, pi, worn, 0])
        return response(payload)

    def encode(self, reading: Reading) -> bytes:
        """The READ_SENSORS reply a ring would give while showing this reading."""
        return self.encode_sensors(reading)


class RequestParser:
    """The device side of the framing: splits the host's writes into (cmd, blk, data). Used
    by the virtual ring; it reads requests, not readings, so it is not a `Codec`."""

    def __init__(self) -> None:
        self._buf = bytearray()
        self.bad = 0

    def feed(self, data: bytes | bytearray) -> list[tuple[int, int, bytes]]:
        buf = self._buf
        buf += data
        out = []
        i = 0
        while i < len(buf):
            if buf[i] != 0xAA:
                i += 1
                continue
            if i + 7 > len(buf):
                break
            length = buf[i + 5] | (buf[i + 6] << 8)
            end = i + 8 + length
            if end > len(buf):
                break
            fr = bytes(buf[i:end])
            if fr[2] != fr[1] ^ 0xFF or crc(fr[:-1]) != fr[-1]:
                self.bad += 1
                i += 1
                continue
            out.append((fr[1], fr[3] | (fr[4] << 8), fr[7:-1]))
            i = end
        del buf[:i]
        return out


PROTOCOLS = {"o2ring": O2RingCodec}
