"""Contec CMS50 binary recordings: `.SpO2` (SpO2 Assistant, pulseoxdl) and `.spoR` / `.spo`
(SpO2 Review).

`.SpO2`: u16 header offset H at 0 (856 in vendor files), a layout byte at H (0x01; 0x00 in
files of the models with 4-byte records, such as the CMS50H and CMS60CW), vendor metadata whose
UTF-16LE text names the device, the start as six u32 (year … second) at H+200, the sample
count N at H+224, then N records of R = 2 bytes `[SpO2, PR]` (CMS50E/F) or R = 4
`[u16, SpO2, PR]` (CMS50I/H, CMS60CW), one a second.
`.spoR`: u16 H at 0, the start as 16-bit characters `MM/dd/yy HH:mm:ss` from byte 8, then
2-byte records `[PR, SpO2]` from H. SpO2 127 with PR 255 is Contec's finger-out marker → a
finger-out gap (before the first reading: start-up, as the first seconds of a record are
stored as artefacts even with the finger in).
"""

from __future__ import annotations

import re
import struct
from collections.abc import Callable
from pathlib import Path

import numpy as np

from drivers.errors import FormatError
from drivers.formats._base import FormatInfo, Recording
from drivers.formats._binary import read_checked
from drivers.formats._timeline import clean_vitals, mark_startup
from drivers.formats._timestamps import day_seconds, naive_to_epoch
from drivers.reading import Status

NAME = "contec-spo2"
NAME_R = "contec-spor"
#: the byte at the header offset: 0x01 in most files, 0x00 in those of the 4-byte-record models
LAYOUT_BYTES = (0x01, 0x00)
#: a device name in the vendor metadata: printable ASCII as UTF-16LE, two characters or more
_NAME = re.compile(rb"(?:[\x20-\x7e]\x00){2,}")


def _plausible_spo2_header(head: bytes) -> bool:
    if len(head) < 2:
        return False
    h = struct.unpack_from("<H", head, 0)[0]
    if not 2 <= h < 8192:
        return False
    if len(head) >= h + 228:
        if head[h] not in LAYOUT_BYTES:
            return False
        y, mo, d, hh, mi, ss, n = struct.unpack_from("<7I", head, h + 200)
        return (y == 0 or 1990 <= y <= 2100) and mo <= 12 and d <= 31 and hh < 24 \
            and mi < 60 and ss < 61 and n < 1 << 28
    return False


def sniff(head: bytes, name: str) -> int:
    if _plausible_spo2_header(head):
        return 85 if name.lower().endswith(".spo2") else 70
    return 0


def _check_spo2(path: Path) -> Callable[[bytes], None]:
    def check(head: bytes) -> None:
        if len(head) >= 2:
            h = struct.unpack_from("<H", head, 0)[0]
            if h < 2:
                raise FormatError(path, f"not a Contec .SpO2 file (header offset {h})",
                                  offset=0)
            if len(head) > h and head[h] not in LAYOUT_BYTES:
                raise FormatError(path, f"not a Contec .SpO2 file (byte at the header offset "
                                        f"is 0x{head[h]:02x}, expected 0x01 or 0x00)",
                                  offset=h)
    return check


def _check_spor(path: Path) -> Callable[[bytes], None]:
    def check(head: bytes) -> None:
        if len(head) >= 2 and struct.unpack_from("<H", head, 0)[0] < 44:
            raise FormatError(path, "not a Contec .spoR file (header offset "
                                    f"{struct.unpack_from('<H', head, 0)[0]})", offset=0)
    return check


def _recording(path: Path, fmt: str, spo2: np.ndarray, pulse: np.ndarray,
               start: float | None, header: dict[str, object], device: str) -> Recording:
    marker = (spo2 == 127) & (pulse == 255)  # Contec's finger-out pair
    s, p, st = clean_vitals(spo2.astype(np.float64), pulse.astype(np.float64))
    st[marker] = int(Status.FINGER_OUT)
    mark_startup(st, s, p, Status.FINGER_OUT | Status.MISSING)
    t = np.arange(len(s), dtype=np.float64)
    return Recording.from_arrays(path, fmt, t, s, p, st, start_wall=start, interval=1.0,
                                 device=device, source=path.name, header=header,
                                 start_naive=start is not None)


def device_name(meta: bytes) -> str:
    """The first UTF-16LE text in the vendor metadata after the header offset (the device
    as the vendor software named it), or "" when there is none."""
    m = _NAME.search(meta)
    return m.group(0).decode("utf-16-le").strip() if m else ""


