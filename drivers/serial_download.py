"""Pulls the recordings a Contec CMS50 V7.0 stored in its memory off the device.

Separate from the live transport (`drivers.serial_transport`): the download is a blocking
request/answer exchange over the same port, run by `oxi-assist download`, with no live loop.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from drivers.errors import ProtocolError, SourceError
from drivers.link import error_reason
from drivers.protocols import cms50_v7
from drivers.serial_transport import REAL_CLOCK, SerialPort


@dataclass
class StoredRecording:
    """One recording pulled off the device's memory: 1 Hz samples from `start` (device local
    time, no zone)."""

    user: int
    segment: int
    start: datetime | None
    samples: list[tuple[float | None, float | None, float | None]]  # (SpO2, PR, PI)
    announced: int = 0  # the length the device announced


class _V7Session:
    def __init__(self, port: SerialPort, timeout: float) -> None:
        self.port = port
        self.codec = cms50_v7.CMS50V7Codec()
        self.timeout = timeout

    def drain(self, quiet: float = 0.2) -> None:
        """Read until the line has been quiet for `quiet` s (after a stop command)."""
        deadline = REAL_CLOCK.now() + 3.0
        last = REAL_CLOCK.now()
        while REAL_CLOCK.now() < deadline and REAL_CLOCK.now() - last < quiet:
            if self.port.read(0.05):
                last = REAL_CLOCK.now()
        self.codec = cms50_v7.CMS50V7Codec()

    def next_packet(self, types: set[int], timeout: float | None = None) -> cms50_v7.Packet:
        deadline = REAL_CLOCK.now() + (timeout or self.timeout)
        while True:
            while self.codec.packets:
                pkt = self.codec.packets.popleft()
                if pkt.type in types:
                    return pkt
                if pkt.type == cms50_v7.PKG_FEEDBACK and pkt.data[1] != cms50_v7.REASON_DONE:
                    raise ProtocolError(f"device refused command {pkt.data[0]:#04x} "
                                        f"(reason {pkt.data[1]:#04x})")
            left = deadline - REAL_CLOCK.now()
            if left <= 0:
                names = ", ".join(f"{t:#04x}" for t in sorted(types))
                raise ProtocolError(f"no reply from the device within {self.timeout:g} s "
                                    f"(waiting for package {names})")
            self.codec.feed(self.port.read(min(0.1, left)))

    def ask(self, cmd: int, *data: int, want: set[int]) -> cms50_v7.Packet:
        self.port.write(cms50_v7.command(cmd, *data))
        return self.next_packet(want)


def download_v7(path: str, *, timeout: float = 1.0,
                progress: Callable[[str], None] | None = None) -> list[StoredRecording]:
    """Pull every stored recording off a V7.0 device (spec §3.4 order: stop streams, then user,
    segment, length and start time before the data). Blocking."""
    port = SerialPort(path, cms50_v7.BAUDRATE, "N")
    say = progress or (lambda _m: None)
    try:
        s = _V7Session(port, timeout)
        port.write(cms50_v7.STOP_LIVE + cms50_v7.STOP_STORAGE)
        s.drain()
        try:
            users = s.ask(cms50_v7.CMD_USER_COUNT, want={cms50_v7.PKG_USER_COUNT}).data[0]
        except ProtocolError:
            users = 1  # single-user models may not answer the user count
        out: list[StoredRecording] = []
        for user in range(max(1, users)):
            segs = s.ask(cms50_v7.CMD_SEGMENT_COUNT, user,
                         want={cms50_v7.PKG_SEGMENT_COUNT}).data[1]
            for seg in range(segs):
                length_pkt = s.ask(cms50_v7.CMD_DATA_LENGTH, user, seg,
                                   want={cms50_v7.PKG_DATA_LENGTH})
                length = int.from_bytes(length_pkt.data[2:6], "little")
                date = s.ask(cms50_v7.CMD_START_TIME, user, seg,
                             want={cms50_v7.PKG_START_DATE}).data
                tm = s.next_packet({cms50_v7.PKG_START_TIME}).data
                try:
                    start: datetime | None = datetime(date[2] * 100 + date[3], date[4],
                                                      date[5], tm[2], tm[3], tm[4])
                except ValueError:
                    start = None  # a clock-less unit: keep the samples, no wall time
                say(f"user {user} segment {seg}: {length} samples from "
                    f"{start.isoformat(sep=' ') if start else 'an unknown time'}")
                port.write(cms50_v7.command(cms50_v7.CMD_SEND_STORAGE, user, seg))
                samples: list[tuple[float | None, float | None, float | None]] = []
                while len(samples) < length:
                    try:
                        pkt = s.next_packet({cms50_v7.PKG_STORAGE, cms50_v7.PKG_STORAGE_PI})
                    except ProtocolError:
                        break  # the device stopped early; keep what arrived
                    samples += cms50_v7.decode_storage(pkt)
                port.write(cms50_v7.command(cms50_v7.CMD_STOP_STORAGE))
                with contextlib.suppress(ProtocolError):
                    s.next_packet({cms50_v7.PKG_FREE})
                out.append(StoredRecording(user, seg, start, samples[:length], length))
        return out
    except OSError as e:  # pyserial's SerialException too: unplugged mid-transfer
        raise SourceError(f"serial:{path}: connection lost during the download "
                          f"({error_reason(e)})") from None
    finally:
        port.close()
