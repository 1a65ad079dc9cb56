"""oxi-assist's own CSV layout: what `oxi-assist convert … out.csv` writes, made to open in a
spreadsheet and to read back without losing a sample, a gap or a status flag.

    # oxi-assist-csv 1 {"start_wall": 1705273512.0, "interval": 1.0, "device": "…", …}
    t,time,spo2,pulse,pi,status
    0,2024-01-14T23:05:12Z,96,71,,
    1,2024-01-14T23:05:13Z,,,,finger_out

`t` is seconds from the start; `time` the same moment in UTC (ISO 8601 with `Z`), or as the
original file's wall clock without a zone when it gave none, and empty when the start is
unknown; `spo2` %, `pulse` bpm and `pi` % with an empty cell for "no value"; `status` the
Status flag names joined by `|`. The first line is a comment with the recording's metadata as
JSON. Documented in docs/FORMATS-native.md.
"""

from __future__ import annotations

import io
import json
import math
from array import array
from itertools import repeat
from pathlib import Path
from typing import Any

import numpy as np

from drivers.errors import FormatError
from drivers.formats._base import FormatInfo, Recording
from drivers.formats._cells import floats, number
from drivers.formats._text_lines import Progress, TextLines, head_lines
from drivers.formats._text_rows import Columns
from drivers.reading import Status
from drivers.safe_files import open_private

NAME = "csv"
MAGIC = "# oxi-assist-csv"
FIELDS = ("t", "time", "spo2", "pulse", "pi", "status")


def sniff(head: bytes, name: str) -> int:
    lines = head_lines(head, 2)
    return 95 if lines and lines[0].startswith(MAGIC) else 0


def _fmt(v: float) -> str:
    if v != v:
        return ""
    r = round(v, 2)
    return str(int(r)) if r == int(r) else f"{r:g}"


_WHOLE_TABLE = np.array([str(i) for i in range(1001)], dtype=object)


def _texts(v: np.ndarray) -> list[str]:
    """`_fmt` of every value, without a call per value when they are whole numbers 0-1000
    (what oximeters give) or NaN."""
    have = ~np.isnan(v)
    vals = v[have]
    if len(vals) and not (np.all(vals == np.floor(vals)) and vals.min() >= 0
                          and vals.max() <= 1000):
        return [_fmt(x) for x in v.tolist()]
    out = np.full(len(v), "", dtype=object)
    out[have] = _WHOLE_TABLE[vals.astype(np.int64)]
    return out.tolist()


def write(recording: Recording, path: Path) -> None:
    """Writes the vitals (waveform-only readings are not part of this layout)."""
    path = Path(path)
    c = recording.columns()
    meta: dict[str, Any] = {"start_wall": recording.start_wall, "interval": recording.interval,
                            "device": recording.device, "source": recording.source,
                            "from_format": recording.format}
    if recording.start_naive:
        meta["start_naive"] = True
    flags = [f for f in Status if f and f.name]
    try:
        f = io.TextIOWrapper(open_private(path), encoding="utf-8",  # 0600: personal data
                             newline="\r\n")
    except OSError as e:
        raise FormatError(path, e.strerror or str(e)) from None
    names_cache: dict[int, str] = {0: ""}

    def names(block: np.ndarray) -> list[str]:
        out = []
        for st in block.tolist():
            text = names_cache.get(st)
            if text is None:
                text = names_cache[st] = "|".join(
                    fl.name.lower() for fl in flags if st & fl)  # type: ignore[union-attr]
            out.append(text)
        return out

    known = recording.start_wall is not None and math.isfinite(recording.start_wall)
    base, zone = recording.start_wall or 0.0, "Z"
    if known and recording.start_naive:  # the file's own wall clock, with no zone invented
        import datetime as dt

        local = dt.datetime.fromtimestamp(recording.start_wall)  # type: ignore[arg-type]
        base, zone = (local - dt.datetime(1970, 1, 1)).total_seconds(), ""
    with f:
        f.write(f"{MAGIC} 1 {json.dumps(meta, allow_nan=False)}\n")
        f.write(",".join(FIELDS) + "\n")
        step = 65536
        for a in range(0, len(c), step):
            b = a + step
            t = c.t[a:b]
            if known:
                ms = np.rint((base + t) * 1000).astype("datetime64[ms]")
                unit = "ms" if np.any(ms.astype(np.int64) % 1000) else "s"
                stamps: Any = np.datetime_as_string(ms, unit=unit).tolist()
            else:
                stamps = repeat("")
            whole_t = bool(np.all(t == np.floor(t)))
            ts_text = (list(map(str, t.astype(np.int64).tolist())) if whole_t
                       else [_fmt(x) for x in t.tolist()])
            pis: Any = _texts(c.pi[a:b]) if c.pi is not None else repeat("")
            f.write("".join(map("".join, zip(
                ts_text, repeat(","), stamps, repeat(zone + "," if known else ","),
                _texts(c.spo2[a:b]),
                repeat(","), _texts(c.pulse[a:b]), repeat(","), pis, repeat(","),
                names(c.status[a:b]), repeat("\n")))))