def read(path: Path) -> Recording:
    path = Path(path)
    data = read_checked(path, _check_spo2(path), "a Contec recording")
    size = len(data)
    if size < 2:
        raise FormatError(path, "truncated: no header offset", offset=size)
    h = struct.unpack_from("<H", data, 0)[0]
    if h < 2:
        raise FormatError(path, f"not a Contec .SpO2 file (header offset {h})", offset=0)
    if size < h + 228:
        raise FormatError(path, f"truncated: the header ends at byte {h + 228} but the file "
                                f"has {size} bytes", offset=size)
    if data[h] not in LAYOUT_BYTES:
        raise FormatError(path, f"not a Contec .SpO2 file (byte at the header offset is "
                                f"0x{data[h]:02x}, expected 0x01 or 0x00)", offset=h)
    y, mo, d, hh, mi, ss, n = struct.unpack_from("<7I", data, h + 200)
    body = size - (h + 228)
    if n == 0:
        raise FormatError(path, "no samples in the file (count 0)", offset=h + 224)
    if body < n * 2:
        raise FormatError(path, f"truncated: the header says {n} samples but only {body} "
                                f"bytes of records follow", offset=size)
    if body % n:
        raise FormatError(path, f"{body} bytes of records do not divide into {n} samples",
                          offset=h + 228)
    r = body // n
    if r not in (2, 4):
        raise FormatError(path, f"unsupported record size {r} bytes (expected 2 or 4)",
                          offset=h + 228)
    recs = np.frombuffer(data, dtype=np.uint8, offset=h + 228).reshape(n, r)
    spo2, pulse = recs[:, r - 2], recs[:, r - 1]
    start: float | None = None
    hdr: dict[str, object] = {"header_offset": h, "record_bytes": r, "layout_byte": data[h]}
    name = device_name(bytes(data[h + 1:h + 200]))
    if name:
        hdr["device_name_in_file"] = name
    if y == 0:
        hdr["note"] = "device has no clock (year 0): start date unknown"
    else:
        try:
            if hh > 23 or mi > 59 or ss > 60:
                raise ValueError
            start = naive_to_epoch(day_seconds(y, mo, d) + hh * 3600 + mi * 60 + ss)
            hdr["time_zone"] = "local wall clock of the device (no zone in the file)"
        except ValueError:
            raise FormatError(path, f"impossible start time {y}-{mo}-{d} {hh}:{mi}:{ss}",
                              offset=h + 200) from None
    return _recording(path, NAME, spo2, pulse, start, hdr,
                      f"Contec {name}" if name else "Contec (model not named in the file)")


def sniff_r(head: bytes, name: str) -> int:
    if not name.lower().endswith((".spor", ".spo")) or len(head) < 44:
        return 0
    h = struct.unpack_from("<H", head, 0)[0]
    text = head[8:44:2]
    if 44 <= h < 8192 and (not text.strip(b"\x00") or text[2:3] == b"/"):
        return 60
    return 0


def read_r(path: Path) -> Recording:
    path = Path(path)
    data = read_checked(path, _check_spor(path), "a Contec recording")
    size = len(data)
    if size < 44:
        raise FormatError(path, "truncated: shorter than the .spoR header", offset=size)
    h = struct.unpack_from("<H", data, 0)[0]
    if not 44 <= h <= size:
        raise FormatError(path, f"not a Contec .spoR file (header offset {h})", offset=0)
    body = size - h
    if body < 2:
        raise FormatError(path, "no samples in the file", offset=h)
    if body % 2:
        raise FormatError(path, "truncated: the file ends inside a record", offset=size - 1)
    text = bytes(data[8:44:2]).split(b"\x00")[0].decode("ascii", errors="replace").strip()
    start: float | None = None
    hdr: dict[str, object] = {"header_offset": h}
    if text:
        try:
            dpart, tpart = text.split()
            mo, d, yy = (int(x) for x in dpart.split("/"))
            hh, mi, ss = (int(x) for x in tpart.split(":"))
            start = naive_to_epoch(day_seconds(2000 + yy, mo, d) + hh * 3600 + mi * 60 + ss)
            hdr["time_zone"] = "local wall clock of the device (no zone in the file)"
        except ValueError:
            raise FormatError(path, f"unreadable start time {text!r}", offset=8) from None
    else:
        hdr["note"] = "device has no clock: start date unknown"
    recs = np.frombuffer(data, dtype=np.uint8, offset=h).reshape(-1, 2)
    return _recording(path, NAME_R, recs[:, 1], recs[:, 0], start, hdr,
                      "Contec (SpO2 Review file; model not named)")


FORMAT = FormatInfo(
    name=NAME, description="Contec SpO2 Assistant binary (.SpO2)",
    extensions=(".spo2",), sniff=sniff, read=read,
)
