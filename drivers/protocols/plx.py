"""Bluetooth SIG Pulse Oximeter Service (0x1822): continuous 0x2A5F, spot-check 0x2A5E, features
0x2A60.

Each notification or indication is one whole measurement, so there is no stream to reassemble;
what matters is which characteristic it came from (the flag bits of 0x2A5E and 0x2A5F mean
different things), hence `feed(data, char=...)`. Without `char` the codec decodes as its default
characteristic: `plx` → continuous, `plx-spot` → spot-check.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from drivers.protocols import _sfloat
from drivers.protocols._blecodec import Timeline, vitals_reading
from drivers.reading import CodecStats, Reading, Status

SERVICE = "00001822-0000-1000-8000-00805f9b34fb"
SPOT_CHECK = "00002a5e-0000-1000-8000-00805f9b34fb"
CONTINUOUS = "00002a5f-0000-1000-8000-00805f9b34fb"
FEATURES = "00002a60-0000-1000-8000-00805f9b34fb"
RACP = "00002a52-0000-1000-8000-00805f9b34fb"

# Measurement Status (u16) bits → flags.
_MS_UNAVAILABLE = 1 << 13
_MS_QUESTIONABLE = 1 << 14
_MS_INVALID = 1 << 15
_MS_CALIBRATING = 1 << 12
_MS_TO_STATUS: dict[int, Status] = {
    12: Status.SEARCHING,  # calibration ongoing
    13: Status.SEARCHING,  # measurement unavailable
    14: Status.POOR_SIGNAL,  # questionable measurement detected
    15: Status.SEARCHING,  # invalid measurement detected: no number
}
# Device and Sensor Status (u24) bits → flags (PLXS Table 3.5).
_DSS_TO_STATUS: dict[int, Status] = {
    1: Status.SENSOR_FAULT,  # equipment malfunction
    2: Status.POOR_SIGNAL,  # signal processing irregularity
    3: Status.POOR_SIGNAL,  # inadequate signal
    4: Status.POOR_SIGNAL,  # poor signal
    5: Status.LOW_PERFUSION,
    6: Status.MOTION,  # erratic signal
    7: Status.POOR_SIGNAL,  # non-pulsatile signal
    8: Status.POOR_SIGNAL,  # questionable pulse
    9: Status.SEARCHING,  # signal analysis ongoing
    10: Status.POOR_SIGNAL,  # sensor interference
    11: Status.FINGER_OUT,  # sensor unconnected to user
    12: Status.SENSOR_FAULT,  # unknown sensor connected
    13: Status.FINGER_OUT,  # sensor displaced
    14: Status.SENSOR_FAULT,  # sensor malfunctioning
    15: Status.FINGER_OUT,  # sensor disconnected
}


def _bits_to_status(value: int, table: dict[int, Status]) -> Status:
    out = 0
    while value:
        low = value & -value
        out |= table.get(low.bit_length() - 1, 0)
        value ^= low
    return Status(out)


@functools.lru_cache(maxsize=512)
def measurement_status_flags(ms: int) -> Status:
    return _bits_to_status(ms, _MS_TO_STATUS)


@functools.lru_cache(maxsize=512)
def sensor_status_flags(dss: int) -> Status:
    return _bits_to_status(dss, _DSS_TO_STATUS)


@functools.lru_cache(maxsize=64)
def _kind(char: str | None, default: str) -> str:
    if char is None:
        return default
    c = char.lower()
    for kind, uuid, short in (("continuous", CONTINUOUS, "2a5f"), ("spot", SPOT_CHECK, "2a5e"),
                              ("features", FEATURES, "2a60")):
        if c in (uuid, short, "0x" + short, kind):
            return kind
    return "other"


def _expected_flags(supported: int) -> int:
    """0x2A5F flags implied by 0x2A60 Supported Features (Fast, Slow, MS, DSS, PAI)."""
    return (bool(supported & 0x10) | bool(supported & 0x20) << 1 | bool(supported & 0x01) << 2
            | bool(supported & 0x02) << 3 | bool(supported & 0x40) << 4)


@dataclass(frozen=True)
class Features:
    supported: int
    measurement_status_support: int | None = None
    sensor_status_support: int | None = None


class PlxCodec:
    """Decoder for the PLX characteristics; `encode`/`encode_spot`/`encode_features` serve the
    virtual peripheral."""

    default_char = "continuous"
    #: Subscriptions a host needs (the transport subscribes to whichever the device has).
    notify_chars = (CONTINUOUS, SPOT_CHECK)

    def __init__(self) -> None:
        self.stats = CodecStats()
        self.features: Features | None = None
        self.last_timestamp: tuple[int, int, int, int, int, int] | None = None
        self._time = Timeline()

    # -- decode ---------------------------------------------------------------------------
    def feed(self, data: bytes | bytearray, char: str | None = None,
             t: float | None = None) -> list[Reading]:
        self._time.start(t)
        kind = _kind(char, self.default_char)
        data = bytes(data)
        if kind == "features":
            self._features(data)
            return []
        if kind == "other":
            self.stats.extra["other_char"] = self.stats.extra.get("other_char", 0) + 1
            return []
        r = self._continuous(data) if kind == "continuous" else self._spot(data)
        if r is None:
            self.stats.frames_bad += 1
            return []
        self.stats.frames_good += 1
        return [r]

    def _continuous(self, d: bytes) -> Reading | None:
        if len(d) < 5:
            return None
        flags = d[0]
        need = 5 + 4 * bool(flags & 1) + 4 * bool(flags & 2) + 2 * bool(flags & 4) \
            + 3 * bool(flags & 8) + 2 * bool(flags & 16)
        if len(d) < need:
            return None
        if self.features is not None and _expected_flags(self.features.supported) != flags & 0x1F:
            # the spec ties optional fields to the feature bits; a mismatch is worth counting
            self.stats.extra["flags_vs_features"] = \
                self.stats.extra.get("flags_vs_features", 0) + 1
        spo2 = _sfloat.decode_le(d, 1)
        pr = _sfloat.decode_le(d, 3)
        i = 5 + 4 * bool(flags & 1) + 4 * bool(flags & 2)
        status = Status.NONE
        if flags & 4:
            status |= measurement_status_flags(int.from_bytes(d[i:i + 2], "little"))
            i += 2
        if flags & 8:
            status |= sensor_status_flags(int.from_bytes(d[i:i + 3], "little"))
            i += 3
        pai = _sfloat.decode_le(d, i) if flags & 16 else None
        return vitals_reading(self._time.step(1.0), spo2, pr, pai, status)

    def _spot(self, d: bytes) -> Reading | None:
        if len(d) < 5:
            return None
        flags = d[0]
        need = 5 + 7 * bool(flags & 1) + 2 * bool(flags & 2) + 3 * bool(flags & 4) \
            + 2 * bool(flags & 8)
        if len(d) < need:
            return None
        spo2 = _sfloat.decode_le(d, 1)
        pr = _sfloat.decode_le(d, 3)
        i = 5
        if flags & 1:
            year = int.from_bytes(d[5:7], "little")
            self.last_timestamp = (year, d[7], d[8], d[9], d[10], d[11])
            i += 7
        status = Status.NONE
        if flags & 2:
            status |= measurement_status_flags(int.from_bytes(d[i:i + 2], "little"))
            i += 2
        if flags & 4:
            status |= sensor_status_flags(int.from_bytes(d[i:i + 3], "little"))
            i += 3
        pai = _sfloat.decode_le(d, i) if flags & 8 else None
        return vitals_reading(self._time.step(1.0), spo2, pr, pai, status)

    def _features(self, d: bytes) -> None:
        if len(d) < 2:
            self.stats.frames_bad += 1
            return
        sup = int.from_bytes(d[0:2], "little")
        i = 2
        ms = dss = None
        if sup & 1:
            if len(d) < i + 2:
                self.stats.frames_bad += 1
                return
            ms = int.from_bytes(d[i:i + 2], "little")
            i += 2
        if sup & 2:
            if len(d) < i + 3:
                self.stats.frames_bad += 1
                return
            dss = int.from_bytes(d[i:i + 3], "little")
        self.features = Features(sup, ms, dss)
        self.stats.extra["features"] = self.stats.extra.get("features", 0) + 1

    # -- encode (virtual peripheral) ------------------------------------------------------
    @staticmethod
    def status_words(status: Status) -> tuple[int, int]:
        """Flags → (Measurement Status, Device and Sensor Status) words a device would send."""
        ms = dss = 0
        if status & Status.SEARCHING:
            ms |= _MS_UNAVAILABLE
            dss |= 1 << 9
        if status & Status.POOR_SIGNAL:
            ms |= _MS_QUESTIONABLE
            dss |= 1 << 4
        if status & Status.FINGER_OUT:
            ms |= _MS_UNAVAILABLE
            dss |= 1 << 11
        if status & Status.SENSOR_FAULT:
            ms |= _MS_INVALID
            dss |= 1 << 14
        if status & Status.LOW_PERFUSION:
            dss |= 1 << 5
        if status & Status.MOTION:
            dss |= 1 << 6
        return ms, dss

    def encode(self, reading: Reading, *, with_status: bool = True) -> bytes:
        """One 0x2A5F notification: SpO2/PR normal, status words, PAI when known."""
        if reading.wave_only:
            return b""
        status = reading.status & ~Status.BEAT
        flags = 0
        body = _sfloat.encode_le(reading.spo2) + _sfloat.encode_le(reading.pulse)
        if with_status:
            ms, dss = self.status_words(Status(status))
            flags |= 4 | 8
            body += ms.to_bytes(2, "little") + dss.to_bytes(3, "little")
        if reading.pi is not None:
            flags |= 16
            body += _sfloat.encode_le(reading.pi, decimals=2)
        return bytes([flags]) + body

    def encode_spot(self, reading: Reading,
                    timestamp: tuple[int, int, int, int, int, int] | None = None) -> bytes:
        flags = 0
        body = _sfloat.encode_le(reading.spo2) + _sfloat.encode_le(reading.pulse)
        if timestamp is not None:
            flags |= 1
            y, mo, da, h, mi, s = timestamp
            body += y.to_bytes(2, "little") + bytes([mo, da, h, mi, s])
        ms, dss = self.status_words(Status(reading.status & ~Status.BEAT))
        flags |= 2 | 4
        body += ms.to_bytes(2, "little") + dss.to_bytes(3, "little")
        if reading.pi is not None:
            flags |= 8
            body += _sfloat.encode_le(reading.pi, decimals=2)
        return bytes([flags]) + body

    @staticmethod
    def encode_features(supported: int = 0x0043, ms_support: int = 0xF000,
                        dss_support: int = 0x00FFFE) -> bytes:
        """Features value; the default claims measurement status, device/sensor status and
        PAI (bits 0, 1, 6), matching what `encode` sends."""
        out = supported.to_bytes(2, "little")
        if supported & 1:
            out += ms_support.to_bytes(2, "little")
        if supported & 2:
            out += dss_support.to_bytes(3, "little")
        return out


class PlxSpotCodec(PlxCodec):
    default_char = "spot"


PROTOCOLS = {"plx": PlxCodec, "plx-spot": PlxSpotCodec}
