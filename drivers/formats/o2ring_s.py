"""Wellue O2Ring S (OxyII family) record file: a 10-byte header `01 03 … 04 00`, 3-byte samples
`[SpO2, PR, flags]` every second from offset 10, and — once the ring has finalised the file,
about two minutes after leaving the finger — a 48-byte trailer marked by `48 12 5A DA` at
trailer offset 4 with the sample count (u16 at +12), interval and bytes per sample (+16, +18).
A file without the trailer is read as 1 s, 3-byte samples. SpO2 or PR 0 / 0xFF → missing.
"""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np

from drivers.errors import FormatError
from drivers.formats._base import FormatInfo, Recording
from drivers.formats._binary import read_checked
from drivers.formats._timeline import clean_vitals, mark_startup
from drivers.formats._timestamps import naive_to_epoch, stamp_from_name

NAME = "o2ring-s"
HEADER = 10
TRAILER = 48
MAGIC = b"\x48\x12\x5a\xda"


def sniff(head: bytes, name: str) -> int:
    if len(head) >= HEADER and head[:2] == b"\x01\x03" and head[2:8] == bytes(6):
        return 75
    return 0


def read(path: Path) -> Recording:
    path = Path(path)

    def check(head: bytes) -> None:
        if len(head) >= 2 and head[:2] != b"\x01\x03":
            raise FormatError(path, f"not an O2Ring S record (starts {head[:2].hex(' ')}, "
                                    "expected 01 03)", offset=0)

    data = read_checked(path, check, "an O2Ring S record")
    size = len(data)
    if size < HEADER:
        raise FormatError(path, "truncated: the 10-byte header is incomplete", offset=size)
    if data[:2] != b"\x01\x03":
        raise FormatError(path, f"not an O2Ring S record (starts {data[:2].hex(' ')}, "
                                "expected 01 03)", offset=0)
    hdr: dict[str, object] = {"model": struct.unpack_from("<H", data, 8)[0]}
    interval, bps = 1.0, 3
    end = size
    trailer_start: float | None = None
    finalised = size >= HEADER + TRAILER and data[size - TRAILER + 4: size - TRAILER + 8] == MAGIC
    interrupted = False
    if finalised:
        tr = size - TRAILER
        n = struct.unpack_from("<H", data, tr + 12)[0]
        iv, ctype, bps = data[tr + 16], data[tr + 17], data[tr + 18]
        interval = float(iv or 1)
        if bps not in (2, 3):
            raise FormatError(path, f"unsupported sample size {bps} bytes", offset=tr + 18)
        if HEADER + n * bps > tr:
            raise FormatError(path, f"truncated: the trailer counts {n} samples but only "
                                    f"{(tr - HEADER) // bps} are present", offset=tr)
        end = HEADER + n * bps
        trailer_start = float(struct.unpack_from("<I", data, tr + 8)[0])
        hdr.update(channel_type=ctype, avg_spo2=data[tr + 34], min_spo2=data[tr + 35])
    else:
        hdr["note"] = "no trailer: the ring had not finalised the file (1 s samples assumed)"
        if (size - HEADER) % bps:
            interrupted = True
            end = size - (size - HEADER) % bps
    n = (end - HEADER) // bps
    if n == 0:
        raise FormatError(path, "no samples in the file", offset=HEADER)
    recs = np.frombuffer(data, dtype=np.uint8, count=n * bps, offset=HEADER).reshape(n, bps)
    s, p, st = clean_vitals(recs[:, 0].astype(np.float64), recs[:, 1].astype(np.float64))
    mark_startup(st, s, p)
    ns = stamp_from_name(path.name)
    start = naive_to_epoch(ns) if ns is not None else (
        naive_to_epoch(trailer_start) if trailer_start else None)
    hdr["time_zone"] = "local wall clock of the device (no zone in the file)"
    t = np.arange(n, dtype=np.float64) * interval
    return Recording.from_arrays(path, NAME, t, s, p, st, start_wall=start, interval=interval,
                                 device="O2Ring S", source=path.name, header=hdr,
                                 interrupted=interrupted, start_naive=start is not None)


FORMAT = FormatInfo(
    name=NAME, description="Wellue O2Ring S record file",
    extensions=(".dat", ".o2r"), sniff=sniff, read=read,
)
