"""Wellue POD2 / Oxysmart recordings (ViHealth `…/28/host/<epoch ms>` files, no header).

6-byte records, one a second: `[SpO2, PR, 0, PI×10, 0, battery]`. SpO2 or PR 0 = no reading,
SpO2 0xFF = invalid / below range; both become gaps. PI above 24 % is not a reading either.
The battery byte's top two bits (0xC0 full … 0x00 flat) set LOW_BATTERY on low or flat
records; a flat battery anywhere means the data may be incomplete (said in the header). The
session start is the file name, a Unix time in milliseconds.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from drivers.errors import FormatError
from drivers.formats._base import FormatInfo, Recording
from drivers.formats._binary import read_checked
from drivers.formats._timeline import clean_vitals, mark_startup
from drivers.reading import Status

NAME = "pod2"
REC = 6


def _start_ms(name: str) -> int | None:
    m = re.fullmatch(r"(\d{12,14})(\.dat)?", name)
    return int(m.group(1)) if m else None


def sniff(head: bytes, name: str) -> int:
    if _start_ms(name) is None or len(head) < REC:
        return 0
    recs = np.frombuffer(head[: len(head) // REC * REC], dtype=np.uint8).reshape(-1, REC)
    if np.all(recs[:, 2] == 0) and np.all(recs[:, 4] == 0) and np.all(recs[:, 5] & 0x3F == 0):
        return 60
    return 0


def read(path: Path) -> Recording:
    path = Path(path)

    def check(head: bytes) -> None:
        if len(head) >= REC:
            recs = np.frombuffer(head[: len(head) // REC * REC], dtype=np.uint8).reshape(-1, REC)
            if np.any(recs[:, 2] != 0) or np.any(recs[:, 4] != 0):
                bad = int(np.flatnonzero((recs[:, 2] != 0) | (recs[:, 4] != 0))[0])
                raise FormatError(path, "not a POD2 recording (a record's reserved bytes are "
                                        "not zero)", offset=bad * REC)

    data = read_checked(path, check, "a POD2 recording")
    if len(data) % REC:
        full = len(data) // REC
        raise FormatError(path, f"truncated: the file ends inside record {full + 1}",
                          offset=full * REC)
    recs = np.frombuffer(data, dtype=np.uint8).reshape(-1, REC)
    spo2 = recs[:, 0].astype(np.float64)
    pulse = recs[:, 1].astype(np.float64)
    s, p, st = clean_vitals(spo2, pulse)
    mark_startup(st, s, p)
    pi = recs[:, 3].astype(np.float64) / 10.0
    pi[(pi <= 0) | (pi > 24) | np.isnan(s)] = np.nan
    battery = recs[:, 5] >> 6
    st[battery <= 1] |= int(Status.LOW_BATTERY)
    hdr: dict[str, object] = {"model": 28}
    if np.any(battery == 0):
        hdr["warning"] = "the battery was flat during the recording: data may be incomplete"
    ms = _start_ms(path.name)
    if ms is None:
        hdr["note"] = "file name is not a start time in milliseconds: start unknown"
    t = np.arange(len(recs), dtype=np.float64)
    return Recording.from_arrays(path, NAME, t, s, p, st, pi,
                                 start_wall=None if ms is None else ms / 1000.0, interval=1.0,
                                 device="Wellue POD2", source=path.name, header=hdr)


FORMAT = FormatInfo(
    name=NAME, description="Wellue POD2 / Oxysmart recording (ViHealth …/28/host/<ms> file)",
    extensions=(), sniff=sniff, read=read,
)
