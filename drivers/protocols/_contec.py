"""Pieces the Contec codecs share: V7.0 high-byte packing, the 0xEB checksum, pleth scaling and
the mapping of sentinel values to "no reading".

Kept apart from the codecs so the serial (V7.0, legacy) and USB-HID (0xEB) modules agree on what
counts as a valid number: a sentinel must never survive as a value (PROTOCOLS.md §13).
"""

from __future__ import annotations

from typing import Any

from drivers.reading import Reading, Status

#: Largest raw pleth value of every Contec protocol (7-bit waveform).
PLETH_MAX = 127
#: Value the devices put in the pleth field while the finger is out.
PLETH_FINGER_OUT = 0x40


def scale_pleth(raw: int) -> float:
    """Device pleth 0–127 → 0–100 % of the device range, as `Reading.pleth` wants."""
    return round(raw * 100.0 / PLETH_MAX, 3)


def unscale_pleth(value: float) -> int:
    """0–100 % → device pleth 0–127 (the encode side)."""
    v = round(value * PLETH_MAX / 100.0)
    return max(0, min(PLETH_MAX, int(v)))


def spo2_value(raw: int, status: Status) -> tuple[float | None, Status, bool]:
    """A raw SpO2 byte → (value or None, status, out_of_range).

    0x7F is the documented "no value"; 0 is what a searching device shows. Anything above 100
    (other than 0x7F) cannot come from a working device, so the caller counts it as a bad frame.
    """
    if raw == 0x7F or raw == 0:
        if not status & (Status.FINGER_OUT | Status.SEARCHING):
            status |= Status.SEARCHING
        return None, status, False
    if raw > 100:
        return None, status | Status.SENSOR_FAULT, True
    return float(raw), status, False


def pulse_value(raw: int, status: Status, invalid: int = 0xFF) -> tuple[float | None, Status]:
    """A raw pulse rate → (value or None, status). `invalid` is the protocol's sentinel."""
    if raw == invalid or raw == 0:
        if not status & (Status.FINGER_OUT | Status.SEARCHING):
            status |= Status.SEARCHING
        return None, status
    return float(raw), status


#: Fields of a live frame after the time: (spo2, pulse, pi, pleth, pleth_rate, status).
LiveFields = tuple[float | None, float | None, float | None, tuple[float, ...], float | None,
                   Status]


def live_frame_fields(sp_raw: int, pr_raw: int, pi: float | None, pleth_raw: int, rate: float,
                      status: Status) -> LiveFields | None:
    """The serial live frames' common end: raw SpO2/pulse through the sentinel rules, then
    nothing but the status while the finger is out. None = SpO2 out of range (a bad frame)."""
    spo2, status, bad = spo2_value(sp_raw, status)
    if bad:
        return None
    pulse, status = pulse_value(pr_raw, status)
    if status & Status.FINGER_OUT:
        return None, None, None, (), None, status
    return spo2, pulse, pi, (scale_pleth(pleth_raw),), rate, status


def fields_reading(fields: tuple[Any, ...] | None, t: float) -> tuple[Reading | None, bool]:
    """A frame's fields after `t` (None when it failed its checks) → (Reading, ok)."""
    return (None, False) if fields is None else (Reading(t, *fields), True)


def inner_start(buf: bytearray, i: int, end: int, n: int, high: bool) -> int:
    """Where a new frame starts inside the frame at `i` (bytes up to `end`, `n` buffered): the
    first byte with bit 7 set (`high`) or clear (not `high`), or 0 when there is none so far.

    Contec frames mark their first byte by bit 7 alone, so such a byte inside a frame means the
    frame was cut short: it is counted bad and the search resumes there, not one byte further.
    """
    body = buf[i + 1:min(end, n)]
    if not body:
        return 0
    j = i + 1
    if high:
        if max(body) < 0x80:
            return 0
        while buf[j] < 0x80:
            j += 1
    else:
        if min(body) >= 0x80:
            return 0
        while buf[j] & 0x80:
            j += 1
    return j


# --- V7.0 high-byte framing ------------------------------------------------------------------


def v7_unpack(wire: bytes | bytearray) -> bytes:
    """Wire package → real bytes: bit 7 of byte k (k ≥ 2) comes from bit (k − 2) of byte 1."""
    hb = wire[1]
    out = bytearray(wire)
    out[1] = hb
    for k in range(2, len(wire)):
        out[k] = (wire[k] & 0x7F) | (((hb >> (k - 2)) & 1) << 7)
    return bytes(out)


def v7_pack(ptype: int, data: bytes | bytearray | list[int]) -> bytes:
    """Type + real data bytes → a wire package (high byte after the type, bit 7 forced on)."""
    if not 0 <= ptype <= 0x7F:
        raise ValueError(f"package type {ptype:#x} must have bit 7 clear")
    if len(data) > 7:
        raise ValueError("a V7.0 package carries at most 7 data bytes")
    hb = 0x80
    body = bytearray()
    for i, b in enumerate(data):
        if not 0 <= b <= 0xFF:
            raise ValueError(f"byte value {b} out of range")
        if b & 0x80:
            hb |= 1 << i
        body.append(b | 0x80)
    return bytes([ptype, hb]) + bytes(body)


# --- 0xEB checksum ---------------------------------------------------------------------------


def eb_checksum(data: bytes | bytearray | list[int]) -> int:
    """The Contec 0xEB family's last byte: sum of the earlier bytes, low 7 bits."""
    return sum(data) & 0x7F


def eb_message(*body: int) -> bytes:
    """Message bytes + checksum, e.g. `eb_message(0x9A)` → `9A 1A` (the keep-alive)."""
    return bytes(body) + bytes([eb_checksum(body)])
