"""ChoiceMMed MD300W1 `.dat` (MedView; also MD300B, MD300KI, MD300I, MD300C318, MD2000A).

Byte 0 id, u16 record count n at 1, then n records of 11 bytes from offset 3:
`[0, 0, id, yy, month, day, hour, minute, second, SpO2, PR]`, each with its own time stamp
(two-digit year + 2000). A hole shorter than 360 s becomes gap samples, one a second; a longer
one starts a new session in the same file (a single gap sample marks it and
`header["sessions"]` lists where each begins). 0 or out-of-range values are gaps.
"""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np

from drivers.errors import FormatError
from drivers.formats._base import FormatInfo, Recording
from drivers.formats._binary import read_checked
from drivers.formats._timeline import clean_vitals, mark_startup, timeline
from drivers.formats._timestamps import naive_to_epoch

NAME = "md300w1"
REC = 11
NEW_SESSION = 360.0


def _plausible(rec: bytes) -> bool:
    return (rec[0] == 0 and rec[1] == 0 and 1 <= rec[4] <= 12 and 1 <= rec[5] <= 31
            and rec[6] < 24 and rec[7] < 60 and rec[8] < 60)


def sniff(head: bytes, name: str) -> int:
    if len(head) < 3 + REC or struct.unpack_from("<H", head, 1)[0] == 0:
        return 0
    return 55 if _plausible(head[3:3 + REC]) else 0


def read(path: Path) -> Recording:
    path = Path(path)

    def check(head: bytes) -> None:
        if len(head) >= 3 + REC and not _plausible(head[3:3 + REC]):
            raise FormatError(path, "not an MD300W1 file (first record has no valid date)",
                              offset=3)

    data = read_checked(path, check, "an MD300W1 file")
    if len(data) < 3:
        raise FormatError(path, "truncated: no record count", offset=len(data))
    n = struct.unpack_from("<H", data, 1)[0]
    if n == 0:
        raise FormatError(path, "no samples in the file (count 0)", offset=1)
    if len(data) < 3 + REC * n:
        raise FormatError(path, f"truncated: the header counts {n} records but the file "
                                f"ends at byte {len(data)}", offset=len(data))
    recs = np.frombuffer(data, dtype=np.uint8, count=REC * n, offset=3).reshape(n, REC)
    y = recs[:, 3].astype(np.int64) + 2000
    mo, d = recs[:, 4].astype(np.int64), recs[:, 5].astype(np.int64)
    hh, mi, ss = (recs[:, k].astype(np.int64) for k in (6, 7, 8))
    bad = (mo < 1) | (mo > 12) | (d < 1) | (d > 31) | (hh > 23) | (mi > 59) | (ss > 59)
    if np.any(bad):
        i = int(np.flatnonzero(bad)[0])
        raise FormatError(path, f"record {i + 1} has an impossible time stamp",
                          offset=3 + REC * i + 3)
    ym = ((y - 1970) * 12 + (mo - 1)).astype("datetime64[M]")
    days = ym.astype("datetime64[D]") + (d - 1).astype("timedelta64[D]")
    if np.any(days.astype("datetime64[M]") != ym):
        i = int(np.flatnonzero(days.astype("datetime64[M]") != ym)[0])
        raise FormatError(path, f"record {i + 1} has an impossible date",
                          offset=3 + REC * i + 3)
    ts = days.astype(np.int64).astype(np.float64) * 86400 + hh * 3600 + mi * 60 + ss
    order_bad = np.flatnonzero(np.diff(ts) < 0)
    if len(order_bad):
        i = int(order_bad[0]) + 1
        raise FormatError(path, f"record {i + 1} goes back in time", offset=3 + REC * i)
    s, p, st = clean_vitals(recs[:, 9].astype(np.float64), recs[:, 10].astype(np.float64))
    mark_startup(st, s, p)
    t, s, p, st, _pi, iv, t0 = timeline(ts, s, p, st, None, 1.0, long_gap=NEW_SESSION)
    jumps = np.flatnonzero(np.diff(ts) >= NEW_SESSION)
    sessions = [0.0] + [float(ts[j + 1] - ts[0]) for j in jumps]
    hdr: dict[str, object] = {"sessions_start_s": sessions,
                              "time_zone": "local wall clock of the device (no zone in the file)"}
    return Recording.from_arrays(path, NAME, t, s, p, st, start_wall=naive_to_epoch(t0),
                                 interval=iv, device="ChoiceMMed MD300W1", source=path.name,
                                 header=hdr, start_naive=True)


FORMAT = FormatInfo(
    name=NAME, description="ChoiceMMed MD300W1 / MedView .dat", extensions=(".dat",),
    sniff=sniff, read=read,
)
