"""Contec "Communication protocol of pulse oximeter V7.0" (CMS50D+ fw ≥ 4.6, CMS50E/F/I, CMS60C).

The protocol has no checksum, so a frame is trusted only when it passes every structural rule
(PROTOCOLS.md §4.3, §13): a known type byte with bit 7 clear, a high byte and data bytes with bit
7 set, and the right length for the type; the live frame must also pass its range checks. Any
byte with bit 7 clear inside a frame starts the search for the next frame there, so garbage
costs at most the frame it hit. Bit 7 of each data byte comes from the high byte: that is the
only way a pulse rate of 128 bpm or more decodes right.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from drivers.protocols._contec import (
    PLETH_FINGER_OUT,
    LiveFields,
    fields_reading,
    inner_start,
    live_frame_fields,
    unscale_pleth,
    v7_pack,
    v7_unpack,
)
from drivers.protocols._framing import BufferedCodec
from drivers.reading import CodecStats, Reading, Status

NAME = "cms50-v7"
#: Live packages per second.
NOMINAL_RATE = 60.0
#: Serial settings: 115200 8N1, no flow control.
BAUDRATE = 115200

#: Uplink package type → length including type and high byte (spec Table 2 + OSCAR).
UPLINK_LENGTHS: dict[int, int] = {
    0x01: 9, 0x02: 9, 0x03: 9, 0x04: 9, 0x05: 9, 0x06: 4, 0x07: 8, 0x08: 8, 0x09: 6,
    0x0A: 4, 0x0B: 4, 0x0C: 2, 0x0D: 3, 0x0E: 3, 0x0F: 8, 0x10: 3, 0x11: 9, 0x12: 8,
    0x13: 9, 0x14: 9, 0x15: 9,
}
#: Downlink (host → device): the 9-byte control command.
DOWNLINK_LENGTHS: dict[int, int] = {0x7D: 9}

# Host commands (the byte after `7D hb`).
CMD_START_LIVE = 0xA1
CMD_STOP_LIVE = 0xA2
CMD_SEGMENT_COUNT = 0xA3
CMD_DATA_LENGTH = 0xA4
CMD_START_TIME = 0xA5
CMD_SEND_STORAGE = 0xA6
CMD_STOP_STORAGE = 0xA7
CMD_DEVICE_ID = 0xAA
CMD_USER_INFO = 0xAB
CMD_PI_SUPPORT = 0xAC
CMD_USER_COUNT = 0xAD
CMD_KEEP_ALIVE = 0xAF
CMD_STORAGE_IDS = 0xB0
CMD_PROTOCOL_VERSION = 0xA0
CMD_MODEL_NAME = 0xA8
CMD_VENDOR = 0xA9

# Uplink package types.
PKG_LIVE = 0x01
PKG_MODEL = 0x02
PKG_VENDOR = 0x03
PKG_DEVICE_ID = 0x04
PKG_USER_INFO = 0x05
PKG_VERSION = 0x06
PKG_START_DATE = 0x07
PKG_DATA_LENGTH = 0x08
PKG_STORAGE_PI = 0x09
PKG_SEGMENT_COUNT = 0x0A
PKG_FEEDBACK = 0x0B
PKG_FREE = 0x0C
PKG_DISCONNECT = 0x0D
PKG_PI_ID = 0x0E
PKG_STORAGE = 0x0F
PKG_USER_COUNT = 0x10
PKG_NOTICE = 0x11
PKG_START_TIME = 0x12

#: Feedback / disconnect reason codes.
REASON_DONE = 0x00
REASON_NOT_SUPPORTED = 0x05


@dataclass(frozen=True, slots=True)
class Packet:
    """One framed package with the high byte applied: `data` are the real bytes after it."""

    type: int
    data: bytes


class V7Framer(BufferedCodec):
    """Finds V7.0 packages in a byte stream and restores bit 7 from the high byte.

    A truncated last package stays pending until more bytes arrive. With `live`, live packages
    (0x01) are decoded to Readings on a fast path: identical wire frames (most of a steady
    stream, except the pleth byte) are decoded once and looked up afterwards.
    """

    def __init__(self, lengths: dict[int, int], stats: CodecStats | None = None,
                 live: bool = False) -> None:
        super().__init__()
        self._lengths = lengths
        if stats is not None:
            self.stats = stats
        self._live_type = PKG_LIVE if live else -1
        self._memo: dict[bytes, LiveFields | None] = {}
        #: live packages decoded so far: their time base at the nominal rate
        self.live_frames = 0

    def packets(self, data: bytes) -> list[Packet]:
        """The whole packages `data` completes (a splitter, not a reading `Codec`)."""
        out: list[Packet] = []
        self.scan(data, out.append, [])
        return out

    def scan(self, data: bytes | bytearray, on_packet: Callable[[Packet], object],
             readings: list[Reading]) -> list[Reading]:
        """Frame `data`: live packages (when decoded here) become Readings in `readings`,
        every other package goes to `on_packet`; each counts as a good frame."""
        buf = self._buf
        buf += data
        stats = self.stats
        memo = self._memo
        live = self._live_type
        append = readings.append
        lengths = self._lengths
        n = len(buf)
        i = 0
        skipped = 0
        good = 0
        frames = self.live_frames
        while i < n:
            b = buf[i]
            if b == live and i + 9 <= n:
                wire = bytes(buf[i:i + 9])
                f = memo.get(wire, _MISS)
                if f is _MISS and min(wire[1:]) >= 0x80:
                    f = live_fields(v7_unpack(wire)[2:])
                    if len(memo) >= _MEMO_MAX:
                        memo.clear()
                    memo[wire] = f
                if f is not _MISS:
                    i += 9
                    if f is None:
                        stats.frames_bad += 1
                    else:
                        append(Reading(frames / NOMINAL_RATE, *f))
                        frames += 1
                    continue
            length = lengths.get(b) if b < 0x80 else None
            if length is None:
                skipped += 1
                i += 1
                continue
            end = i + length
            j = inner_start(buf, i, end, n, False)
            if j:  # a new type byte inside: this frame is broken
                stats.frames_bad += 1
                skipped += j - i
                i = j
                continue
            if end > n:
                break  # truncated tail: keep for the next feed
            real = v7_unpack(buf[i:end])
            on_packet(Packet(b, real[2:]))
            good += 1
            i = end
        if i:
            del buf[:i]
        stats.bytes_skipped += skipped
        stats.frames_good += good + frames - self.live_frames
        self.live_frames = frames
        return readings


def live_fields(data: bytes | bytearray) -> LiveFields | None:
    """A live package's real data bytes → the Reading's fields, or None when a range check
    fails (the protocol has no checksum, so range checks are what reject corrupt frames)."""
    b2, b3, b4, pr, sp, pil, pih = data[0], data[1], data[2], data[3], data[4], data[5], data[6]
    if (b2 & 0x0F) > 8 or b4 & 0xE0:
        return None
    status = Status.NONE
    if b2 & 0x80:
        status |= Status.FINGER_OUT
    if b2 & 0x10 or b3 & 0x80:
        status |= Status.SEARCHING
    if b2 & 0x40:
        status |= Status.BEAT
    raw_pi = pil | (pih << 8)
    pi = None if (b4 & 0x10 or raw_pi in (0, 0xFFFF) or raw_pi > 2200) else raw_pi / 100.0
    return live_frame_fields(sp, pr, pi, b3 & 0x7F, NOMINAL_RATE, status)


def decode_live(data: bytes, t: float) -> tuple[Reading | None, bool]:
    """A live package's real data bytes → (Reading, ok); ok False = count as a bad frame."""
    return fields_reading(live_fields(data), t)


