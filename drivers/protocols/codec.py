"""The one shape every reading codec has, so transports and tools call them all alike.

A codec turns a device's bytes into `Reading`s and counts what it could not frame (`stats`).
BLE devices send on several characteristics and the host knows when each notification came, so
`feed` takes the characteristic (`char`, a UUID or a codec's own short name) and the arrival
time (`t`, seconds on the caller's clock); a codec that needs neither (a serial or HID byte
stream) accepts and ignores them. Without `t` a codec times its readings at its nominal rate.

Device-side parsers used by the simulators (`cms50_v7.CommandDecoder`, `o2ring.RequestParser`)
read what a host writes, not readings; they are not codecs and keep their own return types.
"""

from __future__ import annotations

from typing import Protocol

from drivers.reading import CodecStats, Reading


class Codec(Protocol):
    """Device → host bytes to Readings; never does I/O."""

    stats: CodecStats

    def feed(self, data: bytes | bytearray, char: str | None = None,
             t: float | None = None) -> list[Reading]:
        """Bytes as they arrive; returns the readings completed by them (a frame split across
        feeds is held until its end arrives)."""
        ...
