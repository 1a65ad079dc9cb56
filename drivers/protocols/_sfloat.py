"""IEEE 11073-20601 SFLOAT ("medfloat16"), as used by the Bluetooth SIG health profiles.

4-bit two's-complement exponent (base 10) over a 12-bit two's-complement mantissa, sent
little-endian. Five reserved values mean "no number" (NaN, NRes, +INF, -INF, reserved); all of
them decode to None here, because for an oximeter each of them means no reading.
"""

from __future__ import annotations

import math

NAN = 0x07FF
NRES = 0x0800
POS_INF = 0x07FE
NEG_INF = 0x0802
RESERVED = 0x0801
SPECIAL = frozenset({NAN, NRES, POS_INF, NEG_INF, RESERVED})


def decode(raw: int) -> float | None:
    """u16 → value, or None for any special value."""
    raw &= 0xFFFF
    if raw < 0x07FE:  # exponent 0, positive mantissa: the common case (SpO2 %, bpm)
        return float(raw)
    if raw in SPECIAL:
        return None
    mant = raw & 0x0FFF
    if mant >= 0x0800:
        mant -= 0x1000
    exp = raw >> 12
    if exp >= 0x8:
        exp -= 0x10
    value = mant * (10.0 ** exp)
    return round(value, max(0, -exp))


def decode_le(data: bytes | bytearray, offset: int) -> float | None:
    return decode(data[offset] | (data[offset + 1] << 8))


def encode(value: float | None, *, decimals: int = 0) -> int:
    """value → u16 with the given number of decimals; None, NaN, ±inf → the special value.

    A value too large for the 12-bit mantissa at that resolution loses decimals first, then
    becomes NRes (not representable), never a wrapped number.
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return NAN
    if math.isinf(value):
        return POS_INF if value > 0 else NEG_INF
    exp = -decimals
    while True:
        mant = round(value * (10.0 ** -exp))
        if -2045 <= mant <= 2045:
            break
        exp += 1
        if exp > 7:
            return NRES
    if exp < -8:
        return NRES
    return ((exp & 0xF) << 12) | (mant & 0x0FFF)


def encode_le(value: float | None, *, decimals: int = 0) -> bytes:
    return encode(value, decimals=decimals).to_bytes(2, "little")