def decode_storage(pkt: Packet) -> list[tuple[float | None, float | None, float | None]]:
    """A storage package (0x0F without PI, 0x09 with PI) → [(SpO2, PR, PI)] at 1 Hz.

    Invalid markers (SpO2 0x7F or 0, PR 0xFF or 0, PI 0xFFFF) become None. A 0x0F package
    padded at the end of a recording repeats nothing: its pad samples have SpO2 0 and PR 0 and
    are dropped by the caller using the announced data length.
    """
    def sp(v: int) -> float | None:
        return float(v) if 0 < v <= 100 else None

    def pr(v: int) -> float | None:
        return float(v) if 0 < v < 0xFF else None

    d = pkt.data
    if pkt.type == PKG_STORAGE:
        return [(sp(d[k]), pr(d[k + 1]), None) for k in range(0, 6, 2)]
    if pkt.type == PKG_STORAGE_PI:
        raw_pi = d[2] | (d[3] << 8)
        pi = raw_pi / 100.0 if 0 < raw_pi <= 2200 else None
        return [(sp(d[0]), pr(d[1]), pi)]
    raise ValueError(f"package {pkt.type:#04x} is not storage data")


def command(cmd: int, *data: int) -> bytes:
    """A host command, e.g. `command(0xA1)` → `7D 81 A1 80 80 80 80 80 80`."""
    body = [cmd, *data]
    body += [0] * (7 - len(body))
    return v7_pack(0x7D, body)