def read(path: Path, progress: Progress = None) -> Recording:
    path = Path(path)
    tl = TextLines(path, progress)
    cols = Columns(with_pi=True)
    status = array("i")
    meta: dict[str, Any] | None = None
    idx: dict[str, int] | None = None
    flag_cache: dict[str, int] = {"": 0}
    prev = -math.inf
    bad: FormatError | None = None
    i_t = i_s = i_p = i_pi = i_st = 0
    for first, lines in tl:
        start = 0
        while start < len(lines) and idx is None:  # the two lines that open the file
            line, ln = lines[start], first + start
            start += 1
            if meta is None:
                if not line.startswith(MAGIC):
                    raise FormatError(path, "not an oxi-assist CSV (no '# oxi-assist-csv' "
                                            "first line)", line=ln)
                try:
                    meta = json.loads(line[len(MAGIC):].split(None, 1)[1])
                    if not isinstance(meta, dict):
                        raise ValueError
                except (ValueError, IndexError):
                    raise FormatError(path, "bad metadata on the first line", line=ln) from None
                continue
            heads = [h.strip().lower() for h in line.split(",")]
            if "t" not in heads or "spo2" not in heads:
                raise FormatError(path, "header row lacks the t and spo2 columns", line=ln)
            idx = {h: heads.index(h) for h in FIELDS if h in heads}
            # an absent optional column reads the padding cell past the row's end
            i_t, i_s = idx["t"], idx["spo2"]
            i_p, i_pi, i_st = (idx.get(k, len(heads) + 1) for k in ("pulse", "pi", "status"))
        body = lines[start:]
        if idx is not None and bad is None and body:
            res = _fast(body, i_t, i_s, i_p, i_pi, i_st, flag_cache)
            if res is not None and res[0][0] >= prev:
                t_, s_, p_, pi_, st_ = res
                cols.ts.frombytes(t_.tobytes())
                cols.spo2.frombytes(s_.tobytes())
                cols.pulse.frombytes(p_.tobytes())
                cols.pi.frombytes(pi_.tobytes())  # type: ignore[union-attr]
                status.frombytes(st_.tobytes())
                prev = float(t_[-1])
                continue
        for i, line in enumerate(body):
            ln = first + start + i
            if bad is not None:
                raise bad
            if not line.strip():
                continue
            f = line.split(",") + [""] * 5
            try:
                t = float(f[i_t])
                if not math.isfinite(t) or t < prev:
                    raise ValueError("time is not a number or goes backwards")
                st_txt = f[i_st].strip()
                st = flag_cache.get(st_txt)
                if st is None:
                    st = flag_cache[st_txt] = int(Status.from_names(st_txt.split("|")))
                cols.add(t, number(f[i_s]), number(f[i_p]), number(f[i_pi]))
                status.append(st)
                prev = t
            except (ValueError, IndexError) as e:
                bad = FormatError(path, f"bad row: {e or 'missing field'}", line=ln)
    interrupted = False
    if bad is not None:
        if tl.complete:
            raise bad
        interrupted = True
    if meta is None:
        raise FormatError(path, "empty file")
    if not len(cols):
        raise FormatError(path, "no samples in the file")
    pi = np.frombuffer(cols.pi, dtype=np.float64)  # type: ignore[arg-type]
    spo2 = np.frombuffer(cols.spo2, dtype=np.float64)
    pulse = np.frombuffer(cols.pulse, dtype=np.float64)
    with np.errstate(invalid="ignore"):  # an impossible number is no reading, never a value
        spo2[~((spo2 > 0) & (spo2 <= 100))] = np.nan
        pulse[~((pulse > 0) & (pulse <= 300))] = np.nan
    sw = meta.get("start_wall")
    iv = meta.get("interval")
    return Recording.from_arrays(
        path, NAME, np.frombuffer(cols.ts, dtype=np.float64), spo2, pulse,
        np.frombuffer(status, dtype=np.int32), None if np.all(np.isnan(pi)) else pi,
        start_wall=float(sw) if isinstance(sw, int | float) else None,
        interval=float(iv) if isinstance(iv, int | float) else None,
        device=str(meta.get("device") or ""), source=str(meta.get("source") or path.name),
        header=meta, interrupted=interrupted, start_naive=meta.get("start_naive") is True)


def _fast(lines: list[str], i_t: int, i_s: int, i_p: int, i_pi: int, i_st: int,
          flags: dict[str, int]) -> tuple[np.ndarray, ...] | None:
    """A block of rows column-wise; None when anything needs the row-by-row path."""
    try:
        width = max(i_t, i_s, i_p, i_pi, i_st) + 1
        fields = [ln.split(",") for ln in lines]
        if not fields or min(map(len, fields)) < width:
            return None
        t = floats([f[i_t] for f in fields])
        if not np.all(np.isfinite(t)) or (len(t) > 1 and not np.all(np.diff(t) >= 0)):
            return None
        st = np.fromiter(map(flags.__getitem__, [f[i_st] for f in fields]), dtype=np.int32,
                         count=len(fields))
        return (t, floats([f[i_s] for f in fields]), floats([f[i_p] for f in fields]),
                floats([f[i_pi] for f in fields]), st)
    except (ValueError, IndexError, KeyError):
        return None


FORMAT = FormatInfo(
    name=NAME, description="oxi-assist CSV (t,time,spo2,pulse,pi,status)",
    extensions=(".csv",), sniff=sniff, read=read, write=write, options=("progress",),
)
