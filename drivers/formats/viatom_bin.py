"""Viatom / Wellue legacy binary record (O2Ring, Checkme O2 / O2 Max, SleepU, WearO2, …):
a 40-byte header (version u16, start year u16 + month … second, size, duration) and 5-byte
records `[SpO2, PR, invalid, motion, vibration]` from offset 40, normally every 4 s.

Quirks handled: version-3 files whose interval works out at 2 s repeat every sample twice
(de-duplicated when all pairs are equal; the true rate is 4 s); version 5 (Checkme O2 Max) is
genuinely 2 s. The session start in the file name wins over the header's. An invalid record
(byte 2 = 0xFF) is a gap; SpO2 0xFF alone means "below 61 %" to Viatom, so it becomes a
missing SpO2 that is counted and listed in `header["below_range"]`, never dropped.
"""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np

from drivers.errors import FormatError
from drivers.formats._base import GAP, PARTIAL, FormatInfo, Recording
from drivers.formats._binary import read_checked
from drivers.formats._timeline import mark_startup
from drivers.formats._timestamps import day_seconds, naive_to_epoch, stamp_from_name

NAME = "viatom-bin"
HEADER = 40
REC = 5


def _header_ok(head: bytes) -> bool:
    if len(head) < HEADER:
        return False
    ver, y, mo, d, hh, mi, ss = struct.unpack_from("<HH5B", head, 0)
    return (ver in (3, 5) and 2000 <= y <= 2100 and 1 <= mo <= 12 and 1 <= d <= 31
            and hh < 24 and mi < 60 and ss < 60 and head[12] == 0)


def sniff(head: bytes, name: str) -> int:
    return 65 if _header_ok(head) else 0


def runs(mask: np.ndarray) -> list[list[int]]:
    """[start, length] of each run of True."""
    m = np.concatenate(([False], mask, [False])).astype(np.int8)
    d = np.diff(m)
    starts, ends = np.flatnonzero(d == 1), np.flatnonzero(d == -1)
    return [[int(a), int(b - a)] for a, b in zip(starts, ends, strict=True)]


def read(path: Path) -> Recording:
    path = Path(path)

    def check(head: bytes) -> None:
        if len(head) >= HEADER and not _header_ok(head):
            raise FormatError(path, "not a Viatom binary record (bad version or start time "
                                    "in the header)", offset=0)

    data = read_checked(path, check, "a Viatom recording")
    if len(data) < HEADER:
        raise FormatError(path, f"truncated: the 40-byte header ends at byte {len(data)}",
                          offset=len(data))
    if not _header_ok(data):
        raise FormatError(path, "not a Viatom binary record (bad version or start time in "
                                "the header)", offset=0)
    ver, y, mo, d, hh, mi, ss = struct.unpack_from("<HH5B", data, 0)
    duration = struct.unpack_from("<H", data, 13)[0]
    body = len(data) - HEADER
    if body % REC:
        full = body // REC
        raise FormatError(path, f"truncated: the file ends inside record {full + 1}",
                          offset=HEADER + full * REC)
    n = body // REC
    if n == 0:
        raise FormatError(path, "no samples in the file", offset=HEADER)
    recs = np.frombuffer(data, dtype=np.uint8, offset=HEADER).reshape(n, REC)
    hdr: dict[str, object] = {"version": ver, "duration_s": duration,
                              "avg_spo2": data[17], "min_spo2": data[18]}
    default = 2.0 if ver == 5 else 4.0
    interval = round(duration / n, 3) if duration else default
    if ver == 3 and n % 2 == 0 and abs(interval - 2.0) < 0.5 \
            and np.array_equal(recs[0::2], recs[1::2]):
        recs = recs[0::2]
        n = len(recs)
        interval = 4.0
        hdr["deduplicated"] = "every sample was stored twice; pairs merged (true rate 4 s)"
    elif not 0.5 <= interval <= 60:
        interval = default
    spo2_b, pr_b, inv = recs[:, 0], recs[:, 1], recs[:, 2]
    invalid = inv == 0xFF
    below = (spo2_b == 0xFF) & ~invalid
    spo2 = np.where(invalid | (spo2_b == 0xFF) | (spo2_b == 0) | (spo2_b > 100), np.nan,
                    spo2_b.astype(np.float64))
    pulse = np.where(invalid | (inv != 0) | (pr_b == 0) | (pr_b == 0xFF), np.nan,
                     pr_b.astype(np.float64))
    sb, pb = np.isnan(spo2), np.isnan(pulse)
    status = np.where(sb & pb, int(GAP), np.where(sb | pb, int(PARTIAL), 0)).astype(np.int32)
    mark_startup(status, spo2, pulse)
    if below.any():
        hdr["below_range"] = runs(below)
        hdr["below_range_note"] = ("SpO2 0xFF: the device could not measure, which Viatom "
                                   "uses for readings below 61 %")
    ns = stamp_from_name(path.name)
    if ns is None:
        try:
            ns = day_seconds(y, mo, d) + hh * 3600 + mi * 60 + ss
        except ValueError:
            raise FormatError(path, f"impossible start date {y}-{mo}-{d}", offset=2) from None
    hdr["time_zone"] = "local wall clock of the device (no zone in the file)"
    stem = path.name.rsplit(".", 1)[0]
    device = "Checkme O2 Max" if ver == 5 else (
        stem.rsplit("_", 1)[0].strip(" _-") if "_" in stem else "Viatom/Wellue oximeter")
    t = np.arange(n, dtype=np.float64) * interval
    return Recording.from_arrays(path, NAME, t, spo2, pulse, status, start_wall=naive_to_epoch(ns),
                                 interval=interval, device=device, source=path.name,
                                 header=hdr, start_naive=True)


FORMAT = FormatInfo(
    name=NAME, description="Viatom/Wellue legacy binary record (O2Ring, Checkme O2, SleepU…)",
    extensions=(".vld", ".o2r", ".dat"), sniff=sniff, read=read,
)