#: Keep-alive the host must send every 5 s while connected.
KEEP_ALIVE = command(CMD_KEEP_ALIVE)
START_LIVE = command(CMD_START_LIVE)
STOP_LIVE = command(CMD_STOP_LIVE)
STOP_STORAGE = command(CMD_STOP_STORAGE)


_MISS: Any = object()
_MEMO_MAX = 8192


class CMS50V7Codec:
    """Device → host bytes to Readings (live package 0x01); other packages are kept in
    `packets` for the transport and the storage download. `encode` builds live frames."""

    name = NAME
    nominal_rate = NOMINAL_RATE

    def __init__(self) -> None:
        self.stats = CodecStats()
        self._framer = V7Framer(UPLINK_LENGTHS, self.stats, live=True)
        self.packets: deque[Packet] = deque(maxlen=4096)

    @property
    def pending(self) -> bytes:
        return self._framer.pending

    @property
    def live_frames(self) -> int:
        return self._framer.live_frames

    def feed(self, data: bytes | bytearray, char: str | None = None,
             t: float | None = None) -> list[Reading]:
        """Bytes as they arrive; `char` and `t` are not used (one stream, timed at the
        nominal rate)."""
        return self._framer.scan(data, self.packets.append, [])

    # --- encode side (simulators) ---------------------------------------------------------

    @staticmethod
    def encode(r: Reading, pleth: float | None = None, signal: int = 4) -> bytes:
        """One live frame for a Reading. `pleth` picks the waveform sample (0–100 %), else the
        Reading's last one. Missing values are sent as the device's own invalid markers."""
        st = r.status
        finger_out = bool(st & Status.FINGER_OUT)
        b2 = max(0, min(8, signal))
        if finger_out:
            b2 |= 0x80
        if st & Status.BEAT:
            b2 |= 0x40
        if pleth is None:
            pleth = r.pleth[-1] if r.pleth else None
        if finger_out or pleth is None:
            b3 = PLETH_FINGER_OUT if finger_out else 0
        else:
            b3 = unscale_pleth(pleth)
        if st & Status.SEARCHING:
            b3 |= 0x80
        b4 = 0
        if finger_out or r.pi is None:
            b4 |= 0x10
            pi_raw = 0xFFFF
        else:
            pi_raw = max(1, min(2200, round(r.pi * 100)))
        pr = 0xFF if (finger_out or r.pulse is None) else max(1, min(254, round(r.pulse)))
        sp = 0x7F if (finger_out or r.spo2 is None) else max(1, min(100, round(r.spo2)))
        return v7_pack(PKG_LIVE, [b2, b3, b4, pr, sp, pi_raw & 0xFF, pi_raw >> 8])

    @staticmethod
    def encode_packet(ptype: int, data: bytes | list[int]) -> bytes:
        return v7_pack(ptype, data)


class CommandDecoder:
    """The device side: host bytes → (command, data bytes). Used by the virtual device; it
    reads commands, not readings, so it is not a `Codec`."""

    def __init__(self) -> None:
        self.stats = CodecStats()
        self._framer = V7Framer(DOWNLINK_LENGTHS, self.stats)

    def feed(self, data: bytes) -> list[tuple[int, bytes]]:
        return [(pkt.data[0], pkt.data[1:]) for pkt in self._framer.packets(data)]


PROTOCOLS = {NAME: CMS50V7Codec}
